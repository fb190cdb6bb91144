"""What the evidence pages show: the evidence of the cases a user may see, with counts, and
one piece of evidence in full (read-only queries; need to know applied here)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from raksha.cases.access import require, require_case, visible_case_ids
from raksha.cases.actor import Actor
from raksha.errors import NotFoundError
from raksha.store.db import Store
from raksha.store.models import (
    cases_table,
    evidence_table,
    iso_utc,
    item_matches_table,
    items_table,
    scans_table,
)
from raksha.store.results_repo import evidence_summary

CT, EV, IT, MT, SC = cases_table, evidence_table, items_table, item_matches_table, scans_table


def visible_cases(conn: Connection, actor: Actor) -> list[dict[str, Any]]:
    """The cases the user may see, by name: ``{"id", "name", "status"}``."""
    visible = visible_case_ids(conn, actor)
    query = select(CT.c.id, CT.c.name, CT.c.status).order_by(CT.c.name)
    if visible is not None:
        query = query.where(CT.c.id.in_(sorted(visible)))
    return [{"id": int(r.id), "name": r.name, "status": r.status} for r in conn.execute(query)]


def _by_evidence(conn: Connection, query: Any) -> dict[int, int]:
    return {int(k): int(n) for k, n in conn.execute(query)}


def evidence_by_case(
    conn: Connection, actor: Actor, case_id: int | None = None
) -> list[dict[str, Any]]:
    """Visible cases (or the one asked for) with their evidence and its counts."""
    require(actor, "hits.read")
    if case_id is not None:
        require_case(conn, actor, case_id, "hits.read")
    cases = [c for c in visible_cases(conn, actor) if case_id is None or c["id"] == case_id]
    ids = [c["id"] for c in cases]
    if not ids:
        return []
    rows = conn.execute(select(EV).where(EV.c.case_id.in_(ids)).order_by(EV.c.id)).all()
    ev_ids = [int(r.id) for r in rows]
    items = _by_evidence(
        conn,
        select(IT.c.evidence_id, func.count())
        .where(IT.c.evidence_id.in_(ev_ids))
        .group_by(IT.c.evidence_id),
    )
    hit_q = (
        select(IT.c.evidence_id, func.count(func.distinct(IT.c.id)))
        .join(MT, MT.c.item_id == IT.c.id)
        .where(IT.c.evidence_id.in_(ev_ids), MT.c.set_kind == "reference")
        .group_by(IT.c.evidence_id)
    )
    hits = _by_evidence(conn, hit_q)
    new_hits = _by_evidence(conn, hit_q.where(MT.c.review_state == "new"))
    latest: dict[int, Any] = {}
    for run in conn.execute(select(SC).where(SC.c.evidence_id.in_(ev_ids)).order_by(SC.c.id)):
        latest[int(run.evidence_id)] = run
    by_case: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for r in rows:
        scan = latest.get(int(r.id))
        by_case[int(r.case_id)].append(
            {
                "id": int(r.id),
                "kind": r.kind,
                "source_path": r.source_path,
                "added_at": iso_utc(r.added_at),
                "item_count": items.get(int(r.id), 0),
                "hits": hits.get(int(r.id), 0),
                "new_hits": new_hits.get(int(r.id), 0),
                "last_scan": None
                if scan is None
                else {"id": int(scan.id), "status": scan.status, "at": iso_utc(scan.started_at)},
            }
        )
    return [{**c, "evidence": by_case[c["id"]]} for c in cases]


def evidence_detail(store: Store, actor: Actor, evidence_id: int) -> dict[str, Any]:
    """One piece of evidence as ``raksha evidence show`` describes it, with its case."""
    require(actor, "hits.read")
    with store.engine.connect() as conn:
        row = conn.execute(
            select(EV.c.case_id, CT.c.name)
            .join(CT, CT.c.id == EV.c.case_id)
            .where(EV.c.id == evidence_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no evidence {evidence_id}")
        case_id = int(row.case_id)
        require_case(conn, actor, case_id, "hits.read")
        new_hits = int(
            conn.execute(
                select(func.count(func.distinct(IT.c.id)))
                .join(MT, MT.c.item_id == IT.c.id)
                .where(
                    IT.c.evidence_id == evidence_id,
                    MT.c.set_kind == "reference",
                    MT.c.review_state == "new",
                )
            ).scalar_one()
        )
    (summary,) = [e for e in evidence_summary(store, case_id) if e["evidence_id"] == evidence_id]
    return {**summary, "case_id": case_id, "new_hits": new_hits}
