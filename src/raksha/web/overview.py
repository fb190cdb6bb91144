"""What the dashboard shows, for one user: only the parts their role may read, and only
the cases they may see (read-only queries; the page and ``/api/dashboard`` share them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from raksha.cases.access import allowed, visible_case_ids
from raksha.cases.actor import Actor
from raksha.store.case_models import operations_table, raid_targets_table
from raksha.store.chat_models import messages_table, watches_table
from raksha.store.db import Store
from raksha.store.intel_models import tips_table
from raksha.store.models import (
    cases_table,
    evidence_table,
    iso_utc,
    item_matches_table,
    items_table,
)

RECENT = 10


@dataclass
class Overview:
    """The dashboard's sections; ``None`` where the user's role may not read that part."""

    new_hits: int | None = None
    case_count: int | None = None
    cases: list[dict[str, Any]] | None = None
    operations: dict[str, Any] | None = None
    watches: list[dict[str, Any]] | None = None
    tips: list[dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "new_hits": self.new_hits,
            "case_count": self.case_count,
            "cases": self.cases,
            "operations": self.operations,
            "watches": self.watches,
            "tips": self.tips,
        }


def _case_filter(column: Any, visible: set[int] | None) -> Any:
    return None if visible is None else column.in_(sorted(visible))


def _new_hits(conn: Connection, visible: set[int] | None) -> int:
    mt, it, ev = item_matches_table, items_table, evidence_table
    query = (
        select(func.count())
        .select_from(mt)
        .join(it, it.c.id == mt.c.item_id)
        .join(ev, ev.c.id == it.c.evidence_id)
        .where(mt.c.review_state == "new", mt.c.set_kind == "reference")
    )
    where = _case_filter(ev.c.case_id, visible)
    return int(conn.execute(query if where is None else query.where(where)).scalar_one())


def _cases(conn: Connection, visible: set[int] | None) -> tuple[int, list[dict[str, Any]]]:
    ct = cases_table
    where = _case_filter(ct.c.id, visible)
    count_q = select(func.count()).select_from(ct)
    list_q = select(ct.c.id, ct.c.name, ct.c.status, ct.c.district, ct.c.created_at)
    if where is not None:
        count_q, list_q = count_q.where(where), list_q.where(where)
    count = int(conn.execute(count_q).scalar_one())
    rows = conn.execute(list_q.order_by(ct.c.created_at.desc(), ct.c.id.desc()).limit(RECENT))
    return count, [
        {
            "id": r.id,
            "name": r.name,
            "status": r.status,
            "district": r.district,
            "created_at": iso_utc(r.created_at),
        }
        for r in rows
    ]


def _operations(conn: Connection) -> dict[str, Any] | None:
    """Operations and their raid targets by status; ``None`` when there are none at all."""
    ot, rt = operations_table, raid_targets_table
    count = int(conn.execute(select(func.count()).select_from(ot)).scalar_one())
    if count == 0:
        return None
    by_status = {
        str(status): int(n)
        for status, n in conn.execute(select(rt.c.status, func.count()).group_by(rt.c.status))
    }
    targets = (
        select(rt.c.operation_id, func.count().label("targets"))
        .group_by(rt.c.operation_id)
        .subquery()
    )
    latest = conn.execute(
        select(ot.c.id, ot.c.name, ot.c.starts_at, func.coalesce(targets.c.targets, 0))
        .outerjoin(targets, targets.c.operation_id == ot.c.id)
        .order_by(ot.c.starts_at.desc(), ot.c.id.desc())
        .limit(5)
    )
    return {
        "count": count,
        "targets_by_status": by_status,
        "latest": [
            {"id": r[0], "name": r[1], "starts_at": iso_utc(r[2]), "targets": int(r[3])}
            for r in latest
        ],
    }


def _watches(conn: Connection, visible: set[int] | None) -> list[dict[str, Any]]:
    """Watched groups with their last run and the newest message ingested from them."""
    wt, ct, ev, mt = watches_table, cases_table, evidence_table, messages_table
    query = select(wt.c.id, wt.c.name, wt.c.path, wt.c.case_id, wt.c.last_run, ct.c.name).join(
        ct, ct.c.id == wt.c.case_id
    )
    where = _case_filter(wt.c.case_id, visible)
    if where is not None:
        query = query.where(where)
    out = []
    for row in conn.execute(query.order_by(wt.c.name)):
        latest = conn.execute(
            select(func.max(mt.c.sent_at), func.count(mt.c.id), func.max(ev.c.added_at))
            .select_from(ev)
            .outerjoin(mt, mt.c.evidence_id == ev.c.id)
            .where(ev.c.case_id == row[3], ev.c.source_path.startswith(row[2], autoescape=True))
        ).one()
        out.append(
            {
                "name": row[1],
                "case": row[5],
                "last_run": iso_utc(row[4]),
                "latest_message": iso_utc(latest[0]),
                "messages": int(latest[1]),
                "latest_ingest": iso_utc(latest[2]),
            }
        )
    return out


def _tips(conn: Connection) -> list[dict[str, Any]]:
    tt = tips_table
    rows = conn.execute(
        select(tt.c.follow_up, tt.c.received_at, tt.c.kind, tt.c.value, tt.c.text, tt.c.status)
        .order_by(tt.c.received_at.desc(), tt.c.id.desc())
        .limit(RECENT)
    )
    return [
        {
            "follow_up": r.follow_up,
            "received_at": iso_utc(r.received_at),
            "kind": r.kind,
            "value": r.value,
            "text": None if r.text is None else r.text[:300],
            "status": r.status,
        }
        for r in rows
    ]


def overview(store: Store, actor: Actor) -> Overview:
    """The dashboard of ``actor``."""
    out = Overview()
    with store.engine.connect() as conn:
        visible = visible_case_ids(conn, actor)
        if allowed(actor, "hits.read"):
            out.new_hits = _new_hits(conn, visible)
        if allowed(actor, "case.read"):
            out.case_count, out.cases = _cases(conn, visible)
        if allowed(actor, "operation.read"):
            out.operations = _operations(conn)
        if allowed(actor, "intel.read"):
            out.watches = _watches(conn, visible)
            out.tips = _tips(conn)
    if visible is not None:
        out.notes.append(
            f"Counts cover the {len(visible)} case(s) you are assigned to; a supervisor "
            "assigns cases."
        )
    return out
