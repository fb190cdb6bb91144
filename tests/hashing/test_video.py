"""vPDQ hashing of videos: sampling, formats, copies that must match, damaged input.

Every video here is generated at test time by :mod:`raksha.synthetic.videos` (abstract
landscapes panned slowly, a new scene every 3 s); the module-scoped fixtures encode each
file once.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pdqhash
import pytest
from PIL import Image

from raksha.errors import HashingError
from raksha.hashing import video
from raksha.hashing.pdq import MIN_MATCH_QUALITY, hamming, pdq_from_bytes, pdq_from_image
from raksha.hashing.video import (
    FrameHash,
    VideoHash,
    is_animated,
    sniff_video_format,
    vpdq_from_bytes,
    vpdq_from_file,
)
from raksha.synthetic.images import jpeg_bytes, photo_like, png_bytes
from raksha.synthetic.videos import SCENE_SECONDS, footage_frames, make_video, reencode, trim
from tests.hashing.video_fixtures import (
    SAMPLES,
    SIZE,
    VideoSample,
    audio_only_m4a,
    make_sample,
    random_bytes,
    zip_bytes,
)

MATCH = 31  # PDQ's frame match threshold
CONFORMANCE = 10  # the reference's bound for an implementation, at quality >= 80
SEED = 11
SECONDS = 10.0
FPS = 25
INSERT = (4.0, 7.0)  # a known picture fills the frame from 4 s to 7 s


def match_share(query: VideoHash, ref: VideoHash, threshold: int = MATCH) -> float:
    """Share of the query's usable frames that have a frame of ``ref`` within ``threshold``.

    vPDQ's video match is this share reaching 80 %; flat frames (quality under 50) count
    on neither side.
    """
    usable = [f for f in query.frames if f.quality >= MIN_MATCH_QUALITY]
    ref_frames = [f for f in ref.frames if f.quality >= MIN_MATCH_QUALITY]
    if not usable or not ref_frames:
        return 0.0
    matched = sum(1 for f in usable if any(hamming(f.pdq, r.pdq) <= threshold for r in ref_frames))
    return matched / len(usable)


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="module")
def still_jpeg() -> bytes:
    """The "known picture" shown inside the original video."""
    return jpeg_bytes(photo_like(999, 640, 480))


@pytest.fixture(scope="module")
def original(workdir: Path, still_jpeg: bytes) -> Path:
    """10 s of 320x240 H.264 at 25 fps, with the known picture from 4 s to 7 s."""
    return make_video(
        workdir / "original.mp4",
        seconds=SECONDS,
        fps=FPS,
        size=SIZE,
        codec="libx264",
        seed=SEED,
        inserts=[(*INSERT, still_jpeg)],
    )


@pytest.fixture(scope="module")
def original_hash(original: Path) -> VideoHash:
    return vpdq_from_file(original)


@pytest.fixture(scope="module")
def samples(workdir: Path) -> dict[str, Path]:
    """4 s of every container/codec pairing (GIF and WebP at 10 fps)."""
    return {
        s.id: make_sample(workdir, s, seed=5, seconds=4.0, fps=10 if s.encoder is None else 15)
        for s in SAMPLES
    }


# --- sampling -----------------------------------------------------------------------------


def test_one_frame_a_second_in_time_order(original_hash: VideoHash) -> None:
    h = original_hash
    assert h.frames_sampled == 10  # one per second of a 10 s video
    times = [f.timestamp for f in h.frames]
    assert times == sorted(times) and len(set(times)) == len(times)
    # Each sample is the first frame shown at or after a whole second (a frame or two
    # later when the one at the second is an unreferenced B-frame that was skipped).
    for t in times:
        assert 0.0 <= t - round(t) < 0.1
    assert h.duration == pytest.approx(SECONDS)
    assert (h.width, h.height, h.codec, h.container) == (*SIZE, "h264", "mp4")
    assert h.error is None
    assert all(f.quality >= 80 for f in h.frames)
    assert h.frames_decoded < SECONDS * FPS  # unreferenced frames were not decoded


def test_repeated_frames_are_kept_once(original_hash: VideoHash) -> None:
    """The still shown for 3 s hashes identically each second: one frame, first time."""
    h = original_hash
    assert len(h.frames) == h.frames_sampled - 2
    assert [f.timestamp for f in h.frames if INSERT[0] <= f.timestamp < INSERT[1]] == [4.0]
    assert h.unique_pdqs() == [f.pdq for f in h.frames]
    assert all(isinstance(f, FrameHash) for f in h.frames)


def test_other_sampling_interval(original: Path) -> None:
    h = vpdq_from_file(original, every=0.5)
    assert h.frames_sampled == 20
    with pytest.raises(ValueError, match="positive"):
        vpdq_from_file(original, every=0)


def test_hashes_follow_the_footage(original_hash: VideoHash) -> None:
    """Each sampled frame hashes like the picture that was encoded at that moment."""
    source = list(footage_frames(SEED, SIZE, FPS, SECONDS))
    for frame in original_hash.frames:
        if INSERT[0] <= frame.timestamp < INSERT[1]:
            continue
        picture = source[round(frame.timestamp * FPS)]
        expected = pdq_from_image(Image.fromarray(picture))
        assert hamming(frame.pdq, expected.value) <= 16, frame


def test_skipping_unreferenced_frames_barely_moves_hashes(original: Path) -> None:
    fast = vpdq_from_file(original)
    full = vpdq_from_file(original, skip_unreferenced=False)
    assert full.frames_decoded == SECONDS * FPS
    assert fast.frames_decoded < 0.9 * full.frames_decoded
    assert full.frames_sampled == fast.frames_sampled
    distances = [hamming(a.pdq, b.pdq) for a, b in zip(fast.frames, full.frames, strict=True)]
    assert max(distances) <= 4, distances


def test_bytes_and_file_hash_alike(original: Path, original_hash: VideoHash) -> None:
    assert vpdq_from_bytes(original.read_bytes()) == original_hash


# --- formats ------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_every_format_hashes(samples: dict[str, Path], sample: VideoSample) -> None:
    path = samples[sample.id]
    h = vpdq_from_file(path)
    assert (h.container, h.codec) == (sample.container, sample.codec)
    assert (h.width, h.height) == sample.size
    assert h.error is None
    assert h.frames_sampled == 4
    assert [round(f.timestamp) for f in h.frames] == [0, 1, 2, 3]
    assert all(f.quality >= 80 for f in h.frames)
    fps = 10 if sample.encoder is None else 15
    source = list(footage_frames(5, sample.size, fps, 4.0))
    for frame in h.frames:
        expected = pdq_from_image(Image.fromarray(source[round(frame.timestamp * fps)]))
        # GIF's 256-colour palettes move hashes the most.
        assert hamming(frame.pdq, expected.value) <= 24, (sample.id, frame)
    assert sniff_video_format(path.read_bytes()[: video.SNIFF_BYTES]) == (
        None if sample.encoder is None else sample.container
    )


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_reduced_frames_hash_like_full_frames(workdir: Path, size: tuple[int, int]) -> None:
    """Frames are hashed from 1/2 and 1/4 scale luma: within the reference's bound."""
    path = make_video(
        workdir / f"hd{size[1]}.mp4", seconds=3.0, fps=5, size=size, codec="libx264", seed=7
    )
    h = vpdq_from_file(path, skip_unreferenced=False)
    with av.open(str(path)) as container:
        frames = {round(f.time, 6): f for f in container.decode(video=0)}
    assert len(h.frames) == 3
    for frame in h.frames:
        bits, quality = pdqhash.compute(frames[frame.timestamp].to_ndarray(format="rgb24"))
        full = np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()
        assert quality >= 80
        assert hamming(frame.pdq, full) <= CONFORMANCE
        assert abs(frame.quality - int(quality)) <= 3


