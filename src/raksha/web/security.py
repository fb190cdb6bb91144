"""Who is asking, and whether they may: sessions, CSRF and the per-route guard.

The session is a ``users.login`` token (client ``"web"``) in the ``raksha_session`` cookie
(HttpOnly, SameSite=Strict, Secure behind TLS); the store keeps only its SHA-256. Scripts
may send the same kind of token as ``Authorization: Bearer`` instead.

CSRF: a form of a logged-in user carries a token derived from the session token (an
HMAC keyed by it), so it needs no server state and is worthless without the cookie.
Forms without a session (login, the public tip form) use a signed double-submit cookie:
the cookie and the hidden field must be equal and carry the server's signature. Requests
authenticated by a bearer header carry no ambient credential and need no CSRF token.

:func:`guard` runs before every route: it looks the route up in
:data:`raksha.web.registry.ROUTE_ACCESS`, refuses anonymous or under-privileged callers,
checks need to know when the path names a ``case_id``, checks CSRF on every unsafe method
and audits reads of case data.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from raksha.cases import access, audit, users
from raksha.cases.actor import Actor
from raksha.errors import AccessDeniedError, AuthenticationError
from raksha.settings import Settings
from raksha.store.db import Store
from raksha.web.registry import LOGGED_IN, PUBLIC, Access

logger = logging.getLogger(__name__)

SESSION_COOKIE = "raksha_session"
FORM_COOKIE = "raksha_form"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Longer "tokens" are not looked up (a token from users.login is 43 characters).
_MAX_TOKEN = 200


class NotLoggedInError(AuthenticationError):
    """No live session: HTML gets a redirect to the login page, the API a 401."""


class CsrfError(AccessDeniedError):
    """A form came without the token this session (or this browser) was given."""


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who sent a request: the actor behind a live session, and how it was presented."""

    actor: Actor | None = None
    token: str | None = None
    via: str | None = None  # "cookie" or "bearer"


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def is_api(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith("/api/")


def is_secure(request: Request) -> bool:
    """Whether cookies get the Secure flag: HTTPS, or the settings say TLS is in front."""
    return request.url.scheme == "https" or settings_of(request).web_secure_cookies


def _presented_token(request: Request) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None, "bearer"
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie or None), ("cookie" if cookie else None)


def resolve_visitor(request: Request) -> Visitor:
    """The visitor behind the request's session cookie or bearer token (cached per request).

    Blocking (one query): call it from a thread, as sync dependencies are.
    """
    cached: Visitor | None = getattr(request.state, "visitor", None)
    if cached is not None:
        return cached
    token, via = _presented_token(request)
    visitor = Visitor(token=token, via=via)
    if token is not None and len(token) <= _MAX_TOKEN:
        with store_of(request).engine.connect() as conn:
            session = users.session_for_token(conn, token)
        if session is not None:
            visitor = Visitor(actor=session.actor, token=token, via=via)
    request.state.visitor = visitor
    return visitor


def acting_user(request: Request) -> Actor:
    """Dependency: the logged-in user of this request (the guard has checked the route)."""
    actor = resolve_visitor(request).actor
    if actor is None:
        raise NotLoggedInError("log in first")
    return actor


def require(permission: str) -> Callable[[Request], Actor]:
    """Dependency factory: the logged-in user, who must hold ``permission``.

    The guard already enforces each route's registry entry; use this where a route needs a
    second, stricter permission for part of what it does.
    """

    def dependency(request: Request) -> Actor:
        actor = acting_user(request)
        access.require(actor, permission)
        return actor

    return dependency


# -- CSRF ------------------------------------------------------------------------------


def session_csrf_token(session_token: str) -> str:
    """The CSRF token of a session: an HMAC keyed by its (secret, HttpOnly) token."""
    return hmac.new(session_token.encode(), b"raksha-csrf-v1", hashlib.sha256).hexdigest()


def _sign(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, nonce.encode(), hashlib.sha256).hexdigest()


def new_form_token(secret: bytes) -> str:
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_sign(secret, nonce)}"


def valid_form_token(secret: bytes, value: str | None) -> bool:
    if not value or len(value) > _MAX_TOKEN:
        return False
    nonce, _, signature = value.partition(".")
    return bool(nonce) and hmac.compare_digest(signature, _sign(secret, nonce))


def form_secret(request: Request) -> bytes:
    secret: bytes = request.app.state.form_secret
    return secret


