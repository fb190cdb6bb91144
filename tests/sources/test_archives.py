"""Archives as evidence and inside evidence: every format, nesting, payloads, names."""

from __future__ import annotations

import os
import tarfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from raksha.sources.archives import ArchiveSource
from raksha.sources.base import BytesPayload, FilePayload, SourceLimits
from raksha.sources.detect import open_source
from raksha.sources.folder import FolderSource
from tests.sources.builders import (
    TarEntry,
    by_locator,
    collect,
    jpeg_bytes,
    payload_bytes,
    random_bytes,
    sevenzip_bytes,
    tar_bytes,
    zip_bytes,
)

MEMBERS = [("photos/2019/a.jpg", jpeg_bytes(1)), ("docs/b.txt", b"plain text\n"), ("e", b"")]


def _archive(kind: str) -> bytes:
    if kind == "zip":
        return zip_bytes(MEMBERS)
    if kind == "zip-stored":
        return zip_bytes(MEMBERS, zipfile.ZIP_STORED)
    if kind == "zip-bzip2":
        return zip_bytes(MEMBERS, zipfile.ZIP_BZIP2)
    if kind == "zip-lzma":
        return zip_bytes(MEMBERS, zipfile.ZIP_LZMA)
    if kind == "7z":
        return sevenzip_bytes(MEMBERS)
    return tar_bytes(MEMBERS, {"tar": "", "tgz": "gz", "tbz": "bz2", "txz": "xz"}[kind])


@pytest.mark.parametrize(
    "kind", ["zip", "zip-stored", "zip-bzip2", "zip-lzma", "tar", "tgz", "tbz", "txz", "7z"]
)
def test_an_archive_as_evidence_yields_itself_then_its_members(tmp_path: Path, kind: str) -> None:
    data = _archive(kind)
    path = tmp_path / "case.bin"  # the name says nothing; the content decides
    path.write_bytes(data)
    with open_source(path) as source:
        assert isinstance(source, ArchiveSource)
        items = collect(source)
    root = items[0]
    assert (root.locator, root.kind, root.depth, root.size) == ("case.bin", "archive", 0, len(data))
    assert isinstance(root.payload, FilePayload) and payload_bytes(root.payload) == data
    members = items[1:]
    assert [i.locator for i in members] == [f"case.bin > {name}" for name, _ in MEMBERS]
    for item, (_, content) in zip(members, MEMBERS, strict=True):
        assert (item.kind, item.depth, item.error, item.size) == ("file", 1, None, len(content))
        assert isinstance(item.payload, BytesPayload) and item.payload.data == content
        assert item.modified is not None and item.modified.tzinfo is UTC


def test_member_times_come_from_the_archive(tmp_path: Path) -> None:
    path = tmp_path / "t.tar"
    path.write_bytes(tar_bytes([TarEntry("a.txt", b"a", mtime=1_234_567_890)]))
    with open_source(path) as source:
        item = collect(source)[1]
    assert item.modified == datetime(2009, 2, 13, 23, 31, 30, tzinfo=UTC)
    zpath = tmp_path / "z.zip"
    zpath.write_bytes(zip_bytes([("a.txt", b"a")]))
    with open_source(zpath) as source:
        assert collect(source)[1].modified == datetime(2020, 5, 17, 12, 30, tzinfo=UTC)


def test_a_single_compressed_file_is_one_member(tmp_path: Path) -> None:
    import gzip

    picture = jpeg_bytes(9)
    path = tmp_path / "photo.jpg.gz"
    path.write_bytes(gzip.compress(picture))
    with open_source(path) as source:
        items = collect(source)
    assert [(i.locator, i.kind) for i in items] == [
        ("photo.jpg.gz", "archive"),
        ("photo.jpg.gz > photo.jpg", "file"),
    ]
    assert payload_bytes(items[1].payload) == picture


def test_nesting_is_followed_to_the_depth_limit_and_noted_there(tmp_path: Path) -> None:
    deep = jpeg_bytes(7)
    level3 = tar_bytes([("deep.jpg", deep)])
    level2 = zip_bytes([("l3.tar", level3)])
    level1 = tar_bytes([("l2.zip", level2), ("side.txt", b"side")])
    root = tmp_path / "ev"
    root.mkdir()
    (root / "outer.zip").write_bytes(zip_bytes([("l1.tar", level1)]))
    with FolderSource(root, SourceLimits(max_depth=3)) as source:
        items = collect(source)
    assert [(i.locator, i.kind, i.depth) for i in items] == [
        ("outer.zip", "archive", 0),
        ("outer.zip > l1.tar", "archive", 1),
        ("outer.zip > l1.tar > l2.zip", "archive", 2),
        ("outer.zip > l1.tar > l2.zip > l3.tar", "archive", 3),
        ("outer.zip > l1.tar > side.txt", "file", 2),
    ]
    stopped = items[3]
    assert stopped.note == "nested archive not opened: depth limit 3 reached"
    assert stopped.error is None and payload_bytes(stopped.payload) == level3
    with FolderSource(root, SourceLimits(max_depth=4)) as source:
        deeper = by_locator(collect(source))
    assert payload_bytes(deeper["outer.zip > l1.tar > l2.zip > l3.tar > deep.jpg"].payload) == deep


