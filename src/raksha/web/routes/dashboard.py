"""The start page: new hits, cases, operations, watched groups and recent tips, each part
only for the roles that may read it (``raksha.web.overview``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from raksha.cases.actor import Actor
from raksha.web.overview import overview
from raksha.web.security import acting_user, store_of
from raksha.web.templating import render

router = APIRouter(tags=["dashboard"], include_in_schema=False)


@router.get("/", name="dashboard.show")
def dashboard(request: Request, actor: Annotated[Actor, Depends(acting_user)]) -> Response:
    return render(request, "dashboard.html", {"view": overview(store_of(request), actor)})
