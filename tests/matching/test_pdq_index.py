"""The exact PDQ index against a plain brute-force scan, on random and generated hashes only.

Every test compares whole results (query, reference id, distance) with
:func:`brute_force_search`, so a single missed, extra or mis-measured match fails it.
Cost-model constants are patched where a test must force one search path: the multi-index
(even where a scan would be cheaper) or the linear scan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raksha.errors import IndexFormatError, UsageError
from raksha.matching import pdq_bits, pdq_probe, pdq_segment, pdq_tables
from raksha.matching.pdq_index import (
    PdqIndex,
    SearchResult,
    array_to_hex,
    brute_force_search,
    hex_to_array,
)

THRESHOLDS = (0, 10, 31, 32, 40, 63)


def random_hashes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)


def flipped(rng: np.random.Generator, row: np.ndarray, distance: int) -> np.ndarray:
    """``row`` with exactly ``distance`` distinct bits flipped."""
    out = row.copy()
    for bit in rng.choice(256, size=distance, replace=False):
        out[bit // 8] ^= np.uint8(1 << (bit % 8))
    return out


def planted_queries(
    rng: np.random.Generator, refs: np.ndarray, distances: range, random_count: int = 20
) -> np.ndarray:
    """One near-duplicate of a random reference at each distance, plus random queries."""
    rows = [flipped(rng, refs[rng.integers(len(refs))], d) for d in distances]
    rows.extend(random_hashes(rng, random_count))
    return np.array(rows, dtype=np.uint8).reshape(-1, 32)


def assert_same(got: SearchResult, want: SearchResult) -> None:
    assert got.query_index.dtype == np.int64
    assert got.ref_id.dtype == np.int64
    assert got.distance.dtype == np.int16
    np.testing.assert_array_equal(got.query_index, want.query_index)
    np.testing.assert_array_equal(got.ref_id, want.ref_id)
    np.testing.assert_array_equal(got.distance, want.distance)


@contextmanager
def forced(path: str) -> Iterator[None]:
    """Make the cost model always pick ``"index"`` (multi-index) or ``"scan"``."""
    cost = 1e12 if path == "index" else 0.0
    with mock.patch.object(pdq_bits, "SCAN_ROW_NS", cost):
        yield


def live_brute_force(live: dict[int, np.ndarray], queries: np.ndarray, t: int) -> SearchResult:
    ids = np.array(sorted(live), dtype=np.int64)
    refs = np.array([live[i] for i in ids], dtype=np.uint8).reshape(-1, 32)
    return brute_force_search(ids, refs, queries, t)


# -- exactness ----------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_bits", [6, 16, 22])
def test_forced_geometries_equal_brute_force_at_every_threshold(chunk_bits: int) -> None:
    rng = np.random.default_rng(chunk_bits)
    refs = random_hashes(rng, 20_000)
    ids = rng.choice(10**9, size=20_000, replace=False).astype(np.int64)  # unsorted, sparse
    index = PdqIndex.build(ids, refs, chunk_bits=chunk_bits)
    assert max(index.chunk_widths) == chunk_bits
    queries = planted_queries(rng, refs, range(0, 70))
    with forced("index"):
        for t in THRESHOLDS:
            assert_same(index.search(queries, t), brute_force_search(ids, refs, queries, t))


def test_automatic_geometry_at_100k_equals_brute_force() -> None:
    rng = np.random.default_rng(7)
    refs = random_hashes(rng, 100_000)
    ids = np.arange(100_000, dtype=np.int64) * 3
    index = PdqIndex.build(ids, refs)
    assert len(index.chunk_widths) >= 8
    queries = planted_queries(rng, refs, range(0, 66), random_count=40)
    for t in THRESHOLDS:
        got = index.search(queries, t)
        assert_same(got, brute_force_search(ids, refs, queries, t))
        # Each planted query finds its source exactly when its distance is within t.
        assert set(got.query_index[got.distance <= t].tolist()) >= set(range(min(t + 1, 66)))


def test_linear_scan_path_equals_brute_force() -> None:
    rng = np.random.default_rng(3)
    refs = random_hashes(rng, 5_000)
    ids = np.arange(5_000, dtype=np.int64)
    index = PdqIndex.build(ids, refs, chunk_bits=16)
    queries = planted_queries(rng, refs, range(0, 70))
    with forced("scan"):
        for t in (0, 31, 63, 128, 256):
            assert_same(index.search(queries, t), brute_force_search(ids, refs, queries, t))


def test_complement_hash_is_at_distance_256() -> None:
    rng = np.random.default_rng(4)
    refs = random_hashes(rng, 2_000)
    ids = np.arange(2_000, dtype=np.int64)
    index = PdqIndex.build(ids, refs, chunk_bits=8)
    queries = np.array([~refs[5], refs[6]])
    for t in (31, 255, 256):
        assert_same(index.search(queries, t), brute_force_search(ids, refs, queries, t))
    at_255 = index.search(queries, 255)
    assert 5 not in at_255.ref_id[at_255.query_index == 0].tolist()
    at_256 = index.search(queries, 256)
    assert 5 in at_256.ref_id[at_256.query_index == 0].tolist()


def test_clustered_references_stay_exact() -> None:
    """Many references near a few centres, and thousands of identical ones (escapes)."""
    rng = np.random.default_rng(5)
    centres = random_hashes(rng, 8)
    near = [flipped(rng, centres[i % 8], int(rng.integers(0, 12))) for i in range(4_000)]
    same = np.repeat(centres[:1], 3_000, axis=0)  # one hash 3,000 times: huge buckets
    refs = np.concatenate([random_hashes(rng, 10_000), np.array(near), same])
    ids = np.arange(len(refs), dtype=np.int64) + 1
    queries = np.concatenate(
        [
            np.array([flipped(rng, centres[i % 8], d) for i, d in enumerate(range(0, 45))]),
            random_hashes(rng, 10),
        ]
    )
    with (
        forced("index"),
        mock.patch.object(pdq_segment, "PROBE_BUDGET", 4_096),
        mock.patch.object(pdq_segment, "CANDIDATE_BUDGET", 2_000),
    ):
        index = PdqIndex.build(ids, refs, chunk_bits=16)
        assert any(t.escapes.shape[1] for t in index._base.tables)
        for t in (0, 10, 31, 40):
            assert_same(index.search(queries, t), brute_force_search(ids, refs, queries, t))


def test_dense_buckets_widen_the_offsets_table() -> None:
    rng = np.random.default_rng(6)
    refs = random_hashes(rng, 80_000)  # ~300 rows a bucket of 8 bits: uint16 cannot hold it
    ids = np.arange(len(refs), dtype=np.int64)
    index = PdqIndex.build(ids, refs, chunk_bits=8)
    assert {t.packed.dtype for t in index._base.tables} == {np.dtype(np.uint32)}
    queries = planted_queries(rng, refs, range(0, 40, 3), random_count=3)
    with forced("index"):
        for t in (0, 31):
            assert_same(index.search(queries, t), brute_force_search(ids, refs, queries, t))


def test_offsets_tables_decode_every_bucket_exactly() -> None:
    """Buckets at the edges of the packed encoding (255 rows, 255 before) decode exactly."""
    rng = np.random.default_rng(15)
    # With 8-bit chunks, chunk k is byte k. Byte 0 gets buckets of 255, 255 and 300 rows
    # (fine == count == 255 must not read as the escape value) and sparse others.
    byte0 = np.concatenate(
        [np.zeros(255), np.ones(255), np.full(300, 40), rng.integers(64, 256, 500)]
    ).astype(np.uint8)
    refs = random_hashes(rng, len(byte0))
    refs[:, 0] = rng.permutation(byte0)
    head, tail = pdq_bits.split_words(refs)
    order, tables = pdq_tables.build_tables(head, tail, pdq_bits.widths_for_bits(8))
    assert tables[0].escapes.shape[1] >= 1 and tables[0].group >= 1
    n = len(refs)
    for k, table in enumerate(tables):
        keys = np.arange(1 << table.width, dtype=np.int64)
        first = np.empty(len(keys), np.int64)
        length = np.empty(len(keys), np.int64)
        pdq_probe._lookup(table, keys, first, length, pdq_probe.Workspace())
        values = refs[:, k].astype(np.int64)
        counts = np.bincount(values, minlength=256)
        np.testing.assert_array_equal(length, counts)
        np.testing.assert_array_equal(first, k * n + np.cumsum(counts) - counts)
        runs = order[k * n : (k + 1) * n]
        np.testing.assert_array_equal(values[runs], np.sort(values))


def test_head_distance_is_the_popcount_of_both_words() -> None:
    rng = np.random.default_rng(16)
    xor = rng.integers(0, 2**63, size=(1_000, 2), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    xor[0] = np.uint64(2**64 - 1)
    xor[1] = 0
    want = np.bitwise_count(xor).sum(axis=1)
    np.testing.assert_array_equal(pdq_bits.head_distance(xor), want)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 400),
    chunk_bits=st.sampled_from([None, 4, 9, 16]),
    threshold=st.integers(0, 80),
    path=st.sampled_from(["index", "scan"]),
)
def test_property_equals_brute_force(
    seed: int, n: int, chunk_bits: int | None, threshold: int, path: str
) -> None:
    rng = np.random.default_rng(seed)
    refs = random_hashes(rng, n)
    ids = rng.choice(10**6, size=n, replace=False).astype(np.int64)
    queries = random_hashes(rng, 5)
    if n:
        sources = rng.integers(0, n, size=10)
        near = [flipped(rng, refs[s], int(rng.integers(0, 90))) for s in sources]
        queries = np.concatenate([queries, np.array(near)])
    with forced(path):
        index = PdqIndex.build(ids, refs, chunk_bits=chunk_bits)
        assert_same(
            index.search(queries, threshold), brute_force_search(ids, refs, queries, threshold)
        )


# -- changes ------------------------------------------------------------------------------


def test_add_remove_replace_then_compact_equal_brute_force_on_live_set() -> None:
    rng = np.random.default_rng(8)
    base = random_hashes(rng, 30_000)
    live = {i: base[i] for i in range(30_000)}
    index = PdqIndex.build(np.arange(30_000), base)
    queries = planted_queries(rng, base, range(0, 40), random_count=5)

    added = planted_queries(rng, base, range(0, 35), random_count=2_000)  # near old rows too
    new_ids = np.arange(50_000, 50_000 + len(added))
    index.add(new_ids, added)
    live.update(zip(new_ids.tolist(), added, strict=True))

    removed = np.array([0, 5, 17, 50_003, 99_999_999])  # base, delta and unknown ids
    index.remove(removed)
    for i in removed.tolist():
        live.pop(i, None)

    replaced = np.array([1, 2, 50_010])  # re-adding live ids replaces them
    replacement = np.array([queries[3], queries[4], queries[5]])
    index.add(replaced, replacement)
    live.update(zip(replaced.tolist(), replacement, strict=True))
    index.add(np.array([5]), queries[6:7])  # a removed id may come back
    live[5] = queries[6]

    probe = np.concatenate([queries, base[:20], added[:20], replacement])
    assert len(index) == len(live)
    for t in (0, 31, 40):
        got = index.search(probe, t)
        assert_same(got, live_brute_force(live, probe, t))
        assert not set(got.ref_id.tolist()) & {0, 17, 50_003}
    compact = index.compacted()
    assert len(compact) == len(live)
    assert compact._delta.live == 0
    for t in (0, 31, 40):
        assert_same(compact.search(probe, t), live_brute_force(live, probe, t))


def test_wide_id_ranges_and_caller_arrays_are_kept_apart(tmp_path: Path) -> None:
    """Ids spanning more than 2^32 (stored as int64) work; later edits by the caller don't leak."""
    rng = np.random.default_rng(17)
    refs = random_hashes(rng, 3_000)
    ids = np.sort(rng.choice(2**50, size=3_000, replace=False)).astype(np.int64) - 2**49
    original = ids.copy()
    index = PdqIndex.build(ids, refs, chunk_bits=16)
    assert index._base.ids.dtype == np.int64
    ids[:] = 0  # the caller reuses its buffers
    refs_copy = refs.copy()
    refs[:] = 0
    queries = planted_queries(rng, refs_copy, range(0, 35), random_count=3)
    want = brute_force_search(original, refs_copy, queries, 31)
    assert_same(index.search(queries, 31), want)
    index.remove(original[:1])
    index.save(tmp_path / "idx")
    loaded = PdqIndex.load(tmp_path / "idx")
    live = {i: refs_copy[k] for k, i in enumerate(original.tolist()[1:], start=1)}
    assert_same(loaded.search(queries, 31), live_brute_force(live, queries, 31))


