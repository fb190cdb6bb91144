"""Alembic environment: runs migrations on the engine Raksha hands it (never a URL in a file)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from raksha.store.models import Base

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):  # pragma: no cover - misuse guard
    raise RuntimeError("run migrations through raksha.store.db.upgrade()")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
