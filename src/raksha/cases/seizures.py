"""Seized devices and media: registering them, linking what was made from them, tracing
a hit back to them.

A seizure is one sealed exhibit (a laptop, a phone, a memory card …) with its make,
model, serial or IMEI, the seal label on its packet, from whom, where and when it was
taken, and the raid it was taken in. The disk images and extractions made from it are
evidence rows carrying its id, which is what lets :func:`trace_item` answer the question
a court asks of every hit: which device, which place, which person.

Registering a seizure records its first custody event ("seized") in the same transaction;
the rest of the chain is ``raksha.cases.custody``; kinds and IMEI checks are
``raksha.cases.devices``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update
from sqlalchemy.exc import IntegrityError

from raksha.cases import audit
from raksha.cases.access import require, require_case, visible_case_ids
from raksha.cases.actor import Actor
from raksha.cases.custody import insert_event, timeline
from raksha.cases.custody_rules import DEFAULT_SILENCE_DAYS, SEIZED, chain_status, utc
from raksha.cases.devices import imei_field, normalise_kind
from raksha.cases.seals import clean_seal, find_seizure
from raksha.errors import NotFoundError, UsageError
from raksha.store.case_lookup import find_case
from raksha.store.case_models import (
    custody_events_table,
    operations_table,
    raid_targets_table,
    seizures_table,
)
from raksha.store.db import Store
from raksha.store.models import (
    cases_table,
    evidence_table,
    iso_utc,
    item_matches_table,
    items_table,
    utcnow,
)
from raksha.store.network_models import people_table

logger = logging.getLogger(__name__)


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


# -- lookups ---------------------------------------------------------------------------------


def _find_operation(conn: Connection, operation: str | int) -> Row[Any]:
    t = operations_table
    if isinstance(operation, int) or operation.strip().isdigit():
        row = conn.execute(select(t).where(t.c.id == int(operation))).first()
    else:
        row = None
    if row is None:
        row = conn.execute(select(t).where(t.c.name == str(operation).strip())).first()
    if row is None:
        raise NotFoundError(f"no operation {operation!r}")
    return row


def _exists(conn: Connection, table: Any, key: int) -> bool:
    return conn.execute(select(table.c.id).where(table.c.id == key)).first() is not None


def seizure_dict(conn: Connection, row: Row[Any]) -> dict[str, Any]:
    """A seizure's fields for people and programs, with the name of the person on record."""
    label = None
    if row.seized_from_person_id is not None:
        label = conn.execute(
            select(people_table.c.label).where(people_table.c.id == row.seized_from_person_id)
        ).scalar()
    return {
        "id": int(row.id),
        "seal_label": row.seal_label,
        "kind": row.kind,
        "make": row.make,
        "model": row.model,
        "serial": row.serial,
        "imei": row.imei,
        "seized_from": row.seized_from,
        "seized_from_person_id": row.seized_from_person_id,
        "person_label": label,
        "place": row.place,
        "district": row.district,
        "seized_at": iso_utc(row.seized_at),
        "seized_by": row.seized_by,
        "raid_target_id": row.raid_target_id,
        "case_id": row.case_id,
        "notes": row.notes,
        "created_at": iso_utc(row.created_at),
    }


def describe_device(seizure: dict[str, Any]) -> str:
    """One line for a device: ``phone Samsung SM-A125F, IMEI …, seal CCPS/21/PH-01``."""
    name = " ".join(p for p in (seizure["kind"], seizure["make"], seizure["model"]) if p)
    ids = [f"serial {seizure['serial']}"] if seizure["serial"] else []
    ids += [f"IMEI {seizure['imei']}"] if seizure["imei"] else []
    return ", ".join([name, *ids, f"seal {seizure['seal_label']}"])


def _require_seizure(conn: Connection, actor: Actor, row: Row[Any], permission: str) -> None:
    if row.case_id is None:
        require(actor, permission)
    else:
        require_case(conn, actor, int(row.case_id), permission)


# -- writes ----------------------------------------------------------------------------------


