"""The operations pages on SQLite and PostgreSQL: the board by district with its totals and
summary line, the live fragment the board polls, status buttons and outcomes through the
web (stored and audited, the transition rule enforced), planning, and need to know on the
cases a board names."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI

from raksha.cases import audit, operations, records
from raksha.reports.registry import list_reports
from tests.web.case_state import (
    new_case,
    new_operation,
    new_person,
    new_seizure,
    new_target,
    supervisor,
)
from tests.web.conftest import People, TestClient, as_user, session_token


def login(client: TestClient, app: FastAPI, role: str, people: People) -> str:
    csrf = as_user(client, session_token(app, people.usernames[role]))
    assert csrf is not None
    return csrf


def entries(app: FastAPI, action: str) -> list[dict[str, Any]]:
    with app.state.store.engine.connect() as conn:
        return [e for e in audit.entries(conn, action=action) if e["action"] == action]


def status_of(app: FastAPI, people: People, operation_id: int, target_id: int) -> str:
    board = operations.operation_board(app.state.store, supervisor(app, people), operation_id)
    (target,) = [t for d in board["districts"] for t in d["targets"] if t["id"] == target_id]
    return str(target["status"])


def test_the_board_groups_targets_by_district_with_totals_and_the_summary_line(
    client: TestClient, app: FastAPI, people: People
) -> None:
    store = app.state.store
    boss = supervisor(app, people)
    op = new_operation(app, people, "Op Nirbhay")
    kochi = [new_target(app, people, op, district="Ernakulam", status="done") for _ in range(2)]
    thrissur = new_target(app, people, op, district="Thrissur", status="not found")
    new_target(app, people, op, district="Thrissur")  # still planned
    case_a, case_b = new_case(app, people, "FIR 1/2026 raid"), new_case(app, people, "FIR 2/2026")
    operations.record_outcome(store, boss, kochi[0], arrests=2, cases=[case_a])
    operations.record_outcome(store, boss, kochi[1], arrests=1, cases=[case_a, case_b])
    for n in range(3):
        new_seizure(app, people, case_a, seal=f"NIR/{n}", raid_target_id=kochi[0])

    login(client, app, "analyst", people)
    html = client.get(f"/operations/{op}").text
    assert (
        '<p id="summary" class="summary">4 places, 3 arrested, 2 cases, 3 items seized</p>' in html
    )
    headings = re.findall(r'<h2 id="district-\d+">([^<]+)</h2>', html)
    assert headings == ["Ernakulam", "Thrissur"]
    ernakulam = re.search(r'data-district="Ernakulam">(.*?)</tr>', html, re.S)
    assert ernakulam is not None
    assert "2 places" in ernakulam.group(1) and "2 done, 0 not found" in ernakulam.group(1)
    assert re.findall(r'num-cell">(\d+)<', ernakulam.group(1)) == ["3", "2", "3"]
    overall = re.search(r'<tr id="overall">(.*?)</tr>', html, re.S)
    assert overall is not None
    assert re.findall(r'num-cell">(\d+)<', overall.group(1)) == [
        "4",
        "2",
        "1",
        "0",
        "1",
        "3",
        "2",
        "3",
    ]
    assert f'id="target-{thrissur}-status" class="status status-not-found">not found<' in html
    assert "FIR 1/2026 raid" in html
    assert "Add a place to raid" not in html and "/status" not in html  # an analyst reads only
    listed = client.get("/operations").text
    assert "Op Nirbhay" in listed and "4 places, 3 arrested, 2 cases, 3 items seized" in listed
    assert [e["actor"] for e in entries(app, "operation.show")][:1] == ["analyst1"]


def test_status_buttons_and_outcomes_are_stored_and_audited(
    client: TestClient, app: FastAPI, people: People
) -> None:
    op = new_operation(app, people)
    target = new_target(app, people, op)
    case_id = new_case(app, people, "FIR 77/2026 Kochi")
    csrf = login(client, app, "investigator", people)
    board = client.get(f"/operations/{op}").text
    for new in ("in-progress", "done", "not-found"):
        assert f'id="target-{target}-to-{new}"' in board
    assert "Add a place to raid" not in board  # investigators update, supervisors plan

    too_soon = client.post(
        f"/targets/{target}/outcome",
        data={"arrests": "1", "operation_id": str(op), "csrf_token": csrf},
    )
    assert too_soon.status_code == 400 and "still planned" in too_soon.text
    started = client.post(
        f"/targets/{target}/status",
        data={"status": "in progress", "operation_id": str(op), "csrf_token": csrf},
    )
    assert started.status_code == 303 and started.headers["location"].endswith(f"#target-{target}")
    done = client.post(
        f"/targets/{target}/status",
        data={"status": "done", "operation_id": str(op), "csrf_token": csrf},
    )
    assert done.headers["location"] == f"/operations/{op}?target={target}#update"
    update = client.get(done.headers["location"]).text
    assert f'action="/targets/{target}/outcome"' in update and "Correct the status" in update
    recorded = client.post(
        f"/targets/{target}/outcome",
        data={
            "arrests": "2",
            "cases": "FIR 77/2026 Kochi",
            "notes": "two phones and a laptop",
            "operation_id": str(op),
            "csrf_token": csrf,
        },
    )
    assert recorded.status_code == 303
    back = client.post(
        f"/targets/{target}/status",
        data={"status": "in progress", "operation_id": str(op), "csrf_token": csrf},
    )
    assert back.status_code == 400 and "needs a reason" in back.text
    assert status_of(app, people, op, target) == "done"
    corrected = client.post(
        f"/targets/{target}/status",
        data={
            "status": "not found",
            "reason": "the team reported the wrong house",
            "operation_id": str(op),
            "csrf_token": csrf,
        },
    )
    assert corrected.status_code == 303
    assert status_of(app, people, op, target) == "not found"

    moves = [e["details"] for e in reversed(entries(app, "operation.target.status"))]
    assert [(m["old"], m["new"]) for m in moves] == [
        ("planned", "in progress"),
        ("in progress", "done"),
        ("done", "not found"),
    ]
    assert moves[2]["reason"] == "the team reported the wrong house"
    (outcome,) = entries(app, "operation.target.outcome")
    assert outcome["actor"] == "investigator1"
    assert outcome["details"]["arrests"] == [0, 2] and outcome["details"]["cases_added"] == [
        case_id
    ]
    html = client.get(f"/operations/{op}").text
    assert "1 place, 2 arrested, 1 case, 0 items seized" in html
    assert "two phones and a laptop" in html


def test_the_board_polls_a_live_fragment_that_follows_the_teams(
    client: TestClient, app: FastAPI, people: People
) -> None:
    op = new_operation(app, people)
    first, second = new_target(app, people, op), new_target(app, people, op, district="Idukki")
    login(client, app, "supervisor", people)
    page = client.get(f"/operations/{op}").text
    assert f'hx-get="/operations/{op}/live" hx-trigger="every 5s" hx-swap="outerHTML"' in page
    before = len(entries(app, "operation.show"))
    live = client.get(f"/operations/{op}/live")
    assert live.status_code == 200 and "<html" not in live.text
    assert live.text.lstrip().startswith('<div id="board"')
    assert f'id="target-{first}-status" class="status status-planned">planned<' in live.text
    boss = supervisor(app, people)
    operations.set_target_status(app.state.store, boss, first, "done")
    operations.set_target_status(app.state.store, boss, second, "not found")
    live = client.get(f"/operations/{op}/live").text
    assert f'id="target-{first}-status" class="status status-done">done<' in live
    assert 'hx-trigger="every 30s"' in live and 'data-settled="yes"' in live
    assert "2 places, 0 arrested, 0 cases, 0 items seized" in live
    # Each poll is one audited read by the service, and no second web.read entry.
    assert len(entries(app, "operation.show")) == before + 2
    with app.state.store.engine.connect() as conn:
        paths = [e["details"]["path"] for e in audit.entries(conn, action="web.read")]
    assert f"/operations/{op}/live" not in paths and f"/operations/{op}" in paths


def test_plan_an_operation_for_a_person_from_the_web(
    client: TestClient, app: FastAPI, people: People
) -> None:
    person, _ = new_person(app, "Ravi K.")
    csrf = login(client, app, "supervisor", people)
    form = client.get(f"/operations?person={person}").text
    assert f'name="person" value="{person}"' in form
    made = client.post(
        "/operations",
        data={
            "name": "Op Sentinel",
            "starts_at": "2026-03-02T05:00",
            "person": str(person),
            "csrf_token": csrf,
        },
    )
    assert made.status_code == 303
    location = made.headers["location"]
    assert location.endswith(f"?person={person}#add-target")
    op = int(location.split("/")[2].split("?")[0])
    board = client.get(location.split("#")[0]).text
    assert f'id="target-person" name="person_id" maxlength="20" value="{person}"' in board
    added = client.post(
        f"/operations/{op}/targets",
        data={
            "label": "Flat 12, Marine Drive",
            "district": "Ernakulam",
            "person_id": str(person),
            "team_lead": "Insp. Nair",
            "team": "SI Meera, HC Anil",
            "csrf_token": csrf,
        },
    )
    assert added.status_code == 303
    html = client.get(f"/operations/{op}").text
    assert "Flat 12, Marine Drive" in html and f'href="/people/{person}"' in html
    assert "SI Meera, HC Anil" in html and "Starts 2026-03-02 05:00 UTC" in html
    bad = client.post(
        f"/operations/{op}/targets", data={"label": "x", "district": " ", "csrf_token": csrf}
    )
    assert bad.status_code == 400 and "--district" in bad.text
    no_start = client.post(
        "/operations", data={"name": "Op Late", "starts_at": "soon", "csrf_token": csrf}
    )
    assert no_start.status_code == 400 and "not a date and time" in no_start.text
    assert [e["actor"] for e in entries(app, "operation.create")] == ["supervisor1"]
    assert entries(app, "operation.target.add")[0]["details"]["district"] == "Ernakulam"
    report = client.post(f"/operations/{op}/reports", data={"format": "csv", "csrf_token": csrf})
    assert report.status_code == 303 and report.headers["location"].startswith("/reports")
    with app.state.store.engine.connect() as conn:
        (registered,) = list_reports(conn, operation_id=op)
    assert registered.kind == "operation-csv"
    assert registered.sha256 in client.get("/reports").text


def test_a_board_names_only_the_cases_the_user_may_see(
    client: TestClient, app: FastAPI, people: People
) -> None:
    op = new_operation(app, people)
    target = new_target(app, people, op, status="done")
    secret = new_case(app, people, "FIR 900/2026 sealed", assign_all=False)
    records.assign(app.state.store, supervisor(app, people), secret, "analyst1")
    operations.record_outcome(
        app.state.store, supervisor(app, people), target, arrests=1, cases=[secret]
    )
    csrf = login(client, app, "investigator", people)
    html = client.get(f"/operations/{op}").text
    assert "FIR 900/2026 sealed" not in html and "1 not assigned to you" in html
    assert "1 place, 1 arrested, 1 case" in html  # the count still holds
    refused = client.post(
        f"/targets/{target}/outcome",
        data={
            "arrests": "1",
            "cases": "FIR 900/2026 sealed",
            "operation_id": str(op),
            "csrf_token": csrf,
        },
    )
    assert refused.status_code == 403
    login(client, app, "analyst", people)
    assert "FIR 900/2026 sealed" in client.get(f"/operations/{op}").text
