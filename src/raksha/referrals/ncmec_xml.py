"""CyberTipline reporting XML: what platforms send NCMEC, read as a referral.

A file holds one ``<report>`` or many under any root element (namespaced or not: tags
are matched on their local names). Read from each report (see ``FORMATS.md``):

* ``reportId`` (a child element or attribute, where an export adds one; the XML as sent
  has none, NCMEC assigns it);
* ``incidentSummary``: ``incidentType``, ``incidentDateTime``,
  ``incidentDateTimeDescription``; ``internetDetails``: each incident's kind and plain
  fields (URL, chat client, room, game, ...) become the summary, their ``additionalInfo``
  a note; ``reporter``: ``espName`` or ``companyName`` where given, as the reporting
  party (the XML as sent names the platform only through its login);
* each ``personOrUserReported``: ``espIdentifier``, ``espService``, ``screenName``,
  ``displayName``, ``profileUrl``, ``deviceId`` (``idType``/``idValue``),
  ``ipCaptureEvent`` (``ipAddress``, ``eventName``, ``dateTime``, ``port``), and from
  ``personOrUserReportedPerson``: ``firstName``, ``lastName``, ``email``, ``phone``
  (with ``countryCallingCode``), ``address``;
* ``additionalInfo`` as notes;
* each ``fileDetails``, inside the report or following it as a sibling (attached to the
  report before it, or refused when its ``reportId`` names another): ``fileName``,
  ``originalFileName``, ``originalFileHash`` with ``hashType`` MD5, SHA1 or SHA256
  (other types are ignored; without a type the length decides), ``industryClassification``,
  ``fileViewedByEsp``, ``ipCaptureEvent``, ``additionalInfo``.

``victim`` elements are dropped unread as soon as they are parsed, and
``intendedRecipient`` is not read: a referral carries what leads to the suspect only.

Hostile XML is refused, not parsed: a file that declares a DTD or entities
(``<!DOCTYPE``, ``<!ENTITY``) before its root element gives a single
:class:`ReferralProblem`. Entity expansion ("billion laughs") and external entities need
a DTD, and a referral never has one, so refusing them costs nothing. The check looks at
the head before parsing, and then at every byte the parser is given until the root
element has begun, so a DTD pushed past the head by padding is caught too. Because the
check reads bytes, a declared encoding that does not write ASCII as ASCII (EBCDIC, say)
is refused as well; UTF-8, Latin-1 and the like, and UTF-16, are read.

Parsing streams (:func:`xml.etree.ElementTree.iterparse`) and each report is released
once read, so a file of many reports is read in flat memory. A file that breaks off gives
every report before the damage, then a problem naming the line where parsing stopped.
"""

from __future__ import annotations

import contextlib
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Final

from raksha.chats.identity import DEFAULT_REGION
from raksha.hashes import MD5, SHA1, SHA256, guess_algorithm
from raksha.referrals.records import (
    IpCapture,
    Referral,
    ReferralProblem,
    ReportedAccount,
    ReportedFile,
)
from raksha.referrals.values import Checker, PrefixedReader, phone, shown

logger = logging.getLogger(__name__)

FORMAT_NAME: Final = "ncmec-xml"
HEAD_SIZE: Final = 64 * 1024
_HOSTILE: Final = (b"<!DOCTYPE", b"<!ENTITY")
_TAIL: Final = max(len(marker) for marker in _HOSTILE) - 1
_DECLARED_ENCODING: Final = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)")
_DECLARATION_LIMIT: Final = 1024
#: Byte-order marks as they look once NUL bytes are gone (UTF-8, UTF-16/32 either way).
_MARKS: Final = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_HASH_TYPES: Final = {
    "md5": MD5,
    "sha1": SHA1,
    "sha-1": SHA1,
    "sha256": SHA256,
    "sha-256": SHA256,
}
_ADDRESS_PARTS: Final = (
    "address",
    "street",
    "city",
    "state",
    "nonUsaState",
    "zipCode",
    "postalCode",
    "country",
)
_REPORTER_NAMES: Final = ("espName", "companyName")
#: internetDetails children never copied into the summary: message content, and the
#: notes (kept as notes).
_INCIDENT_SKIPPED: Final = frozenset({"content", "additionalInfo"})

