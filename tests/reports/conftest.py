"""Fixtures of the report tests: a court case built by a real scan, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from raksha.settings import Settings
from tests.reports.court_case import CourtCase, build_court_case


@pytest.fixture
def court_case(env_for: Settings, tmp_path: Path) -> CourtCase:
    """The case of ``court_case.py``, scanned into the test store (SQLite, then PostgreSQL)."""
    return build_court_case(env_for, tmp_path / "build")
