"""Small previews of hit pictures for the review queue: blurred and greyscale by default.

A preview is made on request from the item's own bytes, read back from the evidence
where that is possible without unpacking anything: an item of folder evidence (the
evidence folder joined with the item's path inside it) or a single file given as the
evidence itself. Items inside containers (archive members, files of disk images, carved
pictures) are not re-opened: the sources read a container only as one walk from its
start, so a preview would mean re-reading the archive or image; the queue says so
instead ("no preview: inside a container").

Bytes read back are checked against the SHA-256 the scan recorded, so a preview always
shows what was hashed, never a file that has changed since. Previews are at most
:data:`MAX_SIDE` pixels on their long side, greyscale and blurred unless revealed, PNG,
built in memory and never written to disk; the routes send them with
``Cache-Control: no-store``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageFilter, ImageOps

from raksha.errors import HashingError, NotFoundError
from raksha.hashing.imageio import open_image_bytes
from raksha.scan.pipeline import IMAGE_TYPES
from raksha.sources.base import SEPARATOR, is_inside, open_readonly, read_head, reason_of

logger = logging.getLogger(__name__)

#: Longest side of a preview, in pixels.
MAX_SIDE: Final = 160
#: Blur radius of a default (not revealed) preview, in preview pixels.
BLUR_RADIUS: Final = 6
#: Files larger than this are not read back for a preview.
MAX_SOURCE_BYTES: Final = 64 * 1024 * 1024
#: Pictures with more pixels than this are not decoded for a preview.
MAX_PIXELS: Final = 60_000_000


class PreviewUnavailableError(NotFoundError):
    """No preview can be made for this item; the message says why, in words."""


@dataclass(frozen=True, slots=True)
class PreviewSource:
    """Where an item's bytes can be read back from: a file path, or why they cannot."""

    path: Path | None
    reason: str | None = None

    @property
    def available(self) -> bool:
        return self.path is not None


def locate(
    *, source_path: str, root_locator: str, locator: str, file_type: str | None
) -> PreviewSource:
    """Where the bytes of the item at ``locator`` can be read back from, without reading.

    Only the file system is asked (is the evidence a folder?); nothing is opened.
    """
    if file_type not in IMAGE_TYPES:
        what = f"a {file_type} file" if file_type else "not a picture"
        return PreviewSource(None, f"no preview: {what}")
    root = Path(source_path)
    if locator == root_locator:
        if root.is_dir():
            return PreviewSource(None, "no preview: the item is the evidence folder")
        return PreviewSource(root)
    prefix = root_locator + SEPARATOR
    if not locator.startswith(prefix):
        return PreviewSource(None, "no preview: the locator does not start at this evidence")
    inner = locator[len(prefix) :]
    if SEPARATOR in inner or not root.is_dir():
        return PreviewSource(None, "no preview: inside a container (archive or disk image)")
    parts = inner.split("/")
    if any(part in ("", ".", "..") for part in parts) or inner.startswith("/"):
        return PreviewSource(None, "no preview: the item's path cannot be followed safely")
    return PreviewSource(root.joinpath(*parts))


def read_back(source: PreviewSource, evidence_root: str, sha256: str | None) -> bytes:
    """The item's bytes from ``source``, checked against the SHA-256 the scan recorded.

    Raises :class:`PreviewUnavailableError` with the reason when they cannot be read, are
    too large, lie outside the evidence (a link swapped in) or differ from what was hashed.
    """
    if source.path is None:
        raise PreviewUnavailableError(source.reason or "no preview")
    path = os.fspath(source.path)
    root = os.path.realpath(evidence_root)
    if os.path.isdir(root) and not is_inside(os.path.realpath(path), root):
        raise PreviewUnavailableError("no preview: the path now leads outside the evidence")
    try:
        stream = open_readonly(path, follow=False)
    except OSError as exc:
        raise PreviewUnavailableError(
            f"no preview: the file cannot be read back ({reason_of(exc)})"
        ) from exc
    with stream:
        try:
            st = os.fstat(stream.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise PreviewUnavailableError("no preview: the path is no longer a regular file")
            if st.st_size > MAX_SOURCE_BYTES:
                raise PreviewUnavailableError("no preview: the file is too large to read back")
            data = read_head(stream, MAX_SOURCE_BYTES + 1)
        except OSError as exc:
            raise PreviewUnavailableError(
                f"no preview: the file cannot be read back ({reason_of(exc)})"
            ) from exc
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise PreviewUnavailableError(
            "no preview: the file no longer matches the SHA-256 recorded by the scan"
        )
    return data


def render_preview(data: bytes, *, reveal: bool = False) -> bytes:
    """A PNG at most :data:`MAX_SIDE` px: greyscale and blurred, or colour when revealed."""
    try:
        with open_image_bytes(data) as img:
            width, height = img.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise PreviewUnavailableError("no preview: the picture is too large to decode")
            img.draft("RGB", (MAX_SIDE * 2, MAX_SIDE * 2))  # JPEG: decode reduced, in the DCT
            upright = ImageOps.exif_transpose(img)
            picture = upright.convert("RGB")
    except HashingError as exc:
        raise PreviewUnavailableError(f"no preview: {exc}") from exc
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PreviewUnavailableError(f"no preview: the picture cannot be decoded ({exc})") from exc
    picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    shown: Image.Image = picture
    if not reveal:
        shown = ImageOps.grayscale(picture).filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
    out = io.BytesIO()
    shown.save(out, format="PNG")
    return out.getvalue()
