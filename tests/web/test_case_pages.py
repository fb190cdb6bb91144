"""The case pages on SQLite and PostgreSQL: the list and one case with everything on it,
create and edit, status changes, accused and assignments through the web (stored and
audited), need to know on every case page; seizures with their chain of custody; report
generation and the download that refuses a modified file."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert, select

from raksha.cases import audit, operations, records
from raksha.reports.registry import list_reports
from raksha.store.models import cases_table, evidence_table
from tests.cases import case_fixtures
from tests.web.case_state import (
    T0,
    add_custody,
    case_report,
    new_case,
    new_person,
    new_seizure,
    supervisor,
)
from tests.web.conftest import People, TestClient, as_user, session_token


def login(client: TestClient, app: FastAPI, role: str, people: People) -> str:
    csrf = as_user(client, session_token(app, people.usernames[role]))
    assert csrf is not None
    return csrf


def entries(app: FastAPI, action: str, case_id: int | None = None) -> list[dict[str, Any]]:
    """Audit entries of exactly ``action`` (the log's filter takes a prefix), newest first."""
    with app.state.store.engine.connect() as conn:
        found = audit.entries(conn, action=action, case_id=case_id)
    return [e for e in found if e["action"] == action]


def add_file_evidence(app: FastAPI, case_id: int, seizure_id: int, path: Path) -> int:
    """An extraction file made from the seized device, with the SHA-256 taken at ingest."""
    path.write_bytes(b"synthetic extraction bytes\n" * 100)
    with app.state.store.engine.begin() as conn:
        return int(
            conn.execute(
                insert(evidence_table).values(
                    case_id=case_id,
                    kind="file",
                    source_path=str(path),
                    root_locator="OS",
                    container_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                    seizure_id=seizure_id,
                )
            ).inserted_primary_key[0]
        )


# -- list and detail -------------------------------------------------------------------


def test_a_case_page_shows_accused_evidence_seizures_links_and_members(
    client: TestClient, app: FastAPI, people: People, tmp_path: Path
) -> None:
    store = app.state.store
    boss = supervisor(app, people)
    case_id = new_case(app, people, "FIR 112/2026 Cyber PS Kochi")
    person, _ = new_person(app, "Ravi K.")
    records.add_accused(store, boss, case_id, person, status="arrested")
    case_fixtures.referral(store, "CT-7781")
    follow_up = case_fixtures.tip(store, "T-2026-7KQ4M9XZ")
    records.link(store, boss, case_id, referral="CT-7781")
    records.link(store, boss, case_id, tip=follow_up)
    seizure = new_seizure(app, people, case_id, seal="CCPS/26/PH-01", make="Samsung")
    add_file_evidence(app, case_id, seizure, tmp_path / "extraction.bin")

    login(client, app, "analyst", people)
    listed = client.get("/cases")
    assert listed.status_code == 200
    row = re.search(rf'<tr id="case-{case_id}">(.*?)</tr>', listed.text, re.S)
    assert row is not None and "FIR 112/2026 Cyber PS Kochi" in row.group(1)
    assert [int(n) for n in re.findall(r'num-cell">(\d+)<', row.group(1))] == [1, 1, 1]

    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    html = page.text
    assert 'id="case-status">under observation<' in html
    assert "IT Act s.67B" in html and "Ernakulam" in html
    assert f'href="/people/{person}"' in html and "Ravi K." in html and "arrested" in html
    assert "CCPS/26/PH-01" in html and f'href="/seizures/{seizure}"' in html
    assert "extraction.bin" in html
    assert "CT-7781" in html and follow_up in html
    for role in ("analyst", "investigator", "admin"):
        assert people.usernames[role] in html
    # The analyst may read but not change: no forms that would be refused.
    assert 'action="/cases/' + str(case_id) + '/status"' not in html
    assert "Generate the case report" not in html
    with store.engine.connect() as conn:
        shown = audit.entries(conn, action="case.show", case_id=case_id)
        web = audit.entries(conn, action="web.read", case_id=case_id)
    assert [e["actor"] for e in shown] == ["analyst1"]
    assert [e["details"]["path"] for e in web] == [f"/cases/{case_id}"]


def test_need_to_know_holds_on_every_case_page(
    client: TestClient, app: FastAPI, people: People, tmp_path: Path
) -> None:
    case_id = new_case(app, people, "FIR 9/2026 secret", assign_all=False)
    seizure = new_seizure(app, people, case_id)
    (report,) = case_report(app, people, case_id, ("html",))
    visible = new_case(app, people, "FIR 10/2026 shared")
    csrf = login(client, app, "investigator", people)
    listed = client.get("/cases").text
    assert "FIR 10/2026 shared" in listed and "FIR 9/2026 secret" not in listed
    for path in (
        f"/cases/{case_id}",
        f"/cases/{case_id}/edit",
        f"/seizures/{seizure}",
        f"/seizures?case={case_id}",
        f"/reports?case={case_id}",
        f"/reports/{report.id}/download",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "not assigned to case" in response.text, path
    for path, data in (
        (f"/cases/{case_id}/status", {"status": "arrested"}),
        (f"/cases/{case_id}/accused", {"person_id": "1"}),
        (f"/cases/{case_id}/seizures", {"kind": "phone", "seal_label": "X/1"}),
        (f"/cases/{case_id}/reports", {"what": "case", "format": "html"}),
        (f"/seizures/{seizure}/custody", {"action": "sealed", "by_whom": "SI A"}),
    ):
        assert client.post(path, data={**data, "csrf_token": csrf}).status_code == 403, path
    with app.state.store.engine.connect() as conn:
        status = conn.execute(select(cases_table.c.status).where(cases_table.c.id == case_id))
        assert status.scalar_one() == "under observation"
    assert client.get(f"/cases/{visible}").status_code == 200
    # The reports list leaves out the report of the case the investigator does not see.
    assert report.sha256 not in client.get("/reports").text
    login(client, app, "auditor", people)  # auditors see every case, and change none
    assert client.get(f"/cases/{case_id}").status_code == 200
    assert "Change the status" not in client.get(f"/cases/{case_id}").text


# -- changes through the web ----------------------------------------------------------


def test_create_and_edit_a_case(client: TestClient, app: FastAPI, people: People) -> None:
    csrf = login(client, app, "investigator", people)
    form = client.get("/cases/new")
    assert form.status_code == 200 and 'value="POCSO s.15"' in form.text
    created = client.post(
        "/cases",
        data={
            "name": "FIR 201/2026 Cyber PS Thrissur",
            "fir_number": "201/2026",
            "district": "Thrissur",
            "sections": ["IT Act s.67B", "POCSO s.15"],
            "csrf_token": csrf,
        },
    )
    assert created.status_code == 303
    case_id = int(created.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/cases/{case_id}").text  # the creator is assigned to it
    assert "201/2026" in page and "POCSO s.15" in page and "investigator1" in page
    clash = client.post(
        "/cases", data={"name": "FIR 201/2026 Cyber PS Thrissur", "csrf_token": csrf}
    )
    assert clash.status_code == 400 and "exists already" in clash.text

    edit = client.get(f"/cases/{case_id}/edit")
    assert 'value="Thrissur"' in edit.text and "checked" in edit.text
    saved = client.post(
        f"/cases/{case_id}/edit",
        data={
            "name": "FIR 201/2026 Cyber PS Thrissur",
            "fir_number": "201/2026",
            "district": "Thrissur Rural",
            "sections": ["IT Act s.67B"],
            "description": "Seller on a Telegram channel",
            "csrf_token": csrf,
        },
    )
    assert saved.status_code == 303
    case = records.show_case(app.state.store, supervisor(app, people), case_id)
    assert case["district"] == "Thrissur Rural" and case["sections"] == ["IT Act s.67B"]
    assert case["description"] == "Seller on a Telegram channel"
    (update,) = entries(app, "case.update", case_id)
    assert update["actor"] == "investigator1"
    assert update["details"]["changes"]["district"] == {"old": "Thrissur", "new": "Thrissur Rural"}
    login(client, app, "analyst", people)  # analysts may not create cases
    assert client.get("/cases/new").status_code == 403


def test_status_changes_are_stored_audited_and_going_back_needs_a_reason(
    client: TestClient, app: FastAPI, people: People
) -> None:
    case_id = new_case(app, people)
    csrf = login(client, app, "investigator", people)
    url = f"/cases/{case_id}/status"
    assert client.post(url, data={"status": "arrested", "csrf_token": csrf}).status_code == 303
    back = client.post(url, data={"status": "FIR registered", "csrf_token": csrf})
    assert back.status_code == 400 and "needs a reason" in back.text
    assert 'id="case-status">arrested<' in back.text
    reason = "the arrest was of the wrong man; bail hearing 3 March"
    again = client.post(
        url, data={"status": "FIR registered", "reason": reason, "csrf_token": csrf}
    )
    assert again.status_code == 303 and again.headers["location"] == f"/cases/{case_id}#status"
    page = client.get(f"/cases/{case_id}").text
    assert 'id="case-status">FIR registered<' in page and reason in page
    changes = [e["details"] for e in reversed(entries(app, "case.status", case_id))]
    assert [(d["old"], d["new"], d["backwards"]) for d in changes] == [
        ("under observation", "arrested", False),
        ("arrested", "FIR registered", True),
    ]
    assert changes[1]["reason"] == reason
    unknown = client.post(url, data={"status": "solved", "csrf_token": csrf})
    assert unknown.status_code == 400 and "unknown case status" in unknown.text


def test_accused_and_assignments_through_the_web(
    client: TestClient, app: FastAPI, people: People
) -> None:
    case_id = new_case(app, people, assign_all=False)
    person, _ = new_person(app, "Sunil P.")
    csrf = login(client, app, "supervisor", people)
    added = client.post(
        f"/cases/{case_id}/accused",
        data={"person_id": f"#{person}", "status": "absconding", "csrf_token": csrf},
    )
    assert added.status_code == 303
    missing = client.post(
        f"/cases/{case_id}/accused", data={"person_id": "99999", "csrf_token": csrf}
    )
    assert missing.status_code == 400 and "no person 99999" in missing.text
    assigned = client.post(
        f"/cases/{case_id}/members", data={"username": "investigator1", "csrf_token": csrf}
    )
    assert assigned.status_code == 303
    nobody = client.post(
        f"/cases/{case_id}/members", data={"username": "ghost", "csrf_token": csrf}
    )
    assert nobody.status_code == 400 and "no user named &#39;ghost&#39;" in nobody.text
    case = records.show_case(app.state.store, supervisor(app, people), case_id)
    assert [(a["person_id"], a["status"]) for a in case["accused"]] == [(person, "absconding")]
    assert "investigator1" in [m["username"] for m in case["members"]]
    assert [e["actor"] for e in entries(app, "case.assign", case_id)] == ["supervisor1"]
    assert entries(app, "case.accused.add", case_id)[0]["object_id"] == str(person)
    csrf = login(client, app, "investigator", people)  # now assigned: sees the case
    assert client.get(f"/cases/{case_id}").status_code == 200
    refused = client.post(
        f"/cases/{case_id}/members", data={"username": "analyst1", "csrf_token": csrf}
    )
    assert refused.status_code == 403  # only supervisors assign


# -- seizures and custody --------------------------------------------------------------


def test_seizure_page_shows_the_custody_timeline_flags_and_each_reverification(
    client: TestClient, app: FastAPI, people: People, tmp_path: Path
) -> None:
    case_id = new_case(app, people)
    seizure = new_seizure(app, people, case_id, seal="CCPS/26/LT-07", kind="laptop")
    extraction = tmp_path / "laptop-image.bin"
    evidence_id = add_file_evidence(app, case_id, seizure, extraction)
    add_custody(app, people, seizure, "sealed", by_whom="SI Meera")
    csrf = login(client, app, "investigator", people)
    moved = client.post(
        f"/seizures/{seizure}/custody",
        data={
            "action": "transferred",
            "by_whom": "SI Meera",
            "to_whom": "HC Anil",
            "location": "Cyber PS Kochi",
            "csrf_token": csrf,
        },
    )
    assert moved.status_code == 303 and "#event-" in moved.headers["location"]
    no_to = client.post(
        f"/seizures/{seizure}/custody",
        data={"action": "transferred", "by_whom": "HC Anil", "csrf_token": csrf},
    )
    assert no_to.status_code == 400 and "needs the person it went to" in no_to.text
    extraction.write_bytes(b"changed")  # the image no longer matches: the next step says so
    received = client.post(
        f"/seizures/{seizure}/custody",
        data={"action": "received at lab", "by_whom": "Dr Rao", "csrf_token": csrf},
    )
    assert received.status_code == 303

    html = client.get(f"/seizures/{seizure}").text
    assert 'data-status="flagged"' in html
    assert html.count('class="event') == 4  # seized, sealed, transferred, received
    assert html.count('class="check check-') == 3 and "<strong>verified</strong>" in html
    assert "<strong>mismatch</strong>" in html
    assert 'data-rule="mismatch"' in html and 'data-rule="handover gap"' in html
    assert f"evidence {evidence_id}" in html and "laptop-image.bin" in html
    (event,) = [
        e for e in entries(app, "custody.add", case_id) if e["details"]["action"] == "transferred"
    ]
    assert event["actor"] == "investigator1" and event["details"]["to"] == "HC Anil"
    assert event["details"]["verification"] == {str(evidence_id): "verified"}


def test_register_a_seizure_from_the_case(client: TestClient, app: FastAPI, people: People) -> None:
    case_id = new_case(app, people)
    csrf = login(client, app, "investigator", people)
    form = client.get(f"/seizures?case={case_id}")
    assert 'action="/cases/' + str(case_id) + '/seizures"' in form.text
    bad = client.post(
        f"/cases/{case_id}/seizures",
        data={
            "kind": "phone",
            "seal_label": "CCPS/26/PH-09",
            "imei": "490154203237519",
            "csrf_token": csrf,
        },
    )
    assert bad.status_code == 400 and "IMEI" in bad.text
    assert 'value="CCPS/26/PH-09"' in bad.text  # the form keeps what was typed
    made = client.post(
        f"/cases/{case_id}/seizures",
        data={
            "kind": "mobile",
            "seal_label": "CCPS/26/PH-09",
            "imei": "490154203237518",
            "seized_from": "Ravi K.",
            "place": "House 4, Ward 9",
            "seized_at": "2026-03-01T07:15",
            "csrf_token": csrf,
        },
    )
    assert made.status_code == 303
    seizure_id = int(made.headers["location"].rsplit("/", 1)[1])
    html = client.get(f"/seizures/{seizure_id}").text
    assert "phone" in html and "IMEI 490154203237518" in html and "2026-03-01 07:15" in html
    assert "1. seized" in html
    assert client.get(f"/seizures?case={case_id}").text.count(f'id="seizure-{seizure_id}"') == 1
    (added,) = entries(app, "seizure.add", case_id)
    assert added["actor"] == "investigator1"


# -- reports ---------------------------------------------------------------------------


def test_generate_a_report_and_download_it_only_while_unchanged(
    client: TestClient, app: FastAPI, people: People
) -> None:
    case_id = new_case(app, people, "FIR 55/2026 report")
    csrf = login(client, app, "investigator", people)
    made = client.post(
        f"/cases/{case_id}/reports", data={"what": "case", "format": "html", "csrf_token": csrf}
    )
    assert made.status_code == 303 and made.headers["location"].startswith(
        f"/reports?case={case_id}"
    )
    with app.state.store.engine.connect() as conn:
        (report,) = list_reports(conn, case_ids={case_id})
    listed = client.get(f"/reports?case={case_id}").text
    assert report.sha256 in listed and f'href="/reports/{report.id}/download"' in listed
    assert "FIR 55/2026 report" in listed

    download = client.get(f"/reports/{report.id}/download")
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == report.sha256
    assert download.headers["content-disposition"] == f'attachment; filename="{report.name}"'
    assert download.headers["x-raksha-sha256"] == report.sha256
    (sent,) = entries(app, "report.download", case_id)
    assert sent["actor"] == "investigator1" and sent["details"]["sha256"] == report.sha256

    path = Path(report.path)
    path.write_bytes(path.read_bytes().replace(b"</body>", b"<p>added later</p></body>"))
    refused = client.get(f"/reports/{report.id}/download")
    assert refused.status_code == 409
    assert "was not sent" in refused.text and "modified" in refused.text
    assert b"added later" not in refused.content
    assert len(entries(app, "report.download", case_id)) == 1
    checks = [e["details"]["ok"] for e in entries(app, "report.verify")]
    assert checks == [False, True]  # newest first
    (why,) = entries(app, "report.download.refused", case_id)
    assert why["actor"] == "investigator1" and "modified" in str(why["details"]["why"])
    path.unlink()
    gone = client.get(f"/reports/{report.id}/download")
    assert gone.status_code == 409 and "does not exist" in gone.text
    assert len(entries(app, "report.download.refused", case_id)) == 2
    assert client.get("/reports/99999/download").status_code == 404


def test_certificate_and_vics_from_the_case_page(
    client: TestClient, app: FastAPI, people: People
) -> None:
    case_id = new_case(app, people)
    csrf = login(client, app, "supervisor", people)
    page = client.get(f"/cases/{case_id}").text
    assert "Generate the case report" in page and "Generate the s.65B certificate" in page
    for what in ("case", "certificate", "vics"):
        data = {"what": what, "format": "html", "csrf_token": csrf}
        assert client.post(f"/cases/{case_id}/reports", data=data).status_code == 303, what
    with app.state.store.engine.connect() as conn:
        kinds = sorted(r.kind for r in list_reports(conn, case_ids={case_id}))
    assert kinds == ["case-html", "certificate-html", "certificate-pdf", "vics-hits", "vics-new"]
    wrong = client.post(f"/cases/{case_id}/reports", data={"what": "novel", "csrf_token": csrf})
    assert wrong.status_code == 400


def test_these_pages_have_no_inline_script_or_style_and_load_nothing_from_elsewhere(
    client: TestClient, app: FastAPI, people: People
) -> None:
    case_id = new_case(app, people)
    seizure = new_seizure(app, people, case_id)
    person, _ = new_person(app, "Ravi K.")
    op = operations.create_operation(app.state.store, supervisor(app, people), "Op X", T0)["id"]
    operations.add_target(
        app.state.store, supervisor(app, people), op, label="House 1", district="Pune"
    )
    login(client, app, "supervisor", people)
    for path in (
        "/cases",
        "/cases/new",
        f"/cases/{case_id}",
        f"/cases/{case_id}/edit",
        "/operations",
        f"/operations/{op}",
        f"/operations/{op}/live",
        "/seizures",
        f"/seizures?case={case_id}",
        f"/seizures/{seizure}",
        "/reports",
        "/suspects",
        f"/people/{person}",
        "/network",
        f"/network?person={person}",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.text
        for tag in re.findall(r"<script[^>]*>", html):
            assert 'src="/static/' in tag, (path, tag)
        assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None, path
        assert "<style" not in html and " style=" not in html, path
        assert re.search(r"<[^>]+\son[a-z]+=", html) is None, path
        for url in re.findall(r'(?:src|href|action|hx-get|hx-post)="([^"]*)"', html):
            assert url.startswith(("/", "#")) or url == "data:,", (path, url)
