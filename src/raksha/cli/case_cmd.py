"""``raksha case``: the case record — FIR, station, district, sections, status, accused,
linked referrals and tips, who is assigned — and the list of legal sections.

Thin: each command parses its options, calls ``raksha.cases.records`` (or
``raksha.cases.sections``) as the logged-in user, and prints what came back; ``--json``
writes it for programs instead.
"""

from __future__ import annotations

import logging
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from raksha.cases import records, sections
from raksha.cli.context import app_context, console, emit_json

logger = logging.getLogger(__name__)

app = typer.Typer(
    help="Cases: the FIR, station, district, sections and status; accused, linked referrals "
    "and tips; who is assigned. Every scan belongs to one.",
    no_args_is_help=True,
)
accused_app = typer.Typer(help="The people accused in a case.", no_args_is_help=True)
sections_app = typer.Typer(
    help="The legal sections cases may be registered under.", no_args_is_help=True
)
app.add_typer(accused_app, name="accused")
app.add_typer(sections_app, name="sections")

_CASE_HELP = "The case: its name, FIR number or id."
_JSON = "Write JSON."
_STATUSES = ", ".join(f"'{s}'" for s in records.CASE_STATUSES)


def _case_arg() -> Any:
    return typer.Argument(..., help=_CASE_HELP, show_default=False)


def _say(text: str) -> None:
    console.print(text, highlight=False)


def _line(case: dict[str, Any]) -> str:
    parts = [
        f"FIR {case['fir_number']}" if case["fir_number"] else None,
        case["police_station"],
        case["district"],
    ]
    return ", ".join(p for p in parts if p) or "no FIR yet"


