"""NCMEC CyberTipline JSON: every field, the three root shapes, bad values, damage."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from raksha.referrals.ncmec_json import read_ncmec_json
from raksha.referrals.records import (
    IpCapture,
    Referral,
    ReferralProblem,
    ReportedAccount,
    ReportedFile,
    ReportedPhone,
)
from tests.referrals.fixtures import (
    MD5_A,
    MD5_B,
    MD5_C,
    SHA1_A,
    ncmec_report,
    small_report,
    to_json,
)


def read(data: bytes, region: str = "IN") -> list[Referral | ReferralProblem]:
    return list(read_ncmec_json(io.BytesIO(data), region=region))


def referrals(events: list[Referral | ReferralProblem]) -> list[Referral]:
    return [e for e in events if isinstance(e, Referral)]


def problems(events: list[Referral | ReferralProblem]) -> list[ReferralProblem]:
    return [e for e in events if isinstance(e, ReferralProblem)]


def test_every_field_of_a_single_report() -> None:
    events = read(to_json(ncmec_report()))
    assert events == [
        Referral(
            source="ncmec",
            where="report 1",
            external_id="1001",
            received_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
            reporting_party="Example Social",
            incident_type="Test incident type",
            incident_at=datetime(2026, 10, 30, 12, 0, tzinfo=UTC),  # no zone: UTC
            summary="Synthetic summary for tests.",
            accounts=[
                ReportedAccount(
                    platform="Example Social",
                    user_id="u-1001",
                    screen_name="arun_test",
                    display_name="Arun T",
                    first_name="Arun",
                    emails=["arun@example.com", "arun.alt@example.com"],
                    phones=[
                        ReportedPhone("+91 98470 12345", "+919847012345"),
                        ReportedPhone("98470 23456", "+919847023456"),
                        ReportedPhone("9847034567", "+919847034567"),
                        ReportedPhone("not a phone", None),
                    ],
                    addresses=["1 Test Road, Kochi, Kerala, IN", "2 Sample Lane, Kochi"],
                )
            ],
            files=[
                ReportedFile(
                    file_name="file_0001.jpg",
                    original_file_name="IMG_0001.jpg",
                    md5=MD5_A,
                    classification=["Tag A", "Tag B"],
                    viewed_by_esp=True,
                ),
                ReportedFile(
                    file_name="file_0002.jpg", md5=MD5_B, sha1=SHA1_A, viewed_by_esp=False
                ),
            ],
            ip_captures=[
                IpCapture(
                    "192.0.2.10",
                    datetime(2026, 10, 30, 12, 15, tzinfo=UTC),  # -04:00 converted
                    443,
                    "Login",
                    0,
                ),
                IpCapture(
                    "2001:db8::1", datetime(2026, 10, 30, 8, 0, tzinfo=UTC), None, "IP Address", 0
                ),
            ],
            notes=["Device ID: device-test-1", "Synthetic note one.", "Synthetic note two."],
        )
    ]


def test_phone_value_prefers_e164() -> None:
    [referral] = referrals(read(to_json(ncmec_report())))
    assert [p.value for p in referral.accounts[0].phones] == [
        "+919847012345",
        "+919847023456",
        "+919847034567",
        "not a phone",
    ]


def test_region_decides_numbers_without_a_country_code() -> None:
    report = ncmec_report()
    report["reportedPeople"]["reportedPersons"][0]["phones"] = {"phones": ["(202) 555-0143"]}
    [referral] = referrals(read(to_json(report), region="US"))
    assert referral.accounts[0].phones == [ReportedPhone("(202) 555-0143", "+12025550143")]


def test_a_list_of_reports() -> None:
    events = read(to_json([small_report(1), small_report(2), small_report(3)]))
    assert [(r.where, r.external_id) for r in referrals(events)] == [
        ("report 1", "1"),
        ("report 2", "2"),
        ("report 3", "3"),
    ]
    assert problems(events) == []
    first = referrals(events)[0]
    assert first.accounts == [ReportedAccount(platform="Example Chat", user_id="user-1")]
    assert first.ip_captures == [IpCapture("198.51.100.7", event="IP Address", account_index=0)]
    assert first.files == [ReportedFile(file_name="f.jpg", md5=MD5_C)]


def test_reports_wrapped_in_an_object() -> None:
    data = to_json({"count": 2, "reports": [small_report(7), small_report(8)], "x": [1]})
    events = read(data)
    assert [r.external_id for r in referrals(events)] == ["7", "8"]
    assert problems(events) == []


def test_a_byte_order_mark_and_epoch_milliseconds() -> None:
    report = small_report(5)
    report["dateReceived"] = 1793347200000
    events = read(b"\xef\xbb\xbf" + to_json(report))
    [referral] = referrals(events)
    assert referral.received_at == datetime(2026, 10, 30, 8, 0, tzinfo=UTC)
    assert problems(events) == []


def test_a_list_is_streamed_not_loaded_whole() -> None:
    data = to_json([small_report(n) for n in range(3000)])
    stream = io.BytesIO(data)
    first = next(read_ncmec_json(stream))
    assert isinstance(first, Referral) and first.external_id == "0"
    assert stream.tell() < len(data) // 4


def test_missing_report_id_is_read_and_reported() -> None:
    events = read(to_json([small_report(1), ncmec_report(report_id=None), small_report(3)]))
    assert [r.external_id for r in referrals(events)] == ["1", None, "3"]
    assert problems(events) == [
        ReferralProblem(
            "report 2",
            "the report has no reportId; it is read without one, so it cannot be traced "
            "back to NCMEC by number",
        )
    ]
    # the problem comes right after its referral
    assert events.index(problems(events)[0]) == 2


def test_invalid_hash_and_ip_are_reported_and_the_rest_read() -> None:
    report = ncmec_report()
    report["uploadedFiles"]["uploadedFiles"][0]["verificationHash"] = "0123456789abcdef"
    report["uploadedFiles"]["uploadedFiles"].append({"verificationHash": "zz" * 16})
    captures = report["reportedPeople"]["reportedPersons"][0]["sourceInformation"]
    captures["sourceCaptures"][0]["value"] = "192.0.2.300"
    events = read(to_json(report))
    [referral] = referrals(events)
    assert [f.md5 for f in referral.files] == [None, MD5_B]
    assert referral.files[0].file_name == "file_0001.jpg"
    assert [c.ip for c in referral.ip_captures] == ["2001:db8::1"]
    assert problems(events) == [
        ReferralProblem(
            "report 1, reported person 1, source capture 1",
            "the captured IP address '192.0.2.300' is not an IP address; the IP capture is "
            "left out",
        ),
        ReferralProblem(
            "report 1, uploaded file 1",
            "verificationHash '0123456789abcdef' is not a valid MD5 (md5 value must be 32 hex "
            "characters, got 16); the file is kept without it",
        ),
        ReferralProblem(
            "report 1, uploaded file 3",
            f"verificationHash '{'zz' * 16}' is not a valid MD5 (md5 value has characters that "
            "are not hex); the file is kept without it",
        ),
        ReferralProblem(
            "report 1, uploaded file 3",
            "the uploaded file has neither a valid hash nor a name; left out",
        ),
    ]


def test_wrong_types_become_problems() -> None:
    bad = small_report(2)
    bad["reportedPeople"] = "someone"
    bad["dateReceived"] = "yesterday"
    bad["uploadedFiles"]["uploadedFiles"][0]["viewedByEsp"] = "maybe"
    bad["reportedInformation"]["reportingEsp"]["espName"] = ["Example"]
    data = to_json([small_report(1), 42, bad, small_report(4)])
    events = read(data)
    assert [r.external_id for r in referrals(events)] == ["1", "2", "4"]
    second = referrals(events)[1]
    assert second.accounts == []
    assert second.received_at is None
    assert second.files == [ReportedFile(file_name="f.jpg", md5=MD5_C)]
    assert problems(events) == [
        ReferralProblem("report 2", "the report is a JSON number, not an object"),
        ReferralProblem(
            "report 3",
            "dateReceived 'yesterday' is not a date and time (ISO 8601 or epoch "
            "milliseconds); left out",
        ),
        ReferralProblem("report 3", "reportingEsp.espName is a list, not text; left out"),
        ReferralProblem("report 3", "reportedPeople is a string, not an object; left out"),
        ReferralProblem(
            "report 3, uploaded file 1", "viewedByEsp 'maybe' is neither true nor false; left out"
        ),
    ]


def test_phone_objects_without_a_number_and_bad_ports() -> None:
    report = small_report(1)
    person = report["reportedPeople"]["reportedPersons"][0]
    person["phones"] = {"phones": [{"type": "mobile"}, {"phoneNumber": "+91 98470 11111"}]}
    person["sourceInformation"]["sourceCaptures"][0]["port"] = 70000
    events = read(to_json(report))
    [referral] = referrals(events)
    assert referral.accounts[0].phones == [ReportedPhone("+91 98470 11111", "+919847011111")]
    assert referral.ip_captures == [IpCapture("198.51.100.7", event="IP Address", account_index=0)]
    assert problems(events) == [
        ReferralProblem(
            "report 1, reported person 1, phone 1",
            "the phone entry has no value, number or phoneNumber; left out",
        ),
        ReferralProblem(
            "report 1, reported person 1, source capture 1",
            "port 70000 is not a port number; left out",
        ),
    ]


def test_truncated_list_keeps_reports_before_the_damage() -> None:
    data = to_json([small_report(1), small_report(2), small_report(3)])
    cut = data[: data.index(b'"reportId": 3') + 20]
    events = read(cut)
    assert [r.external_id for r in referrals(events)] == ["1", "2"]
    [problem] = problems(events)
    assert problem.where == "report 3"
    assert problem.reason.startswith("the JSON ends or is damaged here (")
    assert problem.reason.endswith("reading stopped, the 2 report(s) before it were read")
    assert events[-1] == problem


def test_truncated_single_report() -> None:
    data = to_json(ncmec_report())
    events = read(data[: len(data) // 2])
    assert referrals(events) == []
    [problem] = problems(events)
    assert problem.where == "report 1"
    assert "the 0 report(s) before it were read" in problem.reason


def test_damage_after_the_last_report_and_trailing_garbage() -> None:
    data = to_json([small_report(1)])
    events = read(data.rstrip()[:-1])  # the closing bracket is missing
    assert [r.external_id for r in referrals(events)] == ["1"]
    assert [p.where for p in problems(events)] == ["after report 1"]
    events = read(to_json(small_report(1)) + b" {}")
    assert [r.external_id for r in referrals(events)] == ["1"]
    assert [p.where for p in problems(events)] == ["after report 1"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file holds no JSON, so no report was read"),
        (b"   ", "the file holds no JSON, so no report was read"),
        (
            b'"text"',
            "the file holds a JSON string, not a report object or a list of them; nothing was read",
        ),
        (
            b"12",
            "the file holds a JSON number, not a report object or a list of them; nothing was read",
        ),
    ],
)
def test_files_without_reports(data: bytes, reason: str) -> None:
    assert read(data) == [ReferralProblem("file", reason)]


def test_not_json_at_all() -> None:
    events = read(b"\x89PNG\r\n")
    [problem] = problems(events)
    assert events == [problem]
    assert problem.where == "file"
    assert "the JSON ends or is damaged here" in problem.reason


def test_parser_errors_do_not_echo_the_file() -> None:
    [problem] = problems(read(b'[{"reportId": 1, "x": SECRETVALUE}]'))
    assert "SECRETVALUE" not in problem.reason


def test_uploaded_files_under_reported_information_and_tags_as_text() -> None:
    report = small_report(1)
    report["reportedInformation"]["uploadedFiles"] = [
        {"filename": "g.jpg", "verificationHash": MD5_A, "ncmecTags": "Tag C"}
    ]
    [referral] = referrals(read(to_json(report)))
    assert referral.files == [
        ReportedFile(file_name="f.jpg", md5=MD5_C),
        ReportedFile(file_name="g.jpg", md5=MD5_A, classification=["Tag C"]),
    ]


def test_a_person_with_nothing_in_it_is_left_out() -> None:
    report = small_report(1)
    report["reportedPeople"]["reportedPersons"].append({"firstName": "  "})
    events = read(to_json(report))
    assert len(referrals(events)[0].accounts) == 1
    assert problems(events) == [
        ReferralProblem(
            "report 1, reported person 2",
            "the reported person names no account, person or address; left out",
        )
    ]


def test_output_is_plain_json_friendly() -> None:
    """Nothing from the parser (Decimal, ijson types) leaks into the records."""
    report = small_report(1)
    report["reportId"] = 1.0
    report["reportedPeople"]["reportedPersons"][0]["sourceInformation"]["sourceCaptures"][0][
        "port"
    ] = 8080.0
    [referral] = referrals(read(json.dumps(report).encode()))
    assert referral.external_id == "1"
    assert referral.ip_captures[0].port == 8080


def test_capture_types_decide_between_ip_and_note() -> None:
    report = small_report(1)
    report["reportedPeople"]["reportedPersons"][0]["sourceInformation"]["sourceCaptures"] = [
        {"captureType": "IPAddress", "value": "192.0.2.300"},
        {"captureType": "Cookie", "value": "cookie-test-1"},
        {"captureType": "Cookie", "value": "192.0.2.77"},
        {"value": "not-an-ip"},
        {"captureType": "IPv6"},
    ]
    events = read(to_json(report))
    [referral] = referrals(events)
    assert referral.ip_captures == [IpCapture("192.0.2.77", event="Cookie", account_index=0)]
    assert referral.notes == ["Cookie: cookie-test-1"]
    assert problems(events) == [
        ReferralProblem(
            "report 1, reported person 1, source capture 1",
            "the captured IP address '192.0.2.300' is not an IP address; the IP capture is "
            "left out",
        ),
        ReferralProblem(
            "report 1, reported person 1, source capture 4",
            "the captured IP address 'not-an-ip' is not an IP address; the IP capture is left out",
        ),
        ReferralProblem(
            "report 1, reported person 1, source capture 5",
            "the source capture has no value; left out",
        ),
    ]
