"""Opening archives found anywhere in the evidence, to any allowed depth.

An archive is itself an item (its bytes are hashed like any file's) and its members
follow it, each named ``archive > member``; an archive inside a member is opened the same
way, one level deeper, until ``max_depth``. Format readers only turn stored entries into
:class:`~raksha.sources.capture.Member` values; this module names them (escaped, unique
within their archive), marks hostile paths, enforces the member count and total size of
the archive tree, and decides what to do with a file that only looks like an archive.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import stat
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import BinaryIO

from raksha.sources.base import (
    DEFAULT_LIMITS,
    SEPARATOR,
    ArchiveNotExpandedError,
    ArchiveOpenError,
    BaseSource,
    BytesPayload,
    EvidenceUnreadableError,
    FilePayload,
    Payload,
    SourceItem,
    SourceLimits,
    TempArea,
    escape_name,
    open_readonly,
    path_problem,
    read_head,
    reason_of,
    stat_times,
)
from raksha.sources.capture import REST_NAME, Budget, Member, Opened, ReadContext, rest_member
from raksha.sources.magic import sniff_archive
from raksha.sources.rar_reader import open_rar
from raksha.sources.sevenzip_reader import open_7z
from raksha.sources.tar_reader import open_compressed, open_tar
from raksha.sources.zip_reader import open_zip

logger = logging.getLogger(__name__)

Opener = Callable[[ReadContext, BinaryIO, int, str], Opened]
StreamOpener = Callable[[], BinaryIO]

_LABELS = {"zip": "zip", "tar": "tar", "gzip": "gzip", "bzip2": "bzip2", "xz": "xz"}
_LABELS.update({"7z": "7z", "rar": "RAR"})


def _opener(fmt: str) -> Opener:
    if fmt == "zip":
        return open_zip
    if fmt == "tar":
        return open_tar
    if fmt in ("gzip", "bzip2", "xz"):
        return partial(open_compressed, fmt=fmt)
    if fmt == "7z":
        return open_7z
    if fmt == "rar":
        return open_rar
    raise ValueError(f"no reader for {fmt}")


class NameClaims:
    """Unique names within one archive: a repeated stored name becomes ``name #2``, ``#3``."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self._taken:
            n += 1
            candidate = f"{name} #{n}"
        self._taken.add(candidate)
        return candidate


def new_context(limits: SourceLimits, temp: TempArea) -> ReadContext:
    """A fresh budget for one archive tree (a top-level archive and all it contains)."""
    return ReadContext(limits, Budget(limits), temp)


def join_remarks(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None


def payload_opener(payload: Payload) -> StreamOpener:
    if isinstance(payload, BytesPayload):
        return lambda: io.BytesIO(payload.data)
    return lambda: open(payload.path, "rb")  # a private temp file, never evidence


def _size_of(stream: BinaryIO) -> int:
    size = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    return size


def expand(
    ctx: ReadContext,
    item: SourceItem,
    fmt: str | None,
    open_stream: StreamOpener,
    name_hint: str,
) -> Iterator[SourceItem]:
    """Yield ``item`` and, when it is an archive and the depth allows, its members after it."""
    if fmt is None:
        yield item
        return
    limits = ctx.limits
    item.kind = "archive"
    if item.depth >= limits.max_depth:
        depth_note = f"nested archive not opened: depth limit {limits.max_depth} reached"
        item.note = join_remarks(item.note, depth_note)
        yield item
        return
    try:
        stream = open_stream()
    except OSError as exc:
        item.note = join_remarks(item.note, f"archive not opened: {reason_of(exc)}")
        yield item
        return
    with contextlib.closing(stream):
        try:
            opened = _opener(fmt)(ctx, stream, _size_of(stream), name_hint)
        except ArchiveNotExpandedError as exc:
            item.error = join_remarks(item.error, str(exc))
            yield item
            return
        except ArchiveOpenError as exc:
            item.kind = "file"
            label = _LABELS.get(fmt, fmt)
            remark = f"looks like a {label} archive but cannot be opened: {exc}"
            item.note = join_remarks(item.note, remark)
            yield item
            return
        item.note = join_remarks(item.note, opened.note)
        yield item
        yield from _members(ctx, item, opened.members)


def _members(
    ctx: ReadContext, parent: SourceItem, members: Iterator[Member]
) -> Iterator[SourceItem]:
    claims = NameClaims()
    limits = ctx.limits
    try:
        while True:
            stop = ctx.budget.exhausted()
            if stop is None and ctx.budget.members >= limits.max_members:
                stop = f"more than {limits.max_members:,} members in this archive tree"
            if stop is not None:
                yield _child(parent, rest_member(f"not read: {stop}"), claims)
                return
            member = next(members, None)
            if member is None:
                return
            if not member.synthetic:
                ctx.budget.members += 1
            child = _child(parent, member, claims)
            fmt = sniff_archive(member.head) if member.payload is not None else None
            opener = payload_opener(member.payload) if member.payload is not None else _no_stream
            yield from expand(ctx, child, fmt, opener, member.name)
    finally:
        close = getattr(members, "close", None)
        if close is not None:
            close()  # a reader stopped early releases its archive handle now


def _no_stream() -> BinaryIO:
    raise FileNotFoundError("no payload")


def _child(parent: SourceItem, member: Member, claims: NameClaims) -> SourceItem:
    name = claims.claim(REST_NAME if member.synthetic else escape_name(member.name))
    error = member.error
    if not member.synthetic:
        problem = path_problem(member.name)
        if problem is not None:
            error = join_remarks(problem, error)
    return SourceItem(
        locator=f"{parent.locator}{SEPARATOR}{name}",
        size=member.size,
        modified=member.modified,
        accessed=member.accessed,
        changed=member.changed,
        created=member.created,
        payload=member.payload,
        error=error,
        kind=member.kind,
        depth=parent.depth + 1,
        note=member.note,
    )


class FileSource(BaseSource):
    """One evidence file: an item for it and, if it is an archive, its members after it."""

    NAME = "file"
    EXPAND = False

    def __init__(
        self,
        path: Path,
        limits: SourceLimits = DEFAULT_LIMITS,
        *,
        temp_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(escape_name(path.name or str(path)), limits, temp_dir)
        self.path = os.fspath(path)

    def _walk(self) -> Iterator[SourceItem]:
        stream = open_readonly(self.path)
        with contextlib.closing(stream):
            st = os.fstat(stream.fileno())
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISBLK(st.st_mode)):
                raise EvidenceUnreadableError(f"{self.path} is no longer a regular file")
            fmt = sniff_archive(read_head(stream)) if self.EXPAND else None
            stream.seek(0)
            modified, accessed, changed, created = stat_times(st)
            item = SourceItem(
                self.root_locator,
                st.st_size,
                modified,
                accessed,
                changed,
                created,
                FilePayload(self.path),
            )
            ctx = new_context(self.limits, self._temp)
            yield from expand(ctx, item, fmt, lambda: stream, os.path.basename(self.path))


class ArchiveSource(FileSource):
    """An archive given as the evidence itself (a zip export, a tgz of a phone dump)."""

    NAME = "archive"
    EXPAND = True
