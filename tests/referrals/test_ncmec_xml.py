"""CyberTipline reporting XML: every field, namespaces, hostile XML, bad values, damage."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from raksha.referrals.ncmec_xml import read_ncmec_xml
from raksha.referrals.records import (
    IpCapture,
    Referral,
    ReferralProblem,
    ReportedAccount,
    ReportedFile,
    ReportedPhone,
)
from tests.referrals.fixtures import MD5_A, MD5_B, SHA1_A, XML_DECLARATION, xml_file, xml_report

DTD_REFUSED = (
    "the XML declares a DTD or entities (<!DOCTYPE or <!ENTITY); such files are refused "
    "unparsed, because entities can expand without bound or pull in other files. Ask the "
    "sender for the report without a DTD"
)


def read(data: bytes) -> list[Referral | ReferralProblem]:
    return list(read_ncmec_xml(io.BytesIO(data)))


def referrals(events: list[Referral | ReferralProblem]) -> list[Referral]:
    return [e for e in events if isinstance(e, Referral)]


def problems(events: list[Referral | ReferralProblem]) -> list[ReferralProblem]:
    return [e for e in events if isinstance(e, ReferralProblem)]


EXPECTED = Referral(
    source="ncmec",
    where="report 1",
    external_id=None,
    incident_type="Test incident type",
    incident_at=datetime(2026, 10, 29, 4, 30, tzinfo=UTC),  # +05:30 converted
    summary="webPageIncident: url https://social.example.com/p/123",
    accounts=[
        ReportedAccount(
            platform="Example Messenger",
            user_id="esp-2002",
            screen_name="bala_test",
            display_name="Bala T",
            first_name="Bala",
            last_name="Test",
            emails=["bala@example.com"],
            phones=[ReportedPhone("9847045678", "+919847045678")],
            profile_url="https://social.example.com/bala_test",
            addresses=["3 Example Street, Thrissur, IN"],
            device_ids=["IMEI: 000000000000001"],
        )
    ],
    files=[
        ReportedFile(
            file_name="upload_01.jpg",
            original_file_name="IMG_1001.jpg",
            md5=MD5_A,
            sha1=SHA1_A,
            classification=["B1"],
            viewed_by_esp=True,
        )
    ],
    ip_captures=[
        IpCapture("192.0.2.20", datetime(2026, 10, 28, 21, 0, tzinfo=UTC), 8080, "Login", 0),
        IpCapture("198.51.100.30", datetime(2026, 10, 29, 7, 0, tzinfo=UTC), None, "Upload", None),
    ],
    notes=["Synthetic page note.", "Synthetic report note.", "file 1: Synthetic file note."],
)


def test_every_field_of_a_single_report_as_root() -> None:
    assert read(xml_file(xml_report(), root=None)) == [EXPECTED]


def test_victim_details_are_not_kept() -> None:
    [referral] = read(xml_file(xml_report(), root=None))
    text = repr(referral)
    for marker in ("VictimNameMarker", "victim-marker@example.com", "victim_marker"):
        assert marker not in text


def test_many_reports_under_a_default_namespace() -> None:
    data = xml_file(
        xml_report(report_id="501"),
        xml_report(report_id="502", md5=MD5_B),
        namespace="urn:example:cybertip",
    )
    events = read(data)
    assert problems(events) == []
    assert [(r.where, r.external_id) for r in referrals(events)] == [
        ("report 1", "501"),
        ("report 2", "502"),
    ]
    second = referrals(events)[1]
    assert second.files[0].md5 == MD5_B
    assert second.accounts == EXPECTED.accounts


def test_prefixed_namespace() -> None:
    report = xml_report(report_id="601", prefix="ct:")
    data = (
        XML_DECLARATION + f'<ct:reports xmlns:ct="urn:example:cybertip">\n{report}\n</ct:reports>\n'
    ).encode()
    [referral] = read(data)
    assert isinstance(referral, Referral)
    assert referral == replace(EXPECTED, external_id="601")


def test_sibling_file_details_attach_to_the_report_before() -> None:
    sibling = f"""<fileDetails>
  <reportId>701</reportId>
  <fileName>later.jpg</fileName>
  <originalFileHash hashType="MD5">{MD5_B}</originalFileHash>
