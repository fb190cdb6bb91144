"""The audit log for auditors (filter by user, action, case) and the chain check.

Verifying walks the whole chain, like ``raksha audit verify``; the result and the head
(write it down, to check against later) are shown, and the check itself is audited.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import Connection, or_, select

from raksha.cases import audit
from raksha.cases.actor import Actor
from raksha.store.models import cases_table
from raksha.web.security import acting_user, store_of
from raksha.web.templating import render

router = APIRouter(tags=["audit"], include_in_schema=False)

HEAD = re.compile(r"^\d+:[0-9a-f]{64}$")
MAX_LIMIT = 1000


def case_id_for(conn: Connection, value: str) -> int | None:
    """The id of the case named ``value`` (or with that id); ``None`` when there is none."""
    ct = cases_table
    condition = ct.c.name == value
    if value.isdigit():
        condition = or_(condition, ct.c.id == int(value))
    found = conn.execute(select(ct.c.id).where(condition).order_by(ct.c.id).limit(1)).scalar()
    return None if found is None else int(found)


def filtered_entries(
    conn: Connection, user: str, action: str, case: str, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Entries matching the filters, and a note when the case filter names no case."""
    case_id = None
    if case:
        case_id = case_id_for(conn, case)
        if case_id is None:
            return [], f"there is no case named {case!r}"
    found = audit.entries(
        conn,
        case_id=case_id,
        actor=user or None,
        action=action or None,
        limit=max(1, min(limit, MAX_LIMIT)),
    )
    return found, None


@router.get("/audit", name="audit.list")
def audit_page(
    request: Request,
    user: Annotated[str, Query(max_length=100)] = "",
    action: Annotated[str, Query(max_length=60)] = "",
    case: Annotated[str, Query(max_length=200)] = "",
    limit: int = 100,
) -> Response:
    with store_of(request).engine.connect() as conn:
        found, note = filtered_entries(conn, user.strip(), action.strip(), case.strip(), limit)
    filters = {"user": user, "action": action, "case": case, "limit": limit}
    return render(request, "audit.html", {"entries": found, "note": note, "filters": filters})


@router.get("/audit/verify", name="audit.verify_form")
def verify_form(request: Request) -> Response:
    return render(request, "audit_verify.html", {"report": None, "head": ""})


def run_verify(request: Request, actor: Actor, head: str | None) -> audit.ChainReport:
    """Verify the chain, then record who checked it and what they saw."""
    store = store_of(request)
    with store.engine.connect() as conn:
        report = audit.verify(conn, expected_head=head)
    with store.engine.begin() as conn:
        audit.record(
            conn,
            actor,
            "audit.verify",
            details={
                "ok": report.ok,
                "entries": report.entries,
                "head": f"{report.head_seq}:{report.head_hash}",
                "expected_head": head,
                "problems": len(report.problems),
            },
        )
    return report


@router.post("/audit/verify", name="audit.verify")
def verify(
    request: Request,
    actor: Annotated[Actor, Depends(acting_user)],
    head: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    head = head.strip()
    if head and not HEAD.match(head):
        return render(
            request,
            "audit_verify.html",
            {
                "report": None,
                "head": head,
                "error": "the head is SEQ:HASH: a number, a colon and 64 hex digits, as a "
                "verify prints it",
            },
            status_code=400,
        )
    report = run_verify(request, actor, head or None)
    return render(request, "audit_verify.html", {"report": report, "head": head})
