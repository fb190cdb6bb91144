"""The append-only audit log: every write and every read of case data, with the user.

Each entry carries the SHA-256 of the previous entry (``prev_hash``) and its own
(``entry_hash``, over its fields and ``prev_hash``). Editing an entry breaks its own hash;
inserting or deleting one breaks the link of the entry after it or a sequence number;
appends are serialised (an advisory lock on PostgreSQL, the write lock on SQLite) and
``prev_hash`` is unique, so two writers can never fork the chain. Deleting entries at
the end is found against a head written down earlier
(``raksha audit verify --head SEQ:HASH``; every report prints the head).
Triggers refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import IntegrityError

from raksha.cases.actor import Actor
from raksha.errors import StoreError
from raksha.store.case_models import audit_log_table
from raksha.store.models import iso_utc, utcnow

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x52414B5348  # "RAKSH": serialises appends on PostgreSQL


def entry_digest(fields: dict[str, Any]) -> str:
    """SHA-256 of one entry: its fields (``prev_hash`` included) as canonical JSON."""
    canonical = {
        "seq": int(fields["seq"]),
        "at": iso_utc(fields["at"]),
        "actor": fields["actor"],
        "role": fields.get("role"),
        "action": fields["action"],
        "case_id": fields.get("case_id"),
        "object_kind": fields.get("object_kind"),
        "object_id": fields.get("object_id"),
        "details": fields.get("details") or {},
        "prev_hash": fields["prev_hash"],
    }
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _json_safe(details: dict[str, Any] | None) -> dict[str, Any]:
    """Details as they will come back from the database (so the digest is reproducible)."""
    safe: dict[str, Any] = json.loads(json.dumps(details or {}, default=str))
    return safe


def record(
    conn: Connection,
    actor: Actor,
    action: str,
    *,
    case_id: int | None = None,
    object_kind: str | None = None,
    object_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append one entry in the caller's transaction; returns its sequence number."""
    row: dict[str, Any] = {
        "actor": actor.username,
        "role": actor.role,
        "action": action,
        "case_id": case_id,
        "object_kind": object_kind,
        "object_id": None if object_id is None else str(object_id),
        "details": _json_safe(details),
    }
    _lock_for_append(conn)
    seq, prev = head(conn)
    # Microseconds survive both databases; a time with more would not round-trip.
    entry = dict(row, seq=seq + 1, at=utcnow(), prev_hash=prev)
    entry["entry_hash"] = entry_digest(entry)
    try:
        conn.execute(audit_log_table.insert().values(**entry))
    except IntegrityError as exc:  # pragma: no cover - the lock above prevents it
        raise StoreError(
            "another writer appended to the audit log at the same moment; run the command again"
        ) from exc
    return int(entry["seq"])


def _lock_for_append(conn: Connection) -> None:
    """Hold the right to append until the caller's transaction ends, so the head read next
    is still the head when the entry is inserted (and the entry is in that transaction).

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a write statement, which takes
    the database's write lock (and makes the driver open the transaction) before the read.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    else:
        conn.execute(text("UPDATE store_meta SET value = value WHERE key = 'audit-append'"))


def head(conn: Connection) -> tuple[int, str]:
    """The last entry's sequence number and hash (0 and the genesis hash when empty)."""
    t = audit_log_table
    last = conn.execute(select(func.max(t.c.seq))).scalar()
    if last is None:
        return 0, GENESIS
    digest = conn.execute(select(t.c.entry_hash).where(t.c.seq == last)).scalar_one()
    return int(last), str(digest)


@dataclass
class ChainReport:
    """What ``verify`` found: entries checked, the head, and each break in words."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": f"{self.head_seq}:{self.head_hash}",
            "problems": self.problems,
        }


def verify(conn: Connection, *, expected_head: str | None = None) -> ChainReport:
    """Walk the whole chain and report every entry that was edited, inserted or deleted.

    ``expected_head`` (``SEQ:HASH`` written down earlier) must still be in the chain, which
    is what finds entries deleted from the end.
    """
    report = ChainReport()
    prev_hash, prev_seq = GENESIS, 0
    seen: dict[int, str] = {}
    for row in _rows(conn):
        report.entries += 1
        seq = int(row["seq"])
        if seq != prev_seq + 1:
            report.problems.append(
                {
                    "seq": seq,
                    "problem": "missing entries",
                    "detail": f"entries {prev_seq + 1}..{seq - 1} are gone",
                }
            )
        if row["prev_hash"] != prev_hash:
            report.problems.append(
                {
                    "seq": seq,
                    "problem": "broken link",
                    "detail": "its previous-entry hash is not the hash of the entry before it "
                    "(an entry was inserted or deleted before it)",
                }
            )
        recomputed = entry_digest(row)
        if recomputed != row["entry_hash"]:
            report.problems.append(
                {
                    "seq": seq,
                    "problem": "edited",
                    "detail": "its contents no longer match its hash",
                }
            )
        seen[seq] = str(row["entry_hash"])
        prev_hash, prev_seq = str(row["entry_hash"]), seq
    report.head_seq, report.head_hash = prev_seq, prev_hash
    if expected_head:
        seq_text, _, digest = expected_head.partition(":")
        try:
            want = int(seq_text)
        except ValueError:
            want = -1
        if seen.get(want) != digest:
            report.problems.append(
                {
                    "seq": want,
                    "problem": "head missing",
                    "detail": f"the head written down earlier ({expected_head}) is not in the "
                    "log: entries were deleted from the end or the log was replaced",
                }
            )
    return report


def _rows(conn: Connection) -> Iterator[dict[str, Any]]:
    t = audit_log_table
    result = conn.execution_options(stream_results=True, yield_per=5000).execute(
        select(t).order_by(t.c.seq)
    )
    for row in result.mappings():
        yield dict(row)


def entries(
    conn: Connection,
    *,
    case_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The newest entries first, filtered; for ``raksha audit list`` and the web page."""
    t = audit_log_table
    query = select(t).order_by(t.c.seq.desc()).limit(limit)
    if case_id is not None:
        query = query.where(t.c.case_id == case_id)
    if actor:
        query = query.where(t.c.actor == actor)
    if action:
        query = query.where(t.c.action.like(f"{action}%"))
    if since is not None:
        query = query.where(t.c.at >= since)
    out = []
    for row in conn.execute(query).mappings():
        entry = dict(row)
        entry["at"] = iso_utc(entry["at"])
        out.append(entry)
    return out
