"""The review queue of hits: matches against reference sets, and an analyst's decision on each.

A match starts as ``new``. Reviewing it confirms it (``confirmed``: the analyst agrees
the item is the listed material), dismisses it (``dismissed``: a false match) or
re-categorises it (``recategorised``: the item is listed material, but of another
category than the set says). A re-categorised match gets the analyst's category in
``item_matches.category`` and the set's words for it (if the set has any) in
``category_label``; the category the set gave is kept in the audit entry of the change
(``details.old``), next to who changed it and when. Every decision is one audit entry
(``hit.confirm``, ``hit.dismiss``, ``hit.recategorise``) with the old and new state and
category, written in the same transaction as the change.

Need to know: only hits in cases the user may see are listed, and deciding needs
``hits.review`` and an assignment to the hit's case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, case, func, select, update

from raksha.cases import audit
from raksha.cases.access import require, require_case, visible_case_ids
from raksha.cases.actor import Actor
from raksha.cases.seizures import trace_item
from raksha.errors import NotFoundError, UsageError
from raksha.store.models import (
    cases_table,
    evidence_table,
    hash_sets_table,
    item_matches_table,
    items_table,
)

logger = logging.getLogger(__name__)

MT, IT, EV, CT, HS = item_matches_table, items_table, evidence_table, cases_table, hash_sets_table

#: Review states, in the order the queue lists them (new first).
REVIEW_STATES: tuple[str, ...] = ("new", "confirmed", "recategorised", "dismissed")
#: decision -> the state it sets.
DECISIONS: dict[str, str] = {
    "confirm": "confirmed",
    "dismiss": "dismissed",
    "recategorise": "recategorised",
}
#: The longest category value (the column's width).
MAX_CATEGORY = 40


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which hits to list: one case, one set, one state (``None``: all, new first)."""

    case_id: int | None = None
    set_name: str | None = None
    state: str | None = None

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in REVIEW_STATES:
            raise UsageError(f"the review state is one of {', '.join(REVIEW_STATES)}")


def _columns() -> Select[Any]:
    return (
        select(
            MT.c.id.label("match_id"),
            MT.c.set_name,
            MT.c.algorithm,
            MT.c.match_kind,
            MT.c.distance,
            MT.c.variant,
            MT.c.category,
            MT.c.category_label,
            MT.c.review_state,
            MT.c.at_seconds,
            MT.c.query_share,
            IT.c.id.label("item_id"),
            IT.c.locator,
            IT.c.file_type,
            IT.c.size,
            IT.c.md5,
            IT.c.sha1,
            IT.c.sha256,
            IT.c.pdq,
            IT.c.allocation,
            EV.c.id.label("evidence_id"),
            EV.c.source_path,
            EV.c.root_locator,
            EV.c.kind.label("evidence_kind"),
            EV.c.seizure_id,
            CT.c.id.label("case_id"),
            CT.c.name.label("case_name"),
        )
        .join(IT, IT.c.id == MT.c.item_id)
        .join(EV, EV.c.id == IT.c.evidence_id)
        .join(CT, CT.c.id == EV.c.case_id)
        .where(MT.c.set_kind == "reference")
    )


def _trace(conn: Connection, row: dict[str, Any]) -> dict[str, Any] | None:
    """Device, place, person and raid of the seized device the item came from, if linked."""
    if row["seizure_id"] is None:
        return None
    traced = trace_item(conn, int(row["item_id"]))
    seizure = traced["seizure"]
    if seizure is None:
        return None
    target = traced["raid_target"]
    return {
        "device": seizure["device"],
        "seal": seizure["seal_label"],
        "place": seizure["place"],
        "district": seizure["district"],
        "seized_at": seizure["seized_at"],
        "person": seizure["seized_from"]["name"],
        "raid": None if target is None else target["label"],
        "operation": None if target is None else target["operation"]["name"],
    }


def _scoped(query: Select[Any], visible: set[int] | None, filters: QueueFilter) -> Select[Any]:
    if visible is not None:
        query = query.where(EV.c.case_id.in_(sorted(visible)))
    if filters.case_id is not None:
        query = query.where(EV.c.case_id == filters.case_id)
    if filters.set_name:
        query = query.where(MT.c.set_name == filters.set_name)
    if filters.state is not None:
        query = query.where(MT.c.review_state == filters.state)
    return query