def test_content_decides_not_the_name(tmp_path: Path) -> None:
    root = tmp_path / "ev"
    root.mkdir()
    (root / "holiday.jpg").write_bytes(zip_bytes([("inside.txt", b"hidden")]))
    (root / "picture.zip").write_bytes(jpeg_bytes(3))
    (root / "data.dat").write_bytes(tar_bytes([("t.txt", b"t")], "xz"))
    with FolderSource(root) as source:
        items = collect(source)
    assert [(i.locator, i.kind, i.note) for i in items] == [
        ("data.dat", "archive", None),
        ("data.dat > t.txt", "file", None),
        ("holiday.jpg", "archive", None),
        ("holiday.jpg > inside.txt", "file", None),
        ("picture.zip", "file", None),
    ]


def test_repeated_member_names_are_numbered(tmp_path: Path) -> None:
    path = tmp_path / "dup.zip"
    with pytest.warns(UserWarning, match="Duplicate name"):
        path.write_bytes(zip_bytes([("a.txt", b"1"), ("a.txt", b"2"), ("a.txt #2", b"3")]))
    with open_source(path) as source:
        items = collect(source)[1:]
    assert [(i.locator, payload_bytes(i.payload)) for i in items] == [
        ("dup.zip > a.txt", b"1"),
        ("dup.zip > a.txt #2", b"2"),
        ("dup.zip > a.txt #2 #2", b"3"),
    ]


def test_member_names_that_are_not_utf8_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "n.tar"
    path.write_bytes(tar_bytes([(os.fsdecode(b"caf\xe9.txt"), b"c")]))
    with open_source(path) as source:
        item = collect(source)[1]
    assert item.locator == "n.tar > caf\\xe9.txt"
    item.locator.encode("utf-8")


def test_large_members_go_to_the_private_area_small_ones_stay_in_memory(tmp_path: Path) -> None:
    big, small = random_bytes(1, 5000), b"small"
    path = tmp_path / "mixed.tgz"
    path.write_bytes(tar_bytes([("big.bin", big), ("small.txt", small)], "gz"))
    source = open_source(path, SourceLimits(inline_limit=1024))
    items = collect(source)
    assert isinstance(items[2].payload, BytesPayload) and items[2].payload.data == small
    assert isinstance(items[1].payload, FilePayload)
    temp = source.temp_path  # type: ignore[attr-defined]
    assert temp is not None and os.path.dirname(items[1].payload.path) == temp
    assert (os.stat(temp).st_mode & 0o777) == 0o700
    assert payload_bytes(items[1].payload) == big
    source.close()
    assert not os.path.exists(temp)


def test_sevenzip_members_too_big_for_memory_spill_too(tmp_path: Path) -> None:
    big = random_bytes(2, 5000)
    path = tmp_path / "a.7z"
    path.write_bytes(sevenzip_bytes([("big.bin", big), ("s.txt", b"s")]))
    with open_source(path, SourceLimits(inline_limit=1024)) as source:
        items = collect(source)
        assert isinstance(items[1].payload, FilePayload)
        assert payload_bytes(items[1].payload) == big
        assert payload_bytes(items[2].payload) == b"s"


def test_tar_links_and_devices_are_items_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "links.tar"
    path.write_bytes(
        tar_bytes(
            [
                ("real.txt", b"real"),
                TarEntry("soft", type=tarfile.SYMTYPE, linkname="/etc/passwd"),
                TarEntry("hard", type=tarfile.LNKTYPE, linkname="real.txt"),
                TarEntry("dev", type=tarfile.CHRTYPE),
                TarEntry("pipe", type=tarfile.FIFOTYPE),
                TarEntry("dir/", type=tarfile.DIRTYPE),
                ("dir/after.txt", b"after"),
            ]
        )
    )
    with open_source(path) as source:
        items = collect(source)[1:]
    assert [(i.locator, i.kind, i.payload is None, i.error) for i in items] == [
        ("links.tar > real.txt", "file", False, None),
        ("links.tar > soft", "link", True, "symbolic link not followed (-> /etc/passwd)"),
        ("links.tar > hard", "link", True, "hard link not followed: same content as real.txt"),
        ("links.tar > dev", "special", True, "special file not read: character device"),
        ("links.tar > pipe", "special", True, "special file not read: fifo"),
        ("links.tar > dir/after.txt", "file", False, None),
    ]


def test_items_are_deterministic_across_runs(tmp_path: Path) -> None:
    root = tmp_path / "ev"
    root.mkdir()
    (root / "a.7z").write_bytes(sevenzip_bytes(MEMBERS))
    (root / "b.tgz").write_bytes(tar_bytes(MEMBERS, "gz"))
    (root / "c.zip").write_bytes(zip_bytes([*MEMBERS, ("n.zip", zip_bytes(MEMBERS))]))

    def run() -> list[tuple[str, str, bytes | None]]:
        with FolderSource(root, SourceLimits(inline_limit=10)) as source:
            return [
                (i.locator, i.kind, payload_bytes(i.payload) if i.payload else None)
                for i in source.items()
            ]

    first = run()
    assert first == run()
    assert len(first) == 3 + 3 * 3 + 1 + 3
