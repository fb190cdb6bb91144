"""Disk images built by real tools: every planted picture found, deleted ones marked,
carved ones at their offset, and every container and layout the issue names."""

from __future__ import annotations

import hashlib
from datetime import UTC
from pathlib import Path

import pytest

from raksha.sources.base import BytesPayload, FilePayload, SourceItem
from raksha.sources.detect import open_source
from raksha.sources.disk_image import DiskImageSource
from raksha.sources.image_media import sniff_disk_image, verify_media
from tests.sources import disk_builders as b

PICTURES = {
    "/DCIM/Camera/IMG_0001.jpg": b.jpeg(1),
    "/DCIM/Camera/IMG_0002.jpg": b.jpeg(2),
    "/WhatsApp/Media/WhatsApp Images/IMG-20191012-WA0001.jpg": b.jpeg(3),
    "/Pictures/logo.png": b.png(4),
    "/Pictures/gone.jpg": b.jpeg(5, (400, 300)),
}


def _payload_bytes(item: SourceItem) -> bytes:
    if isinstance(item.payload, BytesPayload):
        return item.payload.data
    assert isinstance(item.payload, FilePayload)
    return Path(item.payload.path).read_bytes()


def _walk(path: Path) -> dict[str, tuple[SourceItem, bytes | None]]:
    source = open_source(path)
    assert isinstance(source, DiskImageSource)
    out: dict[str, tuple[SourceItem, bytes | None]] = {}
    with source:
        for item in source.items():
            data = _payload_bytes(item) if item.payload is not None else None
            out[item.locator] = (item, data)
    return out


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> b.Disk:
    """A laptop-like MBR disk: FAT16 (one picture deleted, one wiped), ext4 (one deleted),
    NTFS, and an empty exFAT volume."""
    tmp = tmp_path_factory.mktemp("disk")
    fat = b.fat_volume(tmp / "fat.img", PICTURES)
    b.fat_delete(fat, "/DCIM/Camera/IMG_0002.jpg")
    b.fat_wipe_entry(fat, "/Pictures/gone.jpg")
    ext = b.ext_volume(
        tmp / "ext.img", {"/home/ravi/Pictures/a.jpg": b.jpeg(11), "/home/ravi/b.png": b.png(12)}
    )
    b.ext_delete(ext, "/home/ravi/Pictures/a.jpg")
    ntfs = b.ntfs_volume(tmp / "ntfs.img", {"/photo.jpg": b.jpeg(21), "/scan.png": b.png(22)})
    exfat = b.exfat_volume(tmp / "exfat.img")
    return b.partitioned(tmp / "laptop.dd", [fat, ext, ntfs, exfat])


def _check_planted(disk: b.Disk, found: dict[str, tuple[SourceItem, bytes | None]]) -> None:
    root = disk.image.name
    by_content = {hashlib.sha256(d).hexdigest(): it for it, d in found.values() if d is not None}
    for number, offset, planted in disk.planted():
        digest = hashlib.sha256(planted.data).hexdigest()
        assert digest in by_content, f"{planted.path} in partition {number} not found"
        item = by_content[digest]
        if planted.carved_offset is not None:
            assert item.allocation == "carved"
            assert item.offset == offset + planted.carved_offset
            assert item.locator.endswith(f"[carved jpeg @ {offset + planted.carved_offset}]")
            continue
        assert item.allocation == ("deleted" if planted.deleted else "allocated"), planted.path
        if not planted.deleted:
            assert item.locator == f"{root} > partition {number} @ {offset} > {planted.path}"
        assert item.inode is not None
        # Small NTFS files are resident in their MFT record: no data run, so no offset.
        resident = "NTFS" in (found[item.locator.rsplit(" > ", 1)[0]][0].note or "") and (
            len(planted.data) < 1024
        )
        assert (item.offset is None) == resident, planted.path
        assert item.modified is not None and item.modified.tzinfo == UTC


def test_mbr_disk_every_planted_picture_found_deleted_marked_carved_located(
    disk: b.Disk,
) -> None:
    found = _walk(disk.image)
    _check_planted(disk, found)
    root, _ = found["laptop.dd"]
    assert root.kind == "image" and "4 partitions" in (root.note or "")
    volumes = [it for it, _ in found.values() if it.kind == "volume"]
    kinds = [v.note for v in volumes]
    assert [k.rsplit("; ", 1)[-1] for k in kinds if k] == [
        "FAT16 file system",
        "ext4 file system",
        "NTFS file system",
        "exFAT file system",
    ]
    # No NTFS or exFAT metadata files as items, nothing failed.
    assert not [loc for loc in found if "$MFT" in loc or "$UPCASE" in loc]
    assert [(loc, it.error) for loc, (it, _) in found.items() if it.error] == []


def test_deleted_fat_entry_keeps_its_bytes_and_mangled_name(disk: b.Disk) -> None:
    found = _walk(disk.image)
    deleted = [it for it, _ in found.values() if it.allocation == "deleted"]
    names = sorted(it.locator.rsplit("/", 1)[-1] for it in deleted)
    # FAT overwrites the first character of a deleted short name; ext keeps the whole name.
    assert names in (["_MG_0002.jpg", "a.jpg"], ["IMG_0002.jpg", "a.jpg"])
    assert all("deleted" in (it.note or "") for it in deleted)


