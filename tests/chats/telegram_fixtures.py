"""Synthetic Telegram Desktop exports, written by code in the shape Telegram writes them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from raksha.synthetic import images as synth

START = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"


def picture(seed: int) -> bytes:
    return synth.jpeg_bytes(synth.photo_like(seed, 320, 240), quality=85)


def _date(at: datetime) -> dict[str, str]:
    local = at.astimezone(UTC).replace(tzinfo=None) + timedelta(hours=5, minutes=30)
    return {"date": local.isoformat(timespec="seconds"), "date_unixtime": str(int(at.timestamp()))}


@dataclass
class ChatBuilder:
    """One chat: messages added in order, media files collected for the export folder."""

    name: str
    type: str
    id: int
    messages: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    next_id: int = 1

    def _base(self, minutes: int) -> dict[str, Any]:
        message: dict[str, Any] = {"id": self.next_id, **_date(START + timedelta(minutes=minutes))}
        self.next_id += 1
        self.messages.append(message)
        return message

    def post(
        self,
        minutes: int,
        sender: str,
        sender_id: str,
        text: str | list[Any] = "",
        *,
        photo: tuple[str, bytes] | None = None,
        video: tuple[str, bytes] | None = None,
        not_included: bool = False,
        forwarded_from: str | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        m = self._base(minutes)
        m.update({"type": "message", "from": sender, "from_id": sender_id, "text": text})
        m["text_entities"] = [{"type": "plain", "text": text if isinstance(text, str) else ""}]
        if forwarded_from:
            m["forwarded_from"] = forwarded_from
        if reply_to is not None:
            m["reply_to_message_id"] = reply_to
        if photo is not None:
            name, data = photo
            if not_included:
                m["photo"] = NOT_INCLUDED
            else:
                m["photo"] = f"photos/{name}"
                self.files[f"photos/{name}"] = data
            m["width"], m["height"] = 320, 240
        if video is not None:
            name, data = video
            m["file"] = NOT_INCLUDED if not_included else f"video_files/{name}"
            if not not_included:
                self.files[f"video_files/{name}"] = data
            m.update({"media_type": "video_file", "mime_type": "video/mp4", "file_name": name})
        return m

    def service(
        self, minutes: int, action: str, actor: str, actor_id: str, **extra: Any
    ) -> dict[str, Any]:
        m = self._base(minutes)
        m.update({"type": "service", "actor": actor, "actor_id": actor_id, "action": action})
        m.update(extra)
        m.setdefault("text", "")
        return m

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "id": self.id, "messages": self.messages}


def write_single(folder: Path, chat: ChatBuilder) -> Path:
    """A single-chat export: the root of result.json is the chat."""
    folder.mkdir(parents=True, exist_ok=True)
    for rel, data in chat.files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    (folder / "result.json").write_text(json.dumps(chat.as_json(), ensure_ascii=False, indent=1))
    return folder


def write_full(
    folder: Path,
    chats: list[ChatBuilder],
    left: list[ChatBuilder] | None = None,
    owner: dict[str, Any] | None = None,
) -> Path:
    """A full export: personal information (``owner``), contacts, chats and left chats."""
    folder.mkdir(parents=True, exist_ok=True)
    left = left or []
    for chat in [*chats, *left]:
        for rel, data in chat.files.items():
            target = folder / "chats" / f"chat_{chat.id}" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    root = {
        "about": "Here is the data you requested.",
        "personal_information": owner
        or {"user_id": 900, "first_name": "Exporting", "last_name": "Officer"},
        "contacts": {"about": "", "list": []},
        "chats": {"about": "", "list": [_relocated(c) for c in chats]},
        "left_chats": {"about": "", "list": [_relocated(c) for c in left]},
    }
    (folder / "result.json").write_text(json.dumps(root, ensure_ascii=False))
    return folder


def _relocated(chat: ChatBuilder) -> dict[str, Any]:
    """In a full export media paths are relative to the root: chats/chat_ID/photos/..."""
    out = chat.as_json()
    messages = []
    for original in chat.messages:
        m = dict(original)
        for key in ("photo", "file"):
            if isinstance(m.get(key), str) and not m[key].startswith("("):
                m[key] = f"chats/chat_{chat.id}/{m[key]}"
        messages.append(m)
    out["messages"] = messages
    return out


def channel_with_known_posts(known: list[bytes], other: list[bytes]) -> ChatBuilder:
    """A public channel: an admin posts known and other pictures; one post's photo was not
    exported; one is forwarded from another channel; people join by link."""
    ch = ChatBuilder("Test Channel Alpha", "public_channel", 1700000001)
    ch.service(0, "create_channel", "Alpha Admin", "channel1700000001", title="Test Channel Alpha")
    for i, data in enumerate(known):
        ch.post(
            10 + i,
            "Test Channel Alpha",
            "channel1700000001",
            f"post {i}",
            photo=(f"photo_{i}@01-10-2026_08-1{i}-00.jpg", data),
        )
    for j, data in enumerate(other):
        ch.post(30 + j, "Test Channel Alpha", "channel1700000001", photo=(f"other_{j}.jpg", data))
    ch.post(
        40,
        "Test Channel Alpha",
        "channel1700000001",
        "unseen",
        photo=("gone.jpg", b""),
        not_included=True,
    )
    ch.post(
        41,
        "Test Channel Alpha",
        "channel1700000001",
        [{"type": "bold", "text": "fwd"}, " ok"],
        forwarded_from="Other Channel",
    )
    return ch


def group_with_members(known: bytes) -> ChatBuilder:
    """A supergroup: created, members invited and joining by link, one removed, posts."""
    g = ChatBuilder("Test Group Beta", "private_supergroup", 1800000002)
    g.service(0, "create_group", "Ravi K", "user101", title="Test Group Beta", members=["Ravi K"])
    g.service(1, "invite_members", "Ravi K", "user101", members=["Sunil M", "Anu P"])
    g.service(2, "join_group_by_link", "Deepa R", "user104", inviter="Ravi K")
    first = g.post(5, "Sunil M", "user102", "hello all")
    g.post(6, "Anu P", "user103", "hi", reply_to=first["id"])
    g.post(7, "Sunil M", "user102", "", photo=("photo_1.jpg", known))
    g.service(9, "remove_members", "Ravi K", "user101", members=["Anu P"])
    return g
