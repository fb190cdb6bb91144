"""PDQ perceptual hashes of images, in Meta's reference hex form, with their quality.

PDQ (Meta's photo hash) survives resizing and recompression, so a known picture is found
again after a messenger re-encoded it. ``pdqhash`` (the reference C++ code) does the
hashing; :mod:`raksha.hashing.imageio` decodes what a viewer sees. Hashes are written the
way the reference writes them: 64 lower-case hex characters, the first one holding bits
255-252 (checked against Meta's regression hashes in ``tests/hashing/test_pdq_conformance.py``).

Why hashing is fast without drifting. PDQ blurs the full-resolution luma with two passes of
a box filter one 128th of a side wide, samples it on a 64x64 grid, and takes a DCT.
Running ``pdqhash`` on a 1/8-scale decode instead puts the box edges and sample points in
slightly different places, which moved hashes by 5 bits on average and up to 12 on
12-megapixel photos. So for a reduced decode this module rebuilds the reference's own
64x64 grid: the full-resolution filter is a fixed linear map per axis, and because every
decoded pixel is the mean of an s x s block, summing that map's weights over each block
applies it to the small image (two small matrix products). ``pdqhash`` then hashes the
64x64 grid, which its filter passes through unchanged. Measured against ``pdqhash`` on a
full decode: mean 0.3-1, max 2 bits, from 1080p at 1/4 scale to 12 MP at 1/8, for a few
milliseconds beyond the decode. Pictures too small to reduce (short side under 512) are
hashed by ``pdqhash`` directly, exactly as the reference does.

Quality (0-100) says how much structure the picture has. Hashes below
:data:`MIN_MATCH_QUALITY` are stored but not used for matching: flat pictures all hash
alike and would match each other.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image

from raksha.hashes import PDQ, normalize_hash
from raksha.hashing.imageio import (
    DecodedImage,
    decode_for_pdq,
    open_image_bytes,
    open_image_file,
    sniff_image_format,
)

__all__ = [
    "DIHEDRAL_NAMES",
    "DIHEDRAL_TRANSPOSES",
    "MIN_MATCH_QUALITY",
    "DihedralPdq",
    "PdqHash",
    "dihedral_from_bytes",
    "dihedral_from_file",
    "dihedral_from_image",
    "hamming",
    "pdq_from_bytes",
    "pdq_from_file",
    "pdq_from_image",
    "sniff_image_format",
]

logger = logging.getLogger(__name__)

# The reference's constants: the 64x64 sampling grid, and box windows of 1/128 of a side.
_GRID: Final = 64
_WINDOW_DIVISOR: Final = 128

#: Hashes of lower quality are kept for the record but never matched.
MIN_MATCH_QUALITY: Final = 50

#: The 8 dihedral variants in the order ``pdqhash.compute_dihedral`` returns them (the
#: C++ reference's ``pdqDihedralHash256esFromFloatLuma`` order), named as the reference's
#: ``dih`` regression files are. Variant ``i`` is (within a few bits) the hash the picture
#: has after :data:`DIHEDRAL_TRANSPOSES` ``[i]``.
DIHEDRAL_NAMES: Final[tuple[str, ...]] = (
    "original",
    "rotate-90",
    "rotate-180",
    "rotate-270",
    "flip-x",
    "flip-y",
    "flip-plus-1",
    "flip-minus-1",
)

#: The Pillow transpose that turns a picture into each variant of :data:`DIHEDRAL_NAMES`
#: (measured on the reference's ``dih`` images: ``rotate-90`` is counter-clockwise,
#: ``flip-x`` flips about the horizontal axis, ``flip-y`` is a left-right mirror,
#: ``flip-plus-1`` flips about the main diagonal).
DIHEDRAL_TRANSPOSES: Final[tuple[Image.Transpose | None, ...]] = (
    None,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_180,
    Image.Transpose.ROTATE_270,
    Image.Transpose.FLIP_TOP_BOTTOM,
    Image.Transpose.FLIP_LEFT_RIGHT,
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
)


@dataclass(frozen=True, slots=True)
class PdqHash:
    """One PDQ hash (64 lower-case hex characters) and its quality (0-100)."""

    value: str
    quality: int

    @property
    def low_information(self) -> bool:
        """True when the picture is too flat for the hash to be matched."""
        return self.quality < MIN_MATCH_QUALITY


@dataclass(frozen=True, slots=True)
class DihedralPdq:
    """The PDQ hashes of a picture's 8 rotations and flips (see :data:`DIHEDRAL_NAMES`)."""

    values: tuple[str, ...]  # 8 hashes, index 0 = original
    quality: int

    @property
    def original(self) -> PdqHash:
        """The hash of the picture as it is, what :func:`pdq_from_file` returns."""
        return PdqHash(self.values[0], self.quality)

    @property
    def low_information(self) -> bool:
        """True when the picture is too flat for the hashes to be matched."""
        return self.quality < MIN_MATCH_QUALITY

    def closest(self, other_hex: str) -> tuple[str, int]:
        """The variant nearest to ``other_hex`` and its distance.

        A rotated or mirrored copy of this picture has an original hash close to one of
        the variants; the name says which transformation it underwent.
        """
        distances = [hamming(value, other_hex) for value in self.values]
        best = min(range(len(distances)), key=distances.__getitem__)
        return DIHEDRAL_NAMES[best], distances[best]


