"""Matching a video's frame hashes: against reference videos, and against known images.

One search of the PDQ index answers both, since it holds image PDQ rows and the frames of
reference videos (``vpdq`` rows) alike. Per query frame (quality >= 50) it returns the
reference rows within each set's PDQ threshold; then:

* **video against video** (the vPDQ rule of ``FORMATS.md``): per reference video (a set
  and a record key), the share of the query's frames that matched one of its frames, and
  the share of its frames matched by one of the query's. The video matches when either
  share reaches the set's video threshold (default 80 %): the first catches a trimmed or
  re-encoded copy, the second a compilation that contains a whole known video. Both
  shares are reported.
* **a known image inside a video**: an image reference matched by a frame, reported with
  the second the frame was shown (the best-matching frame; ties go to the earliest).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, tuple_

from raksha.hashes import VPDQ
from raksha.hashing.pdq import MIN_MATCH_QUALITY
from raksha.matching.matcher import Match, Matcher, Query
from raksha.store.hashset_repo import ReferenceHit
from raksha.store.models import hash_sets_table, reference_hashes_table

logger = logging.getLogger(__name__)

DEFAULT_VIDEO_THRESHOLD = 80  # percent of frames


@dataclass(slots=True, frozen=True)
class VideoFrame:
    """One frame hash of the video being matched (what :mod:`raksha.hashing.video` gives)."""

    pdq: str
    quality: int
    timestamp: float


@dataclass(slots=True, frozen=True)
class VideoMatch:
    """A reference video that this video matches, with the shares both ways."""

    hit: ReferenceHit  # one matched frame row: the set, record key and category
    query_share: float
    ref_share: float
    query_frames: int
    ref_frames: int
    best_distance: int


@dataclass(slots=True, frozen=True)
class FrameMatch:
    """A known image shown in the video, and when."""

    match: Match
    at_seconds: float


@dataclass(slots=True)
class _Candidate:
    """A reference video some query frames matched: which frames, which of its frames."""

    hit: ReferenceHit
    best: int
    query: set[float] = field(default_factory=set)
    refs: set[int] = field(default_factory=set)


@dataclass(slots=True)
class VideoResult:
    videos: list[VideoMatch]
    frames: list[FrameMatch]
    usable_frames: int

    def as_matches(self) -> list[tuple[Match, dict[str, float]]]:
        """Every match in the terms of any other match, with what only videos have: a
        reference video as kind ``video`` (its best frame distance) with both shares, a
        known image shown in the video with the second it is shown at."""
        out: list[tuple[Match, dict[str, float]]] = [
            (
                Match("video", VPDQ, v.best_distance, v.hit),
                {"query_share": v.query_share, "ref_share": v.ref_share},
            )
            for v in self.videos
        ]
        out += [
            (
                Match(
                    "frame",
                    f.match.algorithm,
                    f.match.distance,
                    f.match.hit,
                    f"at {f.at_seconds:.0f} s",
                ),
                {"at_seconds": f.at_seconds},
            )
            for f in self.frames
        ]
        return out


class VideoMatcher:
    """Video matching on top of a :class:`Matcher` (same index, same set thresholds)."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self._ref_frames: dict[tuple[int, str], int] = {}
        self._thresholds: dict[int, int] | None = None

    def match(self, frames: Sequence[VideoFrame]) -> VideoResult:
        usable = [f for f in frames if f.quality >= MIN_MATCH_QUALITY]
        if not usable:
            return VideoResult([], [], 0)
        results = self.matcher.match(
            [Query(f"t={f.timestamp:.1f}", pdq=f.pdq, pdq_quality=f.quality) for f in usable]
        )
        per_video: dict[tuple[int, str], _Candidate] = {}
        images: dict[int, FrameMatch] = {}
        for frame, result in zip(usable, results, strict=True):
            for m in result.matches:
                if m.kind != "pdq":
                    continue
                hit = m.hit
                if hit.algorithm == VPDQ and hit.record_key is not None:
                    entry = per_video.setdefault(
                        (hit.set_id, hit.record_key), _Candidate(hit, m.distance)
                    )
                    entry.query.add(frame.timestamp)
                    entry.refs.add(hit.ref_id)
                    if m.distance < entry.best:
                        entry.best, entry.hit = m.distance, hit
                    continue
                best = images.get(hit.ref_id)
                if best is None or m.distance < best.match.distance:
                    images[hit.ref_id] = FrameMatch(m, frame.timestamp)
        videos = self._videos(per_video, len(usable))
        return VideoResult(videos, sorted(images.values(), key=lambda f: f.at_seconds), len(usable))

    def _videos(
        self, per_video: dict[tuple[int, str], _Candidate], usable: int
    ) -> list[VideoMatch]:
        if not per_video:
            return []
        counts = self._frame_counts(list(per_video))
        thresholds = self._set_thresholds()
        out = []
        for key, entry in per_video.items():
            hit = entry.hit
            query_share = len(entry.query) / usable
            ref_frames = counts.get(key, 0)
            ref_share = min(1.0, len(entry.refs) / ref_frames) if ref_frames else 0.0
            needed = thresholds.get(hit.set_id, DEFAULT_VIDEO_THRESHOLD) / 100
            if query_share >= needed or ref_share >= needed:
                out.append(
                    VideoMatch(
                        hit,
                        round(query_share, 4),
                        round(ref_share, 4),
                        usable,
                        ref_frames,
                        entry.best,
                    )
                )
        out.sort(key=lambda v: (-max(v.query_share, v.ref_share), v.hit.set_name))
        return out

    def _frame_counts(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
        missing = [k for k in keys if k not in self._ref_frames]
        if missing:
            rh = reference_hashes_table
            with self.matcher.store.engine.connect() as conn:
                for start in range(0, len(missing), 500):
                    part = missing[start : start + 500]
                    rows = conn.execute(
                        select(rh.c.set_id, rh.c.record_key, func.count())
                        .where(
                            rh.c.algorithm == VPDQ,
                            tuple_(rh.c.set_id, rh.c.record_key).in_(part),
                        )
                        .group_by(rh.c.set_id, rh.c.record_key)
                    )
                    for set_id, record_key, n in rows:
                        self._ref_frames[(set_id, record_key)] = int(n)
        return {k: self._ref_frames.get(k, 0) for k in keys}

    def _set_thresholds(self) -> dict[int, int]:
        if self._thresholds is None:
            hs = hash_sets_table
            with self.matcher.store.engine.connect() as conn:
                self._thresholds = {
                    set_id: int(t)
                    for set_id, t in conn.execute(
                        select(hs.c.id, hs.c.video_threshold).where(
                            hs.c.video_threshold.is_not(None)
                        )
                    )
                }
        return self._thresholds
