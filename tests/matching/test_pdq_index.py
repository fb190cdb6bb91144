"""The PDQ index is exact: it returns what brute force returns, whatever changes are made."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raksha.errors import IndexFormatError, UsageError
from raksha.matching.pdq_index import (
    PdqIndex,
    SearchResult,
    array_to_hex,
    brute_force_search,
    choose_chunks,
    hex_to_array,
)

RNG = np.random.default_rng(20261124)


def random_hashes(n: int, rng: np.random.Generator = RNG) -> np.ndarray:
    return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)


def near(hashes: np.ndarray, distances: np.ndarray, rng: np.random.Generator = RNG) -> np.ndarray:
    """A copy of each row with exactly ``distances[i]`` bits flipped."""
    out = hashes.copy()
    bits = np.unpackbits(out, axis=1)
    for i, d in enumerate(distances):
        flip = rng.choice(256, size=int(d), replace=False)
        bits[i, flip] ^= 1
    return np.packbits(bits, axis=1)


def as_set(result: SearchResult) -> set[tuple[int, int, int]]:
    return set(
        zip(
            result.query_index.tolist(),
            result.ref_id.tolist(),
            result.distance.tolist(),
            strict=True,
        )
    )


def planted(
    n_refs: int, n_queries: int, max_distance: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    refs = random_hashes(n_refs)
    ids = RNG.permutation(np.arange(1, 3 * n_refs, 3, dtype=np.int64))[:n_refs]
    pick = RNG.integers(0, n_refs, size=n_queries)
    distances = RNG.integers(0, max_distance + 1, size=n_queries)
    queries = np.concatenate([near(refs[pick], distances), random_hashes(n_queries // 4)])
    return ids, refs, queries


@pytest.mark.parametrize(
    ("chunks", "threshold"),
    [(c, t) for c in (None, 11, 16, 24) for t in (0, 10, 31, 32, 40)] + [(24, 63), (32, 63)],
)
def test_same_as_brute_force(chunks: int | None, threshold: int) -> None:
    ids, refs, queries = planted(20_000, 300, threshold + 4)
    index = PdqIndex.build(ids, refs, chunks=chunks)
    expected = brute_force_search(ids, refs, queries, threshold)
    got = index.search(queries, threshold)
    assert as_set(got) == as_set(expected)
    assert len(got) == len(expected) > 0
    order = np.lexsort((got.distance, got.query_index))
    assert np.array_equal(order, np.arange(len(got)))  # sorted by query, then distance


def test_clustered_references_are_still_exact() -> None:
    centres = random_hashes(20)
    refs = near(np.repeat(centres, 500, axis=0), RNG.integers(0, 20, size=10_000))
    ids = np.arange(10_000, dtype=np.int64)
    queries = near(centres, np.full(20, 12))
    got = PdqIndex.build(ids, refs).search(queries, 31)
    assert as_set(got) == as_set(brute_force_search(ids, refs, queries, 31))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=30, unique=True),
    st.integers(0, 80),
    st.integers(1, 255),
)
def test_property_small_sets(rows: list[bytes], threshold: int, seed: int) -> None:
    refs = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, 32)
    rng = np.random.default_rng(seed)
    queries = near(refs, rng.integers(0, 64, size=len(refs)), rng)
    ids = np.arange(len(refs), dtype=np.int64) * 7
    got = PdqIndex.build(ids, refs).search(queries, threshold)
    assert as_set(got) == as_set(brute_force_search(ids, refs, queries, threshold))


def test_add_remove_replace_and_compaction_keep_it_exact() -> None:
    ids, refs, queries = planted(5_000, 200, 35)
    index = PdqIndex.build(ids[:4_000], refs[:4_000])
    index.add(ids[4_000:], refs[4_000:])
    removed = ids[::5]
    index.remove(removed)
    index.remove(np.array([-1, 10**12], dtype=np.int64))  # unknown ids are ignored
    replaced = random_hashes(10)
    index.add(ids[1:11], replaced)  # a live id added again is replaced
    live = dict(zip(ids.tolist(), refs, strict=True))
    for i in removed.tolist():
        live.pop(i)
    for i, h in zip(ids[1:11].tolist(), replaced, strict=True):
        live[i] = h
    live_ids = np.array(list(live), dtype=np.int64)
    live_refs = np.array(list(live.values()), dtype=np.uint8)
    expected = as_set(brute_force_search(live_ids, live_refs, queries, 31))
    assert as_set(index.search(queries, 31)) == expected
    assert len(index) == len(live)
    assert not set(index.search(queries, 31).ref_id.tolist()) & set(removed.tolist())
    compact = index.compacted()
    assert as_set(compact.search(queries, 31)) == expected and len(compact) == len(live)


def test_compaction_is_asked_for_when_changes_pile_up() -> None:
    ids, refs, _ = planted(1_000, 1, 0)
    index = PdqIndex.build(ids, refs)
    assert not index.needs_compaction()
    index.COMPACT_MIN = 10
    index.add(np.arange(10**9, 10**9 + 200, dtype=np.int64), random_hashes(200))
    assert index.needs_compaction()


@pytest.mark.parametrize("mmap", [True, False])
def test_save_and_load_round_trip(tmp_path: Path, mmap: bool) -> None:
    ids, refs, queries = planted(3_000, 100, 31)
    index = PdqIndex.build(ids, refs)
    index.add(np.array([10**9], dtype=np.int64), random_hashes(1))
    index.remove(ids[:3])
    index.save(tmp_path / "pdq", metadata={"store_id": "abc", "max_ref_id": 7})
    loaded = PdqIndex.load(tmp_path / "pdq", mmap=mmap)
    assert loaded.metadata == {"store_id": "abc", "max_ref_id": 7}
    assert as_set(loaded.search(queries)) == as_set(index.search(queries))
    loaded.remove(ids[3:6])  # a memory-mapped index still takes removals
    assert len(loaded) == len(index) - 3
    for path in (tmp_path / "pdq").glob("*.npy"):
        np.load(path, allow_pickle=False)  # plain arrays, never pickle
    manifest = json.loads((tmp_path / "pdq" / "manifest.json").read_text())
    assert manifest["format_version"] == 1 and manifest["entries"] == len(index)


def test_saving_replaces_the_old_index_whole(tmp_path: Path) -> None:
    ids, refs, _queries = planted(1_000, 50, 10)
    PdqIndex.build(ids, refs).save(tmp_path / "pdq")
    PdqIndex.build(ids[:10], refs[:10]).save(tmp_path / "pdq")
    assert len(PdqIndex.load(tmp_path / "pdq")) == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pdq"]


def test_damaged_or_foreign_indexes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(IndexFormatError, match="no PDQ index"):
        PdqIndex.load(tmp_path / "missing")
    ids, refs, _ = planted(500, 1, 0)
    PdqIndex.build(ids, refs).save(tmp_path / "pdq")
    manifest = tmp_path / "pdq" / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "format_version": 99}))
    with pytest.raises(IndexFormatError, match="version 99"):
        PdqIndex.load(tmp_path / "pdq")
    manifest.write_text("{not json")
    with pytest.raises(IndexFormatError, match="damaged"):
        PdqIndex.load(tmp_path / "pdq")
    manifest.write_text(json.dumps(data))
    (tmp_path / "pdq" / "base.order0.npy").unlink()
    with pytest.raises(IndexFormatError):
        PdqIndex.load(tmp_path / "pdq")


def test_empty_index_and_empty_queries() -> None:
    empty = PdqIndex.build(np.zeros(0, np.int64), np.zeros((0, 32), np.uint8))
    assert len(empty) == 0 and len(empty.search(random_hashes(3))) == 0
    ids, refs, _ = planted(100, 1, 0)
    assert len(PdqIndex.build(ids, refs).search(np.zeros((0, 32), np.uint8))) == 0


def test_hex_conversion_and_bad_input() -> None:
    values = [bytes(row).hex() for row in random_hashes(3)]
    assert array_to_hex(hex_to_array(values)) == values
    with pytest.raises(UsageError):
        hex_to_array(["zz" * 32])
    with pytest.raises(UsageError):
        hex_to_array(["ab" * 31])
    with pytest.raises(UsageError):
        PdqIndex.build(np.array([1, 1]), random_hashes(2))


def test_geometry_follows_the_number_of_references() -> None:
    with pytest.raises(UsageError, match="chunks"):
        PdqIndex.build(np.arange(3), random_hashes(3), chunks=8)
    assert choose_chunks(1_000) == 16
    assert choose_chunks(10_000_000) in (10, 11, 12)
