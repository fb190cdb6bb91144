"""MD5, SHA-1 and SHA-256 of a file in one read.

Reference hash sets carry any of the three, and court reports cite all of them, so every
item gets all three; reading evidence once instead of three times matters on a seized disk.
The file is read in 1 MiB chunks. ``hashlib`` releases the GIL while it hashes a large
buffer, so on inputs of several chunks MD5 (the slowest of the three) runs on a helper
thread while the calling thread does SHA-1, SHA-256 and the next read. Measured on the
2-core development machine, 256 MiB from the page cache: 390 MiB/s on one thread,
610 MiB/s with the helper (MD5 alone runs at ~720 MiB/s, so little more is to be had).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO, Final

from raksha.errors import HashingError

logger = logging.getLogger(__name__)

#: Bytes read at a time: large enough that hashlib drops the GIL and per-call costs vanish.
CHUNK_SIZE: Final = 1 << 20
#: Inputs shorter than this are hashed on the calling thread alone (a thread costs more).
_PARALLEL_FROM: Final = 4 * CHUNK_SIZE


@dataclass(frozen=True, slots=True)
class Digests:
    """The three digests (lower-case hex) and the number of bytes they cover."""

    md5: str
    sha1: str
    sha256: str
    size: int


def digest_bytes(data: bytes) -> Digests:
    """Digests of an in-memory buffer."""
    return digest_stream(io.BytesIO(data))


def digest_file(path: str | os.PathLike[str]) -> Digests:
    """Digests of the file at ``path``, opened read-only; the file is never changed."""
    try:
        with open(path, "rb") as handle:
            try:
                total = os.fstat(handle.fileno()).st_size
            except OSError:
                total = None
            return _digest(handle, parallel=total is None or total >= _PARALLEL_FROM)
    except OSError as exc:
        raise HashingError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from exc


class _Concatenated(io.RawIOBase):
    """The files of a split image read one after another, as the one disk they were."""

    def __init__(self, paths: list[str]) -> None:
        self._paths = list(paths)
        self._current: BinaryIO | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while self._paths or self._current is not None:
            if self._current is None:
                self._current = open(self._paths.pop(0), "rb")  # noqa: SIM115 - closed below
            data = self._current.read(size)
            if data:
                return data
            self._current.close()
            self._current = None
        return b""

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        super().close()


def digest_files(paths: list[str]) -> Digests:
    """Digests of several files read end to end (the segments of a split image)."""
    if len(paths) == 1:
        return digest_file(paths[0])
    reader = _Concatenated(paths)
    try:
        return _digest(reader, parallel=True)  # type: ignore[arg-type]
    except OSError as exc:
        raise HashingError(f"cannot read {paths[0]}…: {exc.strerror or exc}") from exc
    finally:
        reader.close()


def digest_stream(f: BinaryIO) -> Digests:
    """Digests of everything left to read in the binary stream ``f`` (it is not closed)."""
    try:
        return _digest(f, parallel=True)
    except OSError as exc:
        raise HashingError(f"cannot read the stream: {exc.strerror or exc}") from exc


def _digest(f: BinaryIO, *, parallel: bool) -> Digests:
    md5 = hashlib.md5(usedforsecurity=False)
    sha1 = hashlib.sha1(usedforsecurity=False)
    sha256 = hashlib.sha256()
    size = 0
    chunk = f.read(CHUNK_SIZE)
    # Small inputs never reach the pool: hash the first chunks on this thread.
    while chunk and (not parallel or size + len(chunk) < _PARALLEL_FROM):
        md5.update(chunk)
        sha1.update(chunk)
        sha256.update(chunk)
        size += len(chunk)
        chunk = f.read(CHUNK_SIZE)
    if chunk:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="raksha-md5") as pool:
            while chunk:
                pending = pool.submit(md5.update, chunk)
                sha1.update(chunk)
                sha256.update(chunk)
                size += len(chunk)
                chunk = f.read(CHUNK_SIZE)
                pending.result()
    return Digests(md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest(), size)
