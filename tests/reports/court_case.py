"""A case as a court would see it, built by code: a real scan of synthetic pictures into a
case, then the rows the case, seizure and custody services would have written, inserted
straight into the tables (reports read tables, not services).

Every picture is an abstract generated landscape; every name, number and place is made
up.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from raksha.cli.main import main
from raksha.hashing.crypto import digest_bytes
from raksha.hashing.pdq import pdq_from_bytes
from raksha.settings import Settings
from raksha.store.case_models import (
    case_accused_table,
    custody_events_table,
    operations_table,
    raid_target_cases_table,
    raid_targets_table,
    seizures_table,
)
from raksha.store.chat_models import accounts_table
from raksha.store.db import Store
from raksha.store.models import (
    cases_table,
    evidence_table,
    item_matches_table,
    items_table,
)
from raksha.store.network_models import people_table, person_accounts_table
from raksha.synthetic import images as synth
from tests.helpers import record, write_vics
from tests.scan.evidence import zip_of

CASE = "Cyber PS Kochi 112/2026"
FIR = "112/2026"
OTHER_CASE = "Cyber PS Thrissur 113/2026"
SET_NAME = "ICSE test set"
OPERATION = "Operation Test Dawn"
SEALS = ("KOC/112/2026/A1", "KOC/112/2026/A2")
IMEI = "356938035643809"
SERIAL = "SN-CARD-0042"
FLAG = "gap: 3 days between sealing and receipt at the lab with no custody record"
MISMATCH_FLAG = "mismatch: card-image.zip does not match the SHA-256 taken at ingest"
#: What the card's image read back as at the lab (made up: the check the report shows).
ALTERED = "0" * 63 + "1"


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


@dataclass
class CourtCase:
    """What was built, and what the database says the scan found."""

    settings: Settings
    case_id: int
    other_case_id: int
    operation_id: int
    evidence: dict[str, dict[str, Any]]  # root locator -> evidence row
    seizure_ids: list[int]
    hits: list[dict[str, Any]]  # one per match: item and match columns
    new_item_id: int  # a picture no set holds
    accused_label: str = "Test Accused One"
    account_ids: tuple[str, ...] = ("user5550001", "+919847012345")
    custody_actions: tuple[str, ...] = ("seized", "sealed", "received at lab", "imaged")
    flags: tuple[str, ...] = (FLAG, MISMATCH_FLAG)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def hit_items(self) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {}
        for h in self.hits:
            out.setdefault(h["item_id"], []).append(h)
        return out


def _cli(*args: str) -> list[dict[str, Any]]:
    """Run one command of the real CLI, as an officer would, and return its JSON lines."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(list(args))
    assert code == 0, (args, buf.getvalue())
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.startswith("{")]


def _evidence_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A reference set and two seized media: a phone (exact, resized, unknown pictures)
    and a memory card (another copy of the exact picture)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    pictures = [synth.photo_like(700 + i, 640, 480) for i in range(3)]
    originals = [synth.jpeg_bytes(p) for p in pictures]
    refs = [
        record(
            "REF-1",
            md5=digest_bytes(originals[0]).md5,
            pdq=pdq_from_bytes(originals[0]).value,
            category="1",
        ),
        record(
            "REF-2",
            md5=digest_bytes(originals[1]).md5,
            pdq=pdq_from_bytes(originals[1]).value,
            category="2",
        ),
    ]
    set_file = write_vics(tmp_path / "icse-test.json", refs)
    phone = tmp_path / "phone"
    (phone / "DCIM" / "Camera").mkdir(parents=True)
    (phone / "DCIM" / "Camera" / "IMG_0001.jpg").write_bytes(originals[0])
    (phone / "DCIM" / "Camera" / "IMG_0002.jpg").write_bytes(
        synth.jpeg_bytes(synth.resized(pictures[1], 0.5))
    )
    (phone / "DCIM" / "Camera" / "IMG_0003.jpg").write_bytes(originals[2])
    (phone / "notes.txt").write_text("shopping list\n")
    card = tmp_path / "card"
    (card / "DCIM").mkdir(parents=True)
    (card / "DCIM" / "copy.jpg").write_bytes(originals[0])
    return (
        set_file,
        zip_of(phone, tmp_path / "phone-image.zip"),
        zip_of(card, tmp_path / "card-image.zip"),
    )


def build_court_case(settings: Settings, tmp_path: Path) -> CourtCase:
    """Import the set, scan both media into the case with the real CLI, then add the
    case's record, accused, seizures, custody and operation rows."""
    set_file, phone, card = _evidence_files(tmp_path)
    _cli("hashset", "import", str(set_file), "--name", SET_NAME)
    _cli("case", "create", CASE)
    _cli("case", "create", OTHER_CASE)
    for source in (phone, card):
        _cli("scan", str(source), "--case", CASE, "--workers", "0", "--json")
    store = Store.open(settings)
    try:
        return _add_records(store, settings)
    finally:
        store.close()


