"""vPDQ video signatures as Meta's vpdq tools write them: one text file per video, or a ZIP.

A video's vPDQ signature is the PDQ hash of frames sampled from it (one a second), one
line per frame, in one of the forms Meta's tools write:

* ``pdqhex,quality,timestamp`` (three fields);
* ``frame_number,quality,pdqhex,timestamp`` (the C++ ``vpdq-hash-video`` output);
* ``frame_number,pdqhex,quality,timestamp`` (what the Python binding's example prints).

The forms are told apart by which field holds 64 hex characters; each line is read by
its own form. Quality is an integer 0-100, the timestamp seconds (a float, >= 0).

The whole file is **one** :class:`ReferenceRecord` for the video: ``record_key`` is the
file name without its extension, ``hashes`` the distinct frame values (algorithm
``vpdq``) in the order they first appear, and ``extra`` holds ``media_kind`` ``"video"``,
``frame_count`` (valid frame lines, duplicates included) and ``vpdq_frames``
(``{pdqhex: [quality, timestamp]}``, from a value's first appearance). A bad line is a
rejection with its line number and the video is still read; a file with no usable frame
is a rejection and no record.

A ZIP of such files (members ``*.txt`` / ``*.vpdq``) is one record per member, keyed by
the member's stem. Members larger than :data:`MAX_MEMBER_BYTES` uncompressed, encrypted,
damaged or of another type are skipped with a rejection; the rest are still read.

:func:`write_vpdq_zip` writes such a ZIP back (``pdqhex,quality,timestamp`` lines in
timestamp order), which this reader reads into the same frames.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO, Final

from raksha.errors import InputFormatError
from raksha.hashes import VPDQ
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo, excerpt
from raksha.hashsets.text import content_lines

FORMAT_NAME: Final = "vpdq"
#: Largest ZIP member read (uncompressed); bigger ones are skipped with a rejection.
MAX_MEMBER_BYTES: Final = 64 * 1024 * 1024
#: Most distinct frames kept for one video (over 27 hours at one frame a second).
MAX_FRAMES: Final = 100_000
#: Longest line read whole; a frame line is under 100 characters.
MAX_LINE: Final = 4096
#: Longest ``record_key`` the store keeps.
MAX_KEY: Final = 200
MEMBER_SUFFIXES: Final = (".txt", ".vpdq")
_ZIP_MAGIC: Final = b"PK\x03\x04"
_SNIFF_LINES: Final = 20
_SNIFF_READ: Final = 8192

_HEX64: Final = re.compile(r"[0-9A-Fa-f]{64}")
_INT: Final = re.compile(r"[+-]?\d+")
_H = r"\s*[0-9A-Fa-f]{64}\s*"
_Q = r"\s*\d{1,3}\s*"
_N = r"\s*\d+\s*"
_T = r"\s*\d+(?:\.\d*)?(?:[eE][+-]?\d+)?\s*"
#: The three line forms, as the sniffer checks them.
_FRAME_LINE: Final = re.compile(rf"(?:{_H},{_Q},{_T}|{_N},{_Q},{_H},{_T}|{_N},{_H},{_Q},{_T})$")
_FORMS: Final = "'pdqhex,quality,timestamp' or 'frame,quality,pdqhex,timestamp'"


def _content_lines(stream: IO[str]) -> Iterator[tuple[int, str | None]]:
    """``(line number, stripped text)`` for lines with content; ``None`` when over-long."""
    for number, text in content_lines(stream, MAX_LINE):
        yield number, text.strip() if text is not None else None


def _head_lines(head: bytes) -> list[str]:
    """The first content lines of a text head (none for binary data)."""
    if b"\x00" in head:
        return []
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines.pop()  # cut off by the end of the head
    content = [ln.strip() for ln in lines]
    return [ln for ln in content if ln and not ln.startswith("#")][:_SNIFF_LINES]


def _looks_like_frames(lines: list[str]) -> bool:
    """The first content line is a frame line, and so are most of the others."""
    return (
        bool(lines)
        and bool(_FRAME_LINE.match(lines[0]))
        and sum(1 for ln in lines if _FRAME_LINE.match(ln)) * 2 > len(lines)
    )


def _quality(text: str) -> int | str:
    if not _INT.fullmatch(text):
        return f"quality {excerpt(text)!r} is not a whole number"
    value = int(text)
    if not 0 <= value <= 100:
        return f"quality {value} is outside 0-100"
    return value


def _timestamp(text: str) -> float | str:
    try:
        value = float(text)
    except ValueError:
        return f"timestamp {excerpt(text)!r} is not a number of seconds"
    if not math.isfinite(value) or value < 0:
        return f"timestamp {excerpt(text)!r} is not a number of seconds >= 0"
    return value


def parse_frame_line(text: str) -> tuple[str, int, float] | str:
    """``(pdqhex, quality, seconds)`` of one frame line, or why it cannot be used."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 3:
        pdq, quality, seconds = parts
        if not _HEX64.fullmatch(pdq):
            return f"the first of three fields must be a PDQ hash of 64 hex characters ({_FORMS})"
    elif len(parts) == 4:
        frame = parts[0]
        if _HEX64.fullmatch(parts[2]):
            quality, pdq, seconds = parts[1], parts[2], parts[3]
        elif _HEX64.fullmatch(parts[1]):
            pdq, quality, seconds = parts[1], parts[2], parts[3]
        else:
            return f"no field is a PDQ hash of 64 hex characters ({_FORMS})"
        if not frame.isascii() or not frame.isdigit():
            return f"frame number {excerpt(frame)!r} is not a whole number >= 0"
    else:
        return f"expected {_FORMS}; found {len(parts)} comma-separated field(s)"
    checked_quality = _quality(quality)
    if isinstance(checked_quality, str):
        return checked_quality
    checked_seconds = _timestamp(seconds)
    if isinstance(checked_seconds, str):
        return checked_seconds
    return pdq.lower(), checked_quality, checked_seconds


def record_key_for(name: str) -> str:
    """The key of the video a signature file describes: its name without the extension."""
    return (PurePosixPath(name.replace("\\", "/")).stem or name)[:MAX_KEY]


def _signature(
    stream: IO[str], key: str, where: str, prefix: str
) -> Iterator[ReferenceRecord | Rejection]:
    """One video's lines: rejections as they come, then its record (if any frame was read)."""
    frames: dict[str, list[float | int]] = {}
    count = 0
    dropped = 0
    for number, text in _content_lines(stream):
        line_where = f"{prefix}line {number}"
        if text is None:
            yield Rejection(line_where, f"the line is longer than {MAX_LINE} characters")
            continue
        parsed = parse_frame_line(text)
        if isinstance(parsed, str):
            yield Rejection(line_where, parsed, excerpt(text))
            continue
        pdq, quality, seconds = parsed
        count += 1
        if pdq in frames:
            continue
        if len(frames) >= MAX_FRAMES:
            dropped += 1
            continue
        frames[pdq] = [quality, seconds]
    if dropped:
        yield Rejection(
            where,
            f"{dropped:,} distinct frame(s) after the first {MAX_FRAMES:,} were left out",
        )
    if not frames:
        yield Rejection(where, "the signature has no usable frame, so no video was imported")
        return
    yield ReferenceRecord(
        hashes=[(VPDQ, pdq) for pdq in frames],
        where=where,
        record_key=key,
        extra={"media_kind": "video", "frame_count": count, "vpdq_frames": frames},
    )


def _is_zip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(_ZIP_MAGIC)) == _ZIP_MAGIC


def _ignored_member(info: zipfile.ZipInfo) -> bool:
    """Directories and the resource-fork copies macOS adds to its ZIPs."""
    name = info.filename.replace("\\", "/")
    return (
        info.is_dir() or name.startswith("__MACOSX/") or PurePosixPath(name).name.startswith("._")
    )


def _is_signature_member(name: str) -> bool:
    return name.lower().endswith(MEMBER_SUFFIXES)


#: What a damaged or unusual ZIP member can raise while it is read.
_MEMBER_ERRORS: Final = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,  # an encrypted member
)


