"""The case record: FIR, station, district, sections, status, accused, linked referrals and
tips, and who is assigned to it.

Every function takes the store and the acting user, checks the user's role and (for an
existing case) their assignment to it before touching anything, and appends an audit
entry in the same transaction as what it did — reads of case data included, because a
court may ask who looked at a case, not only who changed it.

The status moves forward through :data:`CASE_STATUSES`; going back (a case reopened, a
charge sheet returned) is allowed but needs a reason, which the audit entry keeps with
the old and the new status. Sections must be active codes of ``legal_sections``, the
list the unit keeps with ``raksha case sections``; a section disabled later stays on the
cases already registered under it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, func, select
from sqlalchemy.exc import IntegrityError

from raksha.cases import audit
from raksha.cases.access import require, require_case, visible_case_ids
from raksha.cases.actor import Actor
from raksha.cases.case_view import case_detail, case_dict
from raksha.cases.fields import one_line
from raksha.cases.sections import check_sections
from raksha.errors import NotFoundError, UsageError
from raksha.store.case_lookup import find_case
from raksha.store.case_models import (
    case_accused_table,
    case_links_table,
    case_members_table,
    seizures_table,
    users_table,
)
from raksha.store.db import Store
from raksha.store.intel_models import referrals_table, tips_table
from raksha.store.models import cases_table, evidence_table, utcnow
from raksha.store.network_models import people_table

logger = logging.getLogger(__name__)

#: A case's statuses in the order a case moves through them.
CASE_STATUSES: tuple[str, ...] = (
    "under observation",
    "FIR registered",
    "arrested",
    "charge sheet filed",
    "trial",
    "closed",
)
#: What a linked tip's status becomes, and what it goes back to when its last link goes.
TIP_LINKED, TIP_UNLINKED = "linked", "triaged"

CT, CM, CA, CL = cases_table, case_members_table, case_accused_table, case_links_table
U, P, EV, SZ = users_table, people_table, evidence_table, seizures_table
REF, TIP = referrals_table, tips_table


def _new_id(result: Any) -> int:
    return int(result.inserted_primary_key[0])


# -- lookups ---------------------------------------------------------------------------------


def _case_for(conn: Connection, actor: Actor, ref: str | int, permission: str) -> Row[Any]:
    row = find_case(conn, ref)
    require_case(conn, actor, int(row.id), permission)
    return row


def normalise_status(status: str) -> str:
    """A status as stored, whatever its case and however its words are joined."""
    key = " ".join(status.replace("_", " ").replace("-", " ").split()).lower()
    for known in CASE_STATUSES:
        if known.lower() == key:
            return known
    raise UsageError(
        f"unknown case status {status!r}; use one of: " + ", ".join(repr(s) for s in CASE_STATUSES)
    )


def _reload(conn: Connection, case_id: int) -> dict[str, Any]:
    return case_dict(conn.execute(select(CT).where(CT.c.id == case_id)).one())


# -- the case itself -------------------------------------------------------------------------


def create_case(
    store: Store,
    actor: Actor,
    name: str,
    *,
    fir_number: str | None = None,
    police_station: str | None = None,
    district: str | None = None,
    sections: Sequence[str] = (),
    description: str | None = None,
) -> dict[str, Any]:
    """Register a case; its creator is assigned to it (so an investigator can work it)."""
    require(actor, "case.create")
    name = one_line(name) or ""
    if not name:
        raise UsageError("a case needs a name, e.g. `raksha case create 'FIR 112/2026'`")
    with store.engine.begin() as conn:
        if conn.execute(select(CT.c.id).where(CT.c.name == name)).first() is not None:
            raise UsageError(f"a case named {name!r} exists already; choose another name")
        codes = check_sections(conn, sections)
        values = {
            "name": name,
            "description": description,
            "fir_number": one_line(fir_number),
            "police_station": one_line(police_station),
            "district": one_line(district),
            "sections": codes,
            "status": CASE_STATUSES[0],
            "created_by": actor.username,
            "created_at": utcnow(),
        }
        try:
            with conn.begin_nested():
                case_id = _new_id(conn.execute(CT.insert().values(**values)))
        except IntegrityError as exc:
            raise UsageError(
                f"a case named {name!r} was just created; choose another name"
            ) from exc
        if actor.user_id is not None:
            conn.execute(
                CM.insert().values(
                    case_id=case_id,
                    user_id=actor.user_id,
                    added_by=actor.username,
                    added_at=utcnow(),
                )
            )
        out = _reload(conn, case_id)
        audit.record(
            conn,
            actor,
            "case.create",
            case_id=case_id,
            object_kind="case",
            object_id=case_id,
            details={k: v for k, v in out.items() if k != "id"},
        )
    logger.info("case %s created by %s", case_id, actor.username)
    return out


def _cleaned(conn: Connection, row: Row[Any], field: str, raw: Any) -> Any:
    """A new value for one field of the case, checked as :func:`create_case` checks it."""
    if field == "sections":
        return check_sections(conn, raw, keep=list(row.sections or []))
    if field == "description":
        return raw or None
    value = one_line(raw)
    if field == "name":
        if not value:
            raise UsageError("a case's name cannot be empty")
        clash = conn.execute(select(CT.c.id).where(CT.c.name == value, CT.c.id != row.id)).first()
        if clash is not None:
            raise UsageError(f"a case named {value!r} exists already; choose another name")
    return value


def update_case(
    store: Store,
    actor: Actor,
    case: str | int,
    *,
    name: str | None = None,
    description: str | None = None,
    fir_number: str | None = None,
    police_station: str | None = None,
    district: str | None = None,
    sections: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Change some of the case's fields; ``None`` leaves one as it is, ``""`` clears it.

    ``sections`` replaces the list; a section disabled since it was put on the case may
    stay. The audit entry keeps each changed field's old and new value.
    """
    asked = {
        "name": name,
        "description": description,
        "fir_number": fir_number,
        "police_station": police_station,
        "district": district,
        "sections": sections,
    }
    with store.engine.begin() as conn:
        row = _case_for(conn, actor, case, "case.write")
        old = case_dict(row)
        values: dict[str, Any] = {}
        for field, raw in asked.items():
            if raw is not None:
                value = _cleaned(conn, row, field, raw)
                if value != old[field]:
                    values[field] = value
        if not values:
            raise UsageError("nothing to change: give at least one new value")
        conn.execute(CT.update().where(CT.c.id == row.id).values(**values, updated_at=utcnow()))
        diff = {f: {"old": old[f], "new": v} for f, v in values.items()}
        audit.record(
            conn,
            actor,
            "case.update",
            case_id=int(row.id),
            object_kind="case",
            object_id=int(row.id),
            details={"changes": diff},
        )
        return _reload(conn, int(row.id))


