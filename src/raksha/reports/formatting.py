"""How values are written in every report, so the PDF, the HTML and the certificate say
the same thing in the same words (a court compares them side by side).

Times are stored in UTC; Indian courts read IST, so both are shown.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

IST: Final = timezone(timedelta(hours=5, minutes=30), "IST")
#: Match kinds the matcher stores that mean "a perceptual hash came close".
NEAR_KINDS: Final = frozenset({"pdq", "video", "frame"})
_SLUG_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


def as_utc(value: datetime | None) -> datetime | None:
    """An aware UTC time, whatever the database handed back (SQLite keeps no zone)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def fmt_time(value: datetime | None) -> str:
    """``2026-03-01 04:30:00 UTC (10:00 IST)``; an empty mark when unknown."""
    when = as_utc(value)
    if when is None:
        return "—"
    ist = when.astimezone(IST)
    same_day = ist.date() == when.date()
    ist_text = ist.strftime("%H:%M IST") if same_day else ist.strftime("%Y-%m-%d %H:%M IST")
    return f"{when.strftime('%Y-%m-%d %H:%M:%S')} UTC ({ist_text})"


def fmt_stamp(value: datetime) -> str:
    """A compact UTC time for file names: ``20260301T043000Z``."""
    when = as_utc(value)
    assert when is not None
    return when.strftime("%Y%m%dT%H%M%SZ")


def fmt_size(size: int | None) -> str:
    """Bytes exactly (a court compares exact sizes), with a rounded unit beside."""
    if size is None:
        return "—"
    if size < 1024:
        return f"{size:,} bytes"
    value = float(size)
    unit = "KiB"
    for unit in ("KiB", "MiB", "GiB", "TiB"):  # noqa: B007 - the unit the loop stops at
        value /= 1024
        if value < 1024:
            break
    return f"{size:,} bytes ({value:.1f} {unit})"


def fmt_share(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def match_words(match_kind: str) -> str:
    """``exact`` for equal cryptographic hashes, ``near`` for perceptual-hash matches."""
    return "near" if match_kind in NEAR_KINDS else "exact"


def text_or_dash(value: object) -> str:
    if value is None or value == "":
        return "—"
    return str(value)


def slug(name: str) -> str:
    """A file-system-safe form of a case or operation name (``FIR 1/2026`` -> ``FIR_1_2026``)."""
    cleaned = _SLUG_UNSAFE.sub("_", name.strip()).strip("._")
    return cleaned[:80] or "unnamed"
