"""``raksha referral import`` and ``raksha referrals``: NCMEC and INTERPOL referrals."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from raksha.cli.context import app_context, console, emit_json
from raksha.errors import NotFoundError
from raksha.services.referrals import import_referrals, list_referrals

app = typer.Typer(
    help="Referrals: NCMEC CyberTipline reports, INTERPOL and other alerts.",
    no_args_is_help=True,
)


@app.command("import")
def import_command(
    path: Path = typer.Argument(
        ...,
        help="A CyberTipline report (JSON as law enforcement receives it, or the reporting "
        "XML), or an alert in Raksha's JSON or CSV form (docs/formats.md).",
        show_default=False,
    ),
    json_out: bool = typer.Option(False, "--json", help="The import's summary as JSON."),
) -> None:
    """Import referrals: files matched by hash, accounts linked to those seen in groups."""
    if not path.is_file():
        raise NotFoundError(f"{path} is not a file")
    ctx = app_context()
    outcome = import_referrals(ctx.store, ctx.index_dir, path)
    if json_out:
        emit_json(outcome.as_dict())
        return
    console.print(
        f"{escape(str(path))}: {outcome.added} referrals added ({outcome.already} imported "
        f"before); {outcome.files} files, [red]{outcome.files_known} matching reference "
        f"sets[/]; {outcome.accounts} accounts, {outcome.links} new links to accounts seen "
        "in groups",
        highlight=False,
        soft_wrap=True,
    )
    for where, reason in outcome.problems[:50]:
        console.print(f"  [yellow]{escape(where)}[/]: {escape(reason)}", highlight=False)


def referrals_command(
    json_out: bool = typer.Option(False, "--json", help="One JSON object per referral."),
) -> None:
    """Every referral: source and number, accounts, files and how many are known, links."""
    referrals = list_referrals(app_context().store)
    for r in referrals:
        if json_out:
            emit_json(r)
            continue
        links = ", ".join(
            f"{link['platform']} {link['external_id']} (by {link['basis']})"
            for link in r["linked_accounts"]
        )
        console.print(
            f"#{r['id']} {r['source']} {escape(r['external_id'])} "
            f"{(r['received_at'] or '')[:10]} {escape(r['reporting_party'] or '')}: "
            f"{r['accounts']} accounts, {r['files']} files ([red]{r['files_known']} known[/]), "
            f"{r['ip_captures']} IP captures; linked: {escape(links) or 'none yet'}",
            highlight=False,
            soft_wrap=True,
        )
    if not referrals and not json_out:
        console.print("no referrals: `raksha referral import FILE`")
