"""Decode images for PDQ: what a viewer sees, decoded no larger than hashing needs.

PDQ reduces every picture to 64x64 luma samples, so decoding twelve megapixels at full
size buys nothing but time. This module opens images read-only, names formats from their
magic bytes, turns every Pillow mode into what a viewer would see (EXIF orientation
applied, CMYK not inverted, transparency over white, 16-bit scaled rather than clipped),
decodes large JPEGs at 1/2, 1/4 or 1/8 scale in the DCT (``Image.draft``) and box-reduces
other large images, and turns every decoder failure into a
:class:`~raksha.errors.HashingError` with a one-line reason.

A reduced plane is described by its block size, so :mod:`raksha.hashing.pdq` can rebuild
the reference's full-resolution filter from it exactly (see there for the numbers).
"""

from __future__ import annotations

import logging
import os
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from typing import IO, Final

import numpy as np
import numpy.typing as npt
from PIL import ExifTags, Image, JpegImagePlugin, UnidentifiedImageError

from raksha.errors import HashingError

logger = logging.getLogger(__name__)

#: A reduced decode keeps its short side at or above this many pixels: two decoded pixels
#: per PDQ box-filter window (the window is 1/128 of a side), below which the rebuilt
#: filter drifts (measured: 1/8 scale of a 1600x1004 photo, 126 px, is off by up to 10).
MIN_SHORT_SIDE: Final = 256
#: Bytes :func:`sniff_image_format` needs to see to recognise every format it knows.
SNIFF_BYTES: Final = 32

# ISO BMFF brands of HEIF still images (HEVC-coded and generic), as phones write them.
_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
)
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
# BITMAPINFOHEADER sizes from OS/2 1.x (12) to BITMAPV5HEADER (124).
_BMP_HEADER_SIZES: Final = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


@dataclass(frozen=True, slots=True)
class _Orient:
    """How an EXIF orientation maps stored pixels to the upright picture."""

    fix: Image.Transpose | None
    swap_axes: bool
    rows_reversed: bool  # upright rows run against the stored axis they come from
    cols_reversed: bool


# EXIF orientation -> the transpose ImageOps.exif_transpose applies, and what it does to axes.
_ORIENTATIONS: Final[dict[int, _Orient]] = {
    1: _Orient(None, False, False, False),
    2: _Orient(Image.Transpose.FLIP_LEFT_RIGHT, False, False, True),
    3: _Orient(Image.Transpose.ROTATE_180, False, True, True),
    4: _Orient(Image.Transpose.FLIP_TOP_BOTTOM, False, True, False),
    5: _Orient(Image.Transpose.TRANSPOSE, True, False, False),
    6: _Orient(Image.Transpose.ROTATE_270, True, False, True),
    7: _Orient(Image.Transpose.TRANSVERSE, True, True, True),
    8: _Orient(Image.Transpose.ROTATE_90, True, True, False),
}
_ALPHA_MODES: Final = frozenset({"RGBA", "LA", "PA", "La", "RGBa"})
_WIDE_MODES: Final = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N", "F"})

_heif_lock = threading.Lock()
_heif_registered = False


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """An upright picture ready for PDQ, at full resolution or reduced by whole blocks.

    ``pixels`` is H x W luma or H x W x 3 RGB (8-bit) when ``block`` is 1. When ``block``
    is ``s`` > 1 it is H x W luma whose every pixel is the mean of an ``s`` x ``s`` block of
    the ``full_height`` x ``full_width`` picture; blocks are laid from the top-left corner
    of the stored file, so after an EXIF rotation the partial blocks of a side that is not
    a multiple of ``s`` can come first (``rows_from_end``, ``cols_from_end``).
    """

    pixels: npt.NDArray[np.uint8]
    block: int
    full_height: int
    full_width: int
    rows_from_end: bool = False
    cols_from_end: bool = False


