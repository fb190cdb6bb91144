"""Reading and deleting hash sets; the lookups the matcher needs from the store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, literal, select, tuple_

from raksha.errors import NotFoundError
from raksha.hashes import ALGORITHMS, PERCEPTUAL_ALGORITHMS
from raksha.hashsets.records import ReferenceRecord
from raksha.store.db import Store
from raksha.store.models import (
    RECORD_COLUMNS,
    hash_sets_table,
    imports_table,
    pdq_removals_table,
    reference_hashes_table,
    rejections_table,
    utcnow,
)

RH = reference_hashes_table
HS = hash_sets_table


@dataclass(slots=True)
class SetSummary:
    """A hash set with its counts, as listings show it."""

    id: int
    name: str
    kind: str
    source_agency: str | None
    version: str | None
    description: str | None
    format_name: str | None
    format_info: dict[str, Any]
    category_scheme: str
    category_labels: dict[str, str]
    pdq_threshold: int
    active: bool
    created_at: datetime
    updated_at: datetime
    counts: dict[str, int]
    categories: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__}
        out["created_at"] = self.created_at.isoformat()
        out["updated_at"] = self.updated_at.isoformat()
        out["total"] = self.total
        return out


def _summary(conn: Connection, row: Any) -> SetSummary:
    counts = dict.fromkeys(ALGORITHMS, 0)
    for algorithm, n in conn.execute(
        select(RH.c.algorithm, func.count()).where(RH.c.set_id == row.id).group_by(RH.c.algorithm)
    ):
        counts[algorithm] = n
    categories: dict[str, int] = {}
    records = func.count(
        func.distinct(func.coalesce(RH.c.record_key, func.cast(RH.c.id, RH.c.value.type)))
    )
    for category, n in conn.execute(
        select(RH.c.category, records).where(RH.c.set_id == row.id).group_by(RH.c.category)
    ):
        categories["(none)" if category is None else str(category)] = n
    return SetSummary(
        id=row.id,
        name=row.name,
        kind=row.kind,
        source_agency=row.source_agency,
        version=row.version,
        description=row.description,
        format_name=row.format_name,
        format_info=row.format_info or {},
        category_scheme=row.category_scheme,
        category_labels=row.category_map or {},
        pdq_threshold=row.pdq_threshold,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
        counts={k: v for k, v in counts.items() if v},
        categories=categories,
    )


def list_sets(store: Store) -> list[SetSummary]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(HS).order_by(HS.c.name)).all()
        return [_summary(conn, row) for row in rows]


def get_set(store: Store, name: str) -> SetSummary:
    with store.engine.connect() as conn:
        row = conn.execute(select(HS).where(HS.c.name == name)).first()
        if row is None:
            raise NotFoundError(
                f"no hash set named {name!r}; `raksha hashset list` shows the sets there are"
            )
        return _summary(conn, row)


@dataclass(slots=True)
class ImportSummary:
    id: int
    source_path: str
    source_sha256: str
    format_name: str
    mode: str
    version: str | None
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__}
        out["started_at"] = self.started_at.isoformat()
        out["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return out


_IMPORT_COUNTS = (
    "records_read",
    "hashes_read",
    "added",
    "updated",
    "unchanged",
    "duplicate",
    "rejected",
    "removed",
)


def list_imports(store: Store, set_id: int) -> list[ImportSummary]:
    imp = imports_table
    with store.engine.connect() as conn:
        rows = conn.execute(select(imp).where(imp.c.set_id == set_id).order_by(imp.c.id)).all()
    return [
        ImportSummary(
            id=r.id,
            source_path=r.source_path,
            source_sha256=r.source_sha256,
            format_name=r.format_name,
            mode=r.mode,
            version=r.version,
            started_at=r.started_at,
            finished_at=r.finished_at,
            counts={name: getattr(r, name) for name in _IMPORT_COUNTS},
        )
        for r in rows
    ]


def list_rejections(store: Store, import_id: int, limit: int = 100) -> list[dict[str, str]]:
    rej = rejections_table
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(rej.c.location, rej.c.reason, rej.c.excerpt)
            .where(rej.c.import_id == import_id)
            .order_by(rej.c.id)
            .limit(limit)
        ).all()
    return [{"where": r.location, "reason": r.reason, "excerpt": r.excerpt} for r in rows]


def delete_set(store: Store, name: str) -> int:
    """Delete a set and everything in it; returns how many hashes went with it."""
    summary = get_set(store, name)
    with store.engine.begin() as conn:
        conn.execute(
            insert(pdq_removals_table).from_select(
                ["ref_id", "removed_at"],
                select(RH.c.id, literal(utcnow(), pdq_removals_table.c.removed_at.type)).where(
                    RH.c.set_id == summary.id,
                    RH.c.algorithm.in_(sorted(PERCEPTUAL_ALGORITHMS)),
                ),
            )
        )
        conn.execute(delete(RH).where(RH.c.set_id == summary.id))
        conn.execute(delete(HS).where(HS.c.id == summary.id))
    return summary.total


def iter_set_records(
    store: Store, set_id: int, *, batch: int = 10_000
) -> Iterator[ReferenceRecord]:
    """Every record of a set, hashes regrouped by ``record_key``, streamed in key order."""
    columns = [RH.c[name] for name in RECORD_COLUMNS]
    order = (RH.c.record_key.is_(None), RH.c.record_key, RH.c.id)
    query = select(RH.c.id, RH.c.algorithm, RH.c.value, *columns).where(RH.c.set_id == set_id)
    current: ReferenceRecord | None = None
    with store.engine.connect() as conn:
        result = conn.execution_options(yield_per=batch).execute(query.order_by(*order))
        for row in result:
            key = row.record_key
            if current is not None and key is not None and current.record_key == key:
                current.hashes.append((row.algorithm, row.value))
                _join_frame(current, row.value, row.extra)
                continue
            if current is not None:
                yield current
            extra = dict(row.extra or {})
            extra.pop("vpdq_frame", None)
            current = ReferenceRecord(
                hashes=[(row.algorithm, row.value)],
                where=f"row {row.id}",
                **{name: getattr(row, name) for name in RECORD_COLUMNS if name != "extra"},
                extra=extra,
            )
            _join_frame(current, row.value, row.extra)
        if current is not None:
            yield current


def _join_frame(record: ReferenceRecord, value: str, extra: dict[str, Any] | None) -> None:
    """Put one video frame row's quality and time back into its record's frame map."""
    frame = (extra or {}).get("vpdq_frame")
    if frame is not None:
        record.extra.setdefault("vpdq_frames", {})[value] = frame


@dataclass(slots=True, frozen=True)
class ReferenceHit:
    """A reference row that a hash matched, with the set's context."""

    ref_id: int
    set_id: int
    set_name: str
    set_kind: str
    algorithm: str
    value: str
    record_key: str | None
    category: str | None
    category_label: str | None
    victim_identified: bool | None
    series: str | None
    pdq_threshold: int

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def _hit_query() -> Any:
    return select(
        RH.c.id,
        RH.c.set_id,
        HS.c.name,
        HS.c.kind,
        HS.c.category_map,
        HS.c.pdq_threshold,
        RH.c.algorithm,
        RH.c.value,
        RH.c.record_key,
        RH.c.category,
        RH.c.victim_identified,
        RH.c.series,
    ).join(HS, HS.c.id == RH.c.set_id)