</fileDetails>
<fileDetails>
  <reportId>999</reportId>
  <fileName>other.jpg</fileName>
</fileDetails>"""
    data = xml_file(xml_report(report_id="701"), sibling)
    events = read(data)
    [referral] = referrals(events)
    assert [f.file_name for f in referral.files] == ["upload_01.jpg", "later.jpg"]
    assert referral.files[1].md5 == MD5_B
    assert problems(events) == [
        ReferralProblem(
            "report 1, file 3",
            "the fileDetails after this report are for report '999', which is not this one; "
            "left out",
        )
    ]
    assert events[-1] == problems(events)[0]


def test_file_details_before_any_report() -> None:
    data = xml_file("<fileDetails><fileName>x.jpg</fileName></fileDetails>", xml_report())
    events = read(data)
    assert events[0] == ReferralProblem(
        "fileDetails 1",
        "fileDetails come before any report, so there is no report to attach them to; left out",
    )
    assert len(referrals(events)) == 1


def test_invalid_hash_and_ip_are_reported_and_the_rest_read() -> None:
    data = xml_file(
        xml_report(report_id="801", ip="192.0.2.256", md5="abc123"),
        xml_report(report_id="802"),
    )
    events = read(data)
    first, second = referrals(events)
    assert first.files[0].md5 is None
    assert first.files[0].sha1 == SHA1_A
    assert [c.ip for c in first.ip_captures] == ["198.51.100.30"]
    assert second == replace(EXPECTED, external_id="802", where="report 2")
    assert problems(events) == [
        ReferralProblem(
            "report 1, reported person 1, IP capture 1",
            "ipAddress '192.0.2.256' is not an IP address; the IP capture is left out",
        ),
        ReferralProblem(
            "report 1, file 1",
            "originalFileHash (MD5) 'ABC123' is not a valid MD5 (md5 value must be 32 hex "
            "characters, got 6); the file is kept without it",
        ),
    ]
    assert events.index(problems(events)[0]) == 1  # right after its report


def test_hash_without_type_is_told_by_length() -> None:
    report = f"""<report>
  <fileDetails><originalFileHash>{MD5_A}</originalFileHash></fileDetails>
  <fileDetails><originalFileHash>{"a" * 20}</originalFileHash></fileDetails>
</report>"""
    events = read(xml_file(report, root=None))
    [referral] = referrals(events)
    assert referral.files == [ReportedFile(md5=MD5_A)]
    assert problems(events) == [
        ReferralProblem(
            "report 1, file 2",
            f"originalFileHash '{'a' * 20}' has no hashType and its length says no hash "
            "Raksha knows; left out",
        ),
        ReferralProblem(
            "report 1, file 2", "the file has neither a valid hash nor a name; left out"
        ),
    ]


def test_bad_time_and_flag() -> None:
    report = """<report>
  <incidentSummary><incidentDateTime>last week</incidentDateTime></incidentSummary>
  <fileDetails><fileName>a.jpg</fileName><fileViewedByEsp>perhaps</fileViewedByEsp></fileDetails>
