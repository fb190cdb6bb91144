"""End to end in a real browser (Debian's chromium, headless, driven by Playwright): import
a set, start a scan from the evidence page, watch its progress finish, review a hit and
reveal one preview.

The same launch pattern as ``test_browser.py``: the console under uvicorn in a thread on
a free port over a temporary SQLite store; screenshots go to ``tests/web/artifacts/``.
Without chromium the test is skipped, unless RAKSHA_TEST_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from raksha.cases import audit, records, users
from raksha.cases.actor import Actor
from raksha.hashing.crypto import digest_bytes
from raksha.settings import Settings
from tests.web.review_seed import build_phone
from tests.web.test_browser import ARTIFACTS, PASSWORD, chromium

__all__ = ["chromium"]  # the fixture, shared with test_browser.py

pytestmark = pytest.mark.slow
CASE = "FIR 21/2026"


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, FastAPI]]:
    """The console on 127.0.0.1:<free port> with a supervisor and a case; (URL, app)."""
    import uvicorn

    from raksha.web.app import create_app

    home = tmp_path / "home"
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'raksha.db'}")
    app = create_app(settings)
    with app.state.store.engine.begin() as conn:
        admin = users.create_user(conn, Actor.local_setup(), "sp.cyber", "admin", PASSWORD)
        supervisor = users.create_user(conn, admin.actor(), "insp.rao", "supervisor", PASSWORD)
    records.create_case(app.state.store, supervisor.actor(), CASE)
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
    scans = getattr(app.state, "scans", None)
    if scans is not None:
        scans.wait(30)
    uv.should_exit = True
    thread.join(10)
    sock.close()


def test_scan_from_the_page_then_confirm_a_hit_and_reveal_a_preview(
    chromium: str, console: tuple[str, FastAPI], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    server, app = console
    ARTIFACTS.mkdir(exist_ok=True)
    phone = build_phone(tmp_path / "seized" / "phone")
    hash_list = tmp_path / "reference-set.txt"
    hash_list.write_text("".join(f"md5 {digest_bytes(p).md5}\n" for p in phone.known))
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "response",
                lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.set_default_timeout(15000)

            page.goto(f"{server}/hashsets")
            page.get_by_label("Username").fill("insp.rao")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.get_by_label("File", exact=True).set_input_files(str(hash_list))
            page.get_by_label("Set name").fill("Reference set")
            page.get_by_role("button", name="Import").click()
            expect(page.locator("#import-progress")).to_have_attribute("data-state", "done")

            page.get_by_role("link", name="Evidence", exact=True).click()
            expect(page.get_by_role("heading", name="Evidence", exact=True)).to_be_visible()
            page.get_by_label("Path on the server").fill(str(phone.root))
            page.get_by_label("Hashing processes").fill("0")
            page.screenshot(path=str(ARTIFACTS / "review-01-scan-form.png"), full_page=True)
            page.get_by_role("button", name="Start the scan").click()
            expect(page.get_by_role("heading", name="Scan of")).to_be_visible()
            progress = page.locator("#scan-progress")
            expect(progress).to_have_attribute("data-state", "done")
            expect(progress).to_contain_text("3 hits")
            page.screenshot(path=str(ARTIFACTS / "review-02-scan-done.png"), full_page=True)

            page.get_by_role("link", name="Review its hits").click()
            expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
            expect(page.locator("#queue-count")).to_contain_text("3 hits")
            rows = page.locator("table.review tbody tr")
            expect(rows).to_have_count(3)
            first = rows.nth(0)
            preview = first.locator("img.preview")
            expect(preview).to_be_visible()
            page.wait_for_function(
                "() => [...document.querySelectorAll('img.preview')]"
                ".every(i => i.complete && i.naturalWidth > 0)"
            )
            assert 0 < preview.evaluate("i => i.naturalWidth") <= 160
            expect(rows.nth(2)).to_contain_text("no preview: inside a container")
            page.screenshot(path=str(ARTIFACTS / "review-03-queue.png"), full_page=True)

            first.get_by_role("button", name="Confirm").click()
            confirmed = page.locator("table.review tbody tr").nth(0)
            expect(confirmed).to_have_attribute("data-state", "confirmed")

            page.once("dialog", lambda dialog: dialog.accept())
            confirmed.get_by_role("button", name="Reveal").click()
            revealed = page.locator("img.revealed")
            expect(revealed).to_be_visible()
            assert 0 < revealed.evaluate("i => i.naturalWidth") <= 160
            expect(page.locator("img.revealed")).to_have_count(1)  # that one item only
            page.screenshot(path=str(ARTIFACTS / "review-04-revealed.png"), full_page=True)

            page.reload()  # never sticky: blurred again
            expect(page.locator("img.revealed")).to_have_count(0)
            expect(page.locator("img.preview")).to_have_count(1)
            expect(rows).to_have_count(2)  # the queue of new hits: the confirmed one has left
        finally:
            browser.close()
    assert problems == []  # no script errors and no Content-Security-Policy violations
    with app.state.store.engine.connect() as conn:
        assert [e["actor"] for e in audit.entries(conn, action="preview.reveal")] == ["insp.rao"]
        assert len(audit.entries(conn, action="hit.confirm")) == 1
        assert len(audit.entries(conn, action="scan.start")) == 1
