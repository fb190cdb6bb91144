"""The carver on byte media made in memory: complete pictures found at their offsets,
broken ones dropped, embedded thumbnails not reported twice, allocated space skipped."""

from __future__ import annotations

import io
import random

from PIL import Image

from raksha.sources.carving import carve, free_ranges, jpeg_length, png_length
from raksha.synthetic import images as synth


class BytesMedia:
    format = "raw"

    def __init__(self, data: bytes) -> None:
        self.segments: list[str] = []
        self._data = data
        self.size = len(data)

    def read(self, offset: int, size: int) -> bytes:
        return self._data[offset : offset + size]

    def close(self) -> None:
        pass


def _noise(n: int, seed: int = 1) -> bytes:
    # Random bytes without 0xFF, so no stray JPEG marker appears by chance.
    rng = random.Random(seed)
    return bytes(rng.randrange(0, 255) for _ in range(n))


def _progressive_jpeg() -> bytes:
    buf = io.BytesIO()
    synth.photo_like(7, 320, 240).save(buf, "JPEG", quality=80, progressive=True)
    return buf.getvalue()


def _jpeg_with_thumbnail() -> bytes:
    image = synth.photo_like(8, 640, 480)
    thumb = io.BytesIO()
    image.resize((160, 120)).save(thumb, "JPEG")
    exif = Image.Exif()
    buf = io.BytesIO()
    # An APP segment that embeds a whole JPEG, as cameras embed their EXIF thumbnails.
    image.save(buf, "JPEG", exif=exif.tobytes(), quality=85)
    data = buf.getvalue()
    app = b"\xff\xe2" + (len(thumb.getvalue()) + 2).to_bytes(2, "big") + thumb.getvalue()
    return data[:2] + app + data[2:]


def test_every_format_variant_is_found_at_its_offset() -> None:
    baseline = synth.jpeg_bytes(synth.photo_like(1, 320, 240))
    progressive = _progressive_jpeg()
    with_thumb = _jpeg_with_thumbnail()
    png = synth.png_bytes(synth.graphic_like(2, 200, 150))
    parts = [_noise(5000), baseline, _noise(777, 2), progressive, _noise(4096, 3)]
    parts += [with_thumb, _noise(10, 4), png, _noise(3000, 5)]
    media = BytesMedia(b"".join(parts))
    found = list(carve(media, [(0, media.size)]))
    offsets = []
    pos = 0
    for part in parts:
        offsets.append(pos)
        pos += len(part)
    assert [(c.offset, c.kind, c.length) for c in found] == [
        (offsets[1], "jpeg", len(baseline)),
        (offsets[3], "jpeg", len(progressive)),
        (offsets[5], "jpeg", len(with_thumb)),
        (offsets[7], "png", len(png)),
    ]


def test_truncated_and_corrupt_pictures_are_dropped() -> None:
    jpeg = synth.jpeg_bytes(synth.photo_like(3, 320, 240))
    png = synth.png_bytes(synth.graphic_like(4, 120, 90))
    bad_crc = bytearray(png)
    bad_crc[40] ^= 0x01  # inside the first IDAT or IHDR: its CRC no longer checks
    media = BytesMedia(_noise(100) + jpeg[: len(jpeg) // 2] + _noise(200, 9) + bytes(bad_crc))
    assert list(carve(media, [(0, media.size)])) == []
    assert jpeg_length(BytesMedia(jpeg), 0, 1 << 20) == len(jpeg)
    assert png_length(BytesMedia(png), 0, 1 << 20) == len(png)
    assert jpeg_length(BytesMedia(jpeg), 0, len(jpeg) - 1) is None  # over the size limit


def test_only_free_ranges_are_searched() -> None:
    jpeg = synth.jpeg_bytes(synth.photo_like(5, 200, 150))
    data = _noise(4096) + jpeg + _noise(4096, 7) + jpeg + _noise(100, 8)
    media = BytesMedia(data)
    first = 4096
    second = 4096 + len(jpeg) + 4096
    ranges = free_ranges(media.size, [(first, len(jpeg))])  # the first copy is a listed file
    assert [c.offset for c in carve(media, ranges)] == [second]


def test_free_ranges_merge_overlaps() -> None:
    assert free_ranges(100, [(10, 10), (15, 10), (50, 5), (90, 20)]) == [
        (0, 10),
        (25, 50),
        (55, 90),
    ]
    assert free_ranges(10, []) == [(0, 10)]
