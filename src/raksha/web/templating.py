"""Rendering pages: one Jinja2 environment (autoescaped) and what every page is given.

Every template gets ``actor`` (or ``None``), ``can(permission)`` for showing only the links
and forms the user may use, and ``csrf_token`` for the hidden field every form carries
(``{{ csrf_field() }}`` writes it). Pages extend ``base.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from raksha.cases.access import allowed
from raksha.cases.actor import Actor
from raksha.web.security import CSRF_FIELD, Visitor, attach_cookies, csrf_token_for

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def _actor(request: Request) -> Actor | None:
    visitor: Visitor | None = getattr(request.state, "visitor", None)
    return None if visitor is None else visitor.actor


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page ``template`` with ``context`` and what every page needs."""
    actor = _actor(request)
    token = csrf_token_for(request)

    def can(permission: str) -> bool:
        return actor is not None and allowed(actor, permission)

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, escape(token or "")
        )

    full = {
        "actor": actor,
        "can": can,
        "csrf_token": token,
        "csrf_field": csrf_field,
        "path": request.url.path,
        **(context or {}),
    }
    response = templates.TemplateResponse(
        request, template, full, status_code=status_code, headers=headers
    )
    attach_cookies(request, response)
    return response