def set_status(
    store: Store, actor: Actor, case: str | int, status: str, *, reason: str | None = None
) -> dict[str, Any]:
    """Move the case to ``status``: forward freely (steps may be skipped), back only with
    a reason. Returns the case with ``previous_status``."""
    new = normalise_status(status)
    reason = one_line(reason)
    with store.engine.begin() as conn:
        row = _case_for(conn, actor, case, "case.write")
        old = normalise_status(row.status) if row.status else CASE_STATUSES[0]
        if new == old:
            raise UsageError(f"case {row.name!r} is already {new!r}")
        backwards = CASE_STATUSES.index(new) < CASE_STATUSES.index(old)
        if backwards and not reason:
            raise UsageError(
                f"moving case {row.name!r} back from {old!r} to {new!r} needs a reason; "
                "give it with --reason"
            )
        conn.execute(CT.update().where(CT.c.id == row.id).values(status=new, updated_at=utcnow()))
        audit.record(
            conn,
            actor,
            "case.status",
            case_id=int(row.id),
            object_kind="case",
            object_id=int(row.id),
            details={"old": old, "new": new, "reason": reason, "backwards": backwards},
        )
        out = _reload(conn, int(row.id))
    return {**out, "previous_status": old}


# -- accused ---------------------------------------------------------------------------------


def add_accused(
    store: Store, actor: Actor, case: str | int, person_id: int, *, status: str | None = None
) -> dict[str, Any]:
    """Name a person of the network as accused in the case (``status``: arrested, …)."""
    with store.engine.begin() as conn:
        row = _case_for(conn, actor, case, "case.write")
        person = conn.execute(select(P.c.id, P.c.label).where(P.c.id == person_id)).first()
        if person is None:
            raise NotFoundError(f"no person {person_id}; `raksha suspects` lists people")
        try:
            with conn.begin_nested():
                conn.execute(
                    CA.insert().values(
                        case_id=row.id,
                        person_id=person_id,
                        status=one_line(status),
                        added_by=actor.username,
                        added_at=utcnow(),
                    )
                )
        except IntegrityError as exc:
            raise UsageError(f"person {person_id} is already accused in case {row.name!r}") from exc
        audit.record(
            conn,
            actor,
            "case.accused.add",
            case_id=int(row.id),
            object_kind="person",
            object_id=person_id,
            details={"label": person.label, "status": status},
        )
    return {"case_id": int(row.id), "person_id": person_id, "label": person.label}


