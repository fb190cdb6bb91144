"""Tar archives, plain or inside gzip/bzip2/xz, and single compressed files.

Read as a stream, member after member, in stored order: a compressed tar cannot be read
out of order without decompressing from the start again. Everything the decompressor
produces passes a :class:`StreamRecorder` that enforces the compression-ratio limit on
the stream as a whole (a tar's members are not compressed one by one) and remembers the
last bytes, so that after the last member it can tell a clean end-of-archive marker
from truncation or garbage, which ``tarfile`` itself passes over silently.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import os
import tarfile
import zlib
from collections.abc import Iterator
from typing import IO, BinaryIO, cast

from raksha.sources.base import (
    HEAD_SIZE,
    ArchiveLimitError,
    ArchiveOpenError,
    SourceLimits,
    escape_name,
    human_size,
    reason_of,
    utc_from_timestamp,
)
from raksha.sources.capture import (
    CHUNK,
    CountingReader,
    Member,
    Opened,
    ReadContext,
    capture_chunks,
    fill_member,
    read_chunks,
    rest_member,
)
from raksha.sources.magic import TAR_BLOCK, looks_like_tar

logger = logging.getLogger(__name__)

DAMAGE = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)
_KEEP = 64 * 1024  # more than tarfile ever reads ahead (one 10 KiB record)
_SUFFIXES = {
    "gzip": {".gz": "", ".tgz": ".tar", ".gzip": "", ".z": ""},
    "bzip2": {".bz2": "", ".tbz": ".tar", ".tbz2": ".tar", ".bz": ""},
    "xz": {".xz": "", ".txz": ".tar"},
}
_SPECIAL = {
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "fifo",
}


class StreamRecorder:
    """The byte stream tarfile reads: counts output, checks the ratio, keeps the tail."""

    def __init__(
        self, source: BinaryIO, limits: SourceLimits, compressed: CountingReader | None
    ) -> None:
        self._source = source
        self._limits = limits
        self._compressed = compressed
        self.pos = 0
        self._tail = bytearray()
        self._tail_start = 0

    def read(self, n: int = -1) -> bytes:
        data = self._source.read(n)
        self.pos += len(data)
        self._tail += data
        if len(self._tail) > _KEEP:
            cut = len(self._tail) - _KEEP
            del self._tail[:cut]
            self._tail_start += cut
        if self._compressed is not None and self.pos > self._limits.ratio_min_bytes:
            base = max(self._compressed.count, 1)
            if self.pos > base * self._limits.max_ratio:
                raise ArchiveLimitError(
                    f"decompression bomb: ratio 1:{self.pos // base} "
                    f"over the limit 1:{self._limits.max_ratio}",
                    stop=True,
                )
        return data

    def since(self, start: int) -> bytes | None:
        """Bytes from absolute offset ``start`` to what has been read, if still remembered."""
        if start < self._tail_start or start > self.pos:
            return None
        return bytes(self._tail[start - self._tail_start :])


def _decompressor(fmt: str, raw: CountingReader | BinaryIO) -> BinaryIO:
    source = cast(IO[bytes], raw)
    if fmt == "gzip":
        return cast(BinaryIO, gzip.GzipFile(fileobj=source, mode="rb"))
    if fmt == "bzip2":
        return cast(BinaryIO, bz2.BZ2File(source, mode="rb"))
    if fmt == "xz":
        return cast(BinaryIO, lzma.LZMAFile(source, mode="rb"))
    raise ValueError(f"not a compression format: {fmt}")


def _inner_name(name_hint: str, fmt: str) -> str:
    """The name a single compressed file had before compression (``a.jpg.gz`` → ``a.jpg``)."""
    base = name_hint.replace("\\", "/").rsplit("/", 1)[-1]
    stem, ext = os.path.splitext(base)
    replacement = _SUFFIXES.get(fmt, {}).get(ext.lower())
    if replacement is None or not stem:
        return "[decompressed]"
    return stem + replacement


def open_tar(ctx: ReadContext, stream: BinaryIO, size: int, name_hint: str) -> Opened:
    return _open_stream(ctx, StreamRecorder(stream, ctx.limits, None))


def open_compressed(
    ctx: ReadContext, stream: BinaryIO, size: int, name_hint: str, fmt: str
) -> Opened:
    """A gzip/bzip2/xz file: a tar inside is read as a tar, anything else as one member."""
    stream.seek(0)
    try:
        head = _decompressor(fmt, stream).read(HEAD_SIZE)
    except DAMAGE as exc:
        raise ArchiveOpenError(f"{fmt} data cannot be decompressed: {reason_of(exc)}") from exc
    stream.seek(0)
    counter = CountingReader(stream)
    recorder = StreamRecorder(_decompressor(fmt, counter), ctx.limits, counter)
    if looks_like_tar(head):
        return _open_stream(ctx, recorder)
    return Opened(_single(ctx, recorder, _inner_name(name_hint, fmt)))


def _single(ctx: ReadContext, recorder: StreamRecorder, name: str) -> Iterator[Member]:
    member = Member(name)
    try:
        fill_member(member, capture_chunks(ctx.sink(), read_chunks(cast(BinaryIO, recorder))))
    except ArchiveLimitError as exc:
        member.error = str(exc)
    except DAMAGE as exc:
        member.error = f"damaged compressed data: {reason_of(exc)}"
    yield member


def _open_stream(ctx: ReadContext, recorder: StreamRecorder) -> Opened:
    try:
        tf = tarfile.open(  # noqa: SIM115 - closed by the member generator when it ends
            fileobj=cast(IO[bytes], recorder), mode="r|", errors="surrogateescape"
        )
    except (ArchiveLimitError, *DAMAGE) as exc:
        raise ArchiveOpenError(f"not a readable tar archive: {reason_of(exc)}") from exc
    return Opened(_members(ctx, tf, recorder))


def _pax_time(info: tarfile.TarInfo, key: str) -> float | None:
    value = info.pax_headers.get(key)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _describe(info: tarfile.TarInfo) -> Member | None:
    """A member for one header, with the reason when its bytes are not to be read."""
    if info.isdir():
        return None
    member = Member(
        info.name,
        size=info.size,
        modified=utc_from_timestamp(info.mtime),
        accessed=utc_from_timestamp(_pax_time(info, "atime")),
        changed=utc_from_timestamp(_pax_time(info, "ctime")),
    )
    if info.issym():
        member.kind = "link"
        member.error = f"symbolic link not followed (-> {escape_name(info.linkname)})"
    elif info.islnk():
        member.kind = "link"
        member.error = f"hard link not followed: same content as {escape_name(info.linkname)}"
    elif info.type in _SPECIAL:
        member.kind = "special"
        member.error = f"special file not read: {_SPECIAL[info.type]}"
    return member


def _members(ctx: ReadContext, tf: tarfile.TarFile, recorder: StreamRecorder) -> Iterator[Member]:
    count = 0
    try:
        while True:
            try:
                info = tf.next()
            except ArchiveLimitError as exc:
                yield rest_member(f"not read: {exc}")
                return
            except DAMAGE as exc:
                yield rest_member(f"archive damaged after {count} members: {reason_of(exc)}")
                return
            if info is None:
                break
            held = getattr(tf, "members", None)
            if isinstance(held, list):
                held.clear()  # tarfile keeps every header; a million members would pile up
            count += 1
            member = _describe(info)
            if member is None:
                continue
            if member.error is None:
                try:
                    data = tf.extractfile(info)
                    if data is not None:
                        fill_member(member, capture_chunks(ctx.sink(), read_chunks(data, CHUNK)))
                except ArchiveLimitError as exc:
                    member.error = str(exc)
                    if exc.stop:
                        yield member
                        yield rest_member(f"not read: {exc}")
                        return
                except DAMAGE as exc:
                    member.error = f"damaged: {reason_of(exc)}; the rest of the archive is lost"
                    yield member
                    return
            yield member
        problem = _trailing_problem(tf, recorder, count)
        if problem is not None:
            yield rest_member(problem)
    finally:
        tf.close()


def _trailing_problem(tf: tarfile.TarFile, recorder: StreamRecorder, count: int) -> str | None:
    """What follows the last member: None for a clean end-of-archive marker."""
    start = tf.offset
    seen = recorder.since(start)
    if seen is None:
        return None
    length = len(seen)
    first_block = seen[:TAR_BLOCK]
    nonzero_after = any(seen[TAR_BLOCK:])
    try:
        for chunk in read_chunks(cast(BinaryIO, recorder)):
            length += len(chunk)
            need = max(TAR_BLOCK - len(first_block), 0)
            first_block += chunk[:need]
            nonzero_after = nonzero_after or any(chunk[need:])
    except ArchiveLimitError as exc:
        return f"not read: {exc}"
    except DAMAGE as exc:
        return f"archive damaged after {count} members: {reason_of(exc)}"
    if length == 0:
        return f"archive cut short after {count} members: no end-of-archive marker"
    if len(first_block) < TAR_BLOCK and any(first_block):
        return f"archive cut short after {count} members: a header is incomplete"
    if not any(first_block):
        if nonzero_after:
            return (
                "data found after the end-of-archive marker, not read "
                f"({human_size(length)} from offset {start})"
            )
        return None
    return (
        f"archive damaged after {count} members: invalid header at offset {start}, "
        f"{human_size(length)} not read"
    )
