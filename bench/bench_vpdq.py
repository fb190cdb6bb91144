"""vPDQ video hashing of 1080p H.264 on one core: Raksha against Meta's ``vpdq`` package.

Run: ``.venv/bin/python -m bench.bench_vpdq [--seconds 60] [--size 1920x1080] [--repeat 3]``.

The video is abstract footage generated (untimed) by
:func:`raksha.synthetic.videos.make_video` into a temporary directory and deleted
afterwards: ``--seconds`` seconds at 30 fps, H.264 (``libx264``, preset veryfast, CRF 23,
B-frames) in MP4, a new scene every ~3 s with a slowly panning camera. Nothing in it
depicts anyone or anything.

Both engines hash one frame a second, each in its own freshly spawned process
(``multiprocessing`` "spawn") pinned with ``os.sched_setaffinity`` to the same single CPU,
one after the other, interleaved over ``--repeat`` rounds:

- ``raksha``: :func:`raksha.hashing.video.vpdq_from_file` with ``every=1.0``;
- ``vpdq``: Meta's ``vpdq.computeHash(input_video_filename, seconds_per_hash=1.0,
  thread_count=1)`` (``--peer-threads``; 0 lets it start one hashing thread per CPU the
  machine has, which on a pinned process only adds switching).

Each process imports its engine and hashes a 1-second clip of the same size first
(untimed), then the video once. CPU seconds are ``resource.getrusage`` user + system
deltas of the process (all its threads) plus those of any waited-for children; wall
seconds are ``time.perf_counter`` deltas; the median over the rounds is reported as
"seconds of video hashed per CPU-second". Target: Raksha at least 2x ``vpdq``.

Agreement: each ``vpdq`` frame is paired with the Raksha frame nearest in timestamp
(within 0.5 s); over pairs where both qualities are >= 80 the Hamming distance should be
within 10 (PDQ's conformance rule).

What ``vpdq`` 0.2.5 does (read from its sdist, ``cpp/vpdq/cpp/hashing``): it links the
system FFmpeg (Debian 12: libavcodec 59 / FFmpeg 5.1), decodes *every* frame with the
codec's slice threads (``thread_count = 0``, which FFmpeg sizes from the affinity mask),
takes every ``int(seconds_per_hash * avg_frame_rate)``-th frame in decode-output order,
converts it with ``sws_scale`` (``SWS_AREA``) to RGB24 at full size (no downscale unless
``downsample_width/height`` are given), computes float luma and runs PDQ on the
full-resolution image; the timestamp is ``frame_number / frame_rate``, not the frame's
presentation time.

Installing the peer (Debian 12, as root; ``vpdq`` has no wheel and builds from source
with the installed ``cmake`` and ``g++``, about 30 s)::

    apt-get update
    apt-get install -y pkg-config libavcodec-dev libavformat-dev libavutil-dev \\
        libswscale-dev libswresample-dev libavfilter-dev libavdevice-dev
    .venv/bin/pip install vpdq        # built vpdq 0.2.5

Its Python API (``vpdq.pyx``): ``computeHash(input_video_filename, ffmpeg_path=None,
seconds_per_hash=1.0, verbose=False, downsample_width=0, downsample_height=0,
thread_count=0) -> list[VpdqFeature]``; ``VpdqFeature`` has ``quality: int``,
``frame_number: int``, ``hash`` (Hash256), ``hex: str`` (64 hex chars) and
``timestamp: float``.
"""

from __future__ import annotations

import os

from bench.common import cpu_model

# One core means one thread everywhere (set before numpy or any codec loads its pools).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import bisect  # noqa: E402
import importlib.util  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Final  # noqa: E402

# Heavy imports (PyAV, the engines) happen inside functions: a spawned engine process
# must load only its own engine (and only its own FFmpeg build).

FPS: Final = 30
SEED: Final = 20240601
SPEEDUP_TARGET: Final = 2.0
DISTANCE_TARGET: Final = 10
QUALITY_FLOOR: Final = 80
PAIR_WINDOW_S: Final = 0.5
ENGINES: Final = ("raksha", "vpdq")

Frame = tuple[float, str, int]  # (timestamp s, 64-hex PDQ, quality)


@dataclass(frozen=True)
class Run:
    engine: str
    cpu_s: float
    wall_s: float
    frames: list[Frame]
    library: str


# --- engine processes ---------------------------------------------------------------------


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _raksha_hasher() -> Any:
    from raksha.hashing.video import vpdq_from_file

    def hash_video(path: str) -> list[Frame]:
        video = vpdq_from_file(path, every=1.0)
        return [(float(f.timestamp), str(f.pdq), int(f.quality)) for f in video.frames]

    return hash_video


