"""End to end in a real browser (Debian's chromium, headless, driven by Playwright): a
supervisor opens the top suspect, plans a raid on them, moves the place to done and
records what it produced while the board follows another team live, generates the case
report and downloads it (its bytes' SHA-256 is the registry's); and the network view
draws a person's neighbourhood with the vendored graph library under the CSP.

The same launch pattern as ``test_browser.py``: the console under uvicorn in a thread on
a free port over a temporary SQLite store; screenshots go to ``tests/web/artifacts/``.
Without chromium the test is skipped, unless RAKSHA_TEST_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from raksha.cases import operations, records, users
from raksha.cases.actor import Actor
from raksha.reports.registry import list_reports
from raksha.services.network import suspects
from raksha.settings import Settings
from tests.network.state import build_state
from tests.web.test_browser import ARTIFACTS, PASSWORD, chromium

__all__ = ["chromium"]  # the fixture, shared with test_browser.py

pytestmark = pytest.mark.slow
CASE = "FIR 31/2026 Cyber PS Kochi"
SUPERVISOR = "insp.rao"


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, FastAPI]]:
    """The console on 127.0.0.1:<free port> with a supervisor, a case and a small
    generated network of chats; yields (URL, app)."""
    import uvicorn

    from raksha.web.app import create_app

    home = tmp_path / "home"
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'raksha.db'}")
    app = create_app(settings)
    with app.state.store.engine.begin() as conn:
        admin = users.create_user(conn, Actor.local_setup(), "sp.cyber", "admin", PASSWORD)
        supervisor = users.create_user(conn, admin.actor(), SUPERVISOR, "supervisor", PASSWORD)
    records.create_case(
        app.state.store, supervisor.actor(), CASE, district="Ernakulam", sections=["POCSO s.15"]
    )
    build_state(app.state.store, groups=5, accounts=300, messages=5000)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", app
    uv.should_exit = True
    thread.join(10)
    sock.close()


def _watch(page: Any, problems: list[str]) -> None:
    """Collect script errors, CSP violations and failed requests of ``page``."""
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    page.set_default_timeout(8000)


def _in_browser(chromium: str, run: Callable[[Any, Any], None]) -> list[str]:
    """Run ``run(page, expect)`` in a fresh headless chromium; returns what went wrong."""
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            page = context.new_page()
            _watch(page, problems)
            run(page, expect)
        finally:
            browser.close()
    return problems


def _log_in(page: Any, server: str, target: str) -> None:
    page.goto(f"{server}/login?next={target}")
    page.get_by_label("Username").fill(SUPERVISOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_open_a_suspect_plan_a_raid_mark_it_done_and_download_the_report(
    chromium: str, console: tuple[str, FastAPI]
) -> None:
    server, app = console
    store = app.state.store
    top = suspects(store, 1)[0]

    def run(page: Any, expect: Any) -> None:
        _log_in(page, server, "/suspects")
        expect(page.get_by_role("heading", name="Suspects")).to_be_visible()
        first = page.locator(f"#suspect-{top.score.person_id}")
        expect(first).to_contain_text(top.score.evidence)
        page.screenshot(path=str(ARTIFACTS / "10-suspects.png"))
        first.get_by_role("link").first.click()
        expect(page.get_by_role("heading", name=f"Person #{top.score.person_id}")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "11-person.png"), full_page=True)

        page.get_by_role("link", name="Plan a raid").click()
        page.get_by_label("Name").fill("Op Sentinel")
        page.get_by_role("button", name="Plan the operation").click()
        expect(page.get_by_role("heading", name="Op Sentinel")).to_be_visible()
        expect(page.get_by_label("Person number")).to_have_value(str(top.score.person_id))
        page.get_by_label("Place").fill("Flat 12, Marine Drive")
        page.get_by_label("District").fill("Ernakulam")
        page.get_by_label("Team lead").fill("Insp. Nair")
        page.get_by_role("button", name="Add the place").click()
        row = page.locator("#board tbody tr").first
        expect(row).to_have_attribute("data-status", "planned")
        target_id = int(str(row.get_attribute("id")).split("-")[1])
        status = page.locator(f"#target-{target_id}-status")

        page.locator(f"#target-{target_id}-to-in-progress").click()
        expect(status).to_have_text("in progress")
        # Another team reports from elsewhere: the board follows without a reload.
        op = int(page.url.split("/operations/")[1].split("#")[0])
        boss = Actor(SUPERVISOR, "supervisor")
        other = operations.add_target(
            store, boss, op, label="Shop 3, Round North", district="Thrissur"
        )
        operations.set_target_status(store, boss, int(other["id"]), "in progress")
        expect(page.locator(f"#target-{other['id']}-status")).to_have_text(
            "in progress", timeout=9000
        )
        expect(page.locator("#board h2")).to_have_text(["Ernakulam", "Thrissur", "Totals"])
        page.locator(f"#target-{target_id}-to-done").click()
        expect(status).to_have_text("done")
        expect(page.get_by_role("heading", name=re.compile(r"Target \d+: Flat 12"))).to_be_visible()
        page.get_by_label("Arrested here").fill("1")
        page.get_by_label("Cases registered").fill(CASE)
        page.get_by_label("Notes").fill("one phone seized under seal")
        page.get_by_role("button", name="Record the outcome").click()
        expect(page.locator("#summary")).to_have_text(
            "2 places, 1 arrested, 1 case, 0 items seized"
        )
        expect(page.locator(f"#target-{target_id}-arrests")).to_have_text("1")
        page.screenshot(path=str(ARTIFACTS / "12-operation-board.png"), full_page=True)

        page.get_by_role("link", name="Cases", exact=True).click()
        page.get_by_role("link", name=CASE).click()
        page.get_by_label("Format").select_option("pdf")
        page.get_by_role("button", name="Generate the case report").click()
        expect(page.get_by_role("heading", name=f"Reports of {CASE}")).to_be_visible()
        (report,) = list_reports_of(app)
        expect(page.locator(f"#report-{report.id} code.sha256")).to_have_text(report.sha256)
        page.screenshot(path=str(ARTIFACTS / "13-reports.png"), full_page=True)
        with page.expect_download() as download:
            page.get_by_role("link", name=report.name).click()
        saved = download.value.path()
        assert hashlib.sha256(Path(saved).read_bytes()).hexdigest() == report.sha256
        assert download.value.suggested_filename == report.name

        # The board polls while a place is in progress; a session that ends meanwhile sends
        # the browser to the login page (and back to the board after it).
        page.goto(f"{server}/operations/{op}")
        expect(page.locator("#board")).to_have_attribute("data-refresh", "5")
        cookie = next(c for c in page.context.cookies() if c["name"] == "raksha_session")
        with store.engine.begin() as conn:
            assert users.logout(conn, cookie["value"])
        expect(page).to_have_url(re.compile(rf"/login\?next=%2Foperations%2F{op}$"), timeout=9000)

    started = time.monotonic()
    problems = _in_browser(chromium, run)
    assert problems == []  # no script errors and no Content-Security-Policy violations
    assert time.monotonic() - started < 25


def list_reports_of(app: FastAPI) -> list[Any]:
    with app.state.store.engine.connect() as conn:
        return list_reports(conn, kinds=("case-pdf",))


def test_the_network_view_draws_a_neighbourhood_and_a_community(
    chromium: str, console: tuple[str, FastAPI]
) -> None:
    server, app = console
    top = suspects(app.state.store, 1)[0].score.person_id

    def run(page: Any, expect: Any) -> None:
        _log_in(page, server, f"/network?person={top}")
        graph = page.locator("#network")
        expect(graph).to_have_attribute("data-state", "drawn")
        assert int(str(graph.get_attribute("data-nodes"))) > 3
        assert page.evaluate("window.rakshaNetwork.nodes().length") == int(
            str(graph.get_attribute("data-nodes"))
        )
        expect(page.locator("#network-title")).to_contain_text(f"person #{top}")
        # Tap the person in the middle: their details, with a link to their page.
        page.evaluate(
            f"() => {{ window.rakshaNetwork.getElementById('person:{top}').emit('tap'); }}"
        )
        expect(page.get_by_role("link", name=f"Open person #{top}")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "14-network-person.png"), full_page=True)

        page.get_by_role("link", name="Communities", exact=True).click()
        page.get_by_role("link", name="community 0", exact=True).click()
        expect(graph).to_have_attribute("data-state", "drawn")
        expect(page.locator("#network-title")).to_contain_text("community 0:")
        page.screenshot(path=str(ARTIFACTS / "15-network-community.png"), full_page=True)

    started = time.monotonic()
    problems = _in_browser(chromium, run)
    assert problems == []
    assert time.monotonic() - started < 25
