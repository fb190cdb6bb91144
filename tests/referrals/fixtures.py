"""Builders for synthetic referral files: NCMEC JSON, CyberTipline XML, alert JSON and CSV.

Every value is invented and bland: example.com addresses, +91 98470 xxxxx numbers,
documentation IP ranges (192.0.2.x, 198.51.100.x, 2001:db8::/32) and hex patterns for
hashes. Builders return plain Python structures or bytes so each test can change one
field and say what it expects.
"""

from __future__ import annotations

import copy
import json
from typing import Any

MD5_A = "0123456789abcdef0123456789abcdef"
MD5_B = "fedcba9876543210fedcba9876543210"
MD5_C = "00112233445566778899aabbccddeeff"
SHA1_A = "0123456789abcdef0123456789abcdef01234567"
SHA256_A = "ab" * 32
#: 1793347200000 ms since the epoch.
EPOCH_MS = 1793347200000

_PERSON: dict[str, Any] = {
    "firstName": "Arun",
    "espUserId": "u-1001",
    "screenName": {"value": "arun_test"},
    "displayName": "Arun T",
    "emails": {"emails": [{"value": "arun@example.com"}, {"value": "arun.alt@example.com"}]},
    "phones": {
        "phones": [
            "+91 98470 12345",
            {"value": "98470 23456"},
            {"number": "9847034567", "countryCallingCode": "91"},
            "not a phone",
        ]
    },
    "addresses": {
        "addresses": [
            {"address": "1 Test Road", "city": "Kochi", "state": "Kerala", "country": "IN"},
            "2 Sample Lane, Kochi",
        ]
    },
    "sourceInformation": {
        "sourceCaptures": [
            {
                "captureType": "IP Address",
                "value": "192.0.2.10",
                "dateTime": "2026-10-30T08:15:00-04:00",
                "port": 443,
                "eventName": "Login",
            },
            {"captureType": "IP Address", "value": "2001:DB8::1", "dateTime": EPOCH_MS},
            {"captureType": "Device ID", "value": "device-test-1"},
        ]
    },
}

_REPORT: dict[str, Any] = {
    "reportId": 1001,
    "dateReceived": "2026-11-02T10:00:00Z",
    "reportedInformation": {
        "reportingEsp": {"espName": "Example Social"},
        "incidentSummary": {
            "incidentType": "Test incident type",
            "incidentDateTime": "2026-10-30T12:00:00",
            "incidentDescription": "Synthetic summary for tests.",
        },
    },
    "reportedPeople": {"reportedPersons": [_PERSON]},
    "uploadedFiles": {
        "uploadedFiles": [
            {
                "filename": "file_0001.jpg",
                "originalFilename": "IMG_0001.jpg",
                "verificationHash": MD5_A.upper(),
                "viewedByEsp": True,
                "ncmecTags": ["Tag A", "Tag B"],
            },
            {
                "filename": "file_0002.jpg",
                "verificationHash": MD5_B,
                "sha1": SHA1_A,
                "viewedByEsp": "false",
            },
        ]
    },
    "additionalInformations": [{"value": "Synthetic note one."}, {"value": "Synthetic note two."}],
}


def ncmec_report(report_id: int | str | None = 1001, **changes: Any) -> dict[str, Any]:
    """A full synthetic NCMEC report; ``changes`` replace top-level members."""
    report = copy.deepcopy(_REPORT)
    if report_id is None:
        del report["reportId"]
    else:
        report["reportId"] = report_id
    report.update(changes)
    return report


def small_report(report_id: int, md5: str = MD5_C, ip: str = "198.51.100.7") -> dict[str, Any]:
    """A report with one person, one capture and one file, for batches."""
    return {
        "reportId": report_id,
        "dateReceived": "2026-11-03T09:30:00Z",
        "reportedInformation": {"reportingEsp": {"espName": "Example Chat"}},
        "reportedPeople": {
            "reportedPersons": [
                {
                    "espUserId": f"user-{report_id}",
                    "sourceInformation": {
                        "sourceCaptures": [{"captureType": "IP Address", "value": ip}]
                    },
                }
            ]
        },
        "uploadedFiles": {"uploadedFiles": [{"filename": "f.jpg", "verificationHash": md5}]},
    }


def to_json(value: Any) -> bytes:
    return json.dumps(value, indent=1).encode("utf-8")