def _vpdq_hasher(threads: int) -> Any:
    import vpdq  # type: ignore[import-not-found]

    def hash_video(path: str) -> list[Frame]:
        features = vpdq.computeHash(
            input_video_filename=path, seconds_per_hash=1.0, thread_count=threads
        )
        return [(float(f.timestamp), str(f.hex), int(f.quality)) for f in features]

    return hash_video


def _loaded_ffmpeg() -> str:
    """The FFmpeg libavcodec this process has mapped, by path and version."""
    import ctypes

    paths: set[str] = set()
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                name = line.rsplit(" ", 1)[-1].strip()
                if "libavcodec" in name and ".so" in name:
                    paths.add(name)
    except OSError:
        return "unknown"
    found = []
    for path in sorted(paths):
        try:
            version = int(ctypes.CDLL(path).avcodec_version())
        except (OSError, AttributeError):
            found.append(path)
            continue
        found.append(f"{Path(path).name} {version >> 16}.{(version >> 8) & 0xFF}.{version & 0xFF}")
    return ", ".join(found) or "none"


def _engine_process(engine: str, path: str, warm_path: str, cpu: int, peer_threads: int) -> Run:
    """Body of one spawned process: pin, import, warm up, hash ``path`` once, measured."""
    os.sched_setaffinity(0, {cpu})
    hash_video = _raksha_hasher() if engine == "raksha" else _vpdq_hasher(peer_threads)
    hash_video(warm_path)
    cpu_start, wall_start = _cpu_seconds(), time.perf_counter()
    frames = hash_video(path)
    wall = time.perf_counter() - wall_start
    cpu_used = _cpu_seconds() - cpu_start
    return Run(engine, cpu_used, wall, frames, _loaded_ffmpeg())


def _child(connection: Any, *args: Any) -> None:
    try:
        connection.send(("ok", _engine_process(*args)))
    except BaseException as error:  # report it to the parent rather than dying silently
        connection.send(("error", f"{type(error).__name__}: {error}"))
        raise
    finally:
        connection.close()


def _measure(engine: str, path: Path, warm_path: Path, cpu: int, peer_threads: int) -> Run:
    """Run :func:`_engine_process` in a fresh spawned (non-daemon) process."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(sender, engine, str(path), str(warm_path), cpu, peer_threads)
    )
    process.start()
    sender.close()
    try:
        status, value = receiver.recv()
    except EOFError:
        status, value = "error", "the process died without a result"
    process.join()
    if status != "ok":
        sys.exit(f"{engine} failed (exit code {process.exitcode}): {value}")
    assert isinstance(value, Run)
    return value


# --- video -------------------------------------------------------------------------------


def _generate(path: Path, seconds: float, size: tuple[int, int]) -> None:
    from raksha.synthetic.videos import make_video

    make_video(path, seconds=seconds, fps=FPS, size=size, codec="libx264", seed=SEED)


def _describe(path: Path) -> tuple[float, str]:
    """Duration in seconds and a one-line description of the video in ``path``."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for packet in container.demux(stream) if packet.size)
        rate = float(stream.average_rate or FPS)
        codec = stream.codec_context
        duration = frames / rate
        text = (
            f"{codec.width}x{codec.height} {codec.name} ({codec.profile}, {codec.pix_fmt}), "
            f"{frames} frames at {rate:g} fps = {duration:g} s, "
            f"{path.stat().st_size / 1e6:.1f} MB "
            f"({path.stat().st_size * 8 / duration / 1e6:.1f} Mbit/s)"
        )
    return duration, text


# --- comparison --------------------------------------------------------------------------


