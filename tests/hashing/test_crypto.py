"""One-pass MD5/SHA-1/SHA-256 must equal hashlib's, whatever the chunking, and not touch files."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raksha.errors import HashingError
from raksha.hashing import crypto
from raksha.hashing.crypto import CHUNK_SIZE, Digests, digest_bytes, digest_file, digest_stream


def expected(data: bytes) -> Digests:
    return Digests(
        md5=hashlib.md5(data).hexdigest(),
        sha1=hashlib.sha1(data).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


class TrickleReader(io.RawIOBase):
    """A stream that hands out at most ``step`` bytes per read, like a pipe or socket."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._step, len(self._data))
        buffer[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


@pytest.mark.parametrize(
    "size",
    [1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 4 * CHUNK_SIZE - 1, 4 * CHUNK_SIZE + 7],
)
def test_digests_equal_hashlib_across_chunk_boundaries(size: int, tmp_path: Path) -> None:
    data = os.urandom(size)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    want = expected(data)
    assert digest_bytes(data) == want
    assert digest_stream(io.BytesIO(data)) == want
    assert digest_file(path) == want


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=2000), chunk=st.integers(min_value=1, max_value=97))
def test_digests_equal_hashlib_for_any_chunk_size(data: bytes, chunk: int) -> None:
    # Tiny chunks put every boundary case (and the threaded path, from 4 chunks) in reach.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "CHUNK_SIZE", chunk)
        patch.setattr(crypto, "_PARALLEL_FROM", 4 * chunk)
        assert digest_bytes(data) == expected(data)
        assert digest_stream(io.BufferedReader(TrickleReader(data, chunk + 3))) == expected(data)


def test_short_reads_are_not_mistaken_for_the_end() -> None:
    data = os.urandom(3 * CHUNK_SIZE + 5)
    assert digest_stream(TrickleReader(data, 4096)) == expected(data)  # type: ignore[arg-type]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    got = digest_file(path)
    assert got.size == 0
    assert got.md5 == "d41d8cd98f00b204e9800998ecf8427e"
    assert got.sha1 == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert got.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_large_file_uses_the_threaded_path_and_stays_correct(tmp_path: Path) -> None:
    data = os.urandom(24 * CHUNK_SIZE + 12345)
    path = tmp_path / "large.bin"
    path.write_bytes(data)
    assert digest_file(path) == expected(data)


def test_file_is_not_modified(tmp_path: Path) -> None:
    data = os.urandom(5 * CHUNK_SIZE + 1)
    path = tmp_path / "evidence.bin"
    path.write_bytes(data)
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before = path.stat()
    digest_file(path)
    after = path.stat()
    assert path.read_bytes() == data
    assert after.st_mtime_ns == before.st_mtime_ns
    assert after.st_size == before.st_size


def test_stream_is_read_from_its_position_and_left_open() -> None:
    stream = io.BytesIO(b"headerPAYLOAD")
    stream.seek(6)
    assert digest_stream(stream) == expected(b"PAYLOAD")
    assert not stream.closed


def test_missing_file_is_a_hashing_error(tmp_path: Path) -> None:
    with pytest.raises(HashingError, match="cannot read"):
        digest_file(tmp_path / "nope.bin")


def test_directory_is_a_hashing_error(tmp_path: Path) -> None:
    with pytest.raises(HashingError):
        digest_file(tmp_path)


def test_digests_are_lower_case_hex_and_frozen() -> None:
    got = digest_bytes(b"raksha")
    for value in (got.md5, got.sha1, got.sha256):
        assert value == value.lower()
        int(value, 16)
    with pytest.raises(AttributeError):
        got.md5 = "0"  # type: ignore[misc]