@app.command("create")
def create_command(
    name: str = typer.Argument(
        ..., help="Case name, e.g. 'FIR 112/2026 Cyber PS'.", show_default=False
    ),
    fir: str | None = typer.Option(None, "--fir", help="FIR number, e.g. 112/2026."),
    station: str | None = typer.Option(None, "--station", help="Police station of the FIR."),
    district: str | None = typer.Option(None, "--district", help="District."),
    section: list[str] | None = typer.Option(
        None, "--section", help="A legal section code (repeat for more); see `case sections list`."
    ),
    description: str | None = typer.Option(None, "--description", help="Free text."),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Create a case; you are assigned to it. It starts 'under observation'."""
    ctx = app_context()
    case = records.create_case(
        ctx.store,
        ctx.actor,
        name,
        fir_number=fir,
        police_station=station,
        district=district,
        sections=section or (),
        description=description,
    )
    if json_out:
        emit_json(case)
        return
    _say(f"created case {escape(repr(case['name']))} (id {case['id']}): {escape(_line(case))}")


@app.command("list")
def list_command(
    status: str | None = typer.Option(None, "--status", help=f"Only this status ({_STATUSES})."),
    json_out: bool = typer.Option(False, "--json", help="JSON lines, one case a line."),
) -> None:
    """List the cases you may see, with their status and how much each holds."""
    ctx = app_context()
    cases = records.list_cases(ctx.store, ctx.actor, status=status)
    if json_out:
        for c in cases:
            emit_json(c)
        return
    table = Table("id", "name", "FIR", "district", "status", "evidence", "accused", "created")
    for c in cases:
        table.add_row(
            str(c["id"]),
            escape(c["name"]),
            escape(c["fir_number"] or "-"),
            escape(c["district"] or "-"),
            c["status"],
            str(c["evidence"]),
            str(c["accused"]),
            (c["created_at"] or "")[:10],
        )
    console.print(table)


@app.command("show")
def show_command(
    case: str = _case_arg(),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Everything about a case: its record, accused, evidence, links, members, seizures."""
    ctx = app_context()
    c = records.show_case(ctx.store, ctx.actor, case)
    if json_out:
        emit_json(c)
        return
    _say(f"[bold]{escape(c['name'])}[/] (id {c['id']}) — {c['status']}")
    _say(f"  {escape(_line(c))}")
    for code in c["sections"]:
        _say(f"  section {escape(code)}: {escape(c['section_titles'].get(code) or '')}")
    if c["description"]:
        _say(f"  {escape(c['description'])}")
    _say(f"  created by {escape(c['created_by'] or '-')} on {(c['created_at'] or '')[:10]}")
    for a in c["accused"]:
        ids = (
            ", ".join(f"{x['platform']} {x['identifier']}" for x in a["accounts"]) or "no accounts"
        )
        status = f" ({a['status']})" if a["status"] else ""
        _say(
            f"  accused: person {a['person_id']} {escape(a['label'] or '-')}{status}: {escape(ids)}"
        )
    for e in c["evidence"]:
        hits = f"[bold red]{e['hits']} hits[/]" if e["hits"] else "no hits"
        _say(f"  evidence {e['id']} {escape(e['source_path'])}: {e['items']:,} items, {hits}")
    for r in c["referrals"]:
        _say(f"  referral {r['id']} {escape(r['source'])} {escape(r['external_id'])}")
    for t in c["tips"]:
        _say(f"  tip {escape(t['follow_up'])} ({t['kind']}, {t['status']})")
    members = ", ".join(f"{m['username']} ({m['role']})" for m in c["members"]) or "nobody"
    _say(f"  assigned: {escape(members)}")
    _say(f"  seizures: {c['seizures']}")


@app.command("update")
def update_command(
    case: str = _case_arg(),
    name: str | None = typer.Option(None, "--name", help="A new name."),
    fir: str | None = typer.Option(None, "--fir", help="FIR number ('' clears it)."),
    station: str | None = typer.Option(None, "--station", help="Police station."),
    district: str | None = typer.Option(None, "--district", help="District."),
    section: list[str] | None = typer.Option(
        None, "--section", help="Replaces the sections (repeat for more)."
    ),
    description: str | None = typer.Option(None, "--description", help="Free text."),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Change a case's fields; the audit log keeps each old and new value."""
    ctx = app_context()
    c = records.update_case(
        ctx.store,
        ctx.actor,
        case,
        name=name,
        fir_number=fir,
        police_station=station,
        district=district,
        sections=section or None,
        description=description,
    )
    if json_out:
        emit_json(c)
        return
    _say(f"updated case {escape(repr(c['name']))}: {escape(_line(c))}")


@app.command("status")
def status_command(
    case: str = _case_arg(),
    new_status: str = typer.Argument(..., help=f"One of {_STATUSES}.", show_default=False),
    reason: str | None = typer.Option(
        None, "--reason", help="Why (needed to move the case back to an earlier status)."
    ),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Move a case to a new status; going back needs --reason."""
    ctx = app_context()
    c = records.set_status(ctx.store, ctx.actor, case, new_status, reason=reason)
    if json_out:
        emit_json(c)
        return
    _say(f"case {escape(repr(c['name']))}: {c['previous_status']} -> {c['status']}")


@accused_app.command("add")
def accused_add_command(
    case: str = _case_arg(),
    person_id: int = typer.Argument(..., help="Person id (`raksha suspects`).", show_default=False),
    status: str | None = typer.Option(None, "--status", help="e.g. arrested, absconding."),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Name a person as accused in the case."""
    ctx = app_context()
    out = records.add_accused(ctx.store, ctx.actor, case, person_id, status=status)
    if json_out:
        emit_json(out)
        return
    _say(f"person {person_id} ({escape(out['label'] or '-')}) is accused in case {out['case_id']}")


@accused_app.command("remove")
def accused_remove_command(
    case: str = _case_arg(),
    person_id: int = typer.Argument(..., help="Person id.", show_default=False),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Take a person off the case's accused."""
    ctx = app_context()
    out = records.remove_accused(ctx.store, ctx.actor, case, person_id)
    if json_out:
        emit_json(out)
        return
    _say(f"person {person_id} is no longer accused in case {out['case_id']}")


_REFERRAL = typer.Option(None, "--referral", help="Referral id or report number.")
_TIP = typer.Option(None, "--tip", help="Tip follow-up number.")


@app.command("link")
def link_command(
    case: str = _case_arg(),
    referral: str | None = _REFERRAL,
    tip: str | None = _TIP,
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Link a referral or a tip the case follows up (the tip's status becomes 'linked')."""
    ctx = app_context()
    out = records.link(ctx.store, ctx.actor, case, referral=referral, tip=tip)
    if json_out:
        emit_json(out)
        return
    _say(f"linked {out['kind']} {out['target_id']} to case {out['case_id']}")


@app.command("unlink")
def unlink_command(
    case: str = _case_arg(),
    referral: str | None = _REFERRAL,
    tip: str | None = _TIP,
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Remove a link; a tip no case links any more goes back to 'triaged'."""
    ctx = app_context()
    out = records.unlink(ctx.store, ctx.actor, case, referral=referral, tip=tip)
    if json_out:
        emit_json(out)
        return
    _say(f"unlinked {out['kind']} {out['target_id']} from case {out['case_id']}")


@app.command("assign")
def assign_command(
    case: str = _case_arg(),
    username: str = typer.Argument(..., help="The user to assign.", show_default=False),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Assign a user to the case, so they may see and work it (supervisors)."""
    ctx = app_context()
    out = records.assign(ctx.store, ctx.actor, case, username)
    if json_out:
        emit_json(out)
        return
    _say(f"assigned {escape(out['username'])} ({out['role']}) to case {out['case_id']}")


@app.command("unassign")
def unassign_command(
    case: str = _case_arg(),
    username: str = typer.Argument(..., help="The user to take off.", show_default=False),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Take a user off the case (supervisors)."""
    ctx = app_context()
    out = records.unassign(ctx.store, ctx.actor, case, username)
    if json_out:
        emit_json(out)
        return
    _say(f"{escape(out['username'])} is no longer assigned to case {out['case_id']}")


@sections_app.command("list")
def sections_list_command(
    active: bool = typer.Option(False, "--active", help="Only the sections new cases may use."),
    json_out: bool = typer.Option(False, "--json", help="JSON lines, one section a line."),
) -> None:
    """The legal sections, and which are active."""
    ctx = app_context()
    rows = sections.list_sections(ctx.store, ctx.actor, include_disabled=not active)
    if json_out:
        for r in rows:
            emit_json(r)
        return
    table = Table("code", "title", "active")
    for r in rows:
        table.add_row(escape(r["code"]), escape(r["title"]), "yes" if r["active"] else "no")
    console.print(table)


@sections_app.command("add")
def sections_add_command(
    code: str = typer.Argument(..., help="The code, e.g. 'BNS s.294'.", show_default=False),
    title: str | None = typer.Option(None, "--title", help="What it is (needed for a new code)."),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Add a section (or enable a disabled one again); supervisors and admins."""
    ctx = app_context()
    out = sections.add_section(ctx.store, ctx.actor, code, title)
    if json_out:
        emit_json(out)
        return
    _say(f"section {escape(out['code'])} is on the list: {escape(out['title'])}")


@sections_app.command("disable")
def sections_disable_command(
    code: str = typer.Argument(..., help="The code.", show_default=False),
    json_out: bool = typer.Option(False, "--json", help=_JSON),
) -> None:
    """Refuse a section on new cases (cases registered under it keep it)."""
    ctx = app_context()
    out = sections.disable_section(ctx.store, ctx.actor, code)
    if json_out:
        emit_json(out)
        return
    _say(f"section {escape(out['code'])} is disabled for new cases")
