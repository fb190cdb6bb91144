"""Seized devices in the network, on both databases: the account a device's own export
belongs to joins the person the device was seized from (a hard identifier), the export's
stated phone number joins the same number on WhatsApp, and the graph gains owns-device
and found-on-device edges; the person's page and corroboration count the device."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from raksha.chats.detect import detect_export
from raksha.hashing.crypto import digest_bytes
from raksha.network import graph, identity
from raksha.network.queries import corroboration
from raksha.scan.pipeline import ScanOptions
from raksha.services.hashsets import import_hashset
from raksha.services.ingest import ingest_export
from raksha.services.network import person_details
from raksha.store.case_models import seizures_table
from raksha.store.chat_models import accounts_table
from raksha.store.db import Store
from raksha.store.models import evidence_table
from raksha.store.network_models import graph_edges_table, person_accounts_table
from raksha.store.scan_repo import create_case
from tests.chats import whatsapp_fixtures as wa
from tests.chats.telegram_fixtures import ChatBuilder, picture, write_full

OWNER_PHONE = "+91 98470 12345"


def _ingest(store: Store, tmp_path: Path, folder: Path) -> int:
    export = detect_export(folder)
    assert export is not None
    result = ingest_export(store, tmp_path / "index", "c1", export, ScanOptions(workers=0))
    return int(result.scan.evidence.id)


def _person_of(store: Store, external_id: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(person_accounts_table.c.person_id)
                .join(accounts_table, accounts_table.c.id == person_accounts_table.c.account_id)
                .where(accounts_table.c.external_id == external_id)
            ).scalar_one()
        )


def _state(store: Store, tmp_path: Path) -> dict[str, Any]:
    known = picture(11)
    refs = tmp_path / "refs.txt"
    refs.write_text(f"md5 {digest_bytes(known).md5}\n")
    import_hashset(store, refs, name="ref")
    create_case(store, "c1")
    t0 = datetime(2026, 10, 12, 14, 5, 33)
    lines = [
        wa.line(t0, OWNER_PHONE, "hello", "ios24"),
        wa.line(t0, "+91 99470 55555", "hi", "ios24"),
    ]
    whatsapp = wa.write_folder(
        tmp_path / "WhatsApp Chat - Friends", {"_chat.txt": wa.chat_bytes(lines)}
    )
    _ingest(store, tmp_path, whatsapp)
    # The man the phone is seized from is known by his WhatsApp number.
    identity.resolve(store)
    seized_from = _person_of(store, "+919947055555")
    group = ChatBuilder("Trade Group", "private_supergroup", 4242)
    group.post(1, "Kiran", "user777", "new", photo=("p.jpg", known))
    group.post(2, "Someone Else", "user778", "thanks")
    owner = {"user_id": 777, "first_name": "Kiran", "phone_number": OWNER_PHONE}
    telegram = write_full(tmp_path / "phone-extraction", [group], owner=owner)
    evidence_id = _ingest(store, tmp_path, telegram)
    with store.engine.begin() as conn:
        seizure_id = conn.execute(
            insert(seizures_table).values(
                kind="phone",
                seal_label="SEAL-7",
                seized_from="Kiran",
                seized_from_person_id=seized_from,
                place="House 4, Ward 9",
                district="Ernakulam",
                seized_at=datetime(2026, 11, 2, 6, 0, tzinfo=UTC),
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            update(evidence_table)
            .where(evidence_table.c.id == evidence_id)
            .values(seizure_id=seizure_id)
        )
    return {"seizure_id": seizure_id, "seized_from": seized_from, "known": known}


def test_device_owner_and_the_accounts_found_on_it_are_one_person(
    store: Store, tmp_path: Path
) -> None:
    state = _state(store, tmp_path)
    report = identity.resolve(store)
    assert report.merges >= 2
    person = _person_of(store, "user777")
    assert _person_of(store, "+919847012345") == person  # the export states that number
    assert _person_of(store, "+919947055555") == person  # the phone was seized from him
    assert _person_of(store, "user778") != person  # merely in a chat on the phone
    details = person_details(store, person)
    (device,) = details["devices"]
    assert device["seal"] == "SEAL-7" and device["known_items"] == 1
    assert device["why"] == "seized from them"  # the stronger reason wins over the account
    reasons = " | ".join(d["reason"] for d in details["decisions"])
    assert "found on seized device SEAL-7, seized from Kiran" in reasons
    assert "its own export states phone number +919847012345" in reasons
    assert corroboration(store)[person].devices == 1
    assert state["seizure_id"] == device["seizure_id"]


def test_graph_has_owns_device_and_found_on_device_edges(store: Store, tmp_path: Path) -> None:
    state = _state(store, tmp_path)
    identity.resolve(store)
    graph.build(store)
    person = _person_of(store, "user777")
    with store.engine.connect() as conn:
        edges = {
            (r.src_kind, r.src_id, r.kind, r.dst_id, (r.details or {}).get("basis"))
            for r in conn.execute(
                select(graph_edges_table).where(graph_edges_table.c.dst_kind == "device")
            )
        }
        ids = dict(conn.execute(select(accounts_table.c.external_id, accounts_table.c.id)).all())
    device = str(state["seizure_id"])
    sha = digest_bytes(state["known"]).sha256
    assert edges == {
        ("person", str(person), "owns_device", device, None),
        ("account", str(ids["user777"]), "found_on_device", device, "own account"),
        ("account", str(ids["user778"]), "found_on_device", device, "in chats"),
        ("item", sha, "found_on_device", device, None),
    }
    loaded = graph.load(store)
    assert loaded.nodes[("device", device)].label == "phone SEAL-7"
