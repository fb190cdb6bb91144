"""Writing an import's stream of reference records into the store.

The reader's events are staged in batches (flat memory whatever the file's size), then
merged into the set with a few set-based statements inside the same transaction:
re-categorise what changed, add what is new and, for a new version of a set, remove what
the new version no longer lists (logging removed PDQ rows for the index). If the
process dies part-way, the transaction never commits and the previous version of the set
is untouched; nothing an investigator imported earlier is lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from raksha.errors import StoreError, UsageError
from raksha.hashes import PDQ, VPDQ
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection
from raksha.store.db import Store, insert_ignoring_duplicates
from raksha.store.models import (
    RECORD_COLUMNS,
    hash_sets_table,
    imports_table,
    rejections_table,
    staging_table,
    utcnow,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
#: Rejections kept in full in the store per import (the count is always exact).
REJECTIONS_KEPT = 10_000

ImportMode = Literal["replace", "append"]


@dataclass(slots=True)
class SetDescription:
    """What the investigator says about the set being imported."""

    name: str
    source_agency: str | None = None
    version: str | None = None
    description: str | None = None
    kind: str | None = None  # "reference" | "known"; None: decided from the file
    category_scheme: str | None = None  # None: decided from the file
    category_labels: dict[str, str] = field(default_factory=dict)
    pdq_threshold: int | None = None
    video_threshold: int | None = None  # percent of frames; None: keep (new sets: 80)
    mode: ImportMode = "replace"


@dataclass(slots=True)
class SourceFile:
    """The file being imported, hashed before anything is read from it."""

    path: str
    sha256: str
    size: int
    format_name: str


@dataclass(slots=True)
class ImportReport:
    """What an import did, for the user and the record."""

    set_id: int
    set_name: str
    import_id: int
    created: bool
    mode: str
    kind: str
    format_name: str
    source: str
    source_sha256: str
    category_scheme: str
    category_labels: dict[str, str]
    set_info: dict[str, Any]
    records_read: int = 0
    hashes_read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicate: int = 0
    rejected: int = 0
    removed: int = 0
    seconds: float = 0.0
    rejections: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            name: getattr(self, name) for name in self.__slots__ if name != "rejections"
        }
        out["rejections"] = [
            {"where": r.where, "reason": r.reason, "excerpt": r.excerpt} for r in self.rejections
        ]
        return out


ProgressCallback = Callable[[int], None]
Completer = Callable[[SetDescription, dict[str, Any]], None]


def _distinct(dialect: str, left: str, right: str) -> str:
    if dialect == "sqlite":
        return f"{left} IS NOT {right}"
    return f"{left} IS DISTINCT FROM {right}"


class HashSetImporter:
    """Consumes a reader's events and writes one import into the store."""

    def __init__(self, store: Store, *, batch_size: int | None = None) -> None:
        self.store = store
        self.batch_size = batch_size or BATCH_SIZE

    def run(
        self,
        events: Iterable[ParseEvent],
        description: SetDescription,
        source: SourceFile,
        *,
        on_progress: ProgressCallback | None = None,
        complete: Completer | None = None,
    ) -> ImportReport:
        """Import ``events`` into the set ``description`` names.

        ``complete`` is called once the whole file is read, with what the file said about
        itself, to fill in what the user left open (kind, category scheme).
        """
        started = time.monotonic()
        if description.pdq_threshold is not None and not 0 <= description.pdq_threshold <= 128:
            raise UsageError("a PDQ threshold must be between 0 and 128 (the default is 31)")
        video = description.video_threshold
        if video is not None and not 1 <= video <= 100:
            raise UsageError("a video threshold is a percentage of frames, 1 to 100 (default 80)")
        try:
            with self.store.engine.begin() as conn:
                report = self._run(conn, events, description, source, on_progress, complete)
        except SQLAlchemyError as exc:
            raise StoreError(f"the import could not be written: {exc}") from exc
        report.seconds = round(time.monotonic() - started, 3)
        logger.info(
            "imported %s into set %r: %d added, %d updated, %d removed, %d rejected",
            source.path,
            report.set_name,
            report.added,
            report.updated,
            report.removed,
            report.rejected,
        )
        return report

    # -- the steps, all on one connection inside one transaction ---------------------------

    def _run(
        self,
        conn: Connection,
        events: Iterable[ParseEvent],
        desc: SetDescription,
        source: SourceFile,
        on_progress: ProgressCallback | None,
        complete: Completer | None,
    ) -> ImportReport:
        hs = hash_sets_table
        existing = conn.execute(select(hs).where(hs.c.name == desc.name)).mappings().first()
        now = utcnow()
        if existing is None:
            set_id = conn.execute(
                insert(hs).values(
                    name=desc.name,
                    kind=desc.kind or "reference",
                    source_agency=desc.source_agency,
                    version=desc.version,
                    description=desc.description,
                    format_name=source.format_name,
                    format_info={},
                    category_scheme=desc.category_scheme or "none",
                    category_map=desc.category_labels,
                    pdq_threshold=31 if desc.pdq_threshold is None else desc.pdq_threshold,
                    video_threshold=desc.video_threshold,
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            created = True
        else:
            set_id = existing["id"]
            created = False
        imp = imports_table
        import_id = conn.execute(
            insert(imp).values(
                set_id=set_id,
                source_path=source.path,
                source_sha256=source.sha256,
                source_size=source.size,
                format_name=source.format_name,
                mode=desc.mode,
                version=desc.version,
                started_at=now,
                records_read=0,
                hashes_read=0,
                added=0,
                updated=0,
                unchanged=0,
                duplicate=0,
                rejected=0,
                removed=0,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        report = ImportReport(
            set_id=set_id,
            set_name=desc.name,
            import_id=import_id,
            created=created,
            mode=desc.mode,
            kind=desc.kind or (existing["kind"] if existing else "reference"),
            format_name=source.format_name,
            source=source.path,
            source_sha256=source.sha256,
            category_scheme=desc.category_scheme or "none",
            category_labels=desc.category_labels,
            set_info={},
        )
        staged_attempts = self._stage(conn, events, report, on_progress)
        if complete is not None:
            complete(desc, report.set_info)
        report.kind = desc.kind or report.kind
        report.category_scheme = desc.category_scheme or report.category_scheme
        report.category_labels = desc.category_labels
        staged = conn.execute(
            select(func.count())
            .select_from(staging_table)
            .where(staging_table.c.import_id == import_id)
        ).scalar_one()
        report.duplicate = staged_attempts - staged
        self._merge(conn, set_id, import_id, desc.mode, report)
        report.unchanged = staged - report.added - report.updated
        conn.execute(delete(staging_table).where(staging_table.c.import_id == import_id))
        set_values: dict[str, Any] = {
            "updated_at": utcnow(),
            "format_name": source.format_name,
            "format_info": report.set_info,
            "category_scheme": report.category_scheme,
            "category_map": report.category_labels,
            "kind": report.kind,
        }
        for name in ("source_agency", "version", "description"):
            value = getattr(desc, name)
            if value is not None:
                set_values[name] = value
        if desc.pdq_threshold is not None:
            set_values["pdq_threshold"] = desc.pdq_threshold
        if desc.video_threshold is not None:
            set_values["video_threshold"] = desc.video_threshold
        conn.execute(hs.update().where(hs.c.id == set_id).values(**set_values))
        conn.execute(
            imp.update()
            .where(imp.c.id == import_id)
            .values(
                finished_at=utcnow(),
                records_read=report.records_read,
                hashes_read=report.hashes_read,
                added=report.added,
                updated=report.updated,
                unchanged=report.unchanged,
                duplicate=report.duplicate,
                rejected=report.rejected,
                removed=report.removed,
            )
        )
        return report

    def _stage(
        self,
        conn: Connection,
        events: Iterable[ParseEvent],
        report: ImportReport,
        on_progress: ProgressCallback | None,
    ) -> int:
        """Write records to staging in batches; returns how many hash rows were offered."""
        stmt = insert_ignoring_duplicates(conn, staging_table)
        batch: list[dict[str, Any]] = []
        rejections: list[dict[str, Any]] = []
        offered = 0
        for event in events:
            if isinstance(event, ReferenceRecord):
                report.records_read += 1
                for algorithm, value in event.hashes:
                    row = {name: getattr(event, name) for name in RECORD_COLUMNS}
                    row["extra"] = _row_extra(event.extra, algorithm, value)
                    row.update(import_id=report.import_id, algorithm=algorithm, value=value)
                    batch.append(row)
                report.hashes_read += len(event.hashes)
                if len(batch) >= self.batch_size:
                    offered += self._flush(conn, stmt, batch)
                    if on_progress is not None:
                        on_progress(report.records_read)
            elif isinstance(event, Rejection):
                report.rejected += 1
                if report.rejected <= REJECTIONS_KEPT:
                    report.rejections.append(event)
                    rejections.append(
                        {
                            "import_id": report.import_id,
                            "location": event.where[:100],
                            "reason": event.reason,
                            "excerpt": event.excerpt,
                        }
                    )
                if len(rejections) >= self.batch_size:
                    conn.execute(insert(rejections_table), rejections)
                    rejections = []
            else:
                report.set_info.update(event.fields)
                report.set_info.setdefault("format_name", event.format_name)
        offered += self._flush(conn, stmt, batch)
        if rejections:
            conn.execute(insert(rejections_table), rejections)
        if on_progress is not None:
            on_progress(report.records_read)
        return offered

    @staticmethod
    def _flush(conn: Connection, stmt: Any, batch: list[dict[str, Any]]) -> int:
        if not batch:
            return 0
        conn.execute(stmt, batch)
        count = len(batch)
        batch.clear()
        return count

    def _merge(
        self, conn: Connection, set_id: int, import_id: int, mode: str, report: ImportReport
    ) -> None:
        dialect = conn.dialect.name
        params = {"sid": set_id, "iid": import_id}
        compared = [c for c in RECORD_COLUMNS if c != "extra"]
        differs = [_distinct(dialect, f"reference_hashes.{c}", f"s.{c}") for c in compared]
        differs.append(
            _distinct(dialect, "CAST(reference_hashes.extra AS TEXT)", "CAST(s.extra AS TEXT)")
        )
        assignments = ", ".join(f"{c} = s.{c}" for c in RECORD_COLUMNS)
        report.updated = conn.execute(
            text(
                f"UPDATE reference_hashes SET {assignments} FROM import_staging s "
                "WHERE reference_hashes.set_id = :sid AND s.import_id = :iid "
                "AND reference_hashes.algorithm = s.algorithm "
                "AND reference_hashes.value = s.value "
                f"AND ({' OR '.join(differs)})"
            ),
            params,
        ).rowcount
        columns = ", ".join(RECORD_COLUMNS)
        s_columns = ", ".join(f"s.{c}" for c in RECORD_COLUMNS)
        report.added = conn.execute(
            text(
                f"INSERT INTO reference_hashes (set_id, algorithm, value, {columns}) "
                f"SELECT :sid, s.algorithm, s.value, {s_columns} FROM import_staging s "
                "WHERE s.import_id = :iid AND NOT EXISTS (SELECT 1 FROM reference_hashes r "
                "WHERE r.set_id = :sid AND r.algorithm = s.algorithm AND r.value = s.value) "
                "ORDER BY s.id"
            ),
            params,
        ).rowcount
        if mode != "replace":
            return
        missing = (
            "NOT EXISTS (SELECT 1 FROM import_staging s WHERE s.import_id = :iid "
            "AND s.algorithm = r.algorithm AND s.value = r.value)"
        )
        conn.execute(
            text(
                "INSERT INTO pdq_removals (ref_id, removed_at) SELECT r.id, :now "
                "FROM reference_hashes r WHERE r.set_id = :sid "
                f"AND r.algorithm IN ('{PDQ}', '{VPDQ}') "
                f"AND {missing}"
            ),
            {**params, "now": utcnow()},
        )
        report.removed = conn.execute(
            text(
                "DELETE FROM reference_hashes WHERE id IN (SELECT r.id FROM reference_hashes r "
                f"WHERE r.set_id = :sid AND {missing})"
            ),
            params,
        ).rowcount


def _row_extra(extra: dict[str, Any] | None, algorithm: str, value: str) -> dict[str, Any] | None:
    """The record's ``extra`` as one row stores it.

    A reference video's ``vpdq_frames`` maps every frame to its quality and time; copied
    onto each of its N frame rows it would cost N² space. Each frame row keeps only its
    own entry (``vpdq_frame``); reading the set back joins them again.
    """
    if not extra:
        return None
    frames = extra.get("vpdq_frames")
    if not isinstance(frames, dict):
        return extra
    out = {k: v for k, v in extra.items() if k != "vpdq_frames"}
    if algorithm == VPDQ and value in frames:
        out["vpdq_frame"] = frames[value]
    return out
