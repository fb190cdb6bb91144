"""Volumes and file systems inside a disk image, through The Sleuth Kit (``pytsk3``).

Nothing is mounted: TSK parses the partition table (DOS/MBR, GPT, …) and every file
system it knows (FAT12/16/32, exFAT, NTFS, ext2/3/4, HFS+, ISO 9660, …) straight from
the image bytes. Files are listed with their metadata, including entries the file system
still describes after deletion; the byte runs each file occupies are collected so the
carver can leave allocated space alone.

This module turns TSK's structures into plain values (:class:`Volume`, :class:`FsEntry`)
and TSK's exceptions into reasons; it decides nothing about items or locators.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytsk3

from raksha.sources.base import utc_from_timestamp
from raksha.sources.image_media import Media

logger = logging.getLogger(__name__)

MAX_DIR_DEPTH = 128
SECTOR = 512

_FS_NAMES = {
    pytsk3.TSK_FS_TYPE_FAT12: "FAT12",
    pytsk3.TSK_FS_TYPE_FAT16: "FAT16",
    pytsk3.TSK_FS_TYPE_FAT32: "FAT32",
    pytsk3.TSK_FS_TYPE_EXFAT: "exFAT",
    pytsk3.TSK_FS_TYPE_NTFS: "NTFS",
    pytsk3.TSK_FS_TYPE_EXT2: "ext2",
    pytsk3.TSK_FS_TYPE_EXT3: "ext3",
    pytsk3.TSK_FS_TYPE_EXT4: "ext4",
    pytsk3.TSK_FS_TYPE_HFS: "HFS+",
    pytsk3.TSK_FS_TYPE_ISO9660: "ISO 9660",
}
_VS_NAMES = {
    pytsk3.TSK_VS_TYPE_DOS: "DOS (MBR)",
    pytsk3.TSK_VS_TYPE_GPT: "GPT",
    pytsk3.TSK_VS_TYPE_MAC: "Apple",
    pytsk3.TSK_VS_TYPE_BSD: "BSD",
    pytsk3.TSK_VS_TYPE_SUN: "Sun",
}
_SKIP_NAMES = {b".", b".."}
_EXFAT_SYSTEM = {"$ALLOC_BITMAP", "$UPCASE_TABLE", "$VOLUME_GUID", "$TEX_FAT"}


class MediaImg(pytsk3.Img_Info):  # type: ignore[misc]
    """Lets TSK read any :class:`Media` (split raw, E01) through Python."""

    def __init__(self, media: Media) -> None:
        self._media = media
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        return self._media.read(offset, size)

    def get_size(self) -> int:
        return self._media.size

    def close(self) -> None:
        """The media belongs to the caller."""


@dataclass(slots=True, frozen=True)
class Volume:
    """One allocated partition: its number among the partitions, where it starts, its label."""

    number: int
    offset: int
    length: int
    description: str


@dataclass(slots=True)
class VolumeSystem:
    kind: str | None
    volumes: list[Volume]
    error: str | None = None


def volume_system(img: Any) -> VolumeSystem:
    """The partitions TSK finds; an empty list (and why) when there is no partition table."""
    try:
        vs = pytsk3.Volume_Info(img)
    except OSError as exc:
        return VolumeSystem(None, [], tsk_reason(exc))
    block = int(vs.info.block_size) or SECTOR
    volumes: list[Volume] = []
    for part in vs:
        if not int(part.flags) & pytsk3.TSK_VS_PART_FLAG_ALLOC:
            continue
        desc = part.desc.decode("utf-8", "replace").strip() if part.desc else ""
        volumes.append(
            Volume(len(volumes) + 1, int(part.start) * block, int(part.len) * block, desc)
        )
    return VolumeSystem(_VS_NAMES.get(vs.info.vstype, str(vs.info.vstype)), volumes)


def tsk_reason(exc: BaseException) -> str:
    """TSK's message without the C++ source position it starts with."""
    text = str(exc).strip()
    if ") " in text and text.startswith(("FS_Info", "Volume_Info", "Img_Info", "File")):
        text = text.split(") ", 1)[1]
    return text.replace("\n", " ").strip() or type(exc).__name__


@dataclass(slots=True)
class FsEntry:
    """One named (or orphaned) file system object, as TSK describes it."""

    path: str
    kind: str  # file, directory, link, special
    inode: str | None
    size: int | None
    allocated: bool
    modified: datetime | None
    accessed: datetime | None
    changed: datetime | None
    created: datetime | None
    runs: list[tuple[int, int]] = field(default_factory=list)  # absolute (offset, length)
    handle: Any = field(default=None, repr=False)
    error: str | None = None
    system: bool = False  # the file system's own metadata ($MFT, $Bitmap, …): not an item


def _time(seconds: Any, nanos: Any) -> datetime | None:
    if not seconds:
        return None
    return utc_from_timestamp(int(seconds) + int(nanos or 0) / 1e9)


