"""Operations: the list, planning one and its targets, and the live board by district.

Thin over :mod:`raksha.cases.operations`, which checks the role, enforces the rule
between target statuses, counts the totals and audits every read and change. The board
groups targets by district with each district's totals and the overall summary line
("21 places, 12 arrested, 20 cases, 47 items seized"); its status cells and totals
refresh by htmx polling (every 5 s while some place is still planned or in progress,
every 30 s once all are done or not found), so a supervisor's screen follows the teams'
reports without a reload. Each refresh is a call of
:func:`~raksha.cases.operations.operation_board`, audited by it as ``operation.show``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from raksha.cases import operations
from raksha.cases.actor import Actor
from raksha.errors import NotFoundError, UsageError
from raksha.web.formfields import optional_int, optional_time, text_or_none, word_list
from raksha.web.security import acting_user, store_of
from raksha.web.templating import render

router = APIRouter(tags=["operations"], include_in_schema=False)
Me = Annotated[Actor, Depends(acting_user)]
Line = Annotated[str, Form(max_length=500)]

#: Seconds between refreshes of the board while raids are on, and once all are over.
LIVE_EVERY, SETTLED_EVERY = 5, 30
#: The buttons a target's row shows, by its status: (new status, label).
MOVES: dict[str, tuple[tuple[str, str], ...]] = {
    operations.PLANNED: (
        (operations.IN_PROGRESS, "In progress"),
        (operations.DONE, "Done"),
        (operations.NOT_FOUND, "Not found"),
    ),
    operations.IN_PROGRESS: (
        (operations.DONE, "Done"),
        (operations.NOT_FOUND, "Not found"),
        (operations.PLANNED, "Back to planned"),
    ),
    operations.DONE: (),
    operations.NOT_FOUND: (),
}


def board_context(board: dict[str, Any]) -> dict[str, Any]:
    """What ``_board.html`` shows: the board, the buttons, and how soon to refresh."""
    targets = [t for d in board["districts"] for t in d["targets"]]
    settled = bool(targets) and all(t["status"] in operations.FINAL for t in targets)
    return {
        "board": board,
        "targets": targets,
        "moves": MOVES,
        "refresh": SETTLED_EVERY if settled else LIVE_EVERY,
        "settled": settled,
    }


def board_page(
    request: Request,
    actor: Actor,
    operation_id: int,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    target_id: int | None = None,
    status_code: int = 200,
) -> Response:
    board = operations.operation_board(store_of(request), actor, operation_id)
    context = board_context(board) | {
        "error": error,
        "form": form or {},
        "chosen": _chosen(board, target_id),
        "statuses": operations.TARGET_STATUSES,
    }
    return render(request, "operation.html", context, status_code=status_code)


def _chosen(board: dict[str, Any], target_id: int | None) -> dict[str, Any] | None:
    """The board's target ``target_id`` (``None`` when it is not on this board)."""
    for district in board["districts"]:
        for target in district["targets"]:
            if target["id"] == target_id:
                return dict(target)
    return None


def _list_page(
    request: Request,
    actor: Actor,
    *,
    person: str = "",
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "operations": operations.list_operations(store_of(request), actor),
        "person": person,
        "error": error,
        "form": form or {},
        "now": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
    }
    return render(request, "operations.html", context, status_code=status_code)