def _add_records(store: Store, settings: Settings) -> CourtCase:
    with store.engine.begin() as conn:
        case_id = conn.execute(
            select(cases_table.c.id).where(cases_table.c.name == CASE)
        ).scalar_one()
        other_id = conn.execute(
            select(cases_table.c.id).where(cases_table.c.name == OTHER_CASE)
        ).scalar_one()
        conn.execute(
            update(cases_table)
            .where(cases_table.c.id == case_id)
            .values(
                fir_number=FIR,
                police_station="Cyber PS Kochi City",
                district="Ernakulam",
                sections=["IT Act 2000 s.67B", "POCSO Act 2012 s.15"],
                status="FIR registered",
            )
        )
        person = conn.execute(
            insert(people_table).values(label="Test Accused One")
        ).inserted_primary_key[0]  # type: ignore[index]
        for platform, kind, external in (
            ("telegram", "user", "user5550001"),
            ("whatsapp", "phone", "+919847012345"),
        ):
            account = conn.execute(
                insert(accounts_table).values(
                    platform=platform, id_kind=kind, external_id=external, scope=""
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                insert(person_accounts_table).values(
                    person_id=person, account_id=account, basis="own"
                )
            )
        conn.execute(
            insert(case_accused_table).values(case_id=case_id, person_id=person, status="arrested")
        )
        op = conn.execute(
            insert(operations_table).values(name=OPERATION, starts_at=at(1, 5))
        ).inserted_primary_key[0]  # type: ignore[index]
        targets = []
        for label, district, status, arrests in (
            ("House A", "Ernakulam", "done", 1),
            ("House B", "Ernakulam", "not found", 0),
            ("Shop C", "Thrissur", "done", 2),
        ):
            targets.append(
                conn.execute(
                    insert(raid_targets_table).values(
                        operation_id=op,
                        label=label,
                        district=district,
                        status=status,
                        arrests=arrests,
                        team=[],
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
        for target, case in ((targets[0], case_id), (targets[2], case_id), (targets[2], other_id)):
            conn.execute(insert(raid_target_cases_table).values(target_id=target, case_id=case))
        evidence = {
            r.root_locator: dict(r._mapping)
            for r in conn.execute(select(evidence_table).where(evidence_table.c.case_id == case_id))
        }
        seizures = []
        for seal, kind, extra, root in (
            (
                SEALS[0],
                "phone",
                {"make": "Testmake", "model": "T1", "imei": IMEI},
                "phone-image.zip",
            ),
            (SEALS[1], "memory card", {"make": "CardCo", "serial": SERIAL}, "card-image.zip"),
        ):
            sid = conn.execute(
                insert(seizures_table).values(
                    case_id=case_id,
                    raid_target_id=targets[0],
                    kind=kind,
                    seal_label=seal,
                    seized_from_person_id=person,
                    seized_from="Test Accused One",
                    place="House A, Test Road, Kochi",
                    district="Ernakulam",
                    seized_at=at(1, 6),
                    seized_by="SI Test Officer",
                    **extra,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            seizures.append(sid)
            conn.execute(
                update(evidence_table)
                .where(evidence_table.c.id == evidence[root]["id"])
                .values(seizure_id=sid)
            )
        conn.execute(
            insert(seizures_table).values(
                case_id=other_id,
                raid_target_id=targets[2],
                kind="laptop",
                seal_label="TSR/113/L1",
                seized_at=at(1, 7),
            )
        )
        phone_ev = evidence["phone-image.zip"]
        for action, day, by, where, checks, flags in (
            ("seized", 1, "SI Test Officer", "House A, Test Road, Kochi", [], []),
            ("sealed", 1, "SI Test Officer", "House A, Test Road, Kochi", [], []),
            ("received at lab", 4, "Lab Clerk Test", "Cyber Forensic Lab, Kochi", [], [FLAG]),
            (
                "imaged",
                5,
                "Analyst Test",
                "Cyber Forensic Lab, Kochi",
                [
                    {
                        "evidence_id": phone_ev["id"],
                        "source_path": phone_ev["source_path"],
                        "method": "sha256 of the file",
                        "expected": {"sha256": phone_ev["container_sha256"]},
                        "observed": {"sha256": phone_ev["container_sha256"]},
                        "result": "verified",
                        "detail": None,
                    }
                ],
                [],
            ),
        ):
            conn.execute(
                insert(custody_events_table).values(
                    seizure_id=seizures[0],
                    action=action,
                    at=at(day),
                    by_whom=by,
                    location=where,
                    verification=checks,
                    flags=flags,
                    recorded_by="test",
                )
            )
        card_ev = evidence["card-image.zip"]
        conn.execute(
            insert(custody_events_table).values(
                seizure_id=seizures[1],
                action="received at lab",
                at=at(4),
                by_whom="Lab Clerk Test",
                location="Cyber Forensic Lab, Kochi",
                verification=[
                    {
                        "evidence_id": card_ev["id"],
                        "source_path": card_ev["source_path"],
                        "method": "sha256 of the file",
                        "expected": {"sha256": card_ev["container_sha256"]},
                        "observed": {"sha256": ALTERED},
                        "result": "mismatch",
                        "detail": None,
                    }
                ],
                flags=[MISMATCH_FLAG],
                recorded_by="test",
            )
        )
        it, mt = items_table, item_matches_table
        hits = [
            dict(r._mapping)
            for r in conn.execute(
                select(
                    it.c.id.label("item_id"),
                    it.c.locator,
                    it.c.md5,
                    it.c.sha1,
                    it.c.sha256,
                    it.c.pdq,
                    mt.c.set_name,
                    mt.c.category,
                    mt.c.category_label,
                    mt.c.match_kind,
                    mt.c.algorithm,
                    mt.c.distance,
                    mt.c.ref_value,
                )
                .join(mt, mt.c.item_id == it.c.id)
                .join(evidence_table, evidence_table.c.id == it.c.evidence_id)
                .where(evidence_table.c.case_id == case_id, mt.c.set_kind == "reference")
                .order_by(it.c.id)
            )
        ]
        new_item = conn.execute(
            select(it.c.id).where(it.c.locator.endswith("IMG_0003.jpg"))
        ).scalar_one()
    return CourtCase(settings, case_id, other_id, op, evidence, seizures, hits, new_item)
