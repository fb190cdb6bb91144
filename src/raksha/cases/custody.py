"""The chain of custody of a seized exhibit: recording each step and reading the chain back.

Every step (seized, sealed, transferred, received at lab, imaged, analysed, returned to
store, produced in court) is recorded with who, when, where and to whom. At each step the
images and extractions made from the exhibit are re-verified (``raksha.cases.reverify``)
and the result is stored on the event, so months later a court can see that every hash
held at every hand-over. The rules that flag a gap or a mismatch are in
``raksha.cases.custody_rules``; the flags stored when an event is recorded are the ones a
timeline recomputes over the whole chain.

Re-verifying can read a large image for minutes, so it runs before the write transaction
opens: the database is never locked while files are hashed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from raksha.cases import audit
from raksha.cases.access import require, require_case
from raksha.cases.actor import Actor
from raksha.cases.custody_rules import (
    DEFAULT_SILENCE_DAYS,
    TRANSFERRED,
    chain_flags,
    chain_status,
    normalise_action,
    utc,
)
from raksha.cases.reverify import Check, reverify
from raksha.cases.seals import find_seizure
from raksha.errors import UsageError
from raksha.store.case_models import custody_events_table
from raksha.store.db import Store
from raksha.store.models import evidence_table, iso_utc, utcnow

logger = logging.getLogger(__name__)


def _require_exhibit(conn: Connection, actor: Actor, seizure: Row[Any], permission: str) -> None:
    if seizure.case_id is None:
        require(actor, permission)
    else:
        require_case(conn, actor, int(seizure.case_id), permission)


def _raw_events(conn: Connection, seizure_id: int) -> list[dict[str, Any]]:
    t = custody_events_table
    rows = conn.execute(select(t).where(t.c.seizure_id == seizure_id).order_by(t.c.id))
    return [dict(r) for r in rows.mappings()]


def insert_event(
    conn: Connection,
    seizure_id: int,
    *,
    action: str,
    at: datetime,
    by_whom: str,
    to_whom: str | None = None,
    location: str | None = None,
    notes: str | None = None,
    verification: list[dict[str, Any]] | None = None,
    recorded_by: str | None = None,
    silence_days: int = DEFAULT_SILENCE_DAYS,
) -> dict[str, Any]:
    """Append one event in the caller's transaction, flagged against the chain before it.

    The caller has checked access and writes the audit entry; ``add_event`` is the
    function for everyone else.
    """
    event: dict[str, Any] = {
        "seizure_id": seizure_id,
        "action": action,
        "at": utc(at),
        "by_whom": by_whom,
        "to_whom": to_whom,
        "location": location,
        "notes": notes,
        "verification": verification or [],
        "recorded_by": recorded_by,
        "recorded_at": utcnow(),
    }
    chain = [*_raw_events(conn, seizure_id), event]
    event["flags"] = chain_flags(chain, silence_days=silence_days)[-1]
    t = custody_events_table
    event["id"] = conn.execute(insert(t).values(**event)).inserted_primary_key[0]  # type: ignore[index]
    event["position"] = len(chain)
    return event


def _evidence_rows(conn: Connection, seizure_id: int) -> list[dict[str, Any]]:
    ev = evidence_table
    rows = conn.execute(select(ev).where(ev.c.seizure_id == seizure_id).order_by(ev.c.id))
    return [dict(r) for r in rows.mappings()]


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None


def add_event(
    store: Store,
    actor: Actor,
    seal_or_id: str | int,
    action: str,
    *,
    by_whom: str,
    at: datetime | None = None,
    to_whom: str | None = None,
    location: str | None = None,
    notes: str | None = None,
    silence_days: int = DEFAULT_SILENCE_DAYS,
) -> dict[str, Any]:
    """Record one custody step of an exhibit, re-verifying every image made from it.

    The event is recorded whatever the re-verification finds; a mismatch is a flag on it
    (the CLI then exits with code 10). Returns the event as :func:`timeline` shows it,
    with ``seal_label``; its ``flags`` are the new flags this step revealed.
    """
    canonical = normalise_action(action)
    by = _clean(by_whom)
    if by is None:
        raise UsageError("say who did this step with --by NAME (the officer who handled it)")
    to = _clean(to_whom)
    if canonical == TRANSFERRED and to is None:
        raise UsageError("a transfer needs the person it went to: add --to NAME")
    when = utc(at) if at is not None else utcnow()
    with store.engine.connect() as conn:
        seizure = find_seizure(conn, seal_or_id)
        _require_exhibit(conn, actor, seizure, "custody.write")
        evidence = _evidence_rows(conn, int(seizure.id))
    checks: list[Check] = [reverify(row) for row in evidence]
    for check in checks:
        logger.info(
            "custody %s of %s: evidence %d %s",
            canonical,
            seizure.seal_label,
            check.evidence_id,
            check.result,
        )
    with store.engine.begin() as conn:
        event = insert_event(
            conn,
            int(seizure.id),
            action=canonical,
            at=when,
            by_whom=by,
            to_whom=to,
            location=_clean(location),
            notes=notes,
            verification=[c.as_dict() for c in checks],
            recorded_by=actor.username,
            silence_days=silence_days,
        )
        audit.record(
            conn,
            actor,
            "custody.add",
            case_id=seizure.case_id,
            object_kind="seizure",
            object_id=seizure.id,
            details={
                "seal": seizure.seal_label,
                "event_id": event["id"],
                "action": canonical,
                "at": iso_utc(when),
                "by": by,
                "to": to,
                "verification": {str(c.evidence_id): c.result for c in checks},
                "flags": event["flags"],
            },
        )
    out = _public(event, recorded_flags=event["flags"])
    out["seal_label"] = seizure.seal_label
    return out


def _public(event: Mapping[str, Any], *, recorded_flags: list[str]) -> dict[str, Any]:
    return {
        "id": int(event["id"]),
        "position": event.get("position"),
        "action": event["action"],
        "at": iso_utc(event["at"]),
        "by_whom": event["by_whom"],
        "to_whom": event.get("to_whom"),
        "location": event.get("location"),
        "notes": event.get("notes"),
        "verification": list(event.get("verification") or []),
        "flags": list(event.get("flags") or []),
        "recorded_flags": list(recorded_flags),
        "recorded_by": event.get("recorded_by"),
        "recorded_at": iso_utc(event.get("recorded_at")),
    }


def timeline(
    conn: Connection, seizure: str | int, *, silence_days: int = DEFAULT_SILENCE_DAYS
) -> list[dict[str, Any]]:
    """Every event of an exhibit in the order recorded, with its flags recomputed over the
    whole chain (``recorded_flags`` are the ones stored when it was recorded).

    ``seizure`` is a seal label or an id. No access check and no audit entry: callers
    (``show_custody``, ``show_seizure``, reports) do both.
    """
    row = find_seizure(conn, seizure)
    raw = _raw_events(conn, int(row.id))
    flags = chain_flags(raw, silence_days=silence_days)
    out = []
    for position, (event, found) in enumerate(zip(raw, flags, strict=True), start=1):
        recomputed = dict(event, flags=found, position=position)
        out.append(_public(recomputed, recorded_flags=list(event.get("flags") or [])))
    return out


def show_custody(
    store: Store,
    actor: Actor,
    seal_or_id: str | int,
    *,
    silence_days: int = DEFAULT_SILENCE_DAYS,
) -> dict[str, Any]:
    """An exhibit's chain for a reader: ``{"seizure_id", "seal_label", "case_id",
    "events": timeline, "chain": chain_status}``; the read is audited."""
    with store.engine.begin() as conn:
        seizure = find_seizure(conn, seal_or_id)
        _require_exhibit(conn, actor, seizure, "case.read")
        events = timeline(conn, int(seizure.id), silence_days=silence_days)
        status = chain_status(events)
        audit.record(
            conn,
            actor,
            "custody.show",
            case_id=seizure.case_id,
            object_kind="seizure",
            object_id=seizure.id,
            details={"seal": seizure.seal_label, "status": status["status"]},
        )
    return {
        "seizure_id": int(seizure.id),
        "seal_label": seizure.seal_label,
        "case_id": seizure.case_id,
        "events": events,
        "chain": status,
    }