def add_seizure(
    store: Store,
    actor: Actor,
    case: str | int,
    kind: str,
    seal_label: str,
    *,
    make: str | None = None,
    model: str | None = None,
    serial: str | None = None,
    imei: str | Sequence[str] | None = None,
    seized_from: str | None = None,
    seized_from_person_id: int | None = None,
    place: str | None = None,
    district: str | None = None,
    seized_at: datetime | None = None,
    seized_by: str | None = None,
    raid_target_id: int | None = None,
    notes: str | None = None,
    seized_event: bool = True,
) -> dict[str, Any]:
    """Register a seized exhibit; returns it as :func:`seizure_dict` shows it.

    The seal label must be unique (ignoring case); IMEIs must pass the Luhn check. A raid
    target's address and district fill in the place and district when those are not
    given. Unless ``seized_event`` is false (a chain entered by hand from the paper
    record, starting with its own "seized"), the first custody event "seized" is recorded
    with it: by ``seized_by`` (default: the acting user), at ``seized_at`` (default: now),
    at ``place``.
    """
    canonical = normalise_kind(kind)
    seal = clean_seal(seal_label)
    if not seal:
        raise UsageError("a seizure needs the label on its seal, e.g. --seal 'CCPS/21/PH-01'")
    imeis = imei_field(imei)
    when = utc(seized_at) if seized_at is not None else utcnow()
    by = _text(seized_by) or actor.username
    t = seizures_table
    with store.engine.begin() as conn:
        case_row = find_case(conn, case)
        require_case(conn, actor, int(case_row.id), "seizure.write")
        clash = conn.execute(
            select(t.c.id, t.c.seal_label).where(func.lower(t.c.seal_label) == seal.lower())
        ).first()
        if clash is not None:
            raise UsageError(
                f"the seal label {clash.seal_label!r} is already on seizure {clash.id}; every "
                "packet's seal label must be unique, so check it or add a suffix"
            )
        if seized_from_person_id is not None and not _exists(
            conn, people_table, seized_from_person_id
        ):
            raise NotFoundError(
                f"no person {seized_from_person_id}; `raksha suspects` and `raksha person "
                "show` list people"
            )
        if raid_target_id is not None:
            target = conn.execute(
                select(raid_targets_table).where(raid_targets_table.c.id == raid_target_id)
            ).first()
            if target is None:
                raise NotFoundError(f"no raid target {raid_target_id}")
            place = place or target.address
            district = district or target.district
        values: dict[str, Any] = {
            "case_id": int(case_row.id),
            "raid_target_id": raid_target_id,
            "kind": canonical,
            "make": _text(make),
            "model": _text(model),
            "serial": _text(serial),
            "imei": imeis,
            "seal_label": seal,
            "seized_from_person_id": seized_from_person_id,
            "seized_from": _text(seized_from),
            "place": _text(place),
            "district": _text(district),
            "seized_at": when,
            "seized_by": by,
            "notes": notes,
            "created_at": utcnow(),
        }
        try:
            with conn.begin_nested():
                seizure_id = conn.execute(t.insert().values(**values)).inserted_primary_key[0]  # type: ignore[index]
        except IntegrityError as exc:
            raise UsageError(
                f"the seal label {seal!r} was just registered by someone else; check it"
            ) from exc
        if seized_event:
            insert_event(
                conn,
                int(seizure_id),
                action=SEIZED,
                at=when,
                by_whom=by,
                location=values["place"],
                recorded_by=actor.username,
            )
        row = conn.execute(select(t).where(t.c.id == seizure_id)).one()
        out = seizure_dict(conn, row)
        audit.record(
            conn,
            actor,
            "seizure.add",
            case_id=int(case_row.id),
            object_kind="seizure",
            object_id=seizure_id,
            details={k: v for k, v in out.items() if v is not None and k != "created_at"},
        )
    logger.info("seizure %s (%s) registered in case %s", seal, canonical, case_row.name)
    return out


def seizure_for_case(
    store: Store, actor: Actor, seal_or_id: str | int, case: str | int
) -> dict[str, Any]:
    """The seizure evidence of ``case`` may be linked to, checked before a long scan."""
    with store.engine.connect() as conn:
        row = find_seizure(conn, seal_or_id)
        case_row = find_case(conn, case)
        _check_link(conn, actor, row, int(case_row.id), str(case_row.name))
        return seizure_dict(conn, row)


