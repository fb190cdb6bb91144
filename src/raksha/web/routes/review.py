"""The review queue: hits of the cases a user may see, new first, with their trace and a
small preview (blurred and greyscale); confirm, dismiss or re-categorise each, and reveal
one preview at a time, unblurred and in colour, after a confirmation (audited).

Previews come from :mod:`raksha.web.previews`, are built per request and sent with
``Cache-Control: no-store``; a revealed one lives only in the one response that shows it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from raksha.cases import audit, review
from raksha.cases.actor import Actor
from raksha.web.evidence_view import visible_cases
from raksha.web.previews import (
    MAX_SIDE,
    PreviewSource,
    PreviewUnavailableError,
    locate,
    read_back,
    render_preview,
)
from raksha.web.security import acting_user, store_of
from raksha.web.templating import render

logger = logging.getLogger(__name__)

router = APIRouter(tags=["review"], include_in_schema=False)

PAGE_SIZE = 25
NO_STORE = {"Cache-Control": "no-store"}


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _source_of(row: dict[str, Any]) -> PreviewSource:
    return locate(
        source_path=str(row["source_path"]),
        root_locator=str(row["root_locator"]),
        locator=str(row["locator"]),
        file_type=row["file_type"],
    )


def _with_preview(row: dict[str, Any]) -> dict[str, Any]:
    source = _source_of(row)
    row["preview"] = {"available": source.available, "reason": source.reason}
    return row


def _datalists(labels: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    """set name -> the id of its category list on the page (stable across fragments)."""
    return {
        name: {"id": "cats-" + hashlib.sha256(name.encode()).hexdigest()[:12], "cats": cats}
        for name, cats in labels.items()
        if cats
    }


def _safe_next(value: str) -> str:
    """Where a plain form goes back to: a review queue URL of this site, nothing else."""
    plain = value.isprintable() and not any(ch.isspace() or ch == "\\" for ch in value)
    if plain and value.startswith("/review") and not value.startswith("//"):
        return value
    return "/review"


def _preview_bytes(row: dict[str, Any], *, reveal: bool) -> bytes:
    data = read_back(_source_of(row), str(row["source_path"]), row["sha256"])
    return render_preview(data, reveal=reveal)


@router.get("/review", name="review.queue")
def review_queue(
    request: Request,
    actor: Annotated[Actor, Depends(acting_user)],
    case: Annotated[int | None, Query()] = None,
    set_name: Annotated[str, Query(alias="set", max_length=200)] = "",
    state: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    filters = review.QueueFilter(case_id=case, set_name=set_name or None, state=state or None)
    with store_of(request).engine.connect() as conn:
        total, rows = review.queue(
            conn, actor, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        sets = review.queue_sets(conn, actor)
        cases = visible_cases(conn, actor)
        labels = review.category_labels(conn, [str(r["set_name"]) for r in rows])
    query = {k: v for k, v in {"case": case, "set": set_name, "state": state}.items() if v}
    here = "/review" + (f"?{urlencode({**query, 'page': page})}" if query or page > 1 else "")
    context: dict[str, Any] = {
        "rows": [_with_preview(r) for r in rows],
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "query": urlencode(query),
        "filters": filters,
        "sets": sets,
        "cases": cases,
        "states": review.REVIEW_STATES,
        "datalists": _datalists(labels),
        "next": here,
        "max_side": MAX_SIDE,
    }
    return render(request, "review.html", context)


@router.post("/review/matches/{match_id}", name="review.decide")
def review_decide(
    request: Request,
    actor: Annotated[Actor, Depends(acting_user)],
    match_id: int,
    decision: Annotated[str, Form(max_length=20)],
    category: Annotated[str, Form(max_length=200)] = "",
    back: Annotated[str, Form(alias="next", max_length=1000)] = "/review",
) -> Response:
    with store_of(request).engine.begin() as conn:
        row = review.decide(conn, actor, match_id, decision, category=category)
        labels = review.category_labels(conn, [str(row["set_name"])])
    if not _htmx(request):
        return RedirectResponse(_safe_next(back), status_code=303)
    context = {"r": _with_preview(row), "datalists": _datalists(labels), "next": _safe_next(back)}
    return render(request, "_review_row.html", context)


@router.get("/review/items/{item_id}/preview", name="review.preview")
def review_preview(
    request: Request, actor: Annotated[Actor, Depends(acting_user)], item_id: int
) -> Response:
    """The blurred greyscale preview (PNG, at most MAX_SIDE px) of an item with a hit."""
    with store_of(request).engine.connect() as conn:
        row = review.hit_item(conn, actor, item_id, "hits.read")
    png = _preview_bytes(row, reveal=False)
    return Response(png, media_type="image/png", headers=NO_STORE)


@router.post("/review/items/{item_id}/reveal", name="review.reveal")
def review_reveal(
    request: Request,
    actor: Annotated[Actor, Depends(acting_user)],
    item_id: int,
    confirmed: Annotated[str, Form(max_length=10)] = "",
    back: Annotated[str, Form(alias="next", max_length=1000)] = "/review",
) -> Response:
    """The colour preview of one item, unblurred, in this response only; audited."""
    store = store_of(request)
    with store.engine.connect() as conn:
        row = review.hit_item(conn, actor, item_id, "hits.review")
    context: dict[str, Any] = {"r": row, "next": _safe_next(back)}
    if confirmed != "yes":  # a plain form: ask first (htmx asks in the browser)
        return render(request, "reveal_confirm.html", context)
    try:
        png = _preview_bytes(row, reveal=True)
    except PreviewUnavailableError as exc:
        if not _htmx(request):
            raise
        return render(request, "_reveal.html", {**context, "reason": str(exc)}, headers=NO_STORE)
    with store.engine.begin() as conn:
        audit.record(
            conn,
            actor,
            "preview.reveal",
            case_id=int(row["case_id"]),
            object_kind="item",
            object_id=item_id,
            details={"locator": row["locator"], "sha256": row["sha256"]},
        )
    logger.info("item %s revealed to %s", item_id, actor.username)
    context["data_url"] = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    template = "_reveal.html" if _htmx(request) else "reveal.html"
    return render(request, template, context, headers=NO_STORE)
