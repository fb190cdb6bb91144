"""Carving JPEG and PNG pictures out of space no file claims.

When a deleted file's directory entry is overwritten, its bytes can still lie in
unallocated space. The carver looks only there (the media minus every byte range a
listed file occupies), finds picture signatures, and follows each format's structure to
its end: JPEG marker segments to the start of scan, then the entropy-coded data to the
end-of-image marker (across further scans of a progressive JPEG); PNG chunks, each with
its CRC checked, to ``IEND``. A candidate whose structure breaks off is dropped; a
picture found is reported with its absolute byte offset in the media.
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from raksha.sources.base import MIB
from raksha.sources.image_media import Media

logger = logging.getLogger(__name__)

SCAN_CHUNK = 8 * MIB
MAX_CARVE = 64 * MIB
_READ = 256 * 1024
_JPEG_SOI = b"\xff\xd8\xff"
_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_SIGNATURES = ((_JPEG_SOI, "jpeg"), (_PNG_SIG, "png"))
_SIG_OVERLAP = max(len(sig) for sig, _ in _SIGNATURES) - 1


@dataclass(slots=True, frozen=True)
class Carved:
    """One picture found in unallocated space: where it starts, its format, its length."""

    offset: int
    kind: str
    length: int


def free_ranges(size: int, used: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The (start, end) ranges of ``[0, size)`` that no (offset, length) in ``used`` covers."""
    spans = sorted((max(0, o), min(size, o + n)) for o, n in used if n > 0)
    out: list[tuple[int, int]] = []
    cursor = 0
    for start, end in spans:
        if start > cursor:
            out.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < size:
        out.append((cursor, size))
    return out


class _Reader:
    """Sequential reads over the media, buffered, bounded by an end offset."""

    def __init__(self, media: Media, offset: int, end: int) -> None:
        self._media = media
        self._end = end
        self._buf = b""
        self._buf_start = offset
        self.pos = offset

    def take(self, n: int) -> bytes | None:
        """The next ``n`` bytes, or None when they run past the end."""
        if self.pos + n > self._end:
            return None
        rel = self.pos - self._buf_start
        if rel < 0 or rel + n > len(self._buf):
            self._buf_start = self.pos
            want = max(n, min(_READ, self._end - self.pos))
            self._buf = self._media.read(self.pos, want)
            rel = 0
            if len(self._buf) < n:
                return None
        data = self._buf[rel : rel + n]
        self.pos += n
        return data

    def find_marker(self) -> int | None:
        """Advance through JPEG entropy-coded data to the next real marker; its byte or None."""
        while self.pos < self._end:
            rel = self.pos - self._buf_start
            if rel < 0 or rel >= len(self._buf) - 1:
                self._buf_start = self.pos
                self._buf = self._media.read(self.pos, min(_READ, self._end - self.pos))
                if len(self._buf) < 2:
                    return None
                rel = 0
            i = self._buf.find(b"\xff", rel, len(self._buf) - 1)
            if i < 0:
                self.pos = self._buf_start + len(self._buf) - 1
                continue
            marker = self._buf[i + 1]
            self.pos = self._buf_start + i + 2
            if marker == 0x00 or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                if marker == 0xFF:
                    self.pos -= 1  # fill byte: the next 0xFF may start the marker
                continue
            return marker
        return None


def jpeg_length(media: Media, offset: int, limit: int) -> int | None:
    """The length of a structurally complete JPEG starting at ``offset``, or None."""
    end = min(media.size, offset + limit)
    r = _Reader(media, offset, end)
    if r.take(2) != b"\xff\xd8":
        return None
    seen_frame = False
    while True:
        head = r.take(2)
        if head is None or head[0] != 0xFF:
            return None
        marker = head[1]
        while marker == 0xFF:  # fill bytes before a marker
            nxt = r.take(1)
            if nxt is None:
                return None
            marker = nxt[0]
        if marker == 0xD9:
            return r.pos - offset if seen_frame else None
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        raw = r.take(2)
        if raw is None:
            return None
        (length,) = struct.unpack(">H", raw)
        if length < 2:
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            seen_frame = True
        if r.take(length - 2) is None:
            return None
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            if not seen_frame:
                return None
            found = r.find_marker()
            if found is None:
                return None
            if found == 0xD9:
                return r.pos - offset
            r.pos -= 2  # let the loop read this marker as a segment


def png_length(media: Media, offset: int, limit: int) -> int | None:
    """The length of a PNG starting at ``offset`` whose chunks all check out, or None."""
    end = min(media.size, offset + limit)
    r = _Reader(media, offset, end)
    if r.take(8) != _PNG_SIG:
        return None
    first = True
    while True:
        head = r.take(8)
        if head is None:
            return None
        length, ctype = struct.unpack(">I4s", head)
        if not ctype.isalpha() or (first and ctype != b"IHDR"):
            return None
        first = False
        if length > limit:
            return None
        body = r.take(length)
        crc = r.take(4)
        if body is None or crc is None:
            return None
        if zlib.crc32(ctype + body) != struct.unpack(">I", crc)[0]:
            return None
        if ctype == b"IEND":
            return r.pos - offset


_LENGTH_OF = {"jpeg": jpeg_length, "png": png_length}


def carve(media: Media, ranges: list[tuple[int, int]], limit: int = MAX_CARVE) -> Iterator[Carved]:
    """Every complete JPEG and PNG that starts inside one of the (start, end) ``ranges``.

    A picture may run past the end of its free range (a file system's allocation map can
    be wrong about a deleted file's last cluster); the next search resumes after it, so
    thumbnails embedded in a carved JPEG are not reported twice.
    """
    resume = 0
    for start, end in ranges:
        pos = max(start, resume)
        while pos < end:
            chunk = media.read(pos, min(SCAN_CHUNK + _SIG_OVERLAP, end - pos))
            if not chunk:
                break
            hits = sorted(
                (i, kind)
                for sig, kind in _SIGNATURES
                for i in _positions(chunk, sig)
                if i < SCAN_CHUNK
            )
            next_pos = pos + min(len(chunk), SCAN_CHUNK)
            for i, kind in hits:
                at = pos + i
                if at < resume:
                    continue
                length = _LENGTH_OF[kind](media, at, limit)
                if length is None:
                    continue
                yield Carved(at, kind, length)
                resume = at + length
            pos = max(next_pos, resume)


def _positions(chunk: bytes, sig: bytes) -> Iterator[int]:
    i = chunk.find(sig)
    while i >= 0:
        yield i
        i = chunk.find(sig, i + 1)
