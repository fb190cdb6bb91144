"""The public tip form at ``/report``: no login, no uploads, nothing kept about the reporter.

Two fields only (what they saw, and an optional number, username or link), stored by the
same ``services.tips.add_tip`` as a tip taken at the counter, with channel ``"web"``. The
reporter's address is used only, in memory and hashed, to limit how many tips one client
may send in a window (``raksha.web.ratelimit``); it is never logged or stored.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from raksha.errors import UsageError
from raksha.services.tips import MAX_TEXT, add_tip
from raksha.web.ratelimit import RateLimitedError, SlidingWindow
from raksha.web.security import store_of
from raksha.web.templating import render

logger = logging.getLogger(__name__)

router = APIRouter(tags=["public"], include_in_schema=False)

MAX_IDENTIFIER = 500


def _limit(request: Request) -> SlidingWindow:
    window: SlidingWindow = request.app.state.tip_limit
    return window


def _form_again(request: Request, error: str, description: str, identifier: str) -> Response:
    context = {
        "max_text": MAX_TEXT,
        "error": error,
        "description": description,
        "identifier": identifier,
    }
    return render(request, "report.html", context, status_code=400)


@router.get("/report", name="tips.form")
def tip_form(request: Request) -> Response:
    return render(request, "report.html", {"max_text": MAX_TEXT})


@router.post("/report", name="tips.submit")
def submit_tip(
    request: Request,
    description: Annotated[str, Form(max_length=MAX_TEXT + 100)] = "",
    identifier: Annotated[str, Form(max_length=MAX_IDENTIFIER)] = "",
) -> Response:
    if request.headers.get("content-type", "").startswith("multipart/"):
        return _form_again(
            request,
            "this form takes no files: please do not send pictures or videos, describe "
            "what you saw instead",
            description,
            identifier,
        )
    wait = _limit(request).hit(request.client.host if request.client else "unknown")
    if wait is not None:
        raise RateLimitedError(
            "You have sent several reports in a short time. Thank you; please wait a few "
            "minutes before sending another.",
            wait,
        )
    try:
        tip = add_tip(store_of(request), identifier, description, channel="web")
    except UsageError as exc:
        return _form_again(request, str(exc), description, identifier)
    return render(request, "report_done.html", {"follow_up": tip.follow_up})
