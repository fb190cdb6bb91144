"""Seized exhibits for tests, built by code: a person, an operation with a raid target, a
phone's extraction as a zip of synthetic pictures, scanned for real."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from raksha.scan.pipeline import ScanOptions, ScanPipeline, ScanResult
from raksha.store.case_models import operations_table, raid_targets_table
from raksha.store.db import Store
from raksha.store.network_models import people_table
from tests.scan.evidence import build, zip_of

#: A valid IMEI (Luhn) and the same with its check digit changed.
IMEI = "490154203237518"
BAD_IMEI = "490154203237519"

T0 = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)


@dataclass
class Raid:
    person_id: int
    operation_id: int
    target_id: int


def raid(store: Store) -> Raid:
    """A person, and an operation with one raid target where that person lives."""
    with store.engine.begin() as conn:
        person = conn.execute(insert(people_table).values(label="Ravi K.", created_at=T0))
        operation = conn.execute(
            insert(operations_table).values(name="Op Nirbhay", starts_at=T0, created_by="sup1")
        )
        person_id = int(person.inserted_primary_key[0])  # type: ignore[index]
        operation_id = int(operation.inserted_primary_key[0])  # type: ignore[index]
        target = conn.execute(
            insert(raid_targets_table).values(
                operation_id=operation_id,
                person_id=person_id,
                label="House 4, Ward 7",
                address="House 4, Ward 7, Sector 12",
                district="Pune",
                police_station="Cyber PS Pune",
                team_lead="Insp. Desai",
                team=["SI Rao", "HC Patil"],
                status="done",
            )
        )
        target_id = int(target.inserted_primary_key[0])  # type: ignore[index]
    return Raid(person_id, operation_id, target_id)


def extraction_zip(tmp_path: Path, name: str = "phone-extraction.zip") -> tuple[Path, Path]:
    """(a zip of a phone-like folder of synthetic pictures, a reference set of two of them)."""
    ev = build(tmp_path / "src", known=2, unrelated=1, others=1)
    return zip_of(ev.root, tmp_path / name), ev.set_file


def scan(store: Store, tmp_path: Path, case: str, source: Path, **kw: object) -> ScanResult:
    options = ScanOptions(workers=0, **kw)  # type: ignore[arg-type]
    return ScanPipeline(store, tmp_path / "index", options).run(case, source)
