"""Tables of the operation and the court: users and their sessions, who may see which case,
the case record itself (FIR, station, sections, accused, linked referrals and tips),
operations and raid targets, seizures and their chain of custody, confirmed new
material, generated reports, and the append-only audit log.

The ``cases`` table itself lives in ``models`` (every scan belongs to a case); the columns
the cases issue added to it are declared there too.
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


class User(Base):
    """Someone who logs in. The password is kept only as an argon2 hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    """A login: only the SHA-256 of its token is stored, so a copied database logs no one in."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client: Mapped[str] = mapped_column(String(20), default="cli")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CaseMember(Base):
    """A user assigned to a case: analysts and investigators see only their cases."""

    __tablename__ = "case_members"
    __table_args__ = (UniqueConstraint("case_id", "user_id", name="uq_case_members"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    added_by: Mapped[str | None] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LegalSection(Base):
    """A section a case may be registered under (the list is the unit's to change)."""

    __tablename__ = "legal_sections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)  # e.g. "IT Act s.67B"
    title: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CaseAccused(Base):
    """A resolved person accused in a case."""

    __tablename__ = "case_accused"
    __table_args__ = (UniqueConstraint("case_id", "person_id", name="uq_case_accused"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    added_by: Mapped[str | None] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # arrested, absconding, … (free text; the status of the case itself is on the case)
    status: Mapped[str | None] = mapped_column(String(40))


class CaseLink(Base):
    """A referral or a tip that a case follows up."""

    __tablename__ = "case_links"
    __table_args__ = (
        UniqueConstraint("case_id", "target_kind", "target_id", name="uq_case_links"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(String(20))  # referral, tip
    target_id: Mapped[int] = mapped_column(Integer)
    added_by: Mapped[str | None] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Operation(Base):
    """A named drive: simultaneous raids at many places."""

    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RaidTarget(Base):
    """One place of an operation: who is expected there, which team goes, and what happened."""

    __tablename__ = "raid_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str] = mapped_column(String(100))
    police_station: Mapped[str | None] = mapped_column(String(200))
    team_lead: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[list[str]] = mapped_column(JSON, default=list)
    planned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="planned")
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrests: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(100))


class RaidTargetCase(Base):
    """A case registered as an outcome of a raid."""

    __tablename__ = "raid_target_cases"
    __table_args__ = (UniqueConstraint("target_id", "case_id", name="uq_raid_target_cases"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("raid_targets.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))


class Seizure(Base):
    """A seized device or medium, sealed, from whom, where and when.

    Images and extractions made from it are ``evidence`` rows with its ``seizure_id``, so a
    hit traces back through its item and evidence to a device, a place and a person.
    """

    __tablename__ = "seizures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    raid_target_id: Mapped[int | None] = mapped_column(
        ForeignKey("raid_targets.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(20))
    make: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    serial: Mapped[str | None] = mapped_column(String(100))
    imei: Mapped[str | None] = mapped_column(String(40))
    seal_label: Mapped[str] = mapped_column(String(100), unique=True)
    seized_from_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    seized_from: Mapped[str | None] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(String(100))
    seized_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seized_by: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EvidenceAccount(Base):
    """An account that evidence itself belongs to, e.g. the account a Telegram export was
    made from. When the evidence was extracted from a seized device, this is an account
    found on that device: with the seizure's owner, a hard identifier."""

    __tablename__ = "evidence_accounts"
    __table_args__ = (UniqueConstraint("evidence_id", "account_id", name="uq_evidence_accounts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    basis: Mapped[str] = mapped_column(String(40))  # export owner, analyst
    phone: Mapped[str | None] = mapped_column(String(40))


class CustodyEvent(Base):
    """One step in an exhibit's chain of custody, with what re-verifying its images found.

    ``verification`` holds one entry per image of the exhibit:
    ``{"evidence_id", "expected", "observed", "result"}``; ``flags`` holds the gaps and
    mismatches this step revealed, in words.
    """

    __tablename__ = "custody_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seizure_id: Mapped[int] = mapped_column(ForeignKey("seizures.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by_whom: Mapped[str] = mapped_column(String(200))
    to_whom: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    verification: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NewMaterial(Base):
    """An item an analyst confirmed as abuse material that no reference set holds yet."""

    __tablename__ = "new_material"
    __table_args__ = (UniqueConstraint("item_id", name="uq_new_material_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    category: Mapped[str | None] = mapped_column(String(40))
    confirmed_by: Mapped[str] = mapped_column(String(100))
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    notes: Mapped[str | None] = mapped_column(Text)


class Report(Base):
    """A generated report, registered by the SHA-256 of its file."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    operation_id: Mapped[int | None] = mapped_column(
        ForeignKey("operations.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(30))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    tool_version: Mapped[str] = mapped_column(String(40))
    generated_by: Mapped[str] = mapped_column(String(100))
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """One entry of the append-only audit log.

    ``entry_hash`` is the SHA-256 of this entry's fields and ``prev_hash`` (the previous
    entry's ``entry_hash``), so editing, inserting or deleting an entry breaks the chain.
    Triggers refuse UPDATE and DELETE on the table.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(Integer)
    object_kind: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


users_table = cast(Table, User.__table__)
user_sessions_table = cast(Table, UserSession.__table__)
case_members_table = cast(Table, CaseMember.__table__)
legal_sections_table = cast(Table, LegalSection.__table__)
case_accused_table = cast(Table, CaseAccused.__table__)
case_links_table = cast(Table, CaseLink.__table__)
operations_table = cast(Table, Operation.__table__)
raid_targets_table = cast(Table, RaidTarget.__table__)
raid_target_cases_table = cast(Table, RaidTargetCase.__table__)
seizures_table = cast(Table, Seizure.__table__)
evidence_accounts_table = cast(Table, EvidenceAccount.__table__)
custody_events_table = cast(Table, CustodyEvent.__table__)
new_material_table = cast(Table, NewMaterial.__table__)
reports_table = cast(Table, Report.__table__)
audit_log_table = cast(Table, AuditEntry.__table__)
