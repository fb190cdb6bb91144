"""Referrals imported into the store, on SQLite and PostgreSQL: stored once, files matched
against the reference sets, reported accounts linked to accounts seen in groups (also when
the group is ingested after the referral)."""

from __future__ import annotations

import json
from pathlib import Path

from raksha.chats.detect import detect_export
from raksha.hashing.crypto import digest_bytes
from raksha.scan.pipeline import ScanOptions
from raksha.services.hashsets import import_hashset
from raksha.services.ingest import ingest_export
from raksha.services.referrals import import_referrals, list_referrals
from raksha.store.db import Store
from raksha.store.scan_repo import create_case
from tests.chats.telegram_fixtures import group_with_members, picture, write_single


def _alert(path: Path, known_md5: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "source": "interpol",
                "reference": "ICPO-2026-0042",
                "received": "2026-11-02T10:00:00Z",
                "summary": "accounts sharing known material",
                "accounts": [
                    {"platform": "telegram", "user_id": "102", "username": "sunil_m"},
                    {"platform": "whatsapp", "phone": "+91 98470 55555"},
                ],
                "files": [
                    {"md5": known_md5, "name": "a.jpg"},
                    {"md5": "0" * 31 + "1", "name": "b.jpg"},
                ],
                "ips": [{"ip": "192.0.2.10", "at": "2026-10-30T08:00:00Z"}],
            }
        )
    )
    return path


def _ingest_group(store: Store, tmp_path: Path, known: bytes) -> None:
    export = detect_export(write_single(tmp_path / "g", group_with_members(known)))
    assert export is not None
    ingest_export(store, tmp_path / "index", "c1", export, ScanOptions(workers=0))


def test_alert_files_matched_and_accounts_linked(store: Store, tmp_path: Path) -> None:
    known = picture(5)
    refs = tmp_path / "refs.txt"
    refs.write_text(f"md5 {digest_bytes(known).md5}\n")
    import_hashset(store, refs, name="ref")
    create_case(store, "c1")
    _ingest_group(store, tmp_path, known)
    alert = _alert(tmp_path / "alert.json", digest_bytes(known).md5)
    outcome = import_referrals(store, tmp_path / "index", alert)
    assert (outcome.added, outcome.files, outcome.files_known, outcome.links) == (1, 2, 1, 1)
    (listed,) = list_referrals(store)
    assert (listed["source"], listed["external_id"], listed["ip_captures"]) == (
        "interpol",
        "ICPO-2026-0042",
        1,
    )
    assert listed["linked_accounts"] == [
        {
            "account_id": listed["linked_accounts"][0]["account_id"],
            "platform": "telegram",
            "external_id": "user102",
            "basis": "user_id",
        }
    ]
    again = import_referrals(store, tmp_path / "index", alert)
    assert (again.added, again.already, again.links) == (0, 1, 0)


def test_a_referral_before_the_group_is_linked_when_the_group_arrives(
    store: Store, tmp_path: Path
) -> None:
    known = picture(5)
    create_case(store, "c1")
    import_referrals(store, tmp_path / "index", _alert(tmp_path / "alert.json", "a" * 32))
    assert list_referrals(store)[0]["linked_accounts"] == []
    _ingest_group(store, tmp_path, known)
    links = list_referrals(store)[0]["linked_accounts"]
    assert [(link["external_id"], link["basis"]) for link in links] == [("user102", "user_id")]


def test_ids_are_only_linked_on_the_platform_the_referral_names(
    store: Store, tmp_path: Path
) -> None:
    create_case(store, "c1")
    _ingest_group(store, tmp_path, picture(5))
    other = tmp_path / "other.json"
    other.write_text(
        json.dumps(
            {
                "source": "other",
                "reference": "X-1",
                "accounts": [{"platform": "instagram", "user_id": "102"}],
            }
        )
    )
    outcome = import_referrals(store, tmp_path / "index", other)
    assert outcome.added == 1 and outcome.links == 0