def _to_hit(row: Any) -> ReferenceHit:
    labels = row.category_map or {}
    return ReferenceHit(
        ref_id=row.id,
        set_id=row.set_id,
        set_name=row.name,
        set_kind=row.kind,
        algorithm=row.algorithm,
        value=row.value,
        record_key=row.record_key,
        category=row.category,
        category_label=labels.get(row.category) if row.category is not None else None,
        victim_identified=row.victim_identified,
        series=row.series,
        pdq_threshold=row.pdq_threshold,
    )


def lookup_exact(
    store: Store, pairs: Iterable[tuple[str, str]], *, chunk: int = 500
) -> dict[tuple[str, str], list[ReferenceHit]]:
    """Reference rows of active sets whose (algorithm, value) is in ``pairs``."""
    wanted = sorted(set(pairs))
    found: dict[tuple[str, str], list[ReferenceHit]] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), chunk):
            part = wanted[start : start + chunk]
            query = _hit_query().where(
                HS.c.active.is_(True), tuple_(RH.c.algorithm, RH.c.value).in_(part)
            )
            for row in conn.execute(query.order_by(HS.c.name, RH.c.id)):
                found.setdefault((row.algorithm, row.value), []).append(_to_hit(row))
    return found


def hits_by_id(
    store: Store, ref_ids: Sequence[int], *, chunk: int = 900
) -> dict[int, ReferenceHit]:
    """Reference rows (of active sets) by row id: what the PDQ index returns."""
    out: dict[int, ReferenceHit] = {}
    ids = sorted(set(ref_ids))
    with store.engine.connect() as conn:
        for start in range(0, len(ids), chunk):
            query = _hit_query().where(
                HS.c.active.is_(True), RH.c.id.in_(ids[start : start + chunk])
            )
            for row in conn.execute(query):
                out[row.id] = _to_hit(row)
    return out


def max_pdq_threshold(store: Store) -> int:
    with store.engine.connect() as conn:
        value = conn.execute(
            select(func.max(HS.c.pdq_threshold)).where(HS.c.active.is_(True))
        ).scalar()
    return int(value) if value is not None else 31
