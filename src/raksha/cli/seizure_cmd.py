"""``raksha seizure``, ``raksha custody``, ``raksha trace`` and ``raksha evidence link``.

Thin: each command parses its options, calls ``raksha.cases.seizures`` or
``raksha.cases.custody`` as the logged-in user, and prints what came back.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.markup import escape
from rich.table import Table

from raksha.cases.custody import add_event, show_custody
from raksha.cases.custody_rules import ACTIONS, DEFAULT_SILENCE_DAYS
from raksha.cases.devices import KINDS
from raksha.cases.reverify import MISMATCH, UNREADABLE, VERIFIED
from raksha.cases.seizures import (
    add_seizure,
    describe_device,
    link_evidence,
    list_seizures,
    seizure_for_case,
    show_seizure,
    trace,
)
from raksha.cli.context import app_context, console, emit_json
from raksha.errors import EvidenceIntegrityError, UsageError

logger = logging.getLogger(__name__)

DEFAULT_TZ = "Asia/Kolkata"

seizure_app = typer.Typer(
    help="Seized devices and media: register them, list them, show one with its evidence "
    "and chain of custody.",
    no_args_is_help=True,
)
custody_app = typer.Typer(
    help="Chain of custody: record each step of an exhibit (hashes re-verified) and show it.",
    no_args_is_help=True,
)

_TZ_HELP = "Time zone of an --at written without an offset."
_SILENCE_HELP = "Days between two events, out of the store, that count as a silence."


def parse_time(text: str | None, tz: str) -> datetime | None:
    """An ISO 8601 time; one written without an offset is in ``tz``."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(
            f"{text!r} is not an ISO 8601 time; write it like 2026-03-01T06:30 or "
            "2026-03-01T06:30+05:30"
        ) from exc
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=ZoneInfo(tz))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise UsageError(f"unknown time zone {tz!r}; use a name like Asia/Kolkata") from exc
    return moment


def _when(iso: str | None) -> str:
    """Times are stored and shown in UTC, so two officers' notes compare."""
    if iso is None:
        return "-"
    return iso[:16].replace("T", " ") + " UTC"


# -- seizure ---------------------------------------------------------------------------------


@seizure_app.command("add")
def seizure_add_command(
    case: str = typer.Option(
        ..., "--case", "-c", help="The case it was seized in.", show_default=False
    ),
    kind: str = typer.Option(
        ...,
        "--kind",
        help=f"One of: {', '.join(KINDS)} (aliases: modem, hdd, sd, pendrive…).",
        show_default=False,
    ),
    seal: str = typer.Option(
        ..., "--seal", help="The label on its seal (unique).", show_default=False
    ),
    make: str | None = typer.Option(None, "--make", help="Maker, e.g. Samsung."),
    model: str | None = typer.Option(None, "--model", help="Model, e.g. SM-A125F."),
    serial: str | None = typer.Option(None, "--serial", help="Serial number."),
    imei: list[str] | None = typer.Option(
        None, "--imei", help="IMEI (15 digits, Luhn-checked); twice for a dual-SIM phone."
    ),
    seized_from: str | None = typer.Option(
        None, "--from", help="Name of the person it was taken from."
    ),
    person: int | None = typer.Option(
        None, "--person", help="That person's id (`raksha person show`)."
    ),
    place: str | None = typer.Option(None, "--place", help="Where it was seized (address)."),
    district: str | None = typer.Option(None, "--district", help="District of that place."),
    at: str | None = typer.Option(None, "--at", help="When (ISO 8601; default now)."),
    by: str | None = typer.Option(None, "--by", help="The seizing officer (default: you)."),
    target: int | None = typer.Option(
        None, "--target", help="The raid target id it was seized at."
    ),
    notes: str | None = typer.Option(None, "--notes", help="Free text (condition, packing)."),
    tz: str = typer.Option(DEFAULT_TZ, "--tz", help=_TZ_HELP),
    seized_event: bool = typer.Option(
        True,
        "--seized-event/--no-seized-event",
        help="Record the first custody event 'seized' (off: enter the chain by hand from "
        "the paper record, starting with `raksha custody add SEAL seized`).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Write JSON."),
) -> None:
    """Register a seized device or medium and record its first custody event, "seized"."""
    ctx = app_context()
    seizure = add_seizure(
        ctx.store,
        ctx.actor,
        case,
        kind,
        seal,
        make=make,
        model=model,
        serial=serial,
        imei=imei or None,
        seized_from=seized_from,
        seized_from_person_id=person,
        place=place,
        district=district,
        seized_at=parse_time(at, tz),
        seized_by=by,
        raid_target_id=target,
        notes=notes,
        seized_event=seized_event,
    )
    if json_out:
        emit_json(seizure)
        return
    console.print(
        f"registered seizure {seizure['id']}: {escape(describe_device(seizure))}", highlight=False
    )
    console.print(f"  {escape(_taken(seizure))}", highlight=False)
    if seized_event:
        console.print("  custody: 'seized' recorded as its first event")


