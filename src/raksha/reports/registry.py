"""The registry of generated reports: how a court learns a report's own SHA-256.

A file cannot contain its own hash, so the hash is stated three times outside it: in the
``reports`` table (with its size, the tool version, who generated it and when), in a
sidecar ``FILE.sha256`` beside it (``sha256sum -c`` reads it), and in the s.65B / s.63
certificate that covers it. Every registration is an audit entry carrying the hash, so
the audit chain fixes it too. :func:`verify_report` recomputes a file's hash and says
whether this store generated it, unchanged.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from raksha import __version__
from raksha.cases import audit
from raksha.cases.actor import Actor
from raksha.errors import NotFoundError
from raksha.reports.formatting import as_utc
from raksha.store.case_models import reports_table
from raksha.store.db import Store
from raksha.store.models import iso_utc

logger = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".sha256"
RT = reports_table
_CHUNK = 1 << 20


@dataclass(slots=True, frozen=True)
class RegisteredReport:
    """One row of the registry."""

    id: int
    kind: str
    path: str
    sha256: str
    size: int
    tool_version: str
    generated_by: str
    generated_at: datetime
    case_id: int | None
    operation_id: int | None

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def sidecar(self) -> str:
        return self.path + SIDECAR_SUFFIX

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "path": self.path,
            "name": self.name,
            "sha256": self.sha256,
            "size": self.size,
            "tool_version": self.tool_version,
            "generated_by": self.generated_by,
            "generated_at": iso_utc(self.generated_at),
            "case_id": self.case_id,
            "operation_id": self.operation_id,
            "sidecar": self.sidecar,
        }


def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks (reports of big cases run to megabytes)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path} does not exist; check the path") from exc
    except OSError as exc:
        raise NotFoundError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest(), size


def write_sidecar(path: Path, sha256: str) -> Path:
    """``FILE.sha256`` in sha256sum format (two spaces, the bare name), so ``sha256sum -c``
    run in the report's folder checks it."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    sidecar.write_text(f"{sha256}  {path.name}\n", encoding="utf-8")
    return sidecar


def read_sidecar(path: Path) -> str | None:
    """The hash a report's sidecar states, or ``None`` when there is none (or it is garbled)."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    try:
        first = sidecar.read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        return None
    if first and len(first[0]) == 64:
        return first[0].lower()
    return None


def register(
    conn: Connection,
    actor: Actor,
    path: Path,
    *,
    kind: str,
    generated_at: datetime,
    case_id: int | None = None,
    operation_id: int | None = None,
) -> RegisteredReport:
    """Hash a freshly written report, write its sidecar, add it to the registry and audit it,
    all in the caller's transaction (the caller removes the file if the transaction fails)."""
    path = path.resolve()
    sha256, size = file_sha256(path)
    write_sidecar(path, sha256)
    values = {
        "case_id": case_id,
        "operation_id": operation_id,
        "kind": kind,
        "path": str(path),
        "sha256": sha256,
        "size": size,
        "tool_version": __version__,
        "generated_by": actor.username,
        "generated_at": generated_at,
    }
    report_id = int(conn.execute(RT.insert().values(**values)).inserted_primary_key[0])  # type: ignore[index]
    audit.record(
        conn,
        actor,
        "report.generate",
        case_id=case_id,
        object_kind="report",
        object_id=report_id,
        details={
            "kind": kind,
            "file": path.name,
            "sha256": sha256,
            "size": size,
            "operation_id": operation_id,
        },
    )
    logger.info("registered %s report %s (sha256 %s)", kind, path, sha256)
    return _row_to_report(values | {"id": report_id})


def _row_to_report(row: Any) -> RegisteredReport:
    values: dict[str, Any] = dict(row) if isinstance(row, dict) else dict(row._mapping)
    generated_at = as_utc(values["generated_at"])
    assert generated_at is not None
    return RegisteredReport(
        id=int(values["id"]),
        kind=str(values["kind"]),
        path=str(values["path"]),
        sha256=str(values["sha256"]),
        size=int(values["size"]),
        tool_version=str(values["tool_version"]),
        generated_by=str(values["generated_by"]),
        generated_at=generated_at,
        case_id=values.get("case_id"),
        operation_id=values.get("operation_id"),
    )