def remove_accused(store: Store, actor: Actor, case: str | int, person_id: int) -> dict[str, Any]:
    with store.engine.begin() as conn:
        row = _case_for(conn, actor, case, "case.write")
        done = conn.execute(CA.delete().where(CA.c.case_id == row.id, CA.c.person_id == person_id))
        if not done.rowcount:
            raise NotFoundError(f"person {person_id} is not accused in case {row.name!r}")
        audit.record(
            conn,
            actor,
            "case.accused.remove",
            case_id=int(row.id),
            object_kind="person",
            object_id=person_id,
        )
    return {"case_id": int(row.id), "person_id": person_id}


# -- linked referrals and tips ---------------------------------------------------------------


def _find_referral(conn: Connection, ref: str | int) -> Row[Any]:
    text = str(ref).strip()
    row = None
    if text.isdigit():
        row = conn.execute(select(REF).where(REF.c.id == int(text))).first()
    if row is None:
        rows = conn.execute(select(REF).where(REF.c.external_id == text).limit(2)).all()
        if len(rows) > 1:
            raise UsageError(f"more than one referral has the report number {text!r}; give its id")
        row = rows[0] if rows else None
    if row is None:
        raise NotFoundError(f"no referral {text!r} (by id or report number); `raksha referrals`")
    return row


def _find_tip(conn: Connection, follow_up: str) -> Row[Any]:
    row = conn.execute(select(TIP).where(TIP.c.follow_up == follow_up.strip().upper())).first()
    if row is None:
        raise NotFoundError(f"no tip with follow-up number {follow_up!r}; `raksha tip list`")
    return row


def _target(conn: Connection, referral: str | int | None, tip: str | None) -> tuple[str, Row[Any]]:
    if (referral is None) == (tip is None):
        raise UsageError("give exactly one of --referral ID or --tip FOLLOW_UP")
    if referral is not None:
        return "referral", _find_referral(conn, referral)
    return "tip", _find_tip(conn, str(tip))


def link(
    store: Store,
    actor: Actor,
    case: str | int,
    *,
    referral: str | int | None = None,
    tip: str | None = None,
) -> dict[str, Any]:
    """Record that the case follows up a referral or a tip; a linked tip's status becomes
    ``linked``."""
    require(actor, "intel.read")
    with store.engine.begin() as conn:
        row = _case_for(conn, actor, case, "case.write")
        kind, target = _target(conn, referral, tip)
        try:
            with conn.begin_nested():
                conn.execute(
                    CL.insert().values(
                        case_id=row.id,
                        target_kind=kind,
                        target_id=target.id,
                        added_by=actor.username,
                        added_at=utcnow(),
                    )
                )
        except IntegrityError as exc:
            raise UsageError(f"that {kind} is already linked to case {row.name!r}") from exc
        details: dict[str, Any] = {}
        if kind == "tip":
            details = {"follow_up": target.follow_up, "tip_status": [target.status, TIP_LINKED]}
            conn.execute(TIP.update().where(TIP.c.id == target.id).values(status=TIP_LINKED))
        else:
            details = {"source": target.source, "external_id": target.external_id}
        audit.record(
            conn,
            actor,
            "case.link",
            case_id=int(row.id),
            object_kind=kind,
            object_id=int(target.id),
            details=details,
        )
    return {"case_id": int(row.id), "kind": kind, "target_id": int(target.id), **details}


def unlink(
    store: Store,
    actor: Actor,
    case: str | int,
    *,
    referral: str | int | None = None,
    tip: str | None = None,
) -> dict[str, Any]:
    """Undo :func:`link`. A tip no case links any more goes back to ``triaged``."""
    with store.engine.begin() as conn:
        row = _case_for(conn, actor, case, "case.write")
        kind, target = _target(conn, referral, tip)
        done = conn.execute(
            CL.delete().where(
                CL.c.case_id == row.id, CL.c.target_kind == kind, CL.c.target_id == target.id
            )
        )
        if not done.rowcount:
            raise NotFoundError(f"that {kind} is not linked to case {row.name!r}")
        details: dict[str, Any] = {}
        if kind == "tip":
            details = {"follow_up": target.follow_up}
            others = conn.execute(
                select(func.count()).where(CL.c.target_kind == "tip", CL.c.target_id == target.id)
            ).scalar_one()
            if not others and target.status == TIP_LINKED:
                conn.execute(TIP.update().where(TIP.c.id == target.id).values(status=TIP_UNLINKED))
                details["tip_status"] = [TIP_LINKED, TIP_UNLINKED]
        audit.record(
            conn,
            actor,
            "case.unlink",
            case_id=int(row.id),
            object_kind=kind,
            object_id=int(target.id),
            details=details,
        )
    return {"case_id": int(row.id), "kind": kind, "target_id": int(target.id), **details}


