"""``raksha tip add|list|status``: public tips taken by phone or at the counter."""

from __future__ import annotations

import typer
from rich.markup import escape

from raksha.cli.context import app_context, console, emit_json
from raksha.services.tips import TIP_KINDS, TIP_STATUSES, add_tip, list_tips, set_tip_status

app = typer.Typer(
    help="Public tips: links, invite links, numbers, usernames.", no_args_is_help=True
)


@app.command("add")
def add_command(
    lead: str | None = typer.Argument(
        None,
        help="What was reported: a URL, a group invite link, a phone number or a username.",
        show_default=False,
    ),
    text: str | None = typer.Option(None, "--text", "-t", help="What the reporter said."),
    kind: str | None = typer.Option(
        None, "--kind", help=f"Force the kind of lead: {', '.join(TIP_KINDS)}."
    ),
    json_out: bool = typer.Option(False, "--json", help="The stored tip as JSON."),
) -> None:
    """Record a tip (never media) and print its follow-up number for the reporter."""
    tip = add_tip(app_context().store, lead, text, kind=kind)
    if json_out:
        emit_json(tip.as_dict())
        return
    console.print(f"tip recorded: follow-up number [bold]{tip.follow_up}[/] ({tip.kind})")


@app.command("list")
def list_command(
    status: str | None = typer.Option(
        None, "--status", help=f"Only tips with this status: {', '.join(TIP_STATUSES)}."
    ),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per tip."),
) -> None:
    """Tips, oldest first, with their status."""
    tips = list_tips(app_context().store, status)
    for tip in tips:
        if json_out:
            emit_json(tip.as_dict())
            continue
        console.print(
            f"{tip.follow_up} {tip.received_at.isoformat()[:16]} {tip.status:9} {tip.kind}: "
            f"{escape(tip.value or '')} {escape(tip.text or '')}",
            highlight=False,
        )
    if not tips and not json_out:
        console.print("no tips")


@app.command("status")
def status_command(
    follow_up: str = typer.Argument(..., help="The tip's follow-up number.", show_default=False),
    status: str = typer.Argument(
        ..., help=f"New status: {', '.join(TIP_STATUSES)}.", show_default=False
    ),
    note: str | None = typer.Option(None, "--note", help="Why (kept with the tip)."),
) -> None:
    """Move a tip along: triaged, forwarded, linked to a case, closed."""
    set_tip_status(app_context().store, follow_up, status, note)
    console.print(f"{follow_up.upper()}: {status}")
