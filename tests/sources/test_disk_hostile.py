"""Damaged and hostile disk images: each problem is an item with a reason, the walk goes on.

Every image here is built by real tools and then damaged the way seized media are:
a truncated acquisition, a partition table that points past the end, a wiped
superblock, a directory that contains itself, a file claiming an absurd size, garbage.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from raksha.sources.base import BytesPayload, SourceItem
from raksha.sources.detect import SingleFileSource, open_source
from raksha.sources.disk_image import DiskImageSource
from tests.sources import disk_builders as b

FAT_FILES = {"/A/B/c.jpg": b.jpeg(1), "/A/d.jpg": b.jpeg(2), "/e.jpg": b.jpeg(3)}


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> b.Disk:
    tmp = tmp_path_factory.mktemp("hostile")
    fat = b.fat_volume(tmp / "fat.img", FAT_FILES)
    ext = b.ext_volume(tmp / "ext.img", {"/x/y.jpg": b.jpeg(4, (640, 480))})
    return b.partitioned(tmp / "disk.img", [fat, ext])


def _items(path: Path) -> dict[str, SourceItem]:
    source = open_source(path)
    assert isinstance(source, DiskImageSource)
    with source:
        return {item.locator: item for item in source.items()}


def _data(item: SourceItem) -> bytes:
    assert isinstance(item.payload, BytesPayload)
    return item.payload.data


def _ext_file_offset(disk: b.Disk) -> int:
    items = _items(disk.image)
    y = items[f"disk.img > partition 2 @ {disk.partitions[1][0]} > /x/y.jpg"]
    assert y.offset is not None
    return y.offset


def test_truncated_image_reports_the_cut_and_keeps_everything_before_it(
    disk: b.Disk, tmp_path: Path
) -> None:
    cut = _ext_file_offset(disk) + 100  # inside the ext4 picture
    image = tmp_path / "disk.img"
    image.write_bytes(disk.image.read_bytes()[:cut])
    items = _items(image)
    fat_at = disk.partitions[0][0]
    for name, data in FAT_FILES.items():
        assert _data(items[f"disk.img > partition 1 @ {fat_at} > {name}"]) == data
    ext_at = disk.partitions[1][0]
    volume = items[f"disk.img > partition 2 @ {ext_at}"]
    assert "past the end of the image" in (volume.error or "")
    # TSK still lists the picture (its inode lies before the cut); its bytes do not.
    y = items[f"disk.img > partition 2 @ {ext_at} > /x/y.jpg"]
    assert y.payload is None
    assert (y.error or "").startswith("unreadable: ") and "partial image" in (y.error or "")


def test_partition_table_pointing_past_the_end(disk: b.Disk, tmp_path: Path) -> None:
    raw = bytearray(disk.image.read_bytes())
    entry = 446 + 16  # the second partition's entry
    raw[entry + 12 : entry + 16] = (10**7).to_bytes(4, "little")  # ~5 GB long
    image = tmp_path / "disk.img"
    image.write_bytes(bytes(raw))
    items = _items(image)
    volume = items[f"disk.img > partition 2 @ {disk.partitions[1][0]}"]
    assert "past the end of the image" in (volume.error or "")
    found = {_data(it) for it in items.values() if isinstance(it.payload, BytesPayload)}
    assert set(FAT_FILES.values()) | {b.jpeg(4, (640, 480))} <= found


def test_wiped_superblock_partition_is_reported_and_carved(disk: b.Disk, tmp_path: Path) -> None:
    raw = bytearray(disk.image.read_bytes())
    ext_at = disk.partitions[1][0]
    raw[ext_at + 1024 : ext_at + 2048] = bytes(1024)
    image = tmp_path / "disk.img"
    image.write_bytes(bytes(raw))
    items = _items(image)
    volume = items[f"disk.img > partition 2 @ {ext_at}"]
    assert "no file system recognised" in (volume.error or "")
    carved = [it for it in items.values() if it.allocation == "carved"]
    assert [_data(it) for it in carved] == [b.jpeg(4, (640, 480))]
    assert carved[0].offset == _ext_file_offset(disk)


def _fat_entry(raw: bytes | bytearray, short_name: bytes) -> int:
    at = raw.find(short_name)
    while at >= 0 and at % 32:
        at = raw.find(short_name, at + 1)
    assert at >= 0, short_name
    return at


def test_directory_loop_is_reported_once_and_the_walk_ends(tmp_path: Path) -> None:
    fat = b.fat_volume(tmp_path / "card.img", FAT_FILES)
    raw = bytearray(fat.image.read_bytes())
    a = _fat_entry(raw, b"A          \x10")
    bb = _fat_entry(raw, b"B          \x10")
    raw[bb + 26 : bb + 28] = raw[a + 26 : a + 28]  # B's first cluster := A's: B contains B
    fat.image.write_bytes(bytes(raw))
    items = _items(fat.image)
    assert len(items) < 50
    loops = [it for it in items.values() if "loop" in (it.error or "")]
    assert loops, "the loop must be reported"
    assert _data(items["card.img > volume @ 0 > /e.jpg"]) == FAT_FILES["/e.jpg"]


def test_absurd_declared_size_is_not_read_and_the_picture_is_carved(tmp_path: Path) -> None:
    """A directory entry claiming ~4 GiB on a 16 MiB card: TSK rejects the entry; the
    picture is still found by carving."""
    fat = b.fat_volume(tmp_path / "card.img", FAT_FILES)
    raw = bytearray(fat.image.read_bytes())
    entry = _fat_entry(raw, b"E       JPG")
    raw[entry + 28 : entry + 32] = (0xFFFFFFF0).to_bytes(4, "little")
    fat.image.write_bytes(bytes(raw))
    items = _items(fat.image)
    assert "card.img > volume @ 0 > /e.jpg" not in items  # TSK drops the entry
    carved = [it for it in items.values() if it.allocation == "carved"]
    assert [_data(it) for it in carved] == [FAT_FILES["/e.jpg"]]
    assert _data(items["card.img > volume @ 0 > /A/d.jpg"]) == FAT_FILES["/A/d.jpg"]


def test_garbage_after_a_boot_signature_is_carved_not_crashed(tmp_path: Path) -> None:
    """A boot sector claiming FAT16 over random bytes: no file system, pictures carved."""
    import random

    rng = random.Random(5)
    raw = bytearray(rng.randbytes(4 * b.MIB))
    raw[:512] = bytes(512)
    raw[54:59] = b"FAT16"
    raw[510:512] = b"\x55\xaa"
    picture = b.png(9)
    raw[3 * b.MIB : 3 * b.MIB + len(picture)] = picture
    image = tmp_path / "card.bin"
    image.write_bytes(bytes(raw))
    items = _items(image)
    volume = items["card.bin > volume @ 0"]
    assert "no file system recognised" in (volume.error or "")
    carved = [it for it in items.values() if it.allocation == "carved"]
    assert [(it.offset, _data(it)) for it in carved] == [(3 * b.MIB, picture)]


def test_random_file_is_not_taken_for_a_disk(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(600))
    assert isinstance(open_source(path), SingleFileSource)
