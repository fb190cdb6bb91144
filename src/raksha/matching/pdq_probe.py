"""The vectorised probe pipeline of one segment, over a sub-batch of queries.

Phases, each one numpy pass over the whole sub-batch:

1. keys: each query's chunk value XOR every mask of the chunk's radius;
2. table reads: each key's run (first position in ``order``, length), see
   :meth:`.pdq_tables.ChunkTable.lookup`;
3. expansion: one candidate per row of every run, as positions in ``order`` and the
   query each belongs to. ``np.repeat`` would do, but it allocates; instead a scatter of
   per-run (and per-query) differences followed by a cumulative sum writes into reused
   buffers;
4. verification: gather each candidate's row number and 128-bit head, XOR with the
   query's head, popcount; only candidates within the threshold read their tail.

Every large temporary lives in a :class:`Workspace` reused across the sub-batches of a
call. Freshly allocated temporaries of this size are returned to the operating system
and page-faulted back in for every sub-batch, which measured 40% of the query time at
10 M rows; reuse removes that.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from raksha.matching import pdq_bits as bits
from raksha.matching.pdq_tables import ChunkTable


@dataclass(frozen=True)
class Plan:
    """How a segment answers one threshold: the probed chunks and their masks, or a scan."""

    scan: bool
    chunks: tuple[int, ...] = ()
    masks: tuple[np.ndarray, ...] = ()
    probes: int = 0


class Workspace:
    """Named scratch buffers that grow on demand and are reused between sub-batches."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def get(self, name: str, size: int, dtype: Any, width: int = 0) -> np.ndarray:
        """A buffer of ``size`` rows (of ``width`` columns when given); contents undefined."""
        dtype = np.dtype(dtype)
        shape = (size, width) if width else (size,)
        buffer = self._buffers.get(name)
        if buffer is None or buffer.dtype != dtype or buffer.shape[1:] != shape[1:]:
            buffer = None
        if buffer is None or len(buffer) < size:
            capacity = max(size, int(1.25 * len(buffer)) if buffer is not None else size)
            buffer = np.empty((capacity, *shape[1:]), dtype=dtype)
            self._buffers[name] = buffer
        return buffer[:size]

    def ramp(self, stop: int) -> np.ndarray:
        """``arange(stop)`` as int64, kept between calls."""
        ramp = self._buffers.get("ramp")
        if ramp is None or len(ramp) < stop:
            ramp = np.arange(max(stop, 1024), dtype=np.int64)
            self._buffers["ramp"] = ramp
        return ramp[:stop]