@router.get("/operations", name="operations.list")
def operations_list(
    request: Request, actor: Me, person: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    """Every operation with its totals; ``?person=N`` carries a person to the new board."""
    optional_int(person, "person")
    return _list_page(request, actor, person=person.strip())


@router.post("/operations", name="operations.create")
def create_operation(
    request: Request,
    actor: Me,
    name: Annotated[str, Form(max_length=300)],
    starts_at: Annotated[str, Form(max_length=40)],
    description: Annotated[str, Form(max_length=5000)] = "",
    person: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    form = {"name": name, "starts_at": starts_at, "description": description}
    try:
        when = optional_time(starts_at, "starts at")
        if when is None:
            raise UsageError("say when the operation starts (UTC)")
        person_id = optional_int(person, "person")
        op = operations.create_operation(
            store_of(request), actor, name, when, description=text_or_none(description)
        )
    except UsageError as exc:
        return _list_page(request, actor, person=person, error=str(exc), form=form, status_code=400)
    query = f"?person={person_id}" if person_id is not None else ""
    return RedirectResponse(f"/operations/{op['id']}{query}#add-target", status_code=303)


@router.get("/operations/{operation_id}", name="operations.board")
def operation_board(
    request: Request,
    actor: Me,
    operation_id: int,
    person: Annotated[str, Query(max_length=20)] = "",
    target: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The board; ``?person=N`` fills in the new target's person, ``?target=N`` opens the
    forms that record target N's outcome and correct its status."""
    form = {"person_id": person.strip()} if person.strip() else None
    return board_page(
        request, actor, operation_id, form=form, target_id=optional_int(target, "target")
    )


@router.get("/operations/{operation_id}/live", name="operations.board_live")
def board_live(request: Request, actor: Me, operation_id: int) -> Response:
    """The board's districts and totals alone: what the page swaps in when it polls."""
    board = operations.operation_board(store_of(request), actor, operation_id)
    return render(request, "_board.html", board_context(board))


@router.post("/operations/{operation_id}/targets", name="operations.target_add")
def add_target(
    request: Request,
    actor: Me,
    operation_id: int,
    label: Line,
    district: Line,
    address: Line = "",
    police_station: Line = "",
    person_id: Annotated[str, Form(max_length=20)] = "",
    team_lead: Line = "",
    team: Annotated[str, Form(max_length=2000)] = "",
    planned_at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    form = {
        "label": label,
        "district": district,
        "address": address,
        "police_station": police_station,
        "person_id": person_id,
        "team_lead": team_lead,
        "team": team,
        "planned_at": planned_at,
    }
    try:
        target = operations.add_target(
            store_of(request),
            actor,
            operation_id,
            label=label,
            district=district,
            address=text_or_none(address),
            police_station=text_or_none(police_station),
            person_id=optional_int(person_id, "person"),
            team_lead=text_or_none(team_lead),
            team=word_list(team),
            planned_at=optional_time(planned_at, "planned at"),
        )
    except (UsageError, NotFoundError) as exc:
        return board_page(request, actor, operation_id, error=str(exc), form=form, status_code=400)
    return RedirectResponse(f"/operations/{operation_id}#target-{target['id']}", status_code=303)


@router.post("/targets/{target_id}/status", name="operations.target_status")
def set_target_status(
    request: Request,
    actor: Me,
    target_id: int,
    status: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    operation_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Move a target on; a correction of a final status needs a reason."""
    try:
        target = operations.set_target_status(
            store_of(request), actor, target_id, status, reason=text_or_none(reason)
        )
    except UsageError as exc:
        op_id = optional_int(operation_id, "operation")
        if op_id is None:
            raise
        form = {"status": status, "reason": reason}
        return board_page(
            request, actor, op_id, error=str(exc), form=form, target_id=target_id, status_code=400
        )
    where = f"/operations/{target['operation_id']}"
    if target["status"] in operations.FINAL:  # next: what the raid produced
        return RedirectResponse(f"{where}?target={target_id}#update", status_code=303)
    return RedirectResponse(f"{where}#target-{target_id}", status_code=303)


@router.post("/targets/{target_id}/outcome", name="operations.target_outcome")
def record_outcome(
    request: Request,
    actor: Me,
    target_id: int,
    arrests: Annotated[str, Form(max_length=10)] = "0",
    cases: Annotated[str, Form(max_length=2000)] = "",
    notes: Annotated[str, Form(max_length=5000)] = "",
    operation_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """What a raid produced: arrests (the place's total), cases registered, notes."""
    form = {
        "arrests": arrests,
        "cases": cases,
        "outcome_notes": notes,
    }
    try:
        count = optional_int(arrests, "arrests") or 0
        target = operations.record_outcome(
            store_of(request),
            actor,
            target_id,
            arrests=count,
            cases=word_list(cases),
            notes=notes if notes.strip() else None,
        )
    except (UsageError, NotFoundError) as exc:
        op_id = optional_int(operation_id, "operation")
        if op_id is None:
            raise
        return board_page(
            request,
            actor,
            op_id,
            error=str(exc),
            form=form,
            target_id=target_id,
            status_code=400,
        )
    return RedirectResponse(
        f"/operations/{target['operation_id']}#target-{target_id}", status_code=303
    )
