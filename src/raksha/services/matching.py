"""Turning what a user gives ``raksha match`` (files, hashes) into matcher queries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from raksha.errors import HashingError, InvalidHashError
from raksha.hashes import ALGORITHMS, MD5, PDQ, SHA1, SHA256, normalize_hash
from raksha.hashing.files import FileHashes, hash_file
from raksha.matching.matcher import Matcher, Query, QueryResult
from raksha.matching.video import VideoFrame, VideoMatcher

#: Inputs matched per round trip to the store and index when streaming.
STREAM_BATCH = 256


@dataclass(slots=True)
class MatchInput:
    """One thing to match: a file that was hashed, a hash that was typed, or an error."""

    text: str
    query: Query | None
    file: FileHashes | None = None
    error: str | None = None


def parse_hash_text(text: str) -> Query:
    """A typed hash: ``ALG:VALUE`` or a bare value whose length names the algorithm.

    A bare 64-character value could be SHA-256 or PDQ: it is matched as both.
    """
    raw = text.strip()
    if ":" in raw:
        algorithm, _, value = raw.partition(":")
        algorithm = algorithm.strip().lower()
        if algorithm not in ALGORITHMS:
            raise InvalidHashError(
                f"unknown hash algorithm {algorithm!r} in {raw!r}; use one of "
                + ", ".join(ALGORITHMS)
            )
        value = normalize_hash(algorithm, value)
        if algorithm == PDQ:
            return Query(raw, pdq=value)
        return Query(raw, exact={algorithm: value})
    value = raw.lower()
    if len(value) == 32:
        return Query(raw, exact={MD5: normalize_hash(MD5, value)})
    if len(value) == 40:
        return Query(raw, exact={SHA1: normalize_hash(SHA1, value)})
    if len(value) == 64:
        value = normalize_hash(SHA256, value)
        return Query(raw, exact={SHA256: value}, pdq=value)
    raise InvalidHashError(
        f"{raw!r} is neither a file nor a hash (32, 40 or 64 hex characters, "
        "or ALG:VALUE such as pdq:…)"
    )


def query_from_file(hashes: FileHashes) -> Query:
    return Query(
        hashes.path,
        exact={MD5: hashes.md5, SHA1: hashes.sha1, SHA256: hashes.sha256},
        pdq=hashes.pdq,
        pdq_quality=hashes.pdq_quality,
        dihedral=hashes.dihedral,
    )


def to_input(text: str, *, dihedral: bool) -> MatchInput:
    """A file path is hashed; anything else must be a hash."""
    path = Path(text)
    try:
        if path.is_file():
            hashes = hash_file(path, dihedral=dihedral)
            return MatchInput(text, query_from_file(hashes), hashes, hashes.error)
        return MatchInput(text, parse_hash_text(text))
    except (HashingError, InvalidHashError) as exc:
        return MatchInput(text, None, error=str(exc))
    except OSError as exc:  # pragma: no cover - races with the file system
        return MatchInput(text, None, error=str(exc))


def add_video_matches(
    videos: VideoMatcher, result: QueryResult, frames: list[tuple[str, int, float]]
) -> None:
    """A video's matches in the terms of any other: reference videos (kind ``video``,
    the shares in the notes) and known images shown in it (the second as the variant)."""
    found = videos.match([VideoFrame(*f) for f in frames])
    for m, extra in found.as_matches():
        result.matches.append(m)
        if m.kind == "video":
            result.notes.append(
                f"{m.hit.set_name} video {m.hit.record_key}: {extra['query_share']:.0%} of this "
                f"video's frames match, {extra['ref_share']:.0%} of the reference's"
            )


def match_stream(
    matcher: Matcher, texts: Iterable[str], *, dihedral: bool, batch: int = STREAM_BATCH
) -> Iterator[tuple[MatchInput, QueryResult | None]]:
    """Match inputs in batches, yielding results in input order as each batch completes."""
    pending: list[MatchInput] = []

    videos = VideoMatcher(matcher)

    def flush() -> Iterator[tuple[MatchInput, QueryResult | None]]:
        queries = [i.query for i in pending if i.query is not None]
        results = iter(matcher.match(queries)) if queries else iter(())
        for item in pending:
            result = next(results) if item.query is not None else None
            if result is not None and item.file is not None and item.file.vpdq:
                add_video_matches(videos, result, item.file.vpdq)
            yield item, result
        pending.clear()

    for line in texts:
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        pending.append(to_input(text, dihedral=dihedral))
        if len(pending) >= batch:
            yield from flush()
    if pending:
        yield from flush()