def _pairs(peer: list[Frame], ours: list[Frame]) -> list[tuple[Frame, Frame]]:
    """Each peer frame with our frame nearest in time, when within :data:`PAIR_WINDOW_S`."""
    ours = sorted(ours)
    times = [frame[0] for frame in ours]
    out = []
    for frame in peer:
        at = bisect.bisect_left(times, frame[0])
        near = [i for i in (at - 1, at) if 0 <= i < len(ours)]
        if not near:
            continue
        best = min(near, key=lambda i: abs(times[i] - frame[0]))
        if abs(times[best] - frame[0]) <= PAIR_WINDOW_S:
            out.append((frame, ours[best]))
    return out


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, not {text!r}") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="video length (default 60)")
    parser.add_argument("--size", type=_size, default=(1920, 1080), help="default 1920x1080")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median counts")
    parser.add_argument(
        "--peer-threads", type=int, default=1, help="vpdq thread_count (default 1; 0 = auto)"
    )
    args = parser.parse_args(argv)

    if importlib.util.find_spec("vpdq") is None:
        sys.exit("vpdq is not installed: see this module's docstring for the commands")
    from importlib.metadata import version

    import av

    from raksha.hashing.pdq import hamming

    cpu = min(os.sched_getaffinity(0))
    print(
        f"machine: nproc {os.cpu_count()}, {cpu_model()}, Python {platform.python_version()}; "
        f"each engine in its own spawned process pinned to CPU {cpu}"
    )
    print(
        f"vpdq {version('vpdq')} (thread_count={args.peer_threads}); "
        f"PyAV {av.__version__} with FFmpeg {av.ffmpeg_version_info}"
    )

    runs: dict[str, list[Run]] = {engine: [] for engine in ENGINES}
    with tempfile.TemporaryDirectory(prefix="raksha-bench-") as tmp:
        path = Path(tmp) / "footage.mp4"
        warm_path = Path(tmp) / "warm.mp4"
        start = time.perf_counter()
        _generate(path, args.seconds, args.size)
        _generate(warm_path, 1.0, args.size)
        duration, description = _describe(path)
        print(f"video (generated in {time.perf_counter() - start:.1f} s, untimed): {description}")
        for round_index in range(args.repeat):
            order = ENGINES if round_index % 2 == 0 else ENGINES[::-1]
            for engine in order:
                run = _measure(engine, path, warm_path, cpu, args.peer_threads)
                runs[engine].append(run)
                print(
                    f"  round {round_index + 1} {engine:<6}: CPU {run.cpu_s:7.2f} s, "
                    f"wall {run.wall_s:7.2f} s, {len(run.frames)} hashes"
                )

    for engine in ENGINES:
        print(f"{engine} process's libavcodec: {runs[engine][-1].library}")

    cpu_s = {e: statistics.median(r.cpu_s for r in runs[e]) for e in ENGINES}
    wall_s = {e: statistics.median(r.wall_s for r in runs[e]) for e in ENGINES}
    labels = {
        "raksha": "raksha `vpdq_from_file(every=1.0)`",
        "vpdq": f"Meta `vpdq.computeHash` {version('vpdq')}",
    }
    w, h = args.size
    print()
    print(
        f"## vPDQ video hashing: {h}p H.264, one core\n"
        f"`.venv/bin/python -m bench.bench_vpdq --seconds {args.seconds:g} --size {w}x{h} "
        f"--repeat {args.repeat}` — {description}; one hash a second; each engine in its own "
        f"spawned process pinned to one CPU; median of {args.repeat}.\n"
    )
    print("| engine | hashes | CPU s | wall s | video s per CPU-s | video s per wall-s |")
    print("|---|---:|---:|---:|---:|---:|")
    for engine in ENGINES:
        print(
            f"| {labels[engine]} | {len(runs[engine][-1].frames)} | {cpu_s[engine]:.2f} | "
            f"{wall_s[engine]:.2f} | {duration / cpu_s[engine]:.1f} | "
            f"{duration / wall_s[engine]:.1f} |"
        )
    speedup = cpu_s["vpdq"] / cpu_s["raksha"]
    verdict = "met" if speedup >= SPEEDUP_TARGET else "MISSED"
    print()
    print(
        f"- Raksha / vpdq, video seconds per CPU-second: **{speedup:.2f}x** "
        f"(target >= {SPEEDUP_TARGET:g}x: {verdict}); per wall-second "
        f"{wall_s['vpdq'] / wall_s['raksha']:.2f}x."
    )

    peer, ours = runs["vpdq"][-1].frames, runs["raksha"][-1].frames
    pairs = _pairs(peer, ours)
    good = [(a, b) for a, b in pairs if a[2] >= QUALITY_FLOOR and b[2] >= QUALITY_FLOOR]
    distances = [hamming(a[1], b[1]) for a, b in good]
    if distances:
        within = sum(d <= DISTANCE_TARGET for d in distances) / len(distances)
        verdict = "met" if max(distances) <= DISTANCE_TARGET else "MISSED"
        print(
            f"- Agreement: {len(pairs)} of {len(peer)} vpdq frames paired with a Raksha frame "
            f"within {PAIR_WINDOW_S:g} s ({len(ours)} Raksha frames; mean time offset "
            f"{statistics.fmean(abs(a[0] - b[0]) for a, b in pairs) * 1000:.0f} ms); "
            f"{len(good)} pairs with both "
            f"qualities >= {QUALITY_FLOOR}: Hamming max {max(distances)}, "
            f"mean {statistics.fmean(distances):.1f}, {within:.0%} within {DISTANCE_TARGET} "
            f"(target: all within {DISTANCE_TARGET}: {verdict})."
        )
        worst = sorted(zip(distances, good, strict=True), key=lambda x: -x[0])[:3]
        if worst[0][0] > DISTANCE_TARGET:
            for distance, (a, b) in worst:
                print(
                    f"  - distance {distance}: vpdq t={a[0]:.3f} q={a[2]}, "
                    f"raksha t={b[0]:.3f} q={b[2]}"
                )
    else:
        print(f"- Agreement: {len(pairs)} pairs, none with both qualities >= {QUALITY_FLOOR}.")
    print(
        f"- Machine: nproc {os.cpu_count()}, {cpu_model()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
