"""Real disk images built at test time with Debian's own tools, and what was planted in them.

Nothing is mounted and nothing needs root: ``mkfs.fat`` + ``mtools`` write FAT volumes,
``mke2fs -d`` populates ext4 from a folder, ``debugfs -w`` deletes from it, ``mkntfs`` +
``ntfscp`` write NTFS, ``genisoimage`` ISO 9660, ``sfdisk`` the partition tables and
``ewfacquire`` the E01. Each builder returns the planted files with their expected places,
so a test can check every one of them was found, deleted ones marked and carved ones at
the right offset.

When a tool is missing the test is skipped, unless RAKSHA_TEST_REQUIRE_DISK_TOOLS=1
(CI, which installs them), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from raksha.synthetic import images as synth

REQUIRE = os.environ.get("RAKSHA_TEST_REQUIRE_DISK_TOOLS") == "1"
SECTOR = 512
MIB = 1024 * 1024


def require(*tools: str) -> None:
    """Skip (or, in CI, fail) unless every named program is on PATH."""
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    message = f"disk image tools missing: {', '.join(missing)} (Debian: dosfstools mtools "
    message += "e2fsprogs fdisk ntfs-3g genisoimage ewf-tools)"
    if REQUIRE:
        pytest.fail(message)
    pytest.skip(message)


def run(*args: str | Path, stdin: str | None = None) -> None:
    subprocess.run(
        [str(a) for a in args],
        check=True,
        input=stdin,
        text=True,
        capture_output=True,
        env={**os.environ, "MTOOLS_SKIP_CHECK": "1"},
    )


def jpeg(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    return synth.jpeg_bytes(synth.photo_like(seed, *size), quality=85)


def png(seed: int, size: tuple[int, int] = (200, 150)) -> bytes:
    return synth.png_bytes(synth.graphic_like(seed, *size))


@dataclass
class Planted:
    """A file put into a volume: its path there, its bytes, and how it should be found."""

    path: str
    data: bytes
    deleted: bool = False
    carved_offset: int | None = None  # offset in its volume when only carving finds it


@dataclass
class Volume:
    image: Path
    files: list[Planted] = field(default_factory=list)


def fat_volume(
    path: Path, files: dict[str, bytes], *, size_mib: int = 16, bits: int = 16
) -> Volume:
    """A FAT volume holding ``files`` (paths like ``/DCIM/a.jpg``)."""
    require("mkfs.fat", "mcopy", "mmd")
    run("truncate", "-s", f"{size_mib}M", path)
    run("mkfs.fat", "-F", str(bits), "-n", "CARD", path)
    made: set[str] = set()
    staging = path.parent / f"{path.name}.staging"
    staging.mkdir(exist_ok=True)
    volume = Volume(path)
    for i, (name, data) in enumerate(sorted(files.items())):
        parts = name.strip("/").split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in made:
                run("mmd", "-i", path, f"::/{folder}")
                made.add(folder)
        local = staging / f"f{i}"
        local.write_bytes(data)
        run("mcopy", "-i", path, local, f"::/{'/'.join(parts)}")
        volume.files.append(Planted(name, data))
    shutil.rmtree(staging)
    return volume


def fat_delete(volume: Volume, name: str) -> None:
    """Delete with ``mdel``: the entry is marked free, its bytes stay."""
    run("mdel", "-i", volume.image, f"::{name}")
    for planted in volume.files:
        if planted.path == name:
            planted.deleted = True


def fat_wipe_entry(volume: Volume, name: str) -> None:
    """Delete, then zero the directory entry, so only carving can find the picture.

    The 8.3 entry of a deleted file starts with 0xE5 and keeps the other ten bytes of its
    short name; those 32 bytes are overwritten with zeros (and the long-name entries
    before it, which hold the name in UTF-16).
    """
    planted = next(p for p in volume.files if p.path == name)
    before = volume.image.read_bytes()
    data_at = before.find(planted.data)
    assert data_at >= 0
    cluster = _fat_cluster(before, data_at)
    fat_delete(volume, name)
    raw = bytearray(volume.image.read_bytes())
    at = -1
    for pos in range(0, len(raw) - 32, 32):
        entry = raw[pos : pos + 32]
        first = (
            int.from_bytes(entry[26:28], "little") | int.from_bytes(entry[20:22], "little") << 16
        )
        if entry[0] == 0xE5 and entry[11] != 0x0F and first == cluster:
            at = pos
            break
    assert at >= 0, f"no deleted entry for {name}"
    start = at
    while start >= 32 and raw[start - 32 + 11] == 0x0F:  # long-name entries before it
        start -= 32
    raw[start : at + 32] = bytes(at + 32 - start)
    volume.image.write_bytes(bytes(raw))
    planted.deleted = True
    planted.carved_offset = data_at


def _fat_cluster(raw: bytes, offset: int) -> int:
    """The FAT cluster number that holds byte ``offset`` of the volume."""
    bps = int.from_bytes(raw[11:13], "little")
    spc = raw[13]
    reserved = int.from_bytes(raw[14:16], "little")
    fats = raw[16]
    root_entries = int.from_bytes(raw[17:19], "little")
    fat_size = int.from_bytes(raw[22:24], "little") or int.from_bytes(raw[36:40], "little")
    data_start = (reserved + fats * fat_size) * bps + root_entries * 32
    return (offset - data_start) // (spc * bps) + 2


def _staged_tree(path: Path, files: dict[str, bytes]) -> tuple[Path, Volume]:
    """``files`` written into a folder beside ``path``, for tools that build from a folder."""
    root = path.parent / f"{path.name}.root"
    volume = Volume(path)
    for name, data in files.items():
        target = root / name.strip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        volume.files.append(Planted(name, data))
    return root, volume


def ext_volume(path: Path, files: dict[str, bytes], *, size_mib: int = 16) -> Volume:
    """An ext4 volume populated from a folder by ``mke2fs -d`` (no mount)."""
    require("mke2fs", "debugfs")
    root, volume = _staged_tree(path, files)
    run("truncate", "-s", f"{size_mib}M", path)
    run("mke2fs", "-q", "-F", "-t", "ext4", "-d", root, path)
    shutil.rmtree(root)
    return volume


def ext_delete(volume: Volume, name: str) -> None:
    run("debugfs", "-w", "-R", f"rm {name}", volume.image)
    for planted in volume.files:
        if planted.path == name:
            planted.deleted = True


def ntfs_volume(path: Path, files: dict[str, bytes], *, size_mib: int = 16) -> Volume:
    """An NTFS volume written by ``mkntfs`` and filled by ``ntfscp`` (root folder only)."""
    require("mkntfs", "ntfscp")
    run("truncate", "-s", f"{size_mib}M", path)
    run("mkntfs", "-q", "-F", "-f", "-L", "LAPTOP", path)
    volume = Volume(path)
    staging = path.parent / f"{path.name}.staging"
    staging.mkdir(exist_ok=True)
    for i, (name, data) in enumerate(sorted(files.items())):
        assert name.count("/") == 1, "ntfscp writes into existing folders only: use /name"
        local = staging / f"f{i}"
        local.write_bytes(data)
        run("ntfscp", "-f", path, local, name)
        volume.files.append(Planted(name, data))
    shutil.rmtree(staging)
    return volume


def iso_volume(path: Path, files: dict[str, bytes]) -> Volume:
    """An ISO 9660 image (Rock Ridge names) built from a folder by ``genisoimage``."""
    require("genisoimage")
    root, volume = _staged_tree(path, files)
    run("genisoimage", "-quiet", "-R", "-o", path, root)
    shutil.rmtree(root)
    return volume


def exfat_volume(path: Path, *, size_mib: int = 16) -> Volume:
    """An empty exFAT volume (exfatprogs cannot add files without mounting)."""
    require("mkfs.exfat")
    run("truncate", "-s", f"{size_mib}M", path)
    run("mkfs.exfat", "-L", "CARD", path)
    return Volume(path)


@dataclass
class Disk:
    """A partitioned disk: the image, and per partition its byte offset and planted files."""

    image: Path
    partitions: list[tuple[int, Volume]]

    def planted(self) -> list[tuple[int, int, Planted]]:
        """(partition number, partition offset, planted file) for every file on the disk."""
        return [
            (number, offset, p)
            for number, (offset, vol) in enumerate(self.partitions, start=1)
            for p in vol.files
        ]


def partitioned(path: Path, volumes: list[Volume], *, label: str = "dos") -> Disk:
    """Lay ``volumes`` out as partitions (``sfdisk``, DOS or GPT) of one raw disk image."""
    require("sfdisk")
    start = 2048
    lines = [f"label: {label}"]
    placed: list[tuple[int, Volume]] = []
    for vol in volumes:
        sectors = vol.image.stat().st_size // SECTOR
        kind = "0FC63DAF-8483-4772-8E79-3D69D8477DE4" if label == "gpt" else "83"
        lines.append(f"start={start}, size={sectors}, type={kind}")
        placed.append((start * SECTOR, vol))
        start += sectors + 2048
    total = (start + 2048) * SECTOR
    run("truncate", "-s", str(total), path)
    run("sfdisk", "-q", path, stdin="\n".join(lines) + "\n")
    with path.open("r+b") as disk:
        for offset, vol in placed:
            disk.seek(offset)
            disk.write(vol.image.read_bytes())
    return Disk(path, placed)


def split_raw(image: Path, part_size: int) -> list[Path]:
    """``split`` a raw image into ``name.001``, ``name.002``, … of ``part_size`` bytes."""
    stem = image.with_suffix("")
    run("split", "-b", str(part_size), "-d", "-a", "3", "--numeric-suffixes=1", image, f"{stem}.")
    return sorted(image.parent.glob(f"{stem.name}.[0-9][0-9][0-9]"))


def ewf(image: Path, target: Path, *, segment_size: int | None = None) -> Path:
    """Acquire ``image`` into an EnCase 6 E01 (MD5 and SHA-1 stored); returns the .E01."""
    require("ewfacquire")
    args: list[str | Path] = ["ewfacquire", "-u", "-q", "-t", target, "-f", "encase6"]
    args += ["-c", "none", "-d", "sha1", "-C", "FIR 7/2026", "-e", "examiner", "-E", "EX-1"]
    if segment_size is not None:
        args += ["-S", str(segment_size)]
    run(*args, image)
    return target.with_suffix(".E01")
