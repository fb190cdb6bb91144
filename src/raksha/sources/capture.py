"""Reading archive members into payloads under the limits, counting real bytes.

Declared sizes in archive headers can lie, so every limit here is enforced on the bytes
a decompressor actually produced, while they are produced: a bomb is stopped after at
most one chunk past the limit, never after it has filled memory or disk. Small members
stay in memory (they travel to worker processes with their batch); larger ones are
spilled to the source's private temporary area.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, BinaryIO

from raksha.sources.base import (
    HEAD_SIZE,
    ArchiveLimitError,
    BytesPayload,
    FilePayload,
    Payload,
    SourceLimits,
    TempArea,
    human_size,
)

logger = logging.getLogger(__name__)

CHUNK = 1 * 1024 * 1024
REST_NAME = "[rest of archive]"


@dataclass(slots=True)
class Member:
    """What a format reader found: a stored name and its bytes, or why they were not read.

    ``synthetic`` marks an entry the reader made up to describe damage or a stop
    (``[rest of archive]``); its name is not checked as a stored path.
    """

    name: str
    payload: Payload | None = None
    head: bytes = b""
    size: int | None = None
    modified: datetime | None = None
    accessed: datetime | None = None
    changed: datetime | None = None
    created: datetime | None = None
    error: str | None = None
    note: str | None = None
    kind: str = "file"
    synthetic: bool = False


def rest_member(reason: str) -> Member:
    """The entry that says the remainder of an archive was not read, and why."""
    return Member(REST_NAME, error=reason, kind="special", synthetic=True)


@dataclass(slots=True)
class Opened:
    """A reader that opened successfully: its members, and a remark for the archive item."""

    members: Iterator[Member]
    note: str | None = None


class Budget:
    """What one archive tree (an archive and everything nested in it) has used so far."""

    def __init__(self, limits: SourceLimits) -> None:
        self.limits = limits
        self.bytes = 0
        self.members = 0

    def add_bytes(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.limits.max_total_size:
            raise ArchiveLimitError(self.exhausted() or "")

    def exhausted(self) -> str | None:
        """Why nothing more may be extracted from this tree, or None."""
        limit = self.limits.max_total_size
        if self.bytes > limit:
            return f"zip bomb: more than {human_size(limit)} extracted from this archive tree"
        return None


@dataclass(slots=True)
class ReadContext:
    """Everything a format reader needs: limits, the tree's budget, the temporary area."""

    limits: SourceLimits
    budget: Budget
    temp: TempArea

    def sink(
        self,
        ratio_in: Callable[[], int] | None = None,
        *,
        bomb_word: str = "zip bomb",
        inline_limit: int | None = None,
    ) -> Sink:
        return Sink(self, ratio_in, bomb_word, inline_limit)


@dataclass(slots=True)
class Captured:
    payload: Payload
    head: bytes
    size: int


class Sink:
    """Receives one member's bytes chunk by chunk and turns them into a payload.

    ``ratio_in`` returns how many compressed bytes stand behind the output so far; the
    member is refused once its output passes ``max_ratio`` times that (after
    ``ratio_min_bytes``).
    """

    def __init__(
        self,
        ctx: ReadContext,
        ratio_in: Callable[[], int] | None,
        bomb_word: str,
        inline_limit: int | None,
    ) -> None:
        self._ctx = ctx
        self._ratio_in = ratio_in
        self._bomb_word = bomb_word
        self._inline = ctx.limits.inline_limit if inline_limit is None else inline_limit
        self._buffer = bytearray()
        self._head = b""
        self._fd: int | None = None
        self._path: str | None = None
        self.size = 0

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        data = bytes(chunk)
        if not data:
            return
        limits = self._ctx.limits
        self.size += len(data)
        if self.size > limits.max_member_size:
            raise ArchiveLimitError(
                f"member over the size limit of {human_size(limits.max_member_size)}"
            )
        if self._ratio_in is not None and self.size > limits.ratio_min_bytes:
            base = max(self._ratio_in(), 1)
            if self.size > base * limits.max_ratio:
                raise ArchiveLimitError(
                    f"{self._bomb_word}: ratio 1:{self.size // base} "
                    f"over the limit 1:{limits.max_ratio}"
                )
        self._ctx.budget.add_bytes(len(data))
        if len(self._head) < HEAD_SIZE:
            self._head += data[: HEAD_SIZE - len(self._head)]
        if self._fd is None and len(self._buffer) + len(data) <= self._inline:
            self._buffer += data
            return
        if self._fd is None:
            self._fd, self._path = self._ctx.temp.new_file()
            self._write_all(self._buffer)
            self._buffer = bytearray()
        self._write_all(data)

    def _write_all(self, data: bytes | bytearray) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def finish(self) -> Captured:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            assert self._path is not None
            return Captured(FilePayload(self._path), self._head, self.size)
        data = bytes(self._buffer)
        self._buffer = bytearray()
        return Captured(BytesPayload(data), self._head, self.size)

    def discard(self) -> None:
        """Drop what was received (the member failed): the temp file goes too."""
        self._buffer = bytearray()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)
            self._path = None


def capture_chunks(sink: Sink, chunks: Iterable[bytes]) -> Captured:
    """Feed every chunk to ``sink``; on any failure the partial member is discarded."""
    try:
        for chunk in chunks:
            sink.write(chunk)
        return sink.finish()
    except BaseException:
        sink.discard()
        raise


def read_chunks(stream: IO[bytes], chunk: int = CHUNK) -> Iterator[bytes]:
    while True:
        data = stream.read(chunk)
        if not data:
            return
        yield data


def fill_member(member: Member, captured: Captured) -> Member:
    member.payload = captured.payload
    member.head = captured.head
    member.size = captured.size
    return member


class CountingReader:
    """Wraps a raw (compressed) stream and counts the bytes taken from it."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        """The raw stream belongs to the caller; closing the wrapper leaves it open."""

    @property
    def closed(self) -> bool:
        return False
