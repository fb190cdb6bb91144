"""Logging in through the CLI, on both databases: set-up mode until the first admin, then
no store command without a session (exit 12), roles enforced (exit 11), the session file
and RAKSHA_SESSION, a "cli" audit entry for every command a user runs, and
``raksha audit verify`` (exit 13 on a broken chain)."""

from __future__ import annotations

import io
import json
import stat
import sys
from typing import Any

import pytest
from sqlalchemy import delete

from raksha.cli.main import main
from raksha.settings import Settings
from raksha.store.case_models import audit_log_table
from raksha.store.db import Store
from tests.cases.test_audit import drop_append_only_triggers, restore_append_only_triggers

PASSWORD = "correct horse battery"


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


def add_user(cli: Any, username: str, role: str) -> None:
    code, _, text = cli(
        "user", "add", username, "--role", role, "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0, text


def log_in(cli: Any, username: str, password: str = PASSWORD) -> tuple[int, str]:
    code, _, text = cli("login", username, "--password-stdin", stdin=password + "\n")
    return code, text


def test_set_up_mode_then_every_store_command_needs_a_login(cli: Any, env_for: Settings) -> None:
    assert cli("groups")[0] == 0  # no users yet: set-up mode
    code, out, _ = cli("whoami", "--json")
    assert code == 0 and out[0]["setup"] is True
    code, _, text = cli("login", "boss", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 2 and "no users yet" in text
    code, _, text = cli(
        "user", "add", "ana", "--role", "analyst", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 2 and "first user of a store must be an admin" in text

    code, _, text = cli(
        "user", "add", "boss", "--role", "admin", "--name", "SP Cyber", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0 and "raksha login boss" in text
    for command in (["groups"], ["case", "list"], ["hits", "--case", "x"], ["whoami"]):
        code, _, text = cli(*command)
        assert code == 12 and "raksha login USERNAME" in text, command
    assert cli("hash", "--help")[0] == 0  # commands that never open the store still run

    code, text = log_in(cli, "boss", "not the password")
    assert code == 12 and "wrong username or password" in text
    assert not env_for.session_file.exists()
    code, text = log_in(cli, "boss")
    assert code == 0 and "logged in as boss (admin) until" in text
    assert stat.S_IMODE(env_for.session_file.stat().st_mode) == 0o600
    assert cli("hashset", "list")[0] == 0
    assert cli("groups")[0] == 11  # an admin manages users; chat intelligence is not theirs
    code, out, _ = cli("whoami", "--json")
    assert (out[0]["username"], out[0]["role"], out[0]["full_name"]) == (
        "boss",
        "admin",
        "SP Cyber",
    )
    assert out[0]["setup"] is False and out[0]["expires_at"]

    code, _, text = cli("logout")
    assert code == 0 and "logged out" in text and not env_for.session_file.exists()
    assert cli("groups")[0] == 12
    assert "nobody is logged in" in cli("logout")[2]


def test_a_stale_session_file_and_raksha_session(
    cli: Any, env_for: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(cli, "boss", "admin")
    assert log_in(cli, "boss")[0] == 0
    token = env_for.session_file.read_text().strip()
    env_for.session_file.write_text("not-a-token\n")
    code, _, text = cli("groups")
    assert code == 12 and "expired or was ended" in text
    env_for.session_file.unlink()

    monkeypatch.setenv("RAKSHA_SESSION", token)
    assert cli("hashset", "list")[0] == 0
    assert cli("whoami", "--json")[1][0]["username"] == "boss"
    monkeypatch.setenv("RAKSHA_SESSION", token[:-2])
    code, _, text = cli("groups")
    assert code == 12 and "RAKSHA_SESSION has expired" in text
    monkeypatch.setenv("RAKSHA_SESSION", token)
    code, _, text = cli("logout")
    assert code == 0 and "unset RAKSHA_SESSION" in text
    assert cli("groups")[0] == 12


def test_a_second_login_replaces_the_first(cli: Any, env_for: Settings) -> None:
    add_user(cli, "boss", "admin")
    log_in(cli, "boss")
    first = env_for.session_file.read_text().strip()
    log_in(cli, "boss")
    assert env_for.session_file.read_text().strip() != first
    store = Store.open(env_for)
    try:
        from raksha.cases.users import actor_for_token

        with store.engine.connect() as conn:
            assert actor_for_token(conn, first) is None
    finally:
        store.close()


def test_roles_are_enforced(cli: Any) -> None:
    add_user(cli, "boss", "admin")
    log_in(cli, "boss")
    add_user(cli, "ana", "analyst")
    add_user(cli, "audrey", "auditor")
    code, out, _ = cli("user", "list", "--json")
    assert code == 0 and [(u["username"], u["role"]) for u in out] == [
        ("ana", "analyst"),
        ("audrey", "auditor"),
        ("boss", "admin"),
    ]
    assert cli("audit", "list")[0] == 11  # admins verify the log, auditors read it
    assert cli("audit", "verify")[0] == 0

    log_in(cli, "ana")
    code, _, text = cli(
        "user", "add", "eve", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 11 and "user.manage" in text and "admin" in text
    assert cli("user", "list")[0] == 11
    assert cli("user", "disable", "boss")[0] == 11
    assert cli("audit", "verify")[0] == 11
    code, _, text = cli(
        "user", "passwd", "ana", "--password-stdin", stdin=f"{PASSWORD}\nanas own new one\n"
    )
    assert code == 0, text
    assert log_in(cli, "ana", "anas own new one")[0] == 0

    log_in(cli, "boss")
    code, _, text = cli("user", "disable", "boss")
    assert code == 2 and "last active admin" in text
    code, _, text = cli("user", "disable", "ana")
    assert code == 0 and "sessions are ended" in text
    assert log_in(cli, "ana", "anas own new one")[0] == 12
    code, _, text = cli("user", "passwd", "ana", "--password-stdin", stdin="reset by boss!\n")
    assert code == 0, text


def test_every_command_a_user_runs_is_audited(cli: Any) -> None:
    add_user(cli, "boss", "admin")
    log_in(cli, "boss")
    add_user(cli, "audrey", "auditor")
    assert cli("-v", "case", "list", "--json")[0] == 0
    assert cli("sightings", "--group", "no such group")[0] == 11  # not an admin's to see
    assert cli("login", "audrey", "--password-stdin", stdin="wrong guess!!\n")[0] == 12
    log_in(cli, "audrey")
    code, out, _ = cli("audit", "list", "--action", "cli", "--json")
    assert code == 0
    got = [(e["actor"], e["details"]["command"], e["details"]["exit_code"]) for e in out]
    assert got == [
        ("boss", "sightings", 11),
        ("boss", "case list", 0),
        ("boss", "user add", 0),
    ]
    assert out[1]["details"]["argv"] == ["-v", "case", "list", "--json"]
    assert out[2]["role"] == "admin" and PASSWORD not in json.dumps(out)

    code, out, _ = cli("audit", "list", "--user", "audrey", "--json")
    assert [e["action"] for e in out] == ["cli", "login", "login.failed"]
    assert out[0]["details"]["command"] == "audit list"
    code, out, _ = cli("audit", "list", "--action", "user.", "--limit", "1", "--json")
    assert [(e["action"], e["object_id"]) for e in out] == [("user.add", "audrey")]
    code, _, text = cli("audit", "list")
    assert code == 0 and "audrey" in text
    assert cli("audit", "list", "--case", "no such case")[0] == 3
    assert cli("audit", "list", "--case", "12", "--json")[1] == []


def test_audit_verify_reports_the_head_and_a_broken_chain(cli: Any, env_for: Settings) -> None:
    add_user(cli, "boss", "admin")
    log_in(cli, "boss")
    code, out, _ = cli("audit", "verify", "--json")
    assert code == 0 and out[0]["ok"] and out[0]["problems"] == []
    head = out[0]["head"]
    seq = int(head.split(":")[0])
    code, _, text = cli("audit", "verify", "--head", head)
    assert code == 0 and "the chain is intact" in text and "head: " in text
    assert cli("audit", "verify", "--head", "12:abc")[0] == 2

    store = Store.open(env_for)
    drop_append_only_triggers(store)
    try:
        with store.engine.begin() as conn:
            conn.execute(delete(audit_log_table).where(audit_log_table.c.seq >= seq))
    finally:
        restore_append_only_triggers(store)
        store.close()
    code, out, text = cli("audit", "verify", "--head", head, "--json")
    assert code == 13 and "hash chain is broken" in text
    assert [p["problem"] for p in out[0]["problems"]] == ["head missing"]
    code, _, text = cli("audit", "verify", "--head", head)
    assert code == 13 and "head missing" in text
