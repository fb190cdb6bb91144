"""Reading a case: its fields as one dict, and everything about it for ``case show``,
reports and the web console.

These functions neither check access nor write the audit log: the caller does both in
the same transaction (``raksha.cases.records.show_case`` is the one the CLI uses), so a
report can read a case inside its own snapshot and log its own entry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, func, select

from raksha.cases import audit
from raksha.cases.sections import titles as section_titles
from raksha.errors import NotFoundError
from raksha.store.case_models import (
    case_accused_table,
    case_links_table,
    case_members_table,
    seizures_table,
    users_table,
)
from raksha.store.chat_models import accounts_table
from raksha.store.intel_models import referrals_table, tips_table
from raksha.store.models import (
    cases_table,
    evidence_table,
    iso_utc,
    item_matches_table,
    items_table,
)
from raksha.store.network_models import people_table, person_accounts_table

CT, CM, CA, CL = cases_table, case_members_table, case_accused_table, case_links_table
U, P, PA, A = users_table, people_table, person_accounts_table, accounts_table
EV, IT, MT, SZ = evidence_table, items_table, item_matches_table, seizures_table
REF, TIP = referrals_table, tips_table


def case_dict(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "name": row.name,
        "description": row.description,
        "fir_number": row.fir_number,
        "police_station": row.police_station,
        "district": row.district,
        "sections": list(row.sections or []),
        "status": row.status,
        "created_at": iso_utc(row.created_at),
        "created_by": row.created_by,
        "updated_at": iso_utc(row.updated_at),
    }


def case_detail(conn: Connection, case_id: int) -> dict[str, Any]:
    """The case's fields plus ``section_titles``, ``accused`` (with their accounts'
    identifiers), ``evidence`` (items and hits of each), ``referrals``, ``tips``,
    ``members``, ``seizures`` (a count) and ``status_history`` (from the audit log).

    No access check and no audit entry: callers (:func:`show_case`, reports, the web
    console) do both in their own transaction.
    """
    row = conn.execute(select(CT).where(CT.c.id == case_id)).first()
    if row is None:
        raise NotFoundError(f"no case with id {case_id}; `raksha case list` shows the cases")
    out = case_dict(row)
    titles = section_titles(conn)
    out["section_titles"] = {code: titles.get(code) for code in out["sections"]}
    out["accused"] = _accused(conn, case_id)
    out["evidence"] = _evidence(conn, case_id)
    out["referrals"], out["tips"] = _links(conn, case_id)
    out["members"] = [
        {
            "username": m.username,
            "full_name": m.full_name,
            "role": m.role,
            "added_by": m.added_by,
            "added_at": iso_utc(m.added_at),
        }
        for m in conn.execute(
            select(U.c.username, U.c.full_name, U.c.role, CM.c.added_by, CM.c.added_at)
            .join(CM, CM.c.user_id == U.c.id)
            .where(CM.c.case_id == case_id)
            .order_by(U.c.username)
        )
    ]
    out["seizures"] = int(
        conn.execute(select(func.count()).where(SZ.c.case_id == case_id)).scalar_one()
    )
    out["status_history"] = [
        {
            "at": e["at"],
            "by": e["actor"],
            **{k: e["details"].get(k) for k in ("old", "new", "reason")},
        }
        for e in reversed(audit.entries(conn, case_id=case_id, action="case.status", limit=1000))
    ]
    return out


def _accused(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    people = conn.execute(
        select(P.c.id, P.c.label, CA.c.status, CA.c.added_by, CA.c.added_at)
        .join(CA, CA.c.person_id == P.c.id)
        .where(CA.c.case_id == case_id)
        .order_by(P.c.id)
    ).all()
    accounts: dict[int, list[dict[str, Any]]] = {int(p.id): [] for p in people}
    if accounts:
        for a in conn.execute(
            select(PA.c.person_id, A.c.platform, A.c.id_kind, A.c.external_id, A.c.display_name)
            .join(A, A.c.id == PA.c.account_id)
            .where(PA.c.person_id.in_(sorted(accounts)))
            .order_by(PA.c.person_id, A.c.platform, A.c.external_id)
        ):
            accounts[int(a.person_id)].append(
                {
                    "platform": a.platform,
                    "id_kind": a.id_kind,
                    "identifier": a.external_id,
                    "display_name": a.display_name,
                }
            )
    return [
        {
            "person_id": int(p.id),
            "label": p.label,
            "status": p.status,
            "added_by": p.added_by,
            "added_at": iso_utc(p.added_at),
            "accounts": accounts[int(p.id)],
        }
        for p in people
    ]


def _evidence(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    items = (
        select(IT.c.evidence_id, func.count().label("n"))
        .join(EV, EV.c.id == IT.c.evidence_id)
        .where(EV.c.case_id == case_id)
        .group_by(IT.c.evidence_id)
    )
    hits = (
        select(IT.c.evidence_id, func.count(func.distinct(IT.c.id)).label("n"))
        .join(MT, MT.c.item_id == IT.c.id)
        .join(EV, EV.c.id == IT.c.evidence_id)
        .where(EV.c.case_id == case_id, MT.c.set_kind == "reference")
        .group_by(IT.c.evidence_id)
    )
    n_items = {int(k): int(n) for k, n in conn.execute(items)}
    n_hits = {int(k): int(n) for k, n in conn.execute(hits)}
    return [
        {
            "id": int(e.id),
            "kind": e.kind,
            "source_path": e.source_path,
            "root_locator": e.root_locator,
            "container_sha256": e.container_sha256,
            "seizure_id": e.seizure_id,
            "added_at": iso_utc(e.added_at),
            "items": n_items.get(int(e.id), 0),
            "hits": n_hits.get(int(e.id), 0),
        }
        for e in conn.execute(select(EV).where(EV.c.case_id == case_id).order_by(EV.c.id))
    ]


def _links(conn: Connection, case_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    referrals = [
        {
            "id": int(r.id),
            "source": r.source,
            "external_id": r.external_id,
            "received_at": iso_utc(r.received_at),
            "incident_type": r.incident_type,
            "linked_by": r.added_by,
            "linked_at": iso_utc(r.added_at),
        }
        for r in conn.execute(
            select(REF, CL.c.added_by, CL.c.added_at)
            .join(CL, (CL.c.target_id == REF.c.id) & (CL.c.target_kind == "referral"))
            .where(CL.c.case_id == case_id)
            .order_by(REF.c.id)
        )
    ]
    tips = [
        {
            "id": int(t.id),
            "follow_up": t.follow_up,
            "kind": t.kind,
            "value": t.value,
            "status": t.status,
            "received_at": iso_utc(t.received_at),
            "linked_by": t.added_by,
            "linked_at": iso_utc(t.added_at),
        }
        for t in conn.execute(
            select(TIP, CL.c.added_by, CL.c.added_at)
            .join(CL, (CL.c.target_id == TIP.c.id) & (CL.c.target_kind == "tip"))
            .where(CL.c.case_id == case_id)
            .order_by(TIP.c.id)
        )
    ]
    return referrals, tips
