"""Every command has a role rule (one table, like the web console's), on both databases:
an auditor cannot scan, an analyst not assigned to a case sees none of its hits, and a
logged-in analyst's identity decisions are recorded as theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from raksha.cases.access import PERMISSIONS
from raksha.cli.main import app
from raksha.cli.permissions import OPEN, SERVICE, permission_for
from raksha.settings import Settings
from tests.cli.test_auth_cli import add_user, cli, log_in  # noqa: F401 - the fixture


def _commands(group: Any, prefix: str = "") -> list[str]:
    out = []
    for name, sub in getattr(group, "commands", {}).items():
        full = f"{prefix} {name}".strip()
        out.extend(_commands(sub, full) if hasattr(sub, "commands") else [full])
    return out


def test_every_command_has_a_role_rule() -> None:
    commands = _commands(typer.main.get_command(app))
    assert len(commands) > 60
    rules = {c: permission_for(c) for c in commands}
    assert [c for c, rule in rules.items() if rule is None] == []
    assert all(r in (OPEN, SERVICE) or r in PERMISSIONS for r in rules.values())


def test_roles_and_need_to_know_hold_for_every_command(
    cli: Any,  # noqa: F811 - the fixture imported above
    env_for: Settings,
    tmp_path: Path,
) -> None:
    add_user(cli, "boss", "admin")
    assert log_in(cli, "boss")[0] == 0
    for username, role in (
        ("ravi", "supervisor"),
        ("meera", "auditor"),
        ("asha", "analyst"),
    ):
        add_user(cli, username, role)
    assert log_in(cli, "ravi")[0] == 0
    assert cli("case", "create", "FIR 9/2026")[0] == 0
    evidence = tmp_path / "ev"
    evidence.mkdir()
    (evidence / "a.txt").write_text("nothing known")

    assert log_in(cli, "meera")[0] == 0
    code, _, text = cli("scan", str(evidence), "--case", "FIR 9/2026")
    assert code == 11 and "evidence.scan" in text
    assert cli("hits", "--case", "FIR 9/2026")[0] == 0  # auditors see every case

    assert log_in(cli, "asha")[0] == 0
    code, _, text = cli("hits", "--case", "FIR 9/2026")
    assert code == 11 and "not assigned to case" in text
    assert cli("evidence", "show", "--case", "FIR 9/2026")[0] == 11
    code, _, text = cli("person", "merge", "1", "2", "--reason", "same man", "--by", "ravi")
    assert code == 2 and "logged in as asha" in text

    assert log_in(cli, "ravi")[0] == 0
    assert cli("case", "assign", "FIR 9/2026", "asha")[0] == 0
    assert log_in(cli, "asha")[0] == 0
    assert cli("scan", str(evidence), "--case", "FIR 9/2026")[0] == 0
    assert cli("hits", "--case", "FIR 9/2026")[0] == 0


def test_the_command_table_is_documented() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    from raksha.cli.permissions import CLI_PERMISSIONS

    for command, rule in CLI_PERMISSIONS.items():
        line = next((ln for ln in page.splitlines() if ln.startswith(f"| `raksha {command}`")), "")
        assert line, command
        if rule not in (OPEN, SERVICE):
            assert f"`{rule}`" in line, command
