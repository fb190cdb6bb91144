"""Hash sets: the list every user may read, and an upload form that imports in the
background while the page polls its progress (htmx; a plain reload works too)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from raksha.cases.access import allowed
from raksha.cases.actor import Actor
from raksha.errors import UsageError
from raksha.store.hashset_repo import list_sets
from raksha.web.imports import ImportJob, ImportJobs
from raksha.web.security import acting_user, store_of
from raksha.web.templating import render

logger = logging.getLogger(__name__)

router = APIRouter(tags=["hash sets"], include_in_schema=False)

KINDS = ("", "reference", "known")


def jobs_of(request: Request) -> ImportJobs:
    jobs: ImportJobs = request.app.state.imports
    return jobs


def find_job(request: Request, job_id: str) -> ImportJob:
    job = jobs_of(request).get(job_id)
    if job is None:
        raise HTTPException(404, "no such import (a restarted server forgets its imports)")
    return job


@router.get("/hashsets", name="hashsets.list")
def hashsets_page(request: Request, actor: Annotated[Actor, Depends(acting_user)]) -> Response:
    manage = allowed(actor, "hashset.manage")
    context: dict[str, Any] = {
        "sets": list_sets(store_of(request)),
        "jobs": jobs_of(request).recent() if manage else [],
        "kinds": KINDS,
    }
    return render(request, "hashsets.html", context)


@router.post("/hashsets/import", name="hashsets.import")
def start_import(
    request: Request,
    actor: Annotated[Actor, Depends(acting_user)],
    file: Annotated[UploadFile, File()],
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form()] = "",
    source_agency: Annotated[str, Form(max_length=300)] = "",
    version: Annotated[str, Form(max_length=100)] = "",
    append: Annotated[bool, Form()] = False,
) -> Response:
    if kind not in KINDS:
        raise UsageError("the kind is 'reference' (flags matches) or 'known' (skips files)")
    if not file.filename:
        raise UsageError("choose a hash set file to import")
    options: dict[str, Any] = {
        "kind": kind or None,
        "source_agency": source_agency.strip() or None,
        "version": version.strip() or None,
        "mode": "append" if append else "replace",
    }
    job = jobs_of(request).start(
        actor, file.file, file.filename, set_name=name.strip() or None, options=options
    )
    return RedirectResponse(f"/hashsets/imports/{job.id}", status_code=303)


@router.get("/hashsets/imports/{job_id}", name="hashsets.import_status")
def import_status(request: Request, job_id: str) -> Response:
    return render(request, "import_status.html", {"job": find_job(request, job_id)})


@router.get("/hashsets/imports/{job_id}/progress", name="hashsets.import_progress")
def import_progress(request: Request, job_id: str) -> Response:
    """The progress box alone: what the status page swaps in every second while running."""
    return render(request, "_import_progress.html", {"job": find_job(request, job_id)})
