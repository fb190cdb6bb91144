"""Cases: the list a user may see, one case with everything on it, the create and edit
forms, status changes, accused and assignments.

Thin over :mod:`raksha.cases.records`, which checks the role and the assignment and
writes the audit entry of every read and change; the guard checks the assignment again
for every path that names a ``case_id``. A change the service refuses (a status moved
back without a reason, a person who does not exist) is shown on the page with its
sentence.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from raksha.cases import records, sections, seizures
from raksha.cases.actor import Actor
from raksha.errors import NotFoundError, UsageError
from raksha.reports import service as reports
from raksha.web.formfields import optional_int, text_or_none
from raksha.web.security import acting_user, store_of
from raksha.web.templating import render

router = APIRouter(tags=["cases"], include_in_schema=False)
Me = Annotated[Actor, Depends(acting_user)]
Text = Annotated[str, Form(max_length=2000)]
LongText = Annotated[str, Form(max_length=20_000)]
Sections = Annotated[list[str] | None, Form(max_length=50)]

#: The case fields the create and edit forms carry, in the order they show them.
FIELDS = ("name", "fir_number", "police_station", "district", "description")


def case_page(
    request: Request,
    actor: Actor,
    case_id: int,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The case, its seizures and its reports (each read audited by its service)."""
    store = store_of(request)
    case = records.show_case(store, actor, case_id)
    context: dict[str, Any] = {
        "case": case,
        "seizures": seizures.list_seizures(store, actor, case=case_id),
        "reports": reports.list_registered(store, actor, case_id),
        "statuses": records.CASE_STATUSES,
        "error": error,
        "form": form or {},
    }
    return render(request, "case.html", context, status_code=status_code)


def _form_page(
    request: Request,
    actor: Actor,
    *,
    case: dict[str, Any] | None,
    values: dict[str, Any],
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    chosen = set(values.get("sections") or [])
    listed = sections.list_sections(store_of(request), actor)
    # Active sections, and any disabled one the case is registered under already.
    offered = [s for s in listed if s["active"] or s["code"] in chosen]
    context = {
        "case": case,
        "values": values,
        "sections": offered,
        "chosen": chosen,
        "error": error,
    }
    return render(request, "case_form.html", context, status_code=status_code)


@router.get("/cases", name="cases.list")
def cases_list(
    request: Request, actor: Me, status: Annotated[str, Query(max_length=40)] = ""
) -> Response:
    error = None
    try:
        found = records.list_cases(store_of(request), actor, status=status.strip() or None)
    except UsageError as exc:
        found, error = [], str(exc)
    context = {
        "cases": found,
        "statuses": records.CASE_STATUSES,
        "status": status,
        "error": error,
    }
    return render(request, "cases.html", context, status_code=400 if error else 200)


@router.get("/cases/new", name="cases.new")
def new_case_form(request: Request, actor: Me) -> Response:
    return _form_page(request, actor, case=None, values={})


@router.post("/cases", name="cases.create")
def create_case(
    request: Request,
    actor: Me,
    name: Annotated[str, Form(max_length=300)],
    fir_number: Text = "",
    police_station: Text = "",
    district: Text = "",
    description: LongText = "",
    sections: Sections = None,
) -> Response:
    values: dict[str, Any] = {
        "name": name,
        "fir_number": fir_number,
        "police_station": police_station,
        "district": district,
        "description": description,
        "sections": sections or [],
    }
    try:
        case = records.create_case(
            store_of(request),
            actor,
            name,
            fir_number=text_or_none(fir_number),
            police_station=text_or_none(police_station),
            district=text_or_none(district),
            sections=sections or [],
            description=text_or_none(description),
        )
    except UsageError as exc:
        return _form_page(request, actor, case=None, values=values, error=str(exc), status_code=400)
    return RedirectResponse(f"/cases/{case['id']}", status_code=303)


@router.get("/cases/{case_id}", name="cases.show")
def show_case(request: Request, actor: Me, case_id: int) -> Response:
    return case_page(request, actor, case_id)


@router.get("/cases/{case_id}/edit", name="cases.edit")
def edit_case_form(request: Request, actor: Me, case_id: int) -> Response:
    case = records.show_case(store_of(request), actor, case_id)
    values = {f: case.get(f) or "" for f in FIELDS} | {"sections": case["sections"]}
    return _form_page(request, actor, case=case, values=values)


@router.post("/cases/{case_id}/edit", name="cases.update")
def update_case(
    request: Request,
    actor: Me,
    case_id: int,
    name: Annotated[str, Form(max_length=300)],
    fir_number: Text = "",
    police_station: Text = "",
    district: Text = "",
    description: LongText = "",
    sections: Sections = None,
) -> Response:
    """Every field the form carries is the case's new value; an emptied field clears it."""
    values: dict[str, Any] = {
        "name": name,
        "fir_number": fir_number,
        "police_station": police_station,
        "district": district,
        "description": description,
        "sections": sections or [],
    }
    try:
        records.update_case(
            store_of(request),
            actor,
            case_id,
            name=name,
            fir_number=fir_number.strip(),
            police_station=police_station.strip(),
            district=district.strip(),
            description=description.strip(),
            sections=sections or [],
        )
    except UsageError as exc:
        case = records.show_case(store_of(request), actor, case_id)
        return _form_page(request, actor, case=case, values=values, error=str(exc), status_code=400)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/status", name="cases.status")
def change_status(
    request: Request,
    actor: Me,
    case_id: int,
    status: Annotated[str, Form(max_length=40)],
    reason: Text = "",
) -> Response:
    try:
        records.set_status(store_of(request), actor, case_id, status, reason=text_or_none(reason))
    except UsageError as exc:
        form = {"status": status, "reason": reason}
        return case_page(request, actor, case_id, error=str(exc), form=form, status_code=400)
    return RedirectResponse(f"/cases/{case_id}#status", status_code=303)


@router.post("/cases/{case_id}/accused", name="cases.accused_add")
def add_accused(
    request: Request,
    actor: Me,
    case_id: int,
    person_id: Annotated[str, Form(max_length=20)],
    status: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        person = optional_int(person_id, "person")
        if person is None:
            raise UsageError("give the person's number (from Suspects or a person's page)")
        records.add_accused(store_of(request), actor, case_id, person, status=text_or_none(status))
    except (UsageError, NotFoundError) as exc:
        form = {"person_id": person_id, "accused_status": status}
        return case_page(request, actor, case_id, error=str(exc), form=form, status_code=400)
    return RedirectResponse(f"/cases/{case_id}#accused", status_code=303)


@router.post("/cases/{case_id}/members", name="cases.assign")
def assign_user(
    request: Request,
    actor: Me,
    case_id: int,
    username: Annotated[str, Form(max_length=100)],
) -> Response:
    try:
        records.assign(store_of(request), actor, case_id, username)
    except (UsageError, NotFoundError) as exc:
        form = {"username": username}
        return case_page(request, actor, case_id, error=str(exc), form=form, status_code=400)
    return RedirectResponse(f"/cases/{case_id}#members", status_code=303)
