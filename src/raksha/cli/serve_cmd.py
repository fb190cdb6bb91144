"""``raksha serve``: the web console and the JSON API, on this machine by default.

A thin command: it builds the app with the same settings as every other command and hands
it to uvicorn. One process (the tip-form rate limit and import progress live in memory).
The access log is off: it would write every visitor's address, and the public tip form
promises to keep nothing about the reporter.
"""

from __future__ import annotations

import ipaddress
import logging

import typer

from raksha.cli.context import app_context, err_console

logger = logging.getLogger(__name__)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Run the web console and JSON API (log in with a `raksha user` account)."""
    import uvicorn

    from raksha.web.app import create_app

    settings = app_context().settings
    app = create_app(settings)
    if not _is_loopback(host) and not settings.web_secure_cookies:
        err_console.print(
            f"[bold yellow]warning:[/] listening on {host} without TLS: passwords and session "
            "cookies cross the network in clear. Put a TLS proxy in front and set "
            "RAKSHA_WEB_SECURE_COOKIES=1 (docs/web.md).",
            highlight=False,
            soft_wrap=True,
        )
    err_console.print(f"Raksha console on http://{host}:{port}/ (Ctrl-C stops it)", highlight=False)
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,
        server_header=False,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )
