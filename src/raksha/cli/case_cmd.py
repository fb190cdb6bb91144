"""``raksha case``: the case records that evidence is scanned into."""

from __future__ import annotations

import typer
from rich.table import Table

from raksha.cli.context import app_context, console, emit_json
from raksha.store.scan_repo import create_case, list_cases

app = typer.Typer(
    help="Cases: every scan belongs to one (FIR numbers, stations and more come later).",
    no_args_is_help=True,
)


@app.command("create")
def create_command(
    name: str = typer.Argument(
        ..., help="Case name, e.g. 'FIR 112/2026 Cyber PS'.", show_default=False
    ),
    description: str | None = typer.Option(None, "--description", help="Free text."),
    json_out: bool = typer.Option(False, "--json", help="Write JSON."),
) -> None:
    """Create a case."""
    case = create_case(app_context().store, name, description)
    if json_out:
        emit_json(case.as_dict())
    else:
        console.print(f"created case {case.name!r} (id {case.id})")


@app.command("list")
def list_command(json_out: bool = typer.Option(False, "--json", help="JSON lines.")) -> None:
    """List cases with how much evidence each holds."""
    cases = list_cases(app_context().store)
    if json_out:
        for c in cases:
            emit_json(c)
        return
    table = Table("name", "evidence", "created", "description")
    for c in cases:
        table.add_row(c["name"], str(c["evidence"]), c["created_at"][:16], c["description"] or "")
    console.print(table)