</report>"""
    events = read(xml_file(report, root=None))
    [referral] = referrals(events)
    assert referral.incident_at is None
    assert referral.files == [ReportedFile(file_name="a.jpg")]
    assert problems(events) == [
        ReferralProblem(
            "report 1",
            "incidentSummary/incidentDateTime 'last week' is not a date and time (ISO 8601 or "
            "epoch milliseconds); left out",
        ),
        ReferralProblem(
            "report 1, file 1", "fileViewedByEsp 'perhaps' is neither true nor false; left out"
        ),
    ]


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    b' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
    b"<report><additionalInfo>&lol2;</additionalInfo></report>\n"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE report [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n'
    b"<report><additionalInfo>&x;</additionalInfo></report>\n"
)


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (BILLION_LAUGHS, 2),
        (EXTERNAL_ENTITY, 2),
        (b"<?xml version='1.0'?>\n\n<!doctype report>\n<report/>", 3),
        (b"<!ENTITY x 'y'><report/>", 1),
        (b'<?xml version="1.0"?>\n<!-- a note -->\n<!DOCTYPE report SYSTEM "x.dtd">\n<report/>', 3),
        (BILLION_LAUGHS.decode().encode("utf-16"), 2),
    ],
)
def test_dtd_and_entities_are_refused_unparsed(data: bytes, line: int) -> None:
    assert read(data) == [ReferralProblem(f"line {line}", DTD_REFUSED)]


def test_a_dtd_pushed_past_the_head_is_refused_too() -> None:
    padding = b"<!-- " + b"padding " * 20000 + b"-->\n"
    data = b'<?xml version="1.0"?>\n' + padding + BILLION_LAUGHS.split(b"\n", 1)[1]
    assert len(data) > 64 * 1024 + 1000
    assert read(data) == [ReferralProblem("line 3", DTD_REFUSED)]


def test_an_encoding_that_hides_markup_is_refused() -> None:
    body = "<report><additionalInfo>x</additionalInfo></report>".encode("cp500")
    data = b'<?xml version="1.0" encoding="cp500"?>\n' + body
    assert read(data) == [
        ReferralProblem(
            "line 1",
            "the XML declares the encoding 'cp500', which Raksha does not read; UTF-8 (or "
            "another encoding that writes ASCII as ASCII) and UTF-16 are read",
        )
    ]


def test_an_encoding_the_parser_cannot_use_is_a_problem() -> None:
    data = b'<?xml version="1.0" encoding="shift_jis"?>\n<report/>'
    assert read(data) == [
        ReferralProblem(
            "file",
            "the XML could not be decoded (multi-byte encodings are not supported); reading "
            "stopped, the 0 report(s) before it were read",
        )
    ]


def test_doctype_mentioned_inside_a_report_is_just_text() -> None:
    report = (
        "<report><additionalInfo><![CDATA[page began <!DOCTYPE html>]]></additionalInfo></report>"
    )
    [referral] = read(xml_file(report, root=None))
    assert isinstance(referral, Referral)
    assert referral.notes == ["page began <!DOCTYPE html>"]


def test_truncated_xml_keeps_reports_before_the_damage() -> None:
    data = xml_file(xml_report(report_id="901"), xml_report(report_id="902"))
    cut = data[: data.index(b"<reportId>902</reportId>") + 25]
    events = read(cut)
    assert [r.external_id for r in referrals(events)] == ["901"]
    [problem] = problems(events)
    line = cut.count(b"\n") + 1
    assert problem == ReferralProblem(
        f"line {line}",
        "the XML ends or is damaged here (no element found); reading stopped, the 1 "
        "report(s) before it were read",
    )


def test_broken_markup_mid_file() -> None:
    data = xml_file(xml_report(report_id="1"), "<report><incidentSummary></report>")
    events = read(data)
    assert [r.external_id for r in referrals(events)] == ["1"]
    [problem] = problems(events)
    assert problem.reason.startswith("the XML ends or is damaged here (mismatched tag)")


@pytest.mark.parametrize(
    ("data", "where", "reason"),
    [
        (
            b"<reports><other/></reports>",
            "file",
            "the XML holds no <report> element; nothing was read",
        ),
        (
            b"",
            "line 1",
            "the XML ends or is damaged here (no element found); reading stopped, "
            "the 0 report(s) before it were read",
        ),
    ],
)
def test_files_without_reports(data: bytes, where: str, reason: str) -> None:
    assert read(data) == [ReferralProblem(where, reason)]


def test_reports_are_released_once_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long file is read in flat memory: each report leaves the tree once read."""
    one = xml_report(report_id="1", files=False)
    data = xml_file(*(xml_report(report_id=str(n), files=False) for n in range(200)))
    sizes: list[int] = []
    original = ET.iterparse

    def spy(source: object, events: object = None) -> Iterator[tuple[str, ET.Element]]:
        root: ET.Element | None = None
        for event, elem in original(source, events):  # type: ignore[call-overload]
            if root is None:
                root = elem
            yield event, elem
            sizes.append(len(root))

    monkeypatch.setattr(ET, "iterparse", spy)
    events = read(data)
    assert len(referrals(events)) == 200
    # The parser reads 16 KiB ahead, so a chunk's worth of reports may be in the tree;
    # it never grows with the file.
    assert max(sizes) <= 16 * 1024 // len(one) + 2
    assert sizes[-1] == 0
