"""The JSON API under ``/api``, and its OpenAPI description (behind login like the rest).

Scripts authenticate with ``Authorization: Bearer TOKEN`` (a token from ``raksha login``,
or ``RAKSHA_SESSION``); a browser with a console session may call it too. Errors are
``{"error": "sentence"}`` with the status that fits. ``/api/docs`` is a plain page made
from the same OpenAPI document, so it needs no script from anywhere.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from raksha.cases import users
from raksha.cases.access import PERMISSIONS, allowed
from raksha.cases.actor import Actor
from raksha.errors import UsageError
from raksha.services.tips import TIP_STATUSES, list_tips
from raksha.store.hashset_repo import list_sets
from raksha.web.overview import overview
from raksha.web.registry import Access, api_routes
from raksha.web.routes.audit import HEAD, filtered_entries, run_verify
from raksha.web.routes.hashsets import find_job
from raksha.web.security import acting_user, store_of
from raksha.web.templating import render

router = APIRouter(prefix="/api")
Me = Annotated[Actor, Depends(acting_user)]


@router.get("/docs", name="api.docs", include_in_schema=False)
def docs(request: Request) -> Response:
    registry: dict[str, Access] = request.app.state.route_access
    endpoints = []
    for context in api_routes(request.app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            doc = (route.endpoint.__doc__ or "").strip()
            endpoints.append(
                {
                    "methods": sorted((route.methods or set()) - {"HEAD"}),
                    "path": context.path,
                    "summary": doc.splitlines()[0] if doc else route.name,
                    "access": registry[route.name],
                    "params": [p.name for p in route.dependant.query_params],
                }
            )
    return render(request, "api_docs.html", {"endpoints": endpoints})


@router.get("/openapi.json", name="api.openapi", include_in_schema=False)
def openapi(request: Request) -> Response:
    return JSONResponse(request.app.openapi())


@router.get("/me", name="api.me")
def me(actor: Me) -> dict[str, Any]:
    """Who this token or session acts as, and which permissions the role holds."""
    return {
        "username": actor.username,
        "role": actor.role,
        "permissions": sorted(p for p in PERMISSIONS if allowed(actor, p)),
    }


@router.get("/dashboard", name="api.dashboard")
def dashboard(request: Request, actor: Me) -> dict[str, Any]:
    """The dashboard's counts and lists, for the cases this user may see."""
    return overview(store_of(request), actor).as_dict()


@router.get("/hashsets", name="api.hashsets")
def hashsets(request: Request) -> list[dict[str, Any]]:
    """Every hash set with its counts by algorithm and category."""
    return [s.as_dict() for s in list_sets(store_of(request))]


@router.get("/hashsets/imports/{job_id}", name="api.hashset_import")
def hashset_import(request: Request, job_id: str) -> dict[str, Any]:
    """A web import's progress: state, records read so far, and its report when done."""
    return find_job(request, job_id).as_dict()


@router.get("/tips", name="api.tips")
def tips(
    request: Request,
    status: Annotated[str | None, Query(description=", ".join(TIP_STATUSES))] = None,
) -> list[dict[str, Any]]:
    """Public tips, oldest first, optionally only those with one status."""
    if status is not None and status not in TIP_STATUSES:
        raise UsageError(f"unknown status {status!r}; use one of {', '.join(TIP_STATUSES)}")
    return [t.as_dict() for t in list_tips(store_of(request), status)]


@router.get("/audit", name="api.audit")
def audit_entries(
    request: Request,
    user: Annotated[str, Query(max_length=100)] = "",
    action: Annotated[str, Query(max_length=60)] = "",
    case: Annotated[str, Query(max_length=200)] = "",
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Audit entries, newest first, filtered by user, action prefix and case (name or id)."""
    with store_of(request).engine.connect() as conn:
        found, _note = filtered_entries(conn, user.strip(), action.strip(), case.strip(), limit)
    return found


@router.get("/audit/verify", name="api.audit_verify", response_model=None)
def audit_verify(
    request: Request, actor: Me, head: Annotated[str, Query(max_length=200)] = ""
) -> dict[str, Any] | JSONResponse:
    """Walk the audit chain; ``ok``, entries checked, the head, and every problem found."""
    head = head.strip()
    if head and not HEAD.match(head):
        return JSONResponse({"error": "head is SEQ:HASH (a number, ':', 64 hex)"}, 400)
    return run_verify(request, actor, head or None).as_dict()


@router.get("/users", name="api.users")
def users_list(request: Request, actor: Me) -> list[dict[str, Any]]:
    """Every user with role and state (never a password hash)."""
    with store_of(request).engine.connect() as conn:
        return [u.as_dict() for u in users.list_users(conn, actor)]
