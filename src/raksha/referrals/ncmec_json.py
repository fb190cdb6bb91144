"""NCMEC CyberTipline reports as law enforcement receives them, as JSON.

A file holds one report object, a list of them, or ``{"reports": [...]}``; a list is
streamed, one report at a time. Fields read (see ``FORMATS.md``, "Referrals"):

* ``reportId`` (required: a report without one is still read, and a problem says so,
  because its accounts and hashes are leads even when the number is lost),
  ``dateReceived``;
* ``reportedInformation.reportingEsp.espName`` (the reporting platform);
  ``reportedInformation.incidentSummary.{incidentType, incidentDateTime}``, and as the
  summary the first of ``incidentDescription``, ``summary`` or ``description`` there;
* ``reportedPeople.reportedPersons[]``: ``firstName``, ``lastName``, ``espUserId``,
  ``espService``, ``screenName.value``, ``displayName``, ``profileUrl``,
  ``emails.emails[].value``, ``phones.phones[]`` (plain strings, or objects with
  ``value``, ``number`` or ``phoneNumber`` and an optional ``countryCallingCode``),
  ``addresses.addresses[]`` (strings, or objects whose parts are joined into one line),
  and ``sourceInformation.sourceCaptures[].{captureType, value, dateTime, port,
  eventName}``: captures of an IP address become :class:`IpCapture` records, others (a
  device id) become notes;
* ``uploadedFiles.uploadedFiles[]`` (at the top level or under ``reportedInformation``):
  ``filename``, ``originalFilename``, ``verificationHash`` (MD5), ``sha1``, ``sha256``,
  ``viewedByEsp``, ``ncmecTags``;
* ``additionalInformations[].value`` as notes.

An account's platform is its ``espService`` where given, else the reporting platform's
name: the person was reported by the service they used.

Times are ISO 8601 with or without a zone (no zone means UTC, which is what NCMEC
writes) or epoch milliseconds; all are returned as aware UTC datetimes. Phone numbers
are normalised to E.164 with the reader's default region (``IN`` unless told otherwise).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any, BinaryIO, Final

from raksha.chats.identity import DEFAULT_REGION
from raksha.hashes import MD5, SHA1, SHA256
from raksha.referrals.jsonstream import json_records
from raksha.referrals.records import (
    IpCapture,
    Referral,
    ReferralProblem,
    ReportedAccount,
    ReportedFile,
)
from raksha.referrals.values import Checker, json_kind, parse_ip, phone

logger = logging.getLogger(__name__)

FORMAT_NAME: Final = "ncmec-json"
_SUMMARY_KEYS: Final = ("incidentDescription", "summary", "description")
_PHONE_KEYS: Final = ("value", "number", "phoneNumber")
_CALLING_CODE_KEYS: Final = ("countryCallingCode", "countryCode")
#: Address parts in the order a one-line address shows them; others follow.
_ADDRESS_ORDER: Final = (
    "address",
    "street",
    "streetAddress",
    "city",
    "state",
    "nonUsaState",
    "zipCode",
    "postalCode",
    "country",
)
#: A captureType that names an IP address: "IP Address", "IPAddress", "IPv6", "Client IP".
_IP_CAPTURE: Final = re.compile(r"\bip(?:v[46])?(?:\b|address)", re.IGNORECASE)

Event = Referral | ReferralProblem


def read_ncmec_json(stream: BinaryIO, *, region: str = DEFAULT_REGION) -> Iterator[Event]:
    """Each report of an NCMEC CyberTipline JSON file, each followed by its problems.

    Never raises for bad input: a report that is not an object, a bad value inside one,
    or a file that breaks off each become a :class:`ReferralProblem` and reading goes on
    (or, after damage to the JSON itself, stops with every report before it read).
    """
    reports = problems = 0
    for item in json_records(stream, label="report", wrapper_key="reports"):
        if isinstance(item, ReferralProblem):
            problems += 1
            yield item
            continue
        where, obj = item
        for event in report_events(obj, where, region):
            if isinstance(event, Referral):
                reports += 1
            else:
                problems += 1
            yield event
    logger.info("read %d NCMEC JSON report(s), %d problem(s)", reports, problems)


def report_events(obj: Any, where: str, region: str = DEFAULT_REGION) -> list[Event]:
    """One report object as a :class:`Referral` and the problems met in it."""
    if not isinstance(obj, dict):
        return [ReferralProblem(where, f"the report is a JSON {json_kind(obj)}, not an object")]
    try:
        return _Report(obj, Checker(where), region).events()
    except Exception:  # a last guard: one odd report must not end the whole file
        logger.exception("unexpected error reading %s", where)
        return [ReferralProblem(where, "the report could not be read (unexpected error, logged)")]


class _Report:
    """Reads one report object; ``check`` collects what had to be left out."""

    def __init__(self, obj: dict[str, Any], check: Checker, region: str) -> None:
        self.obj = obj
        self.check = check
        self.region = region
        self.ref = Referral(source="ncmec", where=check.where)

    def events(self) -> list[Event]:
        check, obj, ref = self.check, self.obj, self.ref
        ref.external_id = check.text(obj.get("reportId"), "reportId")
        if ref.external_id is None:
            check.add(
                None,
                "the report has no reportId; it is read without one, so it cannot be "
                "traced back to NCMEC by number",
            )
        ref.received_at = check.time(obj.get("dateReceived"), "dateReceived")
        info = check.obj(obj.get("reportedInformation"), "reportedInformation") or {}
        self.reported_information(info)
        people = check.obj(obj.get("reportedPeople"), "reportedPeople") or {}
        persons = check.items(people.get("reportedPersons"), "reportedPeople.reportedPersons")
        for number, person in enumerate(persons, 1):
            self.person(person, f"reported person {number}")
        uploads = [
            *self.uploads(obj.get("uploadedFiles")),
            *self.uploads(info.get("uploadedFiles")),
        ]
        for number, upload in enumerate(uploads, 1):
            self.file(upload, f"uploaded file {number}")
        for number, extra in enumerate(
            check.items(obj.get("additionalInformations"), "additionalInformations"), 1
        ):
            note = check.value_text(
                extra, "additionalInformations", f"additional information {number}"
            )
            if note is not None:
                ref.notes.append(note)
        return [ref, *check.problems]

    def reported_information(self, info: dict[str, Any]) -> None:
        check, ref = self.check, self.ref
        esp = check.obj(info.get("reportingEsp"), "reportedInformation.reportingEsp") or {}
        ref.reporting_party = check.value_text(esp.get("espName"), "reportingEsp.espName")
        summary = (
            check.obj(info.get("incidentSummary"), "reportedInformation.incidentSummary") or {}
        )
        ref.incident_type = check.value_text(
            summary.get("incidentType"), "incidentSummary.incidentType"
        )
        ref.incident_at = check.time(
            summary.get("incidentDateTime"), "incidentSummary.incidentDateTime"
        )
        for key in _SUMMARY_KEYS:
            text = check.value_text(summary.get(key), f"incidentSummary.{key}")
            if text is not None:
                ref.summary = text
                break

    def uploads(self, raw: Any) -> list[Any]:
        return self.check.wrapped_items(raw, "uploadedFiles", "uploadedFiles")

    def person(self, raw: Any, part: str) -> None:
        check, ref = self.check, self.ref
        person = check.obj(raw, "the reported person", part)
        if person is None:
            return
        account = ReportedAccount(
            platform=check.text(person.get("espService"), "espService", part)
            or ref.reporting_party,
            user_id=check.value_text(person.get("espUserId"), "espUserId", part),
            screen_name=check.value_text(person.get("screenName"), "screenName", part),
            display_name=check.value_text(person.get("displayName"), "displayName", part),
            first_name=check.value_text(person.get("firstName"), "firstName", part),
            last_name=check.value_text(person.get("lastName"), "lastName", part),
            profile_url=check.value_text(person.get("profileUrl"), "profileUrl", part),
        )
        for number, email in enumerate(
            check.wrapped_items(person.get("emails"), "emails", "emails", part), 1
        ):
            text = check.value_text(email, "email", f"{part}, email {number}")
            if text is not None:
                account.emails.append(text)
        for number, item in enumerate(
            check.wrapped_items(person.get("phones"), "phones", "phones", part), 1
        ):
            self.phone(account, item, f"{part}, phone {number}")
        for number, item in enumerate(
            check.wrapped_items(person.get("addresses"), "addresses", "addresses", part), 1
        ):
            address = self.address(item, f"{part}, address {number}")
            if address is not None:
                account.addresses.append(address)
        index = len(ref.accounts)
        captures: list[IpCapture] = []
        source = check.obj(person.get("sourceInformation"), "sourceInformation", part) or {}
        for number, item in enumerate(
            check.wrapped_items(
                source.get("sourceCaptures"), "sourceCaptures", "sourceCaptures", part
            ),
            1,
        ):
            capture = self.capture(item, f"{part}, source capture {number}", index, account)
            if capture is not None:
                captures.append(capture)
        if account.is_empty() and not captures:
            check.add(part, "the reported person names no account, person or address; left out")
            return
        ref.accounts.append(account)
        ref.ip_captures.extend(captures)

    def phone(self, account: ReportedAccount, raw: Any, part: str) -> None:
        check = self.check
        code: str | None = None
        if isinstance(raw, dict):
            for key in _CALLING_CODE_KEYS:
                code = check.text(raw.get(key), key, part)
                if code is not None:
                    break
            raw = next((raw[key] for key in _PHONE_KEYS if raw.get(key) not in (None, "")), None)
            if raw is None:
                check.add(part, "the phone entry has no value, number or phoneNumber; left out")
                return
        text = check.text(raw, "the phone number", part)
        if text is not None:
            account.phones.append(phone(text, self.region, code))

    def address(self, raw: Any, part: str) -> str | None:
        if not isinstance(raw, dict):
            return self.check.text(raw, "the address", part)
        keys = [k for k in _ADDRESS_ORDER if k in raw] + [k for k in raw if k not in _ADDRESS_ORDER]
        parts = []
        for key in keys:
            value = raw[key]
            if isinstance(value, str | int) and not isinstance(value, bool):
                text = str(value).strip()
                if text and key != "type":
                    parts.append(text)
        return ", ".join(parts) or None

    def capture(
        self, raw: Any, part: str, index: int, account: ReportedAccount
    ) -> IpCapture | None:
        check = self.check
        capture = check.obj(raw, "the source capture", part)
        if capture is None:
            return None
        kind = check.text(capture.get("captureType"), "captureType", part)
        value = check.text(capture.get("value"), "value", part)
        if value is None:
            check.add(part, "the source capture has no value; left out")
            return None
        if kind is not None and not _IP_CAPTURE.search(kind):
            try:
                parse_ip(value)
            except ValueError:
                # Not an IP capture (a device id, a cookie): a lead, kept as a note.
                self.ref.notes.append(f"{kind}: {value}")
                return None
        ip = check.ip(value, "the captured IP address", part)
        if ip is None:
            return None
        return IpCapture(
            ip=ip,
            at=check.time(capture.get("dateTime"), "dateTime", part),
            port=check.port(capture.get("port"), "port", part),
            event=check.text(capture.get("eventName"), "eventName", part) or kind,
            account_index=index,
        )

    def file(self, raw: Any, part: str) -> None:
        check = self.check
        upload = check.obj(raw, "the uploaded file", part)
        if upload is None:
            return
        file = ReportedFile(
            file_name=check.text(upload.get("filename"), "filename", part),
            original_file_name=check.text(upload.get("originalFilename"), "originalFilename", part),
            md5=check.hash(MD5, upload.get("verificationHash"), "verificationHash", part),
            sha1=check.hash(SHA1, upload.get("sha1"), "sha1", part),
            sha256=check.hash(SHA256, upload.get("sha256"), "sha256", part),
            viewed_by_esp=check.flag(upload.get("viewedByEsp"), "viewedByEsp", part),
        )
        tags = upload.get("ncmecTags")
        for number, tag in enumerate(
            check.items(tags if not isinstance(tags, str) else [tags], "ncmecTags", part), 1
        ):
            text = check.value_text(tag, "ncmecTags", f"{part}, tag {number}")
            if text is not None:
                file.classification.append(text)
        if not (file.has_hash() or file.file_name or file.original_file_name):
            check.add(part, "the uploaded file has neither a valid hash nor a name; left out")
            return
        self.ref.files.append(file)
