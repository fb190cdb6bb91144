"""Bit-level helpers for the exact PDQ index: word layout, chunk values, masks and costs.

A PDQ hash is 256 bits. The index keeps each hash as four little-endian ``uint64`` words
(a free view of the 32 bytes on every common machine), split into a *head* (words 0-1)
and a *tail* (words 2-3). The head alone is a near-perfect filter at PDQ thresholds: a
random 128-bit half lies within 31 bits of the query's half with probability ~1e-9, so
only true matches pay for a second read of the tail.

Chunks are runs of bits over the 256-bit little-endian word string; which bits form a
chunk only has to be the same for references and queries, and is recorded in the index.

The cost model (nanoseconds per probe, per candidate, per linearly scanned row) was
measured on one core of the project's reference machine (AMD EPYC, numpy 2.4). It picks
the chunk geometry at build time and, at query time, the probe radius of each chunk and
whether a linear scan would be cheaper (tiny segments, very large thresholds).
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import combinations

import numpy as np

HASH_BYTES = 32
HASH_BITS = 256
#: Nanoseconds: one probe (a key, a table read), one candidate (expansion, two gathers,
#: popcount), one row of a linear scan (head XOR and popcount).
PROBE_NS = 20.0
CANDIDATE_NS = 36.0
SCAN_ROW_NS = 3.0
#: Fixed cost of each chunk per query batch (a handful of numpy calls), spread over a batch.
CHUNK_NS = 60.0
#: Chunk widths the index accepts; 2^26 table entries (128 MiB) is the most one chunk may use.
MIN_CHUNK_BITS = 4
MAX_CHUNK_BITS = 26
#: Automatic geometry stays within these widths (24 bits = 32 MiB of table per chunk).
AUTO_MAX_BITS = 24
AUTO_MIN_BITS = 8
#: Below this many rows a segment keeps no chunks and is always scanned.
SCAN_ONLY_ROWS = 1024
#: Mean entries per group of buckets that the two-level offsets table aims for.
GROUP_TARGET = 128.0
#: Ball sizes above this are never enumerated (a linear scan is chosen instead).
MAX_MASKS = 2_000_000


def split_words(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 32)`` uint8 -> (head, tail), each ``(N, 2)`` little-endian uint64, copies."""
    arr = np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, HASH_BYTES)
    words = arr.view("<u8")
    head: np.ndarray = np.ascontiguousarray(words[:, :2]).astype(np.uint64, copy=False)
    tail: np.ndarray = np.ascontiguousarray(words[:, 2:]).astype(np.uint64, copy=False)
    return head, tail