def _check_link(
    conn: Connection, actor: Actor, seizure: Row[Any], case_id: int, case_name: str
) -> None:
    require_case(conn, actor, case_id, "seizure.write")
    if seizure.case_id is not None and int(seizure.case_id) != case_id:
        other = conn.execute(
            select(cases_table.c.name).where(cases_table.c.id == seizure.case_id)
        ).scalar()
        raise UsageError(
            f"seizure {seizure.seal_label!r} belongs to case {other!r}, not {case_name!r}; "
            "scan its image into that case"
        )


def link_evidence(
    store: Store, actor: Actor, seal_or_id: str | int, evidence_id: int
) -> dict[str, Any]:
    """Record that evidence (an image or extraction) was made from a seized device.

    Returns ``{"evidence_id", "seizure_id", "seal_label", "linked"}``; ``linked`` is false
    when it was linked already. Evidence comes from one device: linking it to a second
    one is refused.
    """
    ev = evidence_table
    with store.engine.begin() as conn:
        seizure = find_seizure(conn, seal_or_id)
        evidence = conn.execute(select(ev).where(ev.c.id == evidence_id)).first()
        if evidence is None:
            raise NotFoundError(
                f"no evidence {evidence_id}; `raksha evidence show --case NAME` lists it"
            )
        case_name = conn.execute(
            select(cases_table.c.name).where(cases_table.c.id == evidence.case_id)
        ).scalar_one()
        _check_link(conn, actor, seizure, int(evidence.case_id), str(case_name))
        result = {
            "evidence_id": int(evidence.id),
            "seizure_id": int(seizure.id),
            "seal_label": seizure.seal_label,
            "linked": False,
        }
        if evidence.seizure_id == seizure.id:
            return result
        if evidence.seizure_id is not None:
            other = find_seizure(conn, int(evidence.seizure_id))
            raise UsageError(
                f"evidence {evidence_id} is already linked to seizure {other.seal_label!r}; "
                "an image is made from one device"
            )
        conn.execute(update(ev).where(ev.c.id == evidence_id).values(seizure_id=seizure.id))
        audit.record(
            conn,
            actor,
            "evidence.link",
            case_id=int(evidence.case_id),
            object_kind="evidence",
            object_id=evidence_id,
            details={"seizure_id": int(seizure.id), "seal": seizure.seal_label},
        )
        result["linked"] = True
    return result


# -- reads -----------------------------------------------------------------------------------


def list_seizures(
    store: Store,
    actor: Actor,
    *,
    case: str | int | None = None,
    operation: str | int | None = None,
) -> list[dict[str, Any]]:
    """Seizures the actor may see, by case and/or operation, oldest seizure first.

    Each is :func:`seizure_dict` plus ``evidence`` (how many images and extractions),
    ``events`` (custody events) and ``last_event`` (the latest action).
    """
    t = seizures_table
    query = select(t).order_by(t.c.seized_at, t.c.id)
    filters: dict[str, Any] = {}
    with store.engine.begin() as conn:
        case_id = None
        if case is not None:
            case_row = find_case(conn, case)
            case_id = int(case_row.id)
            require_case(conn, actor, case_id, "case.read")
            query = query.where(t.c.case_id == case_id)
            filters["case"] = case_row.name
        else:
            require(actor, "case.read")
        if operation is not None:
            op = _find_operation(conn, operation)
            targets = select(raid_targets_table.c.id).where(
                raid_targets_table.c.operation_id == op.id
            )
            query = query.where(t.c.raid_target_id.in_(targets))
            filters["operation"] = op.name
        visible = visible_case_ids(conn, actor)
        out = []
        for row in conn.execute(query):
            if visible is not None and (row.case_id is None or row.case_id not in visible):
                continue
            item = seizure_dict(conn, row)
            item.update(_counts(conn, int(row.id)))
            out.append(item)
        audit.record(
            conn,
            actor,
            "seizure.list",
            case_id=case_id,
            object_kind="seizure",
            details={**filters, "shown": len(out)},
        )
    return out


