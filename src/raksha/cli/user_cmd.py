"""``raksha user``, ``raksha login``, ``raksha logout`` and ``raksha whoami``.

Passwords come from a hidden prompt or, for scripts, one line on standard input
(``--password-stdin``), never from the command line, where the shell history, the process
list and the "cli" audit entry would keep them.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from raksha.cases import users
from raksha.cases.access import allowed
from raksha.cases.actor import ROLES
from raksha.cli.context import app_context, console, emit_json, err_console
from raksha.errors import UsageError
from raksha.store.models import iso_utc

logger = logging.getLogger(__name__)

app = typer.Typer(
    help="Users and their roles: add, list, disable, change a password (admins).",
    no_args_is_help=True,
)

_PASSWORD_STDIN = typer.Option(
    False,
    "--password-stdin",
    help="Read the password from standard input (one line) instead of prompting.",
)


def _read_password(from_stdin: bool, label: str = "Password", *, confirm: bool = False) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UsageError(
                "--password-stdin was given but standard input is empty; pipe the password "
                "in, one line"
            )
        return line.rstrip("\r\n")
    password: str = typer.prompt(label, hide_input=True, confirmation_prompt=confirm)
    return password


@app.command("add")
def add_command(
    username: str = typer.Argument(..., help="Login name, e.g. 'priya.s'.", show_default=False),
    role: str = typer.Option(
        ..., "--role", help=f"One of: {', '.join(ROLES)}.", show_default=False
    ),
    full_name: str | None = typer.Option(None, "--name", help="Full name and rank."),
    password_stdin: bool = _PASSWORD_STDIN,
    json_out: bool = typer.Option(False, "--json", help="Write JSON."),
) -> None:
    """Add a user (admins; the very first user is added in set-up mode and is an admin)."""
    ctx = app_context()
    actor = ctx.actor
    password = _read_password(password_stdin, confirm=not password_stdin)
    with ctx.store.engine.begin() as conn:
        user = users.create_user(conn, actor, username, role, password, full_name)
    if json_out:
        emit_json(user.as_dict())
        return
    console.print(f"added {escape(user.username)} ({user.role})", highlight=False)
    if actor.setup:
        console.print(
            "set-up mode is over: from now on every command needs a login; "
            f"log in with `raksha login {escape(user.username)}`",
            highlight=False,
        )


@app.command("list")
def list_command(json_out: bool = typer.Option(False, "--json", help="JSON lines.")) -> None:
    """List users, their roles and whether they are active."""
    ctx = app_context()
    with ctx.store.engine.connect() as conn:
        found = users.list_users(conn, ctx.actor)
    if json_out:
        for u in found:
            emit_json(u.as_dict())
        return
    table = Table("username", "name", "role", "active", "created", "by")
    for u in found:
        table.add_row(
            u.username,
            u.full_name or "",
            u.role,
            "yes" if u.active else "disabled",
            (iso_utc(u.created_at) or "")[:16],
            u.created_by or "",
        )
    console.print(table)


@app.command("disable")
def disable_command(
    username: str = typer.Argument(..., help="The user to disable.", show_default=False),
) -> None:
    """Disable a user and end their sessions (their audit history stays)."""
    ctx = app_context()
    with ctx.store.engine.begin() as conn:
        users.disable_user(conn, ctx.actor, username)
    console.print(f"disabled {escape(username)}; their sessions are ended", highlight=False)


@app.command("passwd")
def passwd_command(
    username: str = typer.Argument(..., help="Whose password.", show_default=False),
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="Read from standard input: the new password, one line (users changing their "
        "own password without user.manage: the current one first, then the new one).",
    ),
) -> None:
    """Set a password: admins for anyone, everyone else for themselves."""
    ctx = app_context()
    actor = ctx.actor
    current = None
    if not allowed(actor, "user.manage"):
        current = _read_password(password_stdin, "Current password")
    password = _read_password(password_stdin, "New password", confirm=not password_stdin)
    with ctx.store.engine.begin() as conn:
        users.set_password(conn, actor, username, password, current_password=current)
    console.print(f"changed the password of {escape(username)}", highlight=False)


def login_command(
    username: str = typer.Argument(..., help="Your username.", show_default=False),
    password_stdin: bool = _PASSWORD_STDIN,
    json_out: bool = typer.Option(False, "--json", help="Write JSON."),
) -> None:
    """Log in: check the password and keep a session token in RAKSHA_HOME/session (0600)
    for the next 12 hours."""
    ctx = app_context()
    ctx.allow_without_login()
    password = _read_password(password_stdin)
    store = ctx.store
    path = ctx.settings.session_file
    old = _saved_token(path)
    with store.engine.begin() as conn:
        if not users.any_users(conn):
            raise UsageError(
                "this store has no users yet (set-up mode), so there is nobody to log in "
                "as; add the first admin with `raksha user add NAME --role admin`"
            )
        token = users.login(conn, username, password, client="cli")
        session = users.session_for_token(conn, token)
    users.write_session_file(path, token)
    if old and old != token:
        with store.engine.begin() as conn:
            users.logout(conn, old)  # the session this login replaces on this machine
    if session is None:  # pragma: no cover - a session just made is live
        raise UsageError("the new session ended at once; check the system clock")
    until = iso_utc(session.expires_at) or ""
    if json_out:
        emit_json(
            {
                "username": session.actor.username,
                "role": session.actor.role,
                "expires_at": until,
                "session_file": str(path),
            }
        )
    else:
        console.print(
            f"logged in as {escape(session.actor.username)} ({session.actor.role}) until "
            f"{until[:16].replace('T', ' ')} UTC",
            highlight=False,
        )
    if ctx.settings.session_token:
        err_console.print(
            "note: RAKSHA_SESSION is set and is used instead of this login; unset it",
            highlight=False,
        )


def _saved_token(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def logout_command() -> None:
    """Log out: end the session and forget its token."""
    ctx = app_context()
    ctx.allow_without_login()
    token = ctx.session_token()
    if token is None:
        console.print("nobody is logged in here")
        return
    with ctx.store.engine.begin() as conn:
        ended = users.logout(conn, token)
    if ctx.settings.session_token:
        console.print(
            "ended the RAKSHA_SESSION session; unset RAKSHA_SESSION"
            if ended
            else "the RAKSHA_SESSION session had already ended; unset RAKSHA_SESSION"
        )
        return
    ctx.settings.session_file.unlink(missing_ok=True)
    console.print("logged out" if ended else "the session had already ended; forgot it")


def whoami_command(json_out: bool = typer.Option(False, "--json", help="Write JSON.")) -> None:
    """Say who this machine's commands act as, and until when."""
    ctx = app_context()
    actor = ctx.actor
    session = ctx.session
    expires = iso_utc(session.expires_at) if session else None
    full_name = None
    if not actor.setup:
        with ctx.store.engine.connect() as conn:
            full_name = users.find_user(conn, actor.username).full_name
    if json_out:
        emit_json(
            {
                "username": actor.username,
                "role": actor.role,
                "full_name": full_name,
                "setup": actor.setup,
                "expires_at": expires,
            }
        )
        return
    if actor.setup:
        console.print(
            "nobody: this store has no users yet (set-up mode, everything is allowed); add "
            "the first admin with `raksha user add NAME --role admin`"
        )
        return
    name = f", {escape(full_name)}" if full_name else ""
    console.print(
        f"{escape(actor.username)} ({actor.role}{name}), logged in until "
        f"{(expires or '')[:16].replace('T', ' ')} UTC",
        highlight=False,
    )
