"""Where Raksha keeps its data, read from the environment in one place.

``RAKSHA_HOME``
    The data directory. Default: ``$XDG_DATA_HOME/raksha``, else ``~/.local/share/raksha``.
    Holds the embedded SQLite database (``raksha.db``) and persisted indexes (``index/``).
``RAKSHA_DATABASE_URL``
    An SQLAlchemy URL for a server database, e.g.
    ``postgresql+psycopg://raksha@db.example/raksha``. When unset, the SQLite file under
    ``RAKSHA_HOME`` is used. ``postgresql://`` is accepted and means psycopg 3.
``RAKSHA_SESSION``
    A login token to act with instead of the one ``raksha login`` wrote to
    ``RAKSHA_HOME/session`` (for scripts; treat it like a password).
``RAKSHA_WEB_SECURE_COOKIES``
    ``1`` when ``raksha serve`` runs behind a TLS proxy: cookies get the Secure flag and
    responses HSTS even though the proxy talks plain HTTP to it.

Every setting is documented in ``docs/settings.md``; a test checks that the two agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: Environment variables Raksha reads, with a one-line description (``docs/settings.md``).
ENVIRONMENT: dict[str, str] = {
    "RAKSHA_HOME": "data directory (SQLite database, indexes)",
    "RAKSHA_DATABASE_URL": "SQLAlchemy URL of a PostgreSQL database instead of SQLite",
    "RAKSHA_SESSION": "login token to act with instead of the one in RAKSHA_HOME/session",
    "RAKSHA_WEB_SECURE_COOKIES": "1: the web console runs behind TLS (Secure cookies, HSTS)",
}


def default_home(environ: dict[str, str] | None = None) -> Path:
    """The data directory used when ``RAKSHA_HOME`` is not set."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "raksha"


def normalize_database_url(url: str) -> str:
    """Make ``postgresql://`` and ``postgres://`` use psycopg 3, which is what we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings; build with :meth:`from_env` or directly in tests."""

    home: Path
    database_url: str
    #: ``RAKSHA_SESSION``; kept out of the repr so it never lands in a log line.
    session_token: str | None = field(default=None, repr=False)
    #: ``RAKSHA_WEB_SECURE_COOKIES``: mark web cookies Secure even on plain HTTP (TLS proxy).
    web_secure_cookies: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if environ is None else environ
        home = (
            Path(env["RAKSHA_HOME"]).expanduser() if env.get("RAKSHA_HOME") else default_home(env)
        )
        url = env.get("RAKSHA_DATABASE_URL") or f"sqlite:///{home / 'raksha.db'}"
        return cls(
            home=home,
            database_url=normalize_database_url(url),
            session_token=env.get("RAKSHA_SESSION") or None,
            web_secure_cookies=env.get("RAKSHA_WEB_SECURE_COOKIES", "").strip().lower()
            in ("1", "true", "yes", "on"),
        )

    @property
    def index_dir(self) -> Path:
        """Where persisted matching indexes live."""
        return self.home / "index"

    @property
    def session_file(self) -> Path:
        """Where ``raksha login`` keeps this machine's token (mode 0600)."""
        return self.home / "session"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
