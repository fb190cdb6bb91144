"""Where scan batches run: worker processes on this machine (the default), or inline.

Both have the same two methods as :class:`concurrent.futures.Executor` that the pipeline
uses (``submit`` and ``shutdown``), which is also what a cluster client offers, so a
cluster engine can be added beside these without touching the pipeline.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

from raksha.scan.work import worker_init

T = TypeVar("T")


class BatchExecutor(Protocol):
    workers: int

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]: ...

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None: ...


class InlineExecutor:
    """Runs each batch in this process at submit time (``--workers 0``: debugging, tests)."""

    workers = 0

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return None


class LocalExecutor:
    """A pool of worker processes (default: one per core)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        # "spawn" would re-import everything per worker; "forkserver" is safe with threads.
        context = multiprocessing.get_context("forkserver")
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=worker_init
        )

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        return self._pool.submit(fn, *args)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def make_executor(workers: int | None) -> BatchExecutor:
    if workers == 0:
        return InlineExecutor()
    return LocalExecutor(workers)
