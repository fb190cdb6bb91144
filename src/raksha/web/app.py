"""The app factory of the web console and the JSON API.

``create_app(settings)`` opens one :class:`~raksha.store.db.Store` for the app's lifetime
(the same settings as the CLI), includes the routers of ``raksha.web.routes.ROUTERS``
behind one guard, mounts the static files and maps Raksha's errors to pages or JSON.
It refuses to build an app whose routes and permission registry disagree.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from raksha import __version__
from raksha.errors import (
    AccessDeniedError,
    AuthenticationError,
    InputFormatError,
    NotFoundError,
    RakshaError,
    StoreError,
    UsageError,
)
from raksha.settings import Settings
from raksha.store.db import Store
from raksha.web.headers import SecurityHeadersMiddleware
from raksha.web.imports import ImportJobs
from raksha.web.ratelimit import Limit, RateLimitedError, SlidingWindow
from raksha.web.registry import ROUTE_ACCESS, check_registry
from raksha.web.routes import ROUTERS
from raksha.web.security import (
    NotLoggedInError,
    clear_session_cookie,
    guard,
    is_api,
    resolve_visitor,
)
from raksha.web.templating import STATIC_DIR, render

logger = logging.getLogger(__name__)

#: Public tips: at most 5 per client in 10 minutes.
TIP_LIMIT = Limit(5, 600)
#: Failed logins: at most 10 per client in 10 minutes.
LOGIN_FAILURE_LIMIT = Limit(10, 600)

_PUBLIC_PREFIXES = ("/static/", "/report", "/login")


def create_app(
    settings: Settings | None = None,
    *,
    tip_limit: Limit = TIP_LIMIT,
    login_failure_limit: Limit = LOGIN_FAILURE_LIMIT,
) -> FastAPI:
    """The console and API on the store ``settings`` names (default: from the environment)."""
    settings = settings or Settings.from_env()
    store = Store.open(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.imports.wait(timeout=5)
        app.state.store.close()

    app = FastAPI(
        title="Raksha",
        version=__version__,
        description="The investigators' console and JSON API (every route needs a login "
        "except the public tip form).",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        dependencies=[Depends(guard)],
    )
    app.state.settings = settings
    app.state.store = store
    app.state.route_access = dict(ROUTE_ACCESS)
    app.state.form_secret = secrets.token_bytes(32)
    app.state.tip_limit = SlidingWindow(tip_limit)
    app.state.login_failures = SlidingWindow(login_failure_limit)
    app.state.imports = ImportJobs(store, settings.home / "web-uploads")
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    problems = check_registry(app.routes, app.state.route_access)
    if problems:
        store.close()
        raise RuntimeError("web routes and permission registry disagree: " + "; ".join(problems))
    _add_error_handlers(app)
    app.add_middleware(SecurityHeadersMiddleware, force_secure=lambda: settings.web_secure_cookies)
    return app


# -- errors ------------------------------------------------------------------------------


def _status_for(exc: RakshaError) -> int:
    if isinstance(exc, RateLimitedError):
        return 429
    if isinstance(exc, AccessDeniedError):
        return 403
    if isinstance(exc, AuthenticationError):
        return 401
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, UsageError | InputFormatError):
        return 400
    if isinstance(exc, StoreError):
        return 503
    return 500


def error_response(request: Request, status: int, message: str) -> Response:
    headers: dict[str, str] = {}
    if is_api(request):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    public = request.url.path.startswith(("/report", "/login"))
    context = {"status": status, "message": message, "public": public}
    return render(request, "error.html", context, status_code=status, headers=headers)


def unauthenticated(request: Request) -> Response:
    """401 for the API; for pages a redirect to the login page that comes back here."""
    if is_api(request):
        return JSONResponse(
            {"error": "log in first: send Authorization: Bearer TOKEN (from `raksha login`)"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
    if request.cookies.get("raksha_session"):
        clear_session_cookie(request, response)
    return response


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotLoggedInError)
    async def not_logged_in(request: Request, exc: NotLoggedInError) -> Response:
        return unauthenticated(request)

    @app.exception_handler(RakshaError)
    async def raksha_error(request: Request, exc: RakshaError) -> Response:
        status = _status_for(exc)
        if status >= 500:
            logger.error("%s %s failed: %s", request.method, request.url.path, exc)
        response = error_response(request, status, str(exc))
        if isinstance(exc, RateLimitedError):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        # Unknown paths and methods are not served to anyone who is not logged in either.
        if exc.status_code in (404, 405) and not request.url.path.startswith(_PUBLIC_PREFIXES):
            visitor = await run_in_threadpool(resolve_visitor, request)
            if visitor.actor is None:
                return unauthenticated(request)
        message = str(exc.detail) if exc.detail else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = "there is no such page"
        return error_response(request, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if is_api(request):
            detail = jsonable_encoder(exc.errors())
            return JSONResponse({"error": "invalid request", "detail": detail}, 422)
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        return error_response(
            request, 422, "the form was not filled in as expected: " + ", ".join(fields)
        )
