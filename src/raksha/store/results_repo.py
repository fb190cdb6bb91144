"""Reading scan results: hits of a case, and what a piece of evidence held."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from raksha.store.db import Store
from raksha.store.models import (
    cases_table,
    evidence_table,
    item_matches_table,
    items_table,
    scans_table,
)

IT = items_table
MT = item_matches_table
EV = evidence_table


def iter_hits(
    store: Store, case_id: int, *, include_known: bool = False
) -> Iterator[dict[str, Any]]:
    """Every match of every item in the case, item by item, in evidence then locator order."""
    query = (
        select(
            EV.c.id.label("evidence_id"),
            EV.c.source_path,
            IT.c.id.label("item_id"),
            IT.c.locator,
            IT.c.size,
            IT.c.file_type,
            IT.c.md5,
            IT.c.sha1,
            IT.c.sha256,
            IT.c.pdq,
            IT.c.pdq_quality,
            IT.c.modified,
            IT.c.allocation,
            IT.c.inode,
            IT.c.data_offset,
            MT.c.set_name,
            MT.c.set_kind,
            MT.c.category,
            MT.c.category_label,
            MT.c.match_kind,
            MT.c.algorithm,
            MT.c.distance,
            MT.c.variant,
            MT.c.record_key,
            MT.c.review_state,
            MT.c.query_share,
            MT.c.ref_share,
            MT.c.at_seconds,
        )
        .join(IT, IT.c.evidence_id == EV.c.id)
        .join(MT, MT.c.item_id == IT.c.id)
        .where(EV.c.case_id == case_id)
        .order_by(EV.c.id, IT.c.locator, MT.c.set_name, MT.c.distance)
    )
    if not include_known:
        query = query.where(MT.c.set_kind == "reference")
    with store.engine.connect() as conn:
        for row in conn.execution_options(yield_per=2000).execute(query).mappings():
            hit = dict(row)
            if hit["modified"] is not None:
                hit["modified"] = hit["modified"].isoformat()
            yield hit


def evidence_summary(store: Store, case_id: int) -> list[dict[str, Any]]:
    """Per piece of evidence: items by type and status, hits by set and category, errors."""
    out: list[dict[str, Any]] = []
    with store.engine.connect() as conn:
        case_name = conn.execute(
            select(cases_table.c.name).where(cases_table.c.id == case_id)
        ).scalar_one()
        for ev in conn.execute(select(EV).where(EV.c.case_id == case_id).order_by(EV.c.id)):
            by_type: dict[str, int] = {}
            for file_type, n in conn.execute(
                select(IT.c.file_type, func.count())
                .where(IT.c.evidence_id == ev.id)
                .group_by(IT.c.file_type)
            ):
                by_type[file_type or "other"] = by_type.get(file_type or "other", 0) + n
            by_status: dict[str, int] = dict(
                conn.execute(
                    select(IT.c.status, func.count())
                    .where(IT.c.evidence_id == ev.id)
                    .group_by(IT.c.status)
                ).all()
            )
            hits = [
                {"set": s, "category": c, "label": label, "items": n}
                for s, c, label, n in conn.execute(
                    select(
                        MT.c.set_name,
                        MT.c.category,
                        MT.c.category_label,
                        func.count(func.distinct(MT.c.item_id)),
                    )
                    .join(IT, IT.c.id == MT.c.item_id)
                    .where(IT.c.evidence_id == ev.id, MT.c.set_kind == "reference")
                    .group_by(MT.c.set_name, MT.c.category, MT.c.category_label)
                    .order_by(MT.c.set_name, MT.c.category)
                )
            ]
            errors = [
                {"locator": loc, "error": err}
                for loc, err in conn.execute(
                    select(IT.c.locator, IT.c.error)
                    .where(IT.c.evidence_id == ev.id, IT.c.error.is_not(None))
                    .order_by(IT.c.locator)
                )
            ]
            scans = [
                {
                    "id": s.id,
                    "status": s.status,
                    "started_at": s.started_at.isoformat(),
                    "finished_at": s.finished_at.isoformat() if s.finished_at else None,
                    "counts": s.counts,
                }
                for s in conn.execute(
                    select(scans_table)
                    .where(scans_table.c.evidence_id == ev.id)
                    .order_by(scans_table.c.id)
                )
            ]
            by_allocation: dict[str, int] = {
                a: n
                for a, n in conn.execute(
                    select(IT.c.allocation, func.count())
                    .where(IT.c.evidence_id == ev.id, IT.c.allocation.is_not(None))
                    .group_by(IT.c.allocation)
                )
            }
            image = None
            if ev.image_format is not None:
                image = {
                    "format": ev.image_format,
                    "media_size": ev.media_size,
                    "acquisition_md5": ev.acquisition_md5,
                    "acquisition_sha1": ev.acquisition_sha1,
                    "verification": ev.verification,
                    "verified_md5": ev.verified_md5,
                    "verified_sha1": ev.verified_sha1,
                    "verified_at": ev.verified_at.isoformat() if ev.verified_at else None,
                    "details": ev.details,
                    "items_by_allocation": by_allocation,
                }
            out.append(
                {
                    "case": case_name,
                    "evidence_id": ev.id,
                    "source_path": ev.source_path,
                    "kind": ev.kind,
                    "container_sha256": ev.container_sha256,
                    "container_size": ev.container_size,
                    "added_at": ev.added_at.isoformat(),
                    "items_by_type": by_type,
                    "items_by_status": by_status,
                    "image": image,
                    "hits": hits,
                    "errors": errors,
                    "scans": scans,
                }
            )
    return out
