"""One immutable multi-index over a set of PDQ rows, with a mutable tombstone mask.

Layout (``N`` rows): ``ids`` (N,) ascending, stored as uint32 offsets from ``id_base``
when their range allows (database ids usually do; it saves 4 bytes a row) or else as
int64 with ``id_base`` 0; ``head``/``tail`` (N, 2) uint64
(see :mod:`.pdq_bits`); ``alive`` (N,) bool, false for removed rows; ``order`` and one
offsets table per chunk (see :mod:`.pdq_tables`).

Queries are answered in sub-batches by :func:`.pdq_probe.probe_batch` (phases of
vectorised numpy passes), or by a blocked linear scan where that is cheaper: tiny
segments, or thresholds so large that the probe balls outgrow the data.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from raksha.matching import pdq_bits as bits
from raksha.matching.pdq_probe import Plan, Workspace, probe_batch
from raksha.matching.pdq_tables import ChunkTable, build_tables, table_arrays, table_geometry

logger = logging.getLogger(__name__)

#: Probes per sub-batch of queries; bounds the temporaries (~40 bytes a probe) and keeps
#: them in cache. At T=31 over 10 M rows that is ~180 queries a sub-batch.
PROBE_BUDGET = 1 << 19
#: Candidates expanded at once; a bigger total (clustered data) is cut into pieces.
CANDIDATE_BUDGET = 1 << 19
#: Linear scan block: queries x rows compared at once (16 bytes each in temporaries).
SCAN_QUERIES = 32
SCAN_ROWS = 1 << 14

_EMPTY_I64 = np.zeros(0, dtype=np.int64)


def _empty_hits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _EMPTY_I64, _EMPTY_I64, np.zeros(0, dtype=np.int16)


class Segment:
    """Rows plus their multi-index; see the module docstring for the layout."""

    def __init__(
        self,
        ids: np.ndarray,
        head: np.ndarray,
        tail: np.ndarray,
        alive: np.ndarray,
        order: np.ndarray,
        tables: list[ChunkTable],
        id_base: int = 0,
    ) -> None:
        self.ids = ids
        self.id_base = id_base
        self.head = head
        self.tail = tail
        self.alive = alive
        self.order = order
        self.tables = tables
        self.live = int(np.count_nonzero(alive))
        self._plans: dict[int, Plan] = {}

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def widths(self) -> list[int]:
        return [t.width for t in self.tables]

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def empty(cls) -> Segment:
        z = np.zeros((0, 2), dtype=np.uint64)
        return cls(_EMPTY_I64, z, z, np.zeros(0, bool), np.zeros(0, np.uint32), [])

    @classmethod
    def build(
        cls,
        ids: np.ndarray,
        head: np.ndarray,
        tail: np.ndarray,
        widths: list[int] | None = None,
    ) -> Segment:
        """Index rows; ``ids`` (int64) must be unique and ascending (the caller sorts them).

        The segment keeps its own copy of ``ids`` and references ``head``/``tail``.
        """
        n = len(ids)
        if widths is None:
            widths = bits.choose_widths(n)
        if n == 0:
            widths = []
        order, tables = build_tables(head, tail, widths)
        alive = np.ones(n, dtype=bool)
        stored, id_base = _store_ids(ids)
        return cls(stored, head, tail, alive, order, tables, id_base)

    # -- lookups ----------------------------------------------------------------------------

    def id_values(self, rows: np.ndarray) -> np.ndarray:
        """The int64 ids of ``rows``."""
        values: np.ndarray = np.asarray(self.ids)[rows].astype(np.int64)
        values += self.id_base
        return values

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Row numbers holding any of ``ids`` (int64; ids not present are skipped)."""
        stored = np.asarray(self.ids)
        if len(stored) == 0 or len(ids) == 0:
            return _EMPTY_I64
        offsets = ids - self.id_base
        if stored.dtype == np.uint32:
            offsets = offsets[(offsets >= 0) & (offsets <= np.iinfo(np.uint32).max)]
            offsets = offsets.astype(np.uint32)
        pos = np.minimum(np.searchsorted(stored, offsets), len(stored) - 1)
        found: np.ndarray = pos[stored[pos] == offsets]
        return found

    def kill(self, rows: np.ndarray) -> None:
        if len(rows):
            self.alive[rows] = False
            self.live = int(np.count_nonzero(self.alive))

    def live_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, head, tail) of the live rows, as in-memory copies."""
        keep = np.flatnonzero(self.alive)
        return (
            self.id_values(keep),
            np.asarray(self.head)[keep],
            np.asarray(self.tail)[keep],
        )

    # -- search -----------------------------------------------------------------------------

    def _plan(self, threshold: int) -> Plan:
        plan = self._plans.get(threshold)
        if plan is not None:
            return plan
        n = len(self.ids)
        widths = self.widths
        plan = Plan(scan=True)
        if widths:
            radii = bits.radii_for(widths, threshold, n)
            sizes = [bits.ball(w, r) for w, r in zip(widths, radii, strict=True)]
            cheaper = bits.multi_index_cost_ns(widths, radii, n) < bits.scan_cost_ns(n)
            if cheaper and sum(sizes) <= bits.MAX_MASKS:
                active = tuple(k for k, r in enumerate(radii) if r >= 0)
                masks = tuple(bits.probe_masks(widths[k], radii[k]) for k in active)
                plan = Plan(False, active, masks, sum(len(m) for m in masks))
        logger.debug(
            "PDQ segment of %s rows at threshold %s: %s",
            n,
            threshold,
            "linear scan" if plan.scan else f"{plan.probes} probes a query",
        )
        self._plans[threshold] = plan
        return plan

    def search(
        self, qhead: np.ndarray, qtail: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query rows, segment rows, distances) of live matches, each pair once."""
        if len(qhead) == 0 or self.live == 0:
            return _empty_hits()
        plan = self._plan(threshold)
        if plan.scan:
            return self._scan(qhead, qtail, threshold)
        step = max(1, PROBE_BUDGET // max(plan.probes, 1))
        ws = Workspace()
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for lo in range(0, len(qhead), step):
            qh, qt = qhead[lo : lo + step], qtail[lo : lo + step]
            found = probe_batch(self, plan, qh, qt, threshold, ws, CANDIDATE_BUDGET)
            q, r, d = _dedupe(
                _concat([self._finish(q, r, qt, threshold, x) for q, r, x in found]), len(self)
            )
            parts.append((q + lo, r, d))
        return _concat(parts)

    def _finish(
        self,
        qrows: np.ndarray,
        rows: np.ndarray,
        qtail: np.ndarray,
        threshold: int,
        xor_head: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = rows.astype(np.int64)
        xor_tail = self.tail.take(rows, axis=0) ^ qtail.take(qrows, axis=0)
        distance = bits.row_distance(xor_head) + bits.row_distance(xor_tail)
        keep = (distance <= threshold) & self.alive[rows]
        return qrows[keep], rows[keep], distance[keep]

    def _scan(
        self, qhead: np.ndarray, qtail: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Compare every query with every row, block by block (small segments, huge T)."""
        parts = []
        n = len(self.ids)
        for q0 in range(0, len(qhead), SCAN_QUERIES):
            qh = qhead[q0 : q0 + SCAN_QUERIES]
            for r0 in range(0, n, SCAN_ROWS):
                block = np.asarray(self.head[r0 : r0 + SCAN_ROWS])
                xor = block[None, :, :] ^ qh[:, None, :]
                near = bits.head_distance(xor.reshape(-1, 2)).reshape(len(qh), len(block))
                qi, ri = np.nonzero(near <= threshold)
                if len(qi) == 0:
                    continue
                parts.append(self._finish(qi + q0, ri + r0, qtail, threshold, xor[qi, ri]))
        return _concat(parts)


def _store_ids(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """A copy of ascending int64 ``ids`` as (uint32 offsets, base) when it fits, else (int64, 0)."""
    if len(ids) and int(ids[-1]) - int(ids[0]) <= np.iinfo(np.uint32).max:
        base = int(ids[0])
        stored = np.empty(len(ids), dtype=np.uint32)
        for lo in range(0, len(ids), 1 << 20):
            np.subtract(
                ids[lo : lo + (1 << 20)], base, out=stored[lo : lo + (1 << 20)], casting="unsafe"
            )
        return stored, base
    return np.array(ids, dtype=np.int64), 0


def _concat(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not parts:
        return _empty_hits()
    if len(parts) == 1:
        return parts[0]
    q = np.concatenate([p[0] for p in parts])
    r = np.concatenate([p[1] for p in parts])
    d = np.concatenate([p[2] for p in parts])
    return q, r, d


def _dedupe(
    hits: tuple[np.ndarray, np.ndarray, np.ndarray], rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One hit per (query, row): a reference may be near the query in several chunks."""
    q, r, d = hits
    if len(q) < 2:
        return q, r, d
    _, first = np.unique(q * rows + r, return_index=True)
    if len(first) == len(q):
        return q, r, d
    return q[first], r[first], d[first]


def segment_arrays(segment: Segment) -> dict[str, np.ndarray]:
    """The arrays that persist a segment, by file stem."""
    arrays: dict[str, np.ndarray] = {
        "ids": np.asarray(segment.ids),
        "head": np.asarray(segment.head),
        "tail": np.asarray(segment.tail),
        "alive": np.asarray(segment.alive),
        "order": np.asarray(segment.order),
    }
    for k, table in enumerate(segment.tables):
        arrays.update(table_arrays(k, table))
    return arrays


def segment_geometry(segment: Segment) -> dict[str, Any]:
    """The JSON description saved beside :func:`segment_arrays`."""
    return {
        "rows": len(segment),
        "live": segment.live,
        "id_base": segment.id_base,
        "chunks": [table_geometry(t) for t in segment.tables],
    }
