"""Evidence and scans: the evidence of the cases a user may see, one piece in full, and a
form that starts a scan of a server path in the background while the page polls its
progress (htmx; a plain reload works too)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from raksha.cases.access import allowed, require_case, visible_case_ids
from raksha.cases.actor import Actor
from raksha.errors import NotFoundError, UsageError
from raksha.web.evidence_view import evidence_by_case, evidence_detail, visible_cases
from raksha.web.scans import SCAN_KINDS, ScanJob, ScanRequest, checked_path, scan_jobs
from raksha.web.security import acting_user, store_of
from raksha.web.templating import render

logger = logging.getLogger(__name__)

router = APIRouter(tags=["evidence"], include_in_schema=False)


def _job_for(request: Request, actor: Actor, job_id: str) -> ScanJob:
    job = scan_jobs(request.app.state).get(job_id)
    if job is None:
        raise HTTPException(404, "no such scan (a restarted server forgets its progress pages)")
    with store_of(request).engine.connect() as conn:
        require_case(conn, actor, job.case_id, "evidence.scan")
    return job


@router.get("/evidence", name="evidence.list")
def evidence_page(
    request: Request,
    actor: Annotated[Actor, Depends(acting_user)],
    case: Annotated[int | None, Query()] = None,
) -> Response:
    scan = allowed(actor, "evidence.scan")
    with store_of(request).engine.connect() as conn:
        cases = visible_cases(conn, actor)
        listing = evidence_by_case(conn, actor, case)
        visible = visible_case_ids(conn, actor)
    context: dict[str, Any] = {
        "cases": cases,
        "listing": listing,
        "chosen": case,
        "kinds": SCAN_KINDS,
        "jobs": scan_jobs(request.app.state).recent(visible) if scan else [],
    }
    return render(request, "evidence.html", context)


@router.get("/evidence/{evidence_id}", name="evidence.show")
def evidence_show(
    request: Request, actor: Annotated[Actor, Depends(acting_user)], evidence_id: int
) -> Response:
    detail = evidence_detail(store_of(request), actor, evidence_id)
    return render(request, "evidence_show.html", {"ev": detail})


@router.post("/scans", name="scans.start")
def start_scan(
    request: Request,
    actor: Annotated[Actor, Depends(acting_user)],
    path: Annotated[str, Form(max_length=4000)],
    case_id: Annotated[int, Form()],
    kind: Annotated[str, Form()] = "auto",
    workers: Annotated[str, Form(max_length=10)] = "",
    max_depth: Annotated[int, Form()] = 3,
    dihedral: Annotated[bool, Form()] = False,
    verify: Annotated[bool, Form()] = False,
    carve: Annotated[bool, Form()] = False,
) -> Response:
    with store_of(request).engine.connect() as conn:
        require_case(conn, actor, case_id, "evidence.scan")
        names = {c["id"]: c["name"] for c in visible_cases(conn, actor)}
    if case_id not in names:
        raise NotFoundError(f"no case {case_id}")
    processes = workers.strip()
    if processes and not processes.isdigit():
        raise UsageError("hashing processes is a number (0: in the server; empty: one per core)")
    scan_request = ScanRequest(
        path=checked_path(path),
        kind=kind,
        workers=int(processes) if processes else None,
        max_depth=max_depth,
        dihedral=dihedral,
        verify=verify,
        carve=carve,
    )
    job = scan_jobs(request.app.state).start(actor, case_id, names[case_id], scan_request)
    return RedirectResponse(f"/scans/{job.id}", status_code=303)


@router.get("/scans/{job_id}", name="scans.status")
def scan_status(
    request: Request, actor: Annotated[Actor, Depends(acting_user)], job_id: str
) -> Response:
    return render(request, "scan_status.html", {"job": _job_for(request, actor, job_id)})


@router.get("/scans/{job_id}/progress", name="scans.progress")
def scan_progress(
    request: Request, actor: Annotated[Actor, Depends(acting_user)], job_id: str
) -> Response:
    """The progress box alone: what the status page swaps in every second while running."""
    return render(request, "_scan_progress.html", {"job": _job_for(request, actor, job_id)})
