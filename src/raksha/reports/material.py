"""New material: items an analyst confirmed as abuse material that no reference set holds.

These are what INTERPOL's ICSE most needs (material not yet known anywhere), so the list
is kept strictly: an item that matched a reference set, or whose MD5, SHA-1 or SHA-256 a
reference set holds now (a set imported after the scan), is refused, because it is not
new; an item a known-file set (NSRL) holds is refused as an operating-system or
application file. Every confirmation and withdrawal is an audit entry with the item's
hash, so the list can be proven as it stood at any submission.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from raksha.cases import audit
from raksha.cases.access import require_case, visible_case_ids
from raksha.cases.actor import Actor
from raksha.errors import NotFoundError, UsageError
from raksha.hashes import MD5, SHA1, SHA256
from raksha.hashsets.categories import get_scheme
from raksha.reports.errors import NotNewMaterialError
from raksha.reports.formatting import as_utc
from raksha.store.case_models import new_material_table
from raksha.store.db import Store
from raksha.store.models import (
    cases_table,
    evidence_table,
    hash_sets_table,
    iso_utc,
    item_matches_table,
    items_table,
    reference_hashes_table,
    utcnow,
)

logger = logging.getLogger(__name__)

EV, IT, MT, NM = evidence_table, items_table, item_matches_table, new_material_table
RH, HS = reference_hashes_table, hash_sets_table
#: Categories new material can take: Project VIC's (VICS Default flavour, as ICSE reads it).
CATEGORIES: dict[str, str] = dict(get_scheme("projectvic").labels)
DEFAULT_CATEGORY = "1"


@dataclass(slots=True, frozen=True)
class NewMaterial:
    item_id: int
    case_id: int
    case_name: str
    locator: str
    sha256: str | None
    md5: str | None
    category: str | None
    confirmed_by: str
    confirmed_at: datetime
    notes: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "case_id": self.case_id,
            "case": self.case_name,
            "locator": self.locator,
            "sha256": self.sha256,
            "md5": self.md5,
            "category": self.category,
            "category_label": CATEGORIES.get(self.category or ""),
            "confirmed_by": self.confirmed_by,
            "confirmed_at": iso_utc(self.confirmed_at),
            "notes": self.notes,
        }


def _item(conn: Connection, item_id: int) -> Any:
    row = conn.execute(
        select(IT, EV.c.case_id, cases_table.c.name.label("case_name"))
        .join(EV, EV.c.id == IT.c.evidence_id)
        .join(cases_table, cases_table.c.id == EV.c.case_id)
        .where(IT.c.id == item_id)
    ).first()
    if row is None:
        raise NotFoundError(
            f"no item {item_id}; `raksha hits --case CASE --json` and the case report show item ids"
        )
    return row


def _held_by(conn: Connection, item: Any) -> tuple[str, str] | None:
    """The first set (name, kind) that matched the item or holds one of its digests."""
    matched = conn.execute(
        select(MT.c.set_name, MT.c.set_kind)
        .where(MT.c.item_id == item.id)
        .order_by(MT.c.set_kind.desc(), MT.c.id)  # reference before known
    ).first()
    if matched is not None:
        return str(matched[0]), str(matched[1])
    digests = [(a, v) for a, v in ((MD5, item.md5), (SHA1, item.sha1), (SHA256, item.sha256)) if v]
    if not digests:
        return None
    held = conn.execute(
        select(HS.c.name, HS.c.kind)
        .join(RH, RH.c.set_id == HS.c.id)
        .where(or_(*(and_(RH.c.algorithm == a, RH.c.value == v) for a, v in digests)))
        .order_by(HS.c.kind.desc(), HS.c.name)
    ).first()
    return None if held is None else (str(held[0]), str(held[1]))


def _record(item: Any, row: Any) -> NewMaterial:
    confirmed_at = as_utc(row.confirmed_at)
    assert confirmed_at is not None
    return NewMaterial(
        item_id=item.id,
        case_id=item.case_id,
        case_name=item.case_name,
        locator=item.locator,
        sha256=item.sha256,
        md5=item.md5,
        category=row.category,
        confirmed_by=row.confirmed_by,
        confirmed_at=confirmed_at,
        notes=row.notes,
    )


def confirm_new(
    store: Store,
    actor: Actor,
    item_id: int,
    category: str | None = DEFAULT_CATEGORY,
    notes: str | None = None,
) -> NewMaterial:
    """Confirm an item as new material (refused when any set already holds it)."""
    category = (category or DEFAULT_CATEGORY).strip()
    if category not in CATEGORIES:
        choices = ", ".join(f"{k} ({v})" for k, v in CATEGORIES.items())
        raise UsageError(f"category {category!r} is not a VICS category; use one of: {choices}")
    with store.engine.begin() as conn:
        item = _item(conn, item_id)
        require_case(conn, actor, item.case_id, "material.confirm")
        if not (item.md5 or item.sha256):
            raise UsageError(
                f"item {item_id} ({item.locator}) has no hashes (it could not be read: "
                f"{item.error or item.status}); only hashed files can be submitted"
            )
        held = _held_by(conn, item)
        if held is not None:
            name, kind = held
            if kind == "known":
                raise NotNewMaterialError(
                    f"item {item_id} ({item.locator}) is in the known-file set {name!r}: an "
                    "operating-system or application file, not new material"
                )
            raise NotNewMaterialError(
                f"item {item_id} ({item.locator}) already matches the reference set {name!r}, "
                "so it is not new material; it is exported with the case's hits "
                "(`raksha report vics CASE --hits-only`)"
            )
        if conn.execute(select(NM.c.id).where(NM.c.item_id == item_id)).first() is not None:
            raise UsageError(
                f"item {item_id} is confirmed as new material already; withdraw it first "
                f"(`raksha material withdraw {item_id}`) to change its category"
            )
        values = {
            "item_id": item_id,
            "category": category,
            "confirmed_by": actor.username,
            "confirmed_at": utcnow(),
            "notes": notes,
        }
        conn.execute(NM.insert().values(**values))
        audit.record(
            conn,
            actor,
            "material.confirm",
            case_id=item.case_id,
            object_kind="item",
            object_id=item_id,
            details={"sha256": item.sha256, "md5": item.md5, "category": category},
        )
        row = conn.execute(select(NM).where(NM.c.item_id == item_id)).one()
    logger.info("item %d confirmed as new material (category %s)", item_id, category)
    return _record(item, row)


def withdraw(store: Store, actor: Actor, item_id: int, reason: str | None = None) -> NewMaterial:
    """Take an item off the new-material list (the audit log keeps what it was)."""
    with store.engine.begin() as conn:
        item = _item(conn, item_id)
        require_case(conn, actor, item.case_id, "material.confirm")
        row = conn.execute(select(NM).where(NM.c.item_id == item_id)).first()
        if row is None:
            raise NotFoundError(
                f"item {item_id} is not on the new-material list; `raksha material list` shows it"
            )
        conn.execute(NM.delete().where(NM.c.item_id == item_id))
        audit.record(
            conn,
            actor,
            "material.withdraw",
            case_id=item.case_id,
            object_kind="item",
            object_id=item_id,
            details={
                "sha256": item.sha256,
                "category": row.category,
                "confirmed_by": row.confirmed_by,
                "reason": reason,
            },
        )
    return _record(item, row)


def list_new(store: Store, actor: Actor, case_id: int | None = None) -> list[NewMaterial]:
    """Confirmed new material the actor may see, of one case or of all their cases."""
    with store.engine.begin() as conn:
        query = (
            select(
                NM,
                IT.c.id.label("iid"),
                IT.c.locator,
                IT.c.sha256,
                IT.c.md5,
                EV.c.case_id,
                cases_table.c.name.label("case_name"),
            )
            .join(IT, IT.c.id == NM.c.item_id)
            .join(EV, EV.c.id == IT.c.evidence_id)
            .join(cases_table, cases_table.c.id == EV.c.case_id)
            .order_by(EV.c.case_id, IT.c.locator)
        )
        if case_id is not None:
            require_case(conn, actor, case_id, "case.read")
            query = query.where(EV.c.case_id == case_id)
        else:
            visible = visible_case_ids(conn, actor)
            if visible is not None:
                query = query.where(EV.c.case_id.in_(visible or {-1}))
        rows = conn.execute(query).all()
        audit.record(conn, actor, "material.list", case_id=case_id, details={"items": len(rows)})
    out = []
    for r in rows:
        item = _ItemView(r.iid, r.case_id, r.case_name, r.locator, r.sha256, r.md5)
        out.append(_record(item, r))
    return out


@dataclass(slots=True, frozen=True)
class _ItemView:
    id: int
    case_id: int
    case_name: str
    locator: str
    sha256: str | None
    md5: str | None