Event = Referral | ReferralProblem


class _RefusedError(Exception):
    """The XML declares a DTD or entities; it is not parsed further."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _plain(data: bytes) -> bytes:
    """``data`` without NUL bytes: UTF-16 and UTF-32 text then reads as ASCII, so a
    declaration in those encodings (which the parser accepts) is found too."""
    return data.replace(b"\x00", b"")


def _hostile_at(plain: bytes) -> int:
    """Where in ``plain`` a DTD or entity declaration begins, or -1.

    Matched without regard to case: XML itself requires upper case, but a parser that is
    lenient about it must not be the way round this check.
    """
    upper = plain.upper()
    found = [i for i in (upper.find(marker) for marker in _HOSTILE) if i >= 0]
    return min(found) if found else -1


def _encoding_refused(plain_head: bytes) -> str | None:
    """The declared encoding if it could hide a declaration from the byte check, else None.

    The parser decodes any single-byte encoding Python knows; one that does not write
    ``<!DOCTYPE`` as ASCII (EBCDIC, say) would slip past :func:`_hostile_at`, so only
    encodings that keep ASCII as it is (UTF-8, Latin-1, ...) or UTF-16/32 are read.
    """
    match = _DECLARED_ENCODING.search(plain_head[:_DECLARATION_LIMIT])
    if match is None:
        return None
    name = match.group(1).decode("ascii")
    try:
        encoded = "<!DOCTYPE".encode(name)
    except (LookupError, UnicodeError):
        return name
    return None if _plain(encoded).endswith(b"<!DOCTYPE") else name


def _prolog_end(plain: bytes) -> int | None:
    """Where the root element starts in ``plain``, or ``None`` if not within it.

    Walks what may come before the root (byte-order marks, space, the XML declaration,
    processing instructions, comments); a ``<!`` that is not a comment ends the walk
    there, so a DTD is always inside the part checked. Text after the root has started
    (a CDATA section quoting ``<!DOCTYPE html>``) is then not mistaken for a DTD.
    """
    pos = 0
    size = len(plain)
    while pos < size:
        if plain.startswith(_MARKS, pos):
            pos += next(len(m) for m in _MARKS if plain.startswith(m, pos))
        elif plain[pos : pos + 1].isspace():
            pos += 1
        elif plain.startswith(b"<?", pos):
            end = plain.find(b"?>", pos + 2)
            if end < 0:
                return None
            pos = end + 2
        elif plain.startswith(b"<!--", pos):
            end = plain.find(b"-->", pos + 4)
            if end < 0:
                return None
            pos = end + 3
        elif plain.startswith(b"<!", pos):
            # A DTD (the caller's check must see the whole keyword) or markup the
            # parser rejects.
            return pos + max(len(marker) for marker in _HOSTILE)
        else:
            return pos  # the root element, or text the parser will reject
    return None


class _GuardedReader:
    """Hands the parser bytes, refusing a DTD or entity anywhere before the root element.

    A DTD can only come before the root element, and the parser only sees what
    :meth:`read` returned, so checking every chunk until :meth:`root_started` is called
    means no declaration ever reaches it. After that the check stops, so text that merely
    mentions ``<!DOCTYPE`` inside a report's CDATA is read as text.
    """

    def __init__(self, stream: PrefixedReader) -> None:
        self._stream = stream
        self._checking = True
        self._tail = b""
        self._newlines = 0

    def root_started(self) -> None:
        self._checking = False

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if self._checking and data:
            plain = _plain(data)
            window = self._tail + plain
            found = _hostile_at(window)
            if found >= 0:
                before = self._newlines - self._tail.count(b"\n")
                raise _RefusedError(before + window.count(b"\n", 0, found) + 1)
            self._newlines += plain.count(b"\n")
            self._tail = window[-_TAIL:]
        return data


def _local(tag: object) -> str:
    """``{urn:example}report`` -> ``report``: namespaces differ between senders."""
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    return tag.rsplit("}", 1)[-1]


def _children(elem: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in elem if _local(child.tag) == name]


def _child(elem: ET.Element | None, name: str) -> ET.Element | None:
    if elem is None:
        return None
    for child in elem:
        if _local(child.tag) == name:
            return child
    return None


def _text(elem: ET.Element | None) -> str | None:
    if elem is None or elem.text is None:
        return None
    return elem.text.strip() or None


def _child_text(elem: ET.Element | None, name: str) -> str | None:
    return _text(_child(elem, name))


def _attribute(elem: ET.Element, name: str) -> str | None:
    for key, value in elem.attrib.items():
        if _local(key) == name:
            return value.strip() or None
    return None


def _refusal(line: int) -> ReferralProblem:
    return ReferralProblem(
        f"line {line}",
        "the XML declares a DTD or entities (<!DOCTYPE or <!ENTITY); such files are refused "
        "unparsed, because entities can expand without bound or pull in other files. "
        "Ask the sender for the report without a DTD",
    )


def read_ncmec_xml(stream: BinaryIO, *, region: str = DEFAULT_REGION) -> Iterator[Event]:
    """Each ``<report>`` of a CyberTipline reporting XML file, each followed by its problems.

    Never raises for bad input: a DTD, a bad value, or XML that breaks off each become a
    :class:`ReferralProblem`; after damage to the XML itself reading stops, with every
    report before it read.
    """
    try:
        head = stream.read(HEAD_SIZE)
    except OSError as exc:
        yield ReferralProblem("file", f"the file could not be read ({exc.strerror or exc})")
        return
    plain_head = _plain(head)
    prolog_end = _prolog_end(plain_head)
    found = _hostile_at(plain_head if prolog_end is None else plain_head[:prolog_end])
    if found >= 0:
        logger.warning("refused XML with a DTD or entity declaration")
        yield _refusal(plain_head.count(b"\n", 0, found) + 1)
        return
    encoding = _encoding_refused(plain_head)
    if encoding is not None:
        yield ReferralProblem(
            "line 1",
            f"the XML declares the encoding {encoding!r}, which Raksha does not read; "
            "UTF-8 (or another encoding that writes ASCII as ASCII) and UTF-16 are read",
        )
        return
    reader = _GuardedReader(PrefixedReader(head, stream))
    if prolog_end is not None:
        reader.root_started()  # the whole prolog was in the head, and it is clean
    reading = _Reading(region)
    try:
        for event, elem in ET.iterparse(reader, events=("start", "end")):
            if event == "start":
                if not reading.stack:
                    reader.root_started()
                reading.start(elem)
            else:
                yield from reading.end(elem)
    except _RefusedError as exc:
        logger.warning("refused XML with a DTD or entity declaration")
        yield from reading.flush()
        yield _refusal(exc.line)
        return
    except ET.ParseError as exc:
        yield from reading.flush()
        line, _column = getattr(exc, "position", (None, None))
        message = str(exc).split(":", 1)[0]
        yield ReferralProblem(
            f"line {line}" if line else "file",
            f"the XML ends or is damaged here ({message}); reading stopped, the "
            f"{reading.count} report(s) before it were read",
        )
        return
    except (ValueError, LookupError) as exc:  # an encoding the parser cannot use
        yield from reading.flush()
        yield ReferralProblem(
            "file" if reading.count == 0 else f"after report {reading.count}",
            f"the XML could not be decoded ({exc}); reading stopped, the "
            f"{reading.count} report(s) before it were read",
        )
        return
    except OSError as exc:
        yield from reading.flush()
        yield ReferralProblem(
            f"after report {reading.count}",
            f"the file could not be read further ({exc.strerror or exc}); the "
            f"{reading.count} report(s) before it were read",
        )
        return
    yield from reading.flush()
    if reading.count == 0:
        yield ReferralProblem("file", "the XML holds no <report> element; nothing was read")
    logger.info("read %d CyberTipline XML report(s)", reading.count)


@dataclass(slots=True)
class _Pending:
    """A report read but not yet yielded: ``fileDetails`` siblings may still follow."""

    referral: Referral
    check: Checker
    files: int = 0


@dataclass(slots=True)
class _Reading:
    """State of one pass over the parse events."""

    region: str
    stack: list[ET.Element] = field(default_factory=list)
    report_depth: int = 0
    count: int = 0
    loose_files: int = 0
    pending: _Pending | None = None

    def start(self, elem: ET.Element) -> None:
        self.stack.append(elem)
        if _local(elem.tag) == "report":
            self.report_depth += 1

    def end(self, elem: ET.Element) -> Iterator[Event]:
        self.stack.pop()
        name = _local(elem.tag)
        if name == "report":
            self.report_depth -= 1
            if self.report_depth == 0:
                yield from self.flush()
                self.count += 1
                self.pending = _read_report(elem, f"report {self.count}", self.region)
                self._release(elem)
            return
        if name == "victim":
            elem.clear()  # never kept, not even until the report ends
            return
        if self.report_depth:
            return
        if name == "fileDetails":
            if self.pending is None:
                self.loose_files += 1
                yield ReferralProblem(
                    f"fileDetails {self.loose_files}",
                    "fileDetails come before any report, so there is no report to attach "
                    "them to; left out",
                )
            else:
                self._sibling_file(elem, self.pending)
            self._release(elem)
        elif len(self.stack) <= 1:
            self._release(elem)  # anything else at the top: not needed, not kept

    def flush(self) -> Iterator[Event]:
        if self.pending is not None:
            yield self.pending.referral
            yield from self.pending.check.problems
            self.pending = None

    def _release(self, elem: ET.Element) -> None:
        elem.clear()
        if self.stack:
            with contextlib.suppress(ValueError):  # iterparse always links the child
                self.stack[-1].remove(elem)

    def _sibling_file(self, elem: ET.Element, pending: _Pending) -> None:
        wanted = _child_text(elem, "reportId")
        own = pending.referral.external_id
        pending.files += 1
        part = f"file {pending.files}"
        if wanted is not None and own is not None and wanted != own:
            pending.check.add(
                part,
                f"the fileDetails after this report are for report {shown(wanted)}, "
                "which is not this one; left out",
            )
            return
        _read_file(elem, pending.referral, pending.check, part)


def _read_report(elem: ET.Element, where: str, region: str) -> _Pending:
    check = Checker(where)
    ref = Referral(source="ncmec", where=where)
    pending = _Pending(ref, check)
    try:
        _fill_report(elem, pending, region)
    except Exception:  # a last guard: one odd report must not end the whole file
        logger.exception("unexpected error reading %s", where)
        check.add(None, "part of the report could not be read (unexpected error, logged)")
    return pending


def _fill_report(elem: ET.Element, pending: _Pending, region: str) -> None:
    ref, check = pending.referral, pending.check
    ref.external_id = _child_text(elem, "reportId") or _attribute(elem, "reportId")
    ref.external_id = ref.external_id or _attribute(elem, "id")
    summary = _child(elem, "incidentSummary")
    ref.incident_type = _child_text(summary, "incidentType")
    ref.incident_at = check.time(
        _child_text(summary, "incidentDateTime"), "incidentSummary/incidentDateTime"
    )
    lines = []
    when = _child_text(summary, "incidentDateTimeDescription")
    if when:
        lines.append(when)
    for details in _children(elem, "internetDetails"):
        for incident in details:
            lines.append(_incident_line(incident, ref))
    ref.summary = "\n".join(line for line in lines if line) or None
    reporter = _child(elem, "reporter")
    for name in _REPORTER_NAMES:
        ref.reporting_party = ref.reporting_party or _child_text(reporter, name)
    for number, person in enumerate(_children(elem, "personOrUserReported"), 1):
        _read_person(person, ref, check, f"reported person {number}", region)
    for info in _children(elem, "additionalInfo"):
        text = _text(info)
        if text:
            ref.notes.append(text)
    for details in _children(elem, "fileDetails"):
        pending.files += 1
        _read_file(details, ref, check, f"file {pending.files}")


def _incident_line(incident: ET.Element, ref: Referral) -> str:
    """``webPageIncident: url https://example.com/a``: the kind of incident and its facts."""
    facts = []
    for child in incident:
        name = _local(child.tag)
        text = _text(child)
        if not text:
            continue
        if name == "additionalInfo":
            ref.notes.append(text)
        elif name not in _INCIDENT_SKIPPED:
            facts.append(f"{name} {text}")
    kind = _local(incident.tag)
    return f"{kind}: {'; '.join(facts)}" if facts else kind


