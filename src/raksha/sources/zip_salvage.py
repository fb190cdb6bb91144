"""Recovering members of a zip whose central directory is gone (a zip cut short).

Every zip member is preceded by a local header that repeats its name, method and (unless
a data descriptor follows) its sizes, so the members before the damage can be read by
walking those headers from the start. The walk stops at the first thing that is not a
member header, and says where and why in a ``[rest of archive]`` entry, or in the error
of the member the archive ends inside.
"""

from __future__ import annotations

import bz2
import logging
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

from raksha.sources.base import ArchiveLimitError, ArchiveOpenError, read_head, reason_of
from raksha.sources.capture import (
    CHUNK,
    Member,
    Opened,
    ReadContext,
    capture_chunks,
    fill_member,
    rest_member,
)
from raksha.sources.zip_reader import (
    ENCRYPTED,
    FLAG_ENCRYPTED,
    FLAG_STRONG_ENCRYPTION,
    declared_problem,
    dos_time,
    extra_times,
    method_problem,
)

logger = logging.getLogger(__name__)

_LOCAL = b"PK\x03\x04"
_DESCRIPTOR = b"PK\x07\x08"
_CENTRAL = (b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07")
_HEADER = struct.Struct("<4sHHHHHIIIHH")
_FLAG_DESCRIPTOR = 0x8
_FLAG_UTF8 = 0x800
_ZIP64_MARK = 0xFFFFFFFF
_STORED, _DEFLATED, _BZIP2 = 0, 8, 12
_LOST = "not read: the next member cannot be found after this one"


class _CutShortError(Exception):
    """The archive ends inside a member's data."""


class _StreamDamagedError(Exception):
    """A member's compressed data is inconsistent."""


def salvage_zip(ctx: ReadContext, stream: BinaryIO, reason: str) -> Opened:
    """Members from local headers, or :class:`ArchiveOpenError` when there is none."""
    stream.seek(0)
    head = read_head(stream, _HEADER.size)
    if len(head) < _HEADER.size or not head.startswith(_LOCAL):
        raise ArchiveOpenError(f"not a readable zip archive: {reason}")
    note = f"zip central directory unreadable ({reason}): members recovered from local headers"
    return Opened(_walk(ctx, stream), note=note)


def _zip64_sizes(extra: bytes, csize: int, usize: int) -> tuple[int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if tag != 0x0001:
            continue
        off = 0
        if usize == _ZIP64_MARK and off + 8 <= len(body):
            usize = struct.unpack_from("<Q", body, off)[0]
            off += 8
        if csize == _ZIP64_MARK and off + 8 <= len(body):
            csize = struct.unpack_from("<Q", body, off)[0]
    return csize, usize


class _Decoder:
    """Reads one member's data from the stream, counting compressed bytes and the CRC."""

    def __init__(self, stream: BinaryIO, method: int, csize: int | None) -> None:
        self._stream = stream
        self._method = method
        self._left = csize
        self.consumed = 0  # compressed bytes that belonged to this member
        self.crc = 0

    def _more(self) -> bytes:
        if self._left == 0:
            raise _StreamDamagedError("compressed data ends before its stream does")
        want = CHUNK if self._left is None else min(CHUNK, self._left)
        data = self._stream.read(want)
        if not data:
            raise _CutShortError
        self.consumed += len(data)
        if self._left is not None:
            self._left -= len(data)
        return data

    def _out(self, data: bytes) -> bytes:
        self.crc = zlib.crc32(data, self.crc)
        return data

    def chunks(self) -> Iterator[bytes]:
        if self._method == _STORED:
            while self._left:
                yield self._out(self._more())
            return
        if self._method == _DEFLATED:
            inflater = zlib.decompressobj(-15)
            pending = b""
            while not inflater.eof:
                if not pending:
                    pending = self._more()
                out = inflater.decompress(pending, CHUNK)
                pending = inflater.unconsumed_tail
                if out:
                    yield self._out(out)
            self.consumed -= len(inflater.unused_data) + len(pending)
            return
        unbzip = bz2.BZ2Decompressor()
        while not unbzip.eof:
            data = self._more() if unbzip.needs_input else b""
            out = unbzip.decompress(data, CHUNK)
            if out:
                yield self._out(out)
        self.consumed -= len(unbzip.unused_data)


def _walk(ctx: ReadContext, stream: BinaryIO) -> Iterator[Member]:
    pos = 0
    count = 0
    while True:
        stream.seek(pos)
        header = read_head(stream, _HEADER.size)
        if header[:4] in _CENTRAL or not header:
            return
        if not header.startswith(_LOCAL):
            yield rest_member(f"archive damaged after {count} members: no member at offset {pos}")
            return
        if len(header) < _HEADER.size:
            yield rest_member(f"archive cut short after {count} members: a header is incomplete")
            return
        _sig, _ver, flags, method, dtime, ddate, crc, csize, usize, nlen, xlen = _HEADER.unpack(
            header
        )
        raw_name = read_head(stream, nlen)
        extra = read_head(stream, xlen)
        if len(raw_name) < nlen or len(extra) < xlen:
            yield rest_member(f"archive cut short after {count} members: a header is incomplete")
            return
        csize, usize = _zip64_sizes(extra, csize, usize)
        encoding = "utf-8" if flags & _FLAG_UTF8 else "cp437"
        name = raw_name.decode(encoding, "surrogateescape").split("\x00", 1)[0]
        data_start = pos + _HEADER.size + nlen + xlen
        count += 1
        described = _describe(name, flags, method, dtime, ddate, extra, usize)
        descriptor = bool(flags & _FLAG_DESCRIPTOR)
        known = None if descriptor and csize == 0 else csize
        if described is not None and described.error is None and not descriptor:
            described.error = declared_problem(ctx.limits, usize, csize)
        if described is None or described.error is not None:
            if described is not None:
                yield described
            if known is None:
                yield rest_member(_LOST)
                return
            pos = data_start + known
            continue
        if method == _STORED and known is None:
            described.error = "stored with an unknown length: cannot be recovered"
            yield described
            yield rest_member(_LOST)
            return
        stream.seek(data_start)
        decoder = _Decoder(stream, method, known)
        outcome = _read(ctx, decoder, described, known, crc, descriptor)
        yield described
        if outcome is not None:
            if outcome:
                yield rest_member(outcome)
            return
        pos = data_start + decoder.consumed
        if descriptor:
            pos = _after_descriptor(stream, pos, decoder.consumed)


def _describe(
    name: str, flags: int, method: int, dtime: int, ddate: int, extra: bytes, usize: int
) -> Member | None:
    if name.endswith("/") and usize == 0:
        return None
    date_time = (
        (ddate >> 9) + 1980,
        (ddate >> 5) & 0xF,
        ddate & 0x1F,
        dtime >> 11,
        (dtime >> 5) & 0x3F,
        (dtime & 0x1F) * 2,
    )
    modified, accessed, created = extra_times(extra)
    member = Member(
        name,
        size=usize,
        modified=modified or dos_time(date_time),
        accessed=accessed,
        created=created,
    )
    if flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION):
        member.error = ENCRYPTED
    elif method not in (_STORED, _DEFLATED, _BZIP2):
        member.error = method_problem(method) or f"compression method {method} not recoverable"
    return member


def _read(
    ctx: ReadContext,
    decoder: _Decoder,
    member: Member,
    known: int | None,
    crc: int,
    descriptor: bool,
) -> str | None:
    """Read one member; None to go on, a reason (or "") to stop after it."""
    ratio_in: Callable[[], int] = (
        (lambda: known) if known is not None else (lambda: decoder.consumed)
    )
    try:
        fill_member(member, capture_chunks(ctx.sink(ratio_in), decoder.chunks()))
    except ArchiveLimitError as exc:
        member.error = str(exc)
        return _LOST if known is None else None
    except _CutShortError:
        member.error = "cut short: the archive ends inside this member"
        return ""
    except (_StreamDamagedError, zlib.error, OSError, EOFError, ValueError) as exc:
        member.error = f"damaged: {reason_of(exc)}"
        return _LOST if known is None else None
    if not descriptor and decoder.crc != crc:
        member.error = "damaged: CRC mismatch"
        member.payload = None
    return None


def _after_descriptor(stream: BinaryIO, pos: int, consumed: int) -> int:
    """The offset after a data descriptor (signature optional, 32- or 64-bit sizes)."""
    stream.seek(pos)
    head = read_head(stream, 24)
    if head.startswith(_DESCRIPTOR):
        head = head[4:]
        pos += 4
    if len(head) >= 12 and struct.unpack_from("<I", head, 4)[0] == consumed:
        return pos + 12
    return pos + 20
