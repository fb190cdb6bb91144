"""Alerts from INTERPOL or any other agency, in a small JSON or CSV form Raksha defines.

Alerts reach a unit as e-mails, spreadsheets and PDFs with no common format, so a liaison
officer copies the identifiers into one of the two forms below, and they are matched like
any NCMEC report. Both are UTF-8 (a byte-order mark is allowed).

JSON
====

One alert object, or a list of them, or ``{"alerts": [...]}``::

    {"source": "interpol", "reference": "IP-2026-0042", "received": "2026-11-02T10:00:00Z",
     "summary": "...", "accounts": [...], "files": [...], "ips": [...]}

Alert members:

``reference`` (required)
    The issuing agency's reference, a string or number. An alert without one is still
    read (``external_id`` is ``None``) and a problem says it is missing.
``source`` (required)
    ``"interpol"``, ``"ncmec"`` or ``"other"`` (any case). Missing or any other value: the
    alert is read as ``"other"`` and a problem says so.
``received`` (optional)
    When the unit received the alert: ISO 8601 (no zone means UTC) or epoch milliseconds.
``reported_by`` (optional)
    Who issued it (an NCB, a unit), as text.
``summary`` (optional)
    Free text.
``notes`` (optional)
    A list of strings.
``accounts`` (optional)
    A list of objects, each one account, with any of: ``platform`` (e.g. ``"telegram"``),
    ``user_id``, ``username``, ``display_name``, ``profile_url``, ``phone`` (a string) or
    ``phones`` (a list of strings), ``email`` or ``emails`` likewise. An account needs at
    least one of them besides ``platform``. Phones are normalised to E.164 with the
    reader's default region; one that does not parse is kept as written.
``files`` (optional)
    A list of objects with any of ``md5``, ``sha1``, ``sha256`` (hex, any case),
    ``name``, ``classification`` (a string or a list of strings). An invalid hash is
    left out and reported; a file with neither a valid hash nor a name is left out.
``ips`` (optional)
    A list of objects: ``ip`` (required, IPv4 or IPv6), ``at`` (optional, a time as for
    ``received``), ``port`` (optional, 0-65535), ``event`` (optional, e.g. ``"login"``).
    An entry whose ``ip`` is not an IP address is left out and reported.

Members not listed are ignored.

CSV
===

One row per identifier, comma-separated, with this header (columns in any order;
``reference``, ``kind`` and ``value`` must be there, the others may be left out)::

    reference,source,received,kind,value,platform,at,note

``reference`` (required on every row)
    Rows with the same reference form one referral, wherever they are in the file.
    A row without one is left out and reported.
``source`` (required on at least one row of a reference)
    As in JSON. The first non-empty value of a reference is used; a different value on
    a later row is reported and ignored.
``received`` (optional)
    As in JSON; first non-empty value of a reference, later different values reported.
``kind`` (required)
    One of ``account_id``, ``username``, ``phone``, ``email`` (each row is one account:
    a row cannot say that two identifiers belong to the same account, so use JSON when
    they do), ``md5``, ``sha1``, ``sha256`` (each row is one file), or ``ip`` (one IP
    capture).
``value`` (required)
    The identifier. Hashes and IP addresses are checked; a row whose value fails is
    left out and reported, and the rest of the file is read.
``platform`` (optional)
    For account rows, the service (``telegram``); ignored on other rows.
``at`` (optional)
    For ``ip`` rows, when the address was seen (as ``received``); ignored on other rows.
``note`` (optional)
    Free text about the identifier, kept in the referral's notes as
    ``"<kind> <value>: <note>"``.

Row numbers in problems count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import codecs
import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Final

from raksha.chats.identity import DEFAULT_REGION
from raksha.hashes import MD5, SHA1, SHA256
from raksha.referrals.jsonstream import json_records
from raksha.referrals.records import (
    SOURCES,
    IpCapture,
    Referral,
    ReferralProblem,
    ReportedAccount,
    ReportedFile,
    Source,
)
from raksha.referrals.values import Checker, json_kind, phone, shown

logger = logging.getLogger(__name__)

JSON_FORMAT_NAME: Final = "alert-json"
CSV_FORMAT_NAME: Final = "alert-csv"
CSV_HEADER: Final = ("reference", "source", "received", "kind", "value", "platform", "at", "note")
CSV_REQUIRED: Final = frozenset({"reference", "kind", "value"})
ACCOUNT_KINDS: Final = ("account_id", "username", "phone", "email")
HASH_KINDS: Final = {"md5": MD5, "sha1": SHA1, "sha256": SHA256}
KINDS: Final = (*ACCOUNT_KINDS, *HASH_KINDS, "ip")

Event = Referral | ReferralProblem


def _source(raw: str | None, check: Checker, part: str | None = None) -> Source:
    """The source named, or ``"other"`` (noted) when missing or not one we know."""
    if raw is None:
        check.add(part, "the alert has no source; read as 'other'")
        return "other"
    lowered = raw.strip().lower()
    for source in SOURCES:
        if lowered == source:
            return source
    check.add(
        part,
        f"source {shown(raw)} is not interpol, ncmec or other; read as 'other'",
    )
    return "other"


# --- JSON ---------------------------------------------------------------------------


def read_alert_json(stream: BinaryIO, *, region: str = DEFAULT_REGION) -> Iterator[Event]:
    """Each alert of an alert JSON file (see the module documentation), with its problems."""
    count = 0
    for item in json_records(stream, label="alert", wrapper_key="alerts"):
        if isinstance(item, ReferralProblem):
            yield item
            continue
        where, obj = item
        if not isinstance(obj, dict):
            yield ReferralProblem(where, f"the alert is a JSON {json_kind(obj)}, not an object")
            continue
        check = Checker(where)
        try:
            referral = _alert(obj, check, region)
        except Exception:  # a last guard: one odd alert must not end the whole file
            logger.exception("unexpected error reading %s", where)
            yield ReferralProblem(where, "the alert could not be read (unexpected error, logged)")
            continue
        count += 1
        yield referral
        yield from check.problems
    logger.info("read %d alert(s) from JSON", count)


def _alert(obj: dict[str, Any], check: Checker, region: str) -> Referral:
    ref = Referral(
        source=_source(check.text(obj.get("source"), "source"), check),
        where=check.where,
        external_id=check.text(obj.get("reference"), "reference"),
        received_at=check.time(obj.get("received"), "received"),
        reporting_party=check.text(obj.get("reported_by"), "reported_by"),
        summary=check.text(obj.get("summary"), "summary"),
    )
    if ref.external_id is None:
        check.add(None, "the alert has no reference; it is read without one")
    for number, note in enumerate(check.items(obj.get("notes"), "notes"), 1):
        text = check.text(note, "the note", f"note {number}")
        if text is not None:
            ref.notes.append(text)
    for number, raw in enumerate(check.items(obj.get("accounts"), "accounts"), 1):
        account = _json_account(raw, check, f"account {number}", region)
        if account is not None:
            ref.accounts.append(account)
    for number, raw in enumerate(check.items(obj.get("files"), "files"), 1):
        file = _json_file(raw, check, f"file {number}")
        if file is not None:
            ref.files.append(file)
    for number, raw in enumerate(check.items(obj.get("ips"), "ips"), 1):
        capture = _json_ip(raw, check, f"ip {number}")
        if capture is not None:
            ref.ip_captures.append(capture)
    return ref


def _texts(obj: dict[str, Any], one: str, many: str, check: Checker, part: str) -> list[str]:
    """``phone`` and ``phones`` (or ``email``/``emails``) together, as a list of text."""
    values = []
    single = check.text(obj.get(one), one, part)
    if single is not None:
        values.append(single)
    for raw in check.items(obj.get(many), many, part):
        text = check.text(raw, many, part)
        if text is not None and text not in values:
            values.append(text)
    return values


def _json_account(raw: Any, check: Checker, part: str, region: str) -> ReportedAccount | None:
    obj = check.obj(raw, "the account", part)
    if obj is None:
        return None
    account = ReportedAccount(
        platform=check.text(obj.get("platform"), "platform", part),
        user_id=check.text(obj.get("user_id"), "user_id", part),
        screen_name=check.text(obj.get("username"), "username", part),
        display_name=check.text(obj.get("display_name"), "display_name", part),
        profile_url=check.text(obj.get("profile_url"), "profile_url", part),
        emails=_texts(obj, "email", "emails", check, part),
        phones=[phone(text, region) for text in _texts(obj, "phone", "phones", check, part)],
    )
    if account.is_empty():
        check.add(part, "the account has no user_id, username, phone or email; left out")
        return None
    return account


def _json_file(raw: Any, check: Checker, part: str) -> ReportedFile | None:
    obj = check.obj(raw, "the file", part)
    if obj is None:
        return None
    file = ReportedFile(
        file_name=check.text(obj.get("name"), "name", part),
        md5=check.hash(MD5, obj.get("md5"), "md5", part),
        sha1=check.hash(SHA1, obj.get("sha1"), "sha1", part),
        sha256=check.hash(SHA256, obj.get("sha256"), "sha256", part),
    )
    labels = obj.get("classification")
    for label in check.items([labels] if isinstance(labels, str) else labels, "classification"):
        text = check.text(label, "classification", part)
        if text is not None:
            file.classification.append(text)
    if not (file.has_hash() or file.file_name):
        check.add(part, "the file has neither a valid hash nor a name; left out")
        return None
    return file


def _json_ip(raw: Any, check: Checker, part: str) -> IpCapture | None:
    obj = check.obj(raw, "the IP entry", part)
    if obj is None:
        return None
    ip = check.ip(obj.get("ip"), "ip", part)
    if ip is None:
        return None
    return IpCapture(
        ip=ip,
        at=check.time(obj.get("at"), "at", part),
        port=check.port(obj.get("port"), "port", part),
        event=check.text(obj.get("event"), "event", part),
    )


# --- CSV ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Group:
    """The rows of one reference, gathered as the file is read."""

    referral: Referral
    first_row: int
    rows: list[int] = field(default_factory=list)
    problems: list[ReferralProblem] = field(default_factory=list)
    source_row: int | None = None
    received_row: int | None = None


def _rows_text(rows: list[int]) -> str:
    """``[2, 3, 4, 9]`` -> ``"rows 2-4, 9"``: where a referral's rows were."""
    spans: list[str] = []
    start = previous = rows[0]
    for row in [*rows[1:], None]:
        if row is not None and row == previous + 1:
            previous = row
            continue
        spans.append(str(start) if start == previous else f"{start}-{previous}")
        if row is not None:
            start = previous = row
    return ("row " if len(rows) == 1 else "rows ") + ", ".join(spans)