def test_needs_compaction_follows_delta_and_tombstones() -> None:
    rng = np.random.default_rng(9)
    index = PdqIndex.build(np.arange(1_000), random_hashes(rng, 1_000))
    with mock.patch.object(PdqIndex, "COMPACT_MIN", 100):
        assert not index.needs_compaction()
        index.remove(np.arange(150))
        assert index.needs_compaction()
        compact = index.compacted()
        assert len(compact) == 850 and not compact.needs_compaction()
        compact.add(np.arange(5_000, 5_200), random_hashes(rng, 200))
        assert compact.needs_compaction()


def test_bad_arguments_raise_usage_errors() -> None:
    rng = np.random.default_rng(10)
    refs = random_hashes(rng, 10)
    with pytest.raises(UsageError):
        PdqIndex.build(np.array([1, 1, 2, 3, 4, 5, 6, 7, 8, 9]), refs)
    with pytest.raises(UsageError):
        PdqIndex.build(np.arange(9), refs)
    with pytest.raises(UsageError):
        PdqIndex.build(np.arange(10), refs.astype(np.int64))
    with pytest.raises(UsageError):
        PdqIndex.build(np.arange(10), refs, chunk_bits=40)
    index = PdqIndex.build(np.arange(10), refs)
    for threshold in (-1, 257, 3.5, True):
        with pytest.raises(UsageError):
            index.search(refs, threshold)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        index.search(refs[:, :16])
    with pytest.raises(UsageError):
        index.add(np.array([20, 20]), refs[:2])