def join_words(head: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """The inverse of :func:`split_words`: ``(N, 32)`` uint8."""
    words = np.empty((len(head), 4), dtype="<u8")
    words[:, :2] = head
    words[:, 2:] = tail
    out: np.ndarray = words.view(np.uint8).reshape(-1, HASH_BYTES)
    return out


def chunk_values(head: np.ndarray, tail: np.ndarray, start: int, width: int) -> np.ndarray:
    """Bits ``[start, start + width)`` of each row as a new uint64 array (bit 0: word 0's LSB).

    ``width`` is at most 32, so the values also read correctly as int64 (``.view``).
    """
    word_index, offset = divmod(start, 64)

    def word(i: int) -> np.ndarray:
        col: np.ndarray = head[:, i] if i < 2 else tail[:, i - 2]
        return col

    value = word(word_index) >> np.uint64(offset)
    if offset + width > 64:
        value |= word(word_index + 1) << np.uint64(64 - offset)
    value &= np.uint64((1 << width) - 1)
    return value


def head_distance(
    xor_head: np.ndarray, counts: np.ndarray | None = None, out: np.ndarray | None = None
) -> np.ndarray:
    """Popcount of ``(K, 2)`` uint64 rows, as uint16 (at most 128).

    ``counts`` ((K, 2) uint8) and ``out`` ((K,) uint16) are optional scratch buffers.
    """
    per_word = np.bitwise_count(xor_head, out=counts)
    # The two byte counts (each <= 64) summed in one multiply: (b0 + 256 b1) * 257 >> 8.
    summed: np.ndarray = np.multiply(
        per_word.view(np.uint16).reshape(-1), np.uint16(0x0101), out=out
    )
    np.right_shift(summed, np.uint16(8), out=summed)
    return summed


def row_distance(xor_words: np.ndarray) -> np.ndarray:
    """Popcount of ``(K, 2)`` or ``(K, 4)`` uint64 rows, as int16."""
    out: np.ndarray = np.bitwise_count(xor_words).sum(axis=1, dtype=np.int16)
    return out


def even_widths(chunks: int, total: int = HASH_BITS) -> list[int]:
    """``chunks`` widths covering ``total`` bits, wider ones first (so offsets stay aligned)."""
    base, extra = divmod(total, chunks)
    return [base + 1] * extra + [base] * (chunks - extra)


def widths_for_bits(chunk_bits: int) -> list[int]:
    """The fewest chunks no wider than ``chunk_bits`` that cover all 256 bits, evenly."""
    return even_widths(math.ceil(HASH_BITS / chunk_bits))


@lru_cache(maxsize=4096)
def ball(width: int, radius: int) -> int:
    """How many values lie within ``radius`` bits of one ``width``-bit value."""
    if radius < 0:
        return 0
    return sum(math.comb(width, k) for k in range(min(radius, width) + 1))


def _chunk_cost_ns(width: int, radius: int, rows: int) -> float:
    probes = ball(width, radius)
    if probes == 0:
        return 0.0
    return probes * (PROBE_NS + CANDIDATE_NS * rows / 2.0**width) + CHUNK_NS


def radii_for(widths: list[int], threshold: int, rows: int) -> list[int]:
    """Per-chunk probe radii that still guarantee every match within ``threshold``.

    Generalised pigeonhole: if chunk ``k`` is probed to radius ``r_k`` and
    ``sum(r_k + 1) > threshold``, a reference within the threshold has at least one chunk
    within its radius (otherwise its distance would be at least ``sum(r_k + 1)``). With
    ``f, a = divmod(threshold, c)``, ``a + 1`` chunks get ``f`` and the rest ``f - 1``
    (``-1`` skips a chunk); the chunks that save most by the smaller radius get it.
    """
    chunks = len(widths)
    f, a = divmod(threshold, chunks)
    savings = [_chunk_cost_ns(w, f, rows) - _chunk_cost_ns(w, f - 1, rows) for w in widths]
    reduce = sorted(range(chunks), key=lambda k: (-savings[k], k))[: chunks - a - 1]
    radii = [f] * chunks
    for k in reduce:
        radii[k] = f - 1
    return radii


def multi_index_cost_ns(widths: list[int], radii: list[int], rows: int) -> float:
    return sum(_chunk_cost_ns(w, r, rows) for w, r in zip(widths, radii, strict=True))


def scan_cost_ns(rows: int) -> float:
    return SCAN_ROW_NS * rows


def choose_widths(rows: int, threshold: int = 31) -> list[int]:
    """The chunk widths with the least expected query cost for ``rows`` references.

    An empty list means "no chunks": the segment is small enough to scan. At 10 M rows
    this picks 11 chunks (3 of 24 bits, 8 of 23) probed to radius 2 (one to radius 1):
    ~2,900 probes and ~2,900 candidates a query. At 1 M rows it picks 20-bit chunks.
    """
    if rows < SCAN_ONLY_ROWS:
        return []
    best: list[int] = []
    best_cost = math.inf
    table_cap = max(AUTO_MIN_BITS, math.ceil(math.log2(rows)) + 1)
    for chunks in range(math.ceil(HASH_BITS / AUTO_MAX_BITS), HASH_BITS // AUTO_MIN_BITS + 1):
        widths = even_widths(chunks)
        if max(widths) > min(AUTO_MAX_BITS, table_cap):
            continue
        cost = multi_index_cost_ns(widths, radii_for(widths, threshold, rows), rows)
        if cost < best_cost:
            best, best_cost = widths, cost
    if not best:
        best = even_widths(HASH_BITS // AUTO_MIN_BITS)
    return best


def group_bits(rows: int, width: int) -> int:
    """Buckets per group (as a power of two) of the two-level offsets table."""
    per_bucket = max(rows / 2.0**width, 1e-9)
    bits = math.floor(math.log2(GROUP_TARGET / per_bucket)) if per_bucket < GROUP_TARGET else 0
    return max(0, min(width, bits, 10))


@lru_cache(maxsize=256)
def probe_masks(width: int, radius: int) -> np.ndarray:
    """Every ``width``-bit XOR mask of at most ``radius`` bits, ascending, as int64.

    Ascending order puts masks that flip only low bits next to each other, so their probes
    land in the same cache line of the offsets table.
    """
    values = [0]
    for k in range(1, min(radius, width) + 1):
        for bits in combinations(range(width), k):
            values.append(sum(1 << b for b in bits))
    masks = np.array(sorted(values), dtype=np.int64)
    masks.setflags(write=False)
    return masks
