"""``raksha watch add|list|run``: follow a group week after week through its exports."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from raksha.chats.detect import KINDS, ReaderOptions
from raksha.chats.identity import DEFAULT_REGION
from raksha.cli.chat_cmd import sighting_line
from raksha.cli.context import app_context, console, emit_json
from raksha.cli.progress import scan_progress
from raksha.scan.pipeline import ScanOptions
from raksha.services.watch import add_watch, list_watches, run_watches

app = typer.Typer(
    help="Watched groups: drop folders of a chat's exports, re-ingested on demand.",
    no_args_is_help=True,
)


@app.command("add")
def add_command(
    path: Path = typer.Argument(
        ..., help="The drop folder where each new export of the chat is put.", show_default=False
    ),
    name: str = typer.Option(..., "--name", "-n", help="A name for the watch.", show_default=False),
    case: str = typer.Option(
        ..., "--case", "-c", help="The case the exports belong to.", show_default=False
    ),
    kind: str | None = typer.Option(
        None, "--kind", help=f"Force the export kind ({', '.join(KINDS)}); default: by content."
    ),
    json_out: bool = typer.Option(False, "--json", help="The watch as JSON."),
) -> None:
    """Watch a drop folder: `raksha watch run` ingests each new export placed in it."""
    watch = add_watch(app_context().store, name, path, case, kind)
    if json_out:
        emit_json(watch.as_dict())
    else:
        console.print(f"watching {escape(watch.path)} as {watch.name!r} for case {watch.case!r}")


@app.command("list")
def list_command(
    json_out: bool = typer.Option(False, "--json", help="One JSON object per watch."),
) -> None:
    """The watched drop folders and when each was last run."""
    watches = list_watches(app_context().store)
    for w in watches:
        if json_out:
            emit_json(w.as_dict())
        else:
            last = w.last_run.isoformat()[:16] if w.last_run else "never"
            console.print(f"{w.name}: {escape(w.path)} (case {w.case!r}), last run {last}")
    if not watches and not json_out:
        console.print("nothing watched: `raksha watch add DROP --name NAME --case CASE`")


@app.command("run")
def run_command(
    names: list[str] = typer.Argument(None, help="Only these watches (default: all)."),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=0, help="Hashing processes (default: one per core)."
    ),
    region: str = typer.Option(DEFAULT_REGION, "--region", help="Default phone-number country."),
    tz: str = typer.Option("Asia/Kolkata", "--tz", help="Time zone of zone-less times."),
    json_out: bool = typer.Option(False, "--json", help="JSON lines: one per export ingested."),
) -> None:
    """Ingest every export not yet ingested in each watched folder; print new sightings."""
    ctx = app_context()
    total = 0
    with scan_progress(json_out, "ingesting") as (on_progress, _):
        outcomes = run_watches(
            ctx.store,
            ctx.index_dir,
            names or None,
            ScanOptions(workers=workers),
            ReaderOptions(region=region, tz=tz),
            on_progress=on_progress,
        )
        for outcome in outcomes:
            result = outcome.result
            if json_out:
                emit_json(
                    {
                        "watch": outcome.watch,
                        "export": outcome.entry,
                        "skipped": outcome.skipped,
                        "counts": result.counts.as_dict() if result else None,
                        "new_sightings": result.new_sightings if result else [],
                    }
                )
                continue
            if result is None:
                console.print(
                    f"{outcome.watch}: {escape(outcome.entry)} skipped: {outcome.skipped}"
                )
                continue
            total += len(result.new_sightings)
            c = result.counts
            console.print(
                f"{outcome.watch}: {escape(outcome.entry)}: {c.new_messages:,} new messages, "
                f"[red]{len(result.new_sightings)} new sightings[/]",
                highlight=False,
                soft_wrap=True,
            )
            for s in result.new_sightings[:50]:
                console.print("    " + escape(sighting_line(s)), highlight=False, soft_wrap=True)
    if not json_out:
        console.print(f"{total} new sightings in all")
