"""What a chat-export reader yields, whatever app wrote the export.

Readers turn an export (Telegram Desktop JSON, WhatsApp "Export chat", Facebook
Messenger "Download Your Information") into a stream of plain records: the chat
(:class:`ChatInfo`), then its messages (:class:`ChatMessage`), with :class:`ChatProblem`
for a record that could not be read (the rest still is). Readers know nothing about the
store or hashing; a reader holds one message at a time, so a chat of 100,000 messages is
read in flat memory.

Identity: every account is an :class:`AccountRef` with the most stable id the export
offers, in this order: a platform user id (Telegram ``from_id``), an E.164 phone number,
else a display name scoped to the export (``id_kind = "name"``), which is only as good as
the exporting phone's contact list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: Platforms, as stored.
TELEGRAM = "telegram"
WHATSAPP = "whatsapp"
MESSENGER = "messenger"

#: How an account is identified, most stable first.
ID_KINDS = ("user_id", "phone", "name")

#: Chat kinds, as stored (Telegram's own words mapped onto these).
CHAT_KINDS = ("personal", "group", "supergroup", "channel", "saved", "bot")

#: What a service message did to a membership.
SERVICE_ACTIONS = ("create", "invite", "join_by_link", "join", "remove", "leave", "other")


@dataclass(slots=True, frozen=True)
class AccountRef:
    """An account as a message names it: platform, id and how solid that id is.

    ``external_id`` is ``"user123"`` (Telegram), ``"+919847012345"`` (E.164), or the
    display name itself when nothing better exists; with ``id_kind = "name"`` the store
    scopes it to the export, so two exports' "Arun" are not merged by accident.
    """

    platform: str
    external_id: str
    id_kind: str
    display_name: str | None = None


@dataclass(slots=True)
class ChatInfo:
    """One chat (personal chat, group, supergroup or channel) of an export.

    ``chat_key`` is the platform's id where there is one (Telegram ``id``), else a key
    derived from what the export says (a WhatsApp export's file name, a Messenger
    ``thread_path``); it is what a later export of the same chat is recognised by.
    """

    platform: str
    chat_key: str
    title: str | None
    kind: str
    member_count: int | None = None
    subscriber_count: int | None = None
    participants: list[AccountRef] = field(default_factory=list)
    where: str = ""


@dataclass(slots=True, frozen=True)
class MediaRef:
    """An attachment a message names.

    ``path`` is relative to the export's root (``photos/photo_1@12-10-2019.jpg``) when the
    file was exported; ``None`` with ``missing`` saying why when it was not ("not
    included in the export", "media omitted"). ``kind`` is photo, video, animation,
    video_message, voice_message, audio, sticker, file.
    """

    kind: str
    path: str | None
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    missing: str | None = None


@dataclass(slots=True)
class ChatMessage:
    """One message or service event in a chat.

    ``message_key`` identifies it within its chat across exports: the platform message
    id (Telegram), else a digest of time + sender + text + attachment name (WhatsApp,
    Messenger). ``sent_at`` is UTC. ``action`` is set for service messages (joins,
    invites, removals) with ``members`` the accounts it concerns and ``actor`` who did it.
    """

    chat_key: str
    message_key: str
    sent_at: datetime | None
    sender: AccountRef | None
    text: str = ""
    reply_to: str | None = None
    forwarded_from: str | None = None
    forwarded_from_id: str | None = None
    media: list[MediaRef] = field(default_factory=list)
    action: str | None = None
    actor: AccountRef | None = None
    members: list[AccountRef] = field(default_factory=list)
    edited: bool = False
    deleted: bool = False
    where: str = ""


@dataclass(slots=True, frozen=True)
class ChatProblem:
    """A record that could not be read, where, and why; reading goes on after it."""

    where: str
    reason: str


@dataclass(slots=True, frozen=True)
class ExportOwner:
    """The account an export was made from (Telegram's ``personal_information``).

    On a seized device this is the device's own account: with the seizure's owner it is
    a hard identifier for identity resolution. ``phone`` is the account's number in
    E.164 when the export states one (it ties the account to the same number elsewhere).
    """

    account: AccountRef
    phone: str | None = None
    where: str = "personal_information"


@dataclass(slots=True, frozen=True)
class ProfilePhoto:
    """A profile picture of an account, as a file of the export (``path`` relative to its
    root). Its PDQ hash, taken when the export's files are scanned, lets an analyst be
    told that two accounts show the same photo (a soft identifier, never a merge)."""

    account: AccountRef
    path: str
    where: str = "profile_pictures"


ChatEvent = ChatInfo | ChatMessage | ChatProblem | ExportOwner | ProfilePhoto
