"""Checks and conversions every referral reader shares, and the problems they report.

Referral files come from many hands (NCMEC, platforms, liaison officers filling in a
spreadsheet), so every value is checked before it becomes part of a record. The checks
live here so that the same value is judged the same way in every format: a time is ISO
8601 or epoch milliseconds in any reader, an IP address is whatever :mod:`ipaddress`
accepts, a hash is whatever :func:`raksha.hashes.normalize_hash` accepts.

:class:`Checker` collects the problems of one record: each check returns the clean value
or ``None`` and, when it had to drop something, notes a :class:`ReferralProblem` naming
the part of the record and what was wrong. The reader yields the record and then those
problems, so one bad hash never costs the rest of a report.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, BinaryIO, Final, Protocol

from raksha.chats.identity import clean_text, e164
from raksha.errors import InvalidHashError
from raksha.hashes import normalize_hash
from raksha.referrals.records import ReferralProblem, ReportedPhone

logger = logging.getLogger(__name__)

BOM: Final = b"\xef\xbb\xbf"
_SHOWN_LIMIT: Final = 60
_TRUE: Final = frozenset({"true", "yes", "1", "y"})
_FALSE: Final = frozenset({"false", "no", "0", "n"})
_EPOCH_DIGITS: Final = re.compile(r"-?\d+")
_ZONE_WORDS: Final = (" UTC", " GMT")
_MAX_PORT: Final = 65535


def shown(raw: object) -> str:
    """A value as a problem quotes it: short, so a reason stays one readable line."""
    text = raw if isinstance(raw, str) else repr(raw)
    if len(text) > _SHOWN_LIMIT:
        text = text[: _SHOWN_LIMIT - 1] + "…"
    return repr(text) if isinstance(raw, str) else text


def json_kind(raw: object) -> str:
    """The JSON name of a value's type, for "is a list, not an object" reasons."""
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "boolean"
    if isinstance(raw, int | float | Decimal):
        return "number"
    if isinstance(raw, str):
        return "string"
    if isinstance(raw, list):
        return "list"
    if isinstance(raw, dict):
        return "object"
    return type(raw).__name__


def parse_time(raw: object) -> datetime:
    """An aware UTC datetime from ISO 8601 text or epoch milliseconds; ``ValueError`` else.

    Text without a zone is taken as UTC: NCMEC and the alert formats write UTC, and
    guessing the reader's local zone would shift every time by the office's offset.
    Numbers (and all-digit text) are milliseconds since 1970-01-01 UTC, as NCMEC's
    JSON writes them.
    """
    if isinstance(raw, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(raw, int | float | Decimal):
        return _from_epoch_ms(float(raw))
    if not isinstance(raw, str):
        raise ValueError(f"a {json_kind(raw)} is not a time")
    text = raw.strip()
    if _EPOCH_DIGITS.fullmatch(text):
        return _from_epoch_ms(float(text))
    for word in _ZONE_WORDS:
        if text.upper().endswith(word):
            text = text[: -len(word)].rstrip() + "+00:00"
            break
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _from_epoch_ms(value: float) -> datetime:
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError("the number is out of range for a time") from exc


def parse_ip(raw: str) -> str:
    """The canonical text of an IPv4 or IPv6 address; ``ValueError`` if it is not one.

    Brackets around an IPv6 address (``[2001:db8::1]``, as URLs and logs write it) are
    removed; anything else (a port, a host name, leading zeros) is refused rather than
    guessed at, because a wrong IP address sends a subscriber request to the wrong person.
    """
    text = raw.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return str(ipaddress.ip_address(text))


def phone(raw: str, region: str, calling_code: str | None = None) -> ReportedPhone:
    """A phone number as given, with its E.164 form where it parses.

    ``calling_code`` (NCMEC's and the XML's ``countryCallingCode``) is put in front of a
    number written without one, so ``9847012345`` with code ``91`` becomes
    ``+919847012345`` whatever the default region.
    """
    text = clean_text(raw)
    # "(202) 555-0143": the area code in brackets is common in US reports, and the
    # shared E.164 check wants a number that starts with a digit or "+".
    digits = text.replace("(", " ").replace(")", " ").strip()
    code = (calling_code or "").strip().lstrip("+")
    if code.isdigit() and not digits.startswith(("+", "00")):
        digits = f"+{code} {digits}"
    return ReportedPhone(text, e164(digits, region))


class ByteSource(Protocol):
    """Anything with a binary ``read``: a file, a ``BytesIO``, another reader here."""

    def read(self, size: int = -1, /) -> bytes: ...


class PrefixedReader:
    """A binary stream with some bytes already read put back in front of it.

    Readers look at a file's first bytes (a byte-order mark, a DTD) before parsing; the
    caller's stream need not be seekable, so those bytes are handed to the parser first.
    """

    def __init__(self, prefix: bytes, stream: ByteSource) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size < 0:
                data = self._prefix + self._stream.read()
                self._prefix = b""
                return data
            data, self._prefix = self._prefix[:size], self._prefix[size:]
            return data
        return self._stream.read(size)


def skip_bom(stream: BinaryIO) -> PrefixedReader:
    """``stream`` without a leading UTF-8 byte-order mark (spreadsheet exports add one)."""
    head = stream.read(len(BOM))
    return PrefixedReader(b"" if head == BOM else head, stream)


@dataclass(slots=True)
class Checker:
    """Checks the values of one record and collects what it had to leave out.

    ``where`` names the record (``"report 3"``); ``part`` arguments name a piece of it
    (``"uploaded file 2"``) and are joined to ``where`` in the problem.
    """

    where: str
    problems: list[ReferralProblem] = field(default_factory=list)

    def add(self, part: str | None, reason: str) -> None:
        where = self.where if not part else f"{self.where}, {part}"
        self.problems.append(ReferralProblem(where, reason))

    def text(self, raw: object, label: str, part: str | None = None) -> str | None:
        """Stripped text (numbers become their digits); ``None`` for absent or empty."""
        if raw is None:
            return None
        if isinstance(raw, str):
            return raw.strip() or None
        if isinstance(raw, bool):
            self.add(part, f"{label} is a boolean, not text; left out")
            return None
        if isinstance(raw, int):
            return str(raw)
        if isinstance(raw, float | Decimal):
            value = Decimal(str(raw))
            return str(int(value)) if value == value.to_integral_value() else str(raw)
        self.add(part, f"{label} is a {json_kind(raw)}, not text; left out")
        return None

    def value_text(self, raw: object, label: str, part: str | None = None) -> str | None:
        """Text given either plainly or as ``{"value": ...}`` (NCMEC wraps many fields)."""
        if isinstance(raw, dict):
            return self.text(raw.get("value"), f"{label}.value", part)
        return self.text(raw, label, part)

    def obj(self, raw: object, label: str, part: str | None = None) -> dict[str, Any] | None:
        """A JSON object, or ``None`` (noted) when the value is of another type."""
        if raw is None:
            return None
        if isinstance(raw, dict):
            return raw
        self.add(part, f"{label} is a {json_kind(raw)}, not an object; left out")
        return None

    def items(self, raw: object, label: str, part: str | None = None) -> list[Any]:
        """A JSON list; one object where a list belongs is taken as a list of one.

        Converters that turn XML into JSON write a single child as an object and many as
        a list, so both shapes occur for the same field.
        """
        if raw is None:
            return []
        if isinstance(raw, list):
            return raw
        if isinstance(raw, dict):
            return [raw]
        self.add(part, f"{label} is a {json_kind(raw)}, not a list; left out")
        return []

    def wrapped_items(
        self, raw: object, inner: str, label: str, part: str | None = None
    ) -> list[Any]:
        """NCMEC's ``{"emails": {"emails": [...]}}`` shape, or the bare list."""
        if isinstance(raw, dict) and inner in raw:
            return self.items(raw[inner], f"{label}.{inner}", part)
        return self.items(raw, label, part)

    def time(self, raw: object, label: str, part: str | None = None) -> datetime | None:
        """An aware UTC time (see :func:`parse_time`), ``None`` (noted) when unreadable."""
        if raw is None or raw == "":
            return None
        try:
            return parse_time(raw)
        except ValueError:
            self.add(
                part,
                f"{label} {shown(raw)} is not a date and time (ISO 8601 or epoch "
                "milliseconds); left out",
            )
            return None

    def hash(
        self,
        algorithm: str,
        raw: object,
        label: str,
        part: str | None = None,
        *,
        outcome: str = "the file is kept without it",
    ) -> str | None:
        """A hash in canonical form, ``None`` (noted, with ``outcome``) when it is not valid."""
        text = self.text(raw, label, part)
        if text is None:
            return None
        try:
            return normalize_hash(algorithm, text)
        except InvalidHashError as exc:
            self.add(
                part,
                f"{label} {shown(text)} is not a valid {algorithm.upper()} ({exc}); {outcome}",
            )
            return None

    def ip(self, raw: object, label: str, part: str | None = None) -> str | None:
        """A canonical IP address, ``None`` (noted) when the value is not one."""
        text = self.text(raw, label, part)
        if text is None:
            self.add(part, f"{label} is missing; the IP capture is left out")
            return None
        try:
            return parse_ip(text)
        except ValueError:
            self.add(
                part, f"{label} {shown(text)} is not an IP address; the IP capture is left out"
            )
            return None

    def port(self, raw: object, label: str, part: str | None = None) -> int | None:
        """A TCP/UDP port (0-65535), ``None`` (noted) when the value is not one."""
        if raw is None or raw == "":
            return None
        value: int | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        elif isinstance(raw, str) and raw.strip().isdigit():
            value = int(raw.strip())
        if value is None or not 0 <= value <= _MAX_PORT:
            self.add(part, f"{label} {shown(raw)} is not a port number; left out")
            return None
        return value

    def flag(self, raw: object, label: str, part: str | None = None) -> bool | None:
        """A yes/no value given as a boolean, ``"true"``/``"false"``, or 1/0."""
        if raw is None or isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str):
            lowered = raw.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            if not lowered:
                return None
        self.add(part, f"{label} {shown(raw)} is neither true nor false; left out")
        return None