def test_display_rotation_is_applied(workdir: Path, still_jpeg: bytes) -> None:
    """A portrait phone video stores frames turned and says how to show them."""
    with Image.open(io.BytesIO(still_jpeg)) as img:
        stored = jpeg_bytes(img.transpose(Image.Transpose.ROTATE_270))  # a quarter turn right
    path = make_video(
        workdir / "portrait.mp4",
        seconds=2.0,
        fps=10,
        size=(240, 320),
        codec="libx264",
        seed=3,
        inserts=[(0.0, 2.0, stored)],
        rotation=90,  # shown turned a quarter left: upright again
    )
    h = vpdq_from_file(path)
    assert (h.width, h.height) == (320, 240)
    assert hamming(h.frames[0].pdq, pdq_from_bytes(still_jpeg).value) <= MATCH


# --- copies that must match, and videos that must not -------------------------------------


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("low-bitrate.mp4", {"codec": "libx264", "bitrate": 60_000}),
        ("smaller.mp4", {"codec": "libx264", "size": (192, 144)}),
        ("vp9.webm", {"codec": "libvpx-vp9"}),
    ],
)
def test_reencoded_copies_match(
    workdir: Path, original: Path, original_hash: VideoHash, name: str, options: dict[str, object]
) -> None:
    copy = reencode(original, workdir / name, **options)  # type: ignore[arg-type]
    assert match_share(vpdq_from_file(copy), original_hash) >= 0.8