# -- members ---------------------------------------------------------------------------------


def _find_user(conn: Connection, username: str) -> Row[Any]:
    row = conn.execute(select(U).where(U.c.username == username.strip())).first()
    if row is None:
        raise NotFoundError(f"no user named {username!r}; list users with `raksha user list`")
    return row


def assign(store: Store, actor: Actor, case: str | int, username: str) -> dict[str, Any]:
    """Give a user need-to-know access to the case."""
    with store.engine.begin() as conn:
        row = _case_for(conn, actor, case, "case.assign")
        user = _find_user(conn, username)
        if not user.active:
            raise UsageError(f"user {user.username!r} is disabled; an admin can add them again")
        try:
            with conn.begin_nested():
                conn.execute(
                    CM.insert().values(
                        case_id=row.id, user_id=user.id, added_by=actor.username, added_at=utcnow()
                    )
                )
        except IntegrityError as exc:
            raise UsageError(f"{user.username} is already assigned to case {row.name!r}") from exc
        audit.record(
            conn,
            actor,
            "case.assign",
            case_id=int(row.id),
            object_kind="user",
            object_id=user.username,
            details={"role": user.role},
        )
    return {"case_id": int(row.id), "username": user.username, "role": user.role}


def unassign(store: Store, actor: Actor, case: str | int, username: str) -> dict[str, Any]:
    """Take a user off the case: an analyst or investigator then no longer sees it."""
    with store.engine.begin() as conn:
        row = _case_for(conn, actor, case, "case.assign")
        user = _find_user(conn, username)
        done = conn.execute(CM.delete().where(CM.c.case_id == row.id, CM.c.user_id == user.id))
        if not done.rowcount:
            raise NotFoundError(f"{user.username} is not assigned to case {row.name!r}")
        audit.record(
            conn,
            actor,
            "case.unassign",
            case_id=int(row.id),
            object_kind="user",
            object_id=user.username,
        )
    return {"case_id": int(row.id), "username": user.username}


# -- reading ---------------------------------------------------------------------------------


def list_cases(store: Store, actor: Actor, *, status: str | None = None) -> list[dict[str, Any]]:
    """The cases the actor may see, by name, with evidence, accused and seizure counts."""
    require(actor, "case.read")
    wanted = normalise_status(status) if status else None
    with store.engine.begin() as conn:
        visible = visible_case_ids(conn, actor)
        query = select(CT).order_by(CT.c.name)
        if wanted is not None:
            query = query.where(CT.c.status == wanted)
        if visible is not None:
            query = query.where(CT.c.id.in_(sorted(visible)))
        rows = conn.execute(query).all()
        ids = [int(r.id) for r in rows]
        evidence = _counts(conn, EV.c.case_id, ids)
        accused = _counts(conn, CA.c.case_id, ids)
        seizures = _counts(conn, SZ.c.case_id, ids)
        out = [
            {
                **case_dict(r),
                "evidence": evidence.get(int(r.id), 0),
                "accused": accused.get(int(r.id), 0),
                "seizures": seizures.get(int(r.id), 0),
            }
            for r in rows
        ]
        audit.record(conn, actor, "case.list", details={"status": wanted, "cases": ids})
    return out


def _counts(conn: Connection, column: Any, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = conn.execute(select(column, func.count()).where(column.in_(ids)).group_by(column)).all()
    return {int(k): int(n) for k, n in rows}


def show_case(store: Store, actor: Actor, case: str | int) -> dict[str, Any]:
    """Everything about one case (see :func:`case_detail`), audited as a read."""
    with store.engine.begin() as conn:
        row = _case_for(conn, actor, case, "case.read")
        out = case_detail(conn, int(row.id))
        audit.record(
            conn, actor, "case.show", case_id=int(row.id), object_kind="case", object_id=int(row.id)
        )
    return out
