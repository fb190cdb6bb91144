"""An exact PDQ index: every reference within the threshold is found, never an approximation.

Pigeonhole multi-index hashing. The 256 bits are cut into ``c`` chunks; two hashes within
distance ``T`` agree to within ``T // c`` bits in at least one chunk. For each chunk the
reference rows are kept sorted by chunk value with an offsets table (CSR), so a probe
(the query's chunk value XOR a mask of at most ``T // c`` bits) is two array reads. Every
candidate is then verified by popcount. The chunk count is chosen from the number of
references so that buckets hold about one row (11 chunks of 23-24 bits at 10 M; 16 of 16
bits for small sets), which keeps candidates few; queries run vectorised in batches.

Changes go to a small delta segment searched beside the base; removals are tombstones;
:meth:`PdqIndex.compacted` folds both into a new base. The on-disk format is plain: a
JSON manifest and ``.npy`` arrays (never pickle), loaded memory-mapped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from raksha.errors import IndexFormatError, UsageError

logger = logging.getLogger(__name__)

FORMAT_NAME = "raksha-pdq-index"
FORMAT_VERSION = 1
HASH_BYTES = 32
QUERY_BATCH = 256
#: Offsets tables are capped at this many bits a chunk (2^25 entries is 128 MiB).
MAX_CHUNK_BITS = 24
DEFAULT_THRESHOLD = 31


def hex_to_array(values: Sequence[str]) -> np.ndarray:
    """Hex PDQ strings -> ``(N, 32)`` uint8, big-endian bytes of each hash."""
    if len(values) == 0:
        return np.zeros((0, HASH_BYTES), dtype=np.uint8)
    try:
        joined = bytes.fromhex("".join(values))
    except ValueError as exc:
        raise UsageError(f"a PDQ hash is not hex: {exc}") from exc
    if len(joined) != HASH_BYTES * len(values) or any(len(v) != 64 for v in values):
        raise UsageError("every PDQ hash must be 64 hex characters")
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, HASH_BYTES).copy()


def array_to_hex(arr: np.ndarray) -> list[str]:
    return [bytes(row).hex() for row in np.asarray(arr, dtype=np.uint8)]


def _words(hashes: np.ndarray) -> np.ndarray:
    """``(N, 32)`` uint8 -> ``(N, 4)`` native uint64 (word 0 holds the first 64 bits)."""
    arr = np.ascontiguousarray(hashes, dtype=np.uint8)
    words: np.ndarray = arr.view(">u8").astype(np.uint64).reshape(-1, 4)
    return words


def _chunk_values(words: np.ndarray, start: int, width: int) -> np.ndarray:
    index, offset = divmod(start, 64)
    value = words[:, index] << np.uint64(offset) if offset else words[:, index].copy()
    if offset + width > 64:
        value |= words[:, index + 1] >> np.uint64(64 - offset)
    return (value >> np.uint64(64 - width)).astype(np.uint32)


def _popcount_rows(x: np.ndarray) -> np.ndarray:
    """Bits set per row of an ``(M, 4)`` uint64 array (adding columns is ~7x faster than sum)."""
    c = np.bitwise_count(x)
    counts: np.ndarray = (c[:, 0] + c[:, 1] + c[:, 2] + c[:, 3]).astype(np.int16)
    return counts


def _widths(chunks: int) -> list[int]:
    base, extra = divmod(256, chunks)
    return [base + 1] * extra + [base] * (chunks - extra)


def choose_chunks(n: int, threshold: int = DEFAULT_THRESHOLD) -> int:
    """The chunk count with the fewest expected probes + candidates for ``n`` references."""
    best, best_cost = 16, math.inf
    for chunks in range(8, 33):
        widths = _widths(chunks)
        if max(widths) > MAX_CHUNK_BITS:
            continue
        flips = threshold // chunks
        probes = sum(sum(math.comb(w, k) for k in range(flips + 1)) for w in widths)
        candidates = sum(sum(math.comb(w, k) for k in range(flips + 1)) * n / 2**w for w in widths)
        cost = probes + 2 * candidates
        if cost < best_cost:
            best, best_cost = chunks, cost
    return best


def _offsets(sorted_values: np.ndarray, width: int, dtype: Any) -> np.ndarray:
    """CSR offsets of sorted chunk values, computed in slices to keep temporaries small."""
    size = 1 << width
    out = np.empty(size + 1, dtype=dtype)
    step = 1 << 20
    for start in range(0, size + 1, step):
        keys = np.arange(start, min(start + step, size + 1), dtype=sorted_values.dtype)
        out[start : start + len(keys)] = np.searchsorted(sorted_values, keys, side="left")
    return out


_MASKS: dict[tuple[int, int], np.ndarray] = {}


def _masks(width: int, flips: int) -> np.ndarray:
    key = (width, flips)
    if key not in _MASKS:
        values = [0]
        for k in range(1, flips + 1):
            for bits in combinations(range(width), k):
                values.append(sum(1 << b for b in bits))
        _MASKS[key] = np.array(values, dtype=np.uint32)
    return _MASKS[key]


@dataclass(frozen=True)
class SearchResult:
    """One row per (query, matching reference), by query then distance."""

    query_index: np.ndarray
    ref_id: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return len(self.query_index)


def _empty_result() -> SearchResult:
    return SearchResult(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int16))


class _Segment:
    """An immutable multi-index over some rows, plus a mutable tombstone mask."""

    def __init__(
        self,
        ids: np.ndarray,
        words: np.ndarray,
        chunks: int,
        orders: list[np.ndarray],
        offsets: list[np.ndarray],
        alive: np.ndarray,
    ) -> None:
        self.ids = ids
        self.words = words
        self.chunks = chunks
        self.widths = _widths(chunks)
        self.starts = [sum(self.widths[:i]) for i in range(chunks)]
        self.orders = orders
        self.offsets = offsets
        self.alive = alive

    @classmethod
    def build(cls, ids: np.ndarray, words: np.ndarray, chunks: int | None = None) -> _Segment:
        """Build over ``words`` (row order by id), which the segment keeps without copying
        when the ids are already sorted."""
        n = len(ids)
        if n > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            order = np.argsort(ids, kind="stable")
            ids, words = ids[order], words[order]
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        words = np.ascontiguousarray(words, dtype=np.uint64)
        chunks = chunks or choose_chunks(n)
        widths = _widths(chunks)
        if max(widths) > MAX_CHUNK_BITS or chunks > 64:
            raise UsageError(
                f"a PDQ index needs 11 to 64 chunks (chunks of at most 24 bits), not {chunks}"
            )
        orders, offsets = [], []
        start = 0
        for width in widths:
            values = _chunk_values(words, start, width)
            rows = np.argsort(values, kind="stable").astype(np.uint32)
            offset = _offsets(values[rows], width, np.uint32 if n < 2**32 else np.int64)
            del values
            orders.append(rows)
            offsets.append(offset)
            start += width
        return cls(ids, words, chunks, orders, offsets, np.ones(n, dtype=bool))

    def __len__(self) -> int:
        return int(self.alive.sum())

    def search(
        self, qwords: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query rows, segment rows, distances) of live matches, duplicates removed."""
        q = len(qwords)
        if q == 0 or len(self.ids) == 0:
            z = np.zeros(0, np.int64)
            return z, z, np.zeros(0, np.int16)
        flips = threshold // self.chunks
        # 32-bit positions halve the memory traffic of the expansion (rows < 2^31 here).
        pos_type = np.int32 if len(self.ids) < 2**31 else np.int64
        q_parts, r_parts = [], []
        for k in range(self.chunks):
            masks = _masks(self.widths[k], flips)
            qv = _chunk_values(qwords, self.starts[k], self.widths[k])
            probes = (qv[:, None] ^ masks[None, :]).ravel()
            offsets = self.offsets[k]
            # np.take is several times faster than fancy indexing for random gathers.
            begins = np.take(offsets, probes).astype(pos_type)
            lengths = np.take(offsets, probes + 1).astype(pos_type) - begins
            nonzero = np.flatnonzero(lengths)
            if len(nonzero) == 0:
                continue
            begins, lengths = begins[nonzero], lengths[nonzero]
            total = int(lengths.sum(dtype=np.int64))
            ends = np.cumsum(lengths, dtype=pos_type)
            positions = np.arange(total, dtype=pos_type) - np.repeat(
                ends - lengths - begins, lengths
            )
            # The probe's number says which query it came from: probe // masks per query.
            q_parts.append(np.repeat(nonzero // len(masks), lengths))
            r_parts.append(np.take(self.orders[k], positions))
        if not q_parts:
            z = np.zeros(0, np.int64)
            return z, z, np.zeros(0, np.int16)
        qrows = np.concatenate(q_parts).astype(np.int64)
        rows = np.concatenate(r_parts).astype(np.int64)
        distance = _popcount_rows(
            np.take(self.words, rows, axis=0) ^ np.take(qwords, qrows, axis=0)
        )
        keep = (distance <= threshold) & self.alive[rows]
        qrows, rows, distance = qrows[keep], rows[keep], distance[keep]
        if len(qrows) > 1:
            key = qrows * (len(self.ids) + 1) + rows
            _, first = np.unique(key, return_index=True)
            qrows, rows, distance = qrows[first], rows[first], distance[first]
        return qrows, rows, distance

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Rows holding ``ids`` (those present)."""
        if len(self.ids) == 0 or len(ids) == 0:
            return np.zeros(0, np.int64)
        pos = np.searchsorted(self.ids, ids)
        pos = np.clip(pos, 0, len(self.ids) - 1)
        found: np.ndarray = pos[self.ids[pos] == ids]
        return found

    # -- persistence ------------------------------------------------------------------------

    def save(self, directory: Path, name: str) -> dict[str, Any]:
        np.save(directory / f"{name}.ids.npy", self.ids)
        np.save(directory / f"{name}.words.npy", self.words)
        np.save(directory / f"{name}.alive.npy", self.alive)
        for k in range(self.chunks):
            np.save(directory / f"{name}.order{k}.npy", self.orders[k])
            np.save(directory / f"{name}.offsets{k}.npy", self.offsets[k])
        return {"name": name, "rows": len(self.ids), "chunks": self.chunks}

    @classmethod
    def load(cls, directory: Path, meta: dict[str, Any], mmap: bool) -> _Segment:
        name, chunks = meta["name"], int(meta["chunks"])

        def arr(suffix: str) -> np.ndarray:
            path = directory / f"{name}.{suffix}.npy"
            loaded: np.ndarray = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
            return loaded

        ids, words = arr("ids"), arr("words")
        alive = np.array(arr("alive"), dtype=bool)  # writable: removals update it
        orders = [arr(f"order{k}") for k in range(chunks)]
        offsets = [arr(f"offsets{k}") for k in range(chunks)]
        rows = int(meta["rows"])
        widths = _widths(chunks)
        if (
            len(ids) != rows
            or words.shape != (rows, 4)
            or len(alive) != rows
            or any(len(o) != rows for o in orders)
            or any(len(off) != (1 << w) + 1 for off, w in zip(offsets, widths, strict=True))
        ):
            raise IndexFormatError(f"the PDQ index in {directory} is inconsistent; rebuild it")
        return cls(ids, words, chunks, orders, offsets, alive)


class PdqIndex:
    """Exact Hamming search over PDQ hashes, with incremental changes and a disk format."""

    #: Compact when the delta or the tombstones pass this share of the base.
    COMPACT_SHARE = 0.1
    COMPACT_MIN = 50_000

    def __init__(self, base: _Segment, delta: _Segment, metadata: dict[str, Any] | None = None):
        self._base = base
        self._delta = delta
        self._metadata = dict(metadata or {})

    @classmethod
    def build(
        cls,
        ids: np.ndarray,
        hashes: np.ndarray,
        *,
        chunks: int | None = None,
        consume: bool = False,
    ) -> PdqIndex:
        """Index ``hashes`` ((N, 32) uint8) under the unique ``ids``.

        With ``consume=True`` the caller hands over ``hashes``: it is converted in place
        and kept, so a build needs no second copy of the hashes (at 100 M that is 3.2 GB).
        """
        ids = np.asarray(ids, dtype=np.int64)
        hashes = np.asarray(hashes, dtype=np.uint8).reshape(-1, HASH_BYTES)
        if len(ids) != len(hashes):
            raise UsageError("ids and hashes differ in length")
        increasing = len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1]))
        if not increasing and len(np.unique(ids)) != len(ids):
            raise UsageError("ids must be unique")
        if consume and hashes.flags.c_contiguous and hashes.flags.writeable:
            words = hashes.view(np.uint64).reshape(-1, 4)
            if np.little_endian:
                words.byteswap(inplace=True)  # big-endian bytes -> native words, no copy
        else:
            words = _words(hashes)
        base = _Segment.build(ids, words, chunks)
        return cls(base, _Segment.build(np.zeros(0, np.int64), np.zeros((0, 4), np.uint64), 16))

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    @property
    def chunks(self) -> int:
        return self._base.chunks

    def __len__(self) -> int:
        return len(self._base) + len(self._delta)

    def search(self, queries: np.ndarray, threshold: int = DEFAULT_THRESHOLD) -> SearchResult:
        """Every live reference within ``threshold`` of each query row.

        Dihedral matching is the caller's: pass the eight variants of a hash as eight rows.
        """
        if not 0 <= threshold <= 256:
            raise UsageError("a PDQ threshold is between 0 and 256")
        queries = np.asarray(queries, dtype=np.uint8).reshape(-1, HASH_BYTES)
        if len(queries) == 0:
            return _empty_result()
        qwords = _words(queries)
        parts_q, parts_id, parts_d = [], [], []
        for start in range(0, len(qwords), QUERY_BATCH):
            batch = qwords[start : start + QUERY_BATCH]
            for segment in (self._base, self._delta):
                qrows, rows, distance = segment.search(batch, threshold)
                parts_q.append(qrows + start)
                parts_id.append(segment.ids[rows] if len(rows) else np.zeros(0, np.int64))
                parts_d.append(distance)
        qi = np.concatenate(parts_q)
        ids = np.asarray(np.concatenate(parts_id), dtype=np.int64)
        dist = np.concatenate(parts_d).astype(np.int16)
        order = np.lexsort((ids, dist, qi))
        return SearchResult(qi[order], ids[order], dist[order])

    def add(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        """Add rows (a live id that is added again is replaced)."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        words = _words(np.asarray(hashes, dtype=np.uint8).reshape(-1, HASH_BYTES))
        self.remove(ids)
        live = self._delta.alive
        all_ids = np.concatenate([self._delta.ids[live], ids])
        all_words = np.concatenate([np.asarray(self._delta.words)[live], words])
        _, last = np.unique(all_ids[::-1], return_index=True)
        keep = len(all_ids) - 1 - last
        self._delta = _Segment.build(all_ids[keep], all_words[keep], 16)

    def remove(self, ids: np.ndarray) -> None:
        """Tombstone ``ids``; unknown ids are ignored."""
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        for segment in (self._base, self._delta):
            segment.alive[segment.rows_of(ids)] = False

    def needs_compaction(self) -> bool:
        base_rows = len(self._base.ids)
        dead = base_rows - len(self._base)
        limit = max(self.COMPACT_MIN, int(self.COMPACT_SHARE * base_rows))
        return len(self._delta.ids) > limit or dead > limit

    def compacted(self) -> PdqIndex:
        parts_ids, parts_words = [], []
        for segment in (self._base, self._delta):
            live = segment.alive
            parts_ids.append(np.asarray(segment.ids)[live])
            parts_words.append(np.asarray(segment.words)[live])
        ids = np.concatenate(parts_ids)
        words = np.concatenate(parts_words)
        base = _Segment.build(ids, words)
        empty = _Segment.build(np.zeros(0, np.int64), np.zeros((0, 4), np.uint64), 16)
        return PdqIndex(base, empty, self._metadata)

    # -- persistence ------------------------------------------------------------------------

    def save(self, directory: Path, metadata: dict[str, Any] | None = None) -> None:
        """Write atomically: a complete new directory replaces the old one, or nothing does."""
        if metadata is not None:
            self._metadata = dict(metadata)
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        try:
            manifest = {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "entries": len(self),
                "segments": [self._base.save(tmp, "base"), self._delta.save(tmp, "delta")],
                "metadata": self._metadata,
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
            old = directory.with_name(directory.name + ".old")
            if old.exists():
                shutil.rmtree(old)
            if directory.exists():
                os.replace(directory, old)
            os.replace(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> PdqIndex:
        directory = Path(directory)
        manifest_path = directory / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text())
        except FileNotFoundError:
            raise IndexFormatError(f"no PDQ index in {directory}") from None
        except (OSError, ValueError) as exc:
            raise IndexFormatError(
                f"the PDQ index manifest in {directory} is damaged: {exc}"
            ) from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
            raise IndexFormatError(f"{manifest_path} is not a Raksha PDQ index manifest")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexFormatError(
                f"the PDQ index in {directory} has format version "
                f"{manifest.get('format_version')}; this Raksha reads {FORMAT_VERSION}: rebuild it"
            )
        try:
            base_meta, delta_meta = manifest["segments"]
            base = _Segment.load(directory, base_meta, mmap)
            delta = _Segment.load(directory, delta_meta, mmap)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexFormatError(f"the PDQ index in {directory} is damaged: {exc}") from exc
        return cls(base, delta, manifest.get("metadata") or {})


def brute_force_search(
    ref_ids: np.ndarray, refs: np.ndarray, queries: np.ndarray, threshold: int
) -> SearchResult:
    """The plain reference: compare every query with every reference."""
    rw, qw = _words(refs), _words(queries)
    ref_ids = np.asarray(ref_ids, dtype=np.int64)
    parts_q, parts_id, parts_d = [], [], []
    for i in range(len(qw)):
        d = _popcount_rows(rw ^ qw[i])
        hit = np.nonzero(d <= threshold)[0]
        parts_q.append(np.full(len(hit), i, np.int64))
        parts_id.append(ref_ids[hit])
        parts_d.append(d[hit])
    if not parts_q:
        return _empty_result()
    qi = np.concatenate(parts_q)
    ids = np.concatenate(parts_id)
    dist = np.concatenate(parts_d).astype(np.int16)
    order = np.lexsort((ids, dist, qi))
    return SearchResult(qi[order], ids[order], dist[order])
