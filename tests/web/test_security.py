"""Who may open what: every route with every role, sessions, CSRF and security headers."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from raksha.cases import audit, users
from raksha.cases.access import PERMISSIONS
from raksha.cases.actor import ROLES
from raksha.settings import Settings
from raksha.store.case_models import user_sessions_table
from raksha.web.headers import BASE_HEADERS
from raksha.web.ratelimit import Limit
from raksha.web.registry import LOGGED_IN, PUBLIC, ROUTE_ACCESS, Access, api_routes, check_registry
from raksha.web.security import FORM_COOKIE, SESSION_COOKIE, session_csrf_token
from tests.web.case_state import CASE_SAMPLES
from tests.web.conftest import (
    People,
    TestClient,
    as_user,
    password_of,
    public_form,
    session_token,
)
from tests.web.review_seed import REVIEW_SAMPLES

MD5 = "0123456789abcdef0123456789abcdef"


def assert_security_headers(response: Any) -> None:
    for name, value in BASE_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    expected = "no-cache" if response.request.url.path.startswith("/static/") else "no-store"
    assert response.headers.get("cache-control") == expected, response.request.url


# -- the walk --------------------------------------------------------------------------


@dataclass
class Sample:
    """What one request to a route sends: path parameters, form fields, files."""

    path: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] | None = None


@dataclass
class WalkContext:
    app: FastAPI
    people: People
    job_id: str
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def new_user(self) -> str:
        """A fresh active user (something for ``users.disable`` to disable)."""
        name = f"walk-target-{next(self.counter)}"
        admin = self.people.actor(self.app, "admin")
        with self.app.state.store.engine.begin() as conn:
            users.create_user(conn, admin, name, "analyst", "walk target password")
        return name


#: route name -> what a request to it sends. Every route with path parameters or a body
#: needs one: the walk fails and names the route otherwise.
SAMPLES: dict[str, Callable[[WalkContext], Sample]] = {
    "auth.login": lambda c: Sample(
        data={"username": c.people.usernames["analyst"], "password": password_of("analyst")}
    ),
    "auth.logout": lambda c: Sample(),
    "tips.submit": lambda c: Sample(data={"description": "seen in a group (walk test)"}),
    "hashsets.import": lambda c: Sample(
        data={"name": f"walk-set-{next(c.counter)}"},
        files={"file": ("walk.txt", f"md5 {MD5}\n".encode())},
    ),
    "hashsets.import_status": lambda c: Sample(path={"job_id": c.job_id}),
    "hashsets.import_progress": lambda c: Sample(path={"job_id": c.job_id}),
    "api.hashset_import": lambda c: Sample(path={"job_id": c.job_id}),
    "audit.verify": lambda c: Sample(data={"head": ""}),
    "users.add": lambda c: Sample(
        data={
            "username": f"walk-new-{next(c.counter)}",
            "role": "analyst",
            "password": "walk new password",
        }
    ),
    "users.disable": lambda c: Sample(path={"username": c.new_user()}),
}


def _sampled(make: Callable[[WalkContext], dict[str, Any]]) -> Callable[[WalkContext], Sample]:
    """A walk sample from a function that returns the Sample's fields."""
    return lambda c: Sample(**make(c))


# Cases, operations, seizures, reports and the network (tests/web/case_state.py).
SAMPLES.update({name: _sampled(make) for name, make in CASE_SAMPLES.items()})
# Evidence, scans and the review queue (tests/web/review_seed.py).
SAMPLES.update({name: _sampled(make) for name, make in REVIEW_SAMPLES.items()})
#: Routes that end the session they are called with: each call gets a fresh one.
SESSION_ENDING = frozenset({"auth.login", "auth.logout"})


def expected(entry: Access, role: str | None) -> str:
    if entry.permission == PUBLIC:
        return "ok"
    if role is None:
        return "login"
    if entry.permission == LOGGED_IN or role in PERMISSIONS[entry.permission]:
        return "ok"
    return "forbidden"


def outcome(response: Any, api: bool) -> str:
    status = response.status_code
    location = response.headers.get("location", "")
    if status == 401 and api:
        return "login"
    if status == 303 and location.startswith("/login?next=") and not api:
        return "login"
    if status in (200, 303):
        return "ok"
    if status == 403:
        return "forbidden"
    return f"status {status}: {response.text[:300]}"


def test_registry_matches_the_routes(app: FastAPI) -> None:
    assert check_registry(app.routes, ROUTE_ACCESS) == []
    names = [str(r.name) for r in api_routes(app.routes)]
    assert sorted(names) == sorted(ROUTE_ACCESS)