def _taken(s: dict[str, Any]) -> str:
    who = s["seized_from"] or s.get("person_label") or "-"
    if s["seized_from_person_id"] is not None:
        who += f" (person {s['seized_from_person_id']})"
    where = ", ".join(p for p in (s["place"], s["district"]) if p) or "-"
    return f"seized from {who} at {where} on {_when(s['seized_at'])} by {s['seized_by'] or '-'}"


@seizure_app.command("list")
def seizure_list_command(
    case: str | None = typer.Option(None, "--case", "-c", help="Only this case."),
    operation: str | None = typer.Option(
        None, "--operation", help="Only this operation (name or id)."
    ),
    json_out: bool = typer.Option(False, "--json", help="JSON lines, one seizure a line."),
) -> None:
    """List seizures: seal, device, from whom, where, when, evidence and last custody event."""
    ctx = app_context()
    rows = list_seizures(ctx.store, ctx.actor, case=case, operation=operation)
    if json_out:
        for row in rows:
            emit_json(row)
        return
    if not rows:
        console.print("no seizures")
        return
    table = Table("seal", "device", "from", "district", "seized", "evidence", "custody")
    for r in rows:
        device = " ".join(p for p in (r["kind"], r["make"], r["model"]) if p)
        table.add_row(
            escape(r["seal_label"]),
            escape(device),
            escape(r["seized_from"] or r["person_label"] or "-"),
            escape(r["district"] or "-"),
            (r["seized_at"] or "-")[:10],
            str(r["evidence"]),
            escape(r["last_event"] or "-"),
        )
    console.print(table)


@seizure_app.command("show")
def seizure_show_command(
    seal: str = typer.Argument(..., help="Seal label (or id).", show_default=False),
    silence_days: int = typer.Option(
        DEFAULT_SILENCE_DAYS, "--silence-days", min=1, help=_SILENCE_HELP
    ),
    json_out: bool = typer.Option(False, "--json", help="Write JSON."),
) -> None:
    """One seizure: its fields, the evidence made from it with hits, its custody timeline."""
    ctx = app_context()
    s = show_seizure(ctx.store, ctx.actor, seal, silence_days=silence_days)
    if json_out:
        emit_json(s)
        return
    console.print(f"[bold]seizure {s['id']}[/]: {escape(s['device'])}", highlight=False)
    console.print(f"  {escape(_taken(s))}", highlight=False)
    if s["case"] is not None:
        console.print(f"  case {escape(s['case']['name'])}", highlight=False)
    target = s["raid_target"]
    if target is not None:
        console.print(
            f"  raid target {target['id']} {escape(target['label'])} of operation "
            f"{escape(target['operation']['name'])}",
            highlight=False,
        )
    if s["notes"]:
        console.print(f"  notes: {escape(s['notes'])}", highlight=False)
    if not s["evidence"]:
        console.print("  no evidence linked yet (`raksha scan IMAGE --seizure SEAL`)")
    for ev in s["evidence"]:
        hits = f"[bold red]{ev['hits']} hits[/]" if ev["hits"] else "no hits"
        console.print(
            f"  evidence {ev['id']} {escape(ev['source_path'])} ({ev['kind']}): "
            f"{ev['items']:,} items, {hits}",
            highlight=False,
        )
    _print_timeline(s["custody"], s["chain"])


