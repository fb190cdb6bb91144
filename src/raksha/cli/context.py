"""What every command shares: settings, the store, output to people and to machines."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from raksha.cases.actor import Actor
from raksha.settings import Settings
from raksha.store.db import Store

#: Progress, tables and messages for people go to stderr/stdout through these consoles;
#: ``--json`` output is written to stdout directly, one JSON document a line.
console = Console()
err_console = Console(stderr=True)


@dataclass
class AppContext:
    """Settings resolved once; the store opened on first use."""

    settings: Settings = field(default_factory=Settings.from_env)
    _store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings)
        return self._store

    @property
    def actor(self) -> Actor:
        """The user this command acts as (login and sessions: ``raksha.cases.users``)."""
        return Actor.local_setup()

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


_context: AppContext | None = None


def app_context() -> AppContext:
    global _context  # noqa: PLW0603 - one context per process, like Click's own
    if _context is None:
        _context = AppContext()
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
