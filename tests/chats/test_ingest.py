"""Ingesting chat exports into the store, on SQLite and PostgreSQL: accounts, groups,
memberships, messages, media linked to scanned items, sightings, and re-ingestion that
adds only what is new."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from raksha.chats.detect import detect_export
from raksha.hashing.crypto import digest_bytes
from raksha.scan.pipeline import ScanOptions
from raksha.services.hashsets import import_hashset
from raksha.services.ingest import ingest_export
from raksha.store.chat_models import (
    accounts_table,
    chat_members_table,
    membership_events_table,
    messages_table,
)
from raksha.store.chat_repo import find_chat, iter_sightings, list_accounts, list_chats
from raksha.store.db import Store
from raksha.store.scan_repo import create_case
from tests.chats.telegram_fixtures import (
    channel_with_known_posts,
    group_with_members,
    picture,
    write_single,
)


def _refs(path: Path, pictures: list[bytes]) -> Path:
    path.write_text("".join(f"md5 {digest_bytes(p).md5}\n" for p in pictures))
    return path


def _ingest(store: Store, tmp_path: Path, folder: Path, case: str = "c1"):
    export = detect_export(folder)
    assert export is not None
    return ingest_export(store, tmp_path / "index", case, export, ScanOptions(workers=0))


def test_telegram_channel_sightings_who_where_when(store: Store, tmp_path: Path) -> None:
    known = [picture(1), picture(2)]
    import_hashset(store, _refs(tmp_path / "refs.txt", known), name="ref")
    create_case(store, "c1")
    export = write_single(
        tmp_path / "ChatExport_2026-10-01", channel_with_known_posts(known, [picture(3)])
    )
    result = _ingest(store, tmp_path, export)
    assert result.kind == "telegram"
    assert result.counts.chats == 1 and result.counts.messages == 6
    assert result.counts.media == 4 and result.counts.media_missing == 1
    sightings = result.new_sightings
    assert [(s["chat"], s["account"], s["sent_at"][:16]) for s in sightings] == [
        ("Test Channel Alpha", "channel1700000001", "2026-10-01T08:10"),
        ("Test Channel Alpha", "channel1700000001", "2026-10-01T08:11"),
    ]
    assert {s["set_name"] for s in sightings} == {"ref"}
    assert sightings[0]["locator"] == (
        "ChatExport_2026-10-01 > photos/photo_0@01-10-2026_08-10-00.jpg"
    )
    (chat,) = list_chats(store)
    assert (chat["sightings"], chat["known_items"], chat["messages"]) == (2, 2, 6)
    with store.engine.connect() as conn:
        missing = (
            conn.execute(
                select(messages_table.c.text).where(messages_table.c.media_missing.is_(True))
            )
            .scalars()
            .all()
        )
    assert missing == ["unseen"]


def test_group_memberships_invites_and_removals(store: Store, tmp_path: Path) -> None:
    known = picture(5)
    import_hashset(store, _refs(tmp_path / "refs.txt", [known]), name="ref")
    create_case(store, "c1")
    export = write_single(tmp_path / "g", group_with_members(known))
    result = _ingest(store, tmp_path, export)
    (sighting,) = result.new_sightings
    assert (sighting["account"], sighting["display_name"]) == ("user102", "Sunil M")
    with store.engine.connect() as conn:
        a = accounts_table
        names = dict(conn.execute(select(a.c.id, a.c.external_id)).all())
        members = {
            names[r.account_id]: (r.how, names.get(r.invited_by), r.role, r.left_at is not None)
            for r in conn.execute(select(chat_members_table))
        }
        events = conn.execute(select(func.count()).select_from(membership_events_table)).scalar()
    # Service messages name people ("Ravi K invited Sunil M"); within the chat each name
    # belongs to exactly one account with an id, so the memberships land on those ids.
    assert set(members) == {"user101", "user102", "user103", "user104"}
    assert members["user101"][0] == "create" and members["user101"][2] == "creator"
    assert members["user102"][:2] == ("invite", "user101")
    assert members["user103"][:2] == ("invite", "user101")
    assert members["user103"][3] is True  # removed
    assert members["user104"][:2] == ("join_by_link", "user101")
    assert events == 5
    top = list_accounts(store)[0]
    assert (top["external_id"], top["known_items"]) == ("user102", 1)


def test_a_later_export_adds_only_what_is_new(store: Store, tmp_path: Path) -> None:
    known = [picture(1), picture(2), picture(4)]
    import_hashset(store, _refs(tmp_path / "refs.txt", known), name="ref")
    create_case(store, "c1")
    week1 = channel_with_known_posts(known[:2], [])
    first = _ingest(store, tmp_path, write_single(tmp_path / "drop" / "week1", week1))
    assert len(first.new_sightings) == 2
    week1.post(60, "Test Channel Alpha", "channel1700000001", "new", photo=("new.jpg", known[2]))
    second = _ingest(store, tmp_path, write_single(tmp_path / "drop" / "week2", week1))
    assert (second.counts.messages, second.counts.new_messages) == (6, 1)
    assert [s["locator"] for s in second.new_sightings] == ["week2 > photos/new.jpg"]
    again = _ingest(store, tmp_path, tmp_path / "drop" / "week2")
    assert again.counts.new_messages == 0 and again.new_sightings == []
    chat_id = find_chat(store, "Test Channel Alpha")
    assert len(list(iter_sightings(store, chat_id=chat_id))) == 3
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages_table)).scalar() == 6


def test_whatsapp_ios_zip_ingest_links_media_and_phones(store: Store, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.chats import whatsapp_fixtures as wa

    known = picture(7)
    import_hashset(store, _refs(tmp_path / "refs.txt", [known]), name="ref")
    create_case(store, "c1")
    t0 = datetime(2026, 10, 12, 14, 5, 33)
    lines = [
        wa.line(t0, None, "Messages and calls are end-to-end encrypted.", "ios24"),
        wa.line(
            t0,
            "+91 98470 12345",
            "\u200e<attached: 00000042-PHOTO-2026-10-12-14-05-33.jpg>",
            "ios24",
        ),
        wa.line(t0 + timedelta(minutes=1), "Arun", "see you at 5", "ios24"),
        wa.line(t0 + timedelta(minutes=2), "Arun", "\u200eimage omitted", "ios24"),
    ]
    archive = wa.write_zip(
        tmp_path / "WhatsApp Chat - Test Group.zip",
        {"_chat.txt": wa.chat_bytes(lines), "00000042-PHOTO-2026-10-12-14-05-33.jpg": known},
    )
    result = _ingest(store, tmp_path, archive)
    assert result.kind == "whatsapp"
    (sighting,) = result.new_sightings
    assert sighting["account"] == "+919847012345" and sighting["id_kind"] == "phone"
    assert sighting["sent_at"] == datetime(2026, 10, 12, 8, 35, 33, tzinfo=UTC).isoformat()
    assert sighting["locator"] == (
        "WhatsApp Chat - Test Group.zip > 00000042-PHOTO-2026-10-12-14-05-33.jpg"
    )
    assert result.counts.media_missing == 1
    again = _ingest(store, tmp_path, archive)
    assert again.counts.new_messages == 0


def test_messenger_download_ingest(store: Store, tmp_path: Path) -> None:
    from tests.chats import messenger_fixtures as fb

    known = picture(8)
    import_hashset(store, _refs(tmp_path / "refs.txt", [known]), name="ref")
    create_case(store, "c1")
    root = tmp_path / "facebook-user1"
    folder = fb.thread_dir(root, "2025", "inbox", "testgroup_123")
    rel = folder.relative_to(root).as_posix()
    fb.write_file(folder / "photos" / "1.jpg", known)
    fb.write_thread(
        folder,
        [
            fb.thread(
                ["Meena", "Dev", "Asha"],
                [
                    fb.message("Dev", 1_790_000_060_000, photos=[fb.photo(f"{rel}/photos/1.jpg")]),
                    fb.message("Meena", 1_790_000_000_000, "hello"),
                ],
                title="Test Group",
            )
        ],
    )
    result = _ingest(store, tmp_path, root)
    assert result.kind == "messenger"
    (sighting,) = result.new_sightings
    assert (sighting["chat"], sighting["account"], sighting["chat_kind"]) == (
        "Test Group",
        "Dev",
        "group",
    )
    (chat,) = list_chats(store)
    assert (chat["members_seen"], chat["member_count"]) == (3, 3)