def form_token(request: Request) -> str:
    """The double-submit token for a form without a session (made once per browser)."""
    secret = form_secret(request)
    existing = request.cookies.get(FORM_COOKIE)
    if valid_form_token(secret, existing):
        return str(existing)
    pending: str | None = getattr(request.state, "new_form_token", None)
    if pending is None:
        pending = new_form_token(secret)
        request.state.new_form_token = pending
    return pending


def csrf_token_for(request: Request) -> str | None:
    """The token a form on this page must carry (``None``: the page has no forms that need
    one, e.g. a bearer-authenticated API call)."""
    name = getattr(request.scope.get("route"), "name", None)
    entry = request.app.state.route_access.get(name)
    if entry is not None and entry.permission == PUBLIC:
        return form_token(request)
    visitor: Visitor | None = getattr(request.state, "visitor", None)
    if visitor is not None and visitor.actor is not None and visitor.via == "cookie":
        return session_csrf_token(str(visitor.token))
    return form_token(request)


def attach_cookies(request: Request, response: Response) -> None:
    """Set the double-submit cookie on ``response`` if this request made a new one."""
    pending: str | None = getattr(request.state, "new_form_token", None)
    if pending is not None:
        response.set_cookie(
            FORM_COOKIE,
            pending,
            httponly=True,
            samesite="lax",
            secure=is_secure(request),
            path="/",
        )


async def _submitted_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached on the request: the route reads the same form
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def check_csrf(request: Request, visitor: Visitor, public: bool) -> None:
    submitted = await _submitted_token(request)
    if public:
        cookie = request.cookies.get(FORM_COOKIE)
        ok = (
            submitted is not None
            and cookie is not None
            and hmac.compare_digest(submitted, cookie)
            and valid_form_token(form_secret(request), cookie)
        )
    else:
        expected = session_csrf_token(str(visitor.token))
        ok = submitted is not None and hmac.compare_digest(submitted, expected)
    if not ok:
        logger.warning("CSRF check failed for %s %s", request.method, request.url.path)
        raise CsrfError(
            "this form has expired or did not come from this site; reload the page and "
            "send it again"
        )


# -- cookies ---------------------------------------------------------------------------


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(users.SESSION_HOURS * 3600),
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="strict", secure=is_secure(request), path="/"
    )


# -- the guard -------------------------------------------------------------------------


def route_entry(request: Request) -> tuple[str | None, Access | None]:
    name = getattr(request.scope.get("route"), "name", None)
    registry: dict[str, Access] = request.app.state.route_access
    return name, registry.get(name) if name is not None else None


def _check_case(request: Request, actor: Actor, entry: Access, raw_case_id: Any) -> int:
    try:
        case_id = int(raw_case_id)
    except (TypeError, ValueError):
        raise AccessDeniedError(f"{raw_case_id!r} is not a case id") from None
    permission = "case.read" if entry.permission == LOGGED_IN else entry.permission
    with store_of(request).engine.connect() as conn:
        access.require_case(conn, actor, case_id, permission)
    return case_id


def audit_read(request: Request, actor: Actor, case_id: int | None = None) -> None:
    """Write the "web.read" entry for a page or API call that showed case data."""
    path = request.url.path
    details: dict[str, Any] = {"path": path, "client": "api" if is_api(request) else "web"}
    if request.url.query:
        details["query"] = request.url.query[:500]
    with store_of(request).engine.begin() as conn:
        audit.record(
            conn,
            actor,
            "web.read",
            case_id=case_id,
            object_kind="page",
            object_id=path[:100],
            details=details,
        )


async def guard(request: Request) -> None:
    """Enforce the route's registry entry (runs before every route; see module doc)."""
    name, entry = route_entry(request)
    if entry is None:  # check_registry makes this unreachable in a started app
        logger.error("route %r is not in the permission registry; refusing it", name)
        raise AccessDeniedError("this page is not open to anyone (it has no permission entry)")
    unsafe = request.method in UNSAFE_METHODS
    if entry.permission == PUBLIC:
        if unsafe:
            await check_csrf(request, Visitor(), public=True)
        return
    visitor = await run_in_threadpool(resolve_visitor, request)
    actor = visitor.actor
    if actor is None:
        raise NotLoggedInError("log in first")
    if entry.permission != LOGGED_IN:
        access.require(actor, entry.permission)
    case_id = None
    if "case_id" in request.path_params:
        case_id = await run_in_threadpool(
            _check_case, request, actor, entry, request.path_params["case_id"]
        )
    if unsafe and visitor.via == "cookie":
        await check_csrf(request, visitor, public=False)
    if entry.case_data and request.method == "GET":
        await run_in_threadpool(audit_read, request, actor, case_id)
