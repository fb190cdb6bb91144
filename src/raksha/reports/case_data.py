"""Gather everything a case report shows, with plain SELECTs, in one read of the store.

Reports depend on the tables only, never on the services that write them, so the data
flows one way (store -> reports) and a report says exactly what the database holds. On
PostgreSQL the read runs in one REPEATABLE READ transaction, so a scan or a custody step
written meanwhile cannot leave the report half old, half new.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from raksha.cases import audit
from raksha.errors import NotFoundError
from raksha.reports.case_method import load_method
from raksha.reports.case_model import (
    AccountRef,
    Accused,
    CaseReport,
    CaseSummary,
    CustodyStep,
    Device,
    EvidenceImage,
    Hit,
    MatchDetail,
    NewMaterialEntry,
    Verification,
)
from raksha.reports.formatting import as_utc, match_words
from raksha.store.case_models import (
    case_accused_table,
    custody_events_table,
    new_material_table,
    seizures_table,
)
from raksha.store.chat_models import accounts_table
from raksha.store.models import (
    cases_table,
    evidence_table,
    hash_sets_table,
    item_matches_table,
    items_table,
    utcnow,
)
from raksha.store.network_models import people_table, person_accounts_table

logger = logging.getLogger(__name__)

CT, EV, IT, MT = cases_table, evidence_table, items_table, item_matches_table
SZ, CE, NM = seizures_table, custody_events_table, new_material_table
CA, P, PA, A = case_accused_table, people_table, person_accounts_table, accounts_table
HS = hash_sets_table


def load_case_report(
    conn: Connection, case_id: int, *, generated_by: str, generated_at: datetime | None = None
) -> CaseReport:
    """Read the case, its accused, devices, custody, hits and method into a CaseReport."""
    if conn.dialect.name == "postgresql" and not conn.in_transaction():
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    with conn.begin() if not conn.in_transaction() else nullcontext():
        case = case_summary(conn, case_id)
        evidence = case_evidence(conn, case_id)
        devices = case_devices(conn, case_id, evidence)
        linked = {e.id for d in devices for e in d.evidence}
        hits = _hits(conn, case_id, {d.seizure_id: d.seal_label for d in devices}, evidence)
        report = CaseReport(
            case=case,
            accused=_accused(conn, case_id),
            devices=devices,
            unlinked_evidence=[e for e in evidence.values() if e.id not in linked],
            hits=hits,
            new_material=_new_material(conn, case_id),
            method=load_method(conn, case_id, evidence),
            generated_at=as_utc(generated_at or utcnow()) or utcnow(),
            generated_by=generated_by,
            audit_head="{}:{}".format(*audit.head(conn)),
        )
    logger.info("case %d: %d devices, %d hits gathered", case_id, len(devices), len(hits))
    return report


def case_summary(conn: Connection, case_id: int) -> CaseSummary:
    row = conn.execute(select(CT).where(CT.c.id == case_id)).first()
    if row is None:
        raise NotFoundError(f"no case with id {case_id}; `raksha case list` shows the cases")
    return CaseSummary(
        id=row.id,
        name=row.name,
        description=row.description,
        fir_number=row.fir_number,
        police_station=row.police_station,
        district=row.district,
        sections=list(row.sections or []),
        status=row.status,
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
        updated_at=as_utc(row.updated_at),
    )


def _accused(conn: Connection, case_id: int) -> list[Accused]:
    rows = conn.execute(
        select(CA.c.person_id, CA.c.status, CA.c.added_at, CA.c.added_by, P.c.label)
        .join(P, P.c.id == CA.c.person_id)
        .where(CA.c.case_id == case_id)
        .order_by(CA.c.id)
    ).all()
    out = [Accused(r.person_id, r.label, r.status, as_utc(r.added_at), r.added_by) for r in rows]
    by_person = {a.person_id: a for a in out}
    if by_person:
        for r in conn.execute(
            select(
                PA.c.person_id,
                PA.c.basis,
                A.c.platform,
                A.c.id_kind,
                A.c.external_id,
                A.c.display_name,
            )
            .join(A, A.c.id == PA.c.account_id)
            .where(PA.c.person_id.in_(by_person))
            .order_by(A.c.platform, A.c.external_id)
        ):
            by_person[r.person_id].accounts.append(
                AccountRef(r.platform, r.id_kind, r.external_id, r.display_name, r.basis)
            )
    return out


def case_evidence(conn: Connection, case_id: int) -> dict[int, EvidenceImage]:
    items = (
        select(IT.c.evidence_id, func.count().label("n"))
        .group_by(IT.c.evidence_id)
        .subquery("item_counts")
    )
    hit_items = (
        select(IT.c.evidence_id, func.count(func.distinct(IT.c.id)).label("n"))
        .join(MT, MT.c.item_id == IT.c.id)
        .where(MT.c.set_kind == "reference")
        .group_by(IT.c.evidence_id)
        .subquery("hit_counts")
    )
    rows = conn.execute(
        select(EV, items.c.n.label("items"), hit_items.c.n.label("hit_items"))
        .outerjoin(items, items.c.evidence_id == EV.c.id)
        .outerjoin(hit_items, hit_items.c.evidence_id == EV.c.id)
        .where(EV.c.case_id == case_id)
        .order_by(EV.c.id)
    ).all()
    return {
        r.id: EvidenceImage(
            id=r.id,
            kind=r.kind,
            name=r.root_locator,
            source_path=r.source_path,
            container_sha256=r.container_sha256,
            container_size=r.container_size,
            image_format=r.image_format,
            media_size=r.media_size,
            acquisition_md5=r.acquisition_md5,
            acquisition_sha1=r.acquisition_sha1,
            verification=r.verification,
            verified_at=as_utc(r.verified_at),
            added_at=as_utc(r.added_at),
            seizure_id=r.seizure_id,
            items=int(r.items or 0),
            hit_items=int(r.hit_items or 0),
        )
        for r in rows
    }


def case_devices(
    conn: Connection, case_id: int, evidence: dict[int, EvidenceImage]
) -> list[Device]:
    """Seizures of the case, and seizures an image of the case was made from."""
    made_from = {e.seizure_id for e in evidence.values() if e.seizure_id is not None}
    condition = SZ.c.case_id == case_id
    if made_from:
        condition = or_(condition, SZ.c.id.in_(made_from))
    rows = conn.execute(
        select(SZ, people_table.c.label.label("person_label"))
        .outerjoin(people_table, people_table.c.id == SZ.c.seized_from_person_id)
        .where(condition)
        .order_by(SZ.c.seized_at, SZ.c.id)
    ).all()
    devices: list[Device] = []
    for r in rows:
        who = r.seized_from
        if r.person_label and r.person_label != who:
            who = (
                f"{who} (person {r.seized_from_person_id}: {r.person_label})"
                if who
                else (f"person {r.seized_from_person_id}: {r.person_label}")
            )
        devices.append(
            Device(
                seizure_id=r.id,
                kind=r.kind,
                make=r.make,
                model=r.model,
                serial=r.serial,
                imei=r.imei,
                seal_label=r.seal_label,
                seized_from=who,
                seized_from_person_id=r.seized_from_person_id,
                place=r.place,
                district=r.district,
                seized_at=as_utc(r.seized_at),
                seized_by=r.seized_by,
                notes=r.notes,
                evidence=[e for e in evidence.values() if e.seizure_id == r.id],
            )
        )
    by_id = {d.seizure_id: d for d in devices}
    if by_id:
        for c in conn.execute(
            select(CE).where(CE.c.seizure_id.in_(by_id)).order_by(CE.c.at, CE.c.id)
        ):
            by_id[c.seizure_id].custody.append(_custody_step(c, evidence))
    return devices


def _name_of(evidence: dict[int, EvidenceImage], evidence_id: Any) -> str | None:
    image = evidence.get(evidence_id) if isinstance(evidence_id, int) else None
    return None if image is None else image.name


def _digests(value: Any) -> dict[str, str]:
    """``{"sha256": hex}`` as custody checks store them (a bare hex string is named by its
    length, as older entries may hold one)."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if v}
    if isinstance(value, str) and value:
        return {{32: "md5", 40: "sha1"}.get(len(value), "sha256"): value}
    return {}


