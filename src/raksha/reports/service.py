"""Generating reports from Python: the one path the CLI, the demo and the web console take.

Each function checks access, reads the store once, writes the files, and registers them
(SHA-256 in the registry, a ``.sha256`` sidecar, an audit entry) in one transaction. If
anything fails after a file was written, the files of that run are removed again, so
every report on disk is a registered one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from raksha.cases import audit
from raksha.cases.access import allowed, require, require_case, visible_case_ids
from raksha.cases.actor import Actor
from raksha.errors import UsageError
from raksha.reports import registry
from raksha.reports.case_data import load_case_report
from raksha.reports.case_model import CaseReport
from raksha.reports.certificate import (
    Certificate,
    build_certificate,
    render_certificate_html,
    write_certificate_pdf,
)
from raksha.reports.formatting import fmt_stamp, slug
from raksha.reports.html import render_case_report
from raksha.reports.pdf import write_case_report_pdf
from raksha.reports.registry import RegisteredReport
from raksha.reports.statistics import (
    OperationStats,
    find_operation,
    load_operation_stats,
    write_statistics_csv,
    write_statistics_pdf,
)
from raksha.reports.vics_export import Which, build_case_file, write_case_file
from raksha.settings import Settings
from raksha.store.case_lookup import find_case_id
from raksha.store.case_models import operations_table
from raksha.store.db import Store
from raksha.store.models import cases_table, utcnow

logger = logging.getLogger(__name__)

CASE_FORMATS = ("pdf", "html")
OPERATION_FORMATS = ("pdf", "csv")
Writer = Callable[[Path], object]


def case_report_dir(settings: Settings, case_name: str) -> Path:
    """Where a case's reports go by default: ``RAKSHA_HOME/reports/<case>/``."""
    return settings.home / "reports" / slug(case_name)


def operation_report_dir(settings: Settings, operation_name: str) -> Path:
    return settings.home / "reports" / "operations" / slug(operation_name)


def case_name(store: Store, case: str | int) -> str:
    """The name of a case given by name, FIR number or id (for the default folder)."""
    with store.engine.connect() as conn:
        case_id = find_case_id(conn, case)
        query = select(cases_table.c.name).where(cases_table.c.id == case_id)
        return str(conn.execute(query).scalar_one())


def operation_name(store: Store, operation: str | int) -> str:
    with store.engine.connect() as conn:
        op_id = find_operation(conn, operation)
        query = select(operations_table.c.name).where(operations_table.c.id == op_id)
        return str(conn.execute(query).scalar_one())


def _check_formats(formats: Sequence[str], allowed: tuple[str, ...]) -> list[str]:
    chosen = list(dict.fromkeys(formats))
    wrong = [f for f in chosen if f not in allowed]
    if wrong or not chosen:
        raise UsageError(
            f"format {', '.join(wrong) or '(none)'} is not one of: {', '.join(allowed)}"
        )
    return chosen


def _free_stem(out_dir: Path, stem: str, suffixes: Sequence[str]) -> str:
    """``stem``, or ``stem-2``, ... when a report of the same second is there already."""
    candidate, n = stem, 1
    while any((out_dir / f"{candidate}.{s}").exists() for s in suffixes):
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def _write_and_register(
    store: Store,
    actor: Actor,
    jobs: list[tuple[Path, str, Writer]],
    *,
    generated_at: datetime,
    case_id: int | None = None,
    operation_id: int | None = None,
) -> list[RegisteredReport]:
    """Write each ``(path, kind, writer)``, then register them all in one transaction."""
    written: list[Path] = []
    try:
        for path, _kind, write in jobs:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write(path)
            except OSError as exc:
                raise UsageError(
                    f"cannot write {path}: {exc.strerror or exc}; choose another folder with --out"
                ) from exc
            written.append(path)
        with store.engine.begin() as conn:
            return [
                registry.register(
                    conn,
                    actor,
                    path,
                    kind=kind,
                    generated_at=generated_at,
                    case_id=case_id,
                    operation_id=operation_id,
                )
                for path, kind, _ in jobs
            ]
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
            path.with_name(path.name + registry.SIDECAR_SUFFIX).unlink(missing_ok=True)
        raise


def generate_case_report(
    store: Store,
    actor: Actor,
    case: str | int,
    out_dir: Path,
    formats: Sequence[str] = CASE_FORMATS,
) -> tuple[CaseReport, list[RegisteredReport]]:
    """Write the case report (PDF and/or HTML) to ``out_dir`` and register it."""
    chosen = _check_formats(formats, CASE_FORMATS)
    now = utcnow()
    with store.engine.connect() as conn:
        case_id = find_case_id(conn, case)
        require_case(conn, actor, case_id, "report.generate")
        report = load_case_report(conn, case_id, generated_by=actor.username, generated_at=now)
    stem = _free_stem(out_dir, f"case-report-{slug(report.case.name)}-{fmt_stamp(now)}", chosen)
    jobs: list[tuple[Path, str, Writer]] = []
    for fmt in chosen:
        path = out_dir / f"{stem}.{fmt}"
        if fmt == "pdf":
            jobs.append((path, "case-pdf", lambda p: write_case_report_pdf(report, p)))
        else:
            jobs.append(
                (
                    path,
                    "case-html",
                    lambda p: p.write_text(render_case_report(report, p.name), encoding="utf-8"),
                )
            )
    files = _write_and_register(store, actor, jobs, generated_at=now, case_id=case_id)
    return report, files


