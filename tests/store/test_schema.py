"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from raksha.errors import StoreError
from raksha.settings import Settings
from raksha.store.db import Store, store_id
from raksha.store.models import Base


def test_migrated_schema_matches_models(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_opening_twice_keeps_data_and_store_id(settings: Settings) -> None:
    first = Store.open(settings)
    sid = store_id(first)
    first.close()
    second = Store.open(settings)
    assert store_id(second) == sid
    second.close()


def test_unreachable_database_is_one_clear_error(tmp_path) -> None:
    settings = Settings(home=tmp_path, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="RAKSHA_DATABASE_URL"):
        Store.open(settings)


def test_settings_from_env_defaults_and_overrides(tmp_path) -> None:
    s = Settings.from_env({"RAKSHA_HOME": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'raksha.db'}"
    assert s.index_dir == tmp_path / "index"
    pg = Settings.from_env(
        {"RAKSHA_HOME": str(tmp_path), "RAKSHA_DATABASE_URL": "postgresql://u@h/db"}
    )
    assert pg.database_url == "postgresql+psycopg://u@h/db"
    xdg = Settings.from_env({"XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert xdg.home == tmp_path / "xdg" / "raksha"
