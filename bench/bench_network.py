"""Benchmark: resolving, building and ranking the offender network, at 1x and 10x.

    .venv/bin/python -m bench.bench_network [--factors 1 10] [--database sqlite|postgresql]

What is measured, and why: the ranking must name the few hundred top distributors out of
tens of thousands of accounts in minutes, on one machine, from what the store holds. For
each size (1x = 50 groups, 5,000 accounts, 200,000 messages; 10x = 500 groups, 50,000
accounts, 2,000,000 messages) the synthetic state of ``tests/network/state.py`` (planted
distributors, ground truth known) is written into a fresh store (untimed), then timed:

1. identity resolution (a person per account, merges on hard identifiers);
2. the graph build (every edge kind, rewritten into ``graph_edges``), then the
   incremental update after one group is ingested again (its edges and those of its
   accounts rewritten; the ratio full/incremental is printed);
3. reading the post facts and ranking people and groups;

with the process's peak RSS after each stage, and how many planted distributors made the
top of the ranking. The issue names no peer: the 1x/10x ratio is the comparison (how it
scales).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select, update
from tests.network.state import build_state, scale

from bench.common import machine_line
from raksha.network import graph, identity
from raksha.network.queries import chat_facts, corroboration, iter_post_facts
from raksha.network.ranking import rank_groups, rank_people
from raksha.settings import Settings
from raksha.store.chat_models import chats_table
from raksha.store.db import Store
from raksha.store.models import utcnow
from raksha.store.network_models import person_accounts_table


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(factor: int, url: str | None, work: Path) -> dict[str, float | int | str]:
    home = work / f"x{factor}"
    home.mkdir()
    settings = Settings(home=home, database_url=url or f"sqlite:///{home / 'raksha.db'}")
    store = Store.open(settings)
    started = time.monotonic()
    truth = build_state(store, **scale(factor))
    built = time.monotonic() - started
    out: dict[str, float | int | str] = {"factor": factor, "state_s": round(built, 1)}
    t = time.monotonic()
    report = identity.resolve(store)
    out["resolve_s"] = round(time.monotonic() - t, 2)
    out["people"] = report.new_people - report.merges
    out["rss_after_resolve"] = round(_rss_mib())
    t = time.monotonic()
    edges = graph.build(store, force=True)
    out["graph_s"] = round(time.monotonic() - t, 2)
    out["edges"] = edges.edges
    out["rss_after_graph"] = round(_rss_mib())
    with store.engine.begin() as conn:  # one group ingested again, as a weekly export is
        conn.execute(
            update(chats_table)
            .where(chats_table.c.id == select(func.min(chats_table.c.id)).scalar_subquery())
            .values(last_ingested=utcnow())
        )
    t = time.monotonic()
    step = graph.build(store)
    out["incremental_s"] = round(time.monotonic() - t, 2)
    out["incremental_accounts"] = step.accounts
    assert step.mode == "incremental" and step.edges == edges.edges, step
    t = time.monotonic()
    ranked = rank_people(iter_post_facts(store), chat_facts(store), corroboration(store))
    groups = rank_groups(iter_post_facts(store), chat_facts(store))
    out["rank_s"] = round(time.monotonic() - t, 2)
    out["ranked_people"] = len(ranked)
    out["ranked_groups"] = len(groups)
    out["rss_after_rank"] = round(_rss_mib())
    with store.engine.connect() as conn:
        person = dict(
            conn.execute(
                select(person_accounts_table.c.account_id, person_accounts_table.c.person_id)
            ).all()
        )
    planted = {person[a] for a in truth.distributors}
    top = {s.person_id for s in ranked[: len(planted)]}
    out["planted_in_top"] = f"{len(planted & top)}/{len(planted)}"
    out["messages"] = truth.counts.get("messages", 0)
    out["accounts"] = truth.counts.get("accounts", 0)
    store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default SQLite)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="raksha-bench-network-"))
    rows = []
    try:
        for factor in args.factors:
            row = run(factor, args.database, work)
            print(row, flush=True)
            rows.append(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("## Offender network: resolve, build and rank")
    print(
        "`.venv/bin/python -m bench.bench_network --factors "
        + " ".join(str(f) for f in args.factors)
        + "` — the planted state of `tests/network/state.py` (1x: 50 groups, 5,000 accounts,"
        " 200,000 messages), one process, "
        + ("PostgreSQL" if args.database else "SQLite")
        + "; peak RSS is the process's high-water mark after each stage."
    )
    print()
    print(
        "| size | messages | accounts | resolve s | graph s | edges | one group again s "
        "(accounts) | full/incremental | rank s | people ranked | peak RSS MiB "
        "| planted distributors in the top |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['factor']}x | {int(r['messages']):,} | {int(r['accounts']):,} | "
            f"{r['resolve_s']} | {r['graph_s']} | {int(r['edges']):,} | "
            f"{r['incremental_s']} ({r['incremental_accounts']}) | "
            f"{float(r['graph_s']) / max(float(r['incremental_s']), 0.001):.1f}x | {r['rank_s']} | "
            f"{int(r['ranked_people']):,} | {r['rss_after_rank']} | {r['planted_in_top']} |"
        )
    print()
    print(f"Machine: {machine_line()}")


if __name__ == "__main__":
    main()
