"""What every benchmark prints the same way: the machine it ran on, and a profile."""

from __future__ import annotations

import cProfile
import os
import platform
import pstats
import sys
from pathlib import Path

from raksha.scan.executors import default_workers


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or what the platform says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_line() -> str:
    """One line for bench/results.md: cores usable, CPU, Python, kernel."""
    return (
        f"nproc = {default_workers()} ({os.cpu_count()} CPUs), {cpu_model()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def print_profile(profile: cProfile.Profile, top: int, what: str, *, own_first: bool) -> None:
    """The top entries of a profile by cumulative and by own time (``own_first``: own first)."""
    orders = [pstats.SortKey.TIME, pstats.SortKey.CUMULATIVE]
    if not own_first:
        orders.reverse()
    names = {pstats.SortKey.TIME: "own time", pstats.SortKey.CUMULATIVE: "cumulative time"}
    stats = pstats.Stats(profile, stream=sys.stdout).strip_dirs()
    for i, order in enumerate(orders):
        print()
        lead = f"cProfile of {what}, top {top}" if i == 0 else f"… and top {top}"
        print(f"{lead} by {names[order]}:")
        stats.sort_stats(order).print_stats(top)