def test_empty_index_and_empty_query_batch() -> None:
    rng = np.random.default_rng(11)
    empty = PdqIndex.build(np.zeros(0, np.int64), np.zeros((0, 32), np.uint8))
    assert len(empty) == 0
    assert len(empty.search(random_hashes(rng, 3))) == 0
    index = PdqIndex.build(np.arange(2_000), random_hashes(rng, 2_000))
    result = index.search(np.zeros((0, 32), np.uint8), 31)
    assert len(result) == 0 and result.distance.dtype == np.int16
    row = random_hashes(rng, 1)
    empty.add(np.array([7]), row)
    assert len(empty) == 1
    assert empty.search(row, 0).ref_id.tolist() == [7]


# -- persistence --------------------------------------------------------------------------


def _changed_index(rng: np.random.Generator) -> tuple[PdqIndex, np.ndarray]:
    refs = random_hashes(rng, 20_000)
    index = PdqIndex.build(np.arange(20_000), refs)
    index.add(np.arange(30_000, 30_500), random_hashes(rng, 500))
    index.remove(np.array([3, 30_001]))
    return index, planted_queries(rng, refs, range(0, 40))


@pytest.mark.parametrize("mmap", [True, False])
def test_save_load_round_trip(tmp_path: Path, mmap: bool) -> None:
    rng = np.random.default_rng(12)
    index, queries = _changed_index(rng)
    meta = {"store_id": "abc", "max_ref_id": 30_499, "nested": {"a": [1, 2]}}
    index.save(tmp_path / "idx", metadata=meta)
    loaded = PdqIndex.load(tmp_path / "idx", mmap=mmap)
    assert loaded.metadata == meta and index.metadata == meta
    assert len(loaded) == len(index)
    for t in (0, 31, 63):
        assert_same(loaded.search(queries, t), index.search(queries, t))
    loaded.remove(np.array([4]))  # tombstones of a memory-mapped index are writable
    loaded.add(np.array([99_999]), queries[:1])
    loaded.save(tmp_path / "idx")  # over the directory it was loaded from
    again = PdqIndex.load(tmp_path / "idx", mmap=mmap)
    assert again.metadata == meta
    assert_same(again.search(queries, 31), loaded.search(queries, 31))
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["format"] == "raksha-pdq-index" and manifest["format_version"] == 1
    assert manifest["entries"] == len(again)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]  # no temporary left


