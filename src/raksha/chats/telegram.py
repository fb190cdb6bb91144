"""Telegram Desktop "Export chat history" (machine-readable JSON, ``result.json``).

Two shapes: a full export (``personal_information``, ``chats.list[]``, ``left_chats.list[]``)
and a single-chat export whose root *is* the chat. Either is read as a stream of JSON
events (``ijson``): each message is built, turned into a :class:`ChatMessage` and
dropped, so a channel of 100,000 posts is read in flat memory. Chat fields (``name``,
``type``, ``id``) come before ``messages`` in what Telegram writes; the chat record is
yielded when its first message (or its end) is reached.

Times: ``date_unixtime`` (epoch seconds, UTC) is preferred; older exports only have
``date``, the exporting computer's local time without a zone, read in ``tz``.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import ijson

from raksha.chats.identity import DEFAULT_REGION, e164
from raksha.chats.records import (
    TELEGRAM,
    AccountRef,
    ChatEvent,
    ChatInfo,
    ChatMessage,
    ChatProblem,
    ExportOwner,
    MediaRef,
    ProfilePhoto,
)
from raksha.chats.tree import ExportTree, resolve_media

logger = logging.getLogger(__name__)

NAME = "telegram"
RESULT = "result.json"

_KINDS = {
    "personal_chat": "personal",
    "bot_chat": "bot",
    "saved_messages": "saved",
    "replies": "saved",
    "private_group": "group",
    "private_supergroup": "supergroup",
    "public_supergroup": "supergroup",
    "private_channel": "channel",
    "public_channel": "channel",
}
_MEDIA_KINDS = {
    "video_file": "video",
    "animation": "animation",
    "video_message": "video_message",
    "voice_message": "voice_message",
    "audio_file": "audio",
    "sticker": "sticker",
}
_ACTIONS = {
    "create_group": "create",
    "create_channel": "create",
    "migrate_from_group": "other",
    "invite_members": "invite",
    "join_group_by_link": "join_by_link",
    "join_group_by_request": "join",
    "remove_members": "remove",
}
_CHAT_PREFIXES = ("chats.list.item", "left_chats.list.item")
#: The exporting account's own records in a full export: who it is, its profile pictures.
_PHOTO_PREFIXES = ("profile_pictures.item", "profile_pictures.list.item")
_OWN_PREFIXES = ("personal_information", *_PHOTO_PREFIXES)


def find_result(tree: ExportTree) -> str | None:
    """The ``result.json`` of an export: at the root, or in the one folder that holds
    everything (a zip of ``ChatExport_2026-10-01/``)."""
    if tree.exists(RESULT):
        return RESULT
    names = tree.names()
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        nested = f"{tops.pop()}/{RESULT}"
        return nested if tree.exists(nested) else None
    return None


def looks_like_telegram(head: bytes) -> bool:
    """Whether the first bytes of a JSON file are a Telegram Desktop export."""
    text = head.decode("utf-8", "replace")
    if '"messages"' not in text and '"chats"' not in text and '"personal_information"' not in text:
        return False
    return any(
        marker in text for marker in ('"date_unixtime"', '"personal_chat"', '"about"', '"type"')
    ) and ('"id"' in text or '"about"' in text)


def read_telegram(
    tree: ExportTree,
    *,
    tz: str = "Asia/Kolkata",
    result: str | None = None,
    region: str = DEFAULT_REGION,
) -> Iterator[ChatEvent]:
    """Every chat and message of a Telegram export, as records."""
    name = result or find_result(tree)
    if name is None:
        yield ChatProblem(tree.label, "no result.json in the export: is it a Telegram export?")
        return
    base = posixpath.dirname(name)
    with tree.open(name) as stream:
        yield from _Reader(tree, base, ZoneInfo(tz), region).read(stream)


class _OwnerBuilder(ijson.ObjectBuilder):  # type: ignore[misc]
    """Builds ``personal_information`` (told apart from a message's builder by its type)."""


class _Reader:
    def __init__(self, tree: ExportTree, base: str, tz: ZoneInfo, region: str) -> None:
        self.region = region
        self.owner: AccountRef | None = None
        self.tree = tree
        self.base = base
        self.tz = tz
        self.count = 0

    def read(self, stream: BinaryIO) -> Iterator[ChatEvent]:
        """Walk the JSON events; ``scope`` is the prefix of the chat being read.

        The root is the chat in a single-chat export (scope ``""``); in a full export
        each ``chats.list.item`` (and ``left_chats.list.item``) opens a new scope.
        """
        scope = ""
        chat: dict[str, Any] = {}
        emitted = False
        builder: Any = None
        try:
            for prefix, event, value in ijson.parse(stream, use_float=True):
                if builder is not None:
                    builder.event(event, value)
                    if isinstance(builder, _OwnerBuilder):
                        if event == "end_map" and prefix == "personal_information":
                            owner = self._owner(builder.value)
                            if owner is not None:
                                self.owner = owner.account
                                yield owner
                            builder = None
                        elif event == "end_map" and prefix in _PHOTO_PREFIXES:
                            photo = self._profile_photo(builder.value)
                            if photo is not None:
                                yield photo
                            builder = None
                    elif event == "end_map" and prefix == _join(scope, "messages.item"):
                        yield from self._message(chat, builder.value)
                        builder = None
                    continue
                if event == "start_map" and prefix in _OWN_PREFIXES and not scope:
                    builder = _OwnerBuilder()
                    builder.event(event, value)
                    continue
                if event == "start_map" and prefix in _CHAT_PREFIXES:
                    scope, chat, emitted = prefix, {}, False
                elif prefix in {_join(scope, k) for k in ("name", "type", "id")}:
                    chat[prefix.rsplit(".", 1)[-1]] = value
                elif event == "start_map" and prefix == _join(scope, "messages.item"):
                    if not emitted:
                        yield self._chat(chat)
                        emitted = True
                    builder = ijson.ObjectBuilder()
                    builder.event(event, value)
                elif event == "end_map" and prefix == scope:
                    if chat and not emitted:
                        yield self._chat(chat)
                    scope, chat, emitted = "", {}, False
        except ijson.common.IncompleteJSONError as exc:
            yield ChatProblem(
                f"after message {self.count}",
                f"the export's JSON is damaged or truncated ({exc}); messages before it kept",
            )
        except (ijson.common.JSONError, UnicodeDecodeError, ValueError) as exc:
            yield ChatProblem(f"after message {self.count}", f"not readable as JSON: {exc}")

    def _owner(self, raw: Any) -> ExportOwner | None:
        """The exporting account, from ``personal_information`` (``user_id``, names, phone)."""
        if not isinstance(raw, dict) or raw.get("user_id") in (None, ""):
            return None
        names = [raw.get("first_name"), raw.get("last_name")]
        shown = " ".join(str(n) for n in names if n) or None
        account = AccountRef(TELEGRAM, f"user{raw['user_id']}", "user_id", shown)
        phone = raw.get("phone_number")
        return ExportOwner(account, e164(str(phone), self.region) if phone else None)

    def _profile_photo(self, raw: Any) -> ProfilePhoto | None:
        """One of the exporting account's profile pictures, when its file was exported."""
        if self.owner is None or not isinstance(raw, dict) or not isinstance(raw.get("photo"), str):
            return None
        rel, _problem = resolve_media(self.base, raw["photo"])
        if rel is None or not self.tree.exists(rel):
            return None
        return ProfilePhoto(self.owner, rel)

    def _chat_key(self, raw: dict[str, Any]) -> str:
        chat_id = raw.get("id")
        if isinstance(chat_id, (int, float)):
            return f"telegram:{int(chat_id)}"
        return f"telegram:name:{raw.get('name') or self.tree.label}"

    def _chat(self, raw: dict[str, Any]) -> ChatInfo:
        kind = _KINDS.get(str(raw.get("type") or ""), "group")
        title = raw.get("name")
        return ChatInfo(
            TELEGRAM, self._chat_key(raw), str(title) if title else None, kind, where="chat"
        )

    def _message(self, chat: dict[str, Any], raw: Any) -> Iterator[ChatEvent]:
        self.count += 1
        where = f"message {self.count}"
        chat_key = self._chat_key(chat)
        if not isinstance(raw, dict):
            yield ChatProblem(where, "a message that is not a JSON object")
            return
        message_id = raw.get("id")
        if message_id is None:
            yield ChatProblem(where, "a message without an id: it cannot be told apart, skipped")
            return
        try:
            yield self._build(chat_key, raw, where)
        except (TypeError, ValueError, OverflowError) as exc:
            yield ChatProblem(f"{where} (id {message_id})", f"unreadable message: {exc}")

    def _build(self, chat_key: str, raw: dict[str, Any], where: str) -> ChatMessage:
        message = ChatMessage(
            chat_key,
            str(raw["id"]),
            self._time(raw),
            _account(raw.get("from_id"), raw.get("from")),
            text=_text(raw.get("text")),
            where=f"{where} (id {raw['id']})",
        )
        if raw.get("reply_to_message_id") is not None:
            message.reply_to = str(raw["reply_to_message_id"])
        forwarded = raw.get("forwarded_from") or raw.get("saved_from")
        if forwarded:
            message.forwarded_from = str(forwarded)
        if raw.get("forwarded_from_id"):
            message.forwarded_from_id = str(raw["forwarded_from_id"])
        message.edited = bool(raw.get("edited") or raw.get("edited_unixtime"))
        if raw.get("type") == "service":
            self._service(message, raw)
        message.media = self._media(raw)
        return message

    def _time(self, raw: dict[str, Any]) -> datetime | None:
        unix = raw.get("date_unixtime")
        if unix not in (None, ""):
            return datetime.fromtimestamp(int(unix), tz=UTC)
        date = raw.get("date")
        if not date:
            return None
        local = datetime.fromisoformat(str(date))
        if local.tzinfo is None:
            local = local.replace(tzinfo=self.tz)
        return local.astimezone(UTC)

    def _service(self, message: ChatMessage, raw: dict[str, Any]) -> None:
        action = str(raw.get("action") or "")
        message.action = _ACTIONS.get(action, "other")
        message.actor = _account(raw.get("actor_id"), raw.get("actor"))
        message.sender = None
        members = raw.get("members") or []
        if isinstance(members, list):
            message.members = [AccountRef(TELEGRAM, str(m), "name", str(m)) for m in members if m]
        if message.action == "join_by_link" and message.actor is not None:
            message.members = [message.actor]
            inviter = raw.get("inviter")
            message.actor = (
                AccountRef(TELEGRAM, str(inviter), "name", str(inviter)) if inviter else None
            )
        if not message.text:
            title = raw.get("title")
            message.text = f"{action}: {title}" if title else action

    def _media(self, raw: dict[str, Any]) -> list[MediaRef]:
        out: list[MediaRef] = []
        if "photo" in raw:
            out.append(self._ref("photo", raw.get("photo"), raw, "image/jpeg"))
        if "file" in raw:
            kind = _MEDIA_KINDS.get(str(raw.get("media_type") or ""), "file")
            out.append(self._ref(kind, raw.get("file"), raw, raw.get("mime_type")))
        return out

    def _ref(self, kind: str, path: Any, raw: dict[str, Any], mime: Any) -> MediaRef:
        name = raw.get("file_name")
        size = raw.get("file_size") if isinstance(raw.get("file_size"), int) else None
        mime_type = str(mime) if mime else None
        text = str(path) if path else ""
        if not text or text.startswith("(File ") or "not included" in text:
            missing = text.strip("()") if text else "media not exported"
            return MediaRef(kind, None, name, mime_type, size, missing or "media not exported")
        rel, problem = resolve_media(self.base, text)
        if rel is None:
            return MediaRef(kind, None, name, mime_type, size, problem)
        if not self.tree.exists(rel):
            return MediaRef(
                kind,
                None,
                name or posixpath.basename(rel),
                mime_type,
                size,
                "named in the export but the file is not there",
            )
        return MediaRef(kind, rel, name or posixpath.basename(rel), mime_type, size)


def _join(scope: str, key: str) -> str:
    return f"{scope}.{key}" if scope else key


def _account(raw_id: Any, name: Any) -> AccountRef | None:
    shown = str(name) if name else None
    if raw_id:
        return AccountRef(TELEGRAM, str(raw_id), "user_id", shown)
    if shown:
        return AccountRef(TELEGRAM, shown, "name", shown)
    return None


def _text(value: Any) -> str:
    """``text`` is a string or a list of strings and ``{type, text}`` entities."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                parts.append(str(part.get("text", "")))
        return "".join(parts)
    return str(value)