def sniff_image_format(head: bytes) -> str | None:
    """Name the image format from the first bytes of a file, or ``None``.

    Returns ``'jpeg'``, ``'png'``, ``'gif'``, ``'webp'``, ``'bmp'``, ``'tiff'`` or
    ``'heic'``. The scanner identifies files by content, not by name, because renamed
    files are common in seized media; :data:`SNIFF_BYTES` bytes are always enough.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    if head.startswith(b"BM") and len(head) >= 18:
        (header_size,) = struct.unpack_from("<I", head, 14)
        return "bmp" if header_size in _BMP_HEADER_SIZES else None
    if len(head) >= 12 and head[4:8] == b"ftyp":
        major = head[8:12]
        # Compatible brands follow the minor version; an AVIF may say "mif1" first.
        (box_size,) = struct.unpack_from(">I", head, 0)
        compatible = head[16 : min(len(head), box_size)]
        brands = {compatible[i : i + 4] for i in range(0, len(compatible) - 3, 4)}
        if major in _AVIF_BRANDS or (major in {b"mif1", b"msf1"} and brands & _AVIF_BRANDS):
            return None
        if major in _HEIF_BRANDS:
            return "heic"
    return None


def _ensure_heif_opener() -> None:
    """Teach Pillow to open HEIC on first need, not at import (pillow_heif loads libheif)."""
    global _heif_registered  # noqa: PLW0603 - a process-wide, once-only registration
    if _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _heif_registered = True
            logger.debug("registered the pillow_heif opener")


@contextmanager
def open_image_file(path: str | os.PathLike[str]) -> Iterator[Image.Image]:
    """Open ``path`` read-only as a lazily decoded Pillow image (only the header is read)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise HashingError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from exc
    with handle, _open(handle, os.fspath(path)) as img:
        yield img


@contextmanager
def open_image_bytes(data: bytes) -> Iterator[Image.Image]:
    """Open an in-memory image as a lazily decoded Pillow image."""
    with _open(BytesIO(data), "image bytes") as img:
        yield img


@contextmanager
def _open(handle: IO[bytes], name: str) -> Iterator[Image.Image]:
    try:
        head = handle.read(SNIFF_BYTES)
        handle.seek(0)
    except OSError as exc:
        raise HashingError(f"cannot read {name}: {exc.strerror or exc}") from exc
    if not head:
        raise HashingError(f"cannot decode {name}: it is empty")
    if sniff_image_format(head) == "heic":
        _ensure_heif_opener()
    try:
        img = Image.open(handle)
    except Image.DecompressionBombError as exc:
        raise HashingError(f"refused {name} as a decompression bomb: {exc}") from exc
    except Exception as exc:  # any decoder failure is the file's fault, not ours
        raise HashingError(f"cannot decode {name}: {_reason(exc)}") from exc
    with img:
        yield img


