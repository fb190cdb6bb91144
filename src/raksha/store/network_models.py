"""Tables of the offender network: people, which accounts are theirs and why, every
identity decision (audited, reversible), and the graph's edges.

An account belongs to at most one person. Automatic resolution joins accounts on hard
identifiers only (the same E.164 phone number on two platforms, a referral that names
both); analysts merge and split, and every decision — automatic or not — is a row in
``identity_decisions`` with who, when and why, which an undo reverses.
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
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from raksha.store.models import Base, BigId, utcnow


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    notes: Mapped[str | None] = mapped_column(Text)


class PersonAccount(Base):
    """An account's person, and what tied it there."""

    __tablename__ = "person_accounts"
    __table_args__ = (UniqueConstraint("account_id", name="uq_person_accounts"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    basis: Mapped[str] = mapped_column(String(40))  # own, phone, referral, analyst
    decision_id: Mapped[int | None] = mapped_column(BigInteger)


class IdentityDecision(Base):
    """One merge or split, automatic or by an analyst, with who and why."""

    __tablename__ = "identity_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))  # merge, split, undo
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    person_id: Mapped[int | None] = mapped_column(Integer)
    other_person_id: Mapped[int | None] = mapped_column(Integer)
    account_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # for undo
    undone_by: Mapped[int | None] = mapped_column(BigInteger)


class GraphEdge(Base):
    """One relation between two nodes (person, account, group, device, item, referral)."""

    __tablename__ = "graph_edges"
    __table_args__ = (
        UniqueConstraint("src_kind", "src_id", "dst_kind", "dst_id", "kind", name="uq_graph_edges"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    src_kind: Mapped[str] = mapped_column(String(20))
    src_id: Mapped[str] = mapped_column(String(100))
    dst_kind: Mapped[str] = mapped_column(String(20))
    dst_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AccountPhoto(Base):
    """A profile photo of an account: a scanned item of the export it came in (its PDQ is
    the item's), so two accounts showing the same photo can be suggested as one person."""

    __tablename__ = "account_photos"
    __table_args__ = (
        UniqueConstraint("account_id", "evidence_id", "locator_key", name="uq_account_photos"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"))
    locator: Mapped[str] = mapped_column(Text)
    locator_key: Mapped[str] = mapped_column(String(64))


people_table = cast(Table, Person.__table__)
person_accounts_table = cast(Table, PersonAccount.__table__)
identity_decisions_table = cast(Table, IdentityDecision.__table__)
graph_edges_table = cast(Table, GraphEdge.__table__)
account_photos_table = cast(Table, AccountPhoto.__table__)