def test_registry_check_names_a_route_missing_from_it(app: FastAPI) -> None:
    partial = dict(ROUTE_ACCESS)
    del partial["users.add"]
    partial["ghost.page"] = Access(LOGGED_IN)
    problems = check_registry(app.routes, partial)
    assert any("'users.add'" in p and "not in the registry" in p for p in problems)
    assert any("'ghost.page'" in p and "has no route" in p for p in problems)


def test_an_app_whose_route_is_not_registered_refuses_to_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from raksha.web import app as app_module

    partial = dict(ROUTE_ACCESS)
    del partial["dashboard.show"]
    monkeypatch.setattr(app_module, "ROUTE_ACCESS", partial)
    with pytest.raises(RuntimeError, match=r"dashboard\.show"):
        app_module.create_app(settings)


def test_every_route_with_every_role(app: FastAPI, people: People) -> None:
    """Each route, each role and anonymous: exactly the access the registry and
    ``access.PERMISSIONS`` say, and the security headers on every response."""
    client = TestClient(app, follow_redirects=False)
    admin = people.actor(app, "admin")
    seed = app.state.imports.start(admin, io.BytesIO(f"md5 {MD5}\n".encode()), "seed.txt")
    assert app.state.imports.wait()
    context = WalkContext(app, people, seed.id)
    form_cookie, form_field = public_form(client)
    routes = sorted(api_routes(app.routes), key=lambda r: (str(r.name) in SESSION_ENDING, r.path))
    missing = [
        str(r.name)
        for r in routes
        if (r.param_convertors or (r.methods or set()) - {"GET", "HEAD"}) and r.name not in SAMPLES
    ]
    assert missing == [], f"add a walk sample for {missing}"
    failures = []
    for role in (None, *ROLES):
        token = None if role is None else session_token(app, people.usernames[role])
        for route in routes:
            name = str(route.name)
            entry = ROUTE_ACCESS[name]
            (method,) = (route.methods or set()) - {"HEAD"}
            sample = SAMPLES[name](context) if name in SAMPLES else Sample()
            if role is not None and name in SESSION_ENDING:
                token = session_token(app, people.usernames[role])
            csrf = as_user(client, token)
            client.cookies.set(FORM_COOKIE, form_cookie)
            data = dict(sample.data)
            if method != "GET":
                data["csrf_token"] = form_field if entry.permission == PUBLIC else csrf or "x"
            url = str(route.path_format).format(**sample.path)
            if method == "GET":
                response = client.get(url)
            else:
                response = client.request(method, url, data=data, files=sample.files)
            assert_security_headers(response)
            want = expected(entry, role)
            got = outcome(response, url.startswith("/api/"))
            if got != want:
                failures.append(f"{role or 'anonymous'} {method} {url}: want {want}, got {got}")
            elif method == "GET" and entry.case_data and response.status_code == 200:
                with app.state.store.engine.connect() as conn:
                    latest = audit.entries(conn, action="web.read", limit=1)
                if not latest or latest[0]["object_id"] != url.split("?")[0]:
                    failures.append(f"{role} GET {url}: its read of case data was not audited")
    assert failures == []


# -- sessions --------------------------------------------------------------------------