def _custody_step(c: Any, evidence: dict[int, EvidenceImage]) -> CustodyStep:
    checks = []
    for v in c.verification or []:
        if isinstance(v, dict):
            checks.append(
                Verification(
                    evidence_id=v.get("evidence_id"),
                    source_path=v.get("source_path"),
                    method=v.get("method"),
                    expected=_digests(v.get("expected")),
                    observed=_digests(v.get("observed")),
                    result=str(v.get("result") or "unknown"),
                    detail=v.get("detail"),
                    evidence_name=_name_of(evidence, v.get("evidence_id")),
                )
            )
    return CustodyStep(
        id=c.id,
        action=c.action,
        at=as_utc(c.at),
        by_whom=c.by_whom,
        to_whom=c.to_whom,
        location=c.location,
        notes=c.notes,
        recorded_by=c.recorded_by,
        verification=checks,
        flags=[str(f) for f in c.flags or []],
    )


def _hits(
    conn: Connection,
    case_id: int,
    seals: dict[int, str],
    evidence: dict[int, EvidenceImage],
) -> list[Hit]:
    rows = conn.execute(
        select(IT, MT.c.set_name, MT.c.set_kind, MT.c.algorithm, MT.c.match_kind)
        .add_columns(
            MT.c.distance,
            MT.c.variant,
            MT.c.ref_value,
            MT.c.record_key,
            MT.c.category,
            MT.c.category_label,
            MT.c.review_state,
            MT.c.query_share,
            MT.c.ref_share,
            MT.c.at_seconds,
        )
        .join(EV, EV.c.id == IT.c.evidence_id)
        .join(MT, MT.c.item_id == IT.c.id)
        .where(EV.c.case_id == case_id, MT.c.set_kind == "reference")
        .order_by(IT.c.evidence_id, IT.c.locator, IT.c.id, MT.c.distance, MT.c.set_name)
    ).all()
    hits: dict[int, Hit] = {}
    for r in rows:
        hit = hits.get(r.id)
        if hit is None:
            ev = evidence[r.evidence_id]
            hit = hits[r.id] = Hit(
                number=len(hits) + 1,
                item_id=r.id,
                evidence_id=r.evidence_id,
                evidence_name=ev.name,
                seal_label=seals.get(ev.seizure_id) if ev.seizure_id is not None else None,
                locator=r.locator,
                kind=r.kind,
                size=r.size,
                file_type=r.file_type,
                md5=r.md5,
                sha1=r.sha1,
                sha256=r.sha256,
                pdq=r.pdq,
                pdq_quality=r.pdq_quality,
                modified=as_utc(r.modified),
                allocation=r.allocation,
            )
        hit.matches.append(
            MatchDetail(
                set_name=r.set_name,
                set_kind=r.set_kind,
                algorithm=r.algorithm,
                match_kind=r.match_kind,
                exactness=match_words(r.match_kind),
                distance=r.distance,
                variant=r.variant,
                ref_value=r.ref_value,
                record_key=r.record_key,
                category=r.category,
                category_label=r.category_label,
                review_state=r.review_state,
                query_share=r.query_share,
                ref_share=r.ref_share,
                at_seconds=r.at_seconds,
            )
        )
    return list(hits.values())


def _new_material(conn: Connection, case_id: int) -> list[NewMaterialEntry]:
    rows = conn.execute(
        select(
            NM.c.item_id,
            NM.c.category,
            NM.c.confirmed_by,
            NM.c.confirmed_at,
            IT.c.locator,
            IT.c.size,
            IT.c.md5,
            IT.c.sha1,
            IT.c.sha256,
            IT.c.pdq,
            EV.c.root_locator,
        )
        .join(IT, IT.c.id == NM.c.item_id)
        .join(EV, EV.c.id == IT.c.evidence_id)
        .where(EV.c.case_id == case_id)
        .order_by(IT.c.evidence_id, IT.c.locator)
    ).all()
    return [
        NewMaterialEntry(
            item_id=r.item_id,
            evidence_name=r.root_locator,
            locator=r.locator,
            size=r.size,
            md5=r.md5,
            sha1=r.sha1,
            sha256=r.sha256,
            pdq=r.pdq,
            category=r.category,
            confirmed_by=r.confirmed_by,
            confirmed_at=as_utc(r.confirmed_at),
        )
        for r in rows
    ]
