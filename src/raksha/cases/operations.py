"""Operations: a named drive of simultaneous raids, its targets, their live status and
outcomes, and the board that totals them per district and for the whole operation.

A supervisor plans the operation and its targets (``operation.plan``); the teams on the
ground, investigators and supervisors, move each target through its statuses and record
what came of it (``operation.update``). Every write and every read of the board is
audited, like case data.

Target statuses and the rule between them (:func:`check_transition`):

* ``planned`` may become ``in progress``, ``done`` or ``not found`` (a team that reports
  only at the end skips ``in progress``);
* ``in progress`` may become ``done`` or ``not found``, or go back to ``planned`` (the
  raid was called off before it was finished);
* ``done`` and ``not found`` are final: changing one (a wrong report) is a correction and
  needs a reason, which the audit entry keeps.

Every change records ``status_at`` (when it happened, default now) and who made it.
Outcomes (arrests, cases registered, notes) are recorded only for a target that is no
longer ``planned``: a place not yet raided has no outcome.

The totals count, for each district and for the whole operation: places (targets),
done, not found, in progress, planned, arrests, cases registered (distinct cases: one
case registered after raids at two places in a district counts once there, and once in
the whole operation even when the places are in two districts) and items seized
(``seizures`` rows made at its targets).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select
from sqlalchemy.exc import IntegrityError

from raksha.cases import audit
from raksha.cases.access import require, require_case, visible_case_ids
from raksha.cases.actor import Actor
from raksha.cases.fields import one_line
from raksha.errors import NotFoundError, UsageError
from raksha.store.case_lookup import find_case
from raksha.store.case_models import (
    operations_table,
    raid_target_cases_table,
    raid_targets_table,
    seizures_table,
)
from raksha.store.db import Store
from raksha.store.models import cases_table, iso_utc, utcnow
from raksha.store.network_models import people_table

logger = logging.getLogger(__name__)

PLANNED, IN_PROGRESS, DONE, NOT_FOUND = "planned", "in progress", "done", "not found"
#: Target statuses, in the order a raid goes through them.
TARGET_STATUSES: tuple[str, ...] = (PLANNED, IN_PROGRESS, DONE, NOT_FOUND)
FINAL = frozenset({DONE, NOT_FOUND})
#: status -> the statuses it may become without a reason.
TRANSITIONS: dict[str, frozenset[str]] = {
    PLANNED: frozenset({IN_PROGRESS, DONE, NOT_FOUND}),
    IN_PROGRESS: frozenset({DONE, NOT_FOUND, PLANNED}),
    DONE: frozenset(),
    NOT_FOUND: frozenset(),
}
#: The counters every district and the whole operation carry.
TOTAL_KEYS = (
    "places",
    DONE,
    NOT_FOUND,
    IN_PROGRESS,
    PLANNED,
    "arrests",
    "cases_registered",
    "items_seized",
)

OP, RT, RTC, SZ = operations_table, raid_targets_table, raid_target_cases_table, seizures_table
CT, P = cases_table, people_table


def _utc(moment: datetime) -> datetime:
    """A time as stored: in UTC (one without a zone is taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def normalise_target_status(status: str) -> str:
    key = " ".join(status.replace("_", " ").replace("-", " ").split()).lower()
    if key not in TARGET_STATUSES:
        raise UsageError(
            f"unknown target status {status!r}; use one of: "
            + ", ".join(repr(s) for s in TARGET_STATUSES)
        )
    return key


def check_transition(old: str, new: str, reason: str | None) -> None:
    """Refuse a change the rule above does not allow (see the module's docstring)."""
    if new == old:
        raise UsageError(f"the target is already {new!r}")
    if new in TRANSITIONS[old]:
        return
    if old in FINAL:
        if not reason:
            raise UsageError(
                f"the target is {old!r}, a final status; changing it to {new!r} is a "
                "correction and needs a reason: give it with --reason"
            )
        return
    raise UsageError(  # pragma: no cover - every non-final status reaches every other one
        f"a target that is {old!r} cannot become {new!r}"
    )


# -- lookups ---------------------------------------------------------------------------------


def find_operation(conn: Connection, ref: str | int) -> Row[Any]:
    """An operation by its name or its id."""
    text = str(ref).strip()
    row = (
        None if isinstance(ref, int) else conn.execute(select(OP).where(OP.c.name == text)).first()
    )
    if row is None and text.isdigit():
        row = conn.execute(select(OP).where(OP.c.id == int(text))).first()
    if row is None:
        raise NotFoundError(
            f"no operation {text!r} (by name or id); `raksha operation list` shows them"
        )
    return row


def _find_target(conn: Connection, target_id: int) -> Row[Any]:
    row = conn.execute(select(RT).where(RT.c.id == target_id)).first()
    if row is None:
        raise NotFoundError(
            f"no raid target {target_id}; `raksha operation show OP` lists its targets"
        )
    return row


def operation_dict(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "name": row.name,
        "starts_at": iso_utc(row.starts_at),
        "description": row.description,
        "created_by": row.created_by,
        "created_at": iso_utc(row.created_at),
    }


# -- planning --------------------------------------------------------------------------------


def create_operation(
    store: Store, actor: Actor, name: str, starts_at: datetime, *, description: str | None = None
) -> dict[str, Any]:
    """Plan a named drive that starts at ``starts_at``."""
    require(actor, "operation.plan")
    name = one_line(name) or ""
    if not name:
        raise UsageError("an operation needs a name, e.g. `raksha operation create 'Op Nirbhay'`")
    with store.engine.begin() as conn:
        if conn.execute(select(OP.c.id).where(OP.c.name == name)).first() is not None:
            raise UsageError(f"an operation named {name!r} exists already; choose another name")
        values = {
            "name": name,
            "starts_at": _utc(starts_at),
            "description": description or None,
            "created_by": actor.username,
            "created_at": utcnow(),
        }
        try:
            with conn.begin_nested():
                result = conn.execute(OP.insert().values(**values))
        except IntegrityError as exc:
            raise UsageError(f"an operation named {name!r} was just created") from exc
        op_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        out = operation_dict(conn.execute(select(OP).where(OP.c.id == op_id)).one())
        audit.record(
            conn, actor, "operation.create", object_kind="operation", object_id=op_id, details=out
        )
    return out


def add_target(
    store: Store,
    actor: Actor,
    operation: str | int,
    *,
    label: str,
    district: str,
    address: str | None = None,
    police_station: str | None = None,
    person_id: int | None = None,
    team_lead: str | None = None,
    team: Sequence[str] = (),
    planned_at: datetime | None = None,
) -> dict[str, Any]:
    """Add a place to raid; it starts ``planned`` (``planned_at`` defaults to the
    operation's start)."""
    require(actor, "operation.plan")
    label_text, district_text = one_line(label), one_line(district)
    if not label_text or not district_text:
        raise UsageError("a raid target needs a --label (which place) and a --district")
    with store.engine.begin() as conn:
        op = find_operation(conn, operation)
        known = select(P.c.id).where(P.c.id == person_id)
        if person_id is not None and conn.execute(known).first() is None:
            raise NotFoundError(f"no person {person_id}; `raksha suspects` lists people")
        values = {
            "operation_id": int(op.id),
            "label": label_text,
            "district": district_text,
            "address": one_line(address),
            "police_station": one_line(police_station),
            "person_id": person_id,
            "team_lead": one_line(team_lead),
            "team": [m for m in (one_line(t) for t in team) if m],
            "planned_at": _utc(planned_at) if planned_at is not None else op.starts_at,
            "status": PLANNED,
            "status_at": utcnow(),
            "arrests": 0,
            "updated_by": actor.username,
        }
        result = conn.execute(RT.insert().values(**values))
        target_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        out = target_detail(conn, _find_target(conn, target_id), visible=None)
        audit.record(
            conn,
            actor,
            "operation.target.add",
            object_kind="raid_target",
            object_id=target_id,
            details={"operation_id": int(op.id), "label": label_text, "district": district_text},
        )
    return out


# -- on the day ------------------------------------------------------------------------------


def set_target_status(
    store: Store,
    actor: Actor,
    target_id: int,
    status: str,
    *,
    at: datetime | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Move a target to ``status`` under the rule of :func:`check_transition`."""
    require(actor, "operation.update")
    new = normalise_target_status(status)
    reason = one_line(reason)
    with store.engine.begin() as conn:
        row = _find_target(conn, target_id)
        old = normalise_target_status(row.status or PLANNED)
        check_transition(old, new, reason)
        when = _utc(at) if at is not None else utcnow()
        conn.execute(
            RT.update()
            .where(RT.c.id == target_id)
            .values(status=new, status_at=when, updated_by=actor.username)
        )
        audit.record(
            conn,
            actor,
            "operation.target.status",
            object_kind="raid_target",
            object_id=target_id,
            details={
                "operation_id": int(row.operation_id),
                "old": old,
                "new": new,
                "at": iso_utc(when),
                "reason": reason,
            },
        )
        return target_detail(
            conn, _find_target(conn, target_id), visible=visible_case_ids(conn, actor)
        )


def record_outcome(
    store: Store,
    actor: Actor,
    target_id: int,
    *,
    arrests: int,
    cases: Sequence[str | int] = (),
    notes: str | None = None,
) -> dict[str, Any]:
    """Record what a raid produced: ``arrests`` (the target's total, replacing the last
    figure), ``cases`` registered there (added to those already recorded; each must be a
    case the user may see) and ``notes`` (replacing the last ones when given)."""
    require(actor, "operation.update")
    if arrests < 0:
        raise UsageError("--arrests cannot be negative")
    with store.engine.begin() as conn:
        row = _find_target(conn, target_id)
        if normalise_target_status(row.status or PLANNED) == PLANNED:
            raise UsageError(
                f"target {target_id} is still planned; set its status (`raksha operation target "
                "status`) before recording what the raid produced"
            )
        case_rows = [find_case(conn, c) for c in cases]
        for c in case_rows:
            require_case(conn, actor, int(c.id), "case.read")
        already = {
            int(r[0])
            for r in conn.execute(select(RTC.c.case_id).where(RTC.c.target_id == target_id))
        }
        added = []
        for c in case_rows:
            if int(c.id) not in already:
                conn.execute(RTC.insert().values(target_id=target_id, case_id=int(c.id)))
                already.add(int(c.id))
                added.append(int(c.id))
        values: dict[str, Any] = {"arrests": arrests, "updated_by": actor.username}
        if notes is not None:
            values["outcome"] = notes.strip() or None
        conn.execute(RT.update().where(RT.c.id == target_id).values(**values))
        details = {"operation_id": int(row.operation_id), "arrests": [row.arrests, arrests]}
        audit.record(
            conn,
            actor,
            "operation.target.outcome",
            object_kind="raid_target",
            object_id=target_id,
            details={**details, "cases_added": added, "notes": values.get("outcome")},
        )
        for case_id in added:  # so `raksha audit list --case` shows the raid that led to it
            audit.record(
                conn,
                actor,
                "operation.target.case",
                case_id=case_id,
                object_kind="raid_target",
                object_id=target_id,
                details={"operation_id": int(row.operation_id)},
            )
        return target_detail(
            conn, _find_target(conn, target_id), visible=visible_case_ids(conn, actor)
        )


# -- reading ---------------------------------------------------------------------------------


def target_detail(conn: Connection, row: Row[Any], *, visible: set[int] | None) -> dict[str, Any]:
    """One target's fields, its person's label, its cases (those in ``visible``; ``None``
    means all) and how many items were seized there."""
    return _targets(conn, [row], visible)[0]


def _targets(
    conn: Connection, rows: Sequence[Row[Any]], visible: set[int] | None
) -> list[dict[str, Any]]:
    ids = [int(r.id) for r in rows]
    cases: dict[int, list[tuple[int, str]]] = {i: [] for i in ids}
    seized: dict[int, int] = {}
    people: dict[int, str | None] = {}
    if ids:
        for target_id, case_id, name in conn.execute(
            select(RTC.c.target_id, RTC.c.case_id, CT.c.name)
            .join(CT, CT.c.id == RTC.c.case_id)
            .where(RTC.c.target_id.in_(ids))
            .order_by(RTC.c.case_id)
        ):
            cases[int(target_id)].append((int(case_id), str(name)))
        seized = {
            int(k): int(n)
            for k, n in conn.execute(
                select(SZ.c.raid_target_id, func.count())
                .where(SZ.c.raid_target_id.in_(ids))
                .group_by(SZ.c.raid_target_id)
            )
        }
        person_ids = sorted({int(r.person_id) for r in rows if r.person_id is not None})
        if person_ids:
            labels = select(P.c.id, P.c.label).where(P.c.id.in_(person_ids))
            people = {int(k): v for k, v in conn.execute(labels)}
    out = []
    for r in rows:
        mine = cases[int(r.id)]
        out.append(
            {
                "id": int(r.id),
                "operation_id": int(r.operation_id),
                "label": r.label,
                "district": r.district,
                "address": r.address,
                "police_station": r.police_station,
                "person_id": r.person_id,
                "person_label": people.get(int(r.person_id)) if r.person_id is not None else None,
                "team_lead": r.team_lead,
                "team": list(r.team or []),
                "planned_at": iso_utc(r.planned_at),
                "status": normalise_target_status(r.status or PLANNED),
                "status_at": iso_utc(r.status_at),
                "arrests": int(r.arrests or 0),
                "notes": r.outcome,
                "updated_by": r.updated_by,
                "cases_registered": len(mine),
                "cases": [{"id": i, "name": n} for i, n in mine if visible is None or i in visible],
                "items_seized": seized.get(int(r.id), 0),
            }
        )
    return out


def _empty_totals() -> dict[str, int]:
    return dict.fromkeys(TOTAL_KEYS, 0)


def operation_totals(conn: Connection, operation_id: int) -> dict[str, Any]:
    """The operation's numbers, no access check and no audit entry (the caller does both):
    ``{"districts": {name: totals}, "overall": totals, "summary": "21 places, …"}`` where
    totals holds :data:`TOTAL_KEYS`. Reports and the web console call this."""
    rows = conn.execute(
        select(RT).where(RT.c.operation_id == operation_id).order_by(RT.c.district, RT.c.id)
    ).all()
    return _totals(_targets(conn, rows, None), _case_ids(conn, rows))


def _case_ids(conn: Connection, rows: Sequence[Row[Any]]) -> dict[int, set[int]]:
    by_target: dict[int, set[int]] = {int(r.id): set() for r in rows}
    if by_target:
        for target_id, case_id in conn.execute(
            select(RTC.c.target_id, RTC.c.case_id).where(RTC.c.target_id.in_(sorted(by_target)))
        ):
            by_target[int(target_id)].add(int(case_id))
    return by_target


def _totals(targets: list[dict[str, Any]], case_ids: dict[int, set[int]]) -> dict[str, Any]:
    districts: dict[str, dict[str, int]] = {}
    district_cases: dict[str, set[int]] = {}
    overall, overall_cases = _empty_totals(), set()
    for t in targets:
        d = districts.setdefault(t["district"], _empty_totals())
        cases = district_cases.setdefault(t["district"], set())
        for totals in (d, overall):
            totals["places"] += 1
            totals[t["status"]] += 1
            totals["arrests"] += t["arrests"]
            totals["items_seized"] += t["items_seized"]
        cases |= case_ids[t["id"]]
        overall_cases |= case_ids[t["id"]]
    for name, totals in districts.items():
        totals["cases_registered"] = len(district_cases[name])
    overall["cases_registered"] = len(overall_cases)
    return {
        "districts": dict(sorted(districts.items())),
        "overall": overall,
        "summary": summary_line(overall),
    }


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def summary_line(totals: dict[str, int]) -> str:
    """The one sentence a press note quotes: ``21 places, 12 arrested, 20 cases, 47 items
    seized``."""
    return ", ".join(
        (
            _plural(totals["places"], "place", "places"),
            f"{totals['arrests']} arrested",
            _plural(totals["cases_registered"], "case", "cases"),
            _plural(totals["items_seized"], "item", "items") + " seized",
        )
    )


def operation_board(store: Store, actor: Actor, operation: str | int) -> dict[str, Any]:
    """The live board: the operation, its targets grouped by district (each district with
    its totals), the overall totals and the summary line. Audited as a read."""
    require(actor, "operation.read")
    with store.engine.begin() as conn:
        op = find_operation(conn, operation)
        rows = conn.execute(
            select(RT).where(RT.c.operation_id == op.id).order_by(RT.c.district, RT.c.id)
        ).all()
        targets = _targets(conn, rows, visible_case_ids(conn, actor))
        totals = _totals(targets, _case_ids(conn, rows))
        audit.record(
            conn,
            actor,
            "operation.show",
            object_kind="operation",
            object_id=int(op.id),
            details={"targets": len(targets)},
        )
    grouped: dict[str, list[dict[str, Any]]] = {}
    for t in targets:
        grouped.setdefault(t["district"], []).append(t)
    return {
        **operation_dict(op),
        "districts": [
            {"district": name, "targets": grouped[name], "totals": totals["districts"][name]}
            for name in sorted(grouped)
        ],
        "totals": totals["overall"],
        "summary": totals["summary"],
    }


def list_operations(store: Store, actor: Actor) -> list[dict[str, Any]]:
    """Every operation, newest start first, with its overall totals and summary line."""
    require(actor, "operation.read")
    with store.engine.begin() as conn:
        ops = conn.execute(select(OP).order_by(OP.c.starts_at.desc(), OP.c.id.desc())).all()
        out = []
        for op in ops:
            totals = operation_totals(conn, int(op.id))
            out.append(
                {**operation_dict(op), "totals": totals["overall"], "summary": totals["summary"]}
            )
        audit.record(conn, actor, "operation.list", details={"operations": [o["id"] for o in out]})
    return out