class FileSystem:
    """One file system at a byte offset of the image."""

    def __init__(self, img: Any, offset: int) -> None:
        self.offset = offset
        self._fs = pytsk3.FS_Info(img, offset=offset)  # raises OSError when none is there
        info = self._fs.info
        self.kind = _FS_NAMES.get(info.ftype, f"type {int(info.ftype)}")
        self.block_size = int(info.block_size)
        self.size = int(info.block_count) * self.block_size

    def walk(self) -> Iterator[FsEntry]:
        """Every entry below the root, depth first in sorted name order, deleted ones too.

        A directory met again (a loop in a damaged or hostile file system) is reported
        once and not entered; so is one deeper than :data:`MAX_DIR_DEPTH`.
        """
        try:
            root = self._fs.open_dir(path="/")
        except OSError as exc:
            yield self._broken("/", "directory", f"root directory unreadable: {tsk_reason(exc)}")
            return
        seen: set[int] = {int(self._fs.info.root_inum)}
        yield from self._directory(root, "/", 0, seen)

    def _broken(self, path: str, kind: str, error: str) -> FsEntry:
        return FsEntry(path, kind, None, None, True, None, None, None, None, error=error)

    def _directory(
        self, directory: Any, prefix: str, depth: int, seen: set[int]
    ) -> Iterator[FsEntry]:
        children: list[tuple[bytes, Any]] = []
        try:
            for f in directory:
                name = f.info.name.name if f.info.name is not None else None
                if name is None or name in _SKIP_NAMES:
                    continue
                children.append((bytes(name), f))
        except OSError as exc:
            yield self._broken(prefix, "directory", f"directory listing damaged: {tsk_reason(exc)}")
        children.sort(key=lambda pair: pair[0])
        for raw_name, f in children:
            name = raw_name.decode("utf-8", "surrogateescape")
            path = prefix + name
            meta = f.info.meta
            if meta is not None and int(meta.type) == pytsk3.TSK_FS_META_TYPE_VIRT:
                continue  # TSK's own views of FAT tables and boot sectors, not files
            if name.endswith("(Volume Label Entry)"):
                continue  # a FAT volume label, which TSK lists as an empty file
            if meta is None and prefix == "/$OrphanFiles/":
                continue  # an orphan slot TSK lists with nothing in it (NTFS's reserved records)
            entry = self._entry(f, path)
            entry.system = self._is_system(path)
            if entry.kind != "directory":
                yield entry
                continue
            addr = int(meta.addr) if meta is not None else -1
            if addr in seen:
                entry.error = "directory not walked again: it was reached before (a loop?)"
                yield entry
                continue
            if depth + 1 > MAX_DIR_DEPTH:
                entry.error = f"directory not walked: deeper than {MAX_DIR_DEPTH} levels"
                yield entry
                continue
            seen.add(addr)
            yield entry
            try:
                sub = f.as_directory()
            except OSError as exc:
                entry.error = f"directory unreadable: {tsk_reason(exc)}"
                continue
            yield from self._directory(sub, path + "/", depth + 1, seen)

    def _is_system(self, path: str) -> bool:
        """NTFS metafiles at the root (and ``$Extend``), exFAT's bitmap and up-case table."""
        if self.kind == "NTFS":
            return path.startswith("/$") and not path.startswith("/$OrphanFiles")
        if self.kind == "exFAT":
            return path.lstrip("/") in _EXFAT_SYSTEM
        return False

    def _entry(self, f: Any, path: str) -> FsEntry:
        meta = f.info.meta
        name_flags = int(f.info.name.flags)
        name_alloc = bool(name_flags & pytsk3.TSK_FS_NAME_FLAG_ALLOC)
        if meta is None:
            return FsEntry(path, "file", None, None, False, None, None, None, None)
        meta_alloc = bool(int(meta.flags) & pytsk3.TSK_FS_META_FLAG_ALLOC)
        mtype = int(meta.type)
        if mtype in (pytsk3.TSK_FS_META_TYPE_DIR, pytsk3.TSK_FS_META_TYPE_VIRT_DIR):
            kind = "directory"
        elif mtype == pytsk3.TSK_FS_META_TYPE_LNK:
            kind = "link"
        elif mtype in (pytsk3.TSK_FS_META_TYPE_REG, pytsk3.TSK_FS_META_TYPE_UNDEF):
            kind = "file"
        else:
            kind = "special"
        entry = FsEntry(
            path,
            kind,
            str(int(meta.addr)),
            int(meta.size),
            name_alloc and meta_alloc,
            _time(meta.mtime, meta.mtime_nano),
            _time(meta.atime, meta.atime_nano),
            _time(meta.ctime, meta.ctime_nano),
            _time(meta.crtime, meta.crtime_nano),
            handle=f,
        )
        if kind == "file":
            entry.runs = self._runs(f)
        return entry

    def _runs(self, f: Any) -> list[tuple[int, int]]:
        """The absolute byte ranges the file's data attributes point at (not sparse ones)."""
        runs: list[tuple[int, int]] = []
        skip = pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE | pytsk3.TSK_FS_ATTR_RUN_FLAG_FILLER
        try:
            for attr in f:
                for run in attr:
                    if int(run.flags) & skip or int(run.len) <= 0:
                        continue
                    start = self.offset + int(run.addr) * self.block_size
                    runs.append((start, int(run.len) * self.block_size))
        except OSError:
            return runs
        return runs

    def read(self, entry: FsEntry, offset: int, size: int) -> bytes:
        """Bytes of a file's content; OSError (with TSK's reason) when they cannot be read."""
        try:
            data: bytes = entry.handle.read_random(offset, size)
        except OSError as exc:
            raise OSError(tsk_reason(exc)) from exc
        return data
