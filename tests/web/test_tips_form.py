"""The public tip form: no login, CSRF-protected, rate-limited, keeps only what was typed."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from raksha.store.case_models import audit_log_table
from raksha.store.intel_models import tips_table
from raksha.web.ratelimit import Limit, SlidingWindow
from raksha.web.security import FORM_COOKIE
from tests.web.conftest import People, TestClient, as_user, public_form, session_token

FOLLOW_UP = re.compile(r'id="follow-up">(T-\d{4}-[A-Z2-9]{8})<')
REPORTER = ("203.0.113.77", 41234)  # a documentation address (RFC 5737)
AGENT = "SyntheticBrowser/1.0 (reporter-fingerprint)"


def reporter_client(app: FastAPI) -> TestClient:
    return TestClient(app, client=REPORTER, headers={"User-Agent": AGENT}, follow_redirects=False)


def send(client: TestClient, **fields: str) -> Any:
    _, field_value = public_form(client)
    return client.post("/report", data={**fields, "csrf_token": field_value})


def all_rows(app: FastAPI, table: Any) -> list[dict[str, Any]]:
    with app.state.store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table)).mappings()]


def test_the_form_needs_no_login_and_shows_no_console(app: FastAPI) -> None:
    client = reporter_client(app)
    response = client.get("/report")
    assert response.status_code == 200
    assert '<form method="post" action="/report"' in response.text
    assert 'type="file"' not in response.text
    assert 'href="/hashsets"' not in response.text and "Log out" not in response.text
    assert set(re.findall(r'<(?:input|textarea)[^>]*name="([^"]+)"', response.text)) == {
        "csrf_token",
        "description",
        "identifier",
    }


def test_a_tip_gets_a_follow_up_number_and_keeps_only_what_was_typed(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    client = reporter_client(app)
    caplog.set_level(logging.DEBUG)
    response = send(
        client,
        description="A group sharing abuse links, seen on Tuesday",
        identifier="https://t.me/+SyntheticInvite123",
    )
    assert response.status_code == 200
    match = FOLLOW_UP.search(response.text)
    assert match is not None
    [row] = all_rows(app, tips_table)
    assert row["follow_up"] == match.group(1)
    assert row["text"] == "A group sharing abuse links, seen on Tuesday"
    assert row["value"] == "https://t.me/+SyntheticInvite123"
    assert row["kind"] == "invite_link"
    assert row["channel"] == "web"
    assert row["status"] == "new"
    assert row["notes"] is None
    assert set(row) == {
        "id", "follow_up", "received_at", "kind", "value", "text", "status", "channel", "notes"
    }  # fmt: skip
    # Nothing about the reporter anywhere: not in the tip, the audit log or the log lines.
    stored = repr(all_rows(app, tips_table)) + repr(all_rows(app, audit_log_table))
    for trace in (REPORTER[0], AGENT, "testclient"):
        assert trace not in stored
        assert trace not in caplog.text
    assert all_rows(app, audit_log_table) == []


def test_an_identifier_alone_is_classified_by_the_tip_service(app: FastAPI) -> None:
    response = send(reporter_client(app), identifier="+91 98765 43210")
    assert response.status_code == 200
    [row] = all_rows(app, tips_table)
    assert (row["kind"], row["value"], row["text"]) == ("phone", "+919876543210", None)


def test_an_empty_report_is_refused_with_a_sentence(app: FastAPI) -> None:
    response = send(reporter_client(app), description="   ", identifier="")
    assert response.status_code == 400
    assert "a tip needs a link, number or username, or a description" in response.text
    assert all_rows(app, tips_table) == []


def test_files_are_refused(app: FastAPI) -> None:
    client = reporter_client(app)
    _, field_value = public_form(client)
    response = client.post(
        "/report",
        data={"description": "with a file", "csrf_token": field_value},
        files={"evidence": ("picture.jpg", b"\xff\xd8synthetic", "image/jpeg")},
    )
    assert response.status_code == 400
    assert "no files" in response.text
    assert all_rows(app, tips_table) == []


def test_without_the_csrf_token_nothing_is_stored(app: FastAPI) -> None:
    client = reporter_client(app)
    public_form(client)  # has the cookie, but the field is left out
    response = client.post("/report", data={"description": "no token"})
    assert response.status_code == 403
    assert all_rows(app, tips_table) == []


def test_more_than_five_tips_in_ten_minutes_get_a_kind_429(
    make_app: Callable[..., FastAPI],
) -> None:
    from raksha.web.app import TIP_LIMIT

    assert Limit(5, 600) == TIP_LIMIT
    app = make_app(tip_limit=TIP_LIMIT)
    client = reporter_client(app)
    statuses = [send(client, description=f"tip {n}").status_code for n in range(5)]
    assert statuses == [200] * 5
    blocked = send(client, description="one too many")
    assert blocked.status_code == 429
    assert "please wait a few minutes" in blocked.text
    assert 0 < int(blocked.headers["retry-after"]) <= 600
    assert len(all_rows(app, tips_table)) == 5
    # Another client is not held up by this one.
    other = TestClient(app, client=("198.51.100.9", 5000), follow_redirects=False)
    assert send(other, description="from elsewhere").status_code == 200


def test_the_window_slides_and_keys_are_not_addresses() -> None:
    now = [1000.0]
    window = SlidingWindow(Limit(2, 60), clock=lambda: now[0])
    assert window.hit("203.0.113.5") is None
    assert window.hit("203.0.113.5") is None
    assert window.hit("203.0.113.5") == 60
    now[0] += 30
    assert window.retry_after("203.0.113.5") == 30
    now[0] += 31
    assert window.hit("203.0.113.5") is None
    assert all("203.0.113" not in key for key in window._events)


def test_a_logged_in_user_may_use_the_form_too(app: FastAPI, people: People) -> None:
    client = reporter_client(app)
    cookie, field_value = public_form(client)
    as_user(client, session_token(app, "investigator1"))
    client.cookies.set(FORM_COOKIE, cookie)
    response = client.post("/report", data={"description": "x", "csrf_token": field_value})
    assert response.status_code == 200
    [row] = all_rows(app, tips_table)
    assert row["channel"] == "web" and "investigator1" not in repr(row)