def _print_timeline(events: list[dict[str, Any]], chain: dict[str, Any]) -> None:
    console.print("  custody:")
    for e in events:
        to = f" to {e['to_whom']}" if e["to_whom"] else ""
        where = f" at {e['location']}" if e["location"] else ""
        console.print(
            f"    {e['position']}. {_when(e['at'])} {e['action']} by {escape(e['by_whom'])}"
            f"{escape(to)}{escape(where)}",
            highlight=False,
        )
        counts: dict[str, int] = {}
        for v in e["verification"]:
            counts[v["result"]] = counts.get(v["result"], 0) + 1
        if counts:
            console.print(
                "       hashes: " + ", ".join(f"{n} {r}" for r, n in sorted(counts.items())),
                highlight=False,
            )
        for flag in e["flags"]:
            console.print(f"       [bold red]FLAG[/] [red]{escape(flag)}[/]", highlight=False)
    if chain["status"] == "ok":
        console.print(f"  chain: [green]ok[/] ({chain['events']} events)")
    else:
        console.print(
            f"  chain: [bold red]flagged[/] ({len(chain['reasons'])} flags over "
            f"{chain['events']} events)"
        )


# -- custody ---------------------------------------------------------------------------------


@custody_app.command("add")
def custody_add_command(
    seal: str = typer.Argument(..., help="Seal label (or id) of the exhibit.", show_default=False),
    action: str = typer.Argument(..., help=f"One of: {', '.join(ACTIONS)}.", show_default=False),
    by: str = typer.Option(..., "--by", help="Who did this step.", show_default=False),
    to: str | None = typer.Option(
        None, "--to", help="Who it was handed to (needed for transferred)."
    ),
    at: str | None = typer.Option(None, "--at", help="When (ISO 8601; default now)."),
    where: str | None = typer.Option(None, "--where", help="Where (police station, lab, court)."),
    notes: str | None = typer.Option(None, "--notes", help="Free text (seal intact, docket no.)."),
    tz: str = typer.Option(DEFAULT_TZ, "--tz", help=_TZ_HELP),
    silence_days: int = typer.Option(
        DEFAULT_SILENCE_DAYS, "--silence-days", min=1, help=_SILENCE_HELP
    ),
    json_out: bool = typer.Option(False, "--json", help="Write JSON."),
) -> None:
    """Record one custody step; every image made from the exhibit is re-verified first.

    A hash that no longer matches is recorded and flagged, and the command exits with 10.
    """
    ctx = app_context()
    event = add_event(
        ctx.store,
        ctx.actor,
        seal,
        action,
        by_whom=by,
        at=parse_time(at, tz),
        to_whom=to,
        location=where,
        notes=notes,
        silence_days=silence_days,
    )
    if json_out:
        emit_json(event)
    else:
        _print_event(event)
    bad = [v for v in event["verification"] if v["result"] in (MISMATCH, UNREADABLE)]
    if bad:
        which = ", ".join(f"evidence {v['evidence_id']} {v['result']}" for v in bad)
        raise EvidenceIntegrityError(
            f"custody event {event['position']} of {event['seal_label']!r} is recorded, but "
            f"re-verification failed ({which}): treat these images as unverified and find out "
            "what changed them before they are relied on"
        )


def _print_event(event: dict[str, Any]) -> None:
    to = f" to {event['to_whom']}" if event["to_whom"] else ""
    console.print(
        f"recorded event {event['position']} of {escape(event['seal_label'])}: {event['action']} "
        f"at {_when(event['at'])} by {escape(event['by_whom'])}{escape(to)}",
        highlight=False,
    )
    if not event["verification"]:
        console.print("  no evidence linked to this exhibit yet: nothing to re-verify")
    for v in event["verification"]:
        style = {VERIFIED: "green", MISMATCH: "bold red", UNREADABLE: "bold red"}.get(
            v["result"], "yellow"
        )
        parts = [v["method"]] if v["method"] != "none" else []
        how = "; ".join([*parts, *([v["detail"]] if v.get("detail") else [])])
        console.print(
            f"  evidence {v['evidence_id']} {escape(v['source_path'])}: "
            f"[{style}]{v['result']}[/] ({escape(how)})",
            highlight=False,
        )
    for flag in event["flags"]:
        console.print(f"  [bold red]FLAG[/] [red]{escape(flag)}[/]", highlight=False)


