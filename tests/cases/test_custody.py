"""Chain of custody on SQLite and PostgreSQL: a full chain with every hash re-verified and
no flag; a changed, a missing and a folder exhibit; disk images (raw and E01) checked the
way their hashes were recorded; and each gap rule flagged exactly."""

from __future__ import annotations

import contextlib
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from raksha.cases import audit
from raksha.cases.actor import Actor
from raksha.cases.custody import add_event, show_custody, timeline
from raksha.cases.custody_rules import (
    ACTIONS,
    FLAG_RULES,
    chain_flags,
    chain_status,
    flag_rule,
    normalise_action,
)
from raksha.cases.reverify import FOLDER_DETAIL
from raksha.cases.seizures import add_seizure, link_evidence
from raksha.errors import AccessDeniedError, NotFoundError, UsageError
from raksha.store.db import Store
from raksha.store.scan_repo import create_case
from tests.cases.exhibits import T0, extraction_zip, scan
from tests.scan.evidence import build
from tests.sources import disk_builders as b

SETUP = Actor.local_setup()
CASE = "FIR 7/2026"
SEAL = "CCPS/21/PH-01"
DAY = timedelta(days=1)


def _exhibit(store: Store, seal: str = SEAL, **kw: object) -> dict[str, Any]:
    with contextlib.suppress(UsageError):  # the case, made by the first exhibit
        create_case(store, CASE)
    return add_seizure(
        store,
        SETUP,
        CASE,
        "phone",
        seal,
        seized_at=T0,
        seized_by="SI Rao",
        place="House 4, Ward 7",
        **kw,  # type: ignore[arg-type]
    )


def _step(
    store: Store,
    action: str,
    at: datetime,
    by: str,
    to: str | None = None,
    seal: str = SEAL,
    **kw: object,
) -> dict[str, Any]:
    return add_event(store, SETUP, seal, action, by_whom=by, at=at, to_whom=to, **kw)  # type: ignore[arg-type]


FULL_CHAIN: list[tuple[str, timedelta, str, str | None]] = [
    ("sealed", timedelta(hours=1), "SI Rao", None),
    ("transferred", DAY, "SI Rao", "Dr Mehta"),
    ("received at lab", 2 * DAY, "Dr Mehta", None),
    ("imaged", 3 * DAY, "Dr Mehta", None),
    ("analysed", 10 * DAY, "Dr Mehta", None),
    ("returned to store", 12 * DAY, "HC Patil", None),
    # 90 days in the store are no silence
    ("produced in court", 102 * DAY, "SI Rao", None),
]


def _linked_zip(store: Store, tmp_path: Path) -> tuple[Path, int]:
    archive, _ = extraction_zip(tmp_path)
    result = scan(store, tmp_path, CASE, archive)
    link_evidence(store, SETUP, SEAL, result.evidence.id)
    return archive, result.evidence.id


def test_a_full_chain_with_every_hash_verified_has_no_flag(store: Store, tmp_path: Path) -> None:
    _exhibit(store)
    archive, zip_id = _linked_zip(store, tmp_path)
    folder = build(tmp_path / "card", known=0, unrelated=1, others=1).root
    folder_id = scan(store, tmp_path, CASE, folder).evidence.id
    link_evidence(store, SETUP, SEAL, folder_id)
    sha256 = store_sha256(store, zip_id)
    for action, offset, by, to in FULL_CHAIN:
        event = _step(store, action, T0 + offset, by, to, location="Cyber PS")
        assert event["flags"] == [], (action, event["flags"])
        checks = {v["evidence_id"]: v for v in event["verification"]}
        assert checks[zip_id]["result"] == "verified"
        assert checks[zip_id]["expected"] == checks[zip_id]["observed"] == {"sha256": sha256}
        assert checks[zip_id]["method"] == "sha256 of the file"
        assert checks[folder_id]["result"] == "not verifiable"
        assert checks[folder_id]["detail"] == FOLDER_DETAIL
    with store.engine.connect() as conn:
        events = timeline(conn, SEAL)
        entries = audit.entries(conn, action="custody.add")
    assert [e["action"] for e in events] == [
        "seized",
        *(a for a, *_ in FULL_CHAIN),
    ]
    assert [e["action"] for e in events] == list(ACTIONS)
    assert all(e["flags"] == e["recorded_flags"] == [] for e in events)
    assert events[2]["to_whom"] == "Dr Mehta" and events[1]["location"] == "Cyber PS"
    assert chain_status(events) == {"status": "ok", "events": 8, "reasons": []}
    assert len(entries) == 7
    assert entries[0]["details"]["verification"] == {
        str(zip_id): "verified",
        str(folder_id): "not verifiable",
    }

    # Now the extraction is changed: the next step says so, and so does every one after.
    with archive.open("ab") as f:
        f.write(b"\0")
    event = _step(store, "returned to store", T0 + 103 * DAY, "SI Rao")
    (flag,) = event["flags"]
    check = {v["evidence_id"]: v for v in event["verification"]}[zip_id]
    assert check["result"] == "mismatch" and check["observed"] != check["expected"]
    assert flag == (
        f"mismatch: evidence {zip_id} ({archive}) does not match its recorded hashes: expected "
        f"sha256 {sha256}, found sha256 {check['observed']['sha256']}"
    )
    assert "size was" in check["detail"]
    again = _step(store, "produced in court", T0 + 104 * DAY, "SI Rao")
    assert [flag_rule(f) for f in again["flags"]] == ["mismatch"]
    shown = show_custody(store, SETUP, SEAL)
    assert shown["chain"]["status"] == "flagged" and len(shown["chain"]["reasons"]) == 2
    assert shown["chain"]["reasons"][0].startswith("event 9 (returned to store, 2026-06-12): ")


