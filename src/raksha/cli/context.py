"""What every command shares: settings, the store, output to people and to machines."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from raksha.cases.actor import Actor
from raksha.errors import AuthenticationError
from raksha.settings import Settings
from raksha.store.db import Store

if TYPE_CHECKING:
    from raksha.cases.users import SessionInfo

logger = logging.getLogger(__name__)

#: Progress, tables and messages for people go to stderr/stdout through these consoles;
#: ``--json`` output is written to stdout directly, one JSON document a line.
console = Console()
err_console = Console(stderr=True)


@dataclass
class AppContext:
    """Settings resolved once; the store opened on first use, and with it the acting user.

    Opening the store is where login is enforced, for every command at once: once the
    store has a user, no command reads or writes it without a live session. The few
    commands that must work before one exists (``raksha login``, ``raksha logout``) call
    :meth:`allow_without_login` before they touch the store.
    """

    settings: Settings = field(default_factory=Settings.from_env)
    _store: Store | None = None
    _actor: Actor | None = None
    _session: SessionInfo | None = None
    login_exempt: bool = False
    #: The command words being run ("case show"), for the role check of ``permissions``.
    command: str = ""

    def allow_without_login(self) -> None:
        """Let this command open the store without a session (it then has no actor)."""
        self.login_exempt = True

    @property
    def store(self) -> Store:
        if self._store is None:
            store = Store.open(self.settings)
            if not self.login_exempt:
                try:
                    self._resolve_actor(store)
                except BaseException:
                    store.close()
                    raise
            self._store = store
            if self.command and self._actor is not None and not self._actor.setup:
                from raksha.cli.permissions import check_command

                # After the store is kept, so that a refusal is written to the audit log.
                check_command(self._actor, self.command)
        return self._store

    @property
    def actor(self) -> Actor:
        """The user this command acts as: the logged-in user, or the set-up operator of a
        store that has no users yet (``raksha.cases.users``)."""
        store = self.store
        if self._actor is None:  # a login-exempt command asking after all
            self._resolve_actor(store)
        if self._actor is None:  # pragma: no cover - _resolve_actor sets it or raises
            raise AuthenticationError("log in with `raksha login USERNAME`")
        return self._actor

    @property
    def session(self) -> SessionInfo | None:
        """The live session the actor came from (``None`` in set-up mode)."""
        _ = self.actor  # resolves it
        return self._session

    def session_token(self) -> str | None:
        """``RAKSHA_SESSION`` if set, else the token ``raksha login`` wrote."""
        if self.settings.session_token:
            return self.settings.session_token
        path = self.settings.session_file
        try:
            token = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AuthenticationError(
                f"cannot read the session file {path} ({exc.strerror}); log in again with "
                "`raksha login USERNAME`"
            ) from exc
        return token or None

    def _resolve_actor(self, store: Store) -> None:
        from raksha.cases import users  # argon2 is loaded only by commands that need it

        with store.engine.connect() as conn:
            if not users.any_users(conn):
                self._actor = Actor.local_setup()
                return
            token = self.session_token()
            if token is None:
                raise AuthenticationError(
                    "nobody is logged in; log in with `raksha login USERNAME`"
                )
            session = users.session_for_token(conn, token)
        if session is None:
            where = "RAKSHA_SESSION" if self.settings.session_token else "the saved session"
            raise AuthenticationError(
                f"{where} has expired or was ended (or belongs to another database); "
                "log in with `raksha login USERNAME`"
            )
        self._session, self._actor = session, session.actor
        logger.debug("acting as %s (%s)", session.actor.username, session.actor.role)

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir

    def audit_command(self, command: str, argv: list[str], exit_code: int) -> None:
        """Append the "cli" audit entry for a command a logged-in user ran on the store."""
        actor = self._actor
        if self._store is None or actor is None or actor.setup:
            return
        from raksha.cases import audit

        with self._store.engine.begin() as conn:
            audit.record(
                conn,
                actor,
                "cli",
                details={"command": command, "argv": argv, "exit_code": exit_code},
            )

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


_context: AppContext | None = None


def app_context() -> AppContext:
    global _context  # noqa: PLW0603 - one context per process, like Click's own
    if _context is None:
        _context = AppContext()
    return _context


def current_context() -> AppContext | None:
    """The context if this process made one (never makes one)."""
    return _context


def reset_context() -> None:
    """Forget the context (tests run many commands in one process)."""
    global _context  # noqa: PLW0603
    if _context is not None:
        _context.close()
    _context = None


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def emit_json(obj: Any) -> None:
    """Write one JSON document on one line to stdout and flush (JSON lines for streams)."""
    sys.stdout.write(json.dumps(obj, default=_default, ensure_ascii=False) + "\n")
    sys.stdout.flush()
