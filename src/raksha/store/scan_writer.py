"""The one writer of scan results: items and their matches, a batch per transaction.

Writes are idempotent: an item is unique per evidence by its locator key and a match per
(item, reference, algorithm), so writing a batch twice (a resumed scan, a retried batch
on a cluster) stores it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from raksha.store.db import Store, insert_ignoring_duplicates
from raksha.store.models import item_matches_table, items_table


@dataclass(slots=True)
class MatchRow:
    ref_id: int
    set_name: str
    set_kind: str
    algorithm: str
    match_kind: str
    distance: int
    variant: str | None
    ref_value: str
    record_key: str | None
    category: str | None
    category_label: str | None
    query_share: float | None = None
    ref_share: float | None = None
    at_seconds: float | None = None


@dataclass(slots=True)
class ItemRow:
    locator: str
    locator_key: str
    kind: str
    status: str
    size: int | None = None
    modified: datetime | None = None
    accessed: datetime | None = None
    changed: datetime | None = None
    created: datetime | None = None
    file_type: str | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    error: str | None = None
    note: str | None = None
    allocation: str | None = None
    inode: str | None = None
    data_offset: int | None = None
    vpdq: list[list[object]] | None = None
    video: dict[str, object] | None = None
    matches: list[MatchRow] = field(default_factory=list)


_ITEM_FIELDS = (
    "locator",
    "locator_key",
    "kind",
    "status",
    "size",
    "modified",
    "accessed",
    "changed",
    "created",
    "file_type",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "error",
    "note",
    "allocation",
    "inode",
    "data_offset",
    "vpdq",
    "video",
)


class ScanWriter:
    """Writes batches of finished items for one scan of one piece of evidence."""

    def __init__(self, store: Store, evidence_id: int, scan_id: int) -> None:
        self.store = store
        self.evidence_id = evidence_id
        self.scan_id = scan_id

    def write(self, rows: list[ItemRow]) -> None:
        if not rows:
            return
        with self.store.engine.begin() as conn:
            conn.execute(
                insert_ignoring_duplicates(conn, items_table),
                [
                    {
                        **{name: getattr(r, name) for name in _ITEM_FIELDS},
                        "evidence_id": self.evidence_id,
                        "scan_id": self.scan_id,
                    }
                    for r in rows
                ],
            )
            with_matches = [r for r in rows if r.matches]
            if not with_matches:
                return
            keys = [r.locator_key for r in with_matches]
            ids: dict[str, int] = dict(
                conn.execute(
                    select(items_table.c.locator_key, items_table.c.id).where(
                        items_table.c.evidence_id == self.evidence_id,
                        items_table.c.locator_key.in_(keys),
                    )
                ).all()
            )
            conn.execute(
                insert_ignoring_duplicates(conn, item_matches_table),
                [
                    {
                        "item_id": ids[r.locator_key],
                        "ref_id": m.ref_id,
                        "set_name": m.set_name,
                        "set_kind": m.set_kind,
                        "algorithm": m.algorithm,
                        "match_kind": m.match_kind,
                        "distance": m.distance,
                        "variant": m.variant,
                        "ref_value": m.ref_value,
                        "record_key": m.record_key,
                        "category": m.category,
                        "category_label": m.category_label,
                        "review_state": "new",
                        "query_share": m.query_share,
                        "ref_share": m.ref_share,
                        "at_seconds": m.at_seconds,
                    }
                    for r in with_matches
                    for m in r.matches
                ],
            )
