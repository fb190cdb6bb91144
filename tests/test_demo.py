"""The demo finds every planted copy, in folders, a zip and a nested zip, and nothing else."""

from __future__ import annotations

import hashlib
from pathlib import Path

from raksha.demo import ALTERATIONS, run_demo


def test_demo_finds_every_planted_copy(tmp_path: Path) -> None:
    known = 2 * len(ALTERATIONS)
    outcome = run_demo(
        tmp_path / "demo", known=known, unrelated=8, workers=0, report=lambda _: None
    )
    assert {p.expected for p in outcome.planted} == set(ALTERATIONS)
    assert {p.locator.split(" > ")[0] for p in outcome.planted} == {
        "seized-phone",
        "platform-export.zip",
    }
    assert any("older.zip > " in p.locator for p in outcome.planted)
    assert outcome.missed == [] and outcome.false_hits == []
    assert len(outcome.found) == known
    assert all(scan.status == "completed" for scan in outcome.scans)
    # The watched channel: 2 known posts in week 1, only the 1 new one in week 2; the
    # WhatsApp group: 2, each with who posted it.
    assert [(label, len(s)) for label, s in outcome.sightings] == [
        ("Telegram export 2026-10-07", 2),
        ("Telegram export 2026-10-14", 1),
        ("WhatsApp export", 2),
    ]
    whatsapp = outcome.sightings[2][1]
    assert {s["account"] for s in whatsapp} == {"+919847001002", "+919847001003"}
    assert all(s["chat"] == "Demo Group Beta" and s["sent_at"] for s in whatsapp)
    # The court side: the phone is a sealed exhibit with an unbroken chain, and the case
    # report (and its certificate) holds every hit the scans found, hash-registered.
    court = outcome.court
    assert court is not None and court.ok and court.chain == "ok"
    assert court.missing_from_report == []
    assert court.hits_in_report >= known
    assert sorted(f.kind for f in court.files) == [
        "case-html",
        "case-pdf",
        "certificate-html",
        "certificate-pdf",
    ]
    for f in court.files:
        data = Path(f.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f.sha256
        assert Path(f.path + ".sha256").read_text().split()[0] == f.sha256
    # The demo's own login opens its console and CLI on its data.
    login = outcome.login
    assert login is not None and login.file.exists()
    from raksha.cases import users
    from raksha.settings import Settings
    from raksha.store.db import Store

    home = tmp_path / "demo" / "data"
    store = Store.open(Settings(home=home, database_url=f"sqlite:///{home / 'raksha.db'}"))
    try:
        with store.engine.begin() as conn:
            assert users.login(conn, login.username, login.password)
            saved = (home / "session").read_text().strip()
            session = users.session_for_token(conn, saved)
        assert session is not None and session.actor.role == "supervisor"
    finally:
        store.close()