def _counts(conn: Connection, seizure_id: int) -> dict[str, Any]:
    ev, ce = evidence_table, custody_events_table
    evidence = conn.execute(
        select(func.count()).select_from(ev).where(ev.c.seizure_id == seizure_id)
    ).scalar_one()
    last = conn.execute(
        select(ce.c.action, ce.c.at).where(ce.c.seizure_id == seizure_id).order_by(ce.c.id.desc())
    ).first()
    events = conn.execute(
        select(func.count()).select_from(ce).where(ce.c.seizure_id == seizure_id)
    ).scalar_one()
    return {
        "evidence": int(evidence),
        "events": int(events),
        "last_event": None if last is None else last.action,
        "last_event_at": None if last is None else iso_utc(last.at),
    }


def _evidence_made_from(conn: Connection, seizure_id: int) -> list[dict[str, Any]]:
    ev, it, mt = evidence_table, items_table, item_matches_table
    rows = conn.execute(select(ev).where(ev.c.seizure_id == seizure_id).order_by(ev.c.id)).all()
    out = []
    for r in rows:
        items = conn.execute(
            select(func.count()).select_from(it).where(it.c.evidence_id == r.id)
        ).scalar_one()
        hits = conn.execute(
            select(func.count(func.distinct(it.c.id)))
            .select_from(it.join(mt, mt.c.item_id == it.c.id))
            .where(it.c.evidence_id == r.id, mt.c.set_kind == "reference")
        ).scalar_one()
        out.append(
            {
                "id": int(r.id),
                "kind": r.kind,
                "source_path": r.source_path,
                "container_sha256": r.container_sha256,
                "image_format": r.image_format,
                "acquisition_md5": r.acquisition_md5,
                "acquisition_sha1": r.acquisition_sha1,
                "verification": r.verification,
                "added_at": iso_utc(r.added_at),
                "items": int(items),
                "hits": int(hits),
            }
        )
    return out


def _target_dict(conn: Connection, target_id: int | None) -> dict[str, Any] | None:
    if target_id is None:
        return None
    rt, op = raid_targets_table, operations_table
    row = conn.execute(
        select(rt, op.c.name.label("operation_name"), op.c.starts_at.label("operation_starts"))
        .join(op, op.c.id == rt.c.operation_id)
        .where(rt.c.id == target_id)
    ).first()
    if row is None:
        return None
    return {
        "id": int(row.id),
        "label": row.label,
        "address": row.address,
        "district": row.district,
        "police_station": row.police_station,
        "team_lead": row.team_lead,
        "person_id": row.person_id,
        "status": row.status,
        "operation": {
            "id": int(row.operation_id),
            "name": row.operation_name,
            "starts_at": iso_utc(row.operation_starts),
        },
    }


def _case_dict(conn: Connection, case_id: int | None) -> dict[str, Any] | None:
    if case_id is None:
        return None
    row = conn.execute(select(cases_table).where(cases_table.c.id == case_id)).first()
    if row is None:
        return None
    return {
        "id": int(row.id),
        "name": row.name,
        "fir_number": row.fir_number,
        "police_station": row.police_station,
        "district": row.district,
        "sections": list(row.sections or []),
        "status": row.status,
    }


def describe_seizure(
    conn: Connection, seal_or_id: str | int, *, silence_days: int = DEFAULT_SILENCE_DAYS
) -> dict[str, Any]:
    """Everything about one exhibit: :func:`seizure_dict` plus ``case``, ``raid_target``
    (with its ``operation``) or None, ``evidence`` made from it (each with ``items`` and
    ``hits``), ``custody`` (the :func:`~raksha.cases.custody.timeline`) and ``chain``
    (:func:`~raksha.cases.custody_rules.chain_status`). No access check, no audit entry:
    :func:`show_seizure` and reports do both."""
    row = find_seizure(conn, seal_or_id)
    out = seizure_dict(conn, row)
    out["device"] = describe_device(out)
    out["case"] = _case_dict(conn, row.case_id)
    out["raid_target"] = _target_dict(conn, row.raid_target_id)
    out["evidence"] = _evidence_made_from(conn, int(row.id))
    out["custody"] = timeline(conn, int(row.id), silence_days=silence_days)
    out["chain"] = chain_status(out["custody"])
    return out


