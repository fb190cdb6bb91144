"""``raksha groups``, ``raksha accounts`` and ``raksha sightings``: the chat context."""

from __future__ import annotations

import logging
from typing import Any

import typer
from rich.markup import escape

from raksha.cli.context import app_context, console, emit_json
from raksha.cli.wording import describe_match
from raksha.services.ingest import IngestResult
from raksha.store.chat_repo import (
    find_account,
    find_chat,
    iter_sightings,
    list_accounts,
    list_chats,
)

logger = logging.getLogger(__name__)


def sighting_line(s: dict[str, Any]) -> str:
    """One sighting for people: when, where, who, what matched."""
    who = s["display_name"] or s["account"] or "unknown sender"
    if s["account"] and s["display_name"] and s["account"] != s["display_name"]:
        who = f"{s['display_name']} ({s['account']})"
    how = describe_match(s)
    forwarded = f", forwarded from {s['forwarded_from']}" if s["forwarded_from"] else ""
    when = (s["sent_at"] or "time unknown")[:19].replace("T", " ")
    return (
        f"{when} UTC  {s['platform']} {s['chat_kind']} {s['chat']!r}  by {who}{forwarded}: "
        f"{s['locator']} matched {s['set_name']} cat {s['category'] or '-'} by {how}"
    )


def print_ingest(result: IngestResult, json_out: bool) -> None:
    c = result.counts
    if json_out:
        emit_json(
            {
                "event": "chats",
                "kind": result.kind,
                "counts": c.as_dict(),
                "problems": [{"where": w, "reason": r} for w, r in result.problems],
                "new_sightings": result.new_sightings,
            }
        )
        return
    console.print(
        f"  {result.kind} export: {c.chats} chats, {c.messages:,} messages ({c.new_messages:,} "
        f"new), {c.media:,} attachments ({c.media_missing:,} not in the export), "
        f"{c.accounts:,} new accounts",
        highlight=False,
    )
    if result.new_sightings:
        console.print(f"  [bold red]{len(result.new_sightings)} new sightings[/]:")
        for s in result.new_sightings[:50]:
            console.print("    " + escape(sighting_line(s)), highlight=False, soft_wrap=True)
    else:
        console.print("  no new sightings")
    for where, reason in result.problems[:20]:
        console.print(f"  [yellow]{escape(where)}[/]: {escape(reason)}", highlight=False)


def groups_command(
    json_out: bool = typer.Option(False, "--json", help="One JSON object per group."),
) -> None:
    """Every group, channel and chat ingested, with members, messages and known items."""
    chats = list_chats(app_context().store)
    for c in chats:
        if json_out:
            emit_json(c)
            continue
        size = c["member_count"] or c["subscriber_count"]
        console.print(
            f"#{c['id']} {c['platform']} {c['kind']} {escape(repr(c['title']))}: "
            f"{c['messages']:,} messages, {c['members_seen']:,} members seen"
            f"{f' of {size:,}' if size else ''}; [red]{c['sightings']:,} sightings of "
            f"{c['known_items']:,} known items[/]",
            highlight=False,
            soft_wrap=True,
        )
    if not chats and not json_out:
        console.print("no chats ingested yet: `raksha scan EXPORT --case NAME`")


def accounts_command(
    group: str | None = typer.Option(None, "--group", "-g", help="Only members of this group."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per account."),
) -> None:
    """Every account seen, most known items first: groups, messages, sightings."""
    store = app_context().store
    chat_id = find_chat(store, group) if group else None
    accounts = list_accounts(store, chat_id=chat_id)
    for a in accounts:
        if json_out:
            emit_json(a)
            continue
        name = f" {escape(repr(a['display_name']))}" if a["display_name"] else ""
        console.print(
            f"#{a['id']} {a['platform']} {a['id_kind']} {escape(a['external_id'])}{name}: "
            f"{a['groups']} groups, {a['messages']:,} messages, "
            f"[red]{a['sightings']:,} sightings of {a['known_items']:,} known items[/]",
            highlight=False,
            soft_wrap=True,
        )
    if not accounts and not json_out:
        console.print("no accounts seen yet")


def sightings_command(
    group: str | None = typer.Option(
        None, "--group", "-g", help="A group: its number, key or exact title."
    ),
    account: str | None = typer.Option(
        None, "--account", "-a", help="An account: its number, platform id or display name."
    ),
    json_out: bool = typer.Option(False, "--json", help="JSON lines, one sighting a line."),
) -> None:
    """Posts whose media matched a reference set: who posted it, where, when, how matched."""
    store = app_context().store
    chat_id = find_chat(store, group) if group else None
    account_id = find_account(store, account) if account else None
    count = 0
    for s in iter_sightings(store, chat_id=chat_id, account_id=account_id):
        count += 1
        if json_out:
            emit_json(s)
        else:
            console.print(escape(sighting_line(s)), highlight=False, soft_wrap=True)
    if count == 0 and not json_out:
        console.print("no sightings")