def list_reports(
    conn: Connection,
    *,
    case_ids: set[int] | None = None,
    kinds: tuple[str, ...] | None = None,
    operation_id: int | None = None,
) -> list[RegisteredReport]:
    """Registered reports, oldest first; ``case_ids`` limits them to those cases' reports."""
    query = select(RT).order_by(RT.c.generated_at, RT.c.id)
    if case_ids is not None:
        query = query.where(RT.c.case_id.in_(case_ids or {-1}))
    if kinds:
        query = query.where(RT.c.kind.in_(kinds))
    if operation_id is not None:
        query = query.where(RT.c.operation_id == operation_id)
    return [_row_to_report(r) for r in conn.execute(query)]


def latest_batch(conn: Connection, case_id: int, kinds: tuple[str, ...]) -> list[RegisteredReport]:
    """The files of the newest generation of a case's report (one run writes its PDF and
    HTML with the same time), so a certificate covers one version, never a mix."""
    rows = list_reports(conn, case_ids={case_id}, kinds=kinds)
    if not rows:
        return []
    newest = rows[-1].generated_at
    return [r for r in rows if r.generated_at == newest]


@dataclass(slots=True)
class VerifyResult:
    """What recomputing a report's hash found."""

    path: str
    sha256: str
    size: int
    registered: RegisteredReport | None
    sidecar_sha256: str | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.registered is not None and not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "registered": None if self.registered is None else self.registered.as_dict(),
            "sidecar_sha256": self.sidecar_sha256,
            "problems": self.problems,
        }


def verify_report(store: Store, path: Path, *, actor: Actor | None = None) -> VerifyResult:
    """Recompute ``path``'s SHA-256 and compare it with the registry and the sidecar.

    A copy moved elsewhere still verifies (it is found by its hash); a file whose name
    the registry knows under another hash is reported as modified. With ``actor`` the
    check is written to the audit log.
    """
    path = path.resolve()
    sha256, size = file_sha256(path)
    result = VerifyResult(str(path), sha256, size, None, read_sidecar(path))
    with store.engine.begin() as conn:
        same_hash = [
            _row_to_report(r) for r in conn.execute(select(RT).where(RT.c.sha256 == sha256))
        ]
        if same_hash:
            same_path = [r for r in same_hash if r.path == str(path)]
            result.registered = (same_path or same_hash)[0]
        else:
            known = [
                _row_to_report(r)
                for r in conn.execute(
                    select(RT)
                    .where(RT.c.path.endswith("/" + path.name, autoescape=True))
                    .order_by(RT.c.id)
                )
            ]
            exact = [r for r in known if r.path == str(path)]
            if exact or known:
                was = (exact or known)[-1]
                result.problems.append(
                    f"modified: the registry holds SHA-256 {was.sha256} ({was.size:,} bytes) "
                    f"for {was.name}, generated by {was.generated_by} at "
                    f"{iso_utc(was.generated_at)}; this file's SHA-256 is {sha256} "
                    f"({size:,} bytes)"
                )
            else:
                result.problems.append(
                    f"not registered: no report with SHA-256 {sha256} was generated by this "
                    "Raksha store"
                )
        if result.sidecar_sha256 is not None and result.sidecar_sha256 != sha256:
            result.problems.append(
                f"the sidecar {path.name}{SIDECAR_SUFFIX} states SHA-256 "
                f"{result.sidecar_sha256}, not this file's"
            )
        if actor is not None:
            audit.record(
                conn,
                actor,
                "report.verify",
                case_id=result.registered.case_id if result.registered else None,
                object_kind="report",
                object_id=result.registered.id if result.registered else None,
                details={"file": path.name, "sha256": sha256, "ok": result.ok},
            )
    return result