def test_gpt_disk_and_fat32(tmp_path: Path) -> None:
    fat = b.fat_volume(tmp_path / "fat32.img", {"/x/y.jpg": b.jpeg(31)}, size_mib=40, bits=32)
    ext = b.ext_volume(tmp_path / "ext.img", {"/z.png": b.png(32)})
    disk = b.partitioned(tmp_path / "gpt.img", [fat, ext], label="gpt")
    found = _walk(disk.image)
    _check_planted(disk, found)
    root, _ = found["gpt.img"]
    assert "GPT partition table" in (root.note or "")
    assert any("FAT32" in (it.note or "") for it, _ in found.values() if it.kind == "volume")


def test_split_raw_image_reads_as_one_disk(disk: b.Disk, tmp_path: Path) -> None:
    copy = tmp_path / "laptop.dd"
    copy.write_bytes(disk.image.read_bytes())
    parts = b.split_raw(copy, 5 * b.MIB + 512)  # segment borders fall inside files
    assert len(parts) > 5
    copy.unlink()
    found = _walk(parts[0])
    single = _walk(disk.image)
    strip = len("laptop.001")
    assert {k[strip:]: v[1] for k, v in found.items()} == {
        k[len("laptop.dd") :]: v[1] for k, v in single.items()
    }
    root, _ = found["laptop.001"]
    assert f"in {len(parts)} segments" in (root.note or "")


def test_e01_single_and_segmented_match_the_raw_image(disk: b.Disk, tmp_path: Path) -> None:
    e01 = b.ewf(disk.image, tmp_path / "laptop")
    segmented = b.ewf(disk.image, tmp_path / "seg", segment_size=8 * b.MIB)
    assert (tmp_path / "seg.E02").exists()
    single = {k[len("laptop.dd") :]: v[1] for k, v in _walk(disk.image).items()}
    for image in (e01, segmented):
        found = _walk(image)
        assert {k[len(image.name) :]: v[1] for k, v in found.items()} == single
    source = open_source(segmented)
    assert isinstance(source, DiskImageSource)
    with source:
        acquired = source.acquisition()
        expected = hashlib.md5(disk.image.read_bytes(), usedforsecurity=False).hexdigest()
        assert acquired.md5 == expected
        assert acquired.sha1 == hashlib.sha1(disk.image.read_bytes()).hexdigest()
        assert acquired.headers["case_number"] == "FIR 7/2026"
        result = verify_media(source.media, acquired)
        assert result.status == "verified" and result.bytes_read == disk.image.stat().st_size


def test_e01_with_a_changed_byte_fails_verification(disk: b.Disk, tmp_path: Path) -> None:
    e01 = b.ewf(disk.image, tmp_path / "tampered")
    raw = bytearray(e01.read_bytes())
    picture = PICTURES["/DCIM/Camera/IMG_0001.jpg"]
    at = raw.find(picture[200:264])  # uncompressed chunks: the picture's bytes are in the E01
    assert at > 0
    raw[at] ^= 0xFF
    e01.write_bytes(bytes(raw))
    source = open_source(e01)
    assert isinstance(source, DiskImageSource)
    with source:
        result = verify_media(source.media, source.acquisition())
    assert result.status in ("mismatch", "unreadable")
    assert result.md5 != result.expected_md5


def test_memory_card_without_partition_table_and_iso(tmp_path: Path) -> None:
    card = b.fat_volume(tmp_path / "card.img", {"/DCIM/100MEDIA/a.jpg": b.jpeg(41)})
    found = _walk(card.image)
    assert "card.img > volume @ 0 > /DCIM/100MEDIA/a.jpg" in found
    iso = b.iso_volume(tmp_path / "disc.iso", {"/pics/b.jpg": b.jpeg(42)})
    found = _walk(iso.image)
    data = [d for it, d in found.values() if it.kind == "file"]
    assert data == [iso.files[0].data]
    assert any("ISO 9660" in (it.note or "") for it, _ in found.values())


def test_sniffing_by_content_not_name(disk: b.Disk, tmp_path: Path) -> None:
    head = disk.image.read_bytes()[:40000]
    assert sniff_disk_image(head) == "raw"
    assert sniff_disk_image(b"EVF\x09\x0d\x0a\xff\x00" + bytes(100)) == "ewf"
    assert sniff_disk_image(bytes(4096)) is None
    assert sniff_disk_image(b.jpeg(1)[:40000]) is None
    renamed = tmp_path / "holiday.jpg"
    renamed.write_bytes(disk.image.read_bytes())
    assert isinstance(open_source(renamed), DiskImageSource)


def test_image_is_never_modified(disk: b.Disk) -> None:
    before = hashlib.sha256(disk.image.read_bytes()).hexdigest()
    mtime = disk.image.stat().st_mtime_ns
    _walk(disk.image)
    assert hashlib.sha256(disk.image.read_bytes()).hexdigest() == before
    assert disk.image.stat().st_mtime_ns == mtime
