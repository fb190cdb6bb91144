"""Tables for what chat exports, referrals and tips say: who posted what, where, when.

A known image is evidence; *who posted it, in which group, when, and to how many people*
is the case. Accounts are unique by platform, kind of id and id; an account known only
by a display name is scoped to its chat (``scope``), so two exports' "Arun" are never
merged by accident. Chats are unique by platform and the platform's key; messages by
chat and message key, which is what lets a later export of the same chat add only what
is new. A message's media point at the scanned items by evidence and locator key, so a
*sighting* (a message whose media matched a reference hash) is a join, never a copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from raksha.store.models import Base, BigId, utcnow


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("platform", "id_kind", "external_id", "scope", name="uq_accounts"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(20))
    id_kind: Mapped[str] = mapped_column(String(12))
    external_id: Mapped[str] = mapped_column(String(300))
    scope: Mapped[str] = mapped_column(String(300), default="")
    display_name: Mapped[str | None] = mapped_column(String(300))
    first_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Chat(Base):
    """A group, supergroup, channel or personal chat the unit holds exports of."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "chat_key", name="uq_chats"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    chat_key: Mapped[str] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    member_count: Mapped[int | None] = mapped_column(Integer)
    subscriber_count: Mapped[int | None] = mapped_column(Integer)
    first_ingested: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_ingested: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChatMember(Base):
    """An account's membership of a chat: when first and last seen, joined, left, invited."""

    __tablename__ = "chat_members"
    __table_args__ = (UniqueConstraint("chat_id", "account_id", name="uq_chat_members"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20), default="member")
    how: Mapped[str | None] = mapped_column(String(20))
    invited_by: Mapped[int | None] = mapped_column(BigInteger)
    joined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MembershipEvent(Base):
    """One join, invite, removal or departure, as a service message recorded it."""

    __tablename__ = "membership_events"
    __table_args__ = (UniqueConstraint("message_id", "account_id", name="uq_membership_events"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_key", name="uq_messages"),
        Index("ix_messages_account", "account_id"),
        Index("ix_messages_evidence", "evidence_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    message_key: Mapped[str] = mapped_column(String(100))
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    text: Mapped[str | None] = mapped_column(Text)
    reply_to: Mapped[str | None] = mapped_column(String(100))
    forwarded_from: Mapped[str | None] = mapped_column(Text)
    forwarded_from_id: Mapped[str | None] = mapped_column(String(300))
    action: Mapped[str | None] = mapped_column(String(20))
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    media_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MessageMedia(Base):
    """An attachment of a message; ``locator_key`` joins it to the scanned item, if any."""

    __tablename__ = "message_media"
    __table_args__ = (
        UniqueConstraint("message_id", "position", name="uq_message_media"),
        Index("ix_message_media_item", "evidence_id", "locator_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    evidence_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    locator: Mapped[str | None] = mapped_column(Text)
    locator_key: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(Text)
    mime_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(BigInteger)
    missing: Mapped[str | None] = mapped_column(Text)


class ChatProblemRow(Base):
    """A record of an export that could not be read, and why (the rest was ingested)."""

    __tablename__ = "chat_problems"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"))
    where: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


class Watch(Base):
    """A drop folder whose new exports of a chat are ingested by ``raksha watch run``."""

    __tablename__ = "watches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    path: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str | None] = mapped_column(String(20))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_run: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


accounts_table = cast(Table, Account.__table__)
chats_table = cast(Table, Chat.__table__)
chat_members_table = cast(Table, ChatMember.__table__)
membership_events_table = cast(Table, MembershipEvent.__table__)
messages_table = cast(Table, Message.__table__)
message_media_table = cast(Table, MessageMedia.__table__)
chat_problems_table = cast(Table, ChatProblemRow.__table__)
watches_table = cast(Table, Watch.__table__)
