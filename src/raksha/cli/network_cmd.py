"""``raksha suspects``, ``raksha person …`` and ``raksha network …``: the offender network."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import typer
from rich.markup import escape

from raksha.cli.context import app_context, console, emit_json
from raksha.errors import UsageError
from raksha.network import graph, identity
from raksha.network.communities import find_communities
from raksha.network.export import write_gexf, write_graphml, write_link_csv, write_maltego_csv
from raksha.network.ranking import Weights
from raksha.services.network import person_details, ranked_groups, suspects

person_app = typer.Typer(help="People: accounts resolved into identities.", no_args_is_help=True)
network_app = typer.Typer(
    help="The network graph: build, export, communities.", no_args_is_help=True
)

EXPORT_FORMATS = ("graphml", "gexf", "csv", "maltego")


def _weights(path: Path | None) -> Weights | None:
    if path is None:
        return None
    try:
        return Weights.from_mapping(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a weights file ({exc}); see docs/cli.md") from exc


def _actor(by: str | None) -> str:
    """Who decides: the logged-in user; only a store without users takes ``--by`` (or the
    login name of this computer's account)."""
    actor = app_context().actor
    if not actor.setup:
        if by and by != actor.username:
            raise UsageError(
                f"you are logged in as {actor.username}: decisions are recorded as yours, "
                "so leave out --by"
            )
        return actor.username
    return by or getpass.getuser()


def suspects_command(
    top: int = typer.Option(150, "--top", min=1, help="How many people to list."),
    weights: Path | None = typer.Option(
        None, "--weights", help="A JSON file overriding the ranking weights (docs/cli.md)."
    ),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per person."),
) -> None:
    """People ranked as distributors of known material, with the evidence for each rank.

    Accounts are first resolved into people on hard identifiers (the same phone number,
    a referral naming both). Each score is the sum of explained parts: distinct known
    items, posts, severity, reach, originality, recency, corroboration.
    """
    found = suspects(app_context().store, top, weights=_weights(weights))
    for s in found:
        if json_out:
            emit_json(s.as_dict())
            continue
        sc = s.score
        parts = ", ".join(f"{p.name} {p.points:.1f}" for p in sc.parts if p.points)
        console.print(
            f"[bold]{sc.rank:>4}[/]. person #{sc.person_id} {escape(s.label or '')} "
            f"score [bold]{sc.score:.1f}[/] ({parts})\n"
            f"      {escape('; '.join(s.identifiers[:4]))}"
            f"{' …' if len(s.identifiers) > 4 else ''}\n      {escape(sc.evidence)}",
            highlight=False,
            soft_wrap=True,
        )
    if not found and not json_out:
        console.print("no one has posted known material in the ingested chats")


@person_app.command("show")
def show_command(
    person_id: int = typer.Argument(..., help="The person's number.", show_default=False),
    json_out: bool = typer.Option(False, "--json", help="Everything as one JSON object."),
) -> None:
    """Every account, group, sighting, referral and identity decision of one person."""
    d = person_details(app_context().store, person_id)
    if json_out:
        emit_json(d)
        return
    console.print(f"[bold]person #{d['person_id']}[/] {escape(d['label'] or '')}")
    for a in d["accounts"]:
        console.print(
            f"  account #{a['account_id']} {a['platform']} {a['id_kind']} "
            f"{escape(a['external_id'])} {escape(a['display_name'] or '')} (by {a['basis']})",
            highlight=False,
        )
    for g in d["groups"]:
        console.print(
            f"  group #{g['chat_id']} {escape(g['title'] or '')} ({g['kind']}) "
            f"{g['role']}{', left' if g['left'] else ''}",
            highlight=False,
        )
    console.print(f"  {len(d['sightings'])} sightings")
    for r in d["referrals"]:
        console.print(f"  referral {r['source']} {escape(r['external_id'])} (by {r['basis']})")
    for dev in d["devices"]:
        console.print(
            f"  device #{dev['seizure_id']} {dev['kind']} seal {escape(dev['seal'])} "
            f"{escape(dev['make_model'] or '')} at {escape(dev['place'] or '?')}: "
            f"{escape(dev['why'])}, {dev['known_items']} known items",
            highlight=False,
        )
    for dec in d["decisions"]:
        undone = f", undone by #{dec['undone_by']}" if dec["undone_by"] else ""
        console.print(
            f"  decision #{dec['decision_id']} {dec['action']} by {escape(dec['by'])}: "
            f"{escape(dec['reason'])}{undone}",
            highlight=False,
        )


@person_app.command("merge")
def merge_command(
    person_id: int = typer.Argument(..., help="The person that stays.", show_default=False),
    other_id: int = typer.Argument(..., help="The person merged into it.", show_default=False),
    reason: str = typer.Option(
        ..., "--reason", help="Why (kept in the audit).", show_default=False
    ),
    by: str | None = typer.Option(
        None, "--by", help="Who decides, in a store without users (logged in: always you)."
    ),
) -> None:
    """Merge two people: one identity behind both (audited, reversible with `undo`)."""
    decision = identity.merge(
        app_context().store, person_id, other_id, actor=_actor(by), reason=reason
    )
    console.print(f"merged #{other_id} into #{person_id} (decision #{decision})")


@person_app.command("split")
def split_command(
    person_id: int = typer.Argument(..., help="The person to split.", show_default=False),
    accounts: list[int] = typer.Option(
        ...,
        "--account",
        "-a",
        help="An account that goes to a new person (repeat).",
        show_default=False,
    ),
    reason: str = typer.Option(
        ..., "--reason", help="Why (kept in the audit).", show_default=False
    ),
    by: str | None = typer.Option(
        None, "--by", help="Who decides, in a store without users (logged in: always you)."
    ),
) -> None:
    """Split accounts off a person into a new one (audited, reversible with `undo`)."""
    decision, new = identity.split(
        app_context().store, person_id, accounts, actor=_actor(by), reason=reason
    )
    console.print(f"accounts {accounts} are now person #{new} (decision #{decision})")


@person_app.command("undo")
def undo_command(
    decision_id: int = typer.Argument(..., help="The decision to reverse.", show_default=False),
    reason: str = typer.Option(
        ..., "--reason", help="Why (kept in the audit).", show_default=False
    ),
    by: str | None = typer.Option(
        None, "--by", help="Who decides, in a store without users (logged in: always you)."
    ),
) -> None:
    """Reverse a merge or split; the reversal is itself a decision in the audit."""
    undo_id = identity.undo(app_context().store, decision_id, actor=_actor(by), reason=reason)
    console.print(f"decision #{decision_id} undone (decision #{undo_id})")


@person_app.command("suggestions")
def suggestions_command(
    json_out: bool = typer.Option(False, "--json", help="One JSON object per suggestion."),
) -> None:
    """People who may be one on soft identifiers (same display name, a referral's screen
    name): for an analyst to confirm with `raksha person merge`; never merged by Raksha."""
    store = app_context().store
    identity.resolve(store)
    for s in identity.suggestions(store):
        if json_out:
            emit_json(
                {"person_id": s.person_id, "other_person_id": s.other_person_id, "reason": s.reason}
            )
        else:
            console.print(f"#{s.person_id} and #{s.other_person_id}: {escape(s.reason)}")


@network_app.command("build")
def build_command(
    force: bool = typer.Option(False, "--force", help="Rebuild even if nothing changed."),
    json_out: bool = typer.Option(False, "--json", help="The build report as JSON."),
) -> None:
    """Resolve identities and (re)build the graph from the evidence, if it changed."""
    store = app_context().store
    resolved = identity.resolve(store)
    report = graph.build(store, force=force)
    if json_out:
        emit_json(
            {
                **resolved.as_dict(),
                "rebuilt": report.rebuilt,
                "mode": report.mode,
                "groups": report.groups,
                "accounts": report.accounts,
                "edges": report.edges,
                "seconds": report.seconds,
            }
        )
        return
    state = {
        "full": "rebuilt whole",
        "incremental": f"updated for {report.groups} groups and {report.accounts} accounts",
    }.get(report.mode, "up to date")
    console.print(f"graph {state}: {report.edges:,} edges ({report.seconds:.1f} s)")


@network_app.command("export")
def export_command(
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="File (graphml, gexf, maltego) or folder (csv).",
        show_default=False,
    ),
    fmt: str = typer.Option(
        "graphml", "--format", "-f", help=f"One of {', '.join(EXPORT_FORMATS)}."
    ),
) -> None:
    """Export the graph: GraphML, GEXF (Gephi), entity/link CSV (i2 Analyst's Notebook),
    or Maltego's tabular CSV."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"--format must be one of {', '.join(EXPORT_FORMATS)}")
    store = app_context().store
    identity.resolve(store)
    graph.build(store)
    g = graph.load(store)
    if fmt == "graphml":
        write_graphml(g, out)
    elif fmt == "gexf":
        write_gexf(g, out)
    elif fmt == "csv":
        out.mkdir(parents=True, exist_ok=True)
        write_link_csv(g, out)
    else:
        write_maltego_csv(g, out)
    console.print(f"wrote {fmt} to {escape(str(out))}")


@network_app.command("communities")
def communities_command(
    json_out: bool = typer.Option(False, "--json", help="One JSON object per community."),
) -> None:
    """Clusters of groups and people that share members and material (Louvain)."""
    store = app_context().store
    identity.resolve(store)
    graph.build(store)
    found = find_communities(graph.load(store))
    for c in found:
        row = {
            "id": c.id,
            "groups": c.groups,
            "people": c.people,
            "accounts": c.accounts,
            "items": c.items,
            "size": c.size,
        }
        if json_out:
            emit_json(row)
        else:
            console.print(
                f"community {c.id}: {len(c.groups)} groups, {len(c.people)} people, "
                f"{len(c.accounts)} accounts, {c.items} shared known items",
                highlight=False,
            )


@network_app.command("groups")
def groups_command(
    json_out: bool = typer.Option(False, "--json", help="One JSON object per group."),
) -> None:
    """Groups ranked by how much of what they carry is known material, volume, members."""
    for g in ranked_groups(app_context().store):
        if json_out:
            emit_json(
                {
                    "rank": g.rank,
                    "chat_id": g.chat_id,
                    "title": g.title,
                    "score": round(g.score, 3),
                    "parts": [
                        {
                            "name": p.name,
                            "value": p.value,
                            "points": round(p.points, 3),
                            "explanation": p.explanation,
                        }
                        for p in g.parts
                    ],
                    "evidence": g.evidence,
                }
            )
        else:
            console.print(
                f"{g.rank:>4}. group #{g.chat_id} {escape(g.title or '')} score {g.score:.1f}: "
                f"{escape(g.evidence)}",
                highlight=False,
                soft_wrap=True,
            )
