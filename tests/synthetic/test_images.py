"""The generated pictures: deterministic, the right size, photo-like to PDQ, and distinct.

Everything here is abstract and made by code; no test in Raksha uses a real photograph.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from PIL import Image

from raksha.hashing.pdq import (
    dihedral_from_bytes,
    hamming,
    pdq_from_bytes,
    pdq_from_image,
)
from raksha.synthetic.images import (
    brightened,
    cropped,
    flipped,
    graphic_like,
    jpeg_bytes,
    photo_like,
    png_bytes,
    recompressed_jpeg_bytes,
    resized,
    rotated90,
    unrelated_images,
    with_text_watermark,
)

MATCH = 31


@pytest.fixture(scope="module")
def original() -> Image.Image:
    return photo_like(101, 800, 600)


@pytest.fixture(scope="module")
def original_hex(original: Image.Image) -> str:
    return pdq_from_image(original).value


def test_same_seed_gives_the_same_bytes() -> None:
    for size in ((640, 480), (1500, 1000)):
        assert photo_like(7, *size).tobytes() == photo_like(7, *size).tobytes()
    assert graphic_like(7, 300, 200).tobytes() == graphic_like(7, 300, 200).tobytes()
    assert png_bytes(photo_like(7, 200, 100)) == png_bytes(photo_like(7, 200, 100))
    assert photo_like(7, 640, 480).tobytes() != photo_like(8, 640, 480).tobytes()


@pytest.mark.parametrize("size", [(1, 1), (31, 17), (640, 480), (480, 640), (1920, 1080)])
def test_sizes_and_mode(size: tuple[int, int]) -> None:
    for img in (photo_like(3, *size), graphic_like(3, *size)):
        assert img.size == size
        assert img.mode == "RGB"


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        photo_like(1, 0, 10)


def test_twelve_megapixel_picture_is_generated() -> None:
    img = photo_like(5, 4000, 3000)
    assert img.size == (4000, 3000)
    # Grain gives JPEG a realistic amount of detail (a 12 MP q90 file of a few MB).
    assert len(jpeg_bytes(img, 90)) > 1_500_000


def test_photo_like_has_high_pdq_quality() -> None:
    qualities = [pdq_from_image(photo_like(seed, 640, 480)).quality for seed in range(12)]
    assert min(qualities) >= 80


def test_graphic_like_is_low_information() -> None:
    for seed in range(5):
        assert pdq_from_image(graphic_like(seed, 640, 480)).low_information


def test_the_same_scene_at_different_sizes_hashes_alike() -> None:
    small = pdq_from_image(photo_like(9, 640, 480)).value
    large = pdq_from_image(photo_like(9, 1600, 1200)).value
    assert hamming(small, large) <= 10


def test_resized_copies_match(original: Image.Image, original_hex: str) -> None:
    for factor in (0.5, 0.75, 1.5):
        copy = resized(original, factor)
        assert copy.size == (round(800 * factor), round(600 * factor))
        assert hamming(pdq_from_image(copy).value, original_hex) <= MATCH


def test_recompressed_copies_match(original: Image.Image, original_hex: str) -> None:
    for quality in (90, 50, 30):
        data = recompressed_jpeg_bytes(original, quality)
        assert data != jpeg_bytes(original, quality)  # two generations of loss, not one
        assert hamming(pdq_from_bytes(data).value, original_hex) <= MATCH


def test_flipped_and_rotated_copies_match_through_dihedral_hashes(
    original: Image.Image, original_hex: str
) -> None:
    dihedral = dihedral_from_bytes(png_bytes(original))
    for alter, variant in ((flipped, "flip-y"), (rotated90, "rotate-90")):
        copy_hex = pdq_from_image(alter(original)).value
        assert hamming(copy_hex, original_hex) > MATCH
        found, distance = dihedral.closest(copy_hex)
        assert found == variant
        assert distance <= MATCH
    assert rotated90(original).size == (600, 800)


def test_small_crops_match_and_say_what_they_cut(original: Image.Image, original_hex: str) -> None:
    copy = cropped(original, 0.005)
    assert copy.size == (792, 594)
    assert hamming(pdq_from_image(copy).value, original_hex) <= MATCH
    with pytest.raises(ValueError, match="crop fraction"):
        cropped(original, 0.5)


def test_brightened_and_watermarked_copies_change_pixels(original: Image.Image) -> None:
    brighter = brightened(original, 1.2)
    mean = float(np.asarray(original.convert("L")).mean())
    assert float(np.asarray(brighter.convert("L")).mean()) > mean * 1.1
    marked = with_text_watermark(original, "@some_channel")
    assert marked.size == original.size
    difference = np.abs(np.asarray(marked, dtype=np.int16) - np.asarray(original))
    changed = np.count_nonzero(difference.max(axis=2) > 40)
    assert 0 < changed < original.width * original.height * 0.1  # a corner, not the picture


def test_encoders_round_trip(original: Image.Image) -> None:
    with Image.open(io.BytesIO(jpeg_bytes(original, 80))) as jpeg:
        assert (jpeg.format, jpeg.size) == ("JPEG", original.size)
    with Image.open(io.BytesIO(png_bytes(original))) as png:
        assert png.format == "PNG"
        assert png.tobytes() == original.tobytes()


def test_different_seeds_are_far_apart() -> None:
    hashes = [pdq_from_image(img).value for img in unrelated_images(2024, 12, (320, 240))]
    distances = [hamming(a, b) for a, b in itertools.combinations(hashes, 2)]
    assert min(distances) > MATCH
    assert 110 <= float(np.mean(distances)) <= 146  # random-looking: about 128


def test_unrelated_images_are_deterministic() -> None:
    first = [img.tobytes() for img in unrelated_images(5, 3, (64, 48))]
    assert first == [img.tobytes() for img in unrelated_images(5, 3, (64, 48))]
    assert len(set(first)) == 3