def show_seizure(
    store: Store,
    actor: Actor,
    seal_or_id: str | int,
    *,
    silence_days: int = DEFAULT_SILENCE_DAYS,
) -> dict[str, Any]:
    """:func:`describe_seizure` for a user allowed to read its case; the read is audited."""
    with store.engine.begin() as conn:
        row = find_seizure(conn, seal_or_id)
        _require_seizure(conn, actor, row, "case.read")
        out = describe_seizure(conn, int(row.id), silence_days=silence_days)
        audit.record(
            conn,
            actor,
            "seizure.show",
            case_id=row.case_id,
            object_kind="seizure",
            object_id=row.id,
            details={"seal": row.seal_label, "chain": out["chain"]["status"]},
        )
    return out


def trace_item(conn: Connection, item_id: int) -> dict[str, Any]:
    """Where a found file came from: item → evidence → seized device → place, person, raid,
    operation → case.

    Returns ``{"item", "evidence", "seizure", "raid_target", "case", "matches"}``.
    ``seizure`` (None when the evidence is linked to no seizure) holds the device
    (``kind``, ``seal_label``, ``make``, ``model``, ``serial``, ``imei``, ``device`` in
    words), ``place``, ``district``, ``seized_at``, ``seized_by`` and ``seized_from``
    (``{"person_id", "name"}``); ``raid_target`` (None if none) holds its ``operation``.
    No access check, no audit entry: :func:`trace` and reports do both.
    """
    it, ev, mt = items_table, evidence_table, item_matches_table
    item = conn.execute(select(it).where(it.c.id == item_id)).first()
    if item is None:
        raise NotFoundError(f"no item {item_id}; `raksha hits --case NAME --json` lists item ids")
    evidence = conn.execute(select(ev).where(ev.c.id == item.evidence_id)).one()
    matches = [
        {
            "set_name": m.set_name,
            "set_kind": m.set_kind,
            "algorithm": m.algorithm,
            "match_kind": m.match_kind,
            "distance": m.distance,
            "category": m.category,
            "category_label": m.category_label,
            "review_state": m.review_state,
        }
        for m in conn.execute(select(mt).where(mt.c.item_id == item_id).order_by(mt.c.id))
    ]
    seizure = None
    target = None
    if evidence.seizure_id is not None:
        row = find_seizure(conn, int(evidence.seizure_id))
        seizure = seizure_dict(conn, row)
        seizure["device"] = describe_device(seizure)
        seizure["seized_from"] = {
            "person_id": row.seized_from_person_id,
            "name": row.seized_from or seizure["person_label"],
        }
        target = _target_dict(conn, row.raid_target_id)
    return {
        "item": {
            "id": int(item.id),
            "locator": item.locator,
            "source_path": evidence.source_path,
            "kind": item.kind,
            "file_type": item.file_type,
            "size": item.size,
            "md5": item.md5,
            "sha1": item.sha1,
            "sha256": item.sha256,
            "allocation": item.allocation,
            "inode": item.inode,
            "data_offset": item.data_offset,
        },
        "evidence": {
            "id": int(evidence.id),
            "kind": evidence.kind,
            "source_path": evidence.source_path,
            "container_sha256": evidence.container_sha256,
            "image_format": evidence.image_format,
            "acquisition_md5": evidence.acquisition_md5,
            "acquisition_sha1": evidence.acquisition_sha1,
            "seizure_id": evidence.seizure_id,
        },
        "seizure": seizure,
        "raid_target": target,
        "case": _case_dict(conn, int(evidence.case_id)),
        "matches": matches,
    }


def trace(store: Store, actor: Actor, item_id: int) -> dict[str, Any]:
    """:func:`trace_item` for a user allowed to read the item's case; the read is audited."""
    with store.engine.begin() as conn:
        out = trace_item(conn, item_id)
        case_id = int(out["case"]["id"])
        require_case(conn, actor, case_id, "case.read")
        audit.record(
            conn,
            actor,
            "item.trace",
            case_id=case_id,
            object_kind="item",
            object_id=item_id,
            details={"seizure_id": out["evidence"]["seizure_id"]},
        )
    return out
