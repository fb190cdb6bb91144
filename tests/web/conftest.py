"""Fixtures for the web console: an app on the test store (SQLite and PostgreSQL), one user
of every role, and helpers that log in and fetch CSRF tokens the way a browser does."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI

from raksha.cases import users
from raksha.cases.actor import ROLES, Actor
from raksha.settings import Settings
from raksha.web.ratelimit import Limit
from raksha.web.security import FORM_COOKIE, SESSION_COOKIE, session_csrf_token

with warnings.catch_warnings():  # starlette's note about httpx2 is not ours to act on
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = [
    "GENEROUS",
    "People",
    "TestClient",
    "as_user",
    "page_csrf",
    "password_of",
    "public_form",
    "session_token",
]

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
#: A limit no test reaches unless it means to.
GENEROUS = Limit(10_000, 600)


def password_of(role: str) -> str:
    return f"synthetic {role} passphrase"


@dataclass
class People:
    """One active user per role; ``usernames[role]``."""

    usernames: dict[str, str] = field(default_factory=dict)

    def actor(self, app: FastAPI, role: str) -> Actor:
        with app.state.store.engine.connect() as conn:
            return users.find_user(conn, self.usernames[role]).actor()


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters: these tests log in dozens of times; tests/cases checks the
    real ones."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Callable[..., FastAPI]]:
    """Build apps on the test store; each is closed (its imports awaited) afterwards."""
    from raksha.web.app import create_app

    made: list[FastAPI] = []

    def make(**options: Any) -> FastAPI:
        options.setdefault("tip_limit", GENEROUS)
        options.setdefault("login_failure_limit", GENEROUS)
        app = create_app(settings, **options)
        made.append(app)
        return app

    yield make
    for app in made:
        app.state.imports.wait(timeout=30)
        app.state.store.close()


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def people(app: FastAPI) -> People:
    """An admin (made in set-up mode) and then one user of every other role."""
    out = People()
    with app.state.store.engine.begin() as conn:
        admin = users.create_user(conn, Actor.local_setup(), "boss", "admin", password_of("admin"))
        out.usernames["admin"] = admin.username
        for role in ROLES:
            if role == "admin":
                continue
            name = f"{role}1"
            users.create_user(conn, admin.actor(), name, role, password_of(role))
            out.usernames[role] = name
    return out


def session_token(app: FastAPI, username: str, password: str | None = None) -> str:
    """A fresh console session for ``username`` (as the login form makes one)."""
    with app.state.store.engine.begin() as conn:
        role = users.find_user(conn, username).role
        return users.login(conn, username, password or password_of(role), client="web")


def as_user(client: TestClient, token: str | None) -> str | None:
    """Make ``client`` send only this session's cookie; returns its CSRF token."""
    client.cookies.clear()
    if token is None:
        return None
    client.cookies.set(SESSION_COOKIE, token)
    return session_csrf_token(token)


def public_form(client: TestClient, path: str = "/report") -> tuple[str, str]:
    """Open a public form like a browser: (the double-submit cookie, the hidden field)."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    match = CSRF_INPUT.search(response.text)
    assert match is not None
    cookie = client.cookies.get(FORM_COOKIE) or response.cookies.get(FORM_COOKIE)
    assert cookie is not None
    return cookie, match.group(1)


def page_csrf(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    match = CSRF_INPUT.search(response.text)
    assert match is not None
    return match.group(1)
