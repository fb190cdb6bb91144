"""WhatsApp "Export chat" files built by code for the reader tests.

Every line is written from a datetime and a style naming one header form seen in real
exports (Android 12-hour with U+202F, 24-hour, ``p.m.``, dotted with seconds, iOS 24- and
12-hour). Text is bland and synthetic; attachments are a few random bytes.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

LRM = "\u200e"
NNBSP = "\u202f"

#: Header styles: how each one writes a date and time.
STYLES = (
    "android12",
    "android12_nnbsp",
    "android24",
    "android_pm_dots",
    "dotted",
    "ios24",
    "ios12",
)


def _ymd(when: datetime, *, month_first: bool, four_digit_year: bool, sep: str = "/") -> str:
    year = f"{when.year:04d}" if four_digit_year else f"{when.year % 100:02d}"
    first, second = (when.month, when.day) if month_first else (when.day, when.month)
    if sep == ".":
        return f"{first:02d}.{second:02d}.{year}"
    return f"{first}{sep}{second}{sep}{year}"


def _twelve(when: datetime) -> tuple[int, str]:
    hour = when.hour % 12 or 12
    return hour, "am" if when.hour < 12 else "pm"


def header(when: datetime, style: str, *, month_first: bool = False) -> str:
    """The date header of one line in ``style``, ending where the sender begins."""
    if style == "android12":
        hour, half = _twelve(when)
        day = _ymd(when, month_first=month_first, four_digit_year=False)
        return f"{day}, {hour}:{when.minute:02d} {half} - "
    if style == "android12_nnbsp":
        hour, half = _twelve(when)
        day = _ymd(when, month_first=month_first, four_digit_year=False)
        return f"{day}, {hour}:{when.minute:02d}{NNBSP}{half} - "
    if style == "android24":
        day = _ymd(when, month_first=month_first, four_digit_year=True)
        return f"{day}, {when.hour:02d}:{when.minute:02d} - "
    if style == "android_pm_dots":
        hour, half = _twelve(when)
        day = _ymd(when, month_first=month_first, four_digit_year=False)
        return f"{day}, {hour}:{when.minute:02d} {half[0]}.m. - "
    if style == "dotted":
        day = _ymd(when, month_first=month_first, four_digit_year=False, sep=".")
        return f"{day} {when.hour:02d}.{when.minute:02d}.{when.second:02d}: "
    if style == "ios24":
        day = _ymd(when, month_first=month_first, four_digit_year=True)
        return f"{LRM}[{day}, {when.hour:02d}:{when.minute:02d}:{when.second:02d}] "
    if style == "ios12":
        hour, half = _twelve(when)
        day = _ymd(when, month_first=month_first, four_digit_year=False)
        return f"[{day}, {hour}:{when.minute:02d}:{when.second:02d}{NNBSP}{half.upper()}] "
    raise ValueError(f"unknown style {style!r}")


def line(
    when: datetime, sender: str | None, text: str, style: str, *, month_first: bool = False
) -> str:
    """One chat line: a message from ``sender``, or a system line when sender is None."""
    head = header(when, style, month_first=month_first)
    return f"{head}{text}" if sender is None else f"{head}{sender}: {text}"


def chat_bytes(lines: Iterable[str], *, bom: bool = False, crlf: bool = False) -> bytes:
    """The bytes of a chat file made of ``lines`` (UTF-8, one line break after each)."""
    ending = "\r\n" if crlf else "\n"
    data = "".join(f"{text}{ending}" for text in lines).encode("utf-8")
    return b"\xef\xbb\xbf" + data if bom else data


def write_folder(root: Path, files: Mapping[str, bytes]) -> Path:
    """An export folder holding ``files`` (names relative to it); returns the folder."""
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def write_zip(path: Path, files: Mapping[str, bytes]) -> Path:
    """A zip export holding ``files`` (as the iOS share sheet writes it); returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def media_bytes(seed: int, size: int = 64) -> bytes:
    """A few bytes standing in for an attachment (content does not matter to the reader)."""
    return bytes((seed * 31 + i * 7) % 256 for i in range(size))


def write_long_chat(path: Path, count: int, start: datetime) -> Path:
    """An Android 24-hour chat of ``count`` messages from three people, written in a stream.

    Each message is a minute after the one before, so every message has its own time.
    """
    senders = ("Arun", "Meena", "Ravi")
    with path.open("w", encoding="utf-8") as out:
        for number in range(count):
            when = start + timedelta(minutes=number)
            out.write(line(when, senders[number % 3], f"message {number}", "android24") + "\n")
    return path
