"""SQLAlchemy models: the one schema every part of Raksha reads and the store writes.

The schema is created and changed only by the Alembic migrations in
``raksha/store/migrations``; these classes describe it for queries. A test checks that
the migrated database and these models agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Auto-incrementing 64-bit key that is SQLite's ROWID on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """Timestamps are stored in UTC, always."""
    return datetime.now(UTC)


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with its offset, whatever the database handed back.

    SQLite keeps no zone: a time stored as UTC comes back naive and is UTC.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


class Base(DeclarativeBase):
    """Declarative base of every Raksha table."""


class RecordColumns:
    """What a reference record says about one media item; reference rows and staging rows
    both carry it (``RECORD_COLUMNS`` names them for the set-based merge)."""

    record_key: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(40))
    victim_identified: Mapped[bool | None] = mapped_column(Boolean)
    offender_identified: Mapped[bool | None] = mapped_column(Boolean)
    distributed: Mapped[bool | None] = mapped_column(Boolean)
    baseline: Mapped[bool | None] = mapped_column(Boolean)
    series: Mapped[str | None] = mapped_column(String(200))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    media_size: Mapped[int | None] = mapped_column(BigInteger)
    file_name: Mapped[str | None] = mapped_column(String(500))
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class HashSet(Base):
    """A reference set (flags matches) or a known-file set (NSRL: skips files, never flags)."""

    __tablename__ = "hash_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="reference")
    source_agency: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    format_name: Mapped[str | None] = mapped_column(String(40))
    format_info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    category_scheme: Mapped[str] = mapped_column(String(40), default="none")
    category_map: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pdq_threshold: Mapped[int] = mapped_column(Integer, default=31)
    # Videos match when this percentage of frames matched (None: the default, 80).
    video_threshold: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    imports: Mapped[list[HashSetImport]] = relationship(
        back_populates="hash_set", cascade="all, delete-orphan", order_by="HashSetImport.id"
    )


class ReferenceHash(RecordColumns, Base):
    """One hash value of one reference media item in one set.

    A media item with an MD5, a SHA-1 and a PDQ is three rows sharing ``record_key``;
    exporting regroups them. ``(set_id, algorithm, value)`` is unique, so a set never holds
    the same hash twice.
    """

    __tablename__ = "reference_hashes"
    __table_args__ = (
        UniqueConstraint("set_id", "algorithm", "value", name="uq_reference_hashes_set_value"),
        Index("ix_reference_hashes_algorithm_value", "algorithm", "value"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("hash_sets.id", ondelete="CASCADE"))
    algorithm: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(300))


class HashSetImport(Base):
    """One run of ``raksha hashset import``: what file, what it did, what it rejected."""

    __tablename__ = "hash_set_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("hash_sets.id", ondelete="CASCADE"))
    source_path: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_size: Mapped[int] = mapped_column(BigInteger)
    format_name: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(20))
    version: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    records_read: Mapped[int] = mapped_column(Integer, default=0)
    hashes_read: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)

    hash_set: Mapped[HashSet] = relationship(back_populates="imports")
    rejections: Mapped[list[ImportRejection]] = relationship(
        cascade="all, delete-orphan", order_by="ImportRejection.id"
    )


class ImportRejection(Base):
    """A line or record an import could not use, and why."""

    __tablename__ = "import_rejections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("hash_set_imports.id", ondelete="CASCADE"), index=True
    )
    location: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str] = mapped_column(Text, default="")


class ImportStaging(RecordColumns, Base):
    """Scratch rows of an import in progress; merged into ``reference_hashes`` at the end.

    Staging lets a new version of a set of millions of hashes replace the old one with a
    few set-based statements (add, re-categorise, remove) inside one transaction, so a
    killed import leaves the previous version intact.
    """

    __tablename__ = "import_staging"
    __table_args__ = (
        UniqueConstraint("import_id", "algorithm", "value", name="uq_import_staging_value"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(Integer)
    algorithm: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(300))


class PdqRemoval(Base):
    """Change log of removed PDQ reference rows, so a persisted index can catch up.

    New rows are found by id (greater than the index's watermark); removals cannot be, so
    every deletion of a PDQ reference row appends its id here.
    """

    __tablename__ = "pdq_removals"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref_id: Mapped[int] = mapped_column(BigInteger)
    removed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StoreMeta(Base):
    """Facts about this database itself, such as the id that persisted indexes pin to."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Case(Base):
    """A case: the container of evidence, and the record a court sees (FIR, station,
    district, sections, status; accused, links and members are in ``case_models``)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    fir_number: Mapped[str | None] = mapped_column(String(60))
    police_station: Mapped[str | None] = mapped_column(String(200))
    district: Mapped[str | None] = mapped_column(String(100))
    sections: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(30), default="under observation")
    created_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Evidence(Base):
    """Something ingested into a case: a folder, a file, an archive.

    ``container_sha256`` is taken before anything is read from a file source, so what was
    scanned can be proven later. A folder has none; its items carry their own hashes.
    """

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("case_id", "source_path", name="uq_evidence_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    source_path: Mapped[str] = mapped_column(Text)
    root_locator: Mapped[str] = mapped_column(Text)
    container_sha256: Mapped[str | None] = mapped_column(String(64))
    container_size: Mapped[int | None] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Disk images only: format, media size, what an E01 stores of its acquisition, and
    # the last --verify (verified, mismatch, unreadable, no stored hash).
    image_format: Mapped[str | None] = mapped_column(String(20))
    media_size: Mapped[int | None] = mapped_column(BigInteger)
    acquisition_md5: Mapped[str | None] = mapped_column(String(32))
    acquisition_sha1: Mapped[str | None] = mapped_column(String(40))
    verification: Mapped[str | None] = mapped_column(String(20))
    verified_md5: Mapped[str | None] = mapped_column(String(32))
    verified_sha1: Mapped[str | None] = mapped_column(String(40))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The seized device this image or extraction was made from, if any.
    seizure_id: Mapped[int | None] = mapped_column(Integer, index=True)


class Scan(Base):
    """One run of ``raksha scan`` over one piece of evidence (a resumed run is a new scan)."""

    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="running")
    workers: Mapped[int] = mapped_column(Integer, default=1)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Item(Base):
    """One file found in evidence, with its hashes, or the reason it could not be read.

    ``locator`` is the chained path (``case.zip > photos/a.jpg``) a reader of a report can
    follow back to the bytes; ``locator_key`` (its SHA-256) makes it unique per evidence,
    which is what lets an interrupted scan resume without duplicating anything.
    """

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("evidence_id", "locator_key", name="uq_items_locator"),
        Index("ix_items_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"))
    scan_id: Mapped[int] = mapped_column(Integer)
    locator: Mapped[str] = mapped_column(Text)
    locator_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20), default="file")
    size: Mapped[int | None] = mapped_column(BigInteger)
    modified: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accessed: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    changed: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    file_type: Mapped[str | None] = mapped_column(String(40))
    md5: Mapped[str | None] = mapped_column(String(32))
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64))
    pdq: Mapped[str | None] = mapped_column(String(64))
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    # Disk images only: allocated, deleted or carved; the inode; where the data starts.
    allocation: Mapped[str | None] = mapped_column(String(12))
    inode: Mapped[str | None] = mapped_column(String(40))
    data_offset: Mapped[int | None] = mapped_column(BigInteger)
    # Videos only: the unique frame hashes [[pdq, quality, seconds], ...] and what the
    # decoder said (duration, size, codec, container, frames decoded and sampled).
    vpdq: Mapped[list[Any] | None] = mapped_column(JSON)
    video: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ItemMatch(Base):
    """An item that matched a reference entry: a hit.

    The reference's set, category and value are copied in, so a hit stays explainable
    after the set is updated or deleted.
    """

    __tablename__ = "item_matches"
    __table_args__ = (UniqueConstraint("item_id", "ref_id", "algorithm", name="uq_item_matches"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    ref_id: Mapped[int] = mapped_column(BigInteger)
    set_name: Mapped[str] = mapped_column(String(200))
    set_kind: Mapped[str] = mapped_column(String(20))
    algorithm: Mapped[str] = mapped_column(String(10))
    match_kind: Mapped[str] = mapped_column(String(10))
    distance: Mapped[int] = mapped_column(Integer)
    variant: Mapped[str | None] = mapped_column(String(20))
    ref_value: Mapped[str] = mapped_column(String(300))
    record_key: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(40))
    category_label: Mapped[str | None] = mapped_column(String(200))
    review_state: Mapped[str] = mapped_column(String(20), default="new")
    # Video matches: the share of the item's frames that matched, and of the reference's;
    # a known image found in a video: the second it was shown at.
    query_share: Mapped[float | None] = mapped_column(Float)
    ref_share: Mapped[float | None] = mapped_column(Float)
    at_seconds: Mapped[float | None] = mapped_column(Float)


#: Columns a reference row carries beyond its set, algorithm and value (staging has them too).
RECORD_COLUMNS: tuple[str, ...] = (
    "record_key",
    "category",
    "victim_identified",
    "offender_identified",
    "distributed",
    "baseline",
    "series",
    "mime_type",
    "media_size",
    "file_name",
    "extra",
)

# Core-level handles for set-based statements (typed as Table for mypy).
hash_sets_table = cast(Table, HashSet.__table__)
reference_hashes_table = cast(Table, ReferenceHash.__table__)
imports_table = cast(Table, HashSetImport.__table__)
rejections_table = cast(Table, ImportRejection.__table__)
staging_table = cast(Table, ImportStaging.__table__)
pdq_removals_table = cast(Table, PdqRemoval.__table__)
store_meta_table = cast(Table, StoreMeta.__table__)
cases_table = cast(Table, Case.__table__)
evidence_table = cast(Table, Evidence.__table__)
scans_table = cast(Table, Scan.__table__)
items_table = cast(Table, Item.__table__)
item_matches_table = cast(Table, ItemMatch.__table__)


# The chat, referral and tip tables live in their own module; importing it here puts them
# in Base.metadata wherever the models are used (migrations, the schema test).
from raksha.store import case_models as _case_models  # noqa: E402, F401
from raksha.store import chat_models as _chat_models  # noqa: E402, F401
from raksha.store import intel_models as _intel_models  # noqa: E402, F401
from raksha.store import network_models as _network_models  # noqa: E402, F401
