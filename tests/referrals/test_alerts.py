"""Alert JSON and CSV: every field, root shapes, grouping by reference, bad rows."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

import raksha.referrals.alerts as alerts_module
from raksha.referrals.alerts import CSV_HEADER, KINDS, read_alert_csv, read_alert_json
from raksha.referrals.records import (
    IpCapture,
    Referral,
    ReferralProblem,
    ReportedAccount,
    ReportedFile,
    ReportedPhone,
)
from tests.referrals.fixtures import (
    ALERT_CSV_HEADER,
    MD5_A,
    MD5_B,
    SHA1_A,
    SHA256_A,
    alert,
    alert_csv,
    to_json,
)

RECEIVED = "2026-11-02T10:00:00Z"


def read_json(data: bytes) -> list[Referral | ReferralProblem]:
    return list(read_alert_json(io.BytesIO(data)))


def read_csv(data: bytes) -> list[Referral | ReferralProblem]:
    return list(read_alert_csv(io.BytesIO(data)))


def referrals(events: list[Referral | ReferralProblem]) -> list[Referral]:
    return [e for e in events if isinstance(e, Referral)]


def problems(events: list[Referral | ReferralProblem]) -> list[ReferralProblem]:
    return [e for e in events if isinstance(e, ReferralProblem)]


# --- JSON -----------------------------------------------------------------------------


def test_every_field_of_an_alert() -> None:
    assert read_json(to_json(alert())) == [
        Referral(
            source="interpol",
            where="alert 1",
            external_id="IP-2026-0042",
            received_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
            reporting_party="Example NCB",
            summary="Synthetic alert summary.",
            accounts=[
                ReportedAccount(
                    platform="telegram",
                    user_id="5550001",
                    screen_name="chitra_test",
                    emails=["chitra@example.com"],
                    phones=[ReportedPhone("+91 98470 56789", "+919847056789")],
                ),
                ReportedAccount(
                    platform="whatsapp",
                    phones=[
                        ReportedPhone("98470 67890", "+919847067890"),
                        ReportedPhone("12", None),
                    ],
                ),
            ],
            files=[
                ReportedFile(file_name="shared_01.jpg", md5=MD5_A, sha1=SHA1_A),
                ReportedFile(sha256=SHA256_A, classification=["B2"]),
            ],
            ip_captures=[
                IpCapture("198.51.100.40", datetime(2026, 10, 31, 17, 30, tzinfo=UTC), 5222),
                IpCapture("192.0.2.41", event="login"),
            ],
            notes=["Synthetic alert note."],
        )
    ]


def test_a_list_and_a_wrapped_list_of_alerts() -> None:
    two = [alert("A-1"), alert("A-2", source="NCMEC")]
    for data in (to_json(two), to_json({"alerts": two})):
        events = read_json(data)
        assert problems(events) == []
        assert [(r.where, r.external_id, r.source) for r in referrals(events)] == [
            ("alert 1", "A-1", "interpol"),
            ("alert 2", "A-2", "ncmec"),
        ]


def test_missing_reference_and_unknown_source() -> None:
    events = read_json(
        to_json([alert(None), alert("A-3", source="europol"), alert("A-4", source=None)])
    )
    assert [(r.external_id, r.source) for r in referrals(events)] == [
        (None, "interpol"),
        ("A-3", "other"),
        ("A-4", "other"),
    ]
    assert problems(events) == [
        ReferralProblem("alert 1", "the alert has no reference; it is read without one"),
        ReferralProblem(
            "alert 2", "source 'europol' is not interpol, ncmec or other; read as 'other'"
        ),
        ReferralProblem("alert 3", "the alert has no source; read as 'other'"),
    ]


def test_invalid_hash_ip_and_account_are_reported_and_the_rest_read() -> None:
    obj = alert(
        "A-5",
        files=[{"md5": "xyz", "name": "kept.jpg"}, {"sha1": "12"}, {"md5": MD5_B}],
        ips=[{"ip": "192.0.2.1.5"}, {"ip": "[2001:DB8::5]", "at": 1793347200000}, {"at": RECEIVED}],
        accounts=[{"platform": "telegram"}, "someone", {"email": "d@example.com"}],
    )
    events = read_json(to_json(obj))
    [referral] = referrals(events)
    assert referral.files == [ReportedFile(file_name="kept.jpg"), ReportedFile(md5=MD5_B)]
    assert referral.ip_captures == [
        IpCapture("2001:db8::5", datetime(2026, 10, 30, 8, 0, tzinfo=UTC))
    ]
    assert referral.accounts == [ReportedAccount(emails=["d@example.com"])]
    assert problems(events) == [
        ReferralProblem(
            "alert 1, account 1", "the account has no user_id, username, phone or email; left out"
        ),
        ReferralProblem("alert 1, account 2", "the account is a string, not an object; left out"),
        ReferralProblem(
            "alert 1, file 1",
            "md5 'xyz' is not a valid MD5 (md5 value must be 32 hex characters, got 3); the "
            "file is kept without it",
        ),
        ReferralProblem(
            "alert 1, file 2",
            "sha1 '12' is not a valid SHA1 (sha1 value must be 40 hex characters, got 2); the "
            "file is kept without it",
        ),
        ReferralProblem(
            "alert 1, file 2", "the file has neither a valid hash nor a name; left out"
        ),
        ReferralProblem(
            "alert 1, ip 1", "ip '192.0.2.1.5' is not an IP address; the IP capture is left out"
        ),
        ReferralProblem("alert 1, ip 3", "ip is missing; the IP capture is left out"),
    ]


def test_an_alert_that_is_not_an_object_and_a_truncated_list() -> None:
    data = to_json([alert("A-1"), ["x"], alert("A-3")])
    events = read_json(data[: data.rindex(b'"reference"')])
    assert [r.external_id for r in referrals(events)] == ["A-1"]
    assert problems(events)[0] == ReferralProblem(
        "alert 2", "the alert is a JSON list, not an object"
    )
    last = problems(events)[-1]
    assert last.where == "alert 3"
    assert last.reason.endswith("reading stopped, the 2 alert(s) before it were read")


# --- CSV ------------------------------------------------------------------------------


def test_rows_with_the_same_reference_form_one_referral() -> None:
    data = alert_csv(
        f"IP-1,interpol,{RECEIVED},account_id,5550001,telegram,,",
        f"IP-2,other,,md5,{MD5_B},,,",
        f"IP-1,interpol,{RECEIVED},username,chitra_test,telegram,,main account",
        "IP-1,,,phone,+91 98470 56789,whatsapp,,",
        "IP-1,,,email,chitra@example.com,,,",
        f"IP-1,,,md5,{MD5_A.upper()},,,",
        f"IP-1,,,sha1,{SHA1_A},,,",
        f"IP-1,,,sha256,{SHA256_A},,,",
        "IP-1,,,ip,198.51.100.40,,2026-10-31T18:30:00+01:00,seen at login",
    )
    events = read_csv(data)
    assert events == [
        Referral(
            source="interpol",
            where="rows 2, 4-10",
            external_id="IP-1",
            received_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
            accounts=[
                ReportedAccount(platform="telegram", user_id="5550001"),
                ReportedAccount(platform="telegram", screen_name="chitra_test"),
                ReportedAccount(
                    platform="whatsapp", phones=[ReportedPhone("+91 98470 56789", "+919847056789")]
                ),
                ReportedAccount(emails=["chitra@example.com"]),
            ],
            files=[
                ReportedFile(md5=MD5_A),
                ReportedFile(sha1=SHA1_A),
                ReportedFile(sha256=SHA256_A),
            ],
            ip_captures=[IpCapture("198.51.100.40", datetime(2026, 10, 31, 17, 30, tzinfo=UTC))],
            notes=["username chitra_test: main account", "ip 198.51.100.40: seen at login"],
        ),
        Referral(
            source="other",
            where="row 3",
            external_id="IP-2",
            files=[ReportedFile(md5=MD5_B)],
        ),
    ]


def test_bad_rows_are_reported_with_their_row_and_the_rest_read() -> None:
    data = alert_csv(
        f"IP-1,interpol,,md5,{MD5_A},,,",  # row 2
        "IP-1,,,md5,not-a-hash,,,",  # row 3
        ",interpol,,md5,{MD5_A},,,",  # row 4: no reference
        "IP-1,,,ip,999.1.1.1,,,",  # row 5
        "IP-1,,,fingerprint,abc,,,",  # row 6
        "IP-1,,,email,,,,",  # row 7
        "IP-1,ncmec,yesterday,ip,192.0.2.9,,soon,",  # row 8
        "IP-1,,,username,a,b,c,d,e",  # row 9: too many fields
        "",  # row 10: blank, skipped
        "IP-1,,,,x,,,",  # row 11
    )
    events = read_csv(data)
    [referral] = referrals(events)
    assert referral.files == [ReportedFile(md5=MD5_A)]
    assert referral.ip_captures == [IpCapture("192.0.2.9")]
    assert referral.where == "rows 2-3, 5-8, 11"
    assert problems(events) == [
        ReferralProblem(
            "row 3",
            "md5 'not-a-hash' is not a valid MD5 (md5 value must be 32 hex characters, got "
            "10); the row is left out",
        ),
        ReferralProblem("row 5", "ip '999.1.1.1' is not an IP address; the IP capture is left out"),
        ReferralProblem(
            "row 6",
            f"kind 'fingerprint' is not one of {', '.join(KINDS)}; left out",
        ),
        ReferralProblem("row 7", "the email row has no value; left out"),
        ReferralProblem(
            "row 8", "source 'ncmec' differs from row 2's 'interpol'; the first is kept"
        ),
        ReferralProblem(
            "row 8",
            "received 'yesterday' is not a date and time (ISO 8601 or epoch milliseconds); "
            "left out",
        ),
        ReferralProblem(
            "row 8",
            "at 'soon' is not a date and time (ISO 8601 or epoch milliseconds); left out",
        ),
        ReferralProblem("row 11", "the row has no kind; left out"),
        ReferralProblem("row 4", "the row has no reference, so it belongs to no alert; left out"),
        ReferralProblem(
            "row 9",
            "the row has 9 fields but the header 8 (a comma in an unquoted value?); left out",
        ),
    ]


def test_results_come_in_the_order_of_their_first_row() -> None:
    data = alert_csv(
        ",,,md5,x,,,",
        f"B,other,,md5,{MD5_A},,,",
        "C,other,,ip,192.0.2.1,,,",
        f"B,,,md5,{MD5_B},,,",
    )
    events = read_csv(data)
    assert [(type(e).__name__, e.where) for e in events] == [
        ("ReferralProblem", "row 2"),
        ("Referral", "rows 3, 5"),
        ("Referral", "row 4"),
    ]


def test_no_source_on_any_row_and_a_conflicting_received() -> None:
    data = alert_csv(
        f"R,,{RECEIVED},md5,{MD5_A},,,",
        f"R,,2026-11-03T00:00:00Z,md5,{MD5_B},,,",
    )
    events = read_csv(data)
    assert events == [
        Referral(
            source="other",
            where="rows 2-3",
            external_id="R",
            received_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
            files=[ReportedFile(md5=MD5_A), ReportedFile(md5=MD5_B)],
        ),
        ReferralProblem("rows 2-3", "no row of this reference gives a source; read as 'other'"),
        ReferralProblem(
            "row 3", "received '2026-11-03T00:00:00Z' differs from row 2's; the first is kept"
        ),
    ]


def test_columns_in_any_order_a_subset_quoting_and_a_bom() -> None:
    data = alert_csv(
        f'"{MD5_A}",md5,"Q-1"',
        '"+91 98470 12345",phone,Q-1',
        header="Value,KIND,reference",
        bom=True,
    )
    events = read_csv(data)
    [referral] = referrals(events)
    assert referral.files == [ReportedFile(md5=MD5_A)]
    assert referral.accounts == [
        ReportedAccount(phones=[ReportedPhone("+91 98470 12345", "+919847012345")])
    ]
    assert problems(events) == [
        ReferralProblem("rows 2-3", "no row of this reference gives a source; read as 'other'")
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", [ReferralProblem("row 1", "the file is empty: no header, no rows")]),
        (
            b"reference,source,value\nA,interpol,x\n",
            [
                ReferralProblem(
                    "row 1",
                    f"the header lacks kind; an alert CSV starts with {','.join(CSV_HEADER)}",
                )
            ],
        ),
    ],
)
def test_unusable_headers(data: bytes, expected: list[ReferralProblem]) -> None:
    assert read_csv(data) == expected


def test_not_utf8_stops_with_the_rows_before_kept() -> None:
    data = alert_csv(f"R,interpol,,md5,{MD5_A},,,") + b"R,interpol,,username,\xff\xfe,,,\n"
    events = read_csv(data)
    assert [r.files for r in referrals(events)] == [[ReportedFile(md5=MD5_A)]]
    assert problems(events) == [
        ReferralProblem(
            "row 3",
            "the file is not UTF-8 text here; reading stopped, the rows before it were read",
        )
    ]


def test_truncated_csv_inside_a_quoted_value() -> None:
    data = alert_csv(f"R,interpol,,md5,{MD5_A},,,") + b'R,interpol,,note,"unfinished'
    events = read_csv(data)
    assert [r.external_id for r in referrals(events)] == ["R"]
    assert problems(events) == [
        ReferralProblem(
            "row 3",
            "the CSV ends or is damaged here (unexpected end of data); reading stopped, the "
            "rows before it were read",
        )
    ]


def test_header_constant_matches_the_fixture() -> None:
    assert ",".join(alerts_module.CSV_HEADER) == ALERT_CSV_HEADER