def _read_person(elem: ET.Element, ref: Referral, check: Checker, part: str, region: str) -> None:
    account = ReportedAccount(
        platform=_child_text(elem, "espService"),
        user_id=_child_text(elem, "espIdentifier"),
        screen_name=_child_text(elem, "screenName"),
        display_name=_child_text(elem, "displayName"),
        profile_url=_child_text(elem, "profileUrl"),
    )
    person = _child(elem, "personOrUserReportedPerson")
    for source in (elem, person):
        if source is None:
            continue
        account.first_name = account.first_name or _child_text(source, "firstName")
        account.last_name = account.last_name or _child_text(source, "lastName")
        for email in _children(source, "email"):
            text = _text(email)
            if text:
                account.emails.append(text)
        for number in _children(source, "phone"):
            text = _text(number)
            if text:
                code = _attribute(number, "countryCallingCode")
                account.phones.append(phone(text, region, code))
        for address in _children(source, "address"):
            line = _address_line(address)
            if line:
                account.addresses.append(line)
    for device in _children(elem, "deviceId"):
        kind, value = _child_text(device, "idType"), _child_text(device, "idValue")
        text = value or _text(device)
        if text:
            account.device_ids.append(f"{kind}: {text}" if kind else text)
    for info in _children(elem, "additionalInfo"):
        text = _text(info)
        if text:
            ref.notes.append(text)
    index = len(ref.accounts)
    captures = _captures(elem, check, part, index)
    if account.is_empty() and not captures:
        check.add(part, "the reported person names no account, person or address; left out")
        return
    ref.accounts.append(account)
    ref.ip_captures.extend(captures)