class VpdqReader:
    """vPDQ signatures (one text file per video, or a ZIP of them)."""

    NAME = FORMAT_NAME
    description = (
        "vPDQ video signatures: 'pdqhex,quality,timestamp' (or vpdq-hash-video's "
        "'frame,quality,pdqhex,timestamp') lines, one file per video, or a ZIP of them"
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        """Frame lines first; or a ZIP whose first member is a .txt/.vpdq of frame lines."""
        if head.startswith(_ZIP_MAGIC):
            return self._sniff_zip(path)
        return _looks_like_frames(_head_lines(head))

    @staticmethod
    def _sniff_zip(path: Path) -> bool:
        try:
            with zipfile.ZipFile(path) as archive:
                first = next((i for i in archive.infolist() if not _ignored_member(i)), None)
                if first is None or not _is_signature_member(first.filename):
                    return False
                with archive.open(first) as member:
                    head = member.read(_SNIFF_READ)
        except (*_MEMBER_ERRORS, KeyError):
            return False
        return _looks_like_frames(_head_lines(head))

    def read(self, path: Path) -> Iterator[ParseEvent]:
        try:
            zipped = _is_zip(path)
        except OSError as exc:
            raise InputFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if zipped:
            yield from self._read_zip(path)
            return
        yield SetInfo(self.NAME, {"container": "file"})
        with path.open("r", encoding="utf-8-sig", errors="replace", newline=None) as f:
            yield from _signature(f, record_key_for(path.name), "file", "")

    def _read_zip(self, path: Path) -> Iterator[ParseEvent]:
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise InputFormatError(f"{path} is not a readable ZIP of vPDQ files: {exc}") from exc
        with archive:
            members = [i for i in archive.infolist() if not _ignored_member(i)]
            yield SetInfo(self.NAME, {"container": "zip", "members": len(members)})
            keys: set[str] = set()
            for info in members:
                name = info.filename
                where = f"member {excerpt(name)}"
                if not _is_signature_member(name):
                    yield Rejection(where, "not a vPDQ signature (.txt or .vpdq), skipped")
                    continue
                if info.file_size > MAX_MEMBER_BYTES:
                    yield Rejection(
                        where,
                        f"{info.file_size:,} bytes uncompressed, over the "
                        f"{MAX_MEMBER_BYTES // (1024 * 1024)} MiB a member may have; skipped",
                    )
                    continue
                key = record_key_for(name)
                if key in keys:  # same stem in two folders: keep them apart
                    key = name.replace("\\", "/").rsplit(".", 1)[0][-MAX_KEY:]
                keys.add(key)
                yield from self._read_member(archive, info, key, where)

    @staticmethod
    def _read_member(
        archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, where: str
    ) -> Iterator[ParseEvent]:
        events: list[ReferenceRecord | Rejection] = []
        try:
            with (
                archive.open(info) as raw,
                io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace") as text,
            ):
                for event in _signature(text, key, where, f"{where} "):
                    if isinstance(event, Rejection):
                        yield event
                    else:
                        events.append(event)
        except _MEMBER_ERRORS as exc:
            yield Rejection(where, f"the member cannot be read, so it was skipped: {exc}")
            return
        yield from events  # the record only once the whole member read cleanly


def _frame_meta(entry: Any, index: int) -> tuple[int, float]:
    """Quality and seconds from an ``extra["vpdq_frames"]`` entry (100 / position if unusable)."""
    quality, seconds = 100, float(index)
    if isinstance(entry, list | tuple) and len(entry) >= 2:
        q, t = entry[0], entry[1]
        if isinstance(q, int) and not isinstance(q, bool) and 0 <= q <= 100:
            quality = q
        if isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t) and t >= 0:
            seconds = float(t)
    return quality, seconds


def signature_frames(record: ReferenceRecord) -> list[tuple[str, int, float]]:
    """A record's frames ``(pdqhex, quality, seconds)`` in timestamp order.

    The frames are the record's ``vpdq`` hashes, plus any other frame its
    ``extra["vpdq_frames"]`` lists (a frame two videos of one set share is stored once,
    under one of them; the other video's signature still names it).
    """
    values = list(dict.fromkeys(v for a, v in record.hashes if a == VPDQ))
    if not values:
        return []
    stored = record.extra.get("vpdq_frames")
    meta: dict[Any, Any] = stored if isinstance(stored, dict) else {}
    seen = set(values)
    values += [
        v for v in meta if isinstance(v, str) and _HEX64.fullmatch(v) and v.lower() not in seen
    ]
    frames = [
        (value.lower(), *_frame_meta(meta.get(value), index)) for index, value in enumerate(values)
    ]
    order = sorted(range(len(frames)), key=lambda i: (frames[i][2], i))
    return [frames[i] for i in order]


def _seconds_text(seconds: float) -> str:
    """Three decimals as vpdq-hash-video writes them, more when they would lose precision."""
    text = f"{seconds:.3f}"
    return text if float(text) == seconds else repr(seconds)


_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


def _member_name(key: str | None, number: int, used: set[str]) -> str:
    """``<record_key>.txt``, made safe as a file name and unique in the archive."""
    stem = _UNSAFE.sub("_", key or "").strip("._")[:MAX_KEY] or f"video-{number}"
    name, n = f"{stem}.txt", 1
    while name.lower() in used:
        n += 1
        name = f"{stem}-{n}.txt"
    used.add(name.lower())
    return name


def write_vpdq_zip(out: BinaryIO, records: Iterable[ReferenceRecord]) -> int:
    """Write a ZIP with one ``<record_key>.txt`` per video; returns the number of videos.

    Records without ``vpdq`` hashes are left out. Each member holds
    ``pdqhex,quality,timestamp`` lines in timestamp order (quality 100 and the frame's
    position as its timestamp when ``extra`` does not say). ``out`` need not be seekable.
    """
    count = 0
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            frames = signature_frames(record)
            if not frames:
                continue
            count += 1
            info = zipfile.ZipInfo(_member_name(record.record_key, count, used))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            body = "".join(f"{pdq},{q},{_seconds_text(t)}\n" for pdq, q, t in frames)
            archive.writestr(info, body.encode("ascii"))
    return count
