"""Telling the referral formats apart by content, and reading a file through the right one."""

from __future__ import annotations

from pathlib import Path

import pytest

from raksha.errors import InputFormatError, NotFoundError
from raksha.referrals import Referral, ReferralProblem, read_referrals, sniff_referral
from tests.referrals.fixtures import (
    MD5_A,
    XML_DECLARATION,
    alert,
    alert_csv,
    ncmec_report,
    small_report,
    to_json,
    xml_file,
    xml_report,
)

BILLION_LAUGHS = b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaa">]>\n<report>&a;</report>\n'


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (to_json(ncmec_report()), "ncmec-json"),
        (to_json([small_report(1), small_report(2)]), "ncmec-json"),
        (to_json({"reports": [small_report(1)]}), "ncmec-json"),
        (b"\xef\xbb\xbf" + to_json(small_report(1)), "ncmec-json"),
        (xml_file(xml_report(), root=None), "ncmec-xml"),
        (xml_file(xml_report(), namespace="urn:example:ct"), "ncmec-xml"),
        (
            (XML_DECLARATION + '<ct:reports xmlns:ct="urn:x">' + xml_report(prefix="ct:")).encode(),
            "ncmec-xml",
        ),
        (b"<fileDetails><fileName>a.jpg</fileName></fileDetails>", "ncmec-xml"),
        (BILLION_LAUGHS, "ncmec-xml"),  # recognised, so its reader can refuse it with a reason
        (to_json(alert()), "alert-json"),
        (to_json([alert("A"), alert("B")]), "alert-json"),
        (alert_csv(f"R,interpol,,md5,{MD5_A},,,"), "alert-csv"),
        (alert_csv(header="Reference,Kind,Value"), "alert-csv"),
        (alert_csv(bom=True), "alert-csv"),
    ],
)
def test_each_format_is_recognised(head: bytes, kind: str) -> None:
    assert sniff_referral(head[: 64 * 1024]) == kind


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"   \n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"just some notes about a case\n",
        b'{"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"}',
        b'{"name": "Chat", "type": "personal_chat", "messages": []}',
        b"[1, 2, 3]",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b"<reports><reporting/></reports>",
        b"MD5;SHA1;PhotoDNA;Image ID\n",
        b"md5,sha1,name\n",
    ],
)
def test_unrelated_files_are_not_referrals(head: bytes) -> None:
    assert sniff_referral(head) is None


@pytest.mark.parametrize(
    ("name", "data", "external_ids"),
    [
        ("tip.json", to_json([small_report(11), small_report(12)]), ["11", "12"]),
        ("tip.xml", xml_file(xml_report(report_id="21")), ["21"]),
        ("alert.json", to_json(alert("A-31")), ["A-31"]),
        ("alert.csv", alert_csv(f"A-41,interpol,,md5,{MD5_A},,,"), ["A-41"]),
        ("no-extension", to_json(alert("A-51")), ["A-51"]),
    ],
)
def test_read_referrals_picks_the_reader(
    tmp_path: Path, name: str, data: bytes, external_ids: list[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    events = list(read_referrals(path))
    assert [e.external_id for e in events if isinstance(e, Referral)] == external_ids
    assert [e for e in events if isinstance(e, ReferralProblem)] == []


def test_read_referrals_passes_the_region(tmp_path: Path) -> None:
    path = tmp_path / "alert.csv"
    path.write_bytes(alert_csv("A,interpol,,phone,202 555 0143,,,"))
    [referral] = list(read_referrals(path, region="US"))
    assert isinstance(referral, Referral)
    assert referral.accounts[0].phones[0].e164 == "+12025550143"


def test_a_hostile_xml_file_gives_a_problem_not_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "tip.xml"
    path.write_bytes(BILLION_LAUGHS)
    [problem] = list(read_referrals(path))
    assert isinstance(problem, ReferralProblem)
    assert problem.where == "line 2"
    assert problem.reason.startswith("the XML declares a DTD or entities")


def test_an_unrelated_file_is_refused_with_the_accepted_formats(tmp_path: Path) -> None:
    path = tmp_path / "holiday.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(InputFormatError) as caught:
        read_referrals(path)  # refused at once, before the first record is asked for
    assert str(caught.value) == (
        f"{path} is not a referral Raksha reads; accepted are NCMEC CyberTipline reports as "
        "JSON, CyberTipline reporting XML (<report>), and alert JSON or CSV as described in "
        "raksha.referrals.alerts"
    )


def test_a_missing_file_and_a_folder(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        read_referrals(tmp_path / "absent.json")
    with pytest.raises(InputFormatError, match="could not be read"):
        read_referrals(tmp_path)