def test_trimmed_copy_matches(workdir: Path, original: Path, original_hash: VideoHash) -> None:
    """The middle half, cut half a second off the original's sampling grid."""
    part = trim(original, workdir / "middle.mp4", 2.5, 7.5)
    h = vpdq_from_file(part)
    assert h.duration == pytest.approx(5.0)
    assert match_share(h, original_hash) >= 0.8


def test_known_picture_is_found_in_the_video(original_hash: VideoHash, still_jpeg: bytes) -> None:
    known = pdq_from_bytes(still_jpeg).value
    hits = [f.timestamp for f in original_hash.frames if hamming(f.pdq, known) <= MATCH]
    assert hits
    assert all(INSERT[0] - 1 <= t <= INSERT[1] + 1 for t in hits)


def test_unrelated_videos_do_not_match(workdir: Path, original_hash: VideoHash) -> None:
    for seed in (12, 13):
        other = make_video(
            workdir / f"other{seed}.mp4", seconds=6, fps=10, size=SIZE, codec="libx264", seed=seed
        )
        assert match_share(vpdq_from_file(other), original_hash) < 0.2


def test_scenes_hash_apart(original_hash: VideoHash) -> None:
    """Frames of different scenes are far apart; those of one scene close, yet distinct."""
    frames = [f for f in original_hash.frames if not INSERT[0] <= f.timestamp < INSERT[1]]
    for a, b in itertools.pairwise(frames):
        same_scene = a.timestamp // SCENE_SECONDS == b.timestamp // SCENE_SECONDS
        distance = hamming(a.pdq, b.pdq)
        assert 0 < distance <= MATCH if same_scene else distance > 64, (a, b)


# --- damaged and wrong input --------------------------------------------------------------


def test_truncated_streamable_mp4_keeps_its_frames(workdir: Path) -> None:
    path = make_video(
        workdir / "fast.mp4",
        seconds=SECONDS,
        fps=FPS,
        size=SIZE,
        codec="libx264",
        seed=SEED,
        faststart=True,
    )
    data = path.read_bytes()
    h = vpdq_from_bytes(data[: int(len(data) * 0.6)])
    assert 3 <= len(h.frames) < 10
    assert h.error is not None and "truncated" in h.error


def test_truncated_matroska_keeps_its_frames(samples: dict[str, Path]) -> None:
    data = samples["mkv-h264"].read_bytes()
    h = vpdq_from_bytes(data[: int(len(data) * 0.6)])
    assert 1 <= len(h.frames) < 4
    assert h.error is not None and "truncated" in h.error


def test_truncated_gif_keeps_its_frames(samples: dict[str, Path]) -> None:
    data = samples["gif"].read_bytes()
    h = vpdq_from_bytes(data[: int(len(data) * 0.6)])
    assert 1 <= h.frames_sampled < 4


def test_mp4_cut_before_its_index_says_so(original: Path) -> None:
    data = original.read_bytes()  # index (moov) written last, as cameras do
    with pytest.raises(HashingError, match="moov"):
        vpdq_from_bytes(data[: int(len(data) * 0.6)])


def test_corrupt_packets_are_skipped(samples: dict[str, Path]) -> None:
    data = bytearray(samples["mp4-h264"].read_bytes())
    rng = np.random.default_rng(3)
    for offset in rng.integers(len(data) // 2, len(data) - 2000, size=40):
        data[offset] ^= 0xFF
    h = vpdq_from_bytes(bytes(data))  # must not raise
    assert h.frames


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (random_bytes, "cannot open"),
        (lambda: jpeg_bytes(photo_like(1, 320, 240)), "still JPEG"),
        (lambda: png_bytes(photo_like(1, 320, 240)), "still PNG"),
        (lambda: b"", "empty"),
        (zip_bytes, "cannot open"),
        (lambda: _still(photo_like(1, 96, 64), "GIF"), "still GIF"),
        (lambda: _still(photo_like(1, 96, 64), "WEBP"), "still WEBP"),
    ],
    ids=["random", "jpeg", "png", "empty", "zip", "still-gif", "still-webp"],
)
def test_not_a_video_raises(make: Callable[[], bytes], message: str) -> None:
    with pytest.raises(HashingError, match=message):
        vpdq_from_bytes(make())


