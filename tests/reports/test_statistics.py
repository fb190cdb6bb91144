"""Operation statistics: the CSV's numbers are exact per district and overall (a case
registered in two districts counts once overall), and the PDF says the same."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from raksha.cases.actor import Actor
from raksha.errors import AccessDeniedError, NotFoundError
from raksha.reports import service
from raksha.reports.registry import verify_report
from raksha.store.db import Store
from tests.reports.court_case import OPERATION, CourtCase
from tests.reports.text import pdf_text

ADMIN = Actor.local_setup()
EXPECTED = [
    {"district": "Ernakulam", "places": "2", "done": "1", "not found": "1", "in progress": "0",
     "planned": "0", "arrests": "1", "cases registered": "1", "items seized": "2",
     "seized: laptop": "0", "seized: memory card": "1", "seized: phone": "1"},
    {"district": "Thrissur", "places": "1", "done": "1", "not found": "0", "in progress": "0",
     "planned": "0", "arrests": "2", "cases registered": "2", "items seized": "1",
     "seized: laptop": "1", "seized: memory card": "0", "seized: phone": "0"},
    {"district": "(all districts)", "places": "3", "done": "2", "not found": "1",
     "in progress": "0", "planned": "0", "arrests": "3", "cases registered": "2",
     "items seized": "3", "seized: laptop": "1", "seized: memory card": "1",
     "seized: phone": "1"},
]  # fmt: skip


def test_operation_csv_totals_are_exact(
    court_case: CourtCase, store: Store, tmp_path: Path
) -> None:
    stats, files = service.generate_operation_report(store, ADMIN, OPERATION, tmp_path)
    by_kind = {f.kind: Path(f.path) for f in files}
    assert set(by_kind) == {"operation-pdf", "operation-csv"}
    assert all(f.operation_id == court_case.operation_id and f.case_id is None for f in files)
    with by_kind["operation-csv"].open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows == EXPECTED
    assert stats.overall.as_dict()["items_by_kind"] == {"laptop": 1, "memory card": 1, "phone": 1}

    text = pdf_text(by_kind["operation-pdf"])
    assert "3 places, 3 arrested, 2 cases, 3 items seized" in text
    assert "Ernakulam 2 1 1 0 0 1 1 2 0 1 1" in text
    assert "(all districts) 3 2 1 0 0 3 2 3 1 1 1" in text
    assert stats.audit_head in text and "page 1 of 1" in text
    assert all(verify_report(store, p).ok for p in by_kind.values())


def test_operation_report_by_id_format_and_access(
    court_case: CourtCase, store: Store, tmp_path: Path
) -> None:
    _, files = service.generate_operation_report(
        store, ADMIN, str(court_case.operation_id), tmp_path, ["csv"]
    )
    assert [f.kind for f in files] == ["operation-csv"]
    with pytest.raises(NotFoundError):
        service.generate_operation_report(store, ADMIN, "Operation Nowhere", tmp_path)
    with pytest.raises(AccessDeniedError):
        service.generate_operation_report(store, Actor("a", "analyst", 5), OPERATION, tmp_path)
