"""How typed-in fields are tidied before they are stored."""

from __future__ import annotations


def one_line(value: str | None) -> str | None:
    """A name, station or label on one line with single spaces; blank means none."""
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None
