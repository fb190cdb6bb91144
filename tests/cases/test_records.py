"""Case records on SQLite and PostgreSQL: fields and sections, the status order, accused,
linked referrals and tips, members, need to know, and an audit entry for every write and
every read."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select

from raksha.cases import audit, records
from raksha.cases.actor import Actor
from raksha.cases.sections import add_section, disable_section, list_sections
from raksha.errors import AccessDeniedError, NotFoundError, UsageError
from raksha.store.case_models import seizures_table
from raksha.store.db import Store
from raksha.store.intel_models import tips_table
from raksha.store.models import evidence_table, item_matches_table, items_table
from raksha.store.scan_repo import create_case as scan_create_case
from raksha.store.scan_repo import get_case
from tests.cases.case_fixtures import T0, person, referral, tip, user

SETUP = Actor.local_setup()
FIR = "FIR 112/2026"


def _case(store: Store, actor: Actor = SETUP, name: str = FIR, **kw: Any) -> dict[str, Any]:
    return records.create_case(store, actor, name, **kw)


def _actions(store: Store, **kw: Any) -> list[tuple[str, str, int | None]]:
    with store.engine.connect() as conn:
        return [
            (e["action"], e["actor"], e["case_id"])
            for e in reversed(audit.entries(conn, limit=1000, **kw))
        ]


def test_a_case_keeps_its_fields_and_refuses_unknown_sections(store: Store) -> None:
    sup = user(store, "sup1", "supervisor")
    case = _case(
        store,
        sup,
        "  FIR   112/2026 ",
        fir_number="112/2026",
        police_station="Cyber PS Pune",
        district="Pune",
        sections=["it act  s.67b", "POCSO s.15", "IT Act s.67B"],
        description="shares links in groups",
    )
    assert case["name"] == FIR and case["fir_number"] == "112/2026"
    assert (case["police_station"], case["district"]) == ("Cyber PS Pune", "Pune")
    assert case["sections"] == ["IT Act s.67B", "POCSO s.15"]  # as the list spells them, once
    assert case["status"] == "under observation" and case["created_by"] == "sup1"
    assert case["description"] == "shares links in groups"

    with pytest.raises(UsageError) as refused:
        _case(store, sup, "FIR 113/2026", sections=["IPC 420", "POCSO s.13"])
    message = str(refused.value)
    assert "'IPC 420'" in message and "'IT Act s.67B'" in message and "'POCSO s.14'" in message
    with pytest.raises(UsageError, match="exists already"):
        _case(store, sup, FIR)
    with pytest.raises(UsageError, match="needs a name"):
        _case(store, sup, "  ")
    # the scan path still finds it, and its own create_case still works
    assert get_case(store, FIR).id == case["id"]
    assert scan_create_case(store, "scanned only").name == "scanned only"


def test_sections_list_add_disable(store: Store) -> None:
    sup, inv = user(store, "sup1", "supervisor"), user(store, "inv1", "investigator")
    codes = [s["code"] for s in list_sections(store, inv)]
    assert codes == ["IT Act s.67", "IT Act s.67B", "POCSO s.13", "POCSO s.14", "POCSO s.15"]
    with pytest.raises(AccessDeniedError):
        add_section(store, inv, "BNS s.294", "Bharatiya Nyaya Sanhita 2023, s.294: obscenity")
    with pytest.raises(UsageError, match="needs its title"):
        add_section(store, sup, "BNS s.294")
    added = add_section(store, sup, "BNS s.294", "Bharatiya Nyaya Sanhita 2023, s.294")
    assert added == {
        "code": "BNS s.294",
        "title": "Bharatiya Nyaya Sanhita 2023, s.294",
        "active": True,
    }
    with pytest.raises(UsageError, match="already on the list"):
        add_section(store, sup, "bns s.294")
    old = _case(store, inv, sections=["BNS s.294", "IT Act s.67"])

    assert disable_section(store, sup, "it act s.67")["active"] is False
    with pytest.raises(UsageError, match="already disabled"):
        disable_section(store, sup, "IT Act s.67")
    with pytest.raises(NotFoundError):
        disable_section(store, sup, "IPC 420")
    with pytest.raises(UsageError, match="not an active legal section"):
        _case(store, inv, "FIR 2/2026", sections=["IT Act s.67"])
    # a case registered under it keeps it, and may keep it when its sections change
    updated = records.update_case(store, inv, old["id"], sections=["IT Act s.67", "POCSO s.15"])
    assert updated["sections"] == ["IT Act s.67", "POCSO s.15"]
    active = [s["code"] for s in list_sections(store, inv, include_disabled=False)]
    assert "IT Act s.67" not in active and "BNS s.294" in active
    assert add_section(store, sup, "IT Act s.67")["title"].startswith("Information Technology")
    actions = [a for a, _, _ in _actions(store, action="sections")]
    assert actions == ["sections.add", "sections.disable", "sections.enable"]


def test_update_changes_fields_and_audits_old_and_new(store: Store) -> None:
    inv = user(store, "inv1", "investigator")
    case = _case(store, inv, fir_number="112/2026", district="Pune")
    _case(store, inv, "FIR 9/2026")
    out = records.update_case(
        store, inv, "112/2026", name="FIR 112/2026 Cyber PS", district="", police_station="Cyber PS"
    )  # found by its FIR number
    assert out["name"] == "FIR 112/2026 Cyber PS" and out["district"] is None
    assert out["police_station"] == "Cyber PS" and out["updated_at"] is not None
    with pytest.raises(UsageError, match="exists already"):
        records.update_case(store, inv, case["id"], name="FIR 9/2026")
    with pytest.raises(UsageError, match="nothing to change"):
        records.update_case(store, inv, case["id"], police_station="Cyber PS")
    with pytest.raises(NotFoundError):
        records.update_case(store, inv, "no such case", district="Pune")
    with store.engine.connect() as conn:
        (entry,) = audit.entries(conn, action="case.update")
    assert entry["details"]["changes"] == {
        "name": {"old": FIR, "new": "FIR 112/2026 Cyber PS"},
        "police_station": {"old": None, "new": "Cyber PS"},
        "district": {"old": "Pune", "new": None},
    }


def test_status_moves_forward_freely_and_back_only_with_a_reason(store: Store) -> None:
    inv = user(store, "inv1", "investigator")
    case = _case(store, inv)
    assert records.set_status(store, inv, FIR, "fir_registered")["status"] == "FIR registered"
    moved = records.set_status(store, inv, FIR, "charge sheet filed")  # skipping "arrested"
    assert (moved["previous_status"], moved["status"]) == ("FIR registered", "charge sheet filed")
    with pytest.raises(UsageError, match="needs a reason"):
        records.set_status(store, inv, FIR, "arrested")
    with pytest.raises(UsageError, match="already"):
        records.set_status(store, inv, FIR, "Charge Sheet Filed")
    with pytest.raises(UsageError, match="unknown case status"):
        records.set_status(store, inv, FIR, "archived")
    back = records.set_status(store, inv, FIR, "arrested", reason="charge sheet returned by court")
    assert back["status"] == "arrested"
    records.set_status(store, inv, FIR, "closed")
    with pytest.raises(UsageError, match="needs a reason"):
        records.set_status(store, inv, FIR, "trial")

    history = records.show_case(store, inv, FIR)["status_history"]
    assert [(h["old"], h["new"], h["reason"]) for h in history] == [
        ("under observation", "FIR registered", None),
        ("FIR registered", "charge sheet filed", None),
        ("charge sheet filed", "arrested", "charge sheet returned by court"),
        ("arrested", "closed", None),
    ]
    assert all(h["by"] == "inv1" for h in history)
    with store.engine.connect() as conn:
        entries = audit.entries(conn, case_id=case["id"], action="case.status")
    assert [e["details"]["backwards"] for e in reversed(entries)] == [False, False, True, False]
    assert records.CASE_STATUSES == (
        "under observation",
        "FIR registered",
        "arrested",
        "charge sheet filed",
        "trial",
        "closed",
    )


def test_accused_links_members_and_show(store: Store) -> None:
    sup, inv = user(store, "sup1", "supervisor"), user(store, "inv1", "investigator")
    ana = user(store, "ana1", "analyst")
    case = _case(store, inv)
    ravi = person(
        store,
        "Ravi K.",
        [("telegram", "user_id", "777001"), ("whatsapp", "phone", "+919800000001")],
    )
    other = person(store, "Unknown 2")
    assert records.add_accused(store, inv, FIR, ravi, status="absconding")["label"] == "Ravi K."
    records.add_accused(store, inv, FIR, other)
    with pytest.raises(UsageError, match="already accused"):
        records.add_accused(store, inv, FIR, ravi)
    with pytest.raises(NotFoundError, match="no person 999"):
        records.add_accused(store, inv, FIR, 999)
    records.remove_accused(store, inv, FIR, other)
    with pytest.raises(NotFoundError, match="not accused"):
        records.remove_accused(store, inv, FIR, other)

    ref_id, follow_up = referral(store, "CT-1001"), tip(store)
    assert records.link(store, inv, FIR, referral="CT-1001")["target_id"] == ref_id
    linked = records.link(store, inv, FIR, tip=follow_up.lower())
    assert linked["tip_status"] == ["new", "linked"]
    with pytest.raises(UsageError, match="already linked"):
        records.link(store, inv, FIR, referral=ref_id)
    with pytest.raises(UsageError, match="exactly one"):
        records.link(store, inv, FIR)
    with pytest.raises(NotFoundError):
        records.link(store, inv, FIR, tip="T-2026-NOPE")

    with pytest.raises(AccessDeniedError):
        records.assign(store, inv, FIR, "ana1")  # only supervisors assign
    assert records.assign(store, sup, FIR, "ana1") == {
        "case_id": case["id"],
        "username": "ana1",
        "role": "analyst",
    }
    with pytest.raises(UsageError, match="already assigned"):
        records.assign(store, sup, FIR, "ana1")
    with pytest.raises(NotFoundError, match="no user"):
        records.assign(store, sup, FIR, "nobody")

    # evidence with items and hits, and two seizures
    with store.engine.begin() as conn:
        ev = conn.execute(
            insert(evidence_table).values(
                case_id=case["id"],
                kind="zip",
                source_path="/ev/phone.zip",
                root_locator="phone.zip",
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        item_ids = [
            conn.execute(
                insert(items_table).values(
                    evidence_id=ev,
                    scan_id=1,
                    locator=f"phone.zip > {n}.jpg",
                    locator_key=f"{n:064d}",
                    status="hashed",
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            for n in range(3)
        ]
        # two matches of one item (md5 and sha1) are one hit; a known-file match is none
        for ref_id, (item_id, kind, algorithm) in enumerate(
            ((item_ids[0], "reference", "md5"), (item_ids[0], "reference", "sha1"),
             (item_ids[1], "known", "md5")),
        ):  # fmt: skip
            conn.execute(
                insert(item_matches_table).values(
                    item_id=item_id,
                    ref_id=ref_id,
                    set_name=kind,
                    set_kind=kind,
                    algorithm=algorithm,
                    match_kind="exact",
                    distance=0,
                    ref_value="x",
                )
            )
    _seizures(store, case["id"], 2)

    shown = records.show_case(store, ana, case["id"])
    assert (shown["name"], shown["status"], shown["seizures"]) == (FIR, "under observation", 2)
    (accused,) = shown["accused"]
    assert (accused["person_id"], accused["label"], accused["status"]) == (
        ravi,
        "Ravi K.",
        "absconding",
    )
    assert {a["identifier"] for a in accused["accounts"]} == {"777001", "+919800000001"}
    (evidence,) = shown["evidence"]
    assert (evidence["items"], evidence["hits"]) == (3, 1)  # a known-file match is no hit
    assert [r["external_id"] for r in shown["referrals"]] == ["CT-1001"]
    assert [(t["follow_up"], t["status"]) for t in shown["tips"]] == [(follow_up, "linked")]
    assert [(m["username"], m["role"]) for m in shown["members"]] == [
        ("ana1", "analyst"),
        ("inv1", "investigator"),
    ]

    records.unlink(store, inv, FIR, tip=follow_up)
    with store.engine.connect() as conn:
        status = conn.execute(select(tips_table.c.status)).scalar_one()
    assert status == "triaged"  # no case links it any more
    with pytest.raises(NotFoundError, match="not linked"):
        records.unlink(store, inv, FIR, tip=follow_up)
    records.unassign(store, sup, FIR, "ana1")
    with pytest.raises(AccessDeniedError):
        records.show_case(store, ana, FIR)


def _seizures(store: Store, case_id: int, n: int, raid_target_id: int | None = None) -> None:
    with store.engine.begin() as conn:
        start = len(conn.execute(select(seizures_table.c.id)).all())
        for i in range(n):
            conn.execute(
                insert(seizures_table).values(
                    case_id=case_id,
                    raid_target_id=raid_target_id,
                    kind="phone",
                    seal_label=f"SEAL-{start + i}",
                    seized_at=T0,
                )
            )


def test_need_to_know(store: Store) -> None:
    inv, other = user(store, "inv1", "investigator"), user(store, "inv2", "investigator")
    sup, auditor = user(store, "sup1", "supervisor"), user(store, "aud1", "auditor")
    admin, ana = user(store, "adm1", "admin"), user(store, "ana1", "analyst")
    mine = _case(store, inv)
    theirs = _case(store, other, "FIR 200/2026")

    with pytest.raises(AccessDeniedError, match="not assigned"):
        records.show_case(store, other, FIR)
    with pytest.raises(AccessDeniedError):
        records.set_status(store, other, FIR, "FIR registered")
    with pytest.raises(AccessDeniedError):
        records.add_accused(store, other, mine["id"], person(store, "X"))
    assert [c["name"] for c in records.list_cases(store, inv)] == [FIR]
    assert [c["name"] for c in records.list_cases(store, other)] == ["FIR 200/2026"]
    for everyone in (sup, auditor):
        assert [c["id"] for c in records.list_cases(store, everyone)] == [mine["id"], theirs["id"]]
        assert records.show_case(store, everyone, FIR)["id"] == mine["id"]
    assert records.list_cases(store, admin) == [] and records.list_cases(store, ana) == []
    with pytest.raises(AccessDeniedError):
        records.show_case(store, admin, FIR)
    with pytest.raises(AccessDeniedError, match=r"case\.create"):
        _case(store, ana, "FIR 300/2026")
    with pytest.raises(AccessDeniedError, match=r"case\.write"):
        records.set_status(store, auditor, FIR, "FIR registered")  # auditors read only

    records.assign(store, sup, FIR, "inv2")
    assert [c["name"] for c in records.list_cases(store, other)] == [FIR, "FIR 200/2026"]
    records.set_status(store, other, FIR, "FIR registered")
    assert [c["name"] for c in records.list_cases(store, sup, status="fir registered")] == [FIR]


def test_every_write_and_read_is_audited(store: Store) -> None:
    inv, sup = user(store, "inv1", "investigator"), user(store, "sup1", "supervisor")
    user(store, "ana1", "analyst")
    case = _case(store, inv)
    pid = person(store, "Ravi K.")
    records.update_case(store, inv, FIR, district="Pune")
    records.set_status(store, inv, FIR, "FIR registered")
    records.add_accused(store, inv, FIR, pid)
    records.remove_accused(store, inv, FIR, pid)
    records.link(store, inv, FIR, referral=referral(store))
    records.unlink(store, inv, FIR, referral="CT-1001")
    records.assign(store, sup, FIR, "ana1")
    records.unassign(store, sup, FIR, "ana1")
    records.show_case(store, sup, FIR)
    records.list_cases(store, inv)
    with pytest.raises(AccessDeniedError):
        records.show_case(store, user(store, "inv2", "investigator"), FIR)
    cid = case["id"]
    assert _actions(store) == [
        ("case.create", "inv1", cid),
        ("case.update", "inv1", cid),
        ("case.status", "inv1", cid),
        ("case.accused.add", "inv1", cid),
        ("case.accused.remove", "inv1", cid),
        ("case.link", "inv1", cid),
        ("case.unlink", "inv1", cid),
        ("case.assign", "sup1", cid),
        ("case.unassign", "sup1", cid),
        ("case.show", "sup1", cid),
        ("case.list", "inv1", None),
    ]  # a refused read leaves no entry: nothing was read
    with store.engine.connect() as conn:
        assert audit.verify(conn).ok
        (listed,) = audit.entries(conn, action="case.list")
    assert listed["details"]["cases"] == [cid] and listed["role"] == "investigator"