def _address_line(elem: ET.Element) -> str | None:
    parts = [_child_text(elem, name) for name in _ADDRESS_PARTS]
    known = [p for p in parts if p]
    if not known:
        return _text(elem)
    return ", ".join(known)


def _captures(elem: ET.Element, check: Checker, part: str, index: int | None) -> list[IpCapture]:
    captures = []
    for number, event in enumerate(_children(elem, "ipCaptureEvent"), 1):
        where = f"{part}, IP capture {number}"
        ip = check.ip(_child_text(event, "ipAddress"), "ipAddress", where)
        if ip is None:
            continue
        captures.append(
            IpCapture(
                ip=ip,
                at=check.time(_child_text(event, "dateTime"), "dateTime", where),
                port=check.port(_child_text(event, "port"), "port", where),
                event=_child_text(event, "eventName"),
                account_index=index,
            )
        )
    return captures


def _read_file(elem: ET.Element, ref: Referral, check: Checker, part: str) -> None:
    file = ReportedFile(
        file_name=_child_text(elem, "fileName"),
        original_file_name=_child_text(elem, "originalFileName"),
        viewed_by_esp=check.flag(
            _child_text(elem, "fileViewedByEsp") or _child_text(elem, "viewedByEsp"),
            "fileViewedByEsp",
            part,
        ),
    )
    for digest in _children(elem, "originalFileHash"):
        value = _text(digest)
        if value is None:
            continue
        declared = _attribute(digest, "hashType")
        if declared is None:
            algorithm = guess_algorithm(value)
            if algorithm is None:
                check.add(
                    part,
                    f"originalFileHash {shown(value)} has no hashType and its length says "
                    "no hash Raksha knows; left out",
                )
                continue
        else:
            known = _HASH_TYPES.get(declared.lower())
            if known is None:
                logger.debug("%s: ignored hash type %r", part, declared)
                continue
            algorithm = known
        clean = check.hash(algorithm, value, f"originalFileHash ({declared or algorithm})", part)
        if clean is None:
            continue
        if algorithm == MD5:
            file.md5 = clean
        elif algorithm == SHA1:
            file.sha1 = clean
        else:
            file.sha256 = clean
    for label in _children(elem, "industryClassification"):
        text = _text(label)
        if text:
            file.classification.append(text.upper())
    for info in _children(elem, "additionalInfo"):
        text = _text(info)
        if text:
            ref.notes.append(f"{part}: {text}")
    ref.ip_captures.extend(_captures(elem, check, part, None))
    if not (file.has_hash() or file.file_name or file.original_file_name):
        check.add(part, "the file has neither a valid hash nor a name; left out")
        return
    ref.files.append(file)
