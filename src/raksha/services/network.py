"""The offender network's use cases: resolve, rank, describe a person, export.

Every reading entry point first brings identities up to date (automatic resolution is
idempotent and cheap when nothing changed), so a ranking always reflects the accounts
as they are resolved now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, distinct, func, select

from raksha.errors import NotFoundError
from raksha.network import identity
from raksha.network.queries import chat_facts, corroboration, iter_post_facts
from raksha.network.ranking import (
    GroupScore,
    GroupWeights,
    PersonScore,
    Weights,
    rank_groups,
    rank_people,
)
from raksha.store.case_models import evidence_accounts_table, seizures_table
from raksha.store.chat_models import accounts_table, chat_members_table, chats_table
from raksha.store.chat_repo import iter_sightings
from raksha.store.db import Store
from raksha.store.intel_models import referral_accounts_table, referral_links_table, referrals_table
from raksha.store.models import evidence_table, iso_utc, item_matches_table, items_table
from raksha.store.network_models import (
    identity_decisions_table,
    people_table,
    person_accounts_table,
)

logger = logging.getLogger(__name__)

PA, AT = person_accounts_table, accounts_table


@dataclass(slots=True)
class Suspect:
    score: PersonScore
    label: str | None
    identifiers: list[str]

    def as_dict(self) -> dict[str, Any]:
        s = self.score
        return {
            "rank": s.rank,
            "person_id": s.person_id,
            "label": self.label,
            "identifiers": self.identifiers,
            "score": round(s.score, 3),
            "parts": [
                {
                    "name": p.name,
                    "value": p.value,
                    "points": round(p.points, 3),
                    "explanation": p.explanation,
                }
                for p in s.parts
            ],
            "evidence": s.evidence,
        }


def _identifiers(store: Store, person_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(person_ids), 500):
            part = person_ids[start : start + 500]
            for person, platform, external_id, name in conn.execute(
                select(PA.c.person_id, AT.c.platform, AT.c.external_id, AT.c.display_name)
                .join(AT, AT.c.id == PA.c.account_id)
                .where(PA.c.person_id.in_(part))
                .order_by(AT.c.id)
            ):
                shown = f"{platform} {external_id}"
                if name and name != external_id:
                    shown += f" ({name})"
                out.setdefault(person, []).append(shown)
    return out


def suspects(
    store: Store,
    top: int | None = 150,
    *,
    weights: Weights | None = None,
    now: datetime | None = None,
) -> list[Suspect]:
    """People ranked as distributors, each score in explained parts."""
    identity.resolve(store)
    ranked = rank_people(
        iter_post_facts(store), chat_facts(store), corroboration(store), weights=weights, now=now
    )
    chosen = ranked[:top] if top else ranked
    ids = [s.person_id for s in chosen]
    labels = _labels(store, ids)
    idents = _identifiers(store, ids)
    return [Suspect(s, labels.get(s.person_id), idents.get(s.person_id, [])) for s in chosen]


def ranked_groups(store: Store, *, weights: GroupWeights | None = None) -> list[GroupScore]:
    identity.resolve(store)
    return rank_groups(iter_post_facts(store), chat_facts(store), weights=weights)


def _labels(store: Store, ids: list[int]) -> dict[int, str | None]:
    with store.engine.connect() as conn:
        return {
            int(i): label
            for i, label in conn.execute(
                select(people_table.c.id, people_table.c.label).where(people_table.c.id.in_(ids))
            )
        }


def person_details(store: Store, person_id: int) -> dict[str, Any]:
    """Everything about one person: accounts, groups, sightings, referrals, decisions."""
    identity.resolve(store)
    with store.engine.connect() as conn:
        person = conn.execute(select(people_table).where(people_table.c.id == person_id)).first()
        if person is None:
            raise NotFoundError(f"no person #{person_id}; `raksha suspects` lists people")
        accounts = [
            {
                "account_id": r.id,
                "platform": r.platform,
                "id_kind": r.id_kind,
                "external_id": r.external_id,
                "display_name": r.display_name,
                "basis": r.basis,
                "first_seen": iso_utc(r.first_seen),
                "last_seen": iso_utc(r.last_seen),
            }
            for r in conn.execute(
                select(AT, PA.c.basis)
                .join(PA, PA.c.account_id == AT.c.id)
                .where(PA.c.person_id == person_id)
                .order_by(AT.c.id)
            )
        ]
        account_ids = [a["account_id"] for a in accounts]
        cm, ct = chat_members_table, chats_table
        groups = [
            {
                "chat_id": r.id,
                "title": r.title,
                "platform": r.platform,
                "kind": r.kind,
                "account_id": r.account_id,
                "how": r.how,
                "role": r.role,
                "left": r.left_at is not None,
            }
            for r in conn.execute(
                select(ct, cm.c.account_id, cm.c.how, cm.c.role, cm.c.left_at)
                .join(cm, cm.c.chat_id == ct.c.id)
                .where(cm.c.account_id.in_(account_ids))
                .order_by(ct.c.id)
            )
        ]
        rl, ra, rt = referral_links_table, referral_accounts_table, referrals_table
        referrals = [
            {
                "referral_id": r.id,
                "source": r.source,
                "external_id": r.external_id,
                "basis": r.basis,
            }
            for r in conn.execute(
                select(rt.c.id, rt.c.source, rt.c.external_id, rl.c.basis)
                .join(ra, ra.c.referral_id == rt.c.id)
                .join(rl, rl.c.referral_account_id == ra.c.id)
                .where(rl.c.account_id.in_(account_ids))
                .distinct()
            )
        ]
        devices = _person_devices(conn, person_id, account_ids)
        dt = identity_decisions_table
        decisions = [
            {
                "decision_id": r.id,
                "at": iso_utc(r.at),
                "by": r.actor,
                "action": r.action,
                "automatic": r.automatic,
                "reason": r.reason,
                "accounts": r.account_ids,
                "undone_by": r.undone_by,
            }
            for r in conn.execute(
                select(dt)
                .where((dt.c.person_id == person_id) | (dt.c.other_person_id == person_id))
                .order_by(dt.c.id)
            )
        ]
    sightings = [
        s for account_id in account_ids for s in iter_sightings(store, account_id=account_id)
    ]
    sightings.sort(key=lambda s: s["sent_at"] or "")
    return {
        "person_id": person_id,
        "label": person.label,
        "accounts": accounts,
        "groups": groups,
        "sightings": sightings,
        "referrals": referrals,
        "devices": devices,
        "decisions": decisions,
    }


def _person_devices(
    conn: Connection, person_id: int, account_ids: list[int]
) -> list[dict[str, Any]]:
    """Seized devices that are the person's: seized from them, or holding their own account."""
    sz, ev, ea = seizures_table, evidence_table, evidence_accounts_table
    why: dict[int, str] = {}
    for (seizure,) in conn.execute(select(sz.c.id).where(sz.c.seized_from_person_id == person_id)):
        why[int(seizure)] = "seized from them"
    if account_ids:
        for seizure, external_id in conn.execute(
            select(ev.c.seizure_id, AT.c.external_id)
            .join(ea, ea.c.evidence_id == ev.c.id)
            .join(AT, AT.c.id == ea.c.account_id)
            .where(ea.c.account_id.in_(account_ids), ev.c.seizure_id.is_not(None))
        ):
            why.setdefault(int(seizure), f"holds their own account {external_id}")
    if not why:
        return []
    hits: dict[int, int] = dict(
        conn.execute(
            select(ev.c.seizure_id, func.count(distinct(item_matches_table.c.item_id)))
            .join(items_table, items_table.c.evidence_id == ev.c.id)
            .join(item_matches_table, item_matches_table.c.item_id == items_table.c.id)
            .where(ev.c.seizure_id.in_(sorted(why)), item_matches_table.c.set_kind == "reference")
            .group_by(ev.c.seizure_id)
        ).all()
    )
    return [
        {
            "seizure_id": r.id,
            "kind": r.kind,
            "seal": r.seal_label,
            "make_model": " ".join(x for x in (r.make, r.model) if x) or None,
            "serial": r.serial,
            "imei": r.imei,
            "place": r.place,
            "district": r.district,
            "seized_at": iso_utc(r.seized_at),
            "why": why[r.id],
            "known_items": int(hits.get(r.id, 0)),
        }
        for r in conn.execute(select(sz).where(sz.c.id.in_(sorted(why))).order_by(sz.c.id))
    ]


def people_count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(people_table)).scalar_one())