def generate_certificate(
    store: Store,
    actor: Actor,
    case: str | int,
    out_dir: Path,
    formats: Sequence[str] = CASE_FORMATS,
) -> tuple[Certificate, list[RegisteredReport]]:
    """Write the s.65B / s.63 certificate for the case's newest report."""
    chosen = _check_formats(formats, CASE_FORMATS)
    now = utcnow()
    with store.engine.connect() as conn:
        case_id = find_case_id(conn, case)
        require_case(conn, actor, case_id, "report.generate")
        cert = build_certificate(conn, case_id, generated_by=actor.username, generated_at=now)
    stem = _free_stem(out_dir, f"certificate-65B-{slug(cert.case.name)}-{fmt_stamp(now)}", chosen)
    jobs: list[tuple[Path, str, Writer]] = []
    for fmt in chosen:
        path = out_dir / f"{stem}.{fmt}"
        if fmt == "pdf":
            jobs.append((path, "certificate-pdf", lambda p: write_certificate_pdf(cert, p)))
        else:
            jobs.append(
                (
                    path,
                    "certificate-html",
                    lambda p: p.write_text(render_certificate_html(cert), encoding="utf-8"),
                )
            )
    files = _write_and_register(store, actor, jobs, generated_at=now, case_id=case_id)
    return cert, files


def generate_operation_report(
    store: Store,
    actor: Actor,
    operation: str | int,
    out_dir: Path,
    formats: Sequence[str] = OPERATION_FORMATS,
) -> tuple[OperationStats, list[RegisteredReport]]:
    """Write the operation's statistics (PDF and/or CSV) and register them."""
    require(actor, "report.generate")
    require(actor, "operation.read")
    chosen = _check_formats(formats, OPERATION_FORMATS)
    now = utcnow()
    with store.engine.connect() as conn:
        op_id = find_operation(conn, operation)
        stats = load_operation_stats(conn, op_id, generated_by=actor.username, generated_at=now)
    stem = _free_stem(out_dir, f"operation-{slug(stats.name)}-{fmt_stamp(now)}", chosen)
    jobs: list[tuple[Path, str, Writer]] = []
    for fmt in chosen:
        path = out_dir / f"{stem}.{fmt}"
        if fmt == "pdf":
            jobs.append((path, "operation-pdf", lambda p: write_statistics_pdf(stats, p)))
        else:
            jobs.append((path, "operation-csv", lambda p: write_statistics_csv(stats, p)))
    files = _write_and_register(store, actor, jobs, generated_at=now, operation_id=op_id)
    return stats, files


def export_vics(
    store: Store,
    actor: Actor,
    case: str | int,
    out_dir: Path,
    *,
    which: Sequence[Which] = ("hits", "new"),
    out_file: Path | None = None,
) -> list[tuple[RegisteredReport, int]]:
    """VICS 2.0 case files of the case's hits and/or new material; returns each file with
    its number of Media records. ``out_file`` names the file when one kind is asked for."""
    chosen = list(dict.fromkeys(which))
    if out_file is not None and len(chosen) != 1:
        raise UsageError(
            "--out names one file: add --hits-only or --new-only, or leave --out "
            "out to write both into the case's report folder"
        )
    now = utcnow()
    with store.engine.connect() as conn:
        case_id = find_case_id(conn, case)
        require_case(conn, actor, case_id, "report.generate")
        documents = {
            w: build_case_file(conn, case_id, w, contact=actor.username, generated_at=now)
            for w in chosen
        }
        name = str(documents[chosen[0]]["value"][0].get("CaseNumber"))
    counts: dict[Path, int] = {}
    jobs: list[tuple[Path, str, Writer]] = []
    stem = f"vics-{{}}-{slug(name)}-{fmt_stamp(now)}"
    for w in chosen:
        path = out_file if out_file is not None else out_dir / f"{stem.format(w)}.json"
        doc = documents[w]

        def write(p: Path, doc: dict[str, Any] = doc) -> None:
            counts[p] = write_case_file(doc, p)

        jobs.append((path, f"vics-{w}", write))
    files = _write_and_register(store, actor, jobs, generated_at=now, case_id=case_id)
    return [(f, counts[path]) for f, (path, _, _) in zip(files, jobs, strict=True)]


def list_registered(
    store: Store, actor: Actor, case: str | int | None = None
) -> list[RegisteredReport]:
    """Registered reports the actor may see: one case's, or those of every visible case
    (and operation reports for those who may read operations)."""
    with store.engine.begin() as conn:
        case_id = None
        if case is not None:
            case_id = find_case_id(conn, case)
            require_case(conn, actor, case_id, "case.read")
            rows = registry.list_reports(conn, case_ids={case_id})
        else:
            visible = visible_case_ids(conn, actor)
            ops = allowed(actor, "operation.read")
            rows = [
                r
                for r in registry.list_reports(conn)
                if (r.case_id is not None and (visible is None or r.case_id in visible))
                or (r.case_id is None and ops)
            ]
        audit.record(conn, actor, "report.list", case_id=case_id, details={"reports": len(rows)})
    return rows