# --- CyberTipline reporting XML ------------------------------------------------------

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def xml_report(
    *,
    report_id: str | None = None,
    prefix: str = "",
    ip: str = "192.0.2.20",
    md5: str = MD5_A,
    files: bool = True,
) -> str:
    """One ``<report>`` element as text; ``prefix`` (``"ct:"``) namespaces every tag."""
    p = prefix
    report_id_xml = f"<{p}reportId>{report_id}</{p}reportId>" if report_id else ""
    file_xml = (
        f"""
  <{p}fileDetails>
    <{p}fileName>upload_01.jpg</{p}fileName>
    <{p}originalFileName>IMG_1001.jpg</{p}originalFileName>
    <{p}fileViewedByEsp>true</{p}fileViewedByEsp>
    <{p}originalFileHash hashType="MD5">{md5.upper()}</{p}originalFileHash>
    <{p}originalFileHash hashType="SHA1">{SHA1_A}</{p}originalFileHash>
    <{p}originalFileHash hashType="PDQ">{"0" * 64}</{p}originalFileHash>
    <{p}industryClassification>b1</{p}industryClassification>
    <{p}ipCaptureEvent>
      <{p}ipAddress>198.51.100.30</{p}ipAddress>
      <{p}eventName>Upload</{p}eventName>
      <{p}dateTime>2026-10-29T07:00:00Z</{p}dateTime>
    </{p}ipCaptureEvent>
    <{p}additionalInfo>Synthetic file note.</{p}additionalInfo>
  </{p}fileDetails>"""
        if files
        else ""
    )
    return f"""<{p}report>
  {report_id_xml}
  <{p}incidentSummary>
    <{p}incidentType>Test incident type</{p}incidentType>
    <{p}incidentDateTime>2026-10-29T10:00:00+05:30</{p}incidentDateTime>
  </{p}incidentSummary>
  <{p}internetDetails>
    <{p}webPageIncident>
      <{p}url>https://social.example.com/p/123</{p}url>
      <{p}additionalInfo>Synthetic page note.</{p}additionalInfo>
    </{p}webPageIncident>
  </{p}internetDetails>
  <{p}reporter>
    <{p}reportingPerson>
      <{p}firstName>Reporter</{p}firstName>
      <{p}email>safety@example.com</{p}email>
    </{p}reportingPerson>
  </{p}reporter>
  <{p}personOrUserReported>
    <{p}personOrUserReportedPerson>
      <{p}firstName>Bala</{p}firstName>
      <{p}lastName>Test</{p}lastName>
      <{p}email>bala@example.com</{p}email>
      <{p}phone countryCallingCode="91">9847045678</{p}phone>
      <{p}address>
        <{p}address>3 Example Street</{p}address>
        <{p}city>Thrissur</{p}city>
        <{p}country>IN</{p}country>
      </{p}address>
    </{p}personOrUserReportedPerson>
    <{p}espIdentifier>esp-2002</{p}espIdentifier>
    <{p}espService>Example Messenger</{p}espService>
    <{p}screenName>bala_test</{p}screenName>
    <{p}displayName>Bala T</{p}displayName>
    <{p}profileUrl>https://social.example.com/bala_test</{p}profileUrl>
    <{p}ipCaptureEvent>
      <{p}ipAddress>{ip}</{p}ipAddress>
      <{p}eventName>Login</{p}eventName>
      <{p}dateTime>2026-10-28T21:00:00Z</{p}dateTime>
      <{p}port>8080</{p}port>
    </{p}ipCaptureEvent>
    <{p}deviceId>
      <{p}idType>IMEI</{p}idType>
      <{p}idValue>000000000000001</{p}idValue>
    </{p}deviceId>
  </{p}personOrUserReported>
  <{p}victim>
    <{p}victimPerson>
      <{p}firstName>VictimNameMarker</{p}firstName>
      <{p}email>victim-marker@example.com</{p}email>
    </{p}victimPerson>
    <{p}screenName>victim_marker</{p}screenName>
  </{p}victim>
  <{p}additionalInfo>Synthetic report note.</{p}additionalInfo>{file_xml}
</{p}report>"""


def xml_file(*reports: str, root: str | None = "reports", namespace: str | None = None) -> bytes:
    """A whole XML document holding ``reports`` (one without a root is the report itself)."""
    body = "\n".join(reports)
    if root is not None:
        ns = f' xmlns="{namespace}"' if namespace else ""
        body = f"<{root}{ns}>\n{body}\n</{root}>"
    return (XML_DECLARATION + body + "\n").encode("utf-8")


# --- alerts ---------------------------------------------------------------------------


def alert(reference: str | None = "IP-2026-0042", **changes: Any) -> dict[str, Any]:
    """A full synthetic alert object; ``changes`` replace members."""
    obj: dict[str, Any] = {
        "source": "interpol",
        "reference": reference,
        "received": "2026-11-02T10:00:00Z",
        "reported_by": "Example NCB",
        "summary": "Synthetic alert summary.",
        "notes": ["Synthetic alert note."],
        "accounts": [
            {
                "platform": "telegram",
                "user_id": "5550001",
                "username": "chitra_test",
                "phone": "+91 98470 56789",
                "email": "chitra@example.com",
            },
            {"platform": "whatsapp", "phones": ["98470 67890", "12"]},
        ],
        "files": [
            {"md5": MD5_A.upper(), "sha1": SHA1_A, "name": "shared_01.jpg"},
            {"sha256": SHA256_A, "classification": "B2"},
        ],
        "ips": [
            {"ip": "198.51.100.40", "at": "2026-10-31T18:30:00+01:00", "port": "5222"},
            {"ip": "192.0.2.41", "event": "login"},
        ],
    }
    if reference is None:
        del obj["reference"]
    obj.update(changes)
    return obj


ALERT_CSV_HEADER = "reference,source,received,kind,value,platform,at,note"


def alert_csv(*rows: str, header: str = ALERT_CSV_HEADER, bom: bool = False) -> bytes:
    text = "\n".join([header, *rows]) + "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
