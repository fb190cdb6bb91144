"""All the hashes of one file, read once: digests always, PDQ when the content is an image.

Files are identified by content (magic bytes), not by name: a JPEG renamed ``.dat`` is
still hashed as an image. A file whose image data cannot be decoded keeps its digests and
records the reason; it never stops the caller.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from raksha.errors import HashingError
from raksha.hashing.crypto import digest_bytes, digest_file
from raksha.hashing.pdq import dihedral_from_bytes, pdq_from_bytes, sniff_image_format
from raksha.hashing.video import SNIFF_BYTES, is_animated, sniff_video_format, vpdq_from_file

logger = logging.getLogger(__name__)

#: Files up to this size are read into memory once for both digests and decoding.
IN_MEMORY_LIMIT = 256 * 1024 * 1024


@dataclass(slots=True)
class FileHashes:
    path: str
    size: int
    md5: str
    sha1: str
    sha256: str
    image_format: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    dihedral: tuple[str, ...] | None = None
    error: str | None = None
    video_format: str | None = None
    vpdq: list[tuple[str, int, float]] | None = None  # (pdq, quality, seconds) per frame

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["dihedral"] = list(self.dihedral) if self.dihedral else None
        if self.vpdq is not None:
            out["vpdq"] = [{"pdq": p, "quality": q, "timestamp": t} for p, q, t in self.vpdq]
        return out


def hash_file(path: str | os.PathLike[str], *, dihedral: bool = False) -> FileHashes:
    """Hash one file; raises :class:`HashingError` only when the file cannot be read."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > IN_MEMORY_LIMIT:
            digests = digest_file(p)
            with p.open("rb") as f:
                head = f.read(SNIFF_BYTES)
            data = None
        else:
            data = p.read_bytes()
            digests = digest_bytes(data)
            head = data[:SNIFF_BYTES]
    except OSError as exc:
        raise HashingError(f"cannot read {p}: {exc.strerror or exc}") from exc
    result = FileHashes(str(p), digests.size, digests.md5, digests.sha1, digests.sha256)
    result.image_format = sniff_image_format(head)
    video = sniff_video_format(head)
    if video is not None or (result.image_format in ("gif", "webp") and is_animated(p)):
        _add_vpdq(result, p, video or result.image_format)
    if result.image_format is None:
        return result
    if data is None:
        result.error = "image too large to decode for PDQ"
        return result
    try:
        if dihedral:
            d = dihedral_from_bytes(data)
            result.pdq, result.pdq_quality, result.dihedral = d.values[0], d.quality, d.values
        else:
            h = pdq_from_bytes(data)
            result.pdq, result.pdq_quality = h.value, h.quality
    except HashingError as exc:
        result.error = str(exc)
        logger.debug("PDQ failed for %s: %s", p, exc)
    return result


def _add_vpdq(result: FileHashes, path: Path, video_format: str | None) -> None:
    """A video's (or animation's) frame hashes; a decoding problem becomes the error."""
    result.video_format = video_format
    try:
        hashed = vpdq_from_file(path)
    except HashingError as exc:
        result.error = f"video not decodable: {exc}"
        return
    result.vpdq = [(f.pdq, f.quality, f.timestamp) for f in hashed.frames]
    if hashed.error:
        result.error = f"video partly decoded: {hashed.error}"