def read_alert_csv(stream: BinaryIO, *, region: str = DEFAULT_REGION) -> Iterator[Event]:
    """Each reference of an alert CSV file as one referral (see the module documentation).

    Rows of one reference may be anywhere in the file, so the whole file is read before
    the first referral is yielded (alerts are small). Referrals and problems then come in
    the order of their first row.
    """
    groups: dict[str, _Group] = {}
    loose: list[tuple[int, ReferralProblem]] = []  # problems of rows with no referral
    row_number = 1
    try:
        reader = csv.reader(codecs.iterdecode(stream, "utf-8-sig"), strict=True)
        header_row = next(reader, None)
        if header_row is None:
            yield ReferralProblem("row 1", "the file is empty: no header, no rows")
            return
        header = [cell.strip().lower() for cell in header_row]
        missing = sorted(CSV_REQUIRED - set(header))
        if missing:
            yield ReferralProblem(
                "row 1",
                f"the header lacks {', '.join(missing)}; an alert CSV starts with "
                f"{','.join(CSV_HEADER)}",
            )
            return
        for cells in reader:
            row_number += 1
            if not any(cell.strip() for cell in cells):
                continue
            where = f"row {row_number}"
            if len(cells) > len(header):
                loose.append(
                    (
                        row_number,
                        ReferralProblem(
                            where,
                            f"the row has {len(cells)} fields but the header {len(header)} "
                            "(a comma in an unquoted value?); left out",
                        ),
                    )
                )
                continue
            row = dict(zip(header, (cell.strip() for cell in cells), strict=False))
            problem = _csv_row(row, row_number, groups, region)
            if problem is not None:
                loose.append((row_number, problem))
    except (UnicodeDecodeError, csv.Error) as exc:
        damage = (
            "the file is not UTF-8 text here"
            if isinstance(exc, UnicodeDecodeError)
            else f"the CSV ends or is damaged here ({exc})"
        )
        loose.append(
            (
                row_number + 1,
                ReferralProblem(
                    f"row {row_number + 1}",
                    f"{damage}; reading stopped, the rows before it were read",
                ),
            )
        )
    except OSError as exc:
        loose.append(
            (
                row_number + 1,
                ReferralProblem(
                    f"row {row_number + 1}",
                    f"the file could not be read further ({exc.strerror or exc}); the rows "
                    "before it were read",
                ),
            )
        )
    yield from _csv_results(groups, loose)


