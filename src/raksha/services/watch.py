"""Watched groups: drop folders where each week's export of a chat is placed.

``raksha watch add DROP --name NAME --case CASE`` remembers a folder; ``raksha watch run``
ingests every export in it that has not been ingested completely yet (a new week's
folder or zip, or one whose ingest was interrupted) and reports the sightings that are
new. Because messages are keyed by the platform's ids (or time + sender + text +
attachment), an export that overlaps the previous one adds only its new messages.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from raksha.chats.detect import ReaderOptions, detect_export
from raksha.errors import NotFoundError, UsageError
from raksha.scan.pipeline import ProgressCallback, ScanOptions
from raksha.services.ingest import IngestResult, ingest_export
from raksha.store.chat_models import watches_table
from raksha.store.db import Store
from raksha.store.models import cases_table, evidence_table, scans_table, utcnow
from raksha.store.scan_repo import get_case

logger = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class WatchRecord:
    id: int
    name: str
    path: str
    case: str
    kind: str | None
    created_at: datetime
    last_run: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "path": self.path,
            "case": self.case,
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "last_run": self.last_run.isoformat() if self.last_run else None,
        }


@dataclass(slots=True)
class WatchOutcome:
    watch: str
    entry: str
    result: IngestResult | None = None
    skipped: str | None = None


def add_watch(
    store: Store, name: str, path: Path, case: str, kind: str | None = None
) -> WatchRecord:
    name = name.strip()
    if not name:
        raise UsageError("a watch needs a name (--name)")
    if not path.is_dir():
        raise NotFoundError(f"{path} is not a folder: a watch follows a drop folder of exports")
    case_record = get_case(store, case)
    wt = watches_table
    with store.engine.begin() as conn:
        if conn.execute(select(wt.c.id).where(wt.c.name == name)).first() is not None:
            raise UsageError(f"a watch named {name!r} exists already (`raksha watch list`)")
        conn.execute(
            insert(wt).values(
                name=name,
                path=str(path.resolve()),
                case_id=case_record.id,
                kind=kind,
                options={},
                created_at=utcnow(),
            )
        )
    return next(w for w in list_watches(store) if w.name == name)


def list_watches(store: Store) -> list[WatchRecord]:
    wt = watches_table
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(wt, cases_table.c.name.label("case_name"))
            .join(cases_table, cases_table.c.id == wt.c.case_id)
            .order_by(wt.c.name)
        ).all()
    return [
        WatchRecord(r.id, r.name, r.path, r.case_name, r.kind, r.created_at, r.last_run)
        for r in rows
    ]


def _completed(store: Store, case_id: int, path: Path) -> bool:
    """Whether the export at ``path`` was ingested into the case by a completed scan."""
    ev, sc = evidence_table, scans_table
    with store.engine.connect() as conn:
        row = conn.execute(
            select(sc.c.id)
            .join(ev, ev.c.id == sc.c.evidence_id)
            .where(
                ev.c.case_id == case_id,
                ev.c.source_path == str(path),
                ev.c.kind.like("% export"),
                sc.c.status == "completed",
            )
            .limit(1)
        ).first()
    return row is not None


def _entries(folder: Path) -> list[Path]:
    """The exports in a drop folder, oldest name first; the folder itself if it is one."""
    children = sorted(
        (p for p in folder.iterdir() if not p.name.startswith(".")), key=lambda p: p.name
    )
    if any(p.is_dir() or p.suffix.lower() in (".zip", ".json") for p in children):
        return children
    return [folder]


def run_watches(
    store: Store,
    index_dir: Path,
    names: list[str] | None = None,
    options: ScanOptions | None = None,
    reader: ReaderOptions | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> Iterator[WatchOutcome]:
    """Ingest what is new in each watched folder (all, or those ``names``)."""
    watches = list_watches(store)
    if names:
        unknown = set(names) - {w.name for w in watches}
        if unknown:
            raise NotFoundError(
                f"no watch named {', '.join(sorted(unknown))} (`raksha watch list`)"
            )
        watches = [w for w in watches if w.name in names]
    for watch in watches:
        folder = Path(watch.path)
        if not folder.is_dir():
            yield WatchOutcome(watch.name, watch.path, skipped="the drop folder is gone")
            continue
        case = get_case(store, watch.case)
        for entry in _entries(folder):
            resolved = entry.resolve()
            if _completed(store, case.id, resolved):
                continue
            export = detect_export(resolved, watch.kind, reader)
            if export is None:
                yield WatchOutcome(watch.name, str(entry), skipped="not a chat export")
                continue
            result = ingest_export(
                store, index_dir, watch.case, export, options, on_progress=on_progress
            )
            yield WatchOutcome(watch.name, str(entry), result)
        with store.engine.begin() as conn:
            conn.execute(
                update(watches_table)
                .where(watches_table.c.id == watch.id)
                .values(last_run=utcnow())
            )