def pdq_from_file(path: str | os.PathLike[str]) -> PdqHash:
    """Hash the image at ``path`` (read-only); raises :class:`HashingError` if unreadable."""
    with open_image_file(path) as img:
        return _hash(decode_for_pdq(img))


def pdq_from_bytes(data: bytes) -> PdqHash:
    """Hash an image held in memory."""
    with open_image_bytes(data) as img:
        return _hash(decode_for_pdq(img))


def pdq_from_image(img: Image.Image) -> PdqHash:
    """Hash an already opened image; it is never changed (nor drafted: see ``imageio``)."""
    return _hash(decode_for_pdq(img, draft=False))


def dihedral_from_file(path: str | os.PathLike[str]) -> DihedralPdq:
    """The 8 dihedral hashes of the image at ``path``."""
    with open_image_file(path) as img:
        return _dihedral(decode_for_pdq(img))


def dihedral_from_bytes(data: bytes) -> DihedralPdq:
    """The 8 dihedral hashes of an image held in memory."""
    with open_image_bytes(data) as img:
        return _dihedral(decode_for_pdq(img))


def dihedral_from_image(img: Image.Image) -> DihedralPdq:
    """The 8 dihedral hashes of an already opened image, which is never changed."""
    return _dihedral(decode_for_pdq(img, draft=False))


def hamming(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two PDQ hashes (0-256).

    Raises :class:`~raksha.errors.InvalidHashError` if either is not a PDQ value.
    """
    a = int(normalize_hash(PDQ, a_hex), 16)
    b = int(normalize_hash(PDQ, b_hex), 16)
    return (a ^ b).bit_count()


def _pdq_pixels(decoded: DecodedImage) -> npt.NDArray[np.uint8]:
    """The H x W x 3 array to give ``pdqhash``: the picture, or the rebuilt 64x64 grid."""
    pixels = decoded.pixels
    if decoded.block > 1:
        grid = _reference_grid(decoded)
        pixels = np.clip(np.rint(grid), 0, 255).astype(np.uint8)
    if pixels.ndim == 3:
        return pixels
    # pdqhash weighs the channels 0.299/0.587/0.114, which sum to 1: three views of the
    # same luma plane give it back unchanged, without copying.
    height, width = pixels.shape
    return np.broadcast_to(pixels[:, :, np.newaxis], (height, width, 3))


def _reference_grid(decoded: DecodedImage) -> npt.NDArray[np.float32]:
    """The 64x64 samples PDQ would take from the full-resolution picture (module docstring)."""
    rows = _axis_map(decoded.full_height, decoded.block, decoded.rows_from_end)
    cols = _axis_map(decoded.full_width, decoded.block, decoded.cols_from_end)
    luma = decoded.pixels.astype(np.float32)
    return (rows @ luma @ cols.T).astype(np.float32, copy=False)


@functools.lru_cache(maxsize=256)
def _axis_map(length: int, block: int, from_end: bool) -> npt.NDArray[np.float32]:
    """PDQ's filter and sampling along one side, as a 64 x ceil(length / block) matrix.

    Row ``i`` weighs the full-resolution pixels that sample ``i`` of the reference is made
    of: two passes of a box ``window`` wide (averaging over fewer pixels at the edges), read
    at pixel ``int((i + 0.5) * length / 64)``. Weights are then summed per decoded block,
    counting blocks from the far end when a rotation put the partial block first.
    """
    window = (length + _WINDOW_DIVISOR - 1) // _WINDOW_DIVISOR
    half = (window + 2) // 2
    index = np.arange(length)
    low = np.maximum(index - (window - half), 0)
    high = np.minimum(index + half, length)
    count = (high - low).astype(np.float64)
    samples = ((np.arange(_GRID) + 0.5) * length / _GRID).astype(np.int64)
    # For each sample, the pixels m averaged by the second pass, each spreading its own
    # first-pass window [low[m], high[m]); accumulate those windows as +w/-w steps.
    steps = np.zeros((_GRID, length + 1))
    for offset in range(window):
        middle = low[samples] + offset
        valid = middle < high[samples]
        rows = np.nonzero(valid)[0]
        m = middle[valid]
        weight = 1.0 / (count[samples[valid]] * count[m])
        np.add.at(steps, (rows, low[m]), weight)
        np.add.at(steps, (rows, high[m]), -weight)
    weights = np.cumsum(steps, axis=1)[:, :length]
    blocks = -(-length // block)
    padded = np.zeros((_GRID, blocks * block))
    if from_end:
        padded[:, blocks * block - length :] = weights
    else:
        padded[:, :length] = weights
    result: npt.NDArray[np.float32] = (
        padded.reshape(_GRID, blocks, block).sum(axis=2).astype(np.float32)
    )
    result.flags.writeable = False  # shared through the cache
    return result


def _to_hex(bits: npt.NDArray[np.generic]) -> str:
    """pdqhash gives bits 255..0 in order; packed big-endian that is the reference hex."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def _hash(decoded: DecodedImage) -> PdqHash:
    bits, quality = pdqhash.compute(_pdq_pixels(decoded))
    return PdqHash(_to_hex(bits), int(quality))


def _dihedral(decoded: DecodedImage) -> DihedralPdq:
    variants, quality = pdqhash.compute_dihedral(_pdq_pixels(decoded))
    return DihedralPdq(tuple(_to_hex(bits) for bits in variants), int(quality))