def _csv_results(
    groups: dict[str, _Group], loose: list[tuple[int, ReferralProblem]]
) -> Iterator[Event]:
    ordered: list[tuple[int, int, list[Event]]] = []
    for group in groups.values():
        if group.source_row is None:
            group.problems.insert(
                0,
                ReferralProblem(
                    group.referral.where, "no row of this reference gives a source; read as 'other'"
                ),
            )
        ordered.append((group.first_row, 0, [group.referral, *group.problems]))
    ordered.extend((row, 1, [problem]) for row, problem in loose)
    ordered.sort(key=lambda entry: (entry[0], entry[1]))
    count = 0
    for _row, _kind, events in ordered:
        for event in events:
            count += isinstance(event, Referral)
            yield event
    logger.info("read %d alert(s) from CSV", count)


def _csv_row(
    row: dict[str, str], number: int, groups: dict[str, _Group], region: str
) -> ReferralProblem | None:
    """Adds one data row to its reference's referral; a problem if the row is unusable."""
    where = f"row {number}"
    reference = row.get("reference") or None
    if reference is None:
        return ReferralProblem(
            where, "the row has no reference, so it belongs to no alert; left out"
        )
    group = groups.get(reference)
    if group is None:
        group = _Group(Referral(source="other", where=where, external_id=reference), number)
        groups[reference] = group
    group.rows.append(number)
    group.referral.where = _rows_text(group.rows)
    check = Checker(where)
    _csv_header_fields(row, group, check, number)
    _csv_identifier(row, group.referral, check, region)
    group.problems.extend(check.problems)
    return None


