"""Hostile and broken archives: each problem is an item with a reason, and the walk goes on."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from raksha.sources.base import SourceLimits, human_size
from raksha.sources.detect import open_source
from raksha.sources.folder import FolderSource
from tests.sources.builders import (
    MIB,
    by_locator,
    collect,
    descriptor_bomb,
    encrypted_zip,
    jpeg_bytes,
    payload_bytes,
    random_bytes,
    sevenzip_bytes,
    sevenzip_with_stored_name,
    tar_bytes,
    zero_zip,
    zip_bytes,
)


def _items(path: Path, limits: SourceLimits | None = None) -> list[tuple[str, str | None]]:
    with open_source(path, limits or SourceLimits()) as source:
        return [(i.locator, i.error) for i in source.items()]


def test_declared_zip_bomb_is_refused_unread(tmp_path: Path) -> None:
    root = tmp_path / "ev"
    root.mkdir()
    zero_zip(root / "bomb.zip", "zeros.bin", 32 * MIB)
    (root / "ok.txt").write_bytes(b"fine")
    with FolderSource(root) as source:
        items = collect(source)
        assert source.temp_path is None  # nothing was extracted anywhere
    assert [(i.locator, i.kind) for i in items] == [
        ("bomb.zip", "archive"),
        ("bomb.zip > zeros.bin", "file"),
        ("ok.txt", "file"),
    ]
    bomb = items[1]
    assert bomb.payload is None
    assert bomb.error is not None and bomb.error.startswith("zip bomb: ratio 1:")
    assert bomb.error.endswith("over the limit 1:200")


def test_a_bomb_with_no_declared_size_is_stopped_while_inflating(tmp_path: Path) -> None:
    path = tmp_path / "hidden.zip"
    path.write_bytes(descriptor_bomb(64 * MIB))
    with open_source(path) as source:
        items = collect(source)
    assert [i.locator for i in items] == [
        "hidden.zip",
        "hidden.zip > zeros.bin",
        "hidden.zip > [rest of archive]",
    ]
    assert "central directory unreadable" in (items[0].note or "")
    assert items[1].payload is None
    assert (items[1].error or "").startswith("zip bomb: ratio 1:")


def test_a_member_whose_declared_size_lies_is_not_trusted(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([("small.bin", bytes(8 * MIB)), ("next.txt", b"next")]))
    # Declare 1000 bytes for an 8 MiB member, in the local header and the central directory.
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, 1000)
    struct.pack_into("<I", data, central + 24, 1000)
    path = tmp_path / "liar.zip"
    path.write_bytes(bytes(data))
    items = _items(path)
    assert items[1][0] == "liar.zip > small.bin"
    assert (items[1][1] or "").startswith("damaged: Bad CRC-32")
    assert items[2] == ("liar.zip > next.txt", None)


def test_compressed_tar_bomb_stops_the_stream(tmp_path: Path) -> None:
    path = tmp_path / "bomb.tgz"
    path.write_bytes(
        tar_bytes([("first.txt", b"first"), ("zeros.bin", bytes(32 * MIB)), ("x", b"x")], "gz")
    )
    items = _items(path)
    assert [loc for loc, _ in items] == [
        "bomb.tgz",
        "bomb.tgz > first.txt",
        "bomb.tgz > zeros.bin",
        "bomb.tgz > [rest of archive]",
    ]
    assert (items[2][1] or "").startswith("decompression bomb: ratio 1:")
    assert (items[3][1] or "").startswith("not read: decompression bomb")


def test_sevenzip_bomb_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "bomb.7z"
    path.write_bytes(sevenzip_bytes([("zeros.bin", bytes(16 * MIB)), ("after.txt", b"a")]))
    items = _items(path)
    assert [loc for loc, _ in items] == ["bomb.7z", "bomb.7z > zeros.bin", "bomb.7z > after.txt"]
    assert (items[1][1] or "").startswith("decompression bomb: ratio 1:")
    assert (items[2][1] or "").startswith("not read: extraction stopped earlier")


def test_member_size_total_size_and_member_count_limits(tmp_path: Path) -> None:
    members = [(f"m{i}.bin", random_bytes(i, 4000)) for i in range(5)]
    path = tmp_path / "many.tar"
    path.write_bytes(tar_bytes([("huge.bin", random_bytes(9, 9000)), *members]))
    items = _items(path, SourceLimits(max_member_size=5000))
    assert items[1] == ("many.tar > huge.bin", "member over the size limit of 4.9 KiB")
    assert all(error is None for _, error in items[2:])

    items = _items(path, SourceLimits(max_total_size=10_000, max_member_size=9500))
    assert [loc for loc, _ in items] == [
        "many.tar",
        "many.tar > huge.bin",
        "many.tar > m0.bin",
        "many.tar > [rest of archive]",
    ]
    assert (items[2][1] or "").startswith("zip bomb: more than 9.8 KiB extracted")
    assert (items[3][1] or "").startswith("not read: zip bomb: more than 9.8 KiB")

    items = _items(path, SourceLimits(max_members=3))
    assert [loc for loc, _ in items][-2:] == ["many.tar > m1.bin", "many.tar > [rest of archive]"]
    assert items[-1][1] == "not read: more than 3 members in this archive tree"


def test_paths_that_escape_are_flagged_but_still_hashed(tmp_path: Path) -> None:
    path = tmp_path / "escape.zip"
    path.write_bytes(
        zip_bytes([("../../escape.txt", b"up"), ("/etc/cron.d/x", b"abs"), ("ok.txt", b"ok")])
    )
    tpath = tmp_path / "escape.tar"
    tpath.write_bytes(tar_bytes([("../up.txt", b"t")]))
    spath = tmp_path / "escape.7z"
    spath.write_bytes(sevenzip_with_stored_name("../a.txt", b"seven"))
    with open_source(path) as source:
        items = by_locator(collect(source))
    up = items["escape.zip > ../../escape.txt"]
    assert (up.error, payload_bytes(up.payload)) == ("path escapes the archive (../)", b"up")
    absolute = items["escape.zip > /etc/cron.d/x"]
    assert absolute.error == "path escapes the archive (absolute path)"
    assert items["escape.zip > ok.txt"].error is None
    assert _items(tpath)[1] == ("escape.tar > ../up.txt", "path escapes the archive (../)")
    with open_source(spath) as source:
        seven = collect(source)[1]
    assert (seven.locator, seven.error) == (
        "escape.7z > ../a.txt",
        "path escapes the archive (../)",
    )
    assert payload_bytes(seven.payload) == b"seven"
    assert not (tmp_path.parent / "escape.txt").exists()
    assert not (tmp_path / "up.txt").exists()


def test_encrypted_members_and_archives_say_a_password_is_needed(tmp_path: Path) -> None:
    data = encrypted_zip("secret.jpg", jpeg_bytes(1), b"pw", ("plain.txt", b"plain"))
    # The builder is a real ZipCrypto writer: the standard library decrypts it.
    assert zipfile.ZipFile(io.BytesIO(data)).read("secret.jpg", pwd=b"pw") == jpeg_bytes(1)
    path = tmp_path / "locked.zip"
    path.write_bytes(data)
    assert _items(path)[1:] == [
        ("locked.zip > secret.jpg", "encrypted (password needed)"),
        ("locked.zip > plain.txt", None),
    ]
    seven = tmp_path / "locked.7z"
    seven.write_bytes(sevenzip_bytes([("a.txt", b"a")], password="pw"))
    assert _items(seven)[1:] == [("locked.7z > a.txt", "encrypted (password needed)")]
    hidden = tmp_path / "names.7z"
    hidden.write_bytes(sevenzip_bytes([("a.txt", b"a")], password="pw", header_encryption=True))
    with open_source(hidden) as source:
        (item,) = collect(source)
    assert item.kind == "archive" and item.payload is not None
    assert item.error == "encrypted (password needed): the member names are encrypted too"


def test_a_zip_cut_in_half_keeps_the_members_before_the_cut(tmp_path: Path) -> None:
    members = [(f"p{i}.bin", random_bytes(i, 3000)) for i in range(4)]
    data = zip_bytes(members, zipfile.ZIP_STORED)
    path = tmp_path / "cut.zip"
    path.write_bytes(data[: len(data) // 2])
    with open_source(path) as source:
        items = collect(source)
    assert [(i.locator, i.error) for i in items] == [
        ("cut.zip", None),
        ("cut.zip > p0.bin", None),
        ("cut.zip > p1.bin", None),
        ("cut.zip > p2.bin", "cut short: the archive ends inside this member"),
    ]
    assert payload_bytes(items[1].payload) == members[0][1]
    assert payload_bytes(items[2].payload) == members[1][1]
    assert items[3].payload is None
    assert "members recovered from local headers" in (items[0].note or "")


def test_a_damaged_tar_keeps_what_came_before(tmp_path: Path) -> None:
    members = [(f"t{i}.bin", random_bytes(i, 1000)) for i in range(3)]
    whole = tar_bytes(members)
    second, third = whole.index(b"t1.bin"), whole.index(b"t2.bin")  # their header blocks

    garbled = bytearray(whole)
    garbled[second : second + 512] = random_bytes(99, 512)
    items = _items(_write(tmp_path / "garbled.tar", bytes(garbled)))
    assert items[:2] == [("garbled.tar", None), ("garbled.tar > t0.bin", None)]
    assert items[2][0] == "garbled.tar > [rest of archive]"
    assert (items[2][1] or "").startswith(
        f"archive damaged after 1 members: invalid header at offset {second}"
    )

    items = _items(_write(tmp_path / "cut.tar", whole[: second + 512 + 500]))
    assert items[1] == ("cut.tar > t0.bin", None)
    assert items[2][0] == "cut.tar > t1.bin"
    assert (items[2][1] or "").startswith("damaged: unexpected end of data")
    assert len(items) == 3

    items = _items(_write(tmp_path / "boundary.tar", whole[:third]))
    assert [loc for loc, _ in items][1:] == [
        "boundary.tar > t0.bin",
        "boundary.tar > t1.bin",
        "boundary.tar > [rest of archive]",
    ]
    assert items[3][1] == "archive cut short after 2 members: no end-of-archive marker"

    trailing = _write(tmp_path / "trailing.tar", whole + b"appended secret")
    marker = third + 512 + 1024  # after the last header and its padded data
    assert _items(trailing)[-1] == (
        "trailing.tar > [rest of archive]",
        "data found after the end-of-archive marker, not read "
        f"({human_size(len(whole) + 15 - marker)} from offset {marker})",
    )
    assert _items(_write(tmp_path / "clean.tar", whole))[-1] == ("clean.tar > t2.bin", None)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_something_that_only_looks_like_an_archive_is_hashed_as_a_file(tmp_path: Path) -> None:
    root = tmp_path / "ev"
    root.mkdir()
    (root / "fake.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 10)
    (root / "fake.7z").write_bytes(b"7z\xbc\xaf\x27\x1c" + random_bytes(1, 100))
    (root / "fake.gz").write_bytes(b"\x1f\x8b\x08" + random_bytes(2, 100))
    with FolderSource(root) as source:
        items = collect(source)
    assert [(i.locator, i.kind, i.error, i.payload is not None) for i in items] == [
        ("fake.7z", "file", None, True),
        ("fake.gz", "file", None, True),
        ("fake.zip", "file", None, True),
    ]
    assert (items[0].note or "").startswith("looks like a 7z archive but cannot be opened")
    assert (items[1].note or "").startswith("looks like a gzip archive but cannot be opened")
    assert (items[2].note or "").startswith("looks like a zip archive but cannot be opened")


def test_rar_without_a_tool_is_hashed_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("raksha.sources.rar_reader.rar_module", lambda: None)
    path = tmp_path / "x.bin"
    path.write_bytes(b"Rar!\x1a\x07\x01\x00" + random_bytes(5, 200))
    with open_source(path) as source:
        (item,) = collect(source)
    assert (item.kind, item.error) == ("archive", "RAR archives need unrar or bsdtar installed")
    assert item.payload is not None


def test_a_corrupt_member_does_not_stop_the_zip(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([("a.bin", random_bytes(1, 5000)), ("b.txt", b"b")]))
    start = data.index(b"a.bin") + len(b"a.bin")
    data[start + 100 : start + 200] = bytes(100)
    path = tmp_path / "bad.zip"
    path.write_bytes(bytes(data))
    items = _items(path)
    assert items[1][0] == "bad.zip > a.bin" and (items[1][1] or "").startswith("damaged:")
    assert items[2] == ("bad.zip > b.txt", None)
