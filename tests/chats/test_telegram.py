"""The Telegram Desktop JSON reader on exports written by code: single-chat and full
exports, every chat kind, service messages, forwards, media not exported, damage."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from raksha.chats.records import AccountRef, ChatInfo, ChatMessage, ChatProblem, ExportOwner
from raksha.chats.telegram import looks_like_telegram, read_telegram
from raksha.chats.tree import FolderTree, ZipTree
from tests.chats.telegram_fixtures import (
    START,
    ChatBuilder,
    channel_with_known_posts,
    group_with_members,
    picture,
    write_full,
    write_single,
)


def _events(folder: Path) -> list[object]:
    return list(read_telegram(FolderTree(folder)))


def test_single_channel_export(tmp_path: Path) -> None:
    known = [picture(1), picture(2)]
    export = write_single(
        tmp_path / "ChatExport_2026-10-01", channel_with_known_posts(known, [picture(3)])
    )
    events = _events(export)
    info = events[0]
    assert isinstance(info, ChatInfo)
    assert (info.platform, info.chat_key, info.title, info.kind) == (
        "telegram",
        "telegram:1700000001",
        "Test Channel Alpha",
        "channel",
    )
    messages = [e for e in events if isinstance(e, ChatMessage)]
    assert len(messages) == 6 and not [e for e in events if isinstance(e, ChatProblem)]
    create, post0 = messages[0], messages[1]
    assert create.action == "create" and create.sender is None
    assert post0.message_key == "2" and post0.text == "post 0"
    assert post0.sent_at == datetime(2026, 10, 1, 8, 10, tzinfo=UTC)
    assert post0.sender is not None and post0.sender.external_id == "channel1700000001"
    assert post0.media[0].kind == "photo"
    assert post0.media[0].path == "photos/photo_0@01-10-2026_08-10-00.jpg"
    unseen = messages[-2]
    assert unseen.media[0].path is None and "not included" in (unseen.media[0].missing or "")
    forwarded = messages[-1]
    assert forwarded.forwarded_from == "Other Channel" and forwarded.text == "fwd ok"


def test_group_service_messages_and_replies(tmp_path: Path) -> None:
    export = write_single(tmp_path / "g", group_with_members(picture(5)))
    messages = [e for e in _events(export) if isinstance(e, ChatMessage)]
    kinds = [
        (m.action, m.actor.external_id if m.actor else None, [a.external_id for a in m.members])
        for m in messages
        if m.action
    ]
    assert kinds == [
        ("create", "user101", ["Ravi K"]),
        ("invite", "user101", ["Sunil M", "Anu P"]),
        ("join_by_link", "Ravi K", ["user104"]),
        ("remove", "user101", ["Anu P"]),
    ]
    reply = next(m for m in messages if m.text == "hi")
    assert reply.reply_to == "4"
    info = _events(export)[0]
    assert isinstance(info, ChatInfo) and info.kind == "supergroup"


def test_full_export_with_several_chats_and_left_chats(tmp_path: Path) -> None:
    channel = channel_with_known_posts([picture(1)], [])
    group = group_with_members(picture(5))
    personal = ChatBuilder("Sunil M", "personal_chat", 102)
    personal.post(3, "Sunil M", "user102", "call me")
    export = write_full(tmp_path / "full", [channel, personal], left=[group])
    events = _events(export)
    infos = [e for e in events if isinstance(e, ChatInfo)]
    assert [(i.chat_key, i.kind) for i in infos] == [
        ("telegram:1700000001", "channel"),
        ("telegram:102", "personal"),
        ("telegram:1800000002", "supergroup"),
    ]
    photo = next(m for m in events if isinstance(m, ChatMessage) and m.media and m.media[0].path)
    assert photo.media[0].path == "chats/chat_1700000001/photos/photo_0@01-10-2026_08-10-00.jpg"
    assert (export / photo.media[0].path).exists()


def test_full_export_names_the_account_it_was_made_from(tmp_path: Path) -> None:
    personal = ChatBuilder("Sunil M", "personal_chat", 102)
    personal.post(3, "Sunil M", "user102", "call me")
    owner = {"user_id": 777, "first_name": "Kiran", "phone_number": "+91 98470 12345"}
    events = _events(write_full(tmp_path / "full", [personal], owner=owner))
    (found,) = [e for e in events if isinstance(e, ExportOwner)]
    assert found.account == AccountRef("telegram", "user777", "user_id", "Kiran")
    assert found.phone == "+919847012345"
    # A single-chat export names no owner.
    assert not [
        e for e in _events(write_single(tmp_path / "one", personal)) if isinstance(e, ExportOwner)
    ]


def test_date_without_unixtime_is_read_in_the_export_zone(tmp_path: Path) -> None:
    chat = ChatBuilder("Old", "private_group", 5)
    m = chat.post(0, "A", "user1", "x")
    del m["date_unixtime"]
    export = write_single(tmp_path / "old", chat)
    (message,) = [e for e in _events(export) if isinstance(e, ChatMessage)]
    assert message.sent_at == START  # 13:30 in Asia/Kolkata is 08:00 UTC


def test_truncated_export_keeps_what_came_before(tmp_path: Path) -> None:
    chat = ChatBuilder("Big", "public_supergroup", 9)
    for i in range(50):
        chat.post(i, "A", "user1", f"message {i}")
    export = write_single(tmp_path / "t", chat)
    text = (export / "result.json").read_text()
    (export / "result.json").write_text(text[: len(text) * 2 // 3])
    events = _events(export)
    messages = [e for e in events if isinstance(e, ChatMessage)]
    problems = [e for e in events if isinstance(e, ChatProblem)]
    assert 20 < len(messages) < 50
    assert [m.text for m in messages] == [f"message {i}" for i in range(len(messages))]
    assert len(problems) == 1 and "truncated" in problems[0].reason


def test_bad_records_are_problems_and_reading_goes_on(tmp_path: Path) -> None:
    chat = ChatBuilder("Odd", "private_group", 11)
    chat.post(0, "A", "user1", "fine")
    chat.messages.append({"type": "message", "text": "no id"})
    chat.messages.append({"id": 99, "type": "message", "date_unixtime": "not a number"})
    chat.post(2, "B", "user2", "", photo=("x.jpg", b""))
    chat.messages[-1]["photo"] = "../../../etc/passwd"
    chat.post(3, "B", "user2", "still read")
    export = write_single(tmp_path / "odd", chat)
    events = _events(export)
    texts = [e.text for e in events if isinstance(e, ChatMessage)]
    assert texts == ["fine", "", "still read"]
    escaped = next(e for e in events if isinstance(e, ChatMessage) and e.media)
    assert escaped.media[0].path is None and "outside the export" in (
        escaped.media[0].missing or ""
    )
    reasons = [e.reason for e in events if isinstance(e, ChatProblem)]
    assert len(reasons) == 2 and "without an id" in reasons[0]


def test_zip_delivered_export_and_sniffing(tmp_path: Path) -> None:
    import zipfile

    export = write_single(tmp_path / "z", channel_with_known_posts([picture(1)], []))
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(export.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(export).as_posix())
    tree = ZipTree(archive)
    events = list(read_telegram(tree))
    assert sum(isinstance(e, ChatMessage) for e in events) == 4
    assert looks_like_telegram((export / "result.json").read_bytes()[:4096])
    assert not looks_like_telegram(json.dumps({"value": [{"MD5": "x"}]}).encode())


@pytest.mark.slow
def test_a_100000_message_channel_streams(tmp_path: Path) -> None:
    folder = tmp_path / "huge"
    folder.mkdir()
    with (folder / "result.json").open("w") as f:
        f.write('{"name": "Huge", "type": "public_channel", "id": 77, "messages": [')
        for i in range(100_000):
            if i:
                f.write(",")
            f.write(
                json.dumps(
                    {
                        "id": i + 1,
                        "type": "message",
                        "date_unixtime": str(1790000000 + i),
                        "from": "Huge",
                        "from_id": "channel77",
                        "text": f"post {i}",
                    }
                )
            )
        f.write("]}")
    count = sum(1 for e in read_telegram(FolderTree(folder)) if isinstance(e, ChatMessage))
    assert count == 100_000
