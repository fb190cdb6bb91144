"""Cases, evidence and scans: the records a scan creates before it writes any item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from raksha.errors import NotFoundError, UsageError
from raksha.store.db import Store
from raksha.store.models import (
    cases_table,
    evidence_table,
    item_matches_table,
    items_table,
    scans_table,
    utcnow,
)


@dataclass(slots=True, frozen=True)
class CaseRecord:
    id: int
    name: str
    description: str | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "created_at": self.created_at.isoformat(),
        }


def create_case(store: Store, name: str, description: str | None = None) -> CaseRecord:
    name = name.strip()
    if not name:
        raise UsageError("a case needs a name, e.g. `raksha case create 'FIR 112/2026'`")
    with store.engine.begin() as conn:
        exists = conn.execute(select(cases_table.c.id).where(cases_table.c.name == name)).first()
        if exists is not None:
            raise UsageError(f"a case named {name!r} exists already")
        now = utcnow()
        case_id = conn.execute(
            insert(cases_table).values(name=name, description=description, created_at=now)
        ).inserted_primary_key[0]  # type: ignore[index]
    return CaseRecord(case_id, name, description, now)


def get_case(store: Store, name: str) -> CaseRecord:
    with store.engine.connect() as conn:
        row = conn.execute(select(cases_table).where(cases_table.c.name == name)).first()
    if row is None:
        raise NotFoundError(
            f"no case named {name!r}; create it with `raksha case create {name!r}` "
            "or list cases with `raksha case list`"
        )
    return CaseRecord(row.id, row.name, row.description, row.created_at)


def list_cases(store: Store) -> list[dict[str, Any]]:
    ev = evidence_table
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(cases_table, func.count(ev.c.id).label("evidence"))
            .outerjoin(ev, ev.c.case_id == cases_table.c.id)
            .group_by(cases_table.c.id)
            .order_by(cases_table.c.name)
        ).all()
    return [
        {
            "id": r.id,
            "name": r.name,
            "description": r.description,
            "created_at": r.created_at.isoformat(),
            "evidence": r.evidence,
        }
        for r in rows
    ]


@dataclass(slots=True, frozen=True)
class EvidenceRecord:
    id: int
    case_id: int
    kind: str
    source_path: str
    root_locator: str
    container_sha256: str | None
    container_size: int | None
    added_at: datetime
    created: bool = False


def get_or_create_evidence(
    store: Store,
    case_id: int,
    *,
    kind: str,
    source_path: str,
    root_locator: str,
    container_sha256: str | None,
    container_size: int | None,
) -> EvidenceRecord:
    """The evidence record for ``source_path`` in the case; created on the first scan.

    A file whose SHA-256 differs from the one recorded at the first scan is refused: the
    same path now holds different bytes, and resuming would mix two pieces of evidence.
    """
    ev = evidence_table
    with store.engine.begin() as conn:
        row = conn.execute(
            select(ev).where(ev.c.case_id == case_id, ev.c.source_path == source_path)
        ).first()
        if row is not None:
            if row.container_sha256 != container_sha256:
                raise UsageError(
                    f"{source_path} has changed since it was first scanned "
                    f"(SHA-256 was {row.container_sha256}, now {container_sha256}); "
                    "add it to the case under another path if it is new evidence"
                )
            return EvidenceRecord(
                row.id,
                row.case_id,
                row.kind,
                row.source_path,
                row.root_locator,
                row.container_sha256,
                row.container_size,
                row.added_at,
            )
        now = utcnow()
        evidence_id = conn.execute(
            insert(ev).values(
                case_id=case_id,
                kind=kind,
                source_path=source_path,
                root_locator=root_locator,
                container_sha256=container_sha256,
                container_size=container_size,
                added_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    return EvidenceRecord(
        evidence_id,
        case_id,
        kind,
        source_path,
        root_locator,
        container_sha256,
        container_size,
        now,
        created=True,
    )


def start_scan(store: Store, evidence_id: int, workers: int, options: dict[str, Any]) -> int:
    with store.engine.begin() as conn:
        return int(
            conn.execute(
                insert(scans_table).values(
                    evidence_id=evidence_id,
                    started_at=utcnow(),
                    status="running",
                    workers=workers,
                    options=options,
                    counts={},
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )


def finish_scan(store: Store, scan_id: int, status: str, counts: dict[str, Any]) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            update(scans_table)
            .where(scans_table.c.id == scan_id)
            .values(status=status, finished_at=utcnow(), counts=counts)
        )


def stored_locator_keys(store: Store, evidence_id: int) -> set[str]:
    """Locator keys already stored for the evidence: what a resumed scan skips."""
    with store.engine.connect() as conn:
        result = conn.execution_options(yield_per=50_000).execute(
            select(items_table.c.locator_key).where(items_table.c.evidence_id == evidence_id)
        )
        return {row[0] for row in result}


def item_count(store: Store, evidence_id: int | None = None) -> int:
    query = select(func.count()).select_from(items_table)
    if evidence_id is not None:
        query = query.where(items_table.c.evidence_id == evidence_id)
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def match_count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(item_matches_table)).scalar_one())


def record_image(
    store: Store,
    evidence_id: int,
    *,
    image_format: str,
    media_size: int,
    acquisition_md5: str | None,
    acquisition_sha1: str | None,
    details: dict[str, Any],
) -> None:
    """What a disk image says of itself: format, size, stored acquisition hashes, layout."""
    with store.engine.begin() as conn:
        conn.execute(
            update(evidence_table)
            .where(evidence_table.c.id == evidence_id)
            .values(
                image_format=image_format,
                media_size=media_size,
                acquisition_md5=acquisition_md5,
                acquisition_sha1=acquisition_sha1,
                details=details,
            )
        )


def record_verification(
    store: Store, evidence_id: int, *, status: str, md5: str | None, sha1: str | None
) -> None:
    """The outcome of reading the whole image back against its acquisition hashes."""
    with store.engine.begin() as conn:
        conn.execute(
            update(evidence_table)
            .where(evidence_table.c.id == evidence_id)
            .values(verification=status, verified_md5=md5, verified_sha1=sha1, verified_at=utcnow())
        )
