"""Opening the database: engine, pragmas, migrations.

The embedded default is one SQLite file in WAL mode (readers never block the one writer);
a server setup points ``RAKSHA_DATABASE_URL`` at PostgreSQL. Either way the schema is
brought to the newest migration when the store is opened, so a fresh ``RAKSHA_HOME``
works without a separate set-up step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from raksha.errors import StoreError
from raksha.settings import Settings

logger = logging.getLogger(__name__)

MIGRATIONS = str(Path(__file__).with_name("migrations"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    """An engine for ``url`` with the pragmas and pool settings Raksha relies on."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there already)."""
    cfg = alembic_config(engine)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    logger.info("migrating database from %s to %s", current, head)
    command.upgrade(cfg, "head")


def describe_url(url: str) -> str:
    """The URL without a password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class Store:
    """The database behind a session of Raksha: engine, sessions, schema."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Store:
        """Open (and by default migrate) the database the settings name."""
        engine = create_db_engine(settings.database_url)
        try:
            if migrate:
                upgrade(engine)
            else:
                with engine.connect():
                    pass
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(
                f"cannot open the database at {describe_url(settings.database_url)}: "
                f"{exc.orig if hasattr(exc, 'orig') and exc.orig else exc}. "
                "Check RAKSHA_DATABASE_URL (or RAKSHA_HOME for the embedded database)."
            ) from exc
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()


def store_id(store: Store) -> str:
    """This database's own id (made by the first migration)."""
    from sqlalchemy import select

    from raksha.store.models import store_meta_table

    with store.engine.connect() as conn:
        value = conn.execute(
            select(store_meta_table.c.value).where(store_meta_table.c.key == "store_id")
        ).scalar()
    if value is None:  # pragma: no cover - the first migration always writes it
        raise StoreError("the database has no store id; was it migrated by Raksha?")
    return str(value)


def insert_ignoring_duplicates(conn: Connection, table: Table) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` for the connection's database.

    Every idempotent write goes through this: staging rows of an import, scan items and
    their matches (a retried or resumed batch stores nothing twice).
    """
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise StoreError(f"database dialect {conn.dialect.name!r} is not supported")
