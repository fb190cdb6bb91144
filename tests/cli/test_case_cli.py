"""``raksha case`` and ``raksha operation`` end to end, in process, on both databases:
round trips with --json, the exit codes of refusals, and need to know with real logins."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from raksha.cli.main import main
from raksha.settings import Settings
from raksha.store.db import Store
from tests.cases.case_fixtures import person, referral, tip

PASSWORD = "correct horse battery"


@pytest.fixture
def db(env_for: Settings) -> Iterator[Store]:
    """The CLI's store, opened beside it to add rows the CLI does not make."""
    store = Store.open(env_for)
    yield store
    store.close()


@pytest.fixture
def cli(
    env_for: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """``cli(*args, stdin=...)`` -> (exit code, JSON lines, all text)."""
    monkeypatch.delenv("RAKSHA_SESSION", raising=False)

    def run(*args: str, stdin: str | None = None) -> tuple[int, list[dict[str, Any]], str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return code, lines, out + err

    return run


def test_case_round_trip(cli: Any, db: Store) -> None:
    code, out, text = cli(
        "case", "create", "FIR 112/2026", "--fir", "112/2026", "--station", "Cyber PS Pune",
        "--district", "Pune", "--section", "IT Act s.67B", "--section", "pocso s.15",
        "--description", "group admin", "--json",
    )  # fmt: skip
    assert code == 0, text
    case = out[0]
    assert (case["fir_number"], case["police_station"], case["district"]) == (
        "112/2026",
        "Cyber PS Pune",
        "Pune",
    )
    assert case["sections"] == ["IT Act s.67B", "POCSO s.15"]
    assert case["status"] == "under observation"
    code, _, text = cli("case", "create", "FIR 113/2026", "--section", "IPC 420")
    assert code == 2 and "IPC 420" in text and "IT Act s.67B" in text
    assert cli("case", "create", "only a name")[0] == 0  # as before: a name is enough

    code, out, _ = cli("case", "update", "112/2026", "--district", "Pune City", "--json")
    assert code == 0 and out[0]["district"] == "Pune City"
    code, out, _ = cli("case", "status", "FIR 112/2026", "arrested", "--json")
    assert code == 0 and (out[0]["previous_status"], out[0]["status"]) == (
        "under observation",
        "arrested",
    )
    code, _, text = cli("case", "status", "FIR 112/2026", "FIR registered")
    assert code == 2 and "--reason" in text
    assert cli("case", "status", "FIR 112/2026", "FIR registered", "--reason", "typo")[0] == 0
    assert cli("case", "status", "FIR 112/2026", "nonsense")[0] == 2

    pid = person(db, "Ravi K.", [("telegram", "user_id", "777001")])
    code, out, _ = cli("case", "accused", "add", "FIR 112/2026", str(pid), "--json")
    assert code == 0 and out[0]["label"] == "Ravi K."
    assert cli("case", "accused", "add", "FIR 112/2026", "999")[0] == 3
    ref_id, follow_up = referral(db), tip(db)
    assert cli("case", "link", "FIR 112/2026", "--referral", str(ref_id))[0] == 0
    code, out, _ = cli("case", "link", "FIR 112/2026", "--tip", follow_up, "--json")
    assert code == 0 and out[0]["tip_status"] == ["new", "linked"]
    assert cli("case", "link", "FIR 112/2026")[0] == 2

    code, out, _ = cli("case", "show", str(case["id"]), "--json")
    shown = out[0]
    assert code == 0 and shown["status"] == "FIR registered"
    assert [a["accounts"][0]["identifier"] for a in shown["accused"]] == ["777001"]
    assert [r["id"] for r in shown["referrals"]] == [ref_id]
    assert [t["follow_up"] for t in shown["tips"]] == [follow_up]
    code, _, text = cli("case", "show", "FIR 112/2026")
    assert code == 0 and "Ravi K." in text and "777001" in text and "FIR registered" in text
    assert cli("case", "show", "no such case")[0] == 3

    code, out, _ = cli("case", "list", "--json")
    assert code == 0 and [c["name"] for c in out] == ["FIR 112/2026", "only a name"]
    assert out[0]["accused"] == 1 and out[0]["evidence"] == 0
    code, out, _ = cli("case", "list", "--status", "FIR registered", "--json")
    assert [c["name"] for c in out] == ["FIR 112/2026"]
    code, _, text = cli("case", "list")
    assert code == 0 and "arrested" not in text and "112/2026" in text

    assert cli("case", "unlink", "FIR 112/2026", "--tip", follow_up)[0] == 0
    assert cli("case", "accused", "remove", "FIR 112/2026", str(pid))[0] == 0
    assert cli("case", "accused", "remove", "FIR 112/2026", str(pid))[0] == 3


def test_sections_commands(cli: Any, db: Store) -> None:
    code, out, _ = cli("case", "sections", "list", "--json")
    assert code == 0 and "POCSO s.14" in [s["code"] for s in out]
    code, out, _ = cli(
        "case",
        "sections",
        "add",
        "BNS s.294",
        "--title",
        "Bharatiya Nyaya Sanhita, s.294",
        "--json",
    )
    assert code == 0 and out[0] == {
        "code": "BNS s.294",
        "title": "Bharatiya Nyaya Sanhita, s.294",
        "active": True,
    }
    assert cli("case", "sections", "disable", "POCSO s.14", "--json")[1][0]["active"] is False
    code, out, _ = cli("case", "sections", "list", "--active", "--json")
    assert "POCSO s.14" not in [s["code"] for s in out] and "BNS s.294" in [s["code"] for s in out]
    assert cli("case", "create", "c", "--section", "POCSO s.14")[0] == 2
    code, _, text = cli("case", "sections", "list")
    assert code == 0 and "BNS s.294" in text


def test_operation_round_trip(cli: Any, db: Store) -> None:
    assert cli("case", "create", "FIR 1/2026")[0] == 0
    assert cli("case", "create", "FIR 2/2026")[0] == 0
    code, out, _ = cli("operation", "create", "Op Nirbhay", "--start", "2026-03-01T05:00", "--json")
    assert code == 0 and out[0]["starts_at"] == "2026-02-28T23:30:00+00:00"  # IST to UTC
    assert cli("operation", "create", "Op Later", "--start", "not a time")[0] == 2
    pid = person(db, "Ravi K.")
    ids = {}
    for label, district in (("A", "Pune"), ("B", "Pune"), ("C", "Nashik"), ("D", "Nagpur")):
        code, out, text = cli(
            "operation", "target", "add", "Op Nirbhay", "--label", label, "--district", district,
            "--person", str(pid), "--lead", "Insp. Desai", "--team", "SI Rao", "--team", "HC Patil",
            "--at", "2026-03-01T06:00+05:30", "--json",
        )  # fmt: skip
        assert code == 0, text
        ids[label] = out[0]["id"]
    assert out[0]["team"] == ["SI Rao", "HC Patil"] and out[0]["status"] == "planned"
    assert out[0]["planned_at"] == "2026-03-01T00:30:00+00:00"

    for label, status in (("A", "done"), ("B", "not found"), ("C", "in progress")):
        code, out, _ = cli("operation", "target", "status", str(ids[label]), status, "--json")
        assert code == 0 and out[0]["status"] == status
    code, _, text = cli("operation", "target", "status", str(ids["A"]), "planned")
    assert code == 2 and "--reason" in text
    code, out, _ = cli(
        "operation", "target", "outcome", str(ids["A"]), "--arrests", "2",
        "--case", "FIR 1/2026", "--case", "FIR 2/2026", "--notes", "two held", "--json",
    )  # fmt: skip
    assert code == 0 and (out[0]["arrests"], out[0]["cases_registered"]) == (2, 2)
    assert cli("operation", "target", "outcome", str(ids["D"]), "--arrests", "1")[0] == 2
    assert cli("operation", "target", "outcome", "999", "--arrests", "1")[0] == 3

    code, out, _ = cli("operation", "show", "Op Nirbhay", "--json")
    board = out[0]
    assert code == 0 and [d["district"] for d in board["districts"]] == ["Nagpur", "Nashik", "Pune"]
    pune = board["districts"][2]["totals"]
    assert (pune["places"], pune["done"], pune["not found"], pune["arrests"]) == (2, 1, 1, 2)
    assert board["summary"] == "4 places, 2 arrested, 2 cases, 0 items seized"
    code, _, text = cli("operation", "show", "Op Nirbhay")
    assert code == 0 and "4 places, 2 arrested, 2 cases, 0 items seized" in text
    assert "Nashik: 1 place" in text and "total" in text
    code, out, _ = cli("operation", "list", "--json")
    assert code == 0 and [o["name"] for o in out] == ["Op Nirbhay"]
    assert out[0]["totals"]["in progress"] == 1
    assert cli("operation", "list")[0] == 0
    assert cli("operation", "show", "Op Nothing")[0] == 3


def _add_user(cli: Any, username: str, role: str) -> None:
    code, _, text = cli(
        "user", "add", username, "--role", role, "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0, text


def _log_in(cli: Any, username: str) -> None:
    code, _, text = cli("login", username, "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0, text


def test_need_to_know_with_real_logins(cli: Any, db: Store) -> None:
    _add_user(cli, "boss", "admin")
    _log_in(cli, "boss")
    for username, role in (
        ("sup1", "supervisor"),
        ("inv1", "investigator"),
        ("inv2", "investigator"),
    ):
        _add_user(cli, username, role)
    _log_in(cli, "inv1")
    assert cli("case", "create", "FIR 7/2026", "--json")[0] == 0
    assert cli("operation", "create", "Op X", "--start", "2026-03-01T05:00")[0] == 11

    _log_in(cli, "inv2")
    code, _, text = cli("case", "show", "FIR 7/2026")
    assert code == 11 and "not assigned" in text
    assert cli("case", "list", "--json")[1] == []
    assert cli("case", "assign", "FIR 7/2026", "inv2")[0] == 11  # only supervisors assign

    _log_in(cli, "sup1")
    assert [c["name"] for c in cli("case", "list", "--json")[1]] == ["FIR 7/2026"]
    code, out, _ = cli("case", "assign", "FIR 7/2026", "inv2", "--json")
    assert code == 0 and out[0]["username"] == "inv2"
    _log_in(cli, "inv2")
    code, out, _ = cli("case", "show", "FIR 7/2026", "--json")
    assert code == 0 and [m["username"] for m in out[0]["members"]] == ["inv1", "inv2"]
    _log_in(cli, "sup1")
    assert cli("case", "unassign", "FIR 7/2026", "inv2")[0] == 0
    _log_in(cli, "inv2")
    assert cli("case", "show", "FIR 7/2026")[0] == 11
