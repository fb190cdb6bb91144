"""The vPDQ rule on frames chosen by code: shares both ways, per-set thresholds, known
images among the frames, low-quality frames ignored; on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from pathlib import Path

from raksha.matching.matcher import Matcher
from raksha.matching.video import VideoFrame, VideoMatcher
from raksha.services.hashsets import import_hashset
from raksha.store.db import Store
from tests.helpers import flip_bits, random_hex

RNG = random.Random(11)
REF = [random_hex(RNG, 64) for _ in range(10)]
STILL = random_hex(RNG, 64)


def _sets(store: Store, tmp_path: Path, video_threshold: int | None = None) -> None:
    video = tmp_path / "ref-video.txt"
    video.write_text("".join(f"{h},90,{i}.0\n" for i, h in enumerate(REF)))
    import_hashset(store, video, name="videos", video_threshold=video_threshold)
    still = tmp_path / "stills.txt"
    still.write_text(f"pdq {STILL}\n")
    import_hashset(store, still, name="stills")


def _frames(hashes: list[str], quality: int = 90) -> list[VideoFrame]:
    return [VideoFrame(h, quality, float(i)) for i, h in enumerate(hashes)]


def test_shares_both_ways_and_the_default_threshold(store: Store, tmp_path: Path) -> None:
    _sets(store, tmp_path)
    matcher = VideoMatcher(Matcher(store, tmp_path / "index"))
    near = [flip_bits(h, 8, RNG) for h in REF]
    (full,) = matcher.match(_frames(near)).videos
    assert (full.query_share, full.ref_share, full.ref_frames) == (1.0, 1.0, 10)
    assert full.hit.record_key == "ref-video" and full.best_distance == 8
    clip = matcher.match(_frames(near[2:6])).videos[0]  # a trimmed copy
    assert (clip.query_share, clip.ref_share) == (1.0, 0.4)
    mixed = near[:7] + [random_hex(RNG, 64) for _ in range(3)]
    assert matcher.match(_frames(mixed)).videos == []  # 70 % of each side
    compilation = near + [random_hex(RNG, 64) for _ in range(10)]
    (whole,) = matcher.match(_frames(compilation)).videos  # contains all of the reference
    assert (whole.query_share, whole.ref_share) == (0.5, 1.0)
    assert matcher.match(_frames(near, quality=40)).usable_frames == 0


def test_a_set_with_its_own_threshold(store: Store, tmp_path: Path) -> None:
    _sets(store, tmp_path, video_threshold=60)
    matcher = VideoMatcher(Matcher(store, tmp_path / "index"))
    mixed = [flip_bits(h, 3, RNG) for h in REF[:7]] + [random_hex(RNG, 64) for _ in range(3)]
    (found,) = matcher.match(_frames(mixed)).videos
    assert (found.query_share, found.ref_share) == (0.7, 0.7)


def test_a_known_image_among_the_frames(store: Store, tmp_path: Path) -> None:
    _sets(store, tmp_path)
    matcher = VideoMatcher(Matcher(store, tmp_path / "index"))
    frames = [random_hex(RNG, 64) for _ in range(6)]
    frames[4] = flip_bits(STILL, 5, RNG)
    result = matcher.match(_frames(frames))
    assert result.videos == []
    (shown,) = result.frames
    assert (shown.at_seconds, shown.match.distance, shown.match.hit.set_name) == (4.0, 5, "stills")
