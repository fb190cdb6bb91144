"""End to end in a real browser: Debian's chromium, headless, driven by Playwright.

The console runs under uvicorn in a thread on a free port over a temporary SQLite store.
Screenshots go to ``tests/web/artifacts/`` (ignored by git; CI keeps them). Without
chromium the test is skipped, unless RAKSHA_TEST_REQUIRE_BROWSER=1 (CI), when it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from raksha.cases import users
from raksha.cases.actor import Actor
from raksha.settings import Settings

ARTIFACTS = Path(__file__).with_name("artifacts")
REQUIRE = os.environ.get("RAKSHA_TEST_REQUIRE_BROWSER") == "1"
PASSWORD = "synthetic browser passphrase"

pytestmark = pytest.mark.slow


def _need(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"RAKSHA_TEST_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        _need("Debian's chromium is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _need("playwright for Python is not installed (pip install -e '.[test]')")
    return str(path)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The console on 127.0.0.1:<free port>; yields its base URL."""
    import uvicorn

    from raksha.web.app import create_app

    home = tmp_path / "home"
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'raksha.db'}")
    app = create_app(settings)
    with app.state.store.engine.begin() as conn:
        users.create_user(conn, Actor.local_setup(), "sp.cyber", "admin", PASSWORD, "SP Cyber")
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
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(10)
    sock.close()


def test_log_in_import_a_set_and_submit_a_tip(chromium: str, server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    hash_list = tmp_path / "synthetic-set.txt"
    hash_list.write_text("".join(f"md5 {n:032x}\n" for n in range(1, 51)), encoding="utf-8")
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "response",
                lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.set_default_timeout(8000)

            page.goto(f"{server}/hashsets")  # not logged in: sent to the login page
            expect(page).to_have_url(f"{server}/login?next=/hashsets")
            page.get_by_label("Username").fill("sp.cyber")
            page.get_by_label("Password").fill(PASSWORD)
            page.screenshot(path=str(ARTIFACTS / "01-login.png"))
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="Hash sets")).to_be_visible()
            assert page.evaluate("typeof htmx") == "object"  # loaded from /static under CSP

            page.get_by_label("File", exact=True).set_input_files(str(hash_list))
            page.get_by_label("Set name").fill("Browser set")
            page.get_by_role("button", name="Import").click()
            expect(page.get_by_role("heading", name="Import of synthetic-set.txt")).to_be_visible()
            expect(page.locator("#import-progress")).to_have_attribute("data-state", "done")
            expect(page.locator("#import-progress")).to_contain_text("50 hashes added")
            page.screenshot(path=str(ARTIFACTS / "02-import-done.png"), full_page=True)

            page.get_by_role("link", name="Dashboard").click()
            expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "03-dashboard.png"), full_page=True)
            page.get_by_role("button", name="Log out").click()
            expect(page).to_have_url(f"{server}/login")

            citizen = browser.new_context().new_page()
            citizen.set_default_timeout(8000)
            citizen.goto(f"{server}/report")
            citizen.get_by_label("What did you see").fill("A channel sharing abuse links")
            citizen.get_by_label("A phone number, username or link").fill("@synthetic_channel")
            citizen.screenshot(path=str(ARTIFACTS / "04-report-form.png"), full_page=True)
            citizen.get_by_role("button", name="Send the report").click()
            expect(citizen.locator("#follow-up")).to_have_text(re.compile(r"^T-\d{4}-[A-Z2-9]{8}$"))
            citizen.screenshot(path=str(ARTIFACTS / "05-report-done.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []  # no script errors and no Content-Security-Policy violations