def probe_batch(
    segment: Any,
    plan: Plan,
    qhead: np.ndarray,
    qtail: np.ndarray,
    threshold: int,
    ws: Workspace,
    candidate_budget: int,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Candidates whose head is within ``threshold``, in parts: (query rows, rows, head XOR).

    A row may repeat (once per chunk that found it) and may be dead: the caller reads the
    tails, filters and removes duplicates. ``segment`` is a :class:`.pdq_segment.Segment`.
    """
    b = len(qhead)
    total = b * plan.probes
    first = ws.get("first", total, np.int64)
    length = ws.get("length", total, np.int64)
    seg_start = np.empty(b * len(plan.chunks), dtype=np.int64)
    tables: list[ChunkTable] = segment.tables
    offset = 0
    for j, (k, masks) in enumerate(zip(plan.chunks, plan.masks, strict=True)):
        table = tables[k]
        values = bits.chunk_values(qhead, qtail, table.start, table.width).view(np.int64)
        n = b * len(masks)
        keys = ws.get("keys", n, np.int64)
        np.bitwise_xor(values[:, None], masks[None, :], out=keys.reshape(b, len(masks)))
        _lookup(table, keys, first[offset : offset + n], length[offset : offset + n], ws)
        seg_start[j * b : (j + 1) * b] = offset + ws.ramp(b) * len(masks)
        offset += n
    # cum[i]: candidates before probe i. Shifting ``first`` by it makes a candidate's
    # position ``first[run] + its own index`` over the whole sub-batch.
    cum = ws.get("cum", total + 1, np.int64)
    cum[0] = 0
    np.cumsum(length, out=cum[1:])
    np.subtract(first, cum[:-1], out=first)
    # The query of each candidate changes where a (chunk, query) block of probes starts.
    seg_query = np.tile(ws.ramp(b), len(plan.chunks))
    query_step = np.diff(seg_query, prepend=0)
    parts = []
    for p0, p1 in _pieces(cum, candidate_budget):
        c0, c1 = int(cum[p0]), int(cum[p1])
        if c1 == c0:
            continue
        positions = _positions(first[p0:p1], length[p0:p1], cum[p0:p1], c0, c1, ws)
        at = cum[np.clip(seg_start, p0, p1)] - c0
        inside = at < c1 - c0
        qrows = ws.get("qrows", c1 - c0, np.int64)
        qrows.fill(0)
        np.add.at(qrows, at[inside], query_step[inside])
        np.cumsum(qrows, out=qrows)
        parts.append(_verify(segment, positions, qrows, qhead, threshold, ws))
    return parts


def _lookup(
    table: ChunkTable, keys: np.ndarray, first: np.ndarray, length: np.ndarray, ws: Workspace
) -> None:
    """Write each probed bucket's first position in ``order`` and its row count."""
    n = len(keys)
    packed_out = ws.get(f"packed{table.packed.dtype.str}", n, table.packed.dtype)
    packed = table.packed.take(keys, out=packed_out)
    np.bitwise_and(packed, (1 << table.shift) - 1, out=first, casting="unsafe")
    groups = np.right_shift(keys, table.group, out=ws.get("groups", n, np.int64))
    coarse_out = ws.get(f"coarse{table.coarse.dtype.str}", n, table.coarse.dtype)
    np.add(first, table.coarse.take(groups, out=coarse_out), out=first, casting="unsafe")
    np.right_shift(packed, table.shift, out=length, casting="unsafe")
    if table.escapes.shape[1]:
        hit = np.flatnonzero(packed == table.marker)
        if len(hit):
            where = np.searchsorted(table.escapes[0], keys[hit])
            first[hit] = table.escapes[1, where]
            length[hit] = table.escapes[2, where]


def _positions(
    first: np.ndarray, length: np.ndarray, cum: np.ndarray, c0: int, c1: int, ws: Workspace
) -> np.ndarray:
    """Positions in ``order`` of candidates ``[c0, c1)``: ``first[run] + index``."""
    m = c1 - c0
    nonempty = np.greater(length, 0, out=ws.get("nonempty", len(length), np.bool_))
    runs = int(np.count_nonzero(nonempty))
    run_first = np.compress(nonempty, first, out=ws.get("run_first", runs, np.int64))
    run_at = np.compress(nonempty, cum, out=ws.get("run_at", runs, np.int64))
    run_at -= c0
    step = ws.get("run_step", runs, np.int64)
    step[0] = run_first[0]
    np.subtract(run_first[1:], run_first[:-1], out=step[1:])
    positions = ws.get("positions", m, np.int64)
    positions.fill(0)
    positions[run_at] = step
    np.cumsum(positions, out=positions)
    positions += ws.ramp(c1)[c0:]
    return positions


def _verify(
    segment: Any,
    positions: np.ndarray,
    qrows: np.ndarray,
    qhead: np.ndarray,
    threshold: int,
    ws: Workspace,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = len(positions)
    rows32 = segment.order.take(positions, out=ws.get("rows32", m, np.uint32))
    rows = ws.get("rows", m, np.int64)
    np.copyto(rows, rows32)
    xor = segment.head.take(rows, axis=0, out=ws.get("xor", m, np.uint64, 2))
    query = qhead.take(qrows, axis=0, out=ws.get("query", m, np.uint64, 2))
    np.bitwise_xor(xor, query, out=xor)
    distance = bits.head_distance(
        xor, ws.get("counts", m, np.uint8, 2), ws.get("distance", m, np.uint16)
    )
    near = np.flatnonzero(np.less_equal(distance, threshold, out=ws.get("near", m, np.bool_)))
    return qrows[near], rows[near], xor[near]


def _pieces(cum: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Split probes ``[0, len(cum) - 1)`` into pieces of about ``budget`` candidates."""
    probes = len(cum) - 1
    total = int(cum[-1])
    if total <= budget:
        return [(0, probes)]
    cuts = np.searchsorted(cum, np.arange(budget, total, budget))
    bounds = np.unique(np.concatenate([[0], np.clip(cuts, 0, probes), [probes]]))
    return [(int(a), int(b)) for a, b in pairwise(bounds.tolist())]