def queue(
    conn: Connection, actor: Actor, filters: QueueFilter, *, limit: int = 25, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """(how many hits match, one page of them): new first, then by case and locator."""
    require(actor, "hits.read")
    if filters.case_id is not None:
        require_case(conn, actor, filters.case_id, "hits.read")
    visible = visible_case_ids(conn, actor)
    count_q = _scoped(
        select(func.count())
        .select_from(MT)
        .join(IT, IT.c.id == MT.c.item_id)
        .join(EV, EV.c.id == IT.c.evidence_id)
        .where(MT.c.set_kind == "reference"),
        visible,
        filters,
    )
    total = int(conn.execute(count_q).scalar_one())
    order = case(
        *((MT.c.review_state == s, n) for n, s in enumerate(REVIEW_STATES)),
        else_=len(REVIEW_STATES),
    )
    rows = conn.execute(
        _scoped(_columns(), visible, filters)
        .order_by(order, CT.c.id, IT.c.locator, MT.c.id)
        .limit(limit)
        .offset(offset)
    ).mappings()
    out = [dict(r) for r in rows]
    for row in out:
        row["trace"] = _trace(conn, row)
    return total, out


def queue_sets(conn: Connection, actor: Actor) -> list[str]:
    """Names of the reference sets that have hits in cases the user may see."""
    require(actor, "hits.read")
    visible = visible_case_ids(conn, actor)
    query = (
        select(MT.c.set_name)
        .distinct()
        .join(IT, IT.c.id == MT.c.item_id)
        .join(EV, EV.c.id == IT.c.evidence_id)
        .where(MT.c.set_kind == "reference")
        .order_by(MT.c.set_name)
    )
    if visible is not None:
        query = query.where(EV.c.case_id.in_(sorted(visible)))
    return [str(name) for name in conn.execute(query).scalars()]


def category_labels(conn: Connection, set_names: list[str]) -> dict[str, dict[str, str]]:
    """set name -> the set's words for its categories (what re-categorising offers)."""
    if not set_names:
        return {}
    rows = conn.execute(
        select(HS.c.name, HS.c.category_map).where(HS.c.name.in_(sorted(set(set_names))))
    )
    return {str(name): dict(labels or {}) for name, labels in rows}


def _match(conn: Connection, match_id: int, *, lock: bool = False) -> dict[str, Any]:
    query = _columns().where(MT.c.id == match_id)
    if lock:
        query = query.with_for_update(of=MT)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFoundError(f"no hit {match_id} (it may belong to a known-file set)")
    return dict(row)


def get_match(conn: Connection, actor: Actor, match_id: int) -> dict[str, Any]:
    """One hit of the queue (with its trace), for a user who may read its case."""
    row = _match(conn, match_id)
    require_case(conn, actor, int(row["case_id"]), "hits.read")
    row["trace"] = _trace(conn, row)
    return row


def hit_item(conn: Connection, actor: Actor, item_id: int, permission: str) -> dict[str, Any]:
    """An item that has a reference hit, with its evidence and case, for a user who holds
    ``permission`` on that case (previews are made for hits only)."""
    query = _columns().where(IT.c.id == item_id).order_by(MT.c.id).limit(1)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFoundError(f"item {item_id} has no hit in a reference set; nothing to preview")
    require_case(conn, actor, int(row["case_id"]), permission)
    return dict(row)


def _clean_category(raw: str | None) -> str:
    value = " ".join((raw or "").split())
    if not value:
        raise UsageError("give the category to re-categorise the hit as (e.g. 1, A, baseline)")
    if len(value) > MAX_CATEGORY:
        raise UsageError(f"a category is at most {MAX_CATEGORY} characters")
    return value


def decide(
    conn: Connection,
    actor: Actor,
    match_id: int,
    decision: str,
    *,
    category: str | None = None,
) -> dict[str, Any]:
    """Confirm, dismiss or re-categorise one hit; audited. Returns the hit as it is now.

    Runs in the caller's transaction (the audit entry is in it too).
    """
    require(actor, "hits.review")
    if decision not in DECISIONS:
        raise UsageError(f"the decision is one of {', '.join(DECISIONS)}, not {decision!r}")
    row = _match(conn, match_id, lock=True)
    case_id = int(row["case_id"])
    require_case(conn, actor, case_id, "hits.review")
    old = {
        "state": row["review_state"],
        "category": row["category"],
        "category_label": row["category_label"],
    }
    new = {**old, "state": DECISIONS[decision]}
    if decision == "recategorise":
        value = _clean_category(category)
        labels = category_labels(conn, [str(row["set_name"])]).get(str(row["set_name"]), {})
        new["category"], new["category_label"] = value, labels.get(value)
    conn.execute(
        update(MT)
        .where(MT.c.id == match_id)
        .values(
            review_state=new["state"],
            category=new["category"],
            category_label=new["category_label"],
        )
    )
    audit.record(
        conn,
        actor,
        f"hit.{decision}",
        case_id=case_id,
        object_kind="item_match",
        object_id=match_id,
        details={
            "item_id": int(row["item_id"]),
            "locator": row["locator"],
            "set": row["set_name"],
            "old": old,
            "new": new,
        },
    )
    logger.info("hit %s: %s by %s", match_id, decision, actor.username)
    row.update(review_state=new["state"], category=new["category"])
    row["category_label"] = new["category_label"]
    row["trace"] = _trace(conn, row)
    return row
