"""Choosing the source for a path: a folder, an archive, a disk image, or a single file.

The choice is made from the first bytes, never the name: a zip renamed ``.jpg`` is
opened as a zip, and a picture named ``.zip`` is simply hashed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

from raksha.errors import NotFoundError
from raksha.sources.archives import ArchiveSource, FileSource
from raksha.sources.base import (
    DEFAULT_LIMITS,
    EvidenceUnreadableError,
    Source,
    SourceLimits,
    open_readonly,
    read_head,
    reason_of,
)
from raksha.sources.disk_image import DiskImageSource
from raksha.sources.folder import FolderSource
from raksha.sources.image_media import SNIFF_SIZE, sniff_disk_image
from raksha.sources.magic import sniff_archive

logger = logging.getLogger(__name__)

__all__ = ["SingleFileSource", "open_source", "sniff_archive"]


class SingleFileSource(FileSource):
    """One file that is not an archive: exactly one item, named by the file's name."""

    NAME = "file"
    EXPAND = False


def open_source(
    path: Path,
    limits: SourceLimits = DEFAULT_LIMITS,
    *,
    temp_dir: str | os.PathLike[str] | None = None,
) -> Source:
    """The source that reads ``path``: a folder, an archive, a disk image, or a single file.

    ``temp_dir`` is where the private temporary area is made (default: the system's);
    for a folder it must lie outside the evidence.
    """
    if not os.path.lexists(path):
        raise NotFoundError(f"{path} does not exist")
    if path.is_dir():
        return FolderSource(path, limits, temp_dir=temp_dir)
    try:
        stream = open_readonly(os.fspath(path))
    except OSError as exc:
        raise EvidenceUnreadableError(f"{path} cannot be read: {reason_of(exc)}") from exc
    with contextlib.closing(stream):
        mode = os.fstat(stream.fileno()).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISBLK(mode)):
            raise EvidenceUnreadableError(
                f"{path} is not a regular file, a folder or a disk device; it cannot be scanned"
            )
        try:
            head = read_head(stream, SNIFF_SIZE)
        except OSError as exc:
            raise EvidenceUnreadableError(f"{path} cannot be read: {reason_of(exc)}") from exc
    fmt = sniff_archive(head)
    image = None if fmt is not None else sniff_disk_image(head)
    logger.debug("%s: %s", path, fmt or image or "single file")
    if fmt is not None:
        return ArchiveSource(path, limits, temp_dir=temp_dir)
    if image is not None:
        return DiskImageSource(path, image, limits, temp_dir=temp_dir)
    return SingleFileSource(path, limits, temp_dir=temp_dir)