def test_login_sets_a_strict_httponly_cookie_and_logout_ends_the_session(
    client: TestClient, people: People, app: FastAPI
) -> None:
    _, field_value = public_form(client, "/login")
    response = client.post(
        "/login",
        data={
            "username": "supervisor1",
            "password": password_of("supervisor"),
            "csrf_token": field_value,
            "next": "/audit",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/audit"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in set_cookie
    assert "samesite=strict" in set_cookie.lower()
    assert "Secure" not in set_cookie  # plain HTTP, no TLS setting
    token = client.cookies[SESSION_COOKIE]
    with app.state.store.engine.connect() as conn:
        session = users.session_for_token(conn, token)
        assert session is not None and session.client == "web"
        stored = conn.execute(select(user_sessions_table.c.token_sha256)).scalars().all()
    assert token not in stored and users.token_digest(token) in stored
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={"csrf_token": session_csrf_token(token)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    with app.state.store.engine.connect() as conn:
        assert users.session_for_token(conn, token) is None
    client.cookies.set(SESSION_COOKIE, token)
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_wrong_password_says_the_same_as_unknown_user_and_is_audited(
    client: TestClient, people: People, app: FastAPI
) -> None:
    from raksha.cases import audit

    _, field_value = public_form(client, "/login")
    wrong = client.post(
        "/login",
        data={"username": "analyst1", "password": "not it at all", "csrf_token": field_value},
    )
    unknown = client.post(
        "/login",
        data={"username": "nobody", "password": "not it at all", "csrf_token": field_value},
    )
    assert wrong.status_code == unknown.status_code == 401
    assert users.LOGIN_FAILED in wrong.text and users.LOGIN_FAILED in unknown.text
    assert SESSION_COOKIE not in client.cookies
    with app.state.store.engine.connect() as conn:
        failed = audit.entries(conn, action="login.failed")
    assert [e["details"]["client"] for e in failed] == ["web", "web"]


def test_failed_logins_are_rate_limited(make_app: Callable[..., FastAPI], people: People) -> None:
    app = make_app(login_failure_limit=Limit(3, 600))  # the same store the people are in
    client = TestClient(app, follow_redirects=False)
    _, field_value = public_form(client, "/login")
    form = {"username": "analyst1", "password": "guess guess guess", "csrf_token": field_value}
    assert [client.post("/login", data=form).status_code for _ in range(3)] == [401] * 3
    blocked = client.post("/login", data=form)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    form["password"] = password_of("analyst")  # even the right password waits
    assert client.post("/login", data=form).status_code == 429


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_login_never_redirects_to_another_site(
    client: TestClient, people: People, target: str
) -> None:
    _, field_value = public_form(client, "/login")
    response = client.post(
        "/login",
        data={
            "username": "analyst1",
            "password": password_of("analyst"),
            "csrf_token": field_value,
            "next": target,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_a_disabled_users_session_stops_working(
    client: TestClient, people: People, app: FastAPI
) -> None:
    token = session_token(app, "investigator1")
    as_user(client, token)
    assert client.get("/").status_code == 200
    with app.state.store.engine.begin() as conn:
        users.disable_user(conn, people.actor(app, "admin"), "investigator1")
    assert client.get("/").status_code == 303
    assert client.get("/api/me").status_code == 401


def test_secure_cookies_behind_tls(settings: Settings, people: People) -> None:
    from dataclasses import replace

    from raksha.web.app import create_app

    app = create_app(replace(settings, web_secure_cookies=True))
    try:
        client = TestClient(app, follow_redirects=False)
        cookie, field_value = public_form(client, "/login")
        client.cookies.set(FORM_COOKIE, cookie)  # httpx keeps Secure cookies off plain HTTP
        response = client.post(
            "/login",
            data={
                "username": "auditor1",
                "password": password_of("auditor"),
                "csrf_token": field_value,
            },
        )
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"]
        assert response.headers["strict-transport-security"].startswith("max-age=")
    finally:
        app.state.store.close()


def test_https_requests_get_secure_cookies(app: FastAPI, people: People) -> None:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    response = client.get("/report")
    assert "Secure" in response.headers["set-cookie"]
    assert "strict-transport-security" in response.headers


def test_api_takes_a_bearer_token_and_says_401_without_one(
    client: TestClient, people: People, app: FastAPI
) -> None:
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me").headers["www-authenticate"] == "Bearer"
    with app.state.store.engine.begin() as conn:
        token = users.login(conn, "auditor1", password_of("auditor"), client="cli")
    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["role"] == "auditor"
    assert "audit.read" in response.json()["permissions"]
    bad = client.get("/api/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_unknown_paths_are_not_served_to_anonymous_visitors(
    client: TestClient, people: People, app: FastAPI
) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get("/api/no/such").status_code == 401
    as_user(client, session_token(app, "analyst1"))
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/api/no/such").json() == {"error": "there is no such page"}


# -- CSRF ------------------------------------------------------------------------------


def test_console_forms_need_the_sessions_csrf_token(
    client: TestClient, people: People, app: FastAPI
) -> None:
    token = session_token(app, "boss")
    other = session_token(app, "supervisor1")
    as_user(client, token)
    form = {"username": "csrf-victim", "role": "analyst", "password": "long enough pw"}
    assert client.post("/users", data=form).status_code == 403
    assert client.post("/users", data={**form, "csrf_token": "0" * 64}).status_code == 403
    forged = {**form, "csrf_token": session_csrf_token(other)}
    assert client.post("/users", data=forged).status_code == 403
    assert client.post("/logout").status_code == 403
    with app.state.store.engine.connect() as conn:
        assert "csrf-victim" not in [
            u.username for u in users.list_users(conn, people.actor(app, "admin"))
        ]
        assert users.session_for_token(conn, token) is not None
    header = client.post("/users", data=form, headers={"X-CSRF-Token": session_csrf_token(token)})
    assert header.status_code == 303


def test_public_forms_need_the_signed_double_submit_cookie(client: TestClient) -> None:
    cookie, field_value = public_form(client)
    form = {"description": "csrf test"}
    client.cookies.clear()
    assert client.post("/report", data=form).status_code == 403
    assert client.post("/report", data={**form, "csrf_token": field_value}).status_code == 403
    client.cookies.set(FORM_COOKIE, cookie)
    assert client.post("/report", data=form).status_code == 403
    assert client.post("/report", data={**form, "csrf_token": "x.y"}).status_code == 403
    unsigned = "made-up-nonce.0000"
    client.cookies.set(FORM_COOKIE, unsigned)
    assert client.post("/report", data={**form, "csrf_token": unsigned}).status_code == 403
    client.cookies.set(FORM_COOKIE, cookie)
    assert client.post("/report", data={**form, "csrf_token": field_value}).status_code == 200


def test_a_form_cookie_from_another_server_is_refused(
    make_app: Callable[..., FastAPI], client: TestClient
) -> None:
    cookie, field_value = public_form(client)
    other = TestClient(make_app(), follow_redirects=False)
    other.cookies.set(FORM_COOKIE, cookie)
    response = other.post("/report", data={"description": "x", "csrf_token": field_value})
    assert response.status_code == 403


# -- headers ---------------------------------------------------------------------------


def test_security_headers_on_every_kind_of_response(
    client: TestClient, people: People, app: FastAPI
) -> None:
    _, field_value = public_form(client)
    too_long = {"description": "x" * 6000, "csrf_token": field_value}
    responses = [
        client.post("/report", data=too_long),  # 422
        client.get("/"),  # redirect to login
        client.get("/login"),
        client.get("/report"),
        client.post("/report", data={"description": "no token"}),  # 403
        client.get("/api/me"),  # 401
        client.get("/static/app.css"),
        client.get("/static/vendor/htmx-2.0.11.min.js"),
        client.get("/static/missing.css"),
        client.get("/nowhere"),
    ]
    as_user(client, session_token(app, "analyst1"))
    responses += [
        client.get("/"),
        client.get("/audit"),  # 403
        client.get("/nowhere"),  # 404
        client.get("/api/tips", params={"status": "bogus"}),  # 400
    ]
    statuses = {r.status_code for r in responses}
    assert {200, 303, 400, 401, 403, 404, 422} <= statuses
    for response in responses:
        assert_security_headers(response)
    csp = BASE_HEADERS["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_pages_have_no_inline_script_or_style_and_load_nothing_from_elsewhere(
    client: TestClient, people: People, app: FastAPI
) -> None:
    as_user(client, session_token(app, "supervisor1"))
    for path in ("/", "/hashsets", "/login", "/report", "/api/docs"):
        html = client.get(path, follow_redirects=True).text
        for tag in re.findall(r"<script[^>]*>", html):
            assert 'src="/static/' in tag, (path, tag)
        assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None, path
        assert "<style" not in html and " style=" not in html, path
        assert re.search(r"<[^>]+\son[a-z]+=", html) is None, path
        for url in re.findall(r'(?:src|href|action)="([^"]*)"', html):
            assert url.startswith(("/", "#")) or url == "data:,", (path, url)


# -- need to know, and the server ------------------------------------------------------


def test_a_path_naming_a_case_is_refused_to_users_not_assigned_to_it(
    client: TestClient, people: People, app: FastAPI
) -> None:
    from sqlalchemy import insert

    from raksha.store.case_models import case_members_table
    from raksha.store.scan_repo import create_case

    def case_page(case_id: int) -> dict[str, int]:
        return {"case": case_id}

    app.add_api_route("/test/cases/{case_id}", case_page, name="test.case_page")
    app.state.route_access["test.case_page"] = Access("case.read", case_data=True)
    case = create_case(app.state.store, "FIR 77/2026")
    with app.state.store.engine.begin() as conn:
        analyst = users.find_user(conn, "analyst1")
        conn.execute(insert(case_members_table).values(case_id=case.id, user_id=analyst.id))
    url = f"/test/cases/{case.id}"
    as_user(client, session_token(app, "investigator1"))
    refused = client.get(url)
    assert refused.status_code == 403 and "not assigned to case" in refused.text
    for username in ("analyst1", "supervisor1", "auditor1"):
        as_user(client, session_token(app, username))
        assert client.get(url).status_code == 200, username
    as_user(client, session_token(app, "boss"))  # admins read cases only when assigned
    assert client.get(url).status_code == 403
    with app.state.store.engine.connect() as conn:
        from raksha.cases import audit

        reads = audit.entries(conn, action="web.read", case_id=case.id)
    assert [e["actor"] for e in reads] == ["auditor1", "supervisor1", "analyst1"]


def test_serve_listens_on_loopback_without_an_access_log(
    env_for: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from raksha.cli.main import main

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    assert main(["serve"]) == 0
    assert main(["serve", "--host", "0.0.0.0", "--port", "8443"]) == 0
    first, second = calls
    assert (first["host"], first["port"], first["access_log"]) == ("127.0.0.1", 8000, False)
    assert (second["host"], second["port"]) == ("0.0.0.0", 8443)
    assert isinstance(first["app"], FastAPI)
    for call in calls:
        call["app"].state.store.close()
