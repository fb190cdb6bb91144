"""Zip archives (and everything built on zip: docx, odt, apk, jar) through ``zipfile``.

Members are read in central-directory order, each through ``zipfile`` so its CRC is
checked. Declared sizes are used only to refuse obvious bombs before reading; the real
limits are enforced on decompressed output by the sink. When the central directory is
missing or damaged (a zip cut in half), :mod:`raksha.sources.zip_salvage` recovers the
members from their local headers instead.
"""

from __future__ import annotations

import logging
import lzma
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, BinaryIO, cast

from raksha.sources.base import (
    ArchiveLimitError,
    SourceLimits,
    human_size,
    reason_of,
    utc_from_timestamp,
)
from raksha.sources.capture import (
    Member,
    Opened,
    ReadContext,
    capture_chunks,
    fill_member,
    read_chunks,
)

logger = logging.getLogger(__name__)

ENCRYPTED = "encrypted (password needed)"
FLAG_ENCRYPTED = 0x1
FLAG_STRONG_ENCRYPTION = 0x40
METHOD_AES = 99
METHOD_NAMES = {
    1: "Shrink",
    6: "Implode",
    9: "Deflate64",
    14: "LZMA",
    93: "Zstandard",
    95: "XZ",
    98: "PPMd",
    99: "AES",
}
_FILETIME_EPOCH = 11_644_473_600  # seconds from 1601-01-01 to 1970-01-01
_UNIX = 3
_SPECIAL_MODES = (
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
)
_DAMAGE = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError)
_OPEN_FAILURES = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError)
_OPEN_FAILURES_ALL = (*_OPEN_FAILURES, struct.error)


def dos_time(date_time: tuple[int, int, int, int, int, int]) -> datetime | None:
    """A zip's DOS time. It has no time zone; it is labelled UTC as recorded."""
    try:
        return datetime(*date_time, tzinfo=UTC)
    except ValueError:
        return None


def extra_times(
    extra: bytes,
) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(modified, accessed, created) from the UT (0x5455) and NTFS (0x000a) extra fields.

    Both are UTC, unlike the DOS time. The central directory's UT field holds only the
    modification time whatever its flags say, hence the length checks.
    """
    modified = accessed = created = None
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if tag == 0x5455 and body:
            flags, off = body[0], 1
            values: list[datetime | None] = []
            for bit in (1, 2, 4):
                if flags & bit and off + 4 <= len(body):
                    values.append(utc_from_timestamp(struct.unpack_from("<i", body, off)[0]))
                    off += 4
                else:
                    values.append(None)
            modified = modified or values[0]
            accessed = accessed or values[1]
            created = created or values[2]
        elif tag == 0x000A and len(body) >= 32:
            inner = 4
            while inner + 4 <= len(body):
                attr, size = struct.unpack_from("<HH", body, inner)
                if attr == 1 and size >= 24 and inner + 4 + 24 <= len(body):
                    m, a, c = struct.unpack_from("<QQQ", body, inner + 4)
                    modified = utc_from_timestamp(m / 1e7 - _FILETIME_EPOCH)
                    accessed = utc_from_timestamp(a / 1e7 - _FILETIME_EPOCH)
                    created = utc_from_timestamp(c / 1e7 - _FILETIME_EPOCH)
                inner += 4 + size
    return modified, accessed, created


def declared_problem(limits: SourceLimits, file_size: int, compress_size: int) -> str | None:
    """Refuse a member from its declared sizes alone, before any byte is decompressed."""
    if file_size > limits.max_member_size:
        return (
            f"member over the size limit of {human_size(limits.max_member_size)}: "
            f"{human_size(file_size)} declared"
        )
    base = max(compress_size, 1)
    if file_size > limits.ratio_min_bytes and file_size > base * limits.max_ratio:
        return f"zip bomb: ratio 1:{file_size // base} over the limit 1:{limits.max_ratio}"
    return None


def method_problem(method: int) -> str | None:
    if method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        return None
    if method == METHOD_AES:
        return ENCRYPTED
    return f"unsupported compression method {method} ({METHOD_NAMES.get(method, 'unknown')})"


def open_zip(ctx: ReadContext, stream: BinaryIO, size: int, name_hint: str) -> Opened:
    try:
        zf = zipfile.ZipFile(cast(IO[bytes], stream))
    except _OPEN_FAILURES_ALL as exc:
        from raksha.sources.zip_salvage import salvage_zip

        return salvage_zip(ctx, stream, reason_of(exc))
    return Opened(_members(ctx, zf, size))


def _describe(info: zipfile.ZipInfo) -> Member | None:
    has_data = info.file_size > 0 or info.compress_size > 0
    if info.is_dir() and not has_data:
        return None
    modified, accessed, created = extra_times(info.extra)
    member = Member(
        info.filename,
        size=info.file_size,
        modified=modified or dos_time(info.date_time),
        accessed=accessed,
        created=created,
    )
    if info.is_dir():
        member.note = "stored as a folder entry but holds data"
    mode = info.external_attr >> 16 if info.create_system == _UNIX else 0
    if mode and stat.S_ISLNK(mode):
        member.kind = "link"
        member.error = "symbolic link not followed"
        return member
    for test, label in _SPECIAL_MODES:
        if mode and test(mode):
            member.kind = "special"
            member.error = f"special file not read: {label}"
            return member
    if info.flag_bits & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION):
        member.error = ENCRYPTED
        return member
    member.error = method_problem(info.compress_type)
    return member


def _members(ctx: ReadContext, zf: zipfile.ZipFile, archive_size: int) -> Iterator[Member]:
    try:
        for info in zf.infolist():
            member = _describe(info)
            if member is None:
                continue
            if member.error is None:
                member.error = declared_problem(ctx.limits, info.file_size, info.compress_size)
            if member.error is None:
                _read(ctx, zf, info, member, archive_size)
            yield member
    finally:
        zf.close()


def _read(
    ctx: ReadContext, zf: zipfile.ZipFile, info: zipfile.ZipInfo, member: Member, archive_size: int
) -> None:
    # The compressed size can be declared larger than the data really is; the archive's own
    # size bounds it.
    base = max(1, min(info.compress_size, archive_size))
    try:
        with zf.open(info) as data:
            captured = capture_chunks(ctx.sink(lambda: base), read_chunks(cast(BinaryIO, data)))
        fill_member(member, captured)
    except ArchiveLimitError as exc:
        member.error = str(exc)
    except NotImplementedError:
        member.error = method_problem(info.compress_type) or "unsupported compression method"
    except RuntimeError as exc:
        member.error = ENCRYPTED if "encrypted" in str(exc) else f"damaged: {reason_of(exc)}"
    except _DAMAGE as exc:
        member.error = f"damaged: {reason_of(exc)}"
