"""Logging in and out of the console.

A login is ``users.login`` with client ``"web"``: the same password check, session table
and audit entries as ``raksha login``. Failed logins are limited per client (in memory,
the address never kept) so the form cannot be used to guess passwords quickly.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from raksha.cases import users
from raksha.errors import AuthenticationError
from raksha.web.ratelimit import RateLimitedError, SlidingWindow
from raksha.web.security import (
    acting_user,
    clear_session_cookie,
    resolve_visitor,
    set_session_cookie,
    store_of,
)
from raksha.web.templating import render

logger = logging.getLogger(__name__)

router = APIRouter(tags=["auth"], include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only (never another host)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _failures(request: Request) -> SlidingWindow:
    window: SlidingWindow = request.app.state.login_failures
    return window


@router.get("/login", name="auth.login_form")
def login_form(
    request: Request, next_: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    visitor = resolve_visitor(request)
    if visitor.actor is not None:
        return RedirectResponse(safe_next(next_), status_code=303)
    with store_of(request).engine.connect() as conn:
        setup = not users.any_users(conn)
    return render(request, "login.html", {"next": safe_next(next_), "setup": setup})


@router.post("/login", name="auth.login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=users.MAX_PASSWORD_LENGTH)],
    next_: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    failures = _failures(request)
    wait = failures.retry_after(_client(request))
    if wait is not None:
        raise RateLimitedError(
            "too many failed logins from here; wait a few minutes and try again", wait
        )
    old = resolve_visitor(request)
    try:
        with store_of(request).engine.begin() as conn:
            token = users.login(conn, username.strip(), password, client="web")
            if old.actor is not None and old.via == "cookie" and old.token:
                users.logout(conn, old.token)  # a new login ends this browser's old one
    except AuthenticationError as exc:
        failures.hit(_client(request))
        return render(
            request,
            "login.html",
            {"next": safe_next(next_), "setup": False, "error": str(exc), "username": username},
            status_code=401,
        )
    response = RedirectResponse(safe_next(next_), status_code=303)
    set_session_cookie(request, response, token)
    return response


@router.post("/logout", name="auth.logout")
def logout(request: Request) -> Response:
    acting_user(request)
    visitor = resolve_visitor(request)
    if visitor.via == "cookie" and visitor.token:
        with store_of(request).engine.begin() as conn:
            users.logout(conn, visitor.token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response
