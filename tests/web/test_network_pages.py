"""The network pages on SQLite and PostgreSQL, over a generated network with planted
distributors (``tests/network/state.py``): suspects ranked with each part of the score
and its sentence, a person's page, merge and split through the web (decided, audited),
and the JSON the graph view draws (a person's neighbourhood, a community, the cap)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI

from raksha.cases import audit, users
from raksha.network import graph
from raksha.services.network import person_details, suspects
from raksha.web import graph_json
from tests.network.state import GroundTruth, build_state
from tests.web.case_state import new_group, new_person
from tests.web.conftest import People, TestClient, as_user, password_of, session_token

SMALL = {"groups": 5, "accounts": 300, "messages": 5000}


@pytest.fixture
def network(app: FastAPI) -> GroundTruth:
    state = build_state(app.state.store, **SMALL)
    # The PostgreSQL fixture empties the tables but keeps store_meta, where the graph
    # notes what it was built from; the same state in the next test would look unchanged.
    graph.build(app.state.store, force=True)
    return state


def login(client: TestClient, app: FastAPI, role: str, people: People) -> str:
    csrf = as_user(client, session_token(app, people.usernames[role]))
    assert csrf is not None
    return csrf


def entries(app: FastAPI, action: str) -> list[dict[str, Any]]:
    with app.state.store.engine.connect() as conn:
        return [e for e in audit.entries(conn, action=action) if e["action"] == action]


def test_suspects_are_ranked_with_every_part_of_the_score_explained(
    client: TestClient, app: FastAPI, people: People, network: GroundTruth
) -> None:
    expected = [s.as_dict() for s in suspects(app.state.store, 10)]
    login(client, app, "investigator", people)
    html = client.get("/suspects?top=10").text
    rows = re.findall(r'<tr id="suspect-(\d+)">', html)
    assert [int(r) for r in rows] == [s["person_id"] for s in expected]
    top = expected[0]
    row = html.split(f'<tr id="suspect-{top["person_id"]}">')[1].split('<tr id="suspect-')[0]
    assert f'href="/people/{top["person_id"]}"' in row
    assert f"<strong>{top['score']:.1f}</strong>" in row
    assert top["identifiers"][0] in row
    for part in top["parts"]:
        assert part["explanation"] in row
        assert part["name"].replace("_", " ") in row
    assert top["evidence"] in row
    (read,) = [e for e in entries(app, "web.read") if e["details"]["path"] == "/suspects"]
    assert read["actor"] == "investigator1" and read["details"]["query"] == "top=10"


def test_a_persons_page_shows_accounts_groups_sightings_and_decisions(
    client: TestClient, app: FastAPI, people: People, network: GroundTruth
) -> None:
    top = suspects(app.state.store, 1)[0].score.person_id
    details = person_details(app.state.store, top)
    login(client, app, "auditor", people)
    html = client.get(f"/people/{top}").text
    for account in details["accounts"]:
        assert account["external_id"] in html
    for group in details["groups"]:
        assert f"#{group['chat_id']} {group['title']}" in html
    assert f"{len(details['sightings'])} posts of known items" in html
    assert html.count("<code>") >= len(details["accounts"]) + min(len(details["sightings"]), 100)
    assert f'href="/network?person={top}"' in html
    assert "Merge or split" not in html  # auditors read; analysts and supervisors decide
    assert "Plan a raid" not in html
    login(client, app, "supervisor", people)
    html = client.get(f"/people/{top}").text
    assert "Merge or split" in html and f'href="/operations?person={top}#plan"' in html
    assert client.get("/people/999999").status_code == 404


def test_merge_and_split_through_the_web_are_decisions_in_the_audit(
    client: TestClient, app: FastAPI, people: People
) -> None:
    keep, keep_accounts = new_person(app, "Arun M.", accounts=1)
    other, other_accounts = new_person(app, "Arun (WhatsApp)", accounts=1)
    csrf = login(client, app, "analyst", people)
    no_reason = client.post(
        f"/people/{keep}/merge", data={"other_id": str(other), "reason": " ", "csrf_token": csrf}
    )
    assert no_reason.status_code == 400 and "why (--reason)" in no_reason.text
    merged = client.post(
        f"/people/{keep}/merge",
        data={"other_id": str(other), "reason": "same phone in a seized SIM", "csrf_token": csrf},
    )
    assert merged.status_code == 303
    details = person_details(app.state.store, keep)
    assert sorted(a["account_id"] for a in details["accounts"]) == keep_accounts + other_accounts
    (decision,) = [d for d in details["decisions"] if d["action"] == "merge"]
    assert decision["by"] == "analyst1" and decision["reason"] == "same phone in a seized SIM"
    (entry,) = entries(app, "identity.merge")
    assert entry["actor"] == "analyst1" and entry["details"]["decision"] == decision["decision_id"]
    page = client.get(f"/people/{keep}").text
    assert "same phone in a seized SIM" in page

    split = client.post(
        f"/people/{keep}/split",
        data={"accounts": str(other_accounts[0]), "reason": "different voice", "csrf_token": csrf},
    )
    assert split.status_code == 303
    new_person_id = int(split.headers["location"].rsplit("/", 1)[1])
    assert new_person_id != keep
    assert [
        a["account_id"] for a in person_details(app.state.store, new_person_id)["accounts"]
    ] == (other_accounts)
    (entry,) = entries(app, "identity.split")
    assert entry["details"]["new_person"] == new_person_id
    nothing = client.post(f"/people/{keep}/split", data={"reason": "x", "csrf_token": csrf})
    assert nothing.status_code == 400 and "tick the accounts" in nothing.text
    csrf = login(client, app, "investigator", people)  # investigators may not decide
    refused = client.post(
        f"/people/{keep}/merge",
        data={"other_id": str(new_person_id), "reason": "x", "csrf_token": csrf},
    )
    assert refused.status_code == 403


def test_the_graph_json_of_a_person_and_of_a_community(
    client: TestClient, app: FastAPI, people: People
) -> None:
    person, accounts = new_person(app, "Kiran", accounts=2)
    friend, friend_accounts = new_person(app, "Deepa", accounts=1)
    group = new_group(app, "Trade Group", [accounts[0], *friend_accounts])
    login(client, app, "analyst", people)
    data = client.get(f"/api/network/people/{person}").json()
    ids = {n["id"] for n in data["nodes"]}
    assert data["focus"] == f"person:{person}" and data["nodes"][0]["id"] == f"person:{person}"
    assert {f"account:{a}" for a in accounts} | {f"group:{group}"} <= ids
    assert f"person:{friend}" not in ids  # three steps away: person, account, group, account
    kinds = {(e["source"], e["kind"], e["target"]) for e in data["edges"]}
    assert (f"person:{person}", "has_account", f"account:{accounts[0]}") in kinds
    assert (f"account:{accounts[0]}", "member_of", f"group:{group}") in kinds
    assert data["truncated"] is False and data["limit"] == 500
    (group_node,) = [n for n in data["nodes"] if n["kind"] == "group"]
    assert group_node["label"] == "Trade Group" and group_node["attrs"]["members"] == 2

    community = client.get("/api/network/communities/0").json()
    members = {n["id"] for n in community["nodes"]}
    assert {f"group:{group}", f"person:{person}", f"person:{friend}"} <= members
    assert community["title"].startswith("community 0: 1 groups, 2 people")
    missing = client.get("/api/network/communities/7")
    assert missing.status_code == 404 and "no community 7" in missing.json()["error"]
    assert client.get("/api/network/people/999999").status_code == 404
    with app.state.store.engine.begin() as conn:  # scripts use a bearer token
        token = users.login(conn, "auditor1", password_of("auditor"), client="cli")
    as_user(client, None)
    by_script = client.get(
        f"/api/network/people/{person}", headers={"Authorization": f"Bearer {token}"}
    )
    assert by_script.status_code == 200 and by_script.json()["focus"] == f"person:{person}"


def test_a_view_is_cut_at_its_limit_nearest_first_and_says_so(
    client: TestClient,
    app: FastAPI,
    people: People,
    network: GroundTruth,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    top = suspects(app.state.store, 1)[0].score.person_id
    g = graph_json.current_graph(app.state.store)
    whole = graph_json.person_view(g, top, limit=10_000)
    assert whole["truncated"] is False and whole["total_nodes"] > 12
    cut = graph_json.person_view(g, top, limit=12)
    assert cut["truncated"] is True and len(cut["nodes"]) == 12
    assert cut["total_nodes"] == whole["total_nodes"]
    assert [n["id"] for n in cut["nodes"]] == [n["id"] for n in whole["nodes"][:12]]
    kept = {n["id"] for n in cut["nodes"]}
    assert all(e["source"] in kept and e["target"] in kept for e in cut["edges"])
    monkeypatch.setattr(graph_json, "MAX_NODES", 20)
    login(client, app, "supervisor", people)
    data = client.get("/api/network/communities/0").json()
    assert len(data["nodes"]) == 20 and data["truncated"] is True and data["limit"] == 20


def test_the_network_page_loads_the_graph_library_and_script_from_static(
    client: TestClient, app: FastAPI, people: People, network: GroundTruth
) -> None:
    login(client, app, "analyst", people)
    listing = client.get("/network").text
    assert 'href="/network?community=0"' in listing and "cytoscape" not in listing
    html = client.get("/network?person=5").text
    assert 'data-graph-url="/api/network/people/5"' in html
    assert '<script src="/static/vendor/cytoscape-3.35.0.min.js" defer></script>' in html
    assert '<script src="/static/network.js" defer></script>' in html
    assert 'id="__________cytoscape_stylesheet"' in html
    assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None  # no inline script
    assert 'data-graph-url="/api/network/communities/2"' in client.get("/network?community=2").text
    for path in (
        "/static/vendor/cytoscape-3.35.0.min.js",
        "/static/network.js",
        "/static/network.css",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get("/network?person=abc").status_code == 400
