"""``raksha index``: the persisted PDQ index (normally kept up to date by itself)."""

from __future__ import annotations

from dataclasses import asdict

import typer

from raksha.cli.context import app_context, console, emit_json
from raksha.matching.store_index import StoreIndex

app = typer.Typer(
    help="The PDQ index follows hash-set changes by itself; these commands inspect or rebuild it.",
    no_args_is_help=True,
)


@app.command("status")
def status_command(json_out: bool = typer.Option(False, "--json", help="Write JSON.")) -> None:
    """Bring the index up to date and say what that took and how big it is."""
    ctx = app_context()
    report = StoreIndex(ctx.store, ctx.index_dir / "pdq").sync()
    if json_out:
        emit_json({"directory": str(ctx.index_dir / "pdq"), **asdict(report)})
        return
    what = f"built ({report.reason})" if report.built else f"+{report.added} -{report.removed}"
    console.print(
        f"PDQ index {ctx.index_dir / 'pdq'}: {report.entries:,} hashes; {what}; "
        f"{report.seconds:.2f} s",
        highlight=False,
    )


@app.command("rebuild")
def rebuild_command() -> None:
    """Rebuild the PDQ index from the store (after restoring a database backup, say)."""
    ctx = app_context()
    report = StoreIndex(ctx.store, ctx.index_dir / "pdq").rebuild()
    console.print(f"rebuilt: {report.entries:,} hashes")
