"""Scans started from the browser: the real scan pipeline in a background thread each,
with progress the page polls (the same pattern as hash-set imports, ``imports.py``).

A scan reads a path on the server, with the server's rights, exactly as ``raksha scan``
does: a chat export is detected by content and ingested (its files scanned, then its
chats written); anything else goes through :class:`~raksha.scan.pipeline.ScanPipeline`.
Starting one is audited (``scan.start``) before the thread runs, and so is its end
(``scan.finish``). Progress lives in memory only; the scan itself is resumable, so one
cut short by a restart continues where it stopped when it is started again.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.datastructures import State

from raksha.cases import audit
from raksha.cases.actor import Actor
from raksha.chats.detect import KINDS as CHAT_KINDS
from raksha.chats.detect import ReaderOptions, detect_export
from raksha.errors import RakshaError, UsageError
from raksha.scan.pipeline import ScanCounts, ScanOptions, ScanPipeline, ScanResult
from raksha.services.ingest import ingest_export
from raksha.sources.base import SourceLimits
from raksha.store.db import Store
from raksha.store.models import iso_utc, utcnow

logger = logging.getLogger(__name__)

#: What ``kind`` may be: auto (by content), files (never read chats), or a chat app.
SCAN_KINDS: tuple[str, ...] = ("auto", "files", *CHAT_KINDS)
#: Finished jobs kept for their progress pages; the oldest go first.
KEEP_FINISHED = 50
MAX_DEPTH_LIMIT = 10
MAX_WORKERS = 64

_create_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """What the form asked for: the main options of ``raksha scan``."""

    path: Path
    kind: str = "auto"
    workers: int | None = None
    max_depth: int = 3
    dihedral: bool = False
    verify: bool = False
    carve: bool = True

    def __post_init__(self) -> None:
        if self.kind not in SCAN_KINDS:
            raise UsageError(f"the kind is one of {', '.join(SCAN_KINDS)}, not {self.kind!r}")
        if not 0 <= self.max_depth <= MAX_DEPTH_LIMIT:
            raise UsageError(f"the nested archive depth is 0 to {MAX_DEPTH_LIMIT}")
        if self.workers is not None and not 0 <= self.workers <= MAX_WORKERS:
            raise UsageError(f"hashing processes are 0 to {MAX_WORKERS} (empty: one per core)")

    def options(self) -> ScanOptions:
        return ScanOptions(
            workers=self.workers,
            dihedral=self.dihedral,
            limits=SourceLimits(max_depth=self.max_depth),
            verify=self.verify,
            carve=self.carve,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "workers": self.workers,
            "max_depth": self.max_depth,
            "dihedral": self.dihedral,
            "verify": self.verify,
            "carve": self.carve,
        }


def checked_path(raw: str) -> Path:
    """The server path a form named: absolute, existing (links in it resolved)."""
    text = raw.strip()
    if not text:
        raise UsageError("give the path of the evidence on the server")
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise UsageError(
            f"{text!r} is not a full path; give it from the root, e.g. /evidence/FIR-12/phone"
        )
    if not path.exists():
        raise UsageError(f"{path} does not exist on the server (the scan reads server paths)")
    return path.resolve()


@dataclass
class ScanJob:
    """One scan started here: what, by whom, how far it got and how it ended."""

    id: str
    case_id: int
    case_name: str
    path: str
    request: ScanRequest
    started_by: str
    started_at: datetime = field(default_factory=utcnow)
    state: str = "running"  # running, done, failed
    counts: dict[str, Any] = field(default_factory=dict)
    verified_bytes: int = 0
    media_size: int = 0
    export_kind: str | None = None
    scan_id: int | None = None
    evidence_id: int | None = None
    status: str | None = None  # the scan's own: completed, interrupted
    failures: int = 0
    verification: str | None = None
    ingest: dict[str, Any] | None = None
    finished_at: datetime | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def percent(self) -> int | None:
        """How far the files (or bytes) went, when the total is known."""
        c = self.counts
        done = int(c.get("files", 0)) + int(c.get("already_stored", 0))
        total = c.get("total_files")
        if total:
            return min(100, int(100 * done / int(total)))
        total_bytes = c.get("total_bytes")
        if total_bytes:
            return min(100, int(100 * int(c.get("bytes", 0)) / int(total_bytes)))
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "case": self.case_name,
            "path": self.path,
            "options": self.request.as_dict(),
            "started_by": self.started_by,
            "started_at": iso_utc(self.started_at),
            "state": self.state,
            "counts": dict(self.counts),
            "export_kind": self.export_kind,
            "scan_id": self.scan_id,
            "evidence_id": self.evidence_id,
            "status": self.status,
            "failures": self.failures,
            "verification": self.verification,
            "ingest": self.ingest,
            "finished_at": iso_utc(self.finished_at),
            "error": self.error,
        }


class ScanJobs:
    """The scans this server process runs or ran."""

    def __init__(self, store: Store, index_dir: Path) -> None:
        self._store = store
        self._index_dir = index_dir
        self._jobs: dict[str, ScanJob] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, actor: Actor, case_id: int, case_name: str, request: ScanRequest) -> ScanJob:
        """Audit the start and run the scan in the background; returns the job at once.

        The caller has checked that ``actor`` may scan into the case. Refused while a scan
        of the same path into the same case is still running here.
        """
        path = str(request.path)
        job = ScanJob(
            id=secrets.token_urlsafe(12),
            case_id=case_id,
            case_name=case_name,
            path=path,
            request=request,
            started_by=actor.username,
        )
        with self._lock:
            for other in self._jobs.values():
                if other.running and other.case_id == case_id and other.path == path:
                    raise UsageError(
                        f"{path} is being scanned into this case already (started by "
                        f"{other.started_by}); wait for that scan to finish"
                    )
            self._jobs[job.id] = job
        try:
            with self._store.engine.begin() as conn:
                audit.record(
                    conn,
                    actor,
                    "scan.start",
                    case_id=case_id,
                    object_kind="evidence",
                    object_id=path[-100:],
                    details={"path": path, "job": job.id, **request.as_dict()},
                )
        except BaseException:
            with self._lock:
                del self._jobs[job.id]
            raise
        thread = threading.Thread(
            target=self._run, args=(job, actor), name=f"scan-{job.id}", daemon=True
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            self._forget_old()
        logger.info("web scan %s of %s started by %s", job.id, path, actor.username)
        thread.start()
        return job

    def _run(self, job: ScanJob, actor: Actor) -> None:
        request = job.request

        def progress(counts: ScanCounts) -> None:
            job.counts = counts.as_dict()

        def verifying(done: int, total: int) -> None:
            job.verified_bytes, job.media_size = done, total

        try:
            export = None
            if request.kind != "files":
                chosen = None if request.kind == "auto" else request.kind
                export = detect_export(request.path, chosen, ReaderOptions())
            if export is not None:
                job.export_kind = export.kind
                ingested = ingest_export(
                    self._store,
                    self._index_dir,
                    job.case_name,
                    export,
                    request.options(),
                    on_progress=progress,
                )
                result = ingested.scan
                job.ingest = {
                    **ingested.counts.as_dict(),
                    "new_sightings": len(ingested.new_sightings),
                }
            else:
                pipeline = ScanPipeline(
                    self._store, self._index_dir, request.options(), on_progress=progress
                )
                pipeline.on_verify = verifying
                result = pipeline.run(job.case_name, request.path)
            self._finished(job, result)
        except RakshaError as exc:
            job.error, job.state = str(exc), "failed"
        except Exception:  # a bug: the page says so, the log has the traceback
            logger.exception("web scan %s failed", job.id)
            job.error = "the scan failed unexpectedly (a bug: the server log has the details)"
            job.state = "failed"
        finally:
            job.finished_at = utcnow()
        self._audit_finish(job, actor)

    @staticmethod
    def _finished(job: ScanJob, result: ScanResult) -> None:
        job.counts = result.counts.as_dict()
        job.scan_id, job.evidence_id, job.status = result.scan_id, result.evidence.id, result.status
        job.failures = len(result.failures)
        if result.verification is not None:
            job.verification = result.verification.status
        job.state = "done"

    def _audit_finish(self, job: ScanJob, actor: Actor) -> None:
        details: dict[str, Any] = {
            "path": job.path,
            "job": job.id,
            "state": job.state,
            "error": job.error,
            "scan_id": job.scan_id,
            "evidence_id": job.evidence_id,
            "status": job.status,
            "files": job.counts.get("files"),
            "hits": job.counts.get("hits"),
            "failed": job.counts.get("failed"),
        }
        if job.verification is not None:
            details["verification"] = job.verification
        try:
            with self._store.engine.begin() as conn:
                audit.record(
                    conn,
                    actor,
                    "scan.finish",
                    case_id=job.case_id,
                    object_kind="evidence",
                    object_id=job.evidence_id if job.evidence_id is not None else job.path[-100:],
                    details=details,
                )
        except Exception:
            logger.exception("the audit entry of web scan %s could not be written", job.id)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if not j.running]
        for job in sorted(finished, key=lambda j: j.started_at)[:-KEEP_FINISHED]:
            del self._jobs[job.id]

    def get(self, job_id: str) -> ScanJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self, case_ids: set[int] | None, limit: int = 10) -> list[ScanJob]:
        """The latest jobs into the given cases (``None``: every case)."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if case_ids is None or j.case_id in case_ids]
        return sorted(jobs, key=lambda j: j.started_at, reverse=True)[:limit]

    def wait(self, timeout: float = 60.0) -> bool:
        """Wait for running scans (shutdown, tests); whether all finished in time."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in threads)


def scan_jobs(state: State) -> ScanJobs:
    """The app's scan jobs (``app.state.scans``), made on first use."""
    jobs: ScanJobs | None = getattr(state, "scans", None)
    if jobs is None:
        with _create_lock:
            jobs = getattr(state, "scans", None)
            if jobs is None:
                jobs = ScanJobs(state.store, state.settings.index_dir)
                state.scans = jobs
    return jobs
