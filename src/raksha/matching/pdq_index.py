"""An exact PDQ index: every reference within the threshold is found, never an approximation.

Pigeonhole multi-index hashing. The 256 bits are cut into ``c`` chunks. If a reference is
within ``T`` bits of a query, then for any radii with ``sum(r_k + 1) > T`` at least one
chunk ``k`` differs in at most ``r_k`` bits; so probing every chunk value within its
radius of the query's (query chunk XOR each mask of at most ``r_k`` bits) finds every
match, and each candidate is then verified by popcount. The chunk count is chosen from
the number of references so that buckets hold about one row: at 10 M references, 11
chunks of 23-24 bits probed to radius 2, about 2,900 probes and 2,900 candidates a query.
Radii are chosen per query threshold, so one index serves any threshold exactly (large
thresholds cost more; past the point where a linear scan is cheaper, it scans).

Changes go to a small delta segment searched beside the base; removals are tombstones;
:meth:`PdqIndex.compacted` folds both into a new base. On disk it is a JSON manifest
plus ``.npy`` arrays (:mod:`.pdq_index_io`), loaded memory-mapped, never pickled.

Dihedral matching (a rotated or mirrored copy of a reference image) needs nothing special:
pass the eight dihedral hashes of a file as eight query rows and map ``query_index`` back.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from raksha.errors import UsageError
from raksha.matching import pdq_bits as bits
from raksha.matching.pdq_index_io import load_segments, save_segments
from raksha.matching.pdq_segment import Segment

logger = logging.getLogger(__name__)

HASH_BYTES = bits.HASH_BYTES
DEFAULT_THRESHOLD = 31
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def hex_to_array(values: Sequence[str]) -> np.ndarray:
    """Hex PDQ strings -> ``(N, 32)`` uint8, the big-endian bytes of each hash."""
    if len(values) == 0:
        return np.zeros((0, HASH_BYTES), dtype=np.uint8)
    for value in values:
        if not isinstance(value, str) or len(value) != 2 * HASH_BYTES:
            raise UsageError(f"a PDQ hash must be 64 hex characters, not {value!r}")
    joined = "".join(values)
    try:
        raw = bytes.fromhex(joined)
    except ValueError:
        raw = b""
    if len(raw) != HASH_BYTES * len(values):  # fromhex skips spaces: catch those too
        bad = next(v for v in values if not set(v) <= _HEX_DIGITS)
        raise UsageError(f"a PDQ hash is not hexadecimal: {bad!r}")
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, HASH_BYTES).copy()


def array_to_hex(arr: np.ndarray) -> list[str]:
    """``(N, 32)`` uint8 -> lower-case hex strings."""
    data = _hash_rows(arr, "hashes")
    text = data.tobytes().hex()
    width = 2 * HASH_BYTES
    return [text[i : i + width] for i in range(0, len(text), width)]


@dataclass(frozen=True)
class SearchResult:
    """One row per (query, matching reference), by query, then distance, then id."""

    query_index: np.ndarray  # int64, row of the query batch
    ref_id: np.ndarray  # int64, the id given to build/add
    distance: np.ndarray  # int16, Hamming distance

    def __len__(self) -> int:
        return len(self.query_index)


def _result(qrows: np.ndarray, ref_ids: np.ndarray, distance: np.ndarray) -> SearchResult:
    q = np.asarray(qrows, dtype=np.int64)
    i = np.asarray(ref_ids, dtype=np.int64)
    d = np.asarray(distance, dtype=np.int16)
    order = np.lexsort((i, d, q))
    return SearchResult(q[order], i[order], d[order])


def _hash_rows(hashes: Any, what: str) -> np.ndarray:
    arr = np.asarray(hashes)
    if arr.size == 0:
        return np.zeros((0, HASH_BYTES), dtype=np.uint8)
    if arr.dtype != np.uint8 or arr.ndim != 2 or arr.shape[1] != HASH_BYTES:
        raise UsageError(f"{what} must be an (N, 32) uint8 array, not {arr.dtype} {arr.shape}")
    return arr


def _id_array(ids: Any, rows: int | None = None) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.size == 0:
        arr = arr.reshape(0).astype(np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise UsageError(f"ids must be a 1-D integer array, not {arr.dtype} {arr.shape}")
    if rows is not None and len(arr) != rows:
        raise UsageError(f"{len(arr)} ids for {rows} hashes")
    if arr.dtype == np.uint64 and len(arr) and int(arr.max()) >= 2**63:
        raise UsageError("ids must fit in int64")
    out: np.ndarray = arr.astype(np.int64, copy=False)
    return out


def _sorted_rows(
    ids: np.ndarray, head: np.ndarray, tail: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ordered by id (a no-op for ids already ascending); duplicate ids are refused."""
    if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
        order = np.argsort(ids, kind="stable")
        ids, head, tail = ids[order], head[order], tail[order]
        if bool(np.any(ids[1:] == ids[:-1])):
            raise UsageError("ids must be unique")
    return ids, head, tail