def test_playlists_and_scripts_are_not_followed(original: Path) -> None:
    """A crafted file must not make FFmpeg open other files (or URLs) on its behalf."""
    concat = f"ffconcat version 1.0\nfile '{original}'\n".encode()
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile://{original}\n"
    for data in (concat, (playlist + "#EXT-X-ENDLIST\n").encode()):
        with pytest.raises(HashingError, match="cannot open"):
            vpdq_from_bytes(data)


def test_no_video_stream_raises(workdir: Path) -> None:
    path = audio_only_m4a(workdir / "voice.m4a")
    with pytest.raises(HashingError, match="no video stream"):
        vpdq_from_file(path)
    assert sniff_video_format(path.read_bytes()[:512]) is None


def test_missing_file_raises(workdir: Path) -> None:
    with pytest.raises(HashingError, match="cannot read"):
        vpdq_from_file(workdir / "absent.mp4")


def test_transparent_gif_frames_show_over_white() -> None:
    """As pictures are shown: the first frame hashes as the image path hashes the GIF."""
    frames = []
    for pixels in footage_frames(4, (160, 120), 10, 2.0):
        frame = Image.fromarray(pixels).convert("RGBA")
        frame.paste((0, 0, 0, 0), (0, 0, 50, 120))  # a transparent band on the left
        frames.append(frame)
    buffer = io.BytesIO()
    frames[0].save(
        buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, disposal=2, loop=0
    )
    data = buffer.getvalue()
    h = vpdq_from_bytes(data)
    assert h.frames_sampled == 2
    assert hamming(h.frames[0].pdq, pdq_from_bytes(data).value) <= 4


def test_animated_png_hashes_with_its_frame_durations() -> None:
    pictures = [Image.fromarray(p) for p in footage_frames(4, (160, 120), 10, 3.0)]
    buffer = io.BytesIO()
    pictures[0].save(buffer, "PNG", save_all=True, append_images=pictures[1:], duration=100)
    h = vpdq_from_bytes(buffer.getvalue())
    assert (h.container, h.frames_sampled) == ("apng", 3)
    assert h.duration == pytest.approx(3.0)
    assert [f.timestamp for f in h.frames] == [0.0, 1.0, 2.0]


# --- sniffing -----------------------------------------------------------------------------


def test_sniff_rejects_other_files() -> None:
    for data in (
        jpeg_bytes(photo_like(1, 64, 48)),
        png_bytes(photo_like(1, 64, 48)),
        zip_bytes(),
        random_bytes(1000),
        b"",
        b"\x1a\x45\xdf\xa3" + b"\x00" * 60,  # EBML but neither WebM nor Matroska
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",  # a HEIC photo
    ):
        assert sniff_video_format(data) is None


def test_sniff_names_brands() -> None:
    def ftyp(major: bytes, *compatible: bytes) -> bytes:
        body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
        return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body

    assert sniff_video_format(ftyp(b"mp42", b"isom")) == "mp4"
    assert sniff_video_format(ftyp(b"dash", b"iso6")) == "mp4"
    assert sniff_video_format(ftyp(b"qt  ", b"qt  ")) == "mov"
    assert sniff_video_format(ftyp(b"3gp5", b"3gp5", b"isom")) == "3gp"
    assert sniff_video_format(ftyp(b"3g2a", b"3g2a")) == "3gp"
    assert sniff_video_format(ftyp(b"XYZW", b"isom")) == "mp4"  # a maker's own brand
    assert sniff_video_format(ftyp(b"M4A ", b"isom")) is None  # audio
    assert sniff_video_format(b"RIFF\x00\x00\x00\x00AVI LIST") == "avi"
    assert sniff_video_format(b"RIFF\x00\x00\x00\x00WEBPVP8 ") is None
    assert sniff_video_format(b"\x00\x00\x00\x08wide\x00\x00\x00\x10mdat") == "mov"
    assert sniff_video_format(b"FLV\x01\x05\x00\x00\x00\x09") == "flv"
    packet = b"\x47" + b"\xff" * 187
    assert sniff_video_format(packet * 3) == "ts"
    assert sniff_video_format((b"\x00" * 4 + packet) * 3) == "ts"  # AVCHD .mts


def test_is_animated(samples: dict[str, Path]) -> None:
    assert is_animated(samples["gif"]) and is_animated(samples["webp"].read_bytes())
    assert not is_animated(_still(photo_like(1, 96, 64), "GIF"))
    assert not is_animated(_still(photo_like(1, 96, 64), "WEBP"))
    assert not is_animated(png_bytes(photo_like(1, 96, 64)))
    assert not is_animated(samples["mp4-h264"])
    assert not is_animated(b"GIF89a broken")


def _still(img: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt)
    return buffer.getvalue()
