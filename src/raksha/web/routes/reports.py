"""Reports: the registered reports a user may see, generating one, and downloading it.

Generating goes through :mod:`raksha.reports.service`, the path the CLI takes: access,
files written under ``RAKSHA_HOME/reports/``, SHA-256 registered with a sidecar, an
audit entry. A download is sent only when
:func:`~raksha.reports.registry.verify_report` finds the file unchanged (that check is
audited as ``report.verify``), and the bytes sent are hashed again, so what leaves the
server is exactly what was registered; the download itself is audited as
``report.download``. A modified or missing file is refused with the reason.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from raksha.cases import audit, records
from raksha.cases.access import require, require_case
from raksha.cases.actor import Actor
from raksha.errors import NotFoundError, UsageError
from raksha.reports import service
from raksha.reports.registry import RegisteredReport, list_reports, verify_report
from raksha.web.formfields import optional_int
from raksha.web.security import acting_user, settings_of, store_of
from raksha.web.templating import render

logger = logging.getLogger(__name__)

router = APIRouter(tags=["reports"], include_in_schema=False)
Me = Annotated[Actor, Depends(acting_user)]

#: What the case page's buttons generate.
CASE_KINDS = ("case", "certificate", "vics")
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".html": "text/html; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
}


def _formats(value: str, allowed: tuple[str, ...]) -> list[str]:
    if value == "both":
        return list(allowed)
    if value not in allowed:
        raise UsageError(f"the format is one of: {', '.join(allowed)}, both (not {value!r})")
    return [value]


def _case_names(request: Request, actor: Actor) -> dict[int, str]:
    return {int(c["id"]): str(c["name"]) for c in records.list_cases(store_of(request), actor)}


@router.get("/reports", name="reports.list")
def reports_page(
    request: Request, actor: Me, case: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    case_id = optional_int(case, "case")
    found = service.list_registered(store_of(request), actor, case_id)
    context: dict[str, Any] = {
        "reports": list(reversed(found)),
        "case_id": case_id,
        "case_names": _case_names(request, actor),
        "show_case": True,
    }
    return render(request, "reports.html", context)


@router.post("/cases/{case_id}/reports", name="reports.generate")
def generate_for_case(
    request: Request,
    actor: Me,
    case_id: int,
    what: Annotated[str, Form(max_length=20)] = "case",
    format: Annotated[str, Form(max_length=10)] = "both",
) -> Response:
    """The case report, the s.65B certificate or the VICS files, into the case's folder."""
    store, settings = store_of(request), settings_of(request)
    if what not in CASE_KINDS:
        raise UsageError(f"generate one of: {', '.join(CASE_KINDS)} (not {what!r})")
    out_dir = service.case_report_dir(settings, service.case_name(store, case_id))
    files: list[RegisteredReport]
    if what == "case":
        _, files = service.generate_case_report(
            store, actor, case_id, out_dir, _formats(format, service.CASE_FORMATS)
        )
    elif what == "certificate":
        _, files = service.generate_certificate(store, actor, case_id, out_dir)
    else:
        files = [f for f, _ in service.export_vics(store, actor, case_id, out_dir)]
    anchor = f"#report-{files[-1].id}" if files else ""
    return RedirectResponse(f"/reports?case={case_id}{anchor}", status_code=303)


@router.post("/operations/{operation_id}/reports", name="reports.generate_operation")
def generate_for_operation(
    request: Request,
    actor: Me,
    operation_id: int,
    format: Annotated[str, Form(max_length=10)] = "both",
) -> Response:
    """The operation's statistics per district and overall (PDF and/or CSV)."""
    store, settings = store_of(request), settings_of(request)
    out_dir = service.operation_report_dir(settings, service.operation_name(store, operation_id))
    _, files = service.generate_operation_report(
        store, actor, operation_id, out_dir, _formats(format, service.OPERATION_FORMATS)
    )
    anchor = f"#report-{files[-1].id}" if files else ""
    return RedirectResponse(f"/reports{anchor}", status_code=303)


def registered_report(request: Request, actor: Actor, report_id: int) -> RegisteredReport:
    """The registry's row ``report_id``, if the actor may read its case (or operation)."""
    with store_of(request).engine.connect() as conn:
        found = [r for r in list_reports(conn) if r.id == report_id]
        if not found:
            raise NotFoundError(f"no report {report_id}; the reports page lists them")
        report = found[0]
        if report.case_id is not None:
            require_case(conn, actor, int(report.case_id), "case.read")
        else:
            require(actor, "operation.read")
    return report


def _refuse(request: Request, actor: Actor, report: RegisteredReport, why: str) -> Response:
    """Say why the file is not sent, and write the refusal to the audit log under its case
    (a modified file's own ``report.verify`` entry cannot name the case: the registry
    does not know its new hash)."""
    logger.warning("report %s refused for download: %s", report.id, why)
    with store_of(request).engine.begin() as conn:
        audit.record(
            conn,
            actor,
            "report.download.refused",
            case_id=report.case_id,
            object_kind="report",
            object_id=report.id,
            details={"file": report.name, "sha256": report.sha256, "why": why[:2000]},
        )
    message = f"report {report.name} was not sent: {why}"
    context = {"status": 409, "message": message, "public": False}
    return render(request, "error.html", context, status_code=409)


@router.get("/reports/{report_id}/download", name="reports.download")
def download(request: Request, actor: Me, report_id: int) -> Response:
    """The report file, only if it is byte for byte the one registered."""
    store = store_of(request)
    report = registered_report(request, actor, report_id)
    path = Path(report.path)
    try:
        result = verify_report(store, path, actor=actor)
    except NotFoundError as exc:
        return _refuse(request, actor, report, str(exc))
    if not result.ok or result.sha256 != report.sha256:
        problems = "; ".join(result.problems) or (
            f"its SHA-256 is now {result.sha256}, not the registered {report.sha256}"
        )
        return _refuse(request, actor, report, problems)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _refuse(request, actor, report, f"it cannot be read: {exc.strerror or exc}")
    if hashlib.sha256(data).hexdigest() != report.sha256:  # changed since it was verified
        return _refuse(request, actor, report, "it changed while it was being checked")
    with store.engine.begin() as conn:
        audit.record(
            conn,
            actor,
            "report.download",
            case_id=report.case_id,
            object_kind="report",
            object_id=report.id,
            details={"file": report.name, "sha256": report.sha256, "size": len(data)},
        )
    media_type = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    headers = {
        "Content-Disposition": f'attachment; filename="{_safe_name(report.name)}"',
        "X-Raksha-SHA256": report.sha256,
    }
    return Response(data, media_type=media_type, headers=headers)


def _safe_name(name: str) -> str:
    """A file name for Content-Disposition: printable ASCII without quotes or slashes."""
    cleaned = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\/' else "_" for c in name
    )
    return cleaned or "report"
