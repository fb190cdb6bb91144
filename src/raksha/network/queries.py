"""Reading the network's facts from the store (sightings, group sizes, corroboration).

One pass over the sightings join (message attachment → scanned item → reference match)
gives a :class:`PostFact` per post of a known item, already attributed to its person;
ranking never touches SQL.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, distinct, func, select

from raksha.network.facts import ChatFact, Corroboration, PostFact
from raksha.store.case_models import evidence_accounts_table, seizures_table
from raksha.store.chat_models import (
    chat_members_table,
    chats_table,
    message_media_table,
    messages_table,
)
from raksha.store.db import Store
from raksha.store.intel_models import referral_accounts_table, referral_links_table
from raksha.store.models import evidence_table, item_matches_table, items_table
from raksha.store.network_models import person_accounts_table

MT, MM, IT, XT, PA, CT, CM = (
    messages_table,
    message_media_table,
    items_table,
    item_matches_table,
    person_accounts_table,
    chats_table,
    chat_members_table,
)


def iter_post_facts(store: Store) -> Iterator[PostFact]:
    """Every post of a known item, with its person (accounts without one are skipped)."""
    query = (
        select(
            PA.c.person_id,
            MT.c.account_id,
            MT.c.chat_id,
            MT.c.id,
            MT.c.sent_at,
            IT.c.sha256,
            func.min(XT.c.category),
            MT.c.forwarded_from,
        )
        .select_from(MM)
        .join(MT, MT.c.id == MM.c.message_id)
        .join(IT, (IT.c.evidence_id == MM.c.evidence_id) & (IT.c.locator_key == MM.c.locator_key))
        .join(XT, (XT.c.item_id == IT.c.id) & (XT.c.set_kind == "reference"))
        .join(PA, PA.c.account_id == MT.c.account_id)
        .group_by(
            PA.c.person_id,
            MT.c.account_id,
            MT.c.chat_id,
            MT.c.id,
            MT.c.sent_at,
            IT.c.sha256,
            MT.c.forwarded_from,
        )
    )
    with store.engine.connect() as conn:
        for row in conn.execution_options(yield_per=10_000).execute(query):
            yield PostFact(
                int(row[0]),
                int(row[1]),
                int(row[2]),
                int(row[3]),
                row[4],
                str(row[5]),
                row[6],
                bool(row[7]),
            )


def chat_facts(store: Store) -> dict[int, ChatFact]:
    """Every chat's size (stated members or subscribers, else members seen) and volume."""
    with store.engine.connect() as conn:
        messages: dict[int, int] = dict(
            conn.execute(select(MT.c.chat_id, func.count()).group_by(MT.c.chat_id)).all()
        )
        seen: dict[int, int] = dict(
            conn.execute(select(CM.c.chat_id, func.count()).group_by(CM.c.chat_id)).all()
        )
        known: dict[int, int] = dict(
            conn.execute(
                select(MT.c.chat_id, func.count(distinct(MT.c.id)))
                .select_from(MM)
                .join(MT, MT.c.id == MM.c.message_id)
                .join(
                    IT,
                    (IT.c.evidence_id == MM.c.evidence_id) & (IT.c.locator_key == MM.c.locator_key),
                )
                .join(XT, (XT.c.item_id == IT.c.id) & (XT.c.set_kind == "reference"))
                .group_by(MT.c.chat_id)
            ).all()
        )
        out = {}
        for c in conn.execute(select(CT)):
            size = c.member_count or c.subscriber_count or seen.get(c.id, 0)
            out[c.id] = ChatFact(
                c.id,
                c.title,
                c.kind,
                int(size),
                int(messages.get(c.id, 0)),
                int(known.get(c.id, 0)),
            )
    return out


def corroboration(store: Store) -> dict[int, Corroboration]:
    """Per person: the referrals that name one of their accounts, and the seized devices
    that are theirs (seized from them, or holding their own account) and held known
    material."""
    rl, ra = referral_links_table, referral_accounts_table
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(PA.c.person_id, func.count(distinct(ra.c.referral_id)))
            .select_from(rl)
            .join(ra, ra.c.id == rl.c.referral_account_id)
            .join(PA, PA.c.account_id == rl.c.account_id)
            .group_by(PA.c.person_id)
        ).all()
        devices = _devices_with_known_material(conn)
    referrals = {int(p): int(n) for p, n in rows}
    return {
        p: Corroboration(p, referrals=referrals.get(p, 0), devices=len(devices.get(p, ())))
        for p in referrals.keys() | devices.keys()
    }


def _devices_with_known_material(conn: Connection) -> dict[int, set[int]]:
    """person -> the seizures tied to them whose evidence held a known item."""
    sz, ev, ea, it, xt = (
        seizures_table,
        evidence_table,
        evidence_accounts_table,
        items_table,
        item_matches_table,
    )
    with_hits = set(
        conn.execute(
            select(ev.c.seizure_id)
            .join(it, it.c.evidence_id == ev.c.id)
            .join(xt, (xt.c.item_id == it.c.id) & (xt.c.set_kind == "reference"))
            .where(ev.c.seizure_id.is_not(None))
            .distinct()
        ).scalars()
    )
    if not with_hits:
        return {}
    tied: dict[int, set[int]] = {}
    for seizure, person in conn.execute(
        select(sz.c.id, sz.c.seized_from_person_id).where(
            sz.c.seized_from_person_id.is_not(None), sz.c.id.in_(sorted(with_hits))
        )
    ):
        tied.setdefault(int(person), set()).add(int(seizure))
    for seizure, person in conn.execute(
        select(ev.c.seizure_id, PA.c.person_id)
        .join(ea, ea.c.evidence_id == ev.c.id)
        .join(PA, PA.c.account_id == ea.c.account_id)
        .where(ev.c.seizure_id.in_(sorted(with_hits)))
        .distinct()
    ):
        tied.setdefault(int(person), set()).add(int(seizure))
    return tied
