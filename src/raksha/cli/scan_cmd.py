"""``raksha scan``, ``raksha hits`` and ``raksha evidence show``."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from raksha.cli.context import app_context, console, emit_json, err_console
from raksha.errors import NotFoundError
from raksha.scan.pipeline import ScanCounts, ScanOptions, ScanPipeline, ScanResult
from raksha.sources.base import SourceLimits
from raksha.store.results_repo import evidence_summary, iter_hits
from raksha.store.scan_repo import get_case

logger = logging.getLogger(__name__)
LOG_EVERY_SECONDS = 10.0

evidence_app = typer.Typer(help="What scanned evidence held.", no_args_is_help=True)


def scan_command(
    source: Path = typer.Argument(
        ..., help="A folder, a file, or an archive (zip, tar, tgz, tbz, 7z).", show_default=False
    ),
    case: str = typer.Option(
        ..., "--case", "-c", help="The case it belongs to.", show_default=False
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=0, help="Hashing processes (default: one per core)."
    ),
    max_depth: int = typer.Option(3, "--max-depth", min=0, help="Nested archive depth."),
    dihedral: bool = typer.Option(
        False, "--dihedral", help="Also match rotated and mirrored copies (slower)."
    ),
    json_out: bool = typer.Option(
        False, "--json", help="JSON lines: progress events, then the summary."
    ),
) -> None:
    """Scan evidence for known material, read-only, resumably.

    Files are identified by content. Every file gets MD5, SHA-1 and SHA-256; images get
    PDQ. Files in known-file (NSRL) sets are skipped and counted. Interrupted scans
    continue where they stopped when the same command is run again. Broken or hostile
    input (zip bombs, ../ paths, links, corrupt images, encrypted archives) is recorded
    with the reason and the scan goes on.
    """
    if not source.exists():
        raise NotFoundError(f"{source} does not exist")
    ctx = app_context()
    options = ScanOptions(
        workers=workers, dihedral=dihedral, limits=SourceLimits(max_depth=max_depth)
    )
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

    if not json_out and err_console.is_terminal:
        with Progress(
            TextColumn("[bold]scanning[/]"),
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

            result = ScanPipeline(ctx.store, ctx.index_dir, options, on_progress=bar).run(
                case, source
            )
    else:
        result = ScanPipeline(ctx.store, ctx.index_dir, options, on_progress=log_line).run(
            case, source
        )
    _summary(result, json_out)


def _summary(result: ScanResult, json_out: bool) -> None:
    c = result.counts
    if json_out:
        emit_json(
            {
                "event": "summary",
                "scan_id": result.scan_id,
                "evidence_id": result.evidence.id,
                "source": result.evidence.source_path,
                "container_sha256": result.evidence.container_sha256,
                "status": result.status,
                "seconds": result.seconds,
                "counts": c.as_dict(),
                "failures": [{"locator": loc, "error": err} for loc, err in result.failures],
                "hits": [
                    {"locator": loc, "matches": [m.as_dict() for m in matches]}
                    for loc, matches in result.hits
                ],
            }
        )
        return
    ev = result.evidence
    console.print(
        f"[bold]{ev.source_path}[/] scan #{result.scan_id} {result.status}", highlight=False
    )
    if ev.container_sha256:
        console.print(f"  evidence sha256 {ev.container_sha256}")
    rate = c.files / result.seconds if result.seconds else 0.0
    console.print(
        f"  {c.files:,} files ({c.images:,} images, {c.bytes / 1e6:,.1f} MB) in "
        f"{result.seconds:.1f} s, {rate:,.0f} files/s; {c.known_skipped:,} known files skipped; "
        f"{c.already_stored:,} already stored by an earlier run",
        highlight=False,
    )
    console.print(f"  [bold red]{c.hits} hits[/]" if c.hits else "  no hits")
    for locator, matches in result.hits[:50]:
        m = matches[0]
        how = f"exact {m.algorithm}" if m.kind == "exact" else f"PDQ d={m.distance}"
        console.print(
            f"    {locator}: {m.hit.set_name} cat {m.hit.category or '-'} by {how}", highlight=False
        )
    if len(result.hits) > 50:
        console.print(f"    … `raksha hits --case ...` lists all {len(result.hits)}")
    if result.failures:
        console.print(f"  [yellow]{len(result.failures)} items not fully read:[/]")
        for locator, error in result.failures[:20]:
            console.print(f"    {locator}: {error}", highlight=False)


def hits_command(
    case: str = typer.Option(..., "--case", "-c", help="Case name.", show_default=False),
    include_known: bool = typer.Option(
        False, "--include-known", help="Also list matches against known-file sets."
    ),
    json_out: bool = typer.Option(False, "--json", help="JSON lines, one match a line."),
) -> None:
    """List every hit in a case: locator, hashes, set, category, distance, match kind."""
    store = app_context().store
    record = get_case(store, case)
    count = 0
    for hit in iter_hits(store, record.id, include_known=include_known):
        count += 1
        if json_out:
            emit_json(hit)
            continue
        how = (
            f"exact {hit['algorithm']}"
            if hit["match_kind"] == "exact"
            else f"PDQ d={hit['distance']}"
        )
        label = f" ({hit['category_label']})" if hit["category_label"] else ""
        console.print(
            f"{hit['source_path']} > {hit['locator']}\n"
            f"    {hit['set_name']} category {hit['category'] or '-'}{label} by {how}"
            f"{' ' + hit['variant'] if hit['variant'] else ''}; sha256 {hit['sha256']}",
            highlight=False,
        )
    if not json_out and count == 0:
        console.print(f"no hits in case {case!r}")


@evidence_app.command("show")
def evidence_show_command(
    case: str = typer.Option(..., "--case", "-c", help="Case name.", show_default=False),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per evidence."),
) -> None:
    """Per evidence: items by type and status, hits by set and category, skipped, errors."""
    store = app_context().store
    record = get_case(store, case)
    for ev in evidence_summary(store, record.id):
        if json_out:
            emit_json(ev)
            continue
        console.print(f"[bold]{ev['source_path']}[/] ({ev['kind']})", highlight=False)
        if ev["container_sha256"]:
            console.print(f"  sha256 {ev['container_sha256']}")
        console.print(
            "  items by type: "
            + ", ".join(f"{k} {v}" for k, v in sorted(ev["items_by_type"].items()))
        )
        console.print(
            "  items by status: "
            + ", ".join(f"{k} {v}" for k, v in sorted(ev["items_by_status"].items()))
        )
        for h in ev["hits"]:
            console.print(
                f"  hits: {h['set']} category {h['category'] or '-'}: {h['items']} items",
                highlight=False,
            )
        for e in ev["errors"][:50]:
            console.print(f"  [yellow]{e['locator']}[/]: {e['error']}", highlight=False)
        for s in ev["scans"]:
            console.print(
                f"  scan #{s['id']} {s['status']} {s['started_at'][:19]}", highlight=False
            )
