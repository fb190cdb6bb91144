"""Benchmark: a full scan of a 2,000-file mixed folder against hashing alone and pytx.

    .venv/bin/python -m bench.bench_scan [--files 2000] [--pytx-sample 100]

Builds (once, cached under bench/out/scan-corpus) a folder of generated photo-like JPEGs
of several sizes, PNGs and non-image files. Then, in one run, measures:

- Raksha's hashing alone (digests + PDQ per file, no walk/match/store) in 1 and 2 processes;
- the full scan (walk + hash + match + store into a fresh SQLite store) with 1 and 2 workers;
- Meta's pytx ``PdqSignal.hash_from_file`` on the same images, one by one (on a sample,
  it is slow), plus hashlib MD5 of every file, extrapolated to the corpus.

Target: the full scan runs at >= 90 % of hashing alone (same worker count).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from raksha.hashing.files import hash_file
from raksha.scan.pipeline import ScanOptions, ScanPipeline
from raksha.settings import Settings
from raksha.store.db import Store
from raksha.store.scan_repo import create_case
from raksha.synthetic import images as synth

OUT = Path(__file__).resolve().parent / "out" / "scan-corpus"
SIZES = [(640, 480)] * 10 + [(1280, 960)] * 5 + [(1920, 1080)] * 4 + [(4000, 3000)]


def build_corpus(files: int) -> Path:
    root = OUT / f"{files}"
    stamp = root / ".complete"
    if stamp.exists():
        return root
    rng = random.Random(files)
    for i in range(files):
        sub = root / f"dir{i % 20:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        kind = rng.random()
        if kind < 0.6:
            w, h = rng.choice(SIZES)
            (sub / f"IMG_{i:05d}.jpg").write_bytes(synth.jpeg_bytes(synth.photo_like(i, w, h)))
        elif kind < 0.8:
            (sub / f"shot_{i:05d}.png").write_bytes(synth.png_bytes(synth.photo_like(i, 480, 360)))
        else:
            (sub / f"file_{i:05d}.bin").write_bytes(rng.randbytes(rng.randint(1_000, 400_000)))
        if i % 200 == 0:
            print(f"  generated {i}/{files}", flush=True)
    stamp.write_text("ok")
    return root


def corpus_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def _hash_one(path: str) -> int:
    return hash_file(path).size


def hashing_alone(files: list[Path], workers: int) -> float:
    started = time.perf_counter()
    if workers == 1:
        for p in files:
            hash_file(p)
    else:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_hash_one, [str(p) for p in files], chunksize=16))
    return time.perf_counter() - started


def full_scan(root: Path, workers: int) -> float:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(Path(home), f"sqlite:///{home}/raksha.db")
        store = Store.open(settings)
        create_case(store, "bench")
        started = time.perf_counter()
        result = ScanPipeline(store, settings.index_dir, ScanOptions(workers=workers)).run(
            "bench", root
        )
        seconds = time.perf_counter() - started
        store.close()
    assert result.status == "completed"
    return seconds


def pytx_sample(files: list[Path], sample: int) -> tuple[float, int]:
    from threatexchange.signal_type.pdq.signal import PdqSignal

    images = [p for p in files if p.suffix in (".jpg", ".png")]
    chosen = random.Random(1).sample(images, min(sample, len(images)))
    started = time.perf_counter()
    for p in chosen:
        PdqSignal.hash_from_file(p)
    per_image = (time.perf_counter() - started) / len(chosen)
    started = time.perf_counter()
    for p in files:
        hashlib.md5(p.read_bytes()).hexdigest()
    md5_all = time.perf_counter() - started
    return per_image * len(images) + md5_all, len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--pytx-sample", type=int, default=100)
    args = parser.parse_args()
    print("building corpus (cached)…", flush=True)
    root = build_corpus(args.files)
    files = corpus_files(root)
    total_mb = sum(p.stat().st_size for p in files) / 1e6
    cpu = platform.processor() or platform.machine()
    print(f"corpus: {len(files)} files, {total_mb:,.0f} MB; {cpu}, {os.cpu_count()} CPUs")
    rows = []
    for workers in (1, 2):
        alone = hashing_alone(files, workers)
        scan = full_scan(root, workers)
        rows.append((workers, alone, scan))
    pytx_seconds, n_images = pytx_sample(files, args.pytx_sample)
    print()
    print(f"{'engine':44} {'files/s':>9} {'MB/s':>8}")
    for workers, alone, scan in rows:
        for label, seconds in (
            (f"raksha hashing alone, {workers} proc", alone),
            (f"raksha full scan, {workers} worker(s)", scan),
        ):
            print(f"{label:44} {len(files) / seconds:9.1f} {total_mb / seconds:8.1f}")
        print(f"{'  scan / hashing alone':44} {alone / scan:9.2f}")
    label = f"pytx one by one (PDQ of {n_images} images + md5)"
    print(f"{label:44} {len(files) / pytx_seconds:9.1f} {total_mb / pytx_seconds:8.1f}")
    print(f"{'  raksha scan (1 worker) / pytx':44} {pytx_seconds / rows[0][2]:9.1f}x")
    print(f"{'  raksha scan (2 workers) / pytx':44} {pytx_seconds / rows[1][2]:9.1f}x")


if __name__ == "__main__":
    main()
