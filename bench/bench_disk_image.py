"""Benchmark: scanning a raw disk image against scanning the same files as a folder.

    .venv/bin/python -m bench.bench_disk_image [--size-mb 1024] [--files 3000] [--workers N]
        [--repeat 2] [--work DIR] [--keep] [--profile]

What is measured, and why: a seized phone or laptop usually arrives as a disk image, not
as a folder, and the image path (``DiskImageSource``: partition table and file system
walked through The Sleuth Kit, every file's bytes read through TSK in the main process
and handed to the workers) must not be much slower than the folder path, where the
workers read the files themselves. So, in one run:

1. a folder of generated files is made (an Android-like tree: camera and WhatsApp JPEGs
   of several sizes, PNG screenshots, random non-image files), each file distinct;
2. a raw disk image of it is built with real tools and no mounting: an ext4 file system
   made by ``mke2fs -d`` as partition 1 of an MBR disk written by ``sfdisk``;
3. the full scan (walk + hash + match + store, each into a fresh SQLite store) is timed on
   the folder and on the image, with the same workers, after an untimed read of the
   input so that both start from the page cache; the pair runs ``--repeat`` times in
   alternating order.

MB/s is bytes of file content hashed per second: the sum of the sizes of the stored items
of kind ``file`` that have a SHA-256 (the image's own item and its partition item carry
sizes but no payload, so the scan's byte count would overstate the image rate). The
image scan's time includes what the pipeline does for an image only: the container hash
of the whole image before the walk, and carving of the space no file occupies.

Target: image MB/s >= 0.80 x folder MB/s (median over the repeats).
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import math
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from bench.common import machine_line, print_profile
from raksha.hashing.crypto import digest_files
from raksha.scan.executors import default_workers
from raksha.scan.pipeline import ScanOptions, ScanPipeline, ScanResult
from raksha.settings import Settings
from raksha.store.db import Store
from raksha.store.models import items_table
from raksha.store.scan_repo import create_case
from raksha.synthetic import images as synth

logger = logging.getLogger(__name__)

MB = 1_000_000
MIB = 1024 * 1024
SECTOR = 512
PARTITION_START = MIB  # partition 1 starts at sector 2048, as partitioning tools align it
READ_CHUNK = 8 * MIB
CASE = "bench"
TARGET = 0.80

# (width, height, weight, distinct pictures in the pool, folders it goes to)
CAMERA = ("DCIM/Camera",)
WHATSAPP = ("WhatsApp/Media/WhatsApp Images", "WhatsApp/Media/WhatsApp Images/Sent")
THUMBS = ("DCIM/.thumbnails", "Pictures/Instagram", "Download")
JPEG_KINDS: list[tuple[int, int, int, int, tuple[str, ...]]] = [
    (640, 480, 8, 10, THUMBS),
    (1280, 960, 5, 8, WHATSAPP),
    (1600, 1200, 4, 8, WHATSAPP),
    (1920, 1080, 2, 6, CAMERA),
    (4000, 3000, 1, 4, CAMERA),
]
PNG_SIZES = [(480, 360), (360, 640)]  # screenshots, landscape and portrait
PNG_POOL = 6
PNG_DIRS = ("Pictures/Screenshots", "DCIM/Screenshots")
OTHER_DIRS = (
    "Download",
    "WhatsApp/Media/WhatsApp Documents",
    "Android/data/com.example.app/cache",
)
JPEG_SHARE, PNG_SHARE = 0.60, 0.15  # the rest are random non-image files


# -- the evidence -----------------------------------------------------------------------------


def build_folder(root: Path, files: int, size_mb: int, seed: int = 2026) -> None:
    """``files`` distinct files totalling about ``size_mb`` MB, in an Android-like tree.

    Pictures come from a small pool (drawing thousands of large JPEGs is slow); a few
    unique bytes after each picture's end make every file distinct content, so no hash
    and no PDQ is shared. Random non-image files fill the rest of the size budget.
    """
    rng = random.Random(seed)
    weights = [k[2] for k in JPEG_KINDS]
    pools: list[list[bytes]] = []
    picture_seed = 0
    for width, height, _weight, distinct, _dirs in JPEG_KINDS:
        pool = []
        for _ in range(distinct):
            picture_seed += 1
            pool.append(synth.jpeg_bytes(synth.photo_like(picture_seed, width, height)))
        pools.append(pool)
    pngs = []
    for n in range(PNG_POOL):
        picture_seed += 1
        width, height = PNG_SIZES[n % len(PNG_SIZES)]
        pngs.append(synth.png_bytes(synth.photo_like(picture_seed, width, height)))

    plan: list[tuple[str, bytes | int]] = []  # (relative path, picture bytes or random size)
    picture_bytes = 0
    others = 0
    for i in range(files):
        draw = rng.random()
        if draw < JPEG_SHARE:
            kind = rng.choices(range(len(JPEG_KINDS)), weights)[0]
            data = rng.choice(pools[kind])
            folder = rng.choice(JPEG_KINDS[kind][4])
            prefix = "IMG-WA" if folder.startswith("WhatsApp") else "IMG"
            plan.append((f"{folder}/{prefix}_{i:05d}.jpg", data))
            picture_bytes += len(data)
        elif draw < JPEG_SHARE + PNG_SHARE:
            data = rng.choice(pngs)
            plan.append((f"{rng.choice(PNG_DIRS)}/Screenshot_{i:05d}.png", data))
            picture_bytes += len(data)
        else:
            plan.append((f"{rng.choice(OTHER_DIRS)}/file_{i:05d}.bin", 0))
            others += 1
    budget = size_mb * MB - picture_bytes
    mean = max(budget // max(others, 1), 1_000)
    if budget < others * 1_000:
        print(
            f"  note: pictures alone are {picture_bytes / MB:,.0f} MB; the folder will be "
            f"larger than {size_mb} MB"
        )
    for i, (relative, content) in enumerate(plan):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        unique = b"\x00raksha-bench" + i.to_bytes(8, "big")
        if isinstance(content, bytes):
            path.write_bytes(content + unique)  # after the JPEG EOI / PNG IEND: still valid
        else:
            size = max(1_000, int(mean * rng.uniform(0.2, 1.8)))
            path.write_bytes(unique + rng.randbytes(size))
        if (i + 1) % 500 == 0:
            print(f"  written {i + 1}/{files}", flush=True)


def folder_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _run(cmd: list[str], stdin: str | None = None) -> None:
    logger.debug("running %s", " ".join(cmd))
    done = subprocess.run(cmd, input=stdin, text=True, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")


def build_disk_image(folder: Path, image: Path, data_bytes: int, files: int) -> int:
    """An MBR disk with one ext4 partition holding ``folder``; returns the image size.

    The file system gets ~18 % more than the data (block slack, inode tables, journal)
    plus a fixed margin, with one more try at 1.5x if mke2fs still runs out of room.
    """
    fs_image = image.with_name(image.name + ".ext4")
    fs_size = data_bytes * 118 // 100 + 64 * MIB + files * 4096
    for attempt in range(2):
        fs_size = math.ceil(fs_size / MIB) * MIB
        fs_image.unlink(missing_ok=True)
        _run(["truncate", "-s", str(fs_size), str(fs_image)])
        try:
            # -b 4096: the block size of the default run's size class, also for small runs
            # (mke2fs would pick 1 KiB blocks below 512 MB and change what TSK reads).
            _run(
                ["mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-d", str(folder), str(fs_image)]
            )
            break
        except RuntimeError:
            if attempt:
                raise
            logger.warning("mke2fs ran out of room at %d bytes; trying 1.5x", fs_size)
            fs_size = fs_size * 3 // 2
    disk_size = PARTITION_START + fs_size
    image.unlink(missing_ok=True)
    _run(["truncate", "-s", str(disk_size), str(image)])
    table = (
        "label: dos\nunit: sectors\n\n"
        f"start={PARTITION_START // SECTOR}, size={fs_size // SECTOR}, type=83\n"
    )
    _run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", str(image)], stdin=table)
    _run(
        [
            "dd",
            f"if={fs_image}",
            f"of={image}",
            "bs=1M",
            f"seek={PARTITION_START // MIB}",
            "conv=notrunc",
            "status=none",
        ]
    )
    fs_image.unlink()
    return disk_size


def warm(paths: list[Path]) -> int:
    """Read every input once (untimed), so each scan starts from the page cache."""
    total = 0
    for path in paths:
        with path.open("rb", buffering=0) as f:
            while chunk := f.read(READ_CHUNK):
                total += len(chunk)
    return total


# -- one scan ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Measured:
    source: str
    seconds: float
    files: int
    content_bytes: int
    carved: int
    sha256s: set[str]

    @property
    def mb_per_s(self) -> float:
        return self.content_bytes / MB / self.seconds

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds


def scan(
    source: str,
    target: Path,
    home: Path,
    workers: int | None,
    profile: cProfile.Profile | None = None,
) -> Measured:
    """One timed ``ScanPipeline.run`` into a fresh SQLite store below ``home``."""
    home.mkdir(parents=True)
    settings = Settings(home, f"sqlite:///{home}/raksha.db")
    store = Store.open(settings)
    try:
        create_case(store, CASE)
        pipeline = ScanPipeline(store, settings.index_dir, ScanOptions(workers=workers))
        started = time.perf_counter()
        if profile is not None:
            result: ScanResult = profile.runcall(pipeline.run, CASE, target)
        else:
            result = pipeline.run(CASE, target)
        seconds = time.perf_counter() - started
        if result.status != "completed":
            raise RuntimeError(f"the {source} scan ended {result.status}")
        if result.failures:
            print(f"  {source}: {len(result.failures)} failures, first {result.failures[0]}")
        it = items_table
        is_content = (it.c.kind == "file") & it.c.sha256.is_not(None)
        with store.engine.connect() as conn:
            files, content = conn.execute(
                select(func.count(), func.coalesce(func.sum(it.c.size), 0)).where(is_content)
            ).one()
            carved = conn.execute(
                select(func.count()).where(is_content & (it.c.allocation == "carved"))
            ).scalar_one()
            sha256s = {row[0] for row in conn.execute(select(it.c.sha256).where(is_content))}
    finally:
        store.close()
    return Measured(source, seconds, int(files), int(content), int(carved), sha256s)


# -- report -----------------------------------------------------------------------------------


def print_runs(pairs: list[tuple[Measured, Measured]]) -> None:
    print()
    print(
        f"{'run':>3} {'source':7} {'seconds':>8} {'files':>6} {'MB':>8} {'MB/s':>7} {'files/s':>8}"
    )
    for n, pair in enumerate(pairs, 1):
        for m in pair:
            print(
                f"{n:3d} {m.source:7} {m.seconds:8.2f} {m.files:6d} {m.content_bytes / MB:8.1f} "
                f"{m.mb_per_s:7.1f} {m.files_per_s:8.1f}"
            )
        folder, image = pair
        print(f"{'':3} {'image / folder MB/s':36} {image.mb_per_s / folder.mb_per_s:8.2f}")


def print_markdown(
    pairs: list[tuple[Measured, Measured]],
    args: argparse.Namespace,
    workers: int,
    corpus: tuple[int, int],
    image_size: int,
    median: float,
) -> None:
    files, data = corpus
    print()
    print("## Scanning a raw disk image against the same files as a folder")
    print(
        f"`.venv/bin/python -m bench.bench_disk_image --size-mb {args.size_mb} "
        f"--files {args.files} --repeat {args.repeat}"
        + (f" --workers {args.workers}" if args.workers is not None else "")
        + f"` — {files:,} generated files, {data / MB:,.0f} MB (Android-like tree: JPEGs "
        "640×480 to 4000×3000, PNG screenshots, random non-image files), scanned as a folder "
        f"and as a {image_size / MB:,.0f} MB raw MBR image with one ext4 partition "
        f"(`mke2fs -d`, `sfdisk`); {workers} worker(s), fresh SQLite store per scan, inputs "
        "in the page cache. MB/s counts file content only."
    )
    print()
    print("| run | source | seconds | files | MB | MB/s | files/s |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for n, pair in enumerate(pairs, 1):
        for m in pair:
            print(
                f"| {n} | {m.source} | {m.seconds:.2f} | {m.files:,} | {m.content_bytes / MB:,.1f} "
                f"| {m.mb_per_s:.1f} | {m.files_per_s:.1f} |"
            )
        folder, image = pair
        print(f"| {n} | **image / folder** | | | | **{image.mb_per_s / folder.mb_per_s:.2f}** | |")
    verdict = "✔" if median >= TARGET else "✘"
    print()
    print(f"Median image / folder MB/s: **{median:.2f}** (target ≥ {TARGET:.2f}) {verdict}")
    print()
    print(f"Machine: {machine_line()}")


# -- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="total size of the files")
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--repeat", type=int, default=2, help="folder/image pairs to run")
    parser.add_argument("--work", type=Path, default=None, help="default: a fresh temp dir")
    parser.add_argument("--keep", action="store_true", help="leave the work dir behind")
    parser.add_argument("--profile", action="store_true", help="cProfile one more image scan")
    parser.add_argument("--profile-top", type=int, default=10)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ["PATH"] = os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin", "/sbin"))
    for tool in ("mke2fs", "sfdisk", "truncate", "dd"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is needed (e2fsprogs, util-linux, coreutils)")

    if args.work is None:
        work = Path(tempfile.mkdtemp(prefix="raksha-bench-disk-"))
    else:
        args.work.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="raksha-bench-disk-", dir=args.work))
    workers = args.workers if args.workers is not None else default_workers()
    try:
        folder = work / "phone"
        image = work / "phone.dd"
        print(f"work dir: {work}")
        print(f"generating ~{args.files} files, ~{args.size_mb} MB…", flush=True)
        started = time.perf_counter()
        build_folder(folder, args.files, args.size_mb)
        files = folder_files(folder)
        data = sum(p.stat().st_size for p in files)
        print(
            f"folder: {len(files)} files, {data / MB:,.1f} MB "
            f"({time.perf_counter() - started:.1f} s to generate)"
        )
        started = time.perf_counter()
        image_size = build_disk_image(folder, image, data, len(files))
        print(
            f"disk image: {image.name}, {image_size / MB:,.1f} MB, MBR + ext4 at "
            f"{PARTITION_START} ({time.perf_counter() - started:.1f} s to build, not measured)"
        )
        print(f"workers: {workers}" + (" (one per core)" if args.workers is None else ""))

        pairs: list[tuple[Measured, Measured]] = []
        for n in range(args.repeat):
            done: dict[str, Measured] = {}
            order = ["folder", "image"] if n % 2 == 0 else ["image", "folder"]
            for source in order:
                target = folder if source == "folder" else image
                warm(files if source == "folder" else [image])
                m = scan(source, target, work / f"store-{n}-{source}", args.workers)
                print(
                    f"  run {n + 1} {source:6}: {m.seconds:7.2f} s, {m.files} files, "
                    f"{m.mb_per_s:6.1f} MB/s, {m.files_per_s:6.1f} files/s"
                    + (f", {m.carved} carved" if m.carved else ""),
                    flush=True,
                )
                done[source] = m
            pairs.append((done["folder"], done["image"]))

        ratios = [image_m.mb_per_s / folder_m.mb_per_s for folder_m, image_m in pairs]
        median = statistics.median(ratios)
        print_runs(pairs)
        folder_sha = pairs[0][0].sha256s
        missing = folder_sha - pairs[0][1].sha256s
        print()
        print(
            f"all {len(folder_sha)} files found in the image: "
            + ("yes" if not missing else f"no ({len(missing)} missing)")
        )
        if len(folder_sha) != len(files):
            print(f"  note: {len(files)} files on disk, {len(folder_sha)} distinct SHA-256s")
        print(f"median image / folder MB/s: {median:.2f} (target >= {TARGET:.2f})")

        warm([image])
        started = time.perf_counter()
        digest_files([str(image)])
        print(
            f"of which: the container hash of the whole image (part of the image scan) takes "
            f"{time.perf_counter() - started:.2f} s alone"
        )

        print_markdown(pairs, args, workers, (len(files), data), image_size, median)

        if args.profile:
            profile = cProfile.Profile()
            warm([image])
            scan("image", image, work / "store-profile", args.workers, profile)
            print_profile(
                profile,
                args.profile_top,
                "one extra image scan (main process only)",
                own_first=False,
            )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
