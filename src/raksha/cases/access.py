"""Need to know: which role may do what, and who may see which case.

Permissions are named ``area.verb``. Supervisors and auditors see every case (auditors
read only); analysts and investigators see the cases they are assigned to (a case's
creator is assigned to it); admins manage users and see cases only when assigned.
The matrix below is the whole policy; ``docs/security.md`` prints it.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from raksha.cases.actor import Actor
from raksha.errors import AccessDeniedError
from raksha.store.case_models import case_members_table

#: permission -> roles that hold it.
PERMISSIONS: dict[str, frozenset[str]] = {
    "hashset.manage": frozenset({"analyst", "supervisor", "admin"}),
    "evidence.scan": frozenset({"analyst", "investigator", "supervisor"}),
    "hits.read": frozenset({"analyst", "investigator", "supervisor", "auditor"}),
    "hits.review": frozenset({"analyst", "investigator", "supervisor"}),
    "network.read": frozenset({"analyst", "investigator", "supervisor", "auditor"}),
    "network.decide": frozenset({"analyst", "supervisor"}),
    "intel.read": frozenset({"analyst", "investigator", "supervisor", "auditor"}),
    "intel.write": frozenset({"analyst", "investigator", "supervisor"}),
    "case.create": frozenset({"investigator", "supervisor"}),
    "case.read": frozenset({"analyst", "investigator", "supervisor", "auditor", "admin"}),
    "case.write": frozenset({"investigator", "supervisor"}),
    "case.assign": frozenset({"supervisor"}),
    "sections.manage": frozenset({"supervisor", "admin"}),
    "operation.plan": frozenset({"supervisor"}),
    "operation.update": frozenset({"investigator", "supervisor"}),
    "operation.read": frozenset({"analyst", "investigator", "supervisor", "auditor"}),
    "seizure.write": frozenset({"investigator", "supervisor"}),
    "custody.write": frozenset({"investigator", "supervisor", "analyst"}),
    "report.generate": frozenset({"investigator", "supervisor"}),
    "material.confirm": frozenset({"analyst", "supervisor"}),
    "audit.read": frozenset({"auditor"}),
    "audit.verify": frozenset({"auditor", "admin"}),
    "user.manage": frozenset({"admin"}),
}

#: Roles that see every case without being assigned.
ALL_CASES_ROLES = frozenset({"supervisor", "auditor"})


def allowed(actor: Actor, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return actor.setup or actor.role in PERMISSIONS[permission]


def require(actor: Actor, permission: str) -> None:
    """Raise :class:`AccessDeniedError` unless the actor's role holds ``permission``."""
    if not allowed(actor, permission):
        holders = ", ".join(sorted(PERMISSIONS[permission]))
        raise AccessDeniedError(
            f"{actor.username} ({actor.role}) may not do this ({permission}); "
            f"it needs one of these roles: {holders}"
        )


def visible_case_ids(conn: Connection, actor: Actor) -> set[int] | None:
    """The ids of the cases the actor may see; ``None`` means all of them."""
    if actor.setup or actor.role in ALL_CASES_ROLES:
        return None
    if actor.user_id is None:
        return set()
    rows = conn.execute(
        select(case_members_table.c.case_id).where(case_members_table.c.user_id == actor.user_id)
    )
    return {int(r[0]) for r in rows}


def can_see_case(conn: Connection, actor: Actor, case_id: int) -> bool:
    visible = visible_case_ids(conn, actor)
    return visible is None or case_id in visible


def require_case(conn: Connection, actor: Actor, case_id: int, permission: str) -> None:
    """The role must hold ``permission`` and the actor must be assigned to the case."""
    require(actor, permission)
    if not can_see_case(conn, actor, case_id):
        raise AccessDeniedError(
            f"{actor.username} is not assigned to case {case_id}; a supervisor can assign "
            "them with `raksha case assign`"
        )