def store_sha256(store: Store, evidence_id: int) -> str:
    from sqlalchemy import select

    from raksha.store.models import evidence_table

    with store.engine.connect() as conn:
        return str(
            conn.execute(
                select(evidence_table.c.container_sha256).where(evidence_table.c.id == evidence_id)
            ).scalar_one()
        )


def test_a_missing_file_is_unreadable_and_flagged(store: Store, tmp_path: Path) -> None:
    _exhibit(store)
    archive, zip_id = _linked_zip(store, tmp_path)
    shutil.move(archive, tmp_path / "moved.zip")
    event = _step(store, "sealed", T0 + DAY, "SI Rao")
    (check,) = event["verification"]
    assert check["result"] == "unreadable" and check["observed"] is None
    assert check["detail"] == f"{archive}: the file is not there"
    assert event["flags"] == [
        f"unreadable: evidence {zip_id} ({archive}) could not be read back to verify it: "
        f"{archive}: the file is not there"
    ]


def test_an_exhibit_with_no_evidence_yet_has_nothing_to_verify(store: Store) -> None:
    _exhibit(store)
    assert _step(store, "sealed", T0 + DAY, "SI Rao")["verification"] == []


# -- disk images ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a raw FAT memory card, its E01) holding one synthetic picture."""
    tmp = tmp_path_factory.mktemp("card")
    volume = b.fat_volume(tmp / "card.dd", {"/DCIM/a.jpg": b.jpeg(700)}, size_mib=4, bits=12)
    return volume.image, b.ewf(volume.image, tmp / "card")


def _disk_check(store: Store, tmp_path: Path, image: Path, seal: str, **kw: object):
    result = scan(store, tmp_path, CASE, image, **kw)
    link_evidence(store, SETUP, seal, result.evidence.id)
    event = _step(store, "sealed", T0 + DAY, "SI Rao", seal=seal)
    (check,) = event["verification"]
    return result, check, event


