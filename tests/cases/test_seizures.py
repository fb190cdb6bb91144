"""Seizures on SQLite and PostgreSQL: fields, kinds, IMEI checks, unique seals, the first
custody event, links to evidence, access, and a hit traced back to device, place and
person."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from raksha.cases import audit
from raksha.cases.actor import Actor
from raksha.cases.custody import timeline
from raksha.cases.devices import (
    KINDS,
    InvalidImeiError,
    luhn_check_digit,
    normalise_kind,
    validate_imei,
)
from raksha.cases.seizures import (
    add_seizure,
    link_evidence,
    list_seizures,
    show_seizure,
    trace,
    trace_item,
)
from raksha.errors import AccessDeniedError, NotFoundError, UsageError
from raksha.services.hashsets import import_hashset
from raksha.store.case_models import case_members_table, users_table
from raksha.store.db import Store
from raksha.store.models import evidence_table, item_matches_table, items_table
from raksha.store.scan_repo import create_case, get_or_create_evidence
from tests.cases.exhibits import BAD_IMEI, IMEI, T0, extraction_zip, raid, scan

SETUP = Actor.local_setup()


def _phone(
    store: Store, seal: str = "CCPS/21/PH-01", case: str = "FIR 7/2026", **kw: Any
) -> dict[str, Any]:
    return add_seizure(store, SETUP, case, "phone", seal, **kw)


def test_a_seizure_keeps_every_field_and_starts_its_chain(store: Store) -> None:
    create_case(store, "FIR 7/2026")
    r = raid(store)
    s = add_seizure(
        store,
        SETUP,
        "FIR 7/2026",
        "Mobile",
        "  CCPS/21/PH-01 ",
        make="Samsung",
        model="SM-A125F",
        serial="R58N123",
        imei=[IMEI, "35-209900-176148-1"],
        seized_from="Ravi Kumar",
        seized_from_person_id=r.person_id,
        place="House 4, Ward 7",
        district="Pune",
        seized_at=T0,
        seized_by="SI Rao",
        raid_target_id=r.target_id,
        notes="screen cracked",
    )
    assert s["kind"] == "phone" and s["seal_label"] == "CCPS/21/PH-01"
    assert (s["make"], s["model"], s["serial"]) == ("Samsung", "SM-A125F", "R58N123")
    assert s["imei"] == f"{IMEI}, 352099001761481"
    assert (s["seized_from"], s["seized_from_person_id"], s["person_label"]) == (
        "Ravi Kumar",
        r.person_id,
        "Ravi K.",
    )
    assert (s["place"], s["district"], s["seized_by"]) == ("House 4, Ward 7", "Pune", "SI Rao")
    assert s["seized_at"] == T0.isoformat() and s["raid_target_id"] == r.target_id
    assert s["notes"] == "screen cracked"
    with store.engine.connect() as conn:
        (event,) = timeline(conn, "ccps/21/ph-01")  # seals are found ignoring case
        last = audit.entries(conn, action="seizure.add")
    assert event["action"] == "seized" and event["by_whom"] == "SI Rao"
    assert event["at"] == T0.isoformat() and event["location"] == "House 4, Ward 7"
    assert event["verification"] == [] and event["flags"] == []
    assert last[0]["object_id"] == str(s["id"]) and last[0]["details"]["seal_label"] == (
        "CCPS/21/PH-01"
    )


def test_defaults_come_from_the_actor_the_clock_and_the_raid_target(store: Store) -> None:
    create_case(store, "FIR 7/2026")
    r = raid(store)
    s = _phone(store, raid_target_id=r.target_id)
    assert s["seized_by"] == "local" and s["seized_from"] is None
    assert (s["place"], s["district"]) == ("House 4, Ward 7, Sector 12", "Pune")
    assert s["seized_at"] is not None


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("laptop", "laptop"),
        ("Phone", "phone"),
        ("tablet", "tablet"),
        ("modem", "modem/router"),
        ("router", "modem/router"),
        ("modem/router", "modem/router"),
        ("hdd", "hard disk"),
        ("Hard-Disk", "hard disk"),
        ("sd", "memory card"),
        ("memory_card", "memory card"),
        ("pendrive", "USB drive"),
        ("usb drive", "USB drive"),
        ("sim", "SIM"),
        ("SIM card", "SIM"),
        ("other", "other"),
    ],
)
def test_kinds_and_their_aliases(typed: str, kind: str) -> None:
    assert normalise_kind(typed) == kind
    assert kind in KINDS


def test_an_unknown_kind_says_which_there_are() -> None:
    with pytest.raises(UsageError, match="modem/router"):
        normalise_kind("toaster")


def test_imei_is_fifteen_digits_with_a_luhn_check_digit() -> None:
    assert luhn_check_digit(IMEI[:-1]) == int(IMEI[-1])
    assert validate_imei("49-015420-323751-8") == IMEI
    with pytest.raises(InvalidImeiError, match=r"should be 8, not 9"):
        validate_imei(BAD_IMEI)
    with pytest.raises(InvalidImeiError, match=r"15 digits \(this has 14 digits\)"):
        validate_imei(IMEI[:-1])
    with pytest.raises(InvalidImeiError, match="other characters"):
        validate_imei("49015420323751X")


def test_a_bad_imei_or_kind_registers_nothing(store: Store) -> None:
    create_case(store, "FIR 7/2026")
    with pytest.raises(InvalidImeiError):
        _phone(store, imei=BAD_IMEI)
    with pytest.raises(InvalidImeiError, match="at most 2"):
        _phone(store, imei=[IMEI, IMEI, IMEI])
    with pytest.raises(UsageError):
        add_seizure(store, SETUP, "FIR 7/2026", "toaster", "S-1")
    assert list_seizures(store, SETUP) == []


def test_seal_labels_are_unique_ignoring_case(store: Store) -> None:
    create_case(store, "FIR 7/2026")
    create_case(store, "FIR 8/2026")
    first = _phone(store)
    with pytest.raises(UsageError, match=rf"already on seizure {first['id']}"):
        _phone(store, seal="ccps/21/ph-01", case="FIR 8/2026")
    with pytest.raises(UsageError, match="needs the label"):
        _phone(store, seal="  ")
    assert [s["seal_label"] for s in list_seizures(store, SETUP)] == ["CCPS/21/PH-01"]


def test_unknown_case_person_or_target_is_refused(store: Store) -> None:
    with pytest.raises(NotFoundError, match="case create"):
        _phone(store)
    create_case(store, "FIR 7/2026")
    with pytest.raises(NotFoundError, match="no person 99"):
        _phone(store, seized_from_person_id=99)
    with pytest.raises(NotFoundError, match="no raid target 99"):
        _phone(store, raid_target_id=99)


def test_list_by_case_and_by_operation(store: Store) -> None:
    create_case(store, "FIR 7/2026")
    create_case(store, "FIR 8/2026")
    r = raid(store)
    _phone(store, seized_at=T0 + timedelta(hours=1), raid_target_id=r.target_id)
    add_seizure(store, SETUP, "FIR 7/2026", "sd", "CCPS/21/SD-01", seized_at=T0)
    add_seizure(store, SETUP, "FIR 8/2026", "laptop", "CCPS/22/LP-01", seized_at=T0)
    assert [s["seal_label"] for s in list_seizures(store, SETUP, case="FIR 7/2026")] == [
        "CCPS/21/SD-01",
        "CCPS/21/PH-01",
    ]
    (by_op,) = list_seizures(store, SETUP, operation="Op Nirbhay")
    assert by_op["seal_label"] == "CCPS/21/PH-01"
    assert (by_op["evidence"], by_op["events"], by_op["last_event"]) == (0, 1, "seized")
    assert len(list_seizures(store, SETUP)) == 3
    with pytest.raises(NotFoundError):
        list_seizures(store, SETUP, operation="Op Nothing")


def _user(store: Store, name: str, role: str, case_id: int | None = None) -> Actor:
    with store.engine.begin() as conn:
        uid = conn.execute(
            insert(users_table).values(username=name, role=role, password_hash="x")
        ).inserted_primary_key[0]  # type: ignore[index]
        if case_id is not None:
            conn.execute(insert(case_members_table).values(case_id=case_id, user_id=uid))
    return Actor(name, role, int(uid))


def test_need_to_know(store: Store) -> None:
    case = create_case(store, "FIR 7/2026")
    other = create_case(store, "FIR 8/2026")
    inv = _user(store, "inv1", "investigator", case.id)
    analyst = _user(store, "an1", "analyst", case.id)
    outsider = _user(store, "inv2", "investigator", other.id)
    s = add_seizure(store, inv, "FIR 7/2026", "phone", "S-1")
    assert s["seized_by"] == "inv1"
    with pytest.raises(AccessDeniedError, match=r"seizure\.write"):
        add_seizure(store, analyst, "FIR 7/2026", "phone", "S-2")
    with pytest.raises(AccessDeniedError, match="not assigned"):
        add_seizure(store, outsider, "FIR 7/2026", "phone", "S-3")
    with pytest.raises(AccessDeniedError):
        show_seizure(store, outsider, "S-1")
    assert list_seizures(store, outsider) == []
    assert [x["seal_label"] for x in list_seizures(store, analyst)] == ["S-1"]
    assert show_seizure(store, analyst, "S-1")["seal_label"] == "S-1"


def _file_evidence(store: Store, case_id: int, path: str) -> int:
    return get_or_create_evidence(
        store,
        case_id,
        kind="file",
        source_path=path,
        root_locator=Path(path).name,
        container_sha256="0" * 64,
        container_size=1,
    ).id


def test_link_evidence(store: Store) -> None:
    case = create_case(store, "FIR 7/2026")
    other = create_case(store, "FIR 8/2026")
    s = _phone(store)
    second = add_seizure(store, SETUP, "FIR 7/2026", "sd", "S-SD")
    evidence_id = _file_evidence(store, case.id, "/evidence/phone.zip")
    elsewhere = _file_evidence(store, other.id, "/evidence/other.zip")
    assert link_evidence(store, SETUP, "CCPS/21/PH-01", evidence_id)["linked"] is True
    assert link_evidence(store, SETUP, s["id"], evidence_id)["linked"] is False
    with pytest.raises(UsageError, match="already linked to seizure 'CCPS/21/PH-01'"):
        link_evidence(store, SETUP, second["id"], evidence_id)
    with pytest.raises(UsageError, match="belongs to case 'FIR 7/2026', not 'FIR 8/2026'"):
        link_evidence(store, SETUP, "CCPS/21/PH-01", elsewhere)
    with pytest.raises(NotFoundError, match="no evidence 999"):
        link_evidence(store, SETUP, "CCPS/21/PH-01", 999)
    with pytest.raises(NotFoundError, match="no seizure with the seal 'nope'"):
        link_evidence(store, SETUP, "nope", evidence_id)
    with store.engine.connect() as conn:
        linked = conn.execute(
            select(evidence_table.c.seizure_id).where(evidence_table.c.id == evidence_id)
        ).scalar()
        entries = audit.entries(conn, action="evidence.link")
    assert linked == s["id"] and len(entries) == 1


def test_a_hit_traces_back_to_device_place_and_person(store: Store, tmp_path: Path) -> None:
    create_case(store, "FIR 7/2026")
    r = raid(store)
    archive, refs = extraction_zip(tmp_path)
    import_hashset(store, refs, name="ref")
    s = _phone(
        store,
        make="Samsung",
        model="SM-A125F",
        imei=IMEI,
        seized_from="Ravi Kumar",
        seized_from_person_id=r.person_id,
        place="House 4, Ward 7",
        district="Pune",
        seized_at=T0,
        seized_by="SI Rao",
        raid_target_id=r.target_id,
    )
    result = scan(store, tmp_path, "FIR 7/2026", archive)
    link_evidence(store, SETUP, s["seal_label"], result.evidence.id)
    with store.engine.connect() as conn:
        item_id = (
            conn.execute(
                select(items_table.c.id)
                .join(item_matches_table, item_matches_table.c.item_id == items_table.c.id)
                .order_by(items_table.c.id)
            )
            .scalars()
            .first()
        )
        assert item_id is not None
        t = trace_item(conn, item_id)
    assert t["item"]["locator"].startswith("phone-extraction.zip > ")
    assert len(t["item"]["sha256"]) == 64 and t["matches"][0]["set_name"] == "ref"
    assert t["evidence"]["id"] == result.evidence.id
    assert t["evidence"]["container_sha256"] == result.evidence.container_sha256
    seized = t["seizure"]
    assert (seized["kind"], seized["seal_label"], seized["make"], seized["model"]) == (
        "phone",
        "CCPS/21/PH-01",
        "Samsung",
        "SM-A125F",
    )
    assert seized["imei"] == IMEI and seized["serial"] is None
    assert seized["device"] == f"phone Samsung SM-A125F, IMEI {IMEI}, seal CCPS/21/PH-01"
    assert (seized["place"], seized["district"]) == ("House 4, Ward 7", "Pune")
    assert seized["seized_from"] == {"person_id": r.person_id, "name": "Ravi Kumar"}
    assert t["raid_target"]["id"] == r.target_id
    assert t["raid_target"]["operation"]["name"] == "Op Nirbhay"
    assert t["case"]["name"] == "FIR 7/2026"

    shown = show_seizure(store, SETUP, "CCPS/21/PH-01")
    (ev,) = shown["evidence"]
    assert (ev["id"], ev["hits"]) == (result.evidence.id, 2) and ev["items"] >= 4
    assert shown["chain"] == {"status": "ok", "events": 1, "reasons": []}

    assert trace(store, SETUP, item_id)["seizure"]["seal_label"] == "CCPS/21/PH-01"
    with store.engine.connect() as conn:
        assert audit.entries(conn, action="item.trace")[0]["object_id"] == str(item_id)
    with pytest.raises(NotFoundError, match="no item 0"):
        trace(store, SETUP, 0)


def test_an_item_from_unlinked_evidence_traces_to_its_case_only(
    store: Store, tmp_path: Path
) -> None:
    create_case(store, "FIR 7/2026")
    archive, _ = extraction_zip(tmp_path)
    scan(store, tmp_path, "FIR 7/2026", archive)
    with store.engine.connect() as conn:
        item_id = conn.execute(select(items_table.c.id)).scalars().first()
        assert item_id is not None
        t = trace_item(conn, item_id)
    assert t["seizure"] is None and t["raid_target"] is None
    assert t["case"]["name"] == "FIR 7/2026"
