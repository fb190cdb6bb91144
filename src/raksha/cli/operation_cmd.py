"""``raksha operation``: plan a drive of simultaneous raids, follow each target live, and
read the board with its totals per district and for the whole operation.

Thin: each command parses its options, calls ``raksha.cases.operations`` as the
logged-in user, and prints what came back; ``--json`` writes it for programs instead.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from raksha.cases import operations
from raksha.cli.context import app_context, console, emit_json
from raksha.cli.seizure_cmd import DEFAULT_TZ, parse_time
from raksha.errors import UsageError

logger = logging.getLogger(__name__)

app = typer.Typer(
    help="Operations: a named drive of raids at many places, each target's live status and "
    "outcome, and the totals per district.",
    no_args_is_help=True,
)
target_app = typer.Typer(help="The places of an operation.", no_args_is_help=True)
app.add_typer(target_app, name="target")

_JSON = "Write JSON."
_TZ_HELP = "Time zone of a time written without an offset."
_STATUSES = ", ".join(f"'{s}'" for s in operations.TARGET_STATUSES)
#: The board's columns: label, then each counter of a district's totals.
_TOTAL_COLUMNS = (
    "places",
    "done",
    "not found",
    "in prog.",
    "planned",
    "arrests",
    "cases",
    "seized",
)


def _say(text: str) -> None:
    console.print(text, highlight=False)


def _when(iso: str | None) -> str:
    """Times are stored and shown in UTC, so every district's board reads the same."""
    return "-" if iso is None else iso[:16].replace("T", " ") + " UTC"


def _required_time(text: str, tz: str, option: str) -> datetime:
    moment = parse_time(text, tz)
    if moment is None:  # pragma: no cover - Typer requires the option
        raise UsageError(f"{option} is required")
    return moment


def _counts(totals: dict[str, int]) -> list[str]:
    keys = ("places", "done", "not found", "in progress", "planned", "arrests")
    return [
        *(str(totals[k]) for k in keys),
        str(totals["cases_registered"]),
        str(totals["items_seized"]),
    ]


