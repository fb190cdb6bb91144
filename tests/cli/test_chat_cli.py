"""Chat exports through the CLI, on both databases: scan detects the export, the listings,
watching a drop folder week after week, and public tips."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from raksha.cli.main import main
from raksha.hashing.crypto import digest_bytes
from raksha.settings import Settings
from tests.chats.telegram_fixtures import (
    channel_with_known_posts,
    group_with_members,
    picture,
    write_single,
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")], out + err


def _setup(capsys: pytest.CaptureFixture[str], tmp_path: Path, pictures: list[bytes]) -> None:
    refs = tmp_path / "refs.txt"
    refs.write_text("".join(f"md5 {digest_bytes(p).md5}\n" for p in pictures))
    assert run(capsys, "hashset", "import", str(refs), "--name", "ref")[0] == 0
    assert run(capsys, "case", "create", "FIR 5/2026")[0] == 0


def test_scan_detects_a_telegram_export_and_lists_sightings(
    env_for: Settings, tmp_path: Path, capsys
) -> None:
    known = [picture(1), picture(2), picture(5)]
    _setup(capsys, tmp_path, known)
    channel = write_single(tmp_path / "alpha", channel_with_known_posts(known[:2], [picture(3)]))
    group = write_single(tmp_path / "beta", group_with_members(known[2]))
    code, out, text = run(capsys, "scan", str(channel), "--case", "FIR 5/2026", "-w", "0", "--json")
    assert code == 0
    chats = next(e for e in out if e.get("event") == "chats")
    assert chats["kind"] == "telegram" and len(chats["new_sightings"]) == 2
    code, _, text = run(capsys, "scan", str(group), "--case", "FIR 5/2026", "-w", "0")
    assert code == 0 and "1 new sightings" in text and "by Sunil M (user102)" in text

    code, out, _ = run(capsys, "groups", "--json")
    assert [(g["title"], g["sightings"], g["known_items"]) for g in out] == [
        ("Test Channel Alpha", 2, 2),
        ("Test Group Beta", 1, 1),
    ]
    code, out, _ = run(capsys, "accounts", "--json")
    assert (out[0]["external_id"], out[0]["known_items"]) == ("channel1700000001", 2)
    code, out, _ = run(capsys, "accounts", "--group", "Test Group Beta", "--json")
    assert {a["external_id"] for a in out} == {"user101", "user102", "user103", "user104"}
    code, out, _ = run(capsys, "sightings", "--account", "user102", "--json")
    assert [(s["chat"], s["set_name"]) for s in out] == [("Test Group Beta", "ref")]
    code, _, text = run(capsys, "sightings", "--group", "Test Channel Alpha")
    assert code == 0 and text.count("matched ref") == 2
    code, _, text = run(capsys, "sightings", "--group", "no such group")
    assert code == 3 and "raksha groups" in text
    code, out, _ = run(
        capsys, "scan", str(channel), "--case", "FIR 5/2026", "-w", "0", "--kind", "files", "--json"
    )
    assert code == 0 and not [e for e in out if e.get("event") == "chats"]


def test_watch_a_drop_folder_week_after_week(env_for: Settings, tmp_path: Path, capsys) -> None:
    known = [picture(1), picture(2), picture(4)]
    _setup(capsys, tmp_path, known)
    drop = tmp_path / "drop"
    drop.mkdir()
    week = channel_with_known_posts(known[:1], [])
    write_single(drop / "2026-10-01", week)
    code, _, text = run(
        capsys, "watch", "add", str(drop), "--name", "alpha", "--case", "FIR 5/2026"
    )
    assert code == 0
    code, out, _ = run(capsys, "watch", "run", "-w", "0", "--json")
    assert code == 0 and [len(o["new_sightings"]) for o in out] == [1]
    week.post(90, "Test Channel Alpha", "channel1700000001", "x", photo=("n1.jpg", known[1]))
    week.post(91, "Test Channel Alpha", "channel1700000001", "y", photo=("n2.jpg", known[2]))
    write_single(drop / "2026-10-08", week)
    code, _, text = run(capsys, "watch", "run", "-w", "0")
    assert code == 0 and "2 new messages" in text and "2 new sightings in all" in text
    code, out, _ = run(capsys, "watch", "run", "-w", "0", "--json")
    assert out == []  # nothing new
    code, out, _ = run(capsys, "watch", "list", "--json")
    assert out[0]["name"] == "alpha" and out[0]["last_run"] is not None
    code, _, text = run(
        capsys, "watch", "add", str(drop), "--name", "alpha", "--case", "FIR 5/2026"
    )
    assert code == 2 and "exists already" in text


def test_tips_get_a_follow_up_number_and_a_status(env_for: Settings, capsys) -> None:
    code, out, _ = run(
        capsys, "tip", "add", "https://t.me/+AbCdEf123", "--text", "a group", "--json"
    )
    assert code == 0 and out[0]["kind"] == "invite_link"
    follow_up = out[0]["follow_up"]
    assert re.fullmatch(r"T-\d{4}-[2-9A-HJ-NP-Z]{8}", follow_up)
    code, out, _ = run(capsys, "tip", "add", "+91 98470 12345", "--json")
    assert out[0]["kind"] == "phone" and out[0]["value"] == "+919847012345"
    code, out, _ = run(capsys, "tip", "add", "@some_user", "--json")
    assert out[0]["kind"] == "username" and out[0]["value"] == "some_user"
    code, _, _ = run(capsys, "tip", "add")
    assert code == 2
    assert run(capsys, "tip", "status", follow_up, "triaged", "--note", "checked")[0] == 0
    code, out, _ = run(capsys, "tip", "list", "--status", "triaged", "--json")
    assert [t["follow_up"] for t in out] == [follow_up]
    code, _, _ = run(capsys, "tip", "status", "T-2026-NOSUCH00", "closed")
    assert code == 3


def test_referral_import_and_listing(env_for: Settings, tmp_path: Path, capsys) -> None:
    known = picture(5)
    _setup(capsys, tmp_path, [known])
    group = write_single(tmp_path / "beta", group_with_members(known))
    assert run(capsys, "scan", str(group), "--case", "FIR 5/2026", "-w", "0")[0] == 0
    alert = tmp_path / "alerts.csv"
    alert.write_text(
        "reference,source,received,kind,value,platform,at,note\n"
        "ICPO-7,interpol,2026-11-02T10:00:00Z,account_id,102,telegram,,\n"
        f"ICPO-7,interpol,2026-11-02T10:00:00Z,md5,{digest_bytes(known).md5},,,\n"
    )
    code, out, _ = run(capsys, "referral", "import", str(alert), "--json")
    assert code == 0
    assert (out[0]["added"], out[0]["files_matching_reference_sets"]) == (1, 1)
    assert out[0]["links_to_seen_accounts"] == 1
    code, out, _ = run(capsys, "referrals", "--json")
    assert [(r["external_id"], r["files_known"]) for r in out] == [("ICPO-7", 1)]
    code, _, text = run(capsys, "referrals")
    assert code == 0 and "telegram user102 (by user_id)" in text
    code, _, text = run(capsys, "referral", "import", str(tmp_path / "none.json"))
    assert code == 3
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not a referral")
    code, _, text = run(capsys, "referral", "import", str(junk))
    assert code == 4
