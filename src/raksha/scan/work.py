"""The unit of work of a scan: a serialisable batch, and the functions workers run on it.

A batch holds only plain data (locators, file paths or small byte strings), so it can go
to a local worker process today and to a cluster worker later. Hashing is split in two
stages so that identical content is perceptually hashed once per scan: stage one reads
every item once for its digests and file type; the scan then asks stage two for PDQ only
for images whose SHA-256 it has not seen yet.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from raksha.errors import HashingError
from raksha.hashing.crypto import Digests, digest_bytes, digest_stream
from raksha.hashing.pdq import dihedral_from_bytes, pdq_from_bytes, sniff_image_format
from raksha.hashing.video import (
    VideoHash,
    is_animated,
    sniff_video_format,
    vpdq_from_bytes,
    vpdq_from_file,
)
from raksha.sources.base import BytesPayload, Payload, open_readonly
from raksha.sources.detect import sniff_archive

logger = logging.getLogger(__name__)

HEAD_BYTES = 512  # tar's magic sits at offset 257


@dataclass(slots=True, frozen=True)
class WorkItem:
    seq: int
    payload: Payload


@dataclass(slots=True, frozen=True)
class DigestResult:
    seq: int
    digests: Digests | None
    file_type: str | None
    error: str | None = None


@dataclass(slots=True, frozen=True)
class PdqResult:
    seq: int
    pdq: str | None
    quality: int | None
    dihedral: tuple[str, ...] | None
    error: str | None = None
    video: VideoResult | None = None  # an animated GIF or WebP: its frames as a video


Frame = tuple[str, int, float]  # (pdq, quality, seconds)


@dataclass(slots=True, frozen=True)
class VideoResult:
    """Stage three: a video's unique frame hashes, what the decoder said, and any error."""

    seq: int
    frames: tuple[Frame, ...]
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _read_head(payload: Payload) -> bytes:
    if isinstance(payload, BytesPayload):
        return payload.data[:HEAD_BYTES]
    with open_readonly(payload.path) as f:
        return f.read(HEAD_BYTES)


def file_type_of(head: bytes) -> str | None:
    """What the content is, by magic bytes: an image or video format, an archive kind."""
    return sniff_image_format(head) or sniff_video_format(head) or sniff_archive(head)


def digest_batch(items: list[WorkItem]) -> list[DigestResult]:
    """Stage one: MD5/SHA-1/SHA-256 in one pass and the file type, for every item."""
    out: list[DigestResult] = []
    for item in items:
        try:
            payload = item.payload
            if isinstance(payload, BytesPayload):
                digests = digest_bytes(payload.data)
            else:
                with open_readonly(payload.path) as f:  # O_NOATIME where permitted
                    digests = digest_stream(f)
            out.append(DigestResult(item.seq, digests, file_type_of(_read_head(payload))))
        except (OSError, HashingError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            out.append(DigestResult(item.seq, None, None, f"unreadable: {reason}"))
    return out


def _read_all(payload: Payload) -> bytes:
    if isinstance(payload, BytesPayload):
        return payload.data
    with open_readonly(payload.path) as f:
        return f.read()


def pdq_batch(items: list[WorkItem], dihedral: bool = False) -> list[PdqResult]:
    """Stage two: PDQ (and optionally its 8 dihedral variants) of images; an animated GIF
    or WebP also gets its frames hashed as a video."""
    out: list[PdqResult] = []
    for item in items:
        try:
            data = _read_all(item.payload)
            video = _animation(item.seq, data)
            if dihedral:
                d = dihedral_from_bytes(data)
                out.append(PdqResult(item.seq, d.values[0], d.quality, d.values, video=video))
            else:
                h = pdq_from_bytes(data)
                out.append(PdqResult(item.seq, h.value, h.quality, None, video=video))
        except (OSError, HashingError) as exc:
            out.append(PdqResult(item.seq, None, None, None, f"image not decodable: {exc}"))
    return out


def _animation(seq: int, data: bytes) -> VideoResult | None:
    if sniff_image_format(data[:HEAD_BYTES]) not in ("gif", "webp"):
        return None
    try:
        if not is_animated(data):
            return None
        return _video_result(seq, vpdq_from_bytes(data))
    except HashingError as exc:
        return VideoResult(seq, (), {}, f"animation not decodable: {exc}")


def _video_result(seq: int, hashed: VideoHash) -> VideoResult:
    info = {
        "duration": hashed.duration,
        "width": hashed.width,
        "height": hashed.height,
        "codec": hashed.codec,
        "container": hashed.container,
        "frames_decoded": hashed.frames_decoded,
        "frames_sampled": hashed.frames_sampled,
    }
    frames = tuple((f.pdq, f.quality, f.timestamp) for f in hashed.frames)
    error = f"video partly decoded: {hashed.error}" if hashed.error else None
    return VideoResult(seq, frames, info, error)


def video_batch(items: list[WorkItem], every: float = 1.0) -> list[VideoResult]:
    """Stage three: vPDQ of videos, one frame each ``every`` seconds."""
    out: list[VideoResult] = []
    for item in items:
        try:
            payload = item.payload
            if isinstance(payload, BytesPayload):
                hashed = vpdq_from_bytes(payload.data, every=every)
            else:
                hashed = vpdq_from_file(payload.path, every=every)
            out.append(_video_result(item.seq, hashed))
        except (OSError, HashingError) as exc:
            out.append(VideoResult(item.seq, (), {}, f"video not decodable: {exc}"))
    return out


def worker_init() -> None:
    """Run in each worker process: one thread each for numeric libraries."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
