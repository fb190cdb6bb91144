"""Shared fixtures: a real store on SQLite and on PostgreSQL, isolated per test.

PostgreSQL tests use the server named by RAKSHA_TEST_POSTGRES_URL (an admin URL; each
test session creates its own database there and drops it at the end). Without it they
are skipped, unless RAKSHA_TEST_REQUIRE_POSTGRES=1 (CI), when a missing server or a run
that executed no PostgreSQL test fails the suite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from raksha.settings import Settings
from raksha.store.case_models import legal_sections_table
from raksha.store.db import Store

PG_URL = os.environ.get("RAKSHA_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("RAKSHA_TEST_REQUIRE_POSTGRES") == "1"
_pg_tests_run = 0
#: The legal sections migration 0008 seeds (truncation empties the table).
_SEEDED_SECTIONS: tuple[tuple[str, str], ...] = import_module(
    "raksha.store.migrations.versions.0008_cases"
).DEFAULT_SECTIONS


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; yields its URL."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("RAKSHA_TEST_REQUIRE_POSTGRES=1 but RAKSHA_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests need RAKSHA_TEST_POSTGRES_URL")
    admin_url = make_url(PG_URL)
    name = f"raksha_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at {admin_url.render_as_string()} is required: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :n AND pid <> pg_backend_pid()"
            ),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _truncate_all(store: Store) -> None:
    with store.engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename NOT IN ('alembic_version', 'store_meta')"
                )
            )
        ]
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        conn.execute(
            text("UPDATE store_meta SET value = :v WHERE key = 'store_id'"), {"v": uuid.uuid4().hex}
        )
        # Facts about the data (e.g. what the network graph was built from) go with it.
        conn.execute(text("DELETE FROM store_meta WHERE key <> 'store_id'"))
        # Rows the migrations seed come back, as in a fresh store.
        conn.execute(
            insert(legal_sections_table),
            [{"code": c, "title": t, "active": True} for c, t in _SEEDED_SECTIONS],
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a clean store, once on SQLite and once on PostgreSQL."""
    home = tmp_path / "home"
    if request.param == "sqlite":
        return Settings(home=home, database_url=f"sqlite:///{home / 'raksha.db'}")
    global _pg_tests_run  # noqa: PLW0603
    url = request.getfixturevalue("postgres_database")
    settings = Settings(home=home, database_url=url)
    store = Store.open(settings)
    _truncate_all(store)
    store.close()
    _pg_tests_run += 1
    return settings


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.open(settings)
    yield s
    s.close()


@pytest.fixture
def env_for(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point RAKSHA_HOME / RAKSHA_DATABASE_URL at the test store (for CLI tests)."""
    monkeypatch.setenv("RAKSHA_HOME", str(settings.home))
    if settings.is_sqlite:
        monkeypatch.delenv("RAKSHA_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("RAKSHA_DATABASE_URL", settings.database_url)
    return settings


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI, a run where no PostgreSQL test ran is a failure, not a quiet success."""
    if REQUIRE_PG and _pg_tests_run == 0 and exitstatus == 0 and session.testscollected:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print("\nRAKSHA_TEST_REQUIRE_POSTGRES=1 but no PostgreSQL test ran")
