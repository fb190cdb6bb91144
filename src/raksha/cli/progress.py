"""Progress of long work on the terminal: a live bar on a terminal, log lines otherwise.

Every scanning command (``scan``, ``watch run``) reports through the two callbacks this
yields, so the bar looks the same wherever files are being hashed; with ``--json`` the
log lines are JSON progress events on stdout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from raksha.cli.context import emit_json, err_console
from raksha.scan.pipeline import ScanCounts

LOG_EVERY_SECONDS = 10.0

OnProgress = Callable[[ScanCounts], None]
OnVerify = Callable[[int, int], None]


@contextmanager
def scan_progress(json_out: bool, label: str = "scanning") -> Iterator[tuple[OnProgress, OnVerify]]:
    """(on_progress, on_verify) for a scan: a bar on a terminal, else a line every 10 s."""
    if not json_out and err_console.is_terminal:
        with Progress(
            TextColumn(f"[bold]{label}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("[red]{task.fields[hits]} hits"),
            console=err_console,
            transient=True,
        ) as progress:
            task = progress.add_task("scan", total=None, rate="", hits=0)
            started = time.monotonic()

            def bar(c: ScanCounts) -> None:
                rate = c.files / max(time.monotonic() - started, 1e-6)
                progress.update(
                    task,
                    completed=c.files + c.already_stored,
                    total=c.total_files,
                    rate=f"{rate:,.0f} files/s",
                    hits=c.hits,
                )

            def verifying(done: int, total: int) -> None:
                share = done / total if total else 1.0
                progress.update(task, rate=f"verifying the image: {share:.0%}")

            yield bar, verifying
        return
    last_log = [time.monotonic()]

    def log_line(c: ScanCounts) -> None:
        now = time.monotonic()
        if now - last_log[0] < LOG_EVERY_SECONDS:
            return
        last_log[0] = now
        if json_out:
            emit_json({"event": "progress", **c.as_dict()})
        else:
            err_console.print(
                f"{c.files:,} files, {c.bytes / 1e6:,.0f} MB, {c.hits} hits, {c.failed} failed",
                highlight=False,
            )

    def verify_line(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last_log[0] >= LOG_EVERY_SECONDS or done == total:
            last_log[0] = now
            if json_out:
                emit_json({"event": "verify", "bytes_read": done, "total_bytes": total})
            else:
                err_console.print(f"verifying: {done / 1e6:,.0f} of {total / 1e6:,.0f} MB")

    yield log_line, verify_line
