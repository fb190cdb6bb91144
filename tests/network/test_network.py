"""The offender network end to end on a generated state with planted distributors (ground
truth known), on SQLite and PostgreSQL: hard identifiers merge and soft ones only
suggest, the planted distributors rank at the top, originators above the forwarders of the
same items and volume, the graph exports and clusters, and the CLI shows it all."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select

from raksha.cli.main import main
from raksha.network import identity
from raksha.services.network import person_details, suspects
from raksha.settings import Settings
from raksha.store.db import Store
from raksha.store.network_models import person_accounts_table
from tests.network.state import GroundTruth, build_state

GROUPS, ACCOUNTS, MESSAGES = 50, 5000, 200_000


@pytest.fixture
def state(store: Store) -> GroundTruth:
    return build_state(store, groups=GROUPS, accounts=ACCOUNTS, messages=MESSAGES, seed=3)


def _person_of(store: Store) -> dict[int, int]:
    with store.engine.connect() as conn:
        return dict(
            conn.execute(
                select(person_accounts_table.c.account_id, person_accounts_table.c.person_id)
            ).all()
        )


@pytest.mark.slow
def test_ranking_on_a_planted_state(store: Store, state: GroundTruth) -> None:
    ranked = suspects(store, top=None)
    person = _person_of(store)
    # Hard identifiers merged; soft ones (same name, other number) only suggested.
    assert all(person[a] == person[b] for a, b in state.hard_pairs)
    assert all(person[a] != person[b] for a, b in state.soft_pairs)
    suggested = {
        frozenset((s.person_id, s.other_person_id)) for s in identity.suggestions(store, 10_000)
    }
    # Each soft pair shares a display name nobody else uses: every one is suggested.
    assert all(frozenset((person[a], person[b])) in suggested for a, b in state.soft_pairs)
    rank_of = {s.score.person_id: s.score.rank for s in ranked}
    planted = [person[a] for a in state.distributors]
    top = {s.score.person_id for s in ranked[: len(planted) + 5]}
    assert len(set(planted) & top) >= len(planted) - 1, "planted distributors rank at the top"
    for originator, forwarder in state.pairs:
        assert rank_of[person[originator]] < rank_of[person[forwarder]]
    for spammer in state.spammers:
        assert rank_of.get(person[spammer], 10**9) > len(planted)
    best = ranked[0]
    assert best.score.evidence and {p.name for p in best.score.parts} >= {
        "distinct_items",
        "originality",
        "reach",
    }
    assert abs(sum(p.points for p in best.score.parts) - best.score.score) < 1e-6
    details = person_details(store, best.score.person_id)
    assert details["sightings"] and details["groups"] and details["accounts"]


@pytest.mark.slow
def test_graph_export_and_communities_on_the_state(
    env_for: Settings, state: GroundTruth, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["network", "build", "--json"]) == 0
    built = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert built["rebuilt"] and built["edges"] > 10_000
    assert main(["network", "build", "--json"]) == 0  # nothing changed: not rebuilt
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["rebuilt"] is False
    out = tmp_path / "net.graphml"
    assert main(["network", "export", "-o", str(out)]) == 0
    read = nx.read_graphml(out)
    assert read.number_of_edges() == built["edges"]
    assert main(["network", "export", "-o", str(tmp_path / "i2"), "--format", "csv"]) == 0
    assert (tmp_path / "i2" / "links.csv").read_text().count("\n") == built["edges"] + 1
    assert main(["network", "communities", "--json"]) == 0
    communities = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    assert len(communities) >= 2
    assert main(["suspects", "--top", "5", "--json"]) == 0
    top = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    assert [t["rank"] for t in top] == [1, 2, 3, 4, 5] and top[0]["evidence"]
    assert main(["person", "show", str(top[0]["person_id"])]) == 0
    assert "sightings" in capsys.readouterr().out
    assert main(["network", "groups", "--json"]) == 0
    groups = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    assert len(groups) == GROUPS
