"""The per-chunk sorted row lists and their compact two-level offsets tables.

For chunk ``k`` (``w`` bits) of an ``N``-row segment, ``order[k N : (k+1) N]`` holds the
row numbers sorted by chunk value, so every bucket (rows sharing a chunk value) is one
contiguous run. Where a run starts is kept in two levels instead of a flat ``2^w + 1``
array of uint32:

- ``coarse[b >> g]``: position of the first row of bucket ``b``'s group of ``2^g``
  buckets (uint32 while positions fit, else int64); ~100 rows a group, so it is small
  and stays in cache;
- ``packed[b]``: ``fine | count << s`` in uint16 (``s = 8``): rows before ``b`` within its
  group, and rows in ``b``.

That is 2 bytes a bucket instead of 4, and one cache-missing read a probe. Buckets whose
``fine`` or ``count`` does not fit (a cluster of near-identical references, common in
real hash sets) hold the all-ones *escape* value and are looked up in a short sorted
``escapes`` list, so a few huge buckets never widen the whole table. Only when escapes
would outnumber 1/16 of the buckets does the table widen to uint32 (``s = 16``) or
uint64 (``s = 32``, which never escapes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from raksha.matching import pdq_bits as bits

#: Rows (or buckets) handled at once while building, to bound the temporaries.
BUILD_BLOCK = 1 << 18
PACKED_DTYPES: dict[int, np.dtype[Any]] = {
    8: np.dtype(np.uint16),
    16: np.dtype(np.uint32),
    32: np.dtype(np.uint64),
}


@dataclass(frozen=True)
class ChunkTable:
    """The offsets table of one chunk (see the module docstring)."""

    start: int  # first bit of the chunk
    width: int
    group: int  # g: 2^g buckets a group
    shift: int  # s: bits of ``fine`` (and of ``count``) in ``packed``
    coarse: np.ndarray  # (2^(w-g),) uint32 or int64
    packed: np.ndarray  # (2^w,) uint16 / uint32 / uint64
    escapes: np.ndarray  # (3, E) int64: bucket, first position, count; by bucket

    @property
    def marker(self) -> int:
        """The ``packed`` value of an escaped bucket."""
        return (1 << (2 * self.shift)) - 1


def build_tables(
    head: np.ndarray, tail: np.ndarray, widths: list[int]
) -> tuple[np.ndarray, list[ChunkTable]]:
    """(order, tables) for the rows ``head``/``tail`` cut into chunks of ``widths``."""
    n = len(head)
    order = np.empty(len(widths) * n, dtype=np.uint32)
    tables: list[ChunkTable] = []
    start = 0
    for k, width in enumerate(widths):
        # Sorting (value << 32 | row) in place: a stable argsort at a third of its cost.
        # Filled block by block so the only full-size temporary is ``composite`` itself.
        composite = np.empty(n, dtype=np.uint64)
        for lo in range(0, n, BUILD_BLOCK):
            hi = min(lo + BUILD_BLOCK, n)
            part = bits.chunk_values(head[lo:hi], tail[lo:hi], start, width)
            part <<= np.uint64(32)
            part += np.arange(lo, hi, dtype=np.uint64)
            composite[lo:hi] = part
        composite.sort()
        np.bitwise_and(
            composite, np.uint64(0xFFFFFFFF), out=order[k * n : (k + 1) * n], casting="unsafe"
        )
        composite >>= np.uint64(32)
        values = composite.view(np.int64)  # sorted chunk values
        table = None
        for shift in sorted(PACKED_DTYPES):
            table = _table(values, k * n, start, width, shift, len(widths) * n)
            if table is not None:
                break
        assert table is not None  # shift 32 never escapes
        tables.append(table)
        del composite, values
        start += width
    return order, tables


def _table(
    values: np.ndarray, base: int, start: int, width: int, shift: int, positions: int
) -> ChunkTable | None:
    """The table of one chunk at ``shift``; None if too many buckets would escape."""
    rows = len(values)
    group = bits.group_bits(rows, width)
    buckets = 1 << width
    dtype = PACKED_DTYPES[shift]
    limit = (1 << shift) - 1
    max_escapes = max(64, buckets >> 4) if shift < 32 else buckets
    coarse = np.empty(buckets >> group, dtype=np.uint32 if positions < 2**32 else np.int64)
    packed = np.empty(buckets, dtype=dtype)
    escaped: list[np.ndarray] = []
    n_escaped = 0
    block = max(BUILD_BLOCK, 1 << group)
    for b0 in range(0, buckets, block):
        b1 = min(b0 + block, buckets)
        i0, i1 = np.searchsorted(values, [b0, b1])
        counts = np.bincount(values[i0:i1] - b0, minlength=b1 - b0).reshape(-1, 1 << group)
        fine = np.cumsum(counts, axis=1)
        fine -= counts
        totals = fine[:, -1] + counts[:, -1]
        group_first = np.cumsum(totals) - totals + (base + int(i0))
        coarse[b0 >> group : b1 >> group] = group_first
        fine_flat, count_flat = fine.reshape(-1), counts.reshape(-1)
        escape = np.flatnonzero((fine_flat >= limit) | (count_flat >= limit))
        n_escaped += len(escape)
        if n_escaped > max_escapes:
            return None
        if len(escape):
            first = np.repeat(group_first, 1 << group)[escape] + fine_flat[escape]
            escaped.append(np.stack([escape + b0, first, count_flat[escape]]))
            fine_flat[escape] = limit
            count_flat[escape] = limit
        out = packed[b0:b1]
        np.left_shift(count_flat, shift, out=out, casting="unsafe")
        out |= fine_flat.astype(dtype)
    escapes = np.concatenate(escaped, axis=1) if escaped else np.zeros((3, 0), dtype=np.int64)
    return ChunkTable(start, width, group, shift, coarse, packed, escapes.astype(np.int64))


def table_arrays(k: int, table: ChunkTable) -> dict[str, np.ndarray]:
    return {
        f"coarse{k}": np.asarray(table.coarse),
        f"packed{k}": np.asarray(table.packed),
        f"escapes{k}": np.asarray(table.escapes),
    }


def table_geometry(table: ChunkTable) -> dict[str, int]:
    return {"start": table.start, "width": table.width, "group": table.group, "shift": table.shift}


def table_from(
    geometry: dict[str, Any], coarse: np.ndarray, packed: np.ndarray, escapes: np.ndarray
) -> ChunkTable | None:
    """A table from loaded parts; None when they do not fit together."""
    start, width = int(geometry["start"]), int(geometry["width"])
    group, shift = int(geometry["group"]), int(geometry["shift"])
    if (
        not bits.MIN_CHUNK_BITS <= width <= bits.MAX_CHUNK_BITS
        or not 0 <= group <= width
        or PACKED_DTYPES.get(shift) != packed.dtype
        or packed.shape != (1 << width,)
        or coarse.shape != (1 << (width - group),)
        or coarse.dtype not in (np.dtype(np.uint32), np.dtype(np.int64))
        or escapes.dtype != np.int64
        or escapes.ndim != 2
        or escapes.shape[0] != 3
    ):
        return None
    return ChunkTable(start, width, group, shift, coarse, packed, escapes)
