"""Choosing a source by content, and the naming rules every locator follows."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raksha.errors import NotFoundError
from raksha.sources.archives import ArchiveSource
from raksha.sources.base import (
    SEPARATOR,
    EvidenceUnreadableError,
    FilePayload,
    escape_name,
    path_problem,
)
from raksha.sources.detect import SingleFileSource, open_source, sniff_archive
from raksha.sources.folder import FolderSource
from tests.sources.builders import (
    collect,
    jpeg_bytes,
    payload_bytes,
    random_bytes,
    sevenzip_bytes,
    tar_bytes,
    zip_bytes,
)


def _v7_tar() -> bytes:
    """An old tar without the ustar magic: only its header checksum identifies it."""
    header = bytearray(tar_bytes([("old.txt", b"old")])[:512])
    header[257:265] = bytes(8)
    header[148:156] = b" " * 8
    header[148:156] = f"{sum(header):06o}\0 ".encode()
    return bytes(header)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (zip_bytes([("a", b"a")]), "zip"),
        (b"PK\x05\x06" + bytes(18), "zip"),
        (tar_bytes([("a", b"a")]), "tar"),
        (_v7_tar(), "tar"),
        (gzip.compress(b"x"), "gzip"),
        (bz2.compress(b"x"), "bzip2"),
        (lzma.compress(b"x"), "xz"),
        (sevenzip_bytes([("a", b"a")]), "7z"),
        (b"Rar!\x1a\x07\x00" + bytes(20), "rar"),
        (b"Rar!\x1a\x07\x01\x00" + bytes(20), "rar"),
        (jpeg_bytes(1), None),
        (b"", None),
        (b"BZh9 is how this text starts", None),
        (random_bytes(3, 512), None),
        (bytes(512), None),
        (tar_bytes([("a", b"a")])[:64], None),  # too short to see a tar
    ],
)
def test_sniff_archive(head: bytes, expected: str | None) -> None:
    assert sniff_archive(head[:512]) == expected


def test_open_source_chooses_by_content(tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    zip_as_jpg = tmp_path / "photo.jpg"
    zip_as_jpg.write_bytes(zip_bytes([("in.txt", b"in")]))
    jpg_as_zip = tmp_path / "archive.zip"
    jpg_as_zip.write_bytes(jpeg_bytes(2))
    assert isinstance(open_source(folder), FolderSource)
    assert isinstance(open_source(zip_as_jpg), ArchiveSource)
    source = open_source(jpg_as_zip)
    assert isinstance(source, SingleFileSource)
    with source:
        (item,) = collect(source)
    assert (item.locator, item.kind, item.size) == ("archive.zip", "file", len(jpeg_bytes(2)))
    assert isinstance(item.payload, FilePayload) and payload_bytes(item.payload) == jpeg_bytes(2)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with open_source(empty) as source:
        assert [(i.locator, i.size, i.error) for i in source.items()] == [("empty", 0, None)]


def test_open_source_refuses_what_it_cannot_read(
    tmp_path: Path, deny: Callable[[Path], None]
) -> None:
    with pytest.raises(NotFoundError):
        open_source(tmp_path / "missing")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(EvidenceUnreadableError, match="not a regular file"):
        open_source(tmp_path / "fifo")
    locked = tmp_path / "locked.bin"
    locked.write_bytes(b"x")
    deny(locked)
    with pytest.raises(EvidenceUnreadableError, match="Permission denied"):
        open_source(locked)


_PIECES = ["a", " ", ">", "\\", "x", "4", "1", "u", "d", "8", "0", "\udcff", "\ud800", "\n", "é"]
names = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)


@given(st.lists(names, unique=True, max_size=8))
def test_escaped_names_are_unique_storable_and_never_contain_the_separator(
    raw: list[str],
) -> None:
    escaped = [escape_name(n) for n in raw]
    assert len(set(escaped)) == len(escaped)
    for text in escaped:
        text.encode("utf-8")
        assert SEPARATOR not in text
        assert all(ch >= " " for ch in text)


def test_escape_examples() -> None:
    assert escape_name("DCIM/IMG_1.jpg") == "DCIM/IMG_1.jpg"
    assert escape_name(os.fsdecode(b"caf\xe9")) == "caf\\xe9"
    assert escape_name("a > b") == "a \\x3e b"
    assert escape_name("dir\\file.jpg") == "dir\\file.jpg"
    assert escape_name("\\x41") == "\\\\x41"
    assert escape_name("tab\there") == "tab\\x09here"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("a/b.jpg", None),
        ("a..b/c", None),
        ("../x", "path escapes the archive (../)"),
        ("a/../../x", "path escapes the archive (../)"),
        ("a\\..\\x", "path escapes the archive (../)"),
        ("/etc/passwd", "path escapes the archive (absolute path)"),
        ("C:\\Windows\\x", "path escapes the archive (absolute path)"),
    ],
)
def test_path_problem(name: str, problem: str | None) -> None:
    assert path_problem(name) == problem


def test_tar_magic_of_a_compressed_tar_is_checked_inside(tmp_path: Path) -> None:
    plain = tmp_path / "notes.txt.bz2"
    plain.write_bytes(bz2.compress(b"just text, not a tar"))
    with open_source(plain) as source:
        items = collect(source)
    assert [(i.locator, i.kind) for i in items] == [
        ("notes.txt.bz2", "archive"),
        ("notes.txt.bz2 > notes.txt", "file"),
    ]
    assert payload_bytes(items[1].payload) == b"just text, not a tar"
    assert tarfile.is_tarfile(_write(tmp_path / "t.tar", tar_bytes([("a", b"a")])))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