def test_a_raw_image_is_checked_against_its_hash_at_ingest(
    store: Store, tmp_path: Path, card: tuple[Path, Path]
) -> None:
    image = tmp_path / "card.dd"
    shutil.copyfile(card[0], image)
    _exhibit(store, "SD-1")
    result, check, event = _disk_check(store, tmp_path, image, "SD-1")
    assert check["method"] == "sha256 of the image files as at first ingest"
    assert check["result"] == "verified" and event["flags"] == []
    assert check["expected"] == {"sha256": result.evidence.container_sha256}
    with image.open("r+b") as f:  # one byte changed in the middle of the card
        f.seek(image.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    later = _step(store, "transferred", T0 + 2 * DAY, "SI Rao", "Dr Mehta", seal="SD-1")
    assert later["verification"][0]["result"] == "mismatch"
    assert [flag_rule(f) for f in later["flags"]] == ["mismatch"]


def test_a_verified_raw_image_is_checked_by_its_media_hashes(
    store: Store, tmp_path: Path, card: tuple[Path, Path]
) -> None:
    image = tmp_path / "card.dd"
    shutil.copyfile(card[0], image)
    _exhibit(store, "SD-1")
    result, check, _ = _disk_check(store, tmp_path, image, "SD-1", verify=True)
    assert result.verification is not None and result.verification.status == "no stored hash"
    assert check["method"] == "md5/sha1 of the media against its last verification"
    assert check["expected"] == {
        "md5": result.verification.md5,
        "sha1": result.verification.sha1,
    }
    assert check["observed"] == check["expected"] and check["result"] == "verified"


def test_an_e01_is_checked_against_its_acquisition_hashes(
    store: Store, tmp_path: Path, card: tuple[Path, Path]
) -> None:
    _exhibit(store, "SD-2")
    result, check, event = _disk_check(store, tmp_path, card[1], "SD-2")
    assert result.image is not None and result.image["acquisition_md5"]
    assert check["method"] == "md5/sha1 of the media against its acquisition hashes"
    assert check["expected"] == {
        "md5": result.image["acquisition_md5"],
        "sha1": result.image["acquisition_sha1"],
    }
    assert check["result"] == "verified" and event["flags"] == []


# -- the gap rules, each flagged exactly ---------------------------------------------------


def _flags(events: list[dict[str, Any]]) -> list[list[str]]:
    return [list(e["flags"]) for e in events]


def test_a_chain_that_does_not_start_with_seized(store: Store) -> None:
    _exhibit(store, seized_event=False)
    assert _step(store, "sealed", T0, "SI Rao")["flags"] == [
        "first event: the chain starts with 'sealed', not 'seized'"
    ]
    assert _step(store, "seized", T0 + timedelta(hours=1), "SI Rao")["flags"] == [
        "out of order: 'seized' after 'sealed'"
    ]


def test_events_out_of_order(store: Store) -> None:
    _exhibit(store)
    steps = [
        ("sealed", timedelta(hours=1), "SI Rao", None, []),
        ("transferred", DAY, "SI Rao", "Dr Mehta", []),
        ("imaged", 2 * DAY, "Dr Mehta", None, ["out of order: 'imaged' before 'received at lab'"]),
        (
            "received at lab",
            2 * DAY + timedelta(hours=1),
            "Dr Mehta",
            None,
            ["out of order: 'received at lab' after 'imaged'"],
        ),
        (
            "imaged",
            3 * DAY,
            "Dr Mehta",
            None,
            [
                "out of order: 'imaged' again; only transferred, returned to store and "
                "produced in court may repeat"
            ],
        ),
        ("analysed", 4 * DAY, "Dr Mehta", None, []),
        ("produced in court", 5 * DAY, "SI Rao", None, []),
        ("returned to store", 6 * DAY, "SI Rao", None, []),
        ("produced in court", 7 * DAY, "SI Rao", None, []),
        ("transferred", 8 * DAY, "SI Rao", "Dr Iyer", []),
        (
            "analysed",
            9 * DAY,
            "Dr Iyer",
            None,
            ["out of order: 'analysed' after 'produced in court'"],
        ),
    ]
    for action, offset, by, to, want in steps:
        assert _step(store, action, T0 + offset, by, to)["flags"] == want, action


def test_a_step_before_a_stage_it_needs() -> None:
    events = [
        {"action": "seized", "at": T0, "by_whom": "SI Rao"},
        {"action": "produced in court", "at": T0 + DAY, "by_whom": "SI Rao"},
    ]
    assert chain_flags(events) == [[], ["out of order: 'produced in court' before 'sealed'"]]


def test_handover_gaps(store: Store) -> None:
    _exhibit(store)
    steps = [
        ("sealed", timedelta(hours=1), "SI Rao", None, []),
        ("transferred", DAY, "SI Rao", "HC Patil", []),
        (
            "received at lab",
            2 * DAY,
            "Dr Mehta",
            None,
            ["handover gap: transferred to HC Patil, but this event is by Dr Mehta"],
        ),
    ]
    for action, offset, by, to, want in steps:
        assert _step(store, action, T0 + offset, by, to)["flags"] == want, action

    _exhibit(store, "S-2")
    steps = [
        ("sealed", timedelta(hours=1), "SI Rao", None, []),
        ("transferred", DAY, "SI Rao", "hc  patil", []),
        ("returned to store", 2 * DAY, "HC Patil", None, []),  # names compared as written
        (
            "received at lab",
            3 * DAY,
            "Dr Mehta",
            None,
            [
                "handover gap: received by Dr Mehta, but the exhibit was last transferred "
                "to hc patil"
            ],
        ),
    ]
    for action, offset, by, to, want in steps:
        assert _step(store, action, T0 + offset, by, to, seal="S-2")["flags"] == want, action


def test_a_transfer_needs_a_recipient() -> None:
    events = [
        {"action": "seized", "at": T0, "by_whom": "SI Rao"},
        {"action": "transferred", "at": T0 + DAY, "by_whom": "SI Rao", "to_whom": None},
        {"action": "sealed", "at": T0 + 2 * DAY, "by_whom": "SI Rao"},
    ]
    assert chain_flags(events)[2] == [
        "handover gap: the transfer before this names no one it went to"
    ]


def test_time_going_backwards(store: Store) -> None:
    _exhibit(store)
    assert _step(store, "sealed", T0 - timedelta(hours=1), "SI Rao")["flags"] == [
        "time backwards: 2026-03-01T05:30:00+00:00 is earlier than the event before it "
        "('seized' at 2026-03-01T06:30:00+00:00)"
    ]
    assert _step(store, "transferred", T0 + DAY, "SI Rao", "Dr Mehta")["flags"] == []


def test_a_long_silence_out_of_the_store(store: Store) -> None:
    _exhibit(store)
    silent = _step(store, "sealed", T0 + 31 * DAY, "SI Rao")
    assert silent["flags"] == [
        "silence: 31 days without an event after 'seized' on 2026-03-01, while the exhibit "
        "was out of the store (more than 30)"
    ]
    assert _step(store, "returned to store", T0 + 61 * DAY, "SI Rao")["flags"] == []  # 30 days
    assert _step(store, "transferred", T0 + 200 * DAY, "SI Rao", "Dr Mehta")["flags"] == []
    with store.engine.connect() as conn:
        relaxed = timeline(conn, SEAL, silence_days=60)
        strict = timeline(conn, SEAL, silence_days=10)
    assert _flags(relaxed) == [[], [], [], []]
    assert relaxed[1]["recorded_flags"] == silent["flags"]
    assert [[flag_rule(f) for f in e] for e in _flags(strict)] == [[], ["silence"], ["silence"], []]


def test_every_flag_names_a_known_rule() -> None:
    events = [
        {"action": "sealed", "at": T0, "by_whom": "a"},
        {"action": "transferred", "at": T0 - DAY, "by_whom": "a", "to_whom": "b"},
        {
            "action": "imaged",
            "at": T0 + 90 * DAY,
            "by_whom": "c",
            "verification": [
                {
                    "evidence_id": 1,
                    "result": "mismatch",
                    "expected": {"sha256": "0"},
                    "observed": {"sha256": "1"},
                },
                {"evidence_id": 2, "result": "unreadable", "detail": "gone"},
            ],
        },
    ]
    found = [flag_rule(f) for flags in chain_flags(events) for f in flags]
    assert sorted(found) == sorted(FLAG_RULES)


# -- what is refused ----------------------------------------------------------------------


def test_actions_and_their_aliases() -> None:
    assert normalise_action("Received") == "received at lab"
    assert normalise_action("returned-to-store") == "returned to store"
    assert normalise_action("court") == "produced in court"
    with pytest.raises(UsageError, match="seized, sealed, transferred"):
        normalise_action("lost")


def test_bad_steps_are_refused(store: Store) -> None:
    _exhibit(store)
    with pytest.raises(UsageError, match="--to NAME"):
        _step(store, "transferred", T0 + DAY, "SI Rao")
    with pytest.raises(UsageError, match="--by NAME"):
        _step(store, "sealed", T0 + DAY, "  ")
    with pytest.raises(NotFoundError, match="no seizure"):
        _step(store, "sealed", T0 + DAY, "SI Rao", seal="nope")
    with pytest.raises(AccessDeniedError, match=r"custody\.write"):
        add_event(store, Actor("aud1", "auditor", 1), SEAL, "sealed", by_whom="SI Rao")
    with store.engine.connect() as conn:
        assert len(timeline(conn, SEAL)) == 1


def test_a_truncated_e01_is_unreadable(
    store: Store, tmp_path: Path, card: tuple[Path, Path]
) -> None:
    e01 = tmp_path / "card.E01"
    shutil.copyfile(card[1], e01)
    _exhibit(store, "SD-3")
    _, check, _ = _disk_check(store, tmp_path, e01, "SD-3")
    assert check["result"] == "verified"
    with e01.open("r+b") as f:
        f.truncate(e01.stat().st_size // 2)
    later = _step(store, "transferred", T0 + 2 * DAY, "SI Rao", "Dr Mehta", seal="SD-3")
    (check,) = later["verification"]
    assert check["result"] == "unreadable" and check["observed"] is None and check["detail"]
    assert [flag_rule(f) for f in later["flags"]] == ["unreadable"]
