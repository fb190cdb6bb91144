"""7z archives through py7zr, decompressed in one pass and yielded in stored order.

A solid 7z compresses many members as one stream, so reading them one at a time would
decompress the start of the block again for every member. Instead the archive is
decompressed once, each member into a :class:`~raksha.sources.capture.Sink` (memory or
the private temporary area, under the same limits as every other format), and the
members are yielded afterwards. py7zr is driven through its worker with writers keyed by
member id, never by stored name, so hostile names cannot stop it or point anywhere; so
that a huge archive of small members cannot fill memory, members go to the temporary
area once ``_MEMORY_CAP`` bytes are held.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import BinaryIO

import py7zr
from py7zr.exceptions import DecompressionBombError, PasswordRequired
from py7zr.helpers import ArchiveTimestamp
from py7zr.io import MemIO, Py7zIO, WriterFactory

from raksha.sources.base import (
    MIB,
    ArchiveLimitError,
    ArchiveNotExpandedError,
    ArchiveOpenError,
    BytesPayload,
    human_size,
    reason_of,
    utc_from_timestamp,
)
from raksha.sources.capture import Captured, Member, Opened, ReadContext, Sink, fill_member

logger = logging.getLogger(__name__)

ENCRYPTED = "encrypted (password needed)"
_MEMORY_CAP = 256 * MIB


class _Writer(Py7zIO):
    """Where py7zr writes one member: straight into a sink."""

    def __init__(self, collector: _Collector, file_id: int, sink: Sink) -> None:
        self._collector = collector
        self._id = file_id
        self._sink = sink

    def write(self, s: bytes | bytearray) -> int:
        self._sink.write(s)
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self._sink.size

    def close(self) -> None:
        self._collector.finished(self._id, self._sink)


class _Collector(WriterFactory):
    """Hands py7zr a writer per member and keeps what each member produced."""

    def __init__(self, ctx: ReadContext, archive_size: int) -> None:
        self._ctx = ctx
        self._archive_size = max(archive_size, 1)
        self.results: dict[int, Captured] = {}
        self.current: tuple[int, Sink] | None = None
        self._held = 0

    def create(self, filename: str) -> Py7zIO:
        file_id = int(filename)
        inline = 0 if self._held > _MEMORY_CAP else None
        sink = self._ctx.sink(
            lambda: self._archive_size, bomb_word="decompression bomb", inline_limit=inline
        )
        self.current = (file_id, sink)
        return _Writer(self, file_id, sink)

    def finished(self, file_id: int, sink: Sink) -> None:
        captured = sink.finish()
        if isinstance(captured.payload, BytesPayload):
            self._held += captured.size
        self.results[file_id] = captured
        self.current = None

    def abandon(self) -> int | None:
        """Discard the member being written when extraction failed; its id."""
        if self.current is None:
            return None
        file_id, sink = self.current
        sink.discard()
        self.current = None
        return file_id


def open_7z(ctx: ReadContext, stream: BinaryIO, size: int, name_hint: str) -> Opened:
    try:
        archive = py7zr.SevenZipFile(stream, mode="r")
    except PasswordRequired as exc:
        raise ArchiveNotExpandedError(f"{ENCRYPTED}: the member names are encrypted too") from exc
    except Exception as exc:  # py7zr raises many kinds on hostile headers
        raise ArchiveOpenError(f"not a readable 7z archive: {reason_of(exc)}") from exc
    return Opened(_members(ctx, archive, size))


def _describe(f: py7zr.py7zr.ArchiveFile) -> Member | None:
    if f.is_directory and not f.is_junction:
        return None
    props = f.file_properties()

    def when(key: str) -> float | None:
        value = props.get(key)
        return value.totimestamp() if isinstance(value, ArchiveTimestamp) else None

    member = Member(
        f.filename,
        size=f.uncompressed,
        modified=utc_from_timestamp(when("lastwritetime")),
        accessed=utc_from_timestamp(when("lastaccesstime")),
        created=utc_from_timestamp(when("creationtime")),
    )
    if f.is_symlink or f.is_junction:
        member.kind = "link"
        member.error = "symbolic link not followed"
    elif f.is_socket:
        member.kind = "special"
        member.error = "special file not read: socket"
    return member


def _members(ctx: ReadContext, archive: py7zr.SevenZipFile, size: int) -> Iterator[Member]:
    try:
        entries = list(archive.files)
        if archive.needs_password():
            for f in entries:
                member = _describe(f)
                if member is not None:
                    member.error = member.error or ENCRYPTED
                    yield member
            return
        plan: list[tuple[int, Member]] = []
        wanted: set[int] = set()
        limit = ctx.limits.max_member_size
        for f in entries:
            member = _describe(f)
            if member is None:
                continue
            if member.error is None and f.uncompressed > limit:
                member.error = (
                    f"member over the size limit of {human_size(limit)}: "
                    f"{human_size(f.uncompressed)} declared"
                )
            if member.error is None:
                wanted.add(f.id)
            plan.append((f.id, member))
        collector = _Collector(ctx, size)
        failure = _extract(ctx, archive, wanted, collector) if wanted else None
        for file_id, member in plan:
            if file_id in collector.results:
                fill_member(member, collector.results[file_id])
            elif file_id in wanted:
                if failure is not None and failure[0] == file_id:
                    member.error = failure[1]
                elif failure is not None:
                    member.error = f"not read: extraction stopped earlier ({failure[1]})"
                else:
                    member.error = "not read: its data is missing from the archive"
            yield member
    finally:
        archive.close()


def _extract(
    ctx: ReadContext, archive: py7zr.SevenZipFile, wanted: set[int], collector: _Collector
) -> tuple[int | None, str] | None:
    """Decompress the wanted members; (member id, reason) when extraction stopped early."""
    worker = archive.worker
    for f in archive.files:
        worker.register_filelike(f.id, MemIO(str(f.id), collector) if f.id in wanted else None)
    worker.max_extract_size = max(ctx.limits.max_total_size - ctx.budget.bytes, 0)
    reason: str | None = None
    try:
        worker.extract(archive.fp, None, parallel=False)
    except ArchiveLimitError as exc:
        reason = str(exc)
    except DecompressionBombError:
        reason = ctx.budget.exhausted() or (
            f"zip bomb: more than {human_size(ctx.limits.max_total_size)} "
            "extracted from this archive tree"
        )
    except PasswordRequired:
        reason = ENCRYPTED
    except Exception as exc:  # corrupt data surfaces as many exception kinds
        reason = f"damaged: {reason_of(exc)}"
    failed = collector.abandon()
    return None if reason is None else (failed, reason)
