"""Reading the text a console form sends into the values the services take.

A browser sends every field as text, and an empty field as ``""``; these turn that into
``None``, an ``int``, a UTC time or a list, and refuse what cannot be read with a
sentence that names the field (a :class:`~raksha.errors.UsageError`, shown on the page).
"""

from __future__ import annotations

from datetime import UTC, datetime

from raksha.errors import UsageError


def text_or_none(value: str | None) -> str | None:
    """The field's text without surrounding blanks, or ``None`` when it was left empty."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def optional_int(value: str | None, field: str) -> int | None:
    """A whole number typed into ``field`` (``#12`` is 12), or ``None`` when empty."""
    text = text_or_none(value)
    if text is None:
        return None
    text = text.removeprefix("#").strip()
    if not text.isdigit():
        raise UsageError(f"{field}: {value!r} is not a number; give the number alone, e.g. 12")
    return int(text)


def optional_time(value: str | None, field: str) -> datetime | None:
    """A time from a ``datetime-local`` field (or ISO 8601 text), taken as UTC when it
    names no zone (the console shows every time in UTC); ``None`` when empty."""
    text = text_or_none(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{field}: {value!r} is not a date and time; use YYYY-MM-DD HH:MM (UTC)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def word_list(value: str | None) -> list[str]:
    """Comma- or line-separated entries (names, cases), blanks dropped."""
    if not value:
        return []
    parts = value.replace("\n", ",").split(",")
    return [p.strip() for p in parts if p.strip()]
