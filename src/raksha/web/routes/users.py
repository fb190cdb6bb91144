"""User admin (admins): list users, add one, disable one.

The same ``raksha.cases.users`` functions as ``raksha user``: the same rules (first user,
last admin, password length) and audit entries. A refused change is shown on the page
with the sentence that says why.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from raksha.cases import users
from raksha.cases.actor import ROLES, Actor
from raksha.errors import NotFoundError, UsageError
from raksha.web.security import acting_user, store_of
from raksha.web.templating import render

router = APIRouter(tags=["users"], include_in_schema=False)


def _page(
    request: Request,
    actor: Actor,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with store_of(request).engine.connect() as conn:
        listed = users.list_users(conn, actor)
    context: dict[str, Any] = {
        "users": listed,
        "roles": ROLES,
        "error": error,
        "form": form or {},
    }
    return render(request, "users.html", context, status_code=status_code)


@router.get("/users", name="users.list")
def users_page(request: Request, actor: Annotated[Actor, Depends(acting_user)]) -> Response:
    return _page(request, actor)


@router.post("/users", name="users.add")
def add_user(
    request: Request,
    actor: Annotated[Actor, Depends(acting_user)],
    username: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form(max_length=20)],
    password: Annotated[str, Form(max_length=users.MAX_PASSWORD_LENGTH)],
    full_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        with store_of(request).engine.begin() as conn:
            user = users.create_user(
                conn, actor, username.strip(), role, password, full_name.strip() or None
            )
    except UsageError as exc:
        form = {"username": username, "role": role, "full_name": full_name}
        return _page(request, actor, error=str(exc), form=form, status_code=400)
    return RedirectResponse(f"/users#user-{user.id}", status_code=303)


@router.post("/users/{username}/disable", name="users.disable")
def disable_user(
    request: Request, actor: Annotated[Actor, Depends(acting_user)], username: str
) -> Response:
    try:
        with store_of(request).engine.begin() as conn:
            user = users.disable_user(conn, actor, username)
    except (UsageError, NotFoundError) as exc:
        return _page(request, actor, error=str(exc), status_code=400)
    return RedirectResponse(f"/users#user-{user.id}", status_code=303)
