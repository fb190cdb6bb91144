"""``raksha audit``: read the audit log (auditors) and check its hash chain.

``verify`` prints the head as ``SEQ:HASH``; write it down (or print it in a report) and
give it back later with ``--head``: that is what finds entries deleted from the end.
"""

from __future__ import annotations

import json
import re

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Connection, select

from raksha.cases import audit
from raksha.cases.access import require
from raksha.cli.context import app_context, console, emit_json
from raksha.errors import AuditChainError, NotFoundError, UsageError
from raksha.store.models import cases_table

app = typer.Typer(
    help="The append-only audit log: who did and read what, and whether it is intact.",
    no_args_is_help=True,
)

_HEAD = re.compile(r"^\d+:[0-9a-f]{64}$")


def _case_id(conn: Connection, name_or_id: str) -> int:
    """A case by name, or by id (an id is taken as given: its case may be gone)."""
    if name_or_id.isdigit():
        return int(name_or_id)
    found = conn.execute(select(cases_table.c.id).where(cases_table.c.name == name_or_id)).scalar()
    if found is None:
        raise NotFoundError(
            f"no case named {name_or_id!r}; give its name as `raksha case list` shows it, or its id"
        )
    return int(found)


@app.command("list")
def list_command(
    case: str | None = typer.Option(None, "--case", help="Only entries about this case."),
    user: str | None = typer.Option(None, "--user", help="Only entries by this user."),
    action: str | None = typer.Option(
        None, "--action", help="Only actions starting with this, e.g. 'login' or 'user.'."
    ),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many, newest first."),
    json_out: bool = typer.Option(False, "--json", help="JSON lines."),
) -> None:
    """List audit entries, newest first (auditors)."""
    ctx = app_context()
    require(ctx.actor, "audit.read")
    with ctx.store.engine.connect() as conn:
        case_id = None if case is None else _case_id(conn, case)
        found = audit.entries(conn, case_id=case_id, actor=user, action=action, limit=limit)
    if json_out:
        for entry in found:
            emit_json(entry)
        return
    table = Table("seq", "at (UTC)", "user", "role", "action", "case", "object", "details")
    for e in found:
        obj = f"{e['object_kind']} {e['object_id']}" if e["object_kind"] else ""
        details = json.dumps(e["details"], ensure_ascii=False, sort_keys=True)
        table.add_row(
            str(e["seq"]),
            str(e["at"])[:19].replace("T", " "),
            escape(e["actor"]),
            e["role"] or "",
            escape(e["action"]),
            "" if e["case_id"] is None else str(e["case_id"]),
            escape(obj),
            escape(details if len(details) <= 80 else details[:77] + "..."),
        )
    console.print(table)


@app.command("verify")
def verify_command(
    head: str | None = typer.Option(
        None,
        "--head",
        help="A head written down earlier (SEQ:HASH); it must still be in the log.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Write JSON."),
) -> None:
    """Walk the whole hash chain and report every edited, inserted or deleted entry.

    Exit code 13 when anything is wrong.
    """
    if head is not None and not _HEAD.match(head):
        raise UsageError(
            f"--head {head!r} is not SEQ:HASH (a number, a colon and 64 hex digits) as "
            "`raksha audit verify` prints it"
        )
    ctx = app_context()
    require(ctx.actor, "audit.verify")
    with ctx.store.engine.connect() as conn:
        report = audit.verify(conn, expected_head=head)
    if json_out:
        emit_json(report.as_dict())
    else:
        console.print(f"checked {report.entries:,} entries", highlight=False)
        console.print(
            f"head: {report.head_seq}:{report.head_hash} (write it down to check against later)",
            highlight=False,
        )
        for p in report.problems:
            console.print(
                f"  [bold red]entry {p['seq']}[/]: {p['problem']}: {escape(p['detail'])}",
                highlight=False,
            )
        if report.ok:
            console.print("the chain is intact", highlight=False)
    if not report.ok:
        raise AuditChainError(
            f"the audit log's hash chain is broken ({len(report.problems)} problems); keep "
            "this output and a copy of the database, and restore the log from a backup you "
            "can verify"
        )