def decode_for_pdq(
    img: Image.Image, *, draft: bool = True, min_short_side: int = MIN_SHORT_SIDE
) -> DecodedImage:
    """Decode ``img`` upright, as a viewer sees it, no larger than PDQ needs.

    A picture whose short side is at least twice ``min_short_side`` is reduced by whole
    blocks while keeping that side at ``min_short_side`` or more: with ``draft``, a JPEG
    is decoded at 1/2, 1/4 or 1/8 scale in the DCT, luma only; anything else is decoded
    and box-reduced. Drafting changes how ``img`` itself decodes, so callers pass
    ``draft=False`` for images they do not own.
    """
    width, height = img.size
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and width * height > limit:
        raise HashingError(
            f"refused a {width}x{height} image as a decompression bomb: "
            f"{width * height} pixels is above the limit of {limit} "
            "(PIL.Image.MAX_IMAGE_PIXELS)"
        )
    if width < 1 or height < 1:
        raise HashingError(f"cannot decode image: it has no pixels ({width}x{height})")
    try:
        orient = _ORIENTATIONS.get(_orientation(img), _ORIENTATIONS[1])
        if draft and isinstance(img, JpegImagePlugin.JpegImageFile):
            scale = _jpeg_scale(min(width, height), min_short_side)
            if scale > 1:
                # Asking for "L" decodes only Y of a YCbCr JPEG: the BT.601 luma PDQ
                # computes anyway (CMYK and greyscale JPEGs keep their mode).
                img.draft("L", (width // scale, height // scale))
        img.load()
        view = _viewable(img)
    except HashingError:
        raise
    except Image.DecompressionBombError as exc:
        raise HashingError(f"refused image as a decompression bomb: {exc}") from exc
    except Exception as exc:  # truncated data, bad chunks, unsupported codecs...
        raise HashingError(f"cannot decode image: {_reason(exc)}") from exc
    if view.size != (width, height):
        block = _block_of(view.size, (width, height))
    elif (factor := min(width, height) // min_short_side) >= 2:
        view = _luma(view).reduce(factor)
        block = factor
    else:
        block = 1
    if block > 1:
        view = _luma(view)
        logger.debug("%sx%s image decoded in %sx%s blocks", width, height, block, block)
    if orient.fix is not None:
        view = view.transpose(orient.fix)
    full_h, full_w = (width, height) if orient.swap_axes else (height, width)
    return DecodedImage(
        pixels=np.asarray(view),
        block=block,
        full_height=full_h,
        full_width=full_w,
        rows_from_end=orient.rows_reversed,
        cols_from_end=orient.cols_reversed,
    )


def _jpeg_scale(short_side: int, min_short_side: int) -> int:
    """The largest DCT scale (8, 4 or 2) whose decode keeps ``min_short_side``."""
    for scale in (8, 4, 2):
        if -(-short_side // scale) >= min_short_side:
            return scale
    return 1


def _block_of(reduced: tuple[int, int], full: tuple[int, int]) -> int:
    """The block size a reduced decode used; libjpeg rounds partial blocks up."""
    for scale in (2, 4, 8):
        if reduced == (-(-full[0] // scale), -(-full[1] // scale)):
            return scale
    raise HashingError(f"cannot decode image: unexpected reduced size {reduced} of {full}")


def _orientation(img: Image.Image) -> int:
    """EXIF (or XMP) orientation, read the way :func:`PIL.ImageOps.exif_transpose` reads it.

    The matching transpose is applied to the decoded (small) plane, so a caller's image is
    never transposed in place and large images are not copied for it.
    """
    value = img.getexif().get(ExifTags.Base.Orientation, 1)
    return value if isinstance(value, int) else 1


def _viewable(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to ``RGB`` or ``L`` the way a viewer would show it."""
    mode = img.mode
    if mode in _WIDE_MODES:
        return Image.fromarray(_wide_to_8bit(np.asarray(img)), "L")
    if mode in _ALPHA_MODES or "transparency" in img.info:
        rgba = img.convert("RGBA")
        alpha = rgba.getchannel("A")
        rgb = rgba.convert("RGB")
        if alpha.getextrema() == (255, 255):
            return rgb
        # Viewers show transparent areas over a light page: composite onto white.
        return Image.composite(rgb, Image.new("RGB", img.size, (255, 255, 255)), alpha)
    if mode in ("L", "RGB"):
        return img
    if mode == "1":
        return img.convert("L")
    # P, CMYK (Pillow undoes Adobe's inversion on read), YCbCr, LAB, HSV, RGBX...
    return img.convert("RGB")


def _luma(img: Image.Image) -> Image.Image:
    """BT.601 luma (the weights PDQ uses), rounded to 8 bits."""
    return img if img.mode == "L" else img.convert("L")


def _wide_to_8bit(values: npt.NDArray[np.generic]) -> npt.NDArray[np.uint8]:
    """Scale 16-bit, 32-bit integer or float samples to 0-255 instead of clipping them.

    Values within 0-255 are taken as 8-bit, within 0-65535 as 16-bit, floats within 0-1
    as normalised; anything else is stretched from its minimum to its maximum.
    """
    data = values.astype(np.float64)
    low, high = float(data.min()), float(data.max())
    if values.dtype.kind == "f" and low >= 0.0 and high <= 1.0:
        data = data * 255.0
    elif 255.0 < high <= 65535.0 and low >= 0.0:
        data = data / 257.0
    elif low < 0.0 or high > 65535.0:
        data = (data - low) * (255.0 / (high - low)) if high > low else data * 0.0
    out: npt.NDArray[np.uint8] = np.clip(data + 0.5, 0, 255).astype(np.uint8)
    return out


def _reason(exc: BaseException) -> str:
    """One line saying what went wrong, without the traceback."""
    if isinstance(exc, UnidentifiedImageError):
        return "not an image format Raksha can read"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