def test_every_file_loads_without_pickle(tmp_path: Path) -> None:
    index, _ = _changed_index(np.random.default_rng(13))
    index.save(tmp_path / "idx")
    files = sorted((tmp_path / "idx").glob("*.npy"))
    assert files
    for path in files:
        array = np.load(path, allow_pickle=False)
        assert array.dtype != object


def _saved(tmp_path: Path) -> Path:
    rng = np.random.default_rng(14)
    PdqIndex.build(np.arange(3_000), random_hashes(rng, 3_000)).save(tmp_path / "idx", {"k": 1})
    return tmp_path / "idx"


def test_missing_damaged_or_unknown_version_raise_index_format_error(tmp_path: Path) -> None:
    with pytest.raises(IndexFormatError):
        PdqIndex.load(tmp_path / "nothing")
    directory = _saved(tmp_path)
    manifest_path = directory / "manifest.json"
    manifest = json.loads(manifest_path.read_text())

    manifest_path.write_text("{not json")
    with pytest.raises(IndexFormatError):
        PdqIndex.load(directory)
    manifest_path.write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(IndexFormatError, match="version"):
        PdqIndex.load(directory)
    manifest_path.write_text(json.dumps({**manifest, "format": "something-else"}))
    with pytest.raises(IndexFormatError):
        PdqIndex.load(directory)
    bad_rows = {**manifest["segments"]["base"], "rows": 7}
    manifest_path.write_text(
        json.dumps({**manifest, "segments": {**manifest["segments"], "base": bad_rows}})
    )
    with pytest.raises(IndexFormatError):
        PdqIndex.load(directory)
    manifest_path.write_text(json.dumps(manifest))
    PdqIndex.load(directory)  # intact again

    ids_path = directory / "base.ids.npy"
    ids = np.load(ids_path)
    np.save(ids_path, ids[::-1].copy())  # no longer ascending
    with pytest.raises(IndexFormatError):
        PdqIndex.load(directory)
    np.save(ids_path, ids)

    order = directory / "base.order.npy"
    data = order.read_bytes()
    order.write_bytes(data[: len(data) // 2])  # truncated
    for mmap in (True, False):
        with pytest.raises(IndexFormatError):
            PdqIndex.load(directory, mmap=mmap)
    (directory / "base.order.npy").unlink()
    with pytest.raises(IndexFormatError):
        PdqIndex.load(directory)


def test_interrupted_save_falls_back_to_the_previous_index(tmp_path: Path) -> None:
    directory = _saved(tmp_path)
    directory.rename(tmp_path / ".idx.old")  # a crash between the two renames
    assert PdqIndex.load(directory).metadata == {"k": 1}


def test_save_refuses_to_replace_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "keep.txt").write_text("mine")
    index = PdqIndex.build(np.arange(3), random_hashes(np.random.default_rng(1), 3))
    with pytest.raises(UsageError):
        index.save(tmp_path / "docs")
    with pytest.raises(UsageError):
        index.save(tmp_path / "x", metadata={"bad": object()})
    assert (tmp_path / "docs" / "keep.txt").read_text() == "mine"


# -- hex ----------------------------------------------------------------------------------


def test_hex_round_trip_and_errors() -> None:
    values = ["00" * 32, "ff" * 32, "0123456789abcdef" * 4]
    arr = hex_to_array(values)
    assert arr.shape == (3, 32) and arr.dtype == np.uint8
    assert arr[2, 0] == 0x01 and arr[2, 7] == 0xEF  # big-endian bytes of the string
    assert array_to_hex(arr) == values
    assert hex_to_array(["AB" * 32]).tolist() == hex_to_array(["ab" * 32]).tolist()
    assert hex_to_array([]).shape == (0, 32)
    for bad in (["0" * 63], ["g" * 64], ["0" * 62 + " 0"], ["0" * 65]):
        with pytest.raises(UsageError):
            hex_to_array(bad)