@custody_app.command("show")
def custody_show_command(
    seal: str = typer.Argument(..., help="Seal label (or id) of the exhibit.", show_default=False),
    silence_days: int = typer.Option(
        DEFAULT_SILENCE_DAYS, "--silence-days", min=1, help=_SILENCE_HELP
    ),
    json_out: bool = typer.Option(False, "--json", help="Write JSON."),
) -> None:
    """An exhibit's chain of custody, with each event's re-verification and flags."""
    ctx = app_context()
    chain = show_custody(ctx.store, ctx.actor, seal, silence_days=silence_days)
    if json_out:
        emit_json(chain)
        return
    console.print(f"[bold]{escape(chain['seal_label'])}[/]", highlight=False)
    _print_timeline(chain["events"], chain["chain"])


# -- trace and evidence link -----------------------------------------------------------------


def trace_command(
    item_id: int = typer.Argument(
        ..., help="Item id (from `raksha hits --json`).", show_default=False
    ),
    json_out: bool = typer.Option(False, "--json", help="Write JSON."),
) -> None:
    """Trace a found file back: evidence, seized device, place, person, raid, case."""
    ctx = app_context()
    t = trace(ctx.store, ctx.actor, item_id)
    if json_out:
        emit_json(t)
        return
    item, ev, s = t["item"], t["evidence"], t["seizure"]
    console.print(f"[bold]item {item['id']}[/] {escape(item['locator'])}", highlight=False)
    console.print(f"  sha256 {item['sha256'] or '-'}", highlight=False)
    for m in t["matches"]:
        console.print(
            f"  matched {escape(m['set_name'])} ({m['set_kind']}) category {m['category'] or '-'}"
            f" by {m['match_kind']} {m['algorithm']} d={m['distance']}",
            highlight=False,
        )
    console.print(
        f"  in evidence {ev['id']} {escape(ev['source_path'])} ({ev['kind']})", highlight=False
    )
    if s is None:
        console.print(
            "  [yellow]not linked to a seizure[/]: `raksha evidence link "
            f"{ev['id']} --seizure SEAL` records which device it was made from"
        )
    else:
        who = s["seized_from"]["name"] or "-"
        if s["seized_from"]["person_id"] is not None:
            who += f" (person {s['seized_from']['person_id']})"
        where = ", ".join(p for p in (s["place"], s["district"]) if p) or "-"
        console.print(f"  made from {escape(s['device'])}", highlight=False)
        console.print(
            f"  seized from {escape(who)} at {escape(where)} on {_when(s['seized_at'])} by "
            f"{escape(s['seized_by'] or '-')}",
            highlight=False,
        )
    target = t["raid_target"]
    if target is not None:
        console.print(
            f"  raid target {target['id']} {escape(target['label'])}, operation "
            f"{escape(target['operation']['name'])}",
            highlight=False,
        )
    if t["case"] is not None:
        console.print(f"  case {escape(t['case']['name'])}", highlight=False)


def evidence_link_command(
    evidence_id: int = typer.Argument(
        ..., help="Evidence id (`raksha evidence show`).", show_default=False
    ),
    seizure: str = typer.Option(
        ..., "--seizure", help="Seal label (or id) of the device.", show_default=False
    ),
    json_out: bool = typer.Option(False, "--json", help="Write JSON."),
) -> None:
    """Record that scanned evidence was made from a seized device."""
    ctx = app_context()
    result = link_evidence(ctx.store, ctx.actor, seizure, evidence_id)
    if json_out:
        emit_json(result)
        return
    verb = "linked" if result["linked"] else "already linked"
    console.print(
        f"evidence {result['evidence_id']} {verb} to seizure {escape(result['seal_label'])}",
        highlight=False,
    )


# -- the link ``raksha scan --seizure`` makes ------------------------------------------------


def seizure_to_link(seal: str | None, case: str) -> int | None:
    """The id of the seizure a scan's evidence will be linked to, checked before the scan
    starts (a wrong seal should not cost an hour of hashing)."""
    if seal is None:
        return None
    ctx = app_context()
    return int(seizure_for_case(ctx.store, ctx.actor, seal, case)["id"])


def link_scanned(seizure_id: int | None, evidence_id: int, json_out: bool) -> None:
    """Link what a scan ingested to its seized device; no custody event is added."""
    if seizure_id is None:
        return
    ctx = app_context()
    result = link_evidence(ctx.store, ctx.actor, seizure_id, evidence_id)
    if json_out:
        emit_json({"event": "seizure link", **result})
    else:
        verb = "linked" if result["linked"] else "already linked"
        console.print(
            f"evidence {evidence_id} {verb} to seizure {escape(result['seal_label'])}",
            highlight=False,
        )