@app.command("create")
def create_command(
    name: str = typer.Argument(..., help="e.g. 'Op Nirbhay'.", show_default=False),
    start: str = typer.Option(
        ..., "--start", help="When it starts (ISO 8601, e.g. 2026-03-01T05:00).", show_default=False
    ),
    description: str | None = typer.Option(None, "--description", help="Free text."),
    tz: str = typer.Option(DEFAULT_TZ, "--tz", help=_TZ_HELP),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Plan an operation (supervisors)."""
    ctx = app_context()
    op = operations.create_operation(
        ctx.store, ctx.actor, name, _required_time(start, tz, "--start"), description=description
    )
    if json_out:
        emit_json(op)
        return
    _say(
        f"created operation {escape(repr(op['name']))} (id {op['id']}), "
        f"starts {_when(op['starts_at'])}"
    )


@app.command("list")
def list_command(
    json_out: bool = typer.Option(False, "--json", help="JSON lines, one operation a line."),
) -> None:
    """Operations, newest first, each with its one-line summary."""
    ctx = app_context()
    ops = operations.list_operations(ctx.store, ctx.actor)
    if json_out:
        for op in ops:
            emit_json(op)
        return
    table = Table("id", "name", "starts", "summary")
    for op in ops:
        table.add_row(str(op["id"]), escape(op["name"]), _when(op["starts_at"]), op["summary"])
    console.print(table)


@app.command("show")
def show_command(
    operation: str = typer.Argument(..., help="Operation name or id.", show_default=False),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """The board: every target by district with its status, totals per district and overall."""
    ctx = app_context()
    board = operations.operation_board(ctx.store, ctx.actor, operation)
    if json_out:
        emit_json(board)
        return
    _say(f"[bold]{escape(board['name'])}[/] (id {board['id']}), starts {_when(board['starts_at'])}")
    if board["description"]:
        _say(f"  {escape(board['description'])}")
    for d in board["districts"]:
        console.print(_district_table(d))
    totals = Table("district", *_TOTAL_COLUMNS, title="totals", title_justify="left")
    for d in board["districts"]:
        totals.add_row(escape(d["district"]), *_counts(d["totals"]))
    totals.add_row("[bold]total[/]", *_counts(board["totals"]))
    console.print(totals)
    _say(f"[bold]{board['summary']}[/]")


def _district_table(district: dict[str, Any]) -> Table:
    """One district's targets: the place and its station, the team lead, the live status
    and since when, and what the raid produced."""
    places = district["totals"]["places"]
    title = f"{escape(district['district'])}: {places} place{'' if places == 1 else 's'}"
    table = Table(title=title, title_justify="left")
    table.add_column("id")
    table.add_column("target (station)")
    table.add_column("lead")
    table.add_column("status", no_wrap=True)
    table.add_column("since (UTC)", no_wrap=True)
    for name in ("arrests", "cases", "seized"):
        table.add_column(name, justify="right")
    for t in district["targets"]:
        station = f"\n({escape(t['police_station'])})" if t["police_station"] else ""
        table.add_row(
            str(t["id"]),
            escape(t["label"]) + station,
            escape(t["team_lead"] or "-"),
            _status_style(t["status"]),
            (t["status_at"] or "-")[5:16].replace("T", " "),
            str(t["arrests"]),
            str(t["cases_registered"]),
            str(t["items_seized"]),
        )
    return table


def _status_style(status: str) -> str:
    style = {"done": "green", "not found": "yellow", "in progress": "cyan"}.get(status)
    return f"[{style}]{status}[/]" if style else status


@target_app.command("add")
def target_add_command(
    operation: str = typer.Argument(..., help="Operation name or id.", show_default=False),
    label: str = typer.Option(
        ..., "--label", help="Which place, e.g. 'House 4, Ward 7'.", show_default=False
    ),
    district: str = typer.Option(..., "--district", help="Its district.", show_default=False),
    address: str | None = typer.Option(None, "--address", help="Full address."),
    station: str | None = typer.Option(None, "--station", help="Police station of the area."),
    person: int | None = typer.Option(None, "--person", help="Person id expected there."),
    lead: str | None = typer.Option(None, "--lead", help="The team lead."),
    team: list[str] | None = typer.Option(None, "--team", help="A team member (repeat for more)."),
    at: str | None = typer.Option(
        None, "--at", help="Planned time (default: the operation's start)."
    ),
    tz: str = typer.Option(DEFAULT_TZ, "--tz", help=_TZ_HELP),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Add a place to raid (supervisors); it starts 'planned'."""
    ctx = app_context()
    t = operations.add_target(
        ctx.store,
        ctx.actor,
        operation,
        label=label,
        district=district,
        address=address,
        police_station=station,
        person_id=person,
        team_lead=lead,
        team=team or (),
        planned_at=parse_time(at, tz),
    )
    if json_out:
        emit_json(t)
        return
    _say(
        f"added target {t['id']} {escape(t['label'])} ({escape(t['district'])}), "
        f"planned {_when(t['planned_at'])}"
    )


@target_app.command("status")
def target_status_command(
    target_id: int = typer.Argument(..., help="Target id (`operation show`).", show_default=False),
    status: str = typer.Argument(..., help=f"One of {_STATUSES}.", show_default=False),
    at: str | None = typer.Option(None, "--at", help="When it happened (default now)."),
    reason: str | None = typer.Option(
        None, "--reason", help="Why (needed to change 'done' or 'not found')."
    ),
    tz: str = typer.Option(DEFAULT_TZ, "--tz", help=_TZ_HELP),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Report a target's live status."""
    ctx = app_context()
    t = operations.set_target_status(
        ctx.store, ctx.actor, target_id, status, at=parse_time(at, tz), reason=reason
    )
    if json_out:
        emit_json(t)
        return
    _say(f"target {t['id']} {escape(t['label'])}: {t['status']} at {_when(t['status_at'])}")


@target_app.command("outcome")
def target_outcome_command(
    target_id: int = typer.Argument(..., help="Target id.", show_default=False),
    arrests: int = typer.Option(
        ..., "--arrests", min=0, help="People arrested there (the total).", show_default=False
    ),
    case: list[str] | None = typer.Option(
        None, "--case", help="A case registered there: name, FIR number or id (repeat for more)."
    ),
    notes: str | None = typer.Option(None, "--notes", help="What happened, briefly."),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Record what a raid produced: arrests, cases registered, notes."""
    ctx = app_context()
    t = operations.record_outcome(
        ctx.store, ctx.actor, target_id, arrests=arrests, cases=case or (), notes=notes
    )
    if json_out:
        emit_json(t)
        return
    _say(
        f"target {t['id']} {escape(t['label'])}: {t['arrests']} arrested, "
        f"{t['cases_registered']} case(s) registered, {t['items_seized']} item(s) seized"
    )
