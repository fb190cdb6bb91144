"""Disk images as read-only byte media: raw/dd (single or split) and EnCase E01.

An image is recognised by its content: the EWF signature, or a partition table or file
system boot record where a raw disk has one. Segments are found beside the first one
(``disk.001``, ``disk.002``, …; ``laptop.E01``, ``laptop.E02``, …). Every reader here
opens files read-only and offers one thing, ``read(offset, size)`` over the *media* (the
disk as it was acquired), which is what The Sleuth Kit and the carver read through.

An E01 stores the MD5 (and often SHA-1) of the media computed at acquisition;
:func:`verify_media` reads the whole media again and compares.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from raksha.errors import InputFormatError
from raksha.sources.base import MIB, open_readonly, reason_of

logger = logging.getLogger(__name__)

#: Enough of the start of a disk to see every signature below (ISO 9660 sits at 32 KiB).
SNIFF_SIZE = 34 * 1024
READ_CHUNK = 4 * MIB

_EWF1 = b"EVF\x09\x0d\x0a\xff\x00"
_EWF2 = b"EVF2\x0d\x0a\x81\x00"
_SPLIT_RAW = re.compile(r"^(?P<stem>.*\.)(?P<num>\d{3})$")
_EWF_SEGMENT = re.compile(r"^(?P<stem>.*\.)(?P<e>[EeLl])(?P<num>\d{2})$")


class ImageOpenError(InputFormatError):
    """A file looks like a disk image but cannot be opened as one (damaged, missing parts)."""


def _valid_mbr(head: bytes) -> bool:
    """A DOS partition table: boot signature, sane status bytes, at least one entry used."""
    if len(head) < 512 or head[510:512] != b"\x55\xaa":
        return False
    used = 0
    for i in range(4):
        entry = head[446 + 16 * i : 462 + 16 * i]
        if entry[0] not in (0x00, 0x80):
            return False
        if entry[4] != 0:
            used += 1
            start = int.from_bytes(entry[8:12], "little")
            length = int.from_bytes(entry[12:16], "little")
            if start == 0 or length == 0:
                return False
    return used > 0


def _boot_record(head: bytes) -> bool:
    """A file system that starts at sector 0 (a memory card without a partition table)."""
    if len(head) >= 512 and head[510:512] == b"\x55\xaa":
        if head[3:11] in (b"NTFS    ", b"EXFAT   "):
            return True
        if head[54:59] == b"FAT12" or head[54:59] == b"FAT16" or head[82:87] == b"FAT32":
            return True
    if len(head) >= 1082 and head[1080:1082] == b"\x53\xef":  # ext2/3/4 superblock magic
        return True
    if len(head) >= 1026 and head[1024:1026] in (b"H+", b"HX"):  # HFS+ / HFSX
        return True
    return len(head) >= 32774 and head[32769:32774] == b"CD001"  # ISO 9660


def sniff_disk_image(head: bytes) -> str | None:
    """``"ewf"`` or ``"raw"`` when ``head`` (the first :data:`SNIFF_SIZE` bytes) is a disk.

    A raw disk is recognised by a GPT header, a valid DOS partition table, or a file
    system boot record at offset 0; anything else is left to the other sources.
    """
    if head.startswith((_EWF1, _EWF2)):
        return "ewf"
    if len(head) >= 520 and head[512:520] == b"EFI PART":
        return "raw"
    if _valid_mbr(head) or _boot_record(head):
        return "raw"
    return None


def raw_segments(path: str) -> list[str]:
    """The parts of a split raw image starting at ``path`` (``x.001``, ``x.002``, …).

    A file whose name does not end in a three-digit number is a single-file image.
    """
    match = _SPLIT_RAW.match(os.path.basename(path))
    if match is None:
        return [path]
    folder = os.path.dirname(path)
    first = int(match["num"])
    width = len(match["num"])
    parts: list[str] = []
    n = first
    while True:
        candidate = os.path.join(folder, f"{match['stem']}{n:0{width}d}")
        if not os.path.isfile(candidate):
            break
        parts.append(candidate)
        n += 1
    return parts or [path]


def ewf_segments(path: str) -> list[str]:
    """The segment files of an EnCase image, found the way libewf names them."""
    import pyewf

    try:
        found = pyewf.glob(path)
    except OSError as exc:
        raise ImageOpenError(f"{path}: the E01 segments cannot be found: {reason_of(exc)}") from exc
    return sorted(found, key=_segment_order)


def _segment_order(path: str) -> tuple[str, int, str]:
    name = os.path.basename(path)
    match = _EWF_SEGMENT.match(name)
    if match is None:
        return (name, 0, name)
    return (match["stem"].lower(), int(match["num"]), name)


class Media(Protocol):
    """The bytes of an acquired disk, read-only."""

    format: str
    size: int
    segments: list[str]

    def read(self, offset: int, size: int) -> bytes: ...

    def close(self) -> None: ...


class RawMedia:
    """A raw/dd image, one file or split into parts that are read as one."""

    format = "raw"

    def __init__(self, segments: list[str]) -> None:
        self.segments = segments
        self._files: list[BinaryIO] = []
        self._starts: list[int] = []
        offset = 0
        try:
            for part in segments:
                stream = open_readonly(part)
                self._files.append(stream)
                self._starts.append(offset)
                offset += os.fstat(stream.fileno()).st_size
        except OSError as exc:
            self.close()
            raise ImageOpenError(f"{part} cannot be read: {reason_of(exc)}") from exc
        self.size = offset

    def read(self, offset: int, size: int) -> bytes:
        if offset < 0 or offset >= self.size or size <= 0:
            return b""
        size = min(size, self.size - offset)
        out: list[bytes] = []
        index = self._segment_at(offset)
        while size > 0 and index < len(self._files):
            start = self._starts[index]
            stream = self._files[index]
            local = offset - start
            data = os.pread(stream.fileno(), size, local)
            if not data:
                if local < self._segment_size(index):
                    raise OSError(f"short read in {self.segments[index]} at {local}")
                index += 1
                continue
            out.append(data)
            offset += len(data)
            size -= len(data)
            if offset >= start + self._segment_size(index):
                index += 1
        return b"".join(out)

    def _segment_at(self, offset: int) -> int:
        index = 0
        for i, start in enumerate(self._starts):
            if start <= offset:
                index = i
        return index

    def _segment_size(self, index: int) -> int:
        end = self._starts[index + 1] if index + 1 < len(self._starts) else self.size
        return end - self._starts[index]

    def close(self) -> None:
        for stream in self._files:
            with contextlib.suppress(OSError):
                stream.close()
        self._files = []


@dataclass(slots=True)
class AcquisitionInfo:
    """What an E01 says about its own acquisition (case number, examiner, media hashes)."""

    md5: str | None = None
    sha1: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class EwfMedia:
    """An EnCase (E01/Ex01) image through libewf; segments are opened read-only."""

    format = "ewf"

    def __init__(self, segments: list[str]) -> None:
        import pyewf

        self.segments = segments
        self._files: list[BinaryIO] = []
        self._handle: Any = pyewf.handle()
        try:
            self._files = [open_readonly(p) for p in segments]
            self._handle.open_file_objects(self._files)
            self.size = int(self._handle.get_media_size())
        except (OSError, ValueError, TypeError) as exc:
            self.close()
            raise ImageOpenError(
                f"{segments[0]} cannot be opened as an E01 image: {reason_of(exc)}"
            ) from exc

    def read(self, offset: int, size: int) -> bytes:
        if offset < 0 or offset >= self.size or size <= 0:
            return b""
        size = min(size, self.size - offset)
        data: bytes = self._handle.read_buffer_at_offset(size, offset)
        return data

    def acquisition(self) -> AcquisitionInfo:
        info = AcquisitionInfo()
        with contextlib.suppress(OSError):
            hashes = {str(k).upper(): v for k, v in (self._handle.get_hash_values() or {}).items()}
            info.md5 = _hash_text(hashes.get("MD5"))
            info.sha1 = _hash_text(hashes.get("SHA1"))
        with contextlib.suppress(OSError):
            values = self._handle.get_header_values() or {}
            info.headers = {str(k): str(v) for k, v in values.items() if v}
        return info

    def close(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            self._handle.close()
        for stream in self._files:
            with contextlib.suppress(OSError):
                stream.close()
        self._files = []


def _hash_text(value: object) -> str | None:
    if not value:
        return None
    text = str(value).strip().lower()
    if not text or set(text) == {"0"}:
        return None
    return text


def open_media(path: str, fmt: str) -> Media:
    """Open the image whose first segment is ``path`` (``fmt`` from :func:`sniff_disk_image`)."""
    if fmt == "ewf":
        return EwfMedia(ewf_segments(path))
    return RawMedia(raw_segments(path))


@dataclass(slots=True)
class Verification:
    """The media hashes read back now, set against the ones stored at acquisition."""

    md5: str
    sha1: str
    expected_md5: str | None
    expected_sha1: str | None
    bytes_read: int
    error: str | None = None

    @property
    def status(self) -> str:
        """``verified``, ``mismatch``, ``unreadable`` or ``no stored hash``."""
        if self.error is not None:
            return "unreadable"
        checks = [
            (self.expected_md5, self.md5),
            (self.expected_sha1, self.sha1),
        ]
        compared = [(e, got) for e, got in checks if e]
        if not compared:
            return "no stored hash"
        return "verified" if all(e == got for e, got in compared) else "mismatch"


def verify_media(
    media: Media,
    expected: AcquisitionInfo,
    on_bytes: Callable[[int], None] | None = None,
) -> Verification:
    """Read every byte of the media and compare MD5/SHA-1 with the acquisition hashes."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha1 = hashlib.sha1(usedforsecurity=False)
    offset = 0
    error = None
    while offset < media.size:
        try:
            data = media.read(offset, min(READ_CHUNK, media.size - offset))
        except OSError as exc:
            error = f"read failed at byte {offset:,}: {reason_of(exc)}"
            break
        if not data:
            error = f"the media ends at byte {offset:,}, before its stated size {media.size:,}"
            break
        md5.update(data)
        sha1.update(data)
        offset += len(data)
        if on_bytes is not None:
            on_bytes(len(data))
    return Verification(
        md5.hexdigest(), sha1.hexdigest(), expected.md5, expected.sha1, offset, error
    )
