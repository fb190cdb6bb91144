"""A seized device's disk image as a source: every file, deleted ones, and carved pictures.

The walk, for an image ``laptop.E01``:

1. the image itself (an item with no payload: its container hash is on the evidence);
2. each allocated partition of the volume system (``laptop.E01 > partition 2 @ 1048576``),
   or the whole media as one volume (``card.dd > volume @ 0``) when there is no partition
   table;
3. every file of the file system TSK finds there, allocated or deleted
   (``… > partition 2 @ 1048576 > /Users/x/Pictures/a.jpg``), with its inode, MAC(B)
   times in UTC and its bytes; archives inside are opened as anywhere else;
4. JPEG and PNG pictures carved from space that no listed file occupies
   (``laptop.E01 > [carved jpeg @ 73400320]``, the absolute byte offset in the media).

Damage never stops the walk: a partition with no readable file system, a file whose
bytes cannot be read, a declared size larger than the volume, a directory loop: each is
an item with the reason, and the walk goes on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from raksha.sources.archives import expand, new_context, payload_opener
from raksha.sources.base import (
    DEFAULT_LIMITS,
    MIB,
    SEPARATOR,
    ArchiveLimitError,
    BaseSource,
    SourceItem,
    SourceLimits,
    escape_name,
    human_size,
    reason_of,
)
from raksha.sources.capture import Captured, ReadContext
from raksha.sources.carving import MAX_CARVE, carve, free_ranges
from raksha.sources.image_media import AcquisitionInfo, EwfMedia, Media, open_media
from raksha.sources.magic import sniff_archive
from raksha.sources.tsk_fs import (
    FileSystem,
    FsEntry,
    MediaImg,
    Volume,
    tsk_reason,
    volume_system,
)

logger = logging.getLogger(__name__)

READ_CHUNK = 4 * MIB

#: Called with a full locator; True when that item is stored already (a resumed scan).
AlreadyDone = Callable[[str], bool]


class DiskImageSource(BaseSource):
    """A raw/dd (single or split) or E01 image, walked through TSK without mounting."""

    NAME = "disk image"

    def __init__(
        self,
        path: Path,
        fmt: str,
        limits: SourceLimits = DEFAULT_LIMITS,
        *,
        temp_dir: str | os.PathLike[str] | None = None,
        carve_free_space: bool = True,
    ) -> None:
        super().__init__(escape_name(path.name or str(path)), limits, temp_dir)
        self.path = os.fspath(path)
        self.format = fmt
        self.carve_free_space = carve_free_space
        self.already_done: AlreadyDone | None = None
        self.media: Media = open_media(self.path, fmt)
        self.summary: dict[str, Any] = {
            "format": fmt,
            "segments": [os.path.basename(s) for s in self.media.segments],
            "media_size": self.media.size,
        }
        try:
            self._probe()
        except BaseException:
            self.media.close()
            raise

    @property
    def segments(self) -> list[str]:
        return list(self.media.segments)

    def acquisition(self) -> AcquisitionInfo:
        """The hashes the image stores of its own acquisition (E01); empty for raw."""
        if isinstance(self.media, EwfMedia):
            return self.media.acquisition()
        return AcquisitionInfo()

    def close(self) -> None:
        super().close()
        self.media.close()

    # -- the walk ---------------------------------------------------------------------------

    def _probe(self) -> None:
        """Read the partition table and open each file system (cheap: headers only)."""
        self._img = MediaImg(self.media)
        vs = volume_system(self._img)
        self.volume_system = vs
        self.volumes = vs.volumes or [Volume(0, 0, self.media.size, "whole media")]
        self.file_systems: dict[int, FileSystem | str] = {}
        found = []
        for volume in self.volumes:
            try:
                fs = FileSystem(self._img, volume.offset)
            except OSError as exc:
                self.file_systems[volume.offset] = tsk_reason(exc)
                continue
            self.file_systems[volume.offset] = fs
            found.append(
                {"locator": self._volume_locator(volume), "type": fs.kind, "offset": volume.offset}
            )
        self.summary["volume_system"] = vs.kind
        self.summary["partitions"] = [
            {"number": v.number, "offset": v.offset, "length": v.length, "type": v.description}
            for v in vs.volumes
        ]
        self.summary["file_systems"] = found

    def _walk(self) -> Iterator[SourceItem]:
        vs = self.volume_system
        label = "E01" if self.format == "ewf" else "raw"
        root = SourceItem(
            self.root_locator, self.media.size, None, None, None, None, None, kind="image"
        )
        root.note = f"{label} image of {human_size(self.media.size)}"
        if len(self.media.segments) > 1:
            root.note += f" in {len(self.media.segments)} segments"
        root.note += (
            f"; {vs.kind} partition table, {len(vs.volumes)} partitions"
            if vs.volumes
            else "; no partition table"
        )
        yield root
        used: list[tuple[int, int]] = []
        for volume in self.volumes:
            yield from self._volume(volume, used)
        if self.carve_free_space:
            yield from self._carve(used)

    def _volume_locator(self, volume: Volume) -> str:
        if volume.number == 0:
            return f"{self.root_locator}{SEPARATOR}volume @ {volume.offset}"
        return f"{self.root_locator}{SEPARATOR}partition {volume.number} @ {volume.offset}"

    def _volume(self, volume: Volume, used: list[tuple[int, int]]) -> Iterator[SourceItem]:
        locator = self._volume_locator(volume)
        item = SourceItem(locator, volume.length, None, None, None, None, None, kind="volume")
        item.offset = volume.offset
        if volume.offset + volume.length > self.media.size:
            item.error = (
                f"the partition ends at byte {volume.offset + volume.length:,}, past the end "
                f"of the image ({self.media.size:,}): the image is truncated or the table wrong"
            )
        fs = self.file_systems[volume.offset]
        if isinstance(fs, str):
            remark = f"no file system recognised ({fs}); its space is carved"
            item.error = "; ".join(p for p in (item.error, remark) if p)
            item.note = volume.description
            yield item
            return
        item.note = "; ".join(p for p in (volume.description, f"{fs.kind} file system") if p)
        yield item
        fs_end = volume.offset + max(fs.size, volume.length)
        for entry in fs.walk():
            used.extend(entry.runs)
            if not entry.system:
                yield from self._entry(fs, entry, locator, fs_end)

    def _entry(
        self, fs: FileSystem, entry: FsEntry, volume_locator: str, fs_end: int
    ) -> Iterator[SourceItem]:
        locator = f"{volume_locator}{SEPARATOR}{escape_name(entry.path)}"
        item = SourceItem(
            locator,
            entry.size if entry.kind == "file" else None,
            entry.modified,
            entry.accessed,
            entry.changed,
            entry.created,
            None,
            error=entry.error,
            kind=entry.kind,
            depth=1,
        )
        item.allocation = "allocated" if entry.allocated else "deleted"
        item.inode = entry.inode
        item.offset = entry.runs[0][0] if entry.runs else None
        if entry.kind == "link":
            item.error = item.error or "symbolic link not followed"
        if entry.kind == "file" and entry.handle is None:
            item.note = "deleted; only the name survives, its metadata and content are gone"
        if entry.kind != "file" or entry.handle is None or item.error is not None:
            yield item
            return
        if self.already_done is not None and self.already_done(locator):
            yield item  # stored by an earlier run: not read again
            return
        size = entry.size or 0
        limit = min(self.limits.max_member_size, max(fs_end - fs.offset, 0) + MIB)
        if size > limit:
            item.error = (
                f"declared size {human_size(size)} is larger than "
                f"{'its volume' if size <= self.limits.max_member_size else 'the size limit'} "
                f"({human_size(limit)}): damaged or hostile metadata, not read"
            )
            yield item
            return
        ctx = new_context(self.limits, self._temp)
        try:
            captured = _capture(ctx, partial(fs.read, entry), 0, size)
        except (OSError, ArchiveLimitError) as exc:
            item.error = f"unreadable: {reason_of(exc)}"
            yield item
            return
        item.payload = captured.payload
        if not entry.allocated:
            item.note = "deleted; recovered from the blocks its metadata still names"
        fmt = sniff_archive(captured.head)
        yield from expand(ctx, item, fmt, payload_opener(captured.payload), entry.path)

    def _carve(self, used: list[tuple[int, int]]) -> Iterator[SourceItem]:
        ranges = free_ranges(self.media.size, used)
        for found in carve(self.media, ranges, min(MAX_CARVE, self.limits.max_member_size)):
            locator = f"{self.root_locator}{SEPARATOR}[carved {found.kind} @ {found.offset}]"
            item = SourceItem(
                locator, found.length, None, None, None, None, None, kind="file", depth=1
            )
            item.allocation = "carved"
            item.offset = found.offset
            item.note = (
                f"carved from unallocated space at byte {found.offset:,}, {found.length:,} bytes"
            )
            if self.already_done is not None and self.already_done(locator):
                yield item
                continue
            ctx = new_context(self.limits, self._temp)
            try:
                item.payload = _capture(ctx, self.media.read, found.offset, found.length).payload
            except (OSError, ArchiveLimitError) as exc:
                item.error = f"unreadable: {reason_of(exc)}"
            yield item


def _capture(
    ctx: ReadContext, read: Callable[[int, int], bytes], start: int, size: int
) -> Captured:
    """``size`` bytes from ``read(offset, n)`` at ``start`` into a payload under the
    source's limits (in memory when small, else a private temporary file); the partial
    copy goes on error."""
    sink = ctx.sink()
    try:
        done = 0
        while done < size:
            chunk = read(start + done, min(READ_CHUNK, size - done))
            if not chunk:
                raise OSError(f"no data at byte {done:,} of {size:,}")
            sink.write(chunk)
            done += len(chunk)
        return sink.finish()
    except BaseException:
        sink.discard()
        raise
