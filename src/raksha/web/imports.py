"""Hash-set imports started from the browser: one background thread each, polled for progress.

An upload is copied to ``RAKSHA_HOME/web-uploads/<job>/<file name>`` (so the import record
names the file as the user knew it), imported with the same service as
``raksha hashset import``, and deleted afterwards. Progress lives in memory only: a
restarted server forgets its jobs, and the import itself is one transaction, so an
interrupted one leaves the set as it was.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from raksha.cases import audit
from raksha.cases.actor import Actor
from raksha.errors import RakshaError
from raksha.services.hashsets import import_hashset
from raksha.store.db import Store
from raksha.store.models import iso_utc, utcnow

logger = logging.getLogger(__name__)

#: Finished jobs kept for their progress pages; the oldest go first.
KEEP_FINISHED = 50
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str | None) -> str:
    """A file name without directories or odd characters (``upload`` when nothing is left)."""
    base = Path((name or "").replace("\\", "/")).name
    cleaned = _SAFE.sub("_", base).strip("._")[:120]
    return cleaned or "upload"


@dataclass
class ImportJob:
    """One import: what it is, how far it got and how it ended."""

    id: str
    set_name: str
    file_name: str
    started_by: str
    started_at: datetime = field(default_factory=utcnow)
    state: str = "running"  # running, done, failed
    records: int = 0
    finished_at: datetime | None = None
    error: str | None = None
    report: dict[str, Any] | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "set_name": self.set_name,
            "file_name": self.file_name,
            "started_by": self.started_by,
            "started_at": iso_utc(self.started_at),
            "state": self.state,
            "records": self.records,
            "finished_at": iso_utc(self.finished_at),
            "error": self.error,
            "report": self.report,
        }


class ImportJobs:
    """The imports this server process runs or ran."""

    def __init__(self, store: Store, upload_dir: Path) -> None:
        self._store = store
        self._upload_dir = upload_dir
        self._jobs: dict[str, ImportJob] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(
        self,
        actor: Actor,
        upload: BinaryIO,
        file_name: str | None,
        *,
        set_name: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> ImportJob:
        """Copy ``upload`` to disk and import it in the background; returns the job at once."""
        job_id = secrets.token_urlsafe(12)
        name = safe_file_name(file_name)
        folder = self._upload_dir / job_id
        folder.mkdir(parents=True, mode=0o700)
        path = folder / name
        with path.open("wb") as out:
            shutil.copyfileobj(upload, out, 1024 * 1024)
        job = ImportJob(
            id=job_id,
            set_name=set_name or Path(name).stem,
            file_name=name,
            started_by=actor.username,
        )
        thread = threading.Thread(
            target=self._run,
            args=(job, actor, path, dict(options or {})),
            name=f"hashset-import-{job_id}",
            daemon=True,
        )
        with self._lock:
            self._jobs[job_id] = job
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            self._forget_old()
        logger.info("web import %s of %s started by %s", job_id, name, actor.username)
        thread.start()
        return job

    def _run(self, job: ImportJob, actor: Actor, path: Path, options: dict[str, Any]) -> None:
        def progress(records: int) -> None:
            job.records = records

        try:
            report = import_hashset(
                self._store, path, name=job.set_name, on_progress=progress, **options
            )
            job.report = report.as_dict()
            job.records = report.records_read
            job.state = "done"
        except RakshaError as exc:
            job.error, job.state = str(exc), "failed"
        except Exception:  # a bug: the page says so, the log has the traceback
            logger.exception("web import %s failed", job.id)
            job.error = "the import failed unexpectedly (a bug: the server log has the details)"
            job.state = "failed"
        finally:
            job.finished_at = utcnow()
            shutil.rmtree(path.parent, ignore_errors=True)
        self._audit(job, actor)

    def _audit(self, job: ImportJob, actor: Actor) -> None:
        details: dict[str, Any] = {"file": job.file_name, "state": job.state, "error": job.error}
        if job.report is not None:
            keys = ("import_id", "records_read", "added", "updated", "removed", "rejected")
            details.update({k: job.report.get(k) for k in keys})
        try:
            with self._store.engine.begin() as conn:
                audit.record(
                    conn,
                    actor,
                    "hashset.import",
                    object_kind="hash_set",
                    object_id=job.set_name[:100],
                    details=details,
                )
        except Exception:
            logger.exception("the audit entry of web import %s could not be written", job.id)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if not j.running]
        for job in sorted(finished, key=lambda j: j.started_at)[:-KEEP_FINISHED]:
            del self._jobs[job.id]

    def get(self, job_id: str) -> ImportJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self, limit: int = 10) -> list[ImportJob]:
        with self._lock:
            jobs = list(self._jobs.values())
        return sorted(jobs, key=lambda j: j.started_at, reverse=True)[:limit]

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait for running imports (shutdown, tests); whether all finished in time."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in threads)
