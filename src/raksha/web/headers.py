"""Security headers on every response, errors included.

A plain ASGI middleware rather than a route decorator, so nothing can be served without
them: pages, JSON, redirects, static files, 404s and the 500 page. Pages never get
cached (they show case data); static files are revalidated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

#: No inline script or style anywhere: everything comes from /static on this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
    "bluetooth=(), browsing-topics=(), display-capture=(), fullscreen=(self)"
)
BASE_HEADERS: dict[str, str] = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": PERMISSIONS_POLICY,
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
HSTS = "max-age=31536000"

_ERROR_PAGE = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Error</title>"
    b"<h1>Something went wrong</h1><p>The server could not finish this request. "
    b"It has been logged; try again, and tell an admin if it keeps happening.</p></html>"
)


def headers_for(path: str, secure: bool) -> dict[str, str]:
    out = dict(BASE_HEADERS)
    out["cache-control"] = "no-cache" if path.startswith("/static/") else "no-store"
    if secure:
        out["strict-transport-security"] = HSTS
    return out


class SecurityHeadersMiddleware:
    """Adds :data:`BASE_HEADERS` (and Cache-Control, HSTS behind TLS) to every response."""

    def __init__(self, app: ASGIApp, *, force_secure: Callable[[], bool] = lambda: False):
        self.app = app
        self.force_secure = force_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https" or self.force_secure()
        extra = headers_for(str(scope.get("path", "")), secure)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {k.lower() for k, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                for key, value in extra.items():
                    if key.encode() not in names:
                        headers.append((key.encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"text/html; charset=utf-8")],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": _ERROR_PAGE})
