"""Evidence and scans on both databases: a scan started from the page runs the real
pipeline in the background with live progress, its hits reach the review queue, the
start and end are audited, and need to know hides other cases' evidence."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from raksha.cases import audit
from raksha.web.scans import scan_jobs
from tests.chats.telegram_fixtures import channel_with_known_posts, write_single
from tests.chats.telegram_fixtures import picture as telegram_picture
from tests.web.conftest import People, TestClient, as_user, page_csrf, session_token
from tests.web.review_seed import (
    assert_no_inline_code,
    build_phone,
    make_case,
    md5_set,
    scan_and_wait,
)

JOB_URL = re.compile(r"^/scans/([A-Za-z0-9_-]+)$")


def entries(app: FastAPI, action: str) -> list[dict[str, Any]]:
    with app.state.store.engine.connect() as conn:
        return audit.entries(conn, action=action)


def wait_until_done(client: TestClient, job_url: str, timeout: float = 60.0) -> str:
    """Poll the progress fragment the way the page does until the scan has ended."""
    deadline = time.monotonic() + timeout
    while True:
        fragment = client.get(f"{job_url}/progress")
        assert fragment.status_code == 200
        if 'data-state="running"' not in fragment.text:
            return str(fragment.text)
        assert time.monotonic() < deadline, "the scan did not finish"
        time.sleep(0.1)


def test_start_a_scan_from_the_page_and_its_hits_reach_the_queue(
    app: FastAPI, people: People, client: TestClient, tmp_path: Path
) -> None:
    phone = build_phone(tmp_path / "seized" / "phone")
    md5_set(app, tmp_path, "ref", phone.known)
    case_id = make_case(app, people, "FIR 12/2026", members=("analyst",))
    as_user(client, session_token(app, "analyst1"))
    page = client.get("/evidence")
    assert page.status_code == 200 and "Start a scan" in page.text
    assert f'<option value="{case_id}"' in page.text
    csrf = page_csrf(client, "/evidence")
    started = client.post(
        "/scans",
        data={
            "csrf_token": csrf,
            "path": str(phone.root),
            "case_id": str(case_id),
            "kind": "auto",
            "workers": "0",
            "max_depth": "3",
            "carve": "true",
        },
    )
    assert started.status_code == 303
    job_url = started.headers["location"]
    assert JOB_URL.match(job_url)
    status = client.get(job_url)
    assert status.status_code == 200 and 'id="scan-progress"' in status.text
    assert str(phone.root.resolve()) in status.text
    done = wait_until_done(client, job_url)
    assert 'data-state="done"' in done and "completed" in done
    assert "<strong>3 hits</strong>" in done
    assert f'href="/review?case={case_id}&amp;state=new"' in done
    assert "hx-get=" not in done  # polling stops once the scan has ended

    (start,) = entries(app, "scan.start")
    assert (start["actor"], start["case_id"]) == ("analyst1", case_id)
    assert start["details"]["path"] == str(phone.root.resolve())
    assert start["details"]["kind"] == "auto" and start["details"]["workers"] == 0
    (finish,) = entries(app, "scan.finish")
    assert finish["details"]["state"] == "done" and finish["details"]["hits"] == 3
    evidence_id = finish["details"]["evidence_id"]

    listing = client.get("/evidence", params={"case": case_id})
    assert f'href="/evidence/{evidence_id}"' in listing.text
    assert str(phone.root.resolve()) in listing.text
    detail = client.get(f"/evidence/{evidence_id}")
    assert detail.status_code == 200
    assert "FIR 12/2026" in detail.text and "ref" in detail.text
    assert "3 items with new hits to review" in detail.text
    assert re.search(r"jpeg \d", detail.text)  # items by type
    for html in (page.text, status.text, listing.text, detail.text, done):
        assert_no_inline_code(html)
    queue = client.get("/review", params={"case": case_id, "state": "new"})
    assert "3 hits" in queue.text and "phone &gt; DCIM/IMG_0002.dat" in queue.text
    reads = {e["details"]["path"] for e in entries(app, "web.read")}
    assert {"/evidence", f"/evidence/{evidence_id}", job_url} <= reads
    dashboard = client.get("/")
    assert '<span class="num" id="new-hits">3</span>' in dashboard.text

    # The same path again continues where the store ends: nothing is stored twice.
    again = client.post(
        "/scans",
        data={"csrf_token": csrf, "path": str(phone.root), "case_id": str(case_id), "workers": "0"},
    )
    text = wait_until_done(client, again.headers["location"])
    assert "already stored by an earlier run" in text and "<strong>0 hits</strong>" in text


def test_a_chat_export_started_from_the_page_is_read_as_chats(
    app: FastAPI, people: People, client: TestClient, tmp_path: Path
) -> None:
    known = [telegram_picture(1), telegram_picture(2)]
    md5_set(app, tmp_path, "ref", known)
    export = write_single(
        tmp_path / "alpha", channel_with_known_posts(known, [telegram_picture(3)])
    )
    case_id = make_case(app, people, "FIR 13/2026", members=("investigator",))
    csrf = as_user(client, session_token(app, "investigator1"))
    started = client.post(
        "/scans",
        data={
            "csrf_token": csrf or "",
            "path": str(export),
            "case_id": str(case_id),
            "workers": "0",
        },
    )
    assert started.status_code == 303
    text = wait_until_done(client, started.headers["location"])
    assert "Telegram export" in text and "2 new sightings" in text


def test_the_scan_form_says_what_is_wrong(
    app: FastAPI, people: People, client: TestClient, tmp_path: Path
) -> None:
    case_id = make_case(app, people, "FIR 14/2026", members=("analyst",))
    csrf = as_user(client, session_token(app, "analyst1"))
    form = {"csrf_token": csrf or "", "case_id": str(case_id), "workers": "0"}
    relative = client.post("/scans", data={**form, "path": "seized/phone"})
    assert relative.status_code == 400 and "not a full path" in relative.text
    missing = client.post("/scans", data={**form, "path": str(tmp_path / "nowhere")})
    assert missing.status_code == 400 and "does not exist on the server" in missing.text
    kind = client.post("/scans", data={**form, "path": str(tmp_path), "kind": "floppy"})
    assert kind.status_code == 400
    workers = client.post("/scans", data={**form, "path": str(tmp_path), "workers": "lots"})
    assert workers.status_code == 400
    assert client.post(
        "/scans", data={**form, "path": str(tmp_path), "case_id": "999"}
    ).status_code in (403, 404)
    assert entries(app, "scan.start") == []
    csrf = as_user(client, session_token(app, "auditor1"))  # reads hits, does not scan
    page = client.get("/evidence")
    assert page.status_code == 200 and "Start a scan" not in page.text
    refused = client.post("/scans", data={**form, "csrf_token": csrf or "", "path": str(tmp_path)})
    assert refused.status_code == 403


def test_an_analyst_not_assigned_to_a_case_sees_none_of_its_evidence(
    app: FastAPI, people: People, client: TestClient, tmp_path: Path
) -> None:
    phone = build_phone(tmp_path / "theirs")
    md5_set(app, tmp_path, "ref", phone.known)
    other = make_case(app, people, "FIR 15/2026", members=("investigator",))
    mine = make_case(app, people, "FIR 16/2026", members=("analyst",))
    job = scan_and_wait(app, people, other, "FIR 15/2026", phone.root)
    assert job.evidence_id is not None
    csrf = as_user(client, session_token(app, "analyst1"))
    page = client.get("/evidence")
    assert "FIR 16/2026" in page.text and "FIR 15/2026" not in page.text
    assert str(phone.root.resolve()) not in page.text
    assert f"/scans/{job.id}" not in page.text  # nor scans into it
    assert client.get("/evidence", params={"case": other}).status_code == 403
    assert client.get(f"/evidence/{job.evidence_id}").status_code == 403
    assert client.get(f"/scans/{job.id}").status_code == 403
    assert client.get(f"/scans/{job.id}/progress").status_code == 403
    refused = client.post(
        "/scans",
        data={"csrf_token": csrf or "", "path": str(phone.root), "case_id": str(other)},
    )
    assert refused.status_code == 403
    assert client.get(f"/evidence?case={mine}").status_code == 200
    as_user(client, session_token(app, "investigator1"))
    assert client.get(f"/evidence/{job.evidence_id}").status_code == 200
    assert client.get(f"/scans/{job.id}").status_code == 200
    assert str(phone.root.resolve()) in client.get("/evidence").text


def test_a_second_scan_of_a_running_path_is_refused(
    app: FastAPI, people: People, tmp_path: Path
) -> None:
    import threading

    from raksha.errors import UsageError
    from raksha.web.scans import ScanRequest

    case_id = make_case(app, people, "FIR 17/2026")
    jobs = scan_jobs(app.state)
    release = threading.Event()
    original = jobs._run  # hold the first scan until the second has been refused

    def held(job: Any, actor: Any) -> None:
        release.wait(10)
        original(job, actor)

    jobs._run = held  # type: ignore[method-assign]
    request = ScanRequest(path=tmp_path.resolve(), kind="files", workers=0)
    supervisor = people.actor(app, "supervisor")
    first = jobs.start(supervisor, case_id, "FIR 17/2026", request)
    try:
        with pytest.raises(UsageError, match="being scanned into this case already"):
            jobs.start(supervisor, case_id, "FIR 17/2026", request)
    finally:
        release.set()
    assert jobs.wait()
    assert first.state == "done"
    assert len(entries(app, "scan.start")) == 1
