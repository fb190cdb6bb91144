"""Exact PDQ matching at 1 M and 10 M references: Raksha's index against Meta's pytx.

Run: ``.venv/bin/python -m bench.bench_pdq_matching --sizes 1000000 10000000 --queries 10000``.

Everything is random data from a fixed seed: reference hashes are uniform random 256-bit
values, and of the queries a share (20%) are planted near-duplicates of references at
uniform random distances 0..31, the rest random. No image is involved.

Each measurement runs in its own subprocess pinned to one CPU (``OMP_NUM_THREADS=1`` for
faiss) and reports its peak RSS (``VmHWM``), so engines never share memory numbers:

- ``raksha``: generate the data, :meth:`PdqIndex.build`, drop the input, search the
  whole query batch (timed three times; the median is reported), save the index. Peak
  RSS includes the generated input (400 MB at 10 M), which is alive during the build;
- ``raksha-load``: a fresh process that opens the saved index memory-mapped and searches
  the same batch: what a scanning process costs;
- ``pytx``: ``threatexchange``'s ``PDQIndex.build`` over (hex, id) entries and one
  ``query(hex)`` per query (its public API), on a subset of the queries where it is slow;
- ``brute``: plain numpy brute force on the first ``--verify`` queries, the ground truth.

Recall is checked twice: against brute force on the verified subset (every (query,
reference, distance) triple), and on every planted query (its source must be found at
its planted distance). Targets at 10 M for Raksha: 100% recall, >= 5,000 queries/s on one
core, build <= 60 s, peak RSS <= 1.5 GiB (RSS is printed in MiB).
"""

from __future__ import annotations

import os

from bench.common import cpu_model

# One core means one thread everywhere (set before numpy or faiss load their pools).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from raksha.matching.pdq_index import (  # noqa: E402
    PdqIndex,
    SearchResult,
    array_to_hex,
    brute_force_search,
)

THRESHOLD = 31
PLANTED_SHARE = 0.2
SEED = 20240531
TARGET_QPS = 5_000
TARGET_BUILD_S = 60.0
TARGET_RSS_MB = 1_536.0


@dataclass(frozen=True)
class Data:
    ids: np.ndarray
    refs: np.ndarray
    queries: np.ndarray
    source: np.ndarray  # planted: the reference id each query was made from; else -1
    distance: np.ndarray  # planted: bits flipped; else -1


