"""Benchmark: exact PDQ matching against 1 M and 10 M references, beside Meta's pytx.

    .venv/bin/python -m bench.bench_pdq_matching [--sizes 1000000 10000000] [--queries 10000]

Each engine runs in its own process, pinned to one core (faiss with one thread), so peak
RSS (VmHWM) and timings do not mix. References are random 256-bit hashes (seeded); of the
queries, 20 % are planted near-duplicates of references at distances 0-31, the rest random.
Recall is checked against numpy brute force on a sample of the queries. pytx at 10 M is
slow, so it answers a subset of the queries (said in the output).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

import numpy as np

SEED = 20261124
PLANTED_SHARE = 0.2


def make_data(size: int, queries: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED + size)
    refs = rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
    n_planted = int(queries * PLANTED_SHARE)
    picks = rng.integers(0, size, size=n_planted)
    q = rng.integers(0, 256, size=(queries, 32), dtype=np.uint8)
    bits = np.unpackbits(refs[picks], axis=1)
    for i, d in enumerate(rng.integers(0, 32, size=n_planted)):
        bits[i, rng.choice(256, size=int(d), replace=False)] ^= 1
    q[:n_planted] = np.packbits(bits, axis=1)
    return refs, q, picks


def peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def truth(refs: np.ndarray, queries: np.ndarray, sample: int) -> list[set[int]]:
    from raksha.matching.pdq_index import brute_force_search

    result = brute_force_search(np.arange(len(refs)), refs, queries[:sample], 31)
    out: list[set[int]] = [set() for _ in range(sample)]
    for qi, rid in zip(result.query_index.tolist(), result.ref_id.tolist(), strict=True):
        out[qi].add(rid)
    return out


def run_raksha(size: int, queries: int, sample: int) -> dict[str, Any]:
    from raksha.matching.pdq_index import PdqIndex

    refs, q, _ = make_data(size, queries)
    expected = truth(refs, q, sample)
    started = time.perf_counter()
    index = PdqIndex.build(np.arange(size, dtype=np.int64), refs, consume=True)
    build = time.perf_counter() - started
    del refs
    started = time.perf_counter()
    result = index.search(q, 31)
    seconds = time.perf_counter() - started
    got: list[set[int]] = [set() for _ in range(sample)]
    for qi, rid in zip(result.query_index.tolist(), result.ref_id.tolist(), strict=True):
        if qi < sample:
            got[qi].add(rid)
    found = sum(len(g & e) for g, e in zip(got, expected, strict=True))
    total = sum(len(e) for e in expected)
    return {
        "engine": "raksha",
        "size": size,
        "build_s": build,
        "queries": queries,
        "qps": queries / seconds,
        "peak_rss_mb": peak_rss_mb(),
        "recall": found / total if total else 1.0,
        "chunks": index.chunks,
    }


def run_pytx(size: int, queries: int, sample: int) -> dict[str, Any]:
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    refs, q, _ = make_data(size, queries)
    expected = truth(refs, q, sample)
    hexes = [bytes(r).hex() for r in refs]
    del refs
    started = time.perf_counter()
    index = PDQIndex(zip(hexes, range(size), strict=True))
    build = time.perf_counter() - started
    del hexes
    asked = min(queries, 1000 if size >= 5_000_000 else queries)
    qhex = [bytes(r).hex() for r in q[:asked]]
    started = time.perf_counter()
    answers = [index.query(h) for h in qhex]
    seconds = time.perf_counter() - started
    found = total = 0
    for i in range(min(sample, asked)):
        got = {m.metadata for m in answers[i]}
        found += len(got & expected[i])
        total += len(expected[i])
    return {
        "engine": "pytx",
        "size": size,
        "build_s": build,
        "queries": asked,
        "qps": asked / seconds,
        "peak_rss_mb": peak_rss_mb(),
        "recall": found / total if total else 1.0,
    }


def child(engine: str, size: int, queries: int, sample: int) -> None:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    runner = run_raksha if engine == "raksha" else run_pytx
    print(json.dumps(runner(size, queries, sample)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200, help="queries checked by brute force")
    parser.add_argument("--engines", nargs="+", default=["raksha", "pytx"])
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.queries, args.sample)
        return
    env = dict(os.environ, OMP_NUM_THREADS="1")
    rows = []
    for size in args.sizes:
        for engine in args.engines:
            print(f"running {engine} at {size:,} …", flush=True)
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.bench_pdq_matching",
                    "--child",
                    engine,
                    str(size),
                    "--queries",
                    str(args.queries),
                    "--sample",
                    str(args.sample),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print("  ", rows[-1], flush=True)
    print()
    head = ("size", "engine", "build s", "queries/s", "peak RSS MB", "recall")
    print(f"{head[0]:>11} {head[1]:7} {head[2]:>8} {head[3]:>10} {head[4]:>12} {head[5]:>7}")
    for r in rows:
        print(
            f"{r['size']:>11,} {r['engine']:7} {r['build_s']:8.1f} {r['qps']:10.0f} "
            f"{r['peak_rss_mb']:12.0f} {r['recall']:7.3f}"
            + (f"  ({r['queries']} queries)" if r["queries"] != args.queries else "")
        )
    for size in args.sizes:
        pair = {r["engine"]: r for r in rows if r["size"] == size}
        if {"raksha", "pytx"} <= pair.keys():
            ours, theirs = pair["raksha"], pair["pytx"]
            print(
                f"{size:>11,} raksha/pytx: queries/s {ours['qps'] / theirs['qps']:.1f}x, "
                f"build {theirs['build_s'] / ours['build_s']:.1f}x faster, "
                f"RSS {ours['peak_rss_mb'] / theirs['peak_rss_mb']:.2f}x"
            )


if __name__ == "__main__":
    main()
