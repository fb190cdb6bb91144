"""The offender network: suspects ranked with the evidence for each rank, one person's
page with the analyst's merge and split, and the interactive graph view.

Thin over :mod:`raksha.services.network` (the ranking and the person's details, as
``raksha suspects`` and ``raksha person show`` print them) and
:mod:`raksha.network.identity` (merge and split, each an identity decision with who and
why). The web adds one audit entry per decision (``identity.merge``,
``identity.split``), so the audit chain holds them beside the decision table.

The graph view is a page whose script (``static/network.js``, drawing with the vendored
Cytoscape.js) fetches one person's neighbourhood or one community as JSON from
``/api/network/…``; :mod:`raksha.web.graph_json` cuts it at 500 nodes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from raksha.cases import audit
from raksha.cases.actor import Actor
from raksha.errors import NotFoundError, UsageError
from raksha.network import identity
from raksha.services.network import person_details, suspects
from raksha.web import graph_json
from raksha.web.formfields import optional_int
from raksha.web.security import acting_user, store_of
from raksha.web.templating import render

router = APIRouter(tags=["network"])
Me = Annotated[Actor, Depends(acting_user)]
Reason = Annotated[str, Form(max_length=2000)]

#: How many suspects the page lists by default, and at most.
TOP, MAX_TOP = 50, 500
#: Sightings shown on a person's page (the newest; the CLI's --json has them all).
SIGHTINGS_SHOWN = 100


@router.get("/suspects", name="network.suspects", include_in_schema=False)
def suspects_page(request: Request, top: Annotated[int, Query(ge=1, le=MAX_TOP)] = TOP) -> Response:
    found = [s.as_dict() for s in suspects(store_of(request), top)]
    return render(request, "suspects.html", {"suspects": found, "top": top})


def person_page(
    request: Request,
    person_id: int,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    details = person_details(store_of(request), person_id)
    sightings = details["sightings"]
    context: dict[str, Any] = {
        "p": details,
        "sightings": sightings[-SIGHTINGS_SHOWN:][::-1],
        "more_sightings": max(0, len(sightings) - SIGHTINGS_SHOWN),
        "error": error,
        "form": form or {},
    }
    return render(request, "person.html", context, status_code=status_code)


@router.get("/people/{person_id}", name="network.person", include_in_schema=False)
def show_person(request: Request, person_id: int) -> Response:
    return person_page(request, person_id)


def _record(request: Request, actor: Actor, action: str, details: dict[str, Any]) -> None:
    with store_of(request).engine.begin() as conn:
        audit.record(
            conn,
            actor,
            action,
            object_kind="person",
            object_id=details["person_id"],
            details=details,
        )


@router.post("/people/{person_id}/merge", name="network.merge", include_in_schema=False)
def merge(
    request: Request,
    actor: Me,
    person_id: int,
    other_id: Annotated[str, Form(max_length=20)],
    reason: Reason,
) -> Response:
    """Merge another person into this one: one identity behind both (reversible)."""
    try:
        other = optional_int(other_id, "other person")
        if other is None:
            raise UsageError("give the number of the person to merge into this one")
        decision = identity.merge(
            store_of(request), person_id, other, actor=actor.username, reason=reason
        )
    except (UsageError, NotFoundError) as exc:
        form = {"other_id": other_id, "merge_reason": reason}
        return person_page(request, person_id, error=str(exc), form=form, status_code=400)
    _record(
        request,
        actor,
        "identity.merge",
        {"person_id": person_id, "merged": other, "decision": decision, "reason": reason},
    )
    return RedirectResponse(f"/people/{person_id}#decisions", status_code=303)


@router.post("/people/{person_id}/split", name="network.split", include_in_schema=False)
def split(
    request: Request,
    actor: Me,
    person_id: int,
    reason: Reason,
    accounts: Annotated[list[int] | None, Form(max_length=500)] = None,
) -> Response:
    """Split the ticked accounts off into a new person (reversible)."""
    try:
        if not accounts:
            raise UsageError("tick the accounts that belong to someone else")
        decision, new_person = identity.split(
            store_of(request), person_id, accounts, actor=actor.username, reason=reason
        )
    except (UsageError, NotFoundError) as exc:
        form = {"split_reason": reason}
        return person_page(request, person_id, error=str(exc), form=form, status_code=400)
    _record(
        request,
        actor,
        "identity.split",
        {
            "person_id": person_id,
            "accounts": accounts,
            "new_person": new_person,
            "decision": decision,
            "reason": reason,
        },
    )
    return RedirectResponse(f"/people/{new_person}", status_code=303)


@router.get("/network", name="network.view", include_in_schema=False)
def network_page(
    request: Request,
    person: Annotated[str, Query(max_length=20)] = "",
    community: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The graph view of ``?person=N`` or ``?community=N``; without either, the list of
    communities to choose from."""
    person_id = optional_int(person, "person")
    community_id = optional_int(community, "community")
    url = None
    if person_id is not None:
        url = f"/api/network/people/{person_id}"
    elif community_id is not None:
        url = f"/api/network/communities/{community_id}"
    found = [] if url else graph_json.communities(store_of(request))[1]
    context = {
        "graph_url": url,
        "person_id": person_id,
        "community_id": community_id,
        "communities": found,
        "limit": graph_json.MAX_NODES,
    }
    return render(request, "network.html", context)


@router.get("/api/network/people/{person_id}", name="network.person_graph")
def person_graph(request: Request, person_id: int) -> dict[str, Any]:
    """A person's neighbourhood in the network (their accounts and what those touch), at
    most 500 nodes, nearest first."""
    g = graph_json.current_graph(store_of(request))
    return graph_json.person_view(g, person_id, limit=graph_json.MAX_NODES)


@router.get("/api/network/communities/{community_id}", name="network.community_graph")
def community_graph(request: Request, community_id: int) -> dict[str, Any]:
    """One community's groups, people and accounts (Louvain, as ``raksha network
    communities`` numbers them), at most 500 nodes."""
    g, found = graph_json.communities(store_of(request))
    return graph_json.community_view(g, found, community_id, limit=graph_json.MAX_NODES)
