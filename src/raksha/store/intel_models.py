"""Tables for intelligence that comes in from outside: referrals and public tips.

A referral (an NCMEC CyberTipline report, an INTERPOL alert) names accounts, files by
hash and IP captures; its files are matched against the reference sets on import and
its accounts linked to accounts already seen in groups (``referral_links``, with the
identifier that tied them). A tip is what a member of the public typed: a URL, an
invite link, a phone number or a username and free text, never media; it gets a
follow-up number and a status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from raksha.store.models import Base, BigId, utcnow


class ReferralRow(Base):
    __tablename__ = "referrals"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_referrals"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reporting_party: Mapped[str | None] = mapped_column(String(300))
    incident_type: Mapped[str | None] = mapped_column(String(300))
    incident_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    imported_from: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReferralAccount(Base):
    __tablename__ = "referral_accounts"
    __table_args__ = (UniqueConstraint("referral_id", "position", name="uq_referral_accounts"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str | None] = mapped_column(String(100))
    user_id: Mapped[str | None] = mapped_column(String(300))
    screen_name: Mapped[str | None] = mapped_column(String(300))
    display_name: Mapped[str | None] = mapped_column(String(300))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    profile_url: Mapped[str | None] = mapped_column(Text)
    addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    device_ids: Mapped[list[str]] = mapped_column(JSON, default=list)


class ReferralFile(Base):
    __tablename__ = "referral_files"
    __table_args__ = (UniqueConstraint("referral_id", "position", name="uq_referral_files"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str | None] = mapped_column(Text)
    original_file_name: Mapped[str | None] = mapped_column(Text)
    md5: Mapped[str | None] = mapped_column(String(32))
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64))
    classification: Mapped[list[str]] = mapped_column(JSON, default=list)
    viewed_by_esp: Mapped[bool | None] = mapped_column(Boolean)
    matches: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class ReferralIp(Base):
    __tablename__ = "referral_ips"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    port: Mapped[int | None] = mapped_column(Integer)
    event: Mapped[str | None] = mapped_column(String(100))
    account_position: Mapped[int | None] = mapped_column(Integer)


class ReferralLink(Base):
    """A reported account tied to an account seen in a group, and by which identifier."""

    __tablename__ = "referral_links"
    __table_args__ = (
        UniqueConstraint("referral_account_id", "account_id", name="uq_referral_links"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    referral_account_id: Mapped[int] = mapped_column(
        ForeignKey("referral_accounts.id", ondelete="CASCADE")
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    basis: Mapped[str] = mapped_column(String(40))


class Tip(Base):
    """A public tip: what the reporter typed and nothing about them beyond it."""

    __tablename__ = "tips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    follow_up: Mapped[str] = mapped_column(String(40), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="new")
    channel: Mapped[str] = mapped_column(String(20), default="cli")
    notes: Mapped[str | None] = mapped_column(Text)


referrals_table = cast(Table, ReferralRow.__table__)
referral_accounts_table = cast(Table, ReferralAccount.__table__)
referral_files_table = cast(Table, ReferralFile.__table__)
referral_ips_table = cast(Table, ReferralIp.__table__)
referral_links_table = cast(Table, ReferralLink.__table__)
tips_table = cast(Table, Tip.__table__)