class PdqIndex:
    """Exact Hamming search over PDQ hashes, with incremental changes and a disk format."""

    #: Compact when the delta or the tombstones pass this share of the base (or the minimum).
    COMPACT_SHARE = 0.1
    COMPACT_MIN = 50_000

    def __init__(
        self,
        base: Segment,
        delta: Segment,
        metadata: dict[str, Any] | None = None,
        chunk_bits: int | None = None,
    ) -> None:
        """Use :meth:`build` or :meth:`load`; this joins already made segments."""
        self._base = base
        self._delta = delta
        self._metadata: dict[str, Any] = copy.deepcopy(metadata or {})
        self._chunk_bits = chunk_bits

    @classmethod
    def build(
        cls, ids: np.ndarray, hashes: np.ndarray, *, chunk_bits: int | None = None
    ) -> PdqIndex:
        """Index ``hashes`` ((N, 32) uint8) under unique int64 ``ids``.

        ``chunk_bits`` forces the widest chunk (the fewest chunks of at most that many bits
        covering 256); by default the width is chosen from N (see
        :func:`.pdq_bits.choose_widths`).
        """
        rows = _hash_rows(hashes, "hashes")
        ids = _id_array(ids, len(rows))
        if len(rows) >= 2**32 - 1:
            raise UsageError("a PDQ index holds fewer than 2^32 rows; split the reference set")
        widths = None
        if chunk_bits is not None:
            if not bits.MIN_CHUNK_BITS <= int(chunk_bits) <= bits.MAX_CHUNK_BITS:
                raise UsageError(
                    f"chunk_bits must be between {bits.MIN_CHUNK_BITS} and {bits.MAX_CHUNK_BITS}"
                )
            widths = bits.widths_for_bits(int(chunk_bits))
        head, tail = bits.split_words(rows)
        ids, head, tail = _sorted_rows(ids, head, tail)
        base = Segment.build(ids, head, tail, widths)
        logger.info("built a PDQ index of %s rows, chunk widths %s", len(ids), base.widths)
        return cls(base, Segment.empty(), None, chunk_bits)

    @property
    def metadata(self) -> dict[str, Any]:
        """The caller's metadata saved with the index (a copy)."""
        return copy.deepcopy(self._metadata)

    @property
    def chunk_widths(self) -> list[int]:
        """The base segment's chunk widths (empty: it is small enough to scan)."""
        return self._base.widths

    def __len__(self) -> int:
        return self._base.live + self._delta.live

    def search(self, queries: np.ndarray, threshold: int = DEFAULT_THRESHOLD) -> SearchResult:
        """Every live reference within ``threshold`` bits of each query row.

        ``queries`` is (Q, 32) uint8. Dihedral matching: pass the eight variants of a hash
        as eight rows. Any threshold from 0 to 256 is exact; above ~40 it gets slower.
        """
        if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer):
            raise UsageError(f"a PDQ threshold is an integer, not {threshold!r}")
        threshold = int(threshold)
        if not 0 <= threshold <= bits.HASH_BITS:
            raise UsageError(f"a PDQ threshold is between 0 and 256, not {threshold}")
        rows = _hash_rows(queries, "queries")
        qhead, qtail = bits.split_words(rows)
        parts_q, parts_i, parts_d = [], [], []
        for segment in (self._base, self._delta):
            q, r, d = segment.search(qhead, qtail, threshold)
            parts_q.append(q)
            parts_i.append(segment.id_values(r))
            parts_d.append(d)
        return _result(np.concatenate(parts_q), np.concatenate(parts_i), np.concatenate(parts_d))

    def add(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        """Add rows to the delta segment; an id that is already live is replaced."""
        rows = _hash_rows(hashes, "hashes")
        new_ids = _id_array(ids, len(rows))
        if len(new_ids) == 0:
            return
        if len(np.unique(new_ids)) != len(new_ids):
            raise UsageError("ids must be unique")
        self.remove(new_ids)
        head, tail = bits.split_words(rows)
        old_ids, old_head, old_tail = self._delta.live_rows()
        all_ids, all_head, all_tail = _sorted_rows(
            np.concatenate([old_ids, new_ids]),
            np.concatenate([old_head, head]),
            np.concatenate([old_tail, tail]),
        )
        self._delta = Segment.build(all_ids, all_head, all_tail)

    def remove(self, ids: np.ndarray) -> None:
        """Tombstone ``ids``: they are never returned again. Unknown ids are ignored."""
        gone = np.unique(_id_array(ids))
        for segment in (self._base, self._delta):
            segment.kill(segment.rows_of(gone))

    def needs_compaction(self) -> bool:
        """Whether the delta or the tombstones have grown enough to rebuild the base."""
        base_rows = len(self._base)
        dead = base_rows - self._base.live + len(self._delta) - self._delta.live
        limit = max(self.COMPACT_MIN, int(self.COMPACT_SHARE * base_rows))
        return len(self._delta) > limit or dead > limit

    def compacted(self) -> PdqIndex:
        """A new index whose base holds every live row (this one is left as it was)."""
        parts = [segment.live_rows() for segment in (self._base, self._delta)]
        ids, head, tail = _sorted_rows(
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )
        widths = None if self._chunk_bits is None else bits.widths_for_bits(self._chunk_bits)
        base = Segment.build(ids, head, tail, widths)
        return PdqIndex(base, Segment.empty(), self._metadata, self._chunk_bits)

    def save(self, directory: Path, metadata: dict[str, Any] | None = None) -> None:
        """Write the index to ``directory`` atomically; ``metadata`` replaces the stored one."""
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise UsageError("PDQ index metadata must be a dict")
            new_metadata = copy.deepcopy(metadata)
        else:
            new_metadata = self._metadata
        save_segments(
            Path(directory),
            {"base": self._base, "delta": self._delta},
            new_metadata,
            {"chunk_bits": self._chunk_bits},
        )
        self._metadata = new_metadata

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> PdqIndex:
        """Open a saved index; :class:`~raksha.errors.IndexFormatError` if it cannot be used."""
        segments, metadata, options = load_segments(Path(directory), mmap)
        chunk_bits = options.get("chunk_bits")
        return cls(
            segments["base"],
            segments["delta"],
            metadata,
            int(chunk_bits) if isinstance(chunk_bits, int) else None,
        )


def brute_force_search(
    ref_ids: np.ndarray, refs: np.ndarray, queries: np.ndarray, threshold: int
) -> SearchResult:
    """The plain reference: every query against every reference (tests, benchmarks)."""
    rows = _hash_rows(refs, "refs")
    ids = _id_array(ref_ids, len(rows))
    words = np.ascontiguousarray(rows).view("<u8").astype(np.uint64)
    qwords = np.ascontiguousarray(_hash_rows(queries, "queries")).view("<u8").astype(np.uint64)
    parts_q, parts_i, parts_d = [], [], []
    block = 1 << 18
    for qi in range(len(qwords)):
        for start in range(0, len(words), block):
            distance = bits.row_distance(words[start : start + block] ^ qwords[qi])
            hit = np.flatnonzero(distance <= threshold)
            parts_q.append(np.full(len(hit), qi, dtype=np.int64))
            parts_i.append(ids[start + hit])
            parts_d.append(distance[hit])
    if not parts_q:
        return _result(np.zeros(0), np.zeros(0), np.zeros(0))
    return _result(np.concatenate(parts_q), np.concatenate(parts_i), np.concatenate(parts_d))
