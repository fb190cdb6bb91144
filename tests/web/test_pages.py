"""The console's pages: dashboard, hash sets with import progress, audit log, users, API
docs; and the audit entry every read of case data leaves."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from raksha.cases import audit, users
from raksha.store.case_models import case_members_table, operations_table, raid_targets_table
from raksha.store.chat_models import watches_table
from raksha.store.hashset_repo import get_set
from raksha.store.models import evidence_table, item_matches_table, items_table, scans_table
from raksha.store.scan_repo import create_case
from raksha.web.registry import ROUTE_ACCESS, api_routes
from raksha.web.routes import ROUTERS
from tests.web.conftest import People, TestClient, as_user, page_csrf, session_token

MD5S = [f"{n:032x}" for n in range(1, 4)]
NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def add_case_with_hits(app: FastAPI, name: str, hits: int) -> int:
    """A case with one scanned evidence item and ``hits`` new reference matches."""
    case = create_case(app.state.store, name)
    with app.state.store.engine.begin() as conn:
        evidence_id = conn.execute(
            insert(evidence_table).values(
                case_id=case.id, kind="folder", source_path=f"/seized/{name}", root_locator="OS"
            )
        ).inserted_primary_key[0]
        scan_id = conn.execute(
            insert(scans_table).values(evidence_id=evidence_id, status="completed")
        ).inserted_primary_key[0]
        item_id = conn.execute(
            insert(items_table).values(
                evidence_id=evidence_id,
                scan_id=scan_id,
                locator=f"OS > {name}/a.jpg",
                locator_key=f"{case.id:064x}",
                status="hashed",
            )
        ).inserted_primary_key[0]
        for n in range(hits):
            conn.execute(
                insert(item_matches_table).values(
                    item_id=item_id,
                    ref_id=n + 1,
                    set_name="synthetic",
                    set_kind="reference",
                    algorithm=f"a{n}",
                    match_kind="exact",
                    distance=0,
                    ref_value=MD5S[0],
                )
            )
    return case.id


def assign(app: FastAPI, case_id: int, username: str) -> None:
    with app.state.store.engine.begin() as conn:
        user = users.find_user(conn, username)
        conn.execute(insert(case_members_table).values(case_id=case_id, user_id=user.id))


def number(html: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}">(\d+)<', html)
    assert match is not None, element_id
    return int(match.group(1))


# -- dashboard -------------------------------------------------------------------------


def test_dashboard_counts_only_the_cases_a_user_may_see(
    client: TestClient, people: People, app: FastAPI
) -> None:
    mine = add_case_with_hits(app, "FIR 1/2026", hits=2)
    add_case_with_hits(app, "FIR 2/2026", hits=3)
    assign(app, mine, "analyst1")
    as_user(client, session_token(app, "supervisor1"))
    html = client.get("/").text
    assert (number(html, "new-hits"), number(html, "case-count")) == (5, 2)
    as_user(client, session_token(app, "analyst1"))
    html = client.get("/").text
    assert (number(html, "new-hits"), number(html, "case-count")) == (2, 1)
    assert "FIR 2/2026" not in html
    assert client.get("/api/dashboard").json()["new_hits"] == 2
    as_user(client, session_token(app, "investigator1"))
    assert client.get("/api/dashboard").json()["case_count"] == 0


def test_dashboard_parts_follow_the_role(client: TestClient, people: People, app: FastAPI) -> None:
    case_id = add_case_with_hits(app, "FIR 3/2026", hits=1)
    with app.state.store.engine.begin() as conn:
        conn.execute(
            insert(watches_table).values(
                name="group-watch", path="/drop/group", case_id=case_id, options={}, created_at=NOW
            )
        )
    as_user(client, session_token(app, "auditor1"))
    html = client.get("/").text
    assert "Watched groups" in html and "group-watch" in html and "Recent tips" in html
    assert "<h2>Operations</h2>" not in html  # no operation exists yet
    with app.state.store.engine.begin() as conn:
        op_id = conn.execute(
            insert(operations_table).values(name="Op Synthetic", starts_at=NOW)
        ).inserted_primary_key[0]
        conn.execute(
            insert(raid_targets_table).values(
                operation_id=op_id, label="T1", district="Pune", status="done", team=[]
            )
        )
    html = client.get("/").text
    assert "Op Synthetic" in html and "1 done" in html
    as_user(client, session_token(app, "boss"))  # admins: cases, but no hits, intel or ops
    view = client.get("/api/dashboard").json()
    assert view["new_hits"] is None and view["tips"] is None and view["operations"] is None
    assert view["case_count"] == 0


# -- hash sets -------------------------------------------------------------------------


def wait_for(client: TestClient, url: str, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job: dict[str, Any] = client.get(url).json()
        if job["state"] != "running" or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_importing_a_hash_set_shows_progress_and_the_result(
    client: TestClient, people: People, app: FastAPI
) -> None:
    csrf = as_user(client, session_token(app, "analyst1"))
    lines = "".join(f"md5 {h}\n" for h in MD5S).encode()
    response = client.post(
        "/hashsets/import",
        data={"csrf_token": csrf or "", "name": "Synthetic set", "source_agency": "Test unit"},
        files={"file": ("../../etc/synthetic list.txt", lines, "text/plain")},
    )
    assert response.status_code == 303
    job_url = response.headers["location"]
    job_id = job_url.rsplit("/", 1)[1]
    job = wait_for(client, f"/api/hashsets/imports/{job_id}")
    assert job["state"] == "done", job
    assert job["file_name"] == "synthetic_list.txt"
    assert job["report"]["added"] == 3
    page = client.get(job_url).text
    assert "Done: 3 records read, 3 hashes added" in page
    fragment = client.get(f"{job_url}/progress").text
    assert 'data-state="done"' in fragment and "hx-trigger" not in fragment
    summary = get_set(app.state.store, "Synthetic set")
    assert summary.total == 3 and summary.source_agency == "Test unit"
    listing = client.get("/hashsets").text
    assert "Synthetic set" in listing and 'action="/hashsets/import"' in listing
    assert not any((app.state.settings.home / "web-uploads").iterdir())
    with app.state.store.engine.connect() as conn:
        [entry] = audit.entries(conn, action="hashset.import")
    assert entry["actor"] == "analyst1" and entry["details"]["added"] == 3


def test_a_running_import_polls_and_a_failed_one_says_why(
    client: TestClient, people: People, app: FastAPI
) -> None:
    import io

    from raksha.web.imports import ImportJob

    job = ImportJob(id="running-job", set_name="s", file_name="f.txt", started_by="analyst1")
    app.state.imports._jobs[job.id] = job
    as_user(client, session_token(app, "supervisor1"))
    fragment = client.get("/hashsets/imports/running-job/progress").text
    assert 'hx-get="/hashsets/imports/running-job/progress"' in fragment
    assert 'hx-trigger="every 1s"' in fragment
    page = client.get("/hashsets/imports/running-job").text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    actor = people.actor(app, "supervisor")
    bad = app.state.imports.start(actor, io.BytesIO(b"\x00\x01 not a hash set"), "junk.bin")
    assert app.state.imports.wait()
    assert bad.state == "failed" and bad.error
    assert "The import failed:" in client.get(f"/hashsets/imports/{bad.id}").text
    assert client.get("/hashsets/imports/nope").status_code == 404


def test_only_hash_set_managers_see_the_import_form(
    client: TestClient, people: People, app: FastAPI
) -> None:
    as_user(client, session_token(app, "investigator1"))
    html = client.get("/hashsets").text
    assert "No hash sets yet" in html and 'action="/hashsets/import"' not in html


# -- audit -----------------------------------------------------------------------------


def test_audit_log_filters_by_user_action_and_case(
    client: TestClient, people: People, app: FastAPI
) -> None:
    case_id = add_case_with_hits(app, "FIR 9/2026", hits=0)
    with app.state.store.engine.begin() as conn:
        audit.record(conn, people.actor(app, "investigator"), "case.note", case_id=case_id)
    as_user(client, session_token(app, "auditor1"))
    by_case = client.get("/audit", params={"case": "FIR 9/2026"}).text
    assert "case.note" in by_case and "user.add" not in by_case
    by_id = client.get("/api/audit", params={"case": str(case_id)}).json()
    assert [e["action"] for e in by_id] == ["case.note"]
    by_user = client.get("/api/audit", params={"user": "investigator1"}).json()
    assert {e["action"] for e in by_user} == {"case.note"}
    by_action = client.get("/api/audit", params={"action": "user."}).json()
    assert {e["action"] for e in by_action} == {"user.add"}
    unknown = client.get("/audit", params={"case": "no such case"}).text
    assert "there is no case named" in unknown


def test_verify_shows_the_chain_result_and_head(
    client: TestClient, people: People, app: FastAPI
) -> None:
    csrf = as_user(client, session_token(app, "boss"))  # admins verify, without reading
    assert 'href="/audit"' not in client.get("/").text
    response = client.post("/audit/verify", data={"csrf_token": csrf or ""})
    assert response.status_code == 200
    assert "The chain is intact" in response.text
    with app.state.store.engine.connect() as conn:
        [entry] = audit.entries(conn, action="audit.verify")
    head_seq, head_hash = entry["details"]["head"].split(":")
    assert f'id="chain-head">{head_seq}:{head_hash}<' in response.text
    missing = client.post(
        "/audit/verify", data={"csrf_token": csrf or "", "head": f"999:{'a' * 64}"}
    )
    assert "The chain is broken" in missing.text and "head missing" in missing.text
    bad = client.post("/audit/verify", data={"csrf_token": csrf or "", "head": "nonsense"})
    assert bad.status_code == 400 and "SEQ:HASH" in bad.text
    assert client.get("/api/audit/verify").json()["ok"] is True


# -- users -----------------------------------------------------------------------------


def test_admin_adds_and_disables_users(client: TestClient, people: People, app: FastAPI) -> None:
    token = session_token(app, "boss")
    as_user(client, token)
    csrf = page_csrf(client, "/users")
    form = {"csrf_token": csrf, "username": "priya.s", "role": "analyst", "full_name": "SI Priya"}
    too_short = client.post("/users", data={**form, "password": "short"})
    assert too_short.status_code == 400 and "too short" in too_short.text
    added = client.post("/users", data={**form, "password": "a long enough passphrase"})
    assert added.status_code == 303
    assert "SI Priya" in client.get("/users").text
    victim = session_token(app, "priya.s", "a long enough passphrase")
    assert client.post("/users/priya.s/disable", data={"csrf_token": csrf}).status_code == 303
    with app.state.store.engine.connect() as conn:
        assert not users.find_user(conn, "priya.s").active
        assert users.session_for_token(conn, victim) is None
    last = client.post("/users/boss/disable", data={"csrf_token": csrf})
    assert last.status_code == 400 and "last active admin" in last.text
    missing = client.post("/users/nobody/disable", data={"csrf_token": csrf})
    assert missing.status_code == 400
    listed = client.get("/api/users").json()
    assert {u["username"] for u in listed} >= {"boss", "priya.s"}
    assert all("password" not in key for u in listed for key in u)


# -- audit of reads --------------------------------------------------------------------


CASE_DATA_SAMPLES = {"audit.list": "/audit?user=boss", "api.audit": "/api/audit"}


def _path_of(name: str) -> str:
    routes = api_routes([route for router in ROUTERS for route in router.routes])
    return next(str(r.path) for r in routes if r.name == name)


#: Routes with path parameters are checked by the role walk of test_security, which knows
#: how to fill them in; these need none.
_PLAIN_CASE_DATA = sorted(
    n for n, entry in ROUTE_ACCESS.items() if entry.case_data and "{" not in _path_of(n)
)


@pytest.mark.parametrize("name", _PLAIN_CASE_DATA)
def test_every_read_of_case_data_is_audited(
    client: TestClient, people: People, app: FastAPI, name: str
) -> None:
    route = next(r for r in api_routes(app.routes) if r.name == name)
    url = CASE_DATA_SAMPLES.get(name, str(route.path))
    as_user(client, session_token(app, "auditor1"))  # auditors may read all of them
    response = client.get(url)
    assert response.status_code == 200
    with app.state.store.engine.connect() as conn:
        latest = audit.entries(conn, action="web.read", limit=1)
    assert latest, f"{name} left no web.read entry"
    [entry] = latest
    path = url.split("?")[0]
    assert (entry["actor"], entry["role"], entry["object_id"]) == ("auditor1", "auditor", path)
    assert entry["details"]["path"] == path
    assert entry["details"]["client"] == ("api" if path.startswith("/api/") else "web")
    if "?" in url:
        assert entry["details"]["query"] == url.split("?", 1)[1]


def test_pages_without_case_data_leave_no_read_entry(
    client: TestClient, people: People, app: FastAPI
) -> None:
    as_user(client, session_token(app, "supervisor1"))
    for path in ("/hashsets", "/api/me", "/api/hashsets", "/api/docs"):
        assert client.get(path).status_code == 200
    with app.state.store.engine.connect() as conn:
        assert audit.entries(conn, action="web.read") == []


def test_refused_reads_leave_no_read_entry(
    client: TestClient, people: People, app: FastAPI
) -> None:
    as_user(client, session_token(app, "analyst1"))
    assert client.get("/audit").status_code == 403
    with app.state.store.engine.connect() as conn:
        assert audit.entries(conn, action="web.read") == []


# -- API docs --------------------------------------------------------------------------


def test_api_docs_list_every_api_route_with_its_permission(
    client: TestClient, people: People, app: FastAPI
) -> None:
    as_user(client, session_token(app, "investigator1"))
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    documented = set(schema["paths"])
    api = {str(r.path) for r in api_routes(app.routes) if str(r.path).startswith("/api/")}
    assert documented == api - {"/api/docs", "/api/openapi.json"}
    assert not any(p.startswith(("/users", "/audit", "/login")) for p in documented)
    html = client.get("/api/docs").text
    for path in documented:
        assert path in html
    assert "audit.read (audited read)" in html
