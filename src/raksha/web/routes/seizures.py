"""Seizures and their chain of custody: the list, one exhibit with its timeline, and the
forms that register a seizure and record a custody step.

Thin over :mod:`raksha.cases.seizures` and :mod:`raksha.cases.custody`: they check the
role and the case assignment, re-verify every image made from the exhibit at each step,
flag gaps and mismatches, and audit every read and write. The timeline shows each
step's flags (recomputed over the whole chain) and each re-verification result.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from raksha.cases import custody, seizures
from raksha.cases.actor import Actor
from raksha.cases.custody_rules import ACTIONS, flag_rule
from raksha.cases.devices import KINDS
from raksha.errors import NotFoundError, UsageError
from raksha.web.formfields import optional_int, optional_time, text_or_none
from raksha.web.security import acting_user, store_of
from raksha.web.templating import render

router = APIRouter(tags=["seizures"], include_in_schema=False)
Me = Annotated[Actor, Depends(acting_user)]
Line = Annotated[str, Form(max_length=500)]


def list_page(
    request: Request,
    actor: Actor,
    case_id: int | None,
    operation_id: int | None = None,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    found = seizures.list_seizures(store_of(request), actor, case=case_id, operation=operation_id)
    context: dict[str, Any] = {
        "seizures": found,
        "case_id": case_id,
        "operation_id": operation_id,
        "kinds": KINDS,
        "error": error,
        "form": form or {},
    }
    return render(request, "seizures.html", context, status_code=status_code)


def seizure_page(
    request: Request,
    actor: Actor,
    seizure_id: int,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    shown = seizures.show_seizure(store_of(request), actor, seizure_id)
    context: dict[str, Any] = {
        "s": shown,
        "actions": ACTIONS,
        "flag_rule": flag_rule,
        "error": error,
        "form": form or {},
    }
    return render(request, "seizure.html", context, status_code=status_code)


@router.get("/seizures", name="seizures.list")
def seizures_list(
    request: Request,
    actor: Me,
    case: Annotated[str, Query(max_length=20)] = "",
    operation: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return list_page(
        request, actor, optional_int(case, "case"), optional_int(operation, "operation")
    )


@router.get("/seizures/{seizure_id}", name="seizures.show")
def show_seizure(request: Request, actor: Me, seizure_id: int) -> Response:
    return seizure_page(request, actor, seizure_id)


@router.post("/cases/{case_id}/seizures", name="seizures.add")
def add_seizure(
    request: Request,
    actor: Me,
    case_id: int,
    kind: Annotated[str, Form(max_length=40)],
    seal_label: Annotated[str, Form(max_length=200)],
    make: Line = "",
    model: Line = "",
    serial: Line = "",
    imei: Line = "",
    seized_from: Line = "",
    seized_from_person_id: Annotated[str, Form(max_length=20)] = "",
    place: Line = "",
    district: Line = "",
    seized_at: Annotated[str, Form(max_length=40)] = "",
    seized_by: Line = "",
    raid_target_id: Annotated[str, Form(max_length=20)] = "",
    notes: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Register a seized exhibit in the case; its first custody step, "seized", with it."""
    form = {
        "kind": kind,
        "seal_label": seal_label,
        "make": make,
        "model": model,
        "serial": serial,
        "imei": imei,
        "seized_from": seized_from,
        "seized_from_person_id": seized_from_person_id,
        "place": place,
        "district": district,
        "seized_at": seized_at,
        "seized_by": seized_by,
        "raid_target_id": raid_target_id,
        "notes": notes,
    }
    try:
        added = seizures.add_seizure(
            store_of(request),
            actor,
            case_id,
            kind,
            seal_label,
            make=text_or_none(make),
            model=text_or_none(model),
            serial=text_or_none(serial),
            imei=text_or_none(imei),
            seized_from=text_or_none(seized_from),
            seized_from_person_id=optional_int(seized_from_person_id, "seized from person"),
            place=text_or_none(place),
            district=text_or_none(district),
            seized_at=optional_time(seized_at, "seized at"),
            seized_by=text_or_none(seized_by),
            raid_target_id=optional_int(raid_target_id, "raid target"),
            notes=text_or_none(notes),
        )
    except (UsageError, NotFoundError) as exc:
        return list_page(request, actor, case_id, error=str(exc), form=form, status_code=400)
    return RedirectResponse(f"/seizures/{added['id']}", status_code=303)


@router.post("/seizures/{seizure_id}/custody", name="seizures.custody_add")
def add_custody_event(
    request: Request,
    actor: Me,
    seizure_id: int,
    action: Annotated[str, Form(max_length=40)],
    by_whom: Line,
    at: Annotated[str, Form(max_length=40)] = "",
    to_whom: Line = "",
    location: Line = "",
    notes: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Record one custody step; every image made from the exhibit is re-verified first."""
    form = {
        "action": action,
        "by_whom": by_whom,
        "at": at,
        "to_whom": to_whom,
        "location": location,
        "notes": notes,
    }
    try:
        event = custody.add_event(
            store_of(request),
            actor,
            seizure_id,
            action,
            by_whom=by_whom,
            at=optional_time(at, "when"),
            to_whom=text_or_none(to_whom),
            location=text_or_none(location),
            notes=text_or_none(notes),
        )
    except UsageError as exc:
        return seizure_page(request, actor, seizure_id, error=str(exc), form=form, status_code=400)
    return RedirectResponse(f"/seizures/{seizure_id}#event-{event['id']}", status_code=303)