def make_data(size: int, queries: int, seed: int = SEED) -> Data:
    """The same references and queries in every worker (a pure function of the seed)."""
    rng = np.random.default_rng([seed, size])
    refs = rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
    ids = np.arange(size, dtype=np.int64)
    out = rng.integers(0, 256, size=(queries, 32), dtype=np.uint8)
    planted = rng.choice(queries, size=int(queries * PLANTED_SHARE), replace=False)
    source = np.full(queries, -1, dtype=np.int64)
    distance = np.full(queries, -1, dtype=np.int64)
    source[planted] = rng.integers(0, size, size=len(planted))
    distance[planted] = rng.integers(0, THRESHOLD + 1, size=len(planted))
    for q in planted.tolist():
        row = refs[source[q]].copy()
        for bit in rng.choice(256, size=int(distance[q]), replace=False).tolist():
            row[bit // 8] ^= np.uint8(1 << (bit % 8))
        out[q] = row
    return Data(ids, refs, out, source, distance)


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def planted_found(
    source: np.ndarray, distance: np.ndarray, result: SearchResult, timed: int
) -> tuple[int, int]:
    """(planted queries among the first ``timed`` whose source was found right, planted)."""
    planted = np.flatnonzero(source[:timed] >= 0)
    hit = set(
        zip(
            result.query_index.tolist(),
            result.ref_id.tolist(),
            result.distance.tolist(),
            strict=True,
        )
    )
    found = sum((q, int(source[q]), int(distance[q])) in hit for q in planted.tolist())
    return found, len(planted)


def save_triples(path: Path, result: SearchResult, below: int) -> None:
    keep = result.query_index < below
    np.savez(
        path,
        query_index=result.query_index[keep],
        ref_id=result.ref_id[keep],
        distance=result.distance[keep].astype(np.int64),
    )


def load_triples(path: Path) -> set[tuple[int, int, int]]:
    with np.load(path, allow_pickle=False) as z:
        return set(
            zip(
                z["query_index"].tolist(), z["ref_id"].tolist(), z["distance"].tolist(), strict=True
            )
        )


def _time_search(
    index: PdqIndex, queries: np.ndarray, repeats: int
) -> tuple[list[float], SearchResult]:
    index.search(queries[:500], THRESHOLD)  # warm: plans, masks, first page faults
    seconds = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = index.search(queries, THRESHOLD)
        seconds.append(time.perf_counter() - started)
    assert result is not None
    return seconds, result


# -- workers (each in its own process) ------------------------------------------------------


def worker_raksha(args: argparse.Namespace) -> dict[str, Any]:
    data = make_data(args.size, args.queries)
    started = time.perf_counter()
    index = PdqIndex.build(data.ids, data.refs)
    build_s = time.perf_counter() - started
    queries, source, distance = data.queries, data.source, data.distance
    del data  # the input is no longer needed, as when building from database rows
    seconds, result = _time_search(index, queries, args.repeats)
    index.save(Path(args.index_dir), metadata={"bench_size": args.size})
    save_triples(Path(args.out), result, args.verify)
    found, planted = planted_found(source, distance, result, len(queries))
    return {
        "build_s": build_s,
        "search_s": seconds,
        "timed_queries": len(queries),
        "planted_found": found,
        "planted": planted,
        "widths": index.chunk_widths,
        "rss_mb": peak_rss_mb(),
    }


def worker_raksha_load(args: argparse.Namespace) -> dict[str, Any]:
    data = make_data(args.size, args.queries)
    queries, source, distance = data.queries, data.source, data.distance
    del data  # only the queries: this process measures what a scanner holds
    started = time.perf_counter()
    index = PdqIndex.load(Path(args.index_dir), mmap=True)
    load_s = time.perf_counter() - started
    seconds, result = _time_search(index, queries, args.repeats)
    save_triples(Path(args.out), result, args.verify)
    found, planted = planted_found(source, distance, result, len(queries))
    return {
        "load_s": load_s,
        "search_s": seconds,
        "timed_queries": len(queries),
        "planted_found": found,
        "planted": planted,
        "rss_mb": peak_rss_mb(),
    }


def worker_pytx(args: argparse.Namespace) -> dict[str, Any]:
    try:
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex
    except ImportError:
        sys.exit("threatexchange is not installed: pip install -e '.[bench]'")
    data = make_data(args.size, args.queries)
    timed = min(args.pytx_queries, len(data.queries))
    query_hex = array_to_hex(data.queries[:timed])
    entries = list(zip(array_to_hex(data.refs), data.ids.tolist(), strict=True))
    source, distance = data.source, data.distance
    del data
    started = time.perf_counter()
    index = PDQIndex.build(entries)
    build_s = time.perf_counter() - started
    del entries
    triples: list[tuple[int, int, int]] = []
    started = time.perf_counter()
    for q, value in enumerate(query_hex):
        for match in index.query(value):
            triples.append((q, int(match.metadata), int(match.similarity_info.distance)))
    search_s = time.perf_counter() - started
    if triples:
        q_arr, i_arr, d_arr = (np.array(c, dtype=np.int64) for c in zip(*triples, strict=True))
    else:
        q_arr = i_arr = d_arr = np.zeros(0, dtype=np.int64)
    result = SearchResult(q_arr, i_arr, d_arr.astype(np.int16))
    save_triples(Path(args.out), result, args.verify)
    found, planted = planted_found(source, distance, result, timed)
    return {
        "build_s": build_s,
        "search_s": [search_s],
        "timed_queries": timed,
        "planted_found": found,
        "planted": planted,
        "rss_mb": peak_rss_mb(),
    }


def worker_brute(args: argparse.Namespace) -> dict[str, Any]:
    data = make_data(args.size, args.queries)
    started = time.perf_counter()
    truth = brute_force_search(data.ids, data.refs, data.queries[: args.verify], THRESHOLD)
    seconds = time.perf_counter() - started
    save_triples(Path(args.out), truth, args.verify)
    return {"search_s": [seconds], "timed_queries": args.verify, "rss_mb": peak_rss_mb()}


WORKERS = {
    "raksha": worker_raksha,
    "raksha-load": worker_raksha_load,
    "pytx": worker_pytx,
    "brute": worker_brute,
}


# -- the parent -----------------------------------------------------------------------------


def run_worker(engine: str, size: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    out = work / f"{engine}-{size}.npz"
    command = [
        sys.executable, "-m", "bench.bench_pdq_matching", "--worker", engine,
        "--size", str(size), "--queries", str(args.queries), "--verify", str(args.verify),
        "--repeats", str(args.repeats), "--cpu", str(args.cpu), "--out", str(out),
        "--index-dir", str(work / f"index-{size}"), "--pytx-queries", str(pytx_queries(size, args)),
    ]  # fmt: skip
    print(f"  {engine} at {size:,} ...", flush=True)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{engine} worker failed:\n{done.stdout}\n{done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["triples"] = str(out)
    return report


def pytx_queries(size: int, args: argparse.Namespace) -> int:
    """pytx answers ~100 q/s at 10 M: above 2 M rows it is timed on 1,000 queries."""
    chosen: int | None = args.pytx_queries
    if chosen is None:
        chosen = args.queries if size <= 2_000_000 else min(args.queries, 1_000)
    return int(chosen)


def recall(report: dict[str, Any], truth: set[tuple[int, int, int]], verify: int) -> str:
    got = load_triples(Path(report["triples"]))
    checked = min(verify, report["timed_queries"])
    want = {t for t in truth if t[0] < checked}
    got = {t for t in got if t[0] < checked}
    missed, extra = len(want - got), len(got - want)
    share = 100.0 * (len(want) - missed) / len(want) if want else 100.0
    note = f" ({extra} wrong)" if extra else ""
    return f"{share:.2f}% of {len(want)}{note}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--verify", type=int, default=200, help="queries checked by brute force")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pytx-queries", type=int, default=None)
    parser.add_argument("--skip-pytx", action="store_true")
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    parser.add_argument("--worker", choices=sorted(WORKERS))
    parser.add_argument("--size", type=int)
    parser.add_argument("--out")
    parser.add_argument("--index-dir")
    args = parser.parse_args(argv)
    if args.worker:
        os.sched_setaffinity(0, {args.cpu})
        print(json.dumps(WORKERS[args.worker](args)))
        return

    print(
        f"machine: {cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}; timed on one core (CPU {args.cpu})"
    )
    rows = []
    for size in args.sizes:
        work = Path(tempfile.mkdtemp(prefix="raksha-bench-pdq-"))
        try:
            engines = ["brute", "raksha", "raksha-load"] + ([] if args.skip_pytx else ["pytx"])
            reports = {engine: run_worker(engine, size, args, work) for engine in engines}
        finally:
            shutil.rmtree(work / f"index-{size}", ignore_errors=True)
        truth = load_triples(Path(reports["brute"]["triples"]))
        for engine in engines[1:]:
            r = reports[engine]
            qps = r["timed_queries"] / statistics.median(r["search_s"])
            rows.append(
                {
                    "size": size,
                    "engine": engine,
                    "build_s": r.get("build_s"),
                    "load_s": r.get("load_s"),
                    "qps": qps,
                    "best_qps": r["timed_queries"] / min(r["search_s"]),
                    "timed": r["timed_queries"],
                    "rss_mb": r["rss_mb"],
                    "recall": recall(r, truth, args.verify),
                    "planted": f"{r['planted_found']}/{r['planted']}",
                }
            )
        shutil.rmtree(work, ignore_errors=True)
    report(rows, args)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print()
    print("| size | engine | build s | load s | q/s one core (median; best) | queries timed "
          "| peak RSS MiB | recall vs brute force | planted found |")  # fmt: skip
    print("|---:|---|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        print(
            f"| {r['size']:,} | {r['engine']} | {_fmt(r['build_s'], '.1f')} | "
            f"{_fmt(r['load_s'], '.2f')} | {r['qps']:,.0f} ({r['best_qps']:,.0f}) | "
            f"{r['timed']:,} | {r['rss_mb']:,.0f} | {r['recall']} | {r['planted']} |"
        )
    by = {(r["size"], r["engine"]): r for r in rows}
    for size in args.sizes:
        ours, theirs = by.get((size, "raksha")), by.get((size, "pytx"))
        if ours and theirs:
            print(
                f"\n{size:,}: raksha/pytx q/s {ours['qps'] / theirs['qps']:.1f}x, "
                f"build time {ours['build_s'] / theirs['build_s']:.2f}x, "
                f"peak RSS {ours['rss_mb'] / theirs['rss_mb']:.2f}x"
            )
            if theirs["timed"] < ours["timed"]:
                print(f"  (pytx timed on the first {theirs['timed']:,} queries only: it is slow)")
        if ours:
            loaded = by.get((size, "raksha-load"))
            met = [
                ("100% recall", ours["recall"].startswith("100.00%")),
                (f">= {TARGET_QPS:,} q/s", ours["qps"] >= TARGET_QPS),
                (f"build <= {TARGET_BUILD_S:.0f} s", ours["build_s"] <= TARGET_BUILD_S),
                (f"peak RSS <= {TARGET_RSS_MB:,.0f} MiB (build process)",
                 ours["rss_mb"] <= TARGET_RSS_MB),
            ]  # fmt: skip
            if loaded:
                met.append(
                    (f"peak RSS <= {TARGET_RSS_MB:,.0f} MiB (loaded index)",
                     loaded["rss_mb"] <= TARGET_RSS_MB)
                )  # fmt: skip
            print(
                f"{size:,} targets: "
                + ", ".join(f"{n}: {'met' if ok else 'MISSED'}" for n, ok in met)
            )


if __name__ == "__main__":
    main()