def _csv_header_fields(row: dict[str, str], group: _Group, check: Checker, number: int) -> None:
    """``source`` and ``received``: the first row that gives one decides."""
    ref = group.referral
    source = row.get("source") or None
    if source is not None:
        if group.source_row is None:
            ref.source = _source(source, check)
            group.source_row = number
        elif _known_source(source) != ref.source:
            check.add(
                None,
                f"source {shown(source)} differs from row {group.source_row}'s "
                f"{ref.source!r}; the first is kept",
            )
    received = row.get("received") or None
    if received is not None:
        moment: datetime | None = check.time(received, "received")
        if moment is None:
            return
        if group.received_row is None:
            ref.received_at = moment
            group.received_row = number
        elif moment != ref.received_at:
            check.add(
                None,
                f"received {shown(received)} differs from row {group.received_row}'s; "
                "the first is kept",
            )


def _known_source(raw: str) -> str:
    lowered = raw.strip().lower()
    return lowered if lowered in SOURCES else "other"


def _csv_identifier(row: dict[str, str], ref: Referral, check: Checker, region: str) -> None:
    kind = (row.get("kind") or "").lower()
    value = row.get("value") or None
    if not kind:
        check.add(None, "the row has no kind; left out")
        return
    if kind not in KINDS:
        check.add(None, f"kind {shown(kind)} is not one of {', '.join(KINDS)}; left out")
        return
    if value is None:
        check.add(None, f"the {kind} row has no value; left out")
        return
    if kind in HASH_KINDS:
        algorithm = HASH_KINDS[kind]
        digest = check.hash(algorithm, value, kind, outcome="the row is left out")
        if digest is None:
            return
        ref.files.append(
            ReportedFile(
                md5=digest if algorithm == MD5 else None,
                sha1=digest if algorithm == SHA1 else None,
                sha256=digest if algorithm == SHA256 else None,
            )
        )
    elif kind == "ip":
        ip = check.ip(value, "ip")
        if ip is None:
            return
        ref.ip_captures.append(IpCapture(ip=ip, at=check.time(row.get("at") or None, "at")))
    else:
        platform = row.get("platform") or None
        if kind == "account_id":
            account = ReportedAccount(platform=platform, user_id=value)
        elif kind == "username":
            account = ReportedAccount(platform=platform, screen_name=value)
        elif kind == "phone":
            account = ReportedAccount(platform=platform, phones=[phone(value, region)])
        else:
            account = ReportedAccount(platform=platform, emails=[value])
        ref.accounts.append(account)
    note = row.get("note") or None
    if note is not None:
        ref.notes.append(f"{kind} {value}: {note}")
