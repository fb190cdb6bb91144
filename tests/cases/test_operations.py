"""Operations on SQLite and PostgreSQL: planning, the target-status rule, outcomes, and a
board whose totals per district and for the whole operation are exact."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from raksha.cases import audit, operations, records
from raksha.cases.actor import Actor
from raksha.errors import AccessDeniedError, NotFoundError, UsageError
from raksha.store.case_models import seizures_table
from raksha.store.db import Store
from tests.cases.case_fixtures import T0, person, user

OP = "Op Nirbhay"


def _seize(store: Store, target_id: int, n: int, kind: str = "phone") -> None:
    """``n`` seizures rows made at a raid target, inserted directly."""
    if not n:
        return
    with store.engine.begin() as conn:
        start = len(conn.execute(select(seizures_table.c.id)).all())
        conn.execute(
            insert(seizures_table),
            [
                {
                    "raid_target_id": target_id,
                    "kind": kind,
                    "seal_label": f"S-{start + i}",
                    "seized_at": T0,
                }
                for i in range(n)
            ],
        )


def _target(store: Store, sup: Actor, label: str, district: str, **kw: Any) -> int:
    return int(operations.add_target(store, sup, OP, label=label, district=district, **kw)["id"])


def test_planning_needs_a_supervisor_and_keeps_every_field(store: Store) -> None:
    sup, inv = user(store, "sup1", "supervisor"), user(store, "inv1", "investigator")
    with pytest.raises(AccessDeniedError, match=r"operation\.plan"):
        operations.create_operation(store, inv, OP, T0)
    op = operations.create_operation(store, sup, f"  {OP} ", T0, description="21 places")
    assert (op["name"], op["starts_at"], op["created_by"]) == (OP, T0.isoformat(), "sup1")
    with pytest.raises(UsageError, match="exists already"):
        operations.create_operation(store, sup, OP, T0)
    ravi = person(store, "Ravi K.")
    target = operations.add_target(
        store,
        sup,
        op["id"],
        label="House 4, Ward 7",
        district="Pune",
        address="House 4, Ward 7, Sector 12",
        police_station="Cyber PS Pune",
        person_id=ravi,
        team_lead="Insp. Desai",
        team=["SI Rao", " HC Patil ", ""],
        planned_at=T0 + timedelta(minutes=30),
    )
    assert target["status"] == "planned" and target["person_label"] == "Ravi K."
    assert (target["team_lead"], target["team"]) == ("Insp. Desai", ["SI Rao", "HC Patil"])
    assert target["planned_at"] == (T0 + timedelta(minutes=30)).isoformat()
    assert (target["address"], target["police_station"]) == (
        "House 4, Ward 7, Sector 12",
        "Cyber PS Pune",
    )
    default = operations.add_target(store, sup, OP, label="Shop 2", district="Nashik")
    assert default["planned_at"] == T0.isoformat()  # the operation's start
    with pytest.raises(AccessDeniedError):
        operations.add_target(store, inv, OP, label="x", district="Pune")
    with pytest.raises(NotFoundError, match="no person"):
        operations.add_target(store, sup, OP, label="x", district="Pune", person_id=999)
    with pytest.raises(NotFoundError, match="no operation"):
        operations.add_target(store, sup, "Op Nothing", label="x", district="Pune")
    with pytest.raises(UsageError, match="--district"):
        operations.add_target(store, sup, OP, label="x", district=" ")


def test_target_status_rule(store: Store) -> None:
    sup, inv = user(store, "sup1", "supervisor"), user(store, "inv1", "investigator")
    ana = user(store, "ana1", "analyst")
    operations.create_operation(store, sup, OP, T0)
    a = _target(store, sup, "A", "Pune")
    b = _target(store, sup, "B", "Pune")
    with pytest.raises(AccessDeniedError, match=r"operation\.update"):
        operations.set_target_status(store, ana, a, "in progress")
    at = T0 + timedelta(hours=1)
    moved = operations.set_target_status(store, inv, a, "in_progress", at=at)
    assert (moved["status"], moved["status_at"], moved["updated_by"]) == (
        "in progress",
        at.isoformat(),
        "inv1",
    )
    assert (
        operations.set_target_status(store, inv, a, "planned")["status"] == "planned"
    )  # called off
    operations.set_target_status(store, inv, a, "in progress")
    assert operations.set_target_status(store, inv, a, "Done")["status"] == "done"
    assert operations.set_target_status(store, inv, b, "not found")["status"] == "not found"
    with pytest.raises(UsageError, match="needs a reason"):
        operations.set_target_status(store, inv, a, "in progress")
    with pytest.raises(UsageError, match="already"):
        operations.set_target_status(store, inv, a, "done")
    with pytest.raises(UsageError, match="unknown target status"):
        operations.set_target_status(store, inv, a, "raided")
    with pytest.raises(NotFoundError, match="no raid target"):
        operations.set_target_status(store, inv, 999, "done")
    fixed = operations.set_target_status(
        store, inv, b, "done", reason="team reported the wrong house number"
    )
    assert fixed["status"] == "done"
    with store.engine.connect() as conn:
        entries = audit.entries(conn, action="operation.target.status")
    assert entries[0]["details"]["old"] == "not found"
    assert entries[0]["details"]["reason"] == "team reported the wrong house number"
    assert entries[-1]["details"]["at"] == at.isoformat()


def test_outcomes_need_a_raid_and_a_case_the_user_may_see(store: Store) -> None:
    sup, inv = user(store, "sup1", "supervisor"), user(store, "inv1", "investigator")
    other = user(store, "inv2", "investigator")
    operations.create_operation(store, sup, OP, T0)
    a = _target(store, sup, "A", "Pune")
    records.create_case(store, inv, "FIR 1/2026")
    records.create_case(store, other, "FIR 2/2026")
    with pytest.raises(UsageError, match="still planned"):
        operations.record_outcome(store, inv, a, arrests=1)
    operations.set_target_status(store, inv, a, "done")
    with pytest.raises(UsageError, match="negative"):
        operations.record_outcome(store, inv, a, arrests=-1)
    with pytest.raises(AccessDeniedError, match="not assigned"):
        operations.record_outcome(store, inv, a, arrests=1, cases=["FIR 2/2026"])
    with pytest.raises(NotFoundError):
        operations.record_outcome(store, inv, a, arrests=1, cases=["FIR 404/2026"])
    out = operations.record_outcome(
        store, inv, a, arrests=2, cases=["FIR 1/2026"], notes="two held"
    )
    assert (out["arrests"], out["notes"], out["cases_registered"]) == (2, "two held", 1)
    # arrests replace the last figure; cases add up (once each); notes stay unless given
    out = operations.record_outcome(store, sup, a, arrests=3, cases=["FIR 1/2026", "FIR 2/2026"])
    assert (out["arrests"], out["notes"], out["cases_registered"]) == (3, "two held", 2)
    assert [c["name"] for c in out["cases"]] == ["FIR 1/2026", "FIR 2/2026"]
    # a user who may not see a case still counts it, but is not shown its name
    board = operations.operation_board(store, inv, OP)
    (target,) = board["districts"][0]["targets"]
    assert target["cases_registered"] == 2 and [c["name"] for c in target["cases"]] == [
        "FIR 1/2026"
    ]
    with store.engine.connect() as conn:
        linked = audit.entries(conn, action="operation.target.case")
    assert [e["case_id"] for e in reversed(linked)] == [
        records.show_case(store, sup, name)["id"] for name in ("FIR 1/2026", "FIR 2/2026")
    ]


def test_the_board_totals_each_district_and_the_whole_operation(store: Store) -> None:
    sup, inv = user(store, "sup1", "supervisor"), user(store, "inv1", "investigator")
    ana = user(store, "ana1", "analyst")
    operations.create_operation(store, sup, OP, T0)
    cases = [records.create_case(store, inv, f"FIR {n}/2026")["name"] for n in range(1, 6)]
    # district: [(status, arrests, cases registered, items seized), ...]
    plan: dict[str, list[tuple[str, int, list[str], int]]] = {
        "Pune": [
            ("done", 2, [cases[0], cases[1]], 5),
            ("done", 1, [cases[1]], 2),  # the same case again: once in Pune
            ("not found", 0, [], 0),
        ],
        "Nashik": [("done", 1, [cases[2]], 3), ("in progress", 0, [], 1)],
        "Nagpur": [("done", 3, [cases[3], cases[4]], 4), ("planned", 0, [], 0)],
        "Thane": [("done", 0, [cases[0]], 1)],  # cases[0] again: counted once overall
    }
    for district, targets in plan.items():
        for i, (status, arrests, registered, items) in enumerate(targets):
            tid = _target(store, sup, f"{district} {i}", district)
            if status != "planned":
                operations.set_target_status(store, inv, tid, status)
                operations.record_outcome(store, inv, tid, arrests=arrests, cases=registered)
            _seize(store, tid, items)
    _seize(store, _other_operation_target(store, sup), 7)  # not this operation's

    board = operations.operation_board(store, ana, OP)
    got = {d["district"]: d["totals"] for d in board["districts"]}
    assert list(got) == ["Nagpur", "Nashik", "Pune", "Thane"]

    def totals(
        places: int, done: int, nf: int, ip: int, pl: int, ar: int, cr: int, it: int
    ) -> dict[str, int]:
        return {
            "places": places,
            "done": done,
            "not found": nf,
            "in progress": ip,
            "planned": pl,
            "arrests": ar,
            "cases_registered": cr,
            "items_seized": it,
        }

    assert got == {
        "Pune": totals(3, 2, 1, 0, 0, 3, 2, 7),
        "Nashik": totals(2, 1, 0, 1, 0, 1, 1, 4),
        "Nagpur": totals(2, 1, 0, 0, 1, 3, 2, 4),
        "Thane": totals(1, 1, 0, 0, 0, 0, 1, 1),
    }
    assert board["totals"] == totals(8, 5, 1, 1, 1, 7, 5, 16)
    assert board["summary"] == "8 places, 7 arrested, 5 cases, 16 items seized"
    pune = next(d for d in board["districts"] if d["district"] == "Pune")
    assert [t["items_seized"] for t in pune["targets"]] == [5, 2, 0]
    assert [t["cases"] for t in pune["targets"]][2] == []  # the analyst sees no case names
    assert [t["cases_registered"] for t in pune["targets"]] == [2, 1, 0]

    with store.engine.connect() as conn:
        op_id = operations.find_operation(conn, OP).id
        same = operations.operation_totals(conn, int(op_id))
    assert same["overall"] == board["totals"] and same["districts"]["Pune"] == got["Pune"]
    listed = {o["name"]: o for o in operations.list_operations(store, ana)}
    assert listed[OP]["summary"] == board["summary"]
    assert listed["Op Other"]["summary"] == "1 place, 0 arrested, 0 cases, 7 items seized"
    with pytest.raises(AccessDeniedError):
        operations.operation_board(store, Actor("adm1", "admin", None), OP)
    with store.engine.connect() as conn:
        reads = [e["action"] for e in audit.entries(conn, actor="ana1")]
    assert reads == ["operation.list", "operation.show"]


def _other_operation_target(store: Store, sup: Actor) -> int:
    operations.create_operation(store, sup, "Op Other", T0 - timedelta(days=30))
    return int(
        operations.add_target(store, sup, "Op Other", label="Elsewhere", district="Pune")["id"]
    )


def test_every_write_is_audited(store: Store) -> None:
    sup, inv = user(store, "sup1", "supervisor"), user(store, "inv1", "investigator")
    op = operations.create_operation(store, sup, OP, T0)
    tid = _target(store, sup, "A", "Pune")
    operations.set_target_status(store, inv, tid, "in progress")
    operations.record_outcome(store, inv, tid, arrests=1, notes="one held")
    with store.engine.connect() as conn:
        got = [(e["action"], e["actor"], e["object_id"]) for e in reversed(audit.entries(conn))]
        assert audit.verify(conn).ok
    assert got == [
        ("operation.create", "sup1", str(op["id"])),
        ("operation.target.add", "sup1", str(tid)),
        ("operation.target.status", "inv1", str(tid)),
        ("operation.target.outcome", "inv1", str(tid)),
    ]


def test_summary_line_words() -> None:
    one = dict.fromkeys(operations.TOTAL_KEYS, 1)
    assert operations.summary_line(one) == "1 place, 1 arrested, 1 case, 1 item seized"
    big = {**one, "places": 21, "arrests": 12, "cases_registered": 20, "items_seized": 47}
    assert operations.summary_line(big) == "21 places, 12 arrested, 20 cases, 47 items seized"
