"""Reading chat context: groups, accounts, and sightings (posts whose media matched).

A sighting is a join: a message's attachment → the scanned item with the same evidence
and locator key → that item's matches against reference sets. Nothing is copied, so a
sighting appears as soon as both the message and the match are stored, in either order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, distinct, func, select

from raksha.errors import NotFoundError
from raksha.store.chat_models import (
    accounts_table,
    chat_members_table,
    chats_table,
    message_media_table,
    messages_table,
)
from raksha.store.db import Store
from raksha.store.models import iso_utc, item_matches_table, items_table

AT = accounts_table
CT = chats_table
CM = chat_members_table
MT = messages_table
MM = message_media_table
IT = items_table
XT = item_matches_table


def _sightings_base() -> Select[Any]:
    return (
        select(
            MT.c.id.label("message_id"),
            CT.c.id.label("chat_id"),
            CT.c.platform,
            CT.c.title.label("chat"),
            CT.c.kind.label("chat_kind"),
            MT.c.message_key,
            MT.c.sent_at,
            MT.c.account_id,
            AT.c.external_id.label("account"),
            AT.c.id_kind,
            AT.c.display_name,
            MT.c.forwarded_from,
            MT.c.text,
            MM.c.kind.label("media_kind"),
            IT.c.locator,
            IT.c.sha256,
            IT.c.md5,
            XT.c.set_name,
            XT.c.category,
            XT.c.category_label,
            XT.c.match_kind,
            XT.c.algorithm,
            XT.c.distance,
            XT.c.query_share,
            XT.c.ref_share,
            XT.c.at_seconds,
        )
        .select_from(MM)
        .join(MT, MT.c.id == MM.c.message_id)
        .join(CT, CT.c.id == MT.c.chat_id)
        .join(IT, (IT.c.evidence_id == MM.c.evidence_id) & (IT.c.locator_key == MM.c.locator_key))
        .join(XT, (XT.c.item_id == IT.c.id) & (XT.c.set_kind == "reference"))
        .outerjoin(AT, AT.c.id == MT.c.account_id)
    )


_MATCH_FIELDS = (
    "set_name",
    "category",
    "category_label",
    "match_kind",
    "algorithm",
    "distance",
    "query_share",
    "ref_share",
    "at_seconds",
)


def _grouped(rows: Iterator[Any]) -> Iterator[dict[str, Any]]:
    """One sighting per message attachment; its matches (best first) in ``matches``.

    Rows arrive ordered by message, locator, then best match first (exact before PDQ,
    smaller distance first); the best match's fields stay at the top level.
    """
    current: dict[str, Any] | None = None
    for r in rows:
        row = dict(r._mapping)
        match = {k: row[k] for k in _MATCH_FIELDS}
        key = (row["message_id"], row["locator"])
        if current is not None and (current["message_id"], current["locator"]) == key:
            if match not in current["matches"]:
                current["matches"].append(match)
            continue
        if current is not None:
            yield current
        row["sent_at"] = iso_utc(row["sent_at"])
        row["matches"] = [match]
        current = row
    if current is not None:
        yield current


def iter_sightings(
    store: Store,
    *,
    chat_id: int | None = None,
    account_id: int | None = None,
    message_ids: list[int] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every sighting (a message attachment that matched), by time, with its matches."""
    query = _sightings_base()
    if chat_id is not None:
        query = query.where(MT.c.chat_id == chat_id)
    if account_id is not None:
        query = query.where(MT.c.account_id == account_id)
    query = query.order_by(
        MT.c.sent_at, MT.c.id, IT.c.locator, XT.c.match_kind, XT.c.distance, XT.c.set_name
    )
    with store.engine.connect() as conn:
        if message_ids is None:
            yield from _grouped(iter(conn.execution_options(yield_per=2000).execute(query)))
            return
        for start in range(0, len(message_ids), 500):
            chunk = message_ids[start : start + 500]
            yield from _grouped(iter(conn.execute(query.where(MT.c.id.in_(chunk)))))


def find_chat(store: Store, ref: str) -> int:
    """A chat by its number, its key or its exact title."""
    with store.engine.connect() as conn:
        if ref.isdigit():
            found = conn.execute(select(CT.c.id).where(CT.c.id == int(ref))).scalar()
            if found is not None:
                return int(found)
        rows = (
            conn.execute(select(CT.c.id).where((CT.c.chat_key == ref) | (CT.c.title == ref)))
            .scalars()
            .all()
        )
    if len(rows) == 1:
        return int(rows[0])
    if not rows:
        raise NotFoundError(f"no group or chat {ref!r}; `raksha groups` lists them")
    raise NotFoundError(
        f"{len(rows)} chats are called {ref!r}: use the number `raksha groups` shows"
    )


def find_account(store: Store, ref: str) -> int:
    """An account by its number, its platform id (``user123``, ``+9198…``) or display name."""
    with store.engine.connect() as conn:
        if ref.isdigit():
            found = conn.execute(select(AT.c.id).where(AT.c.id == int(ref))).scalar()
            if found is not None:
                return int(found)
        rows = (
            conn.execute(
                select(AT.c.id).where((AT.c.external_id == ref) | (AT.c.display_name == ref))
            )
            .scalars()
            .all()
        )
    if len(rows) == 1:
        return int(rows[0])
    if not rows:
        raise NotFoundError(f"no account {ref!r}; `raksha accounts` lists them")
    raise NotFoundError(
        f"{len(rows)} accounts match {ref!r}: use the number `raksha accounts` shows"
    )


def list_chats(store: Store) -> list[dict[str, Any]]:
    """Every chat with its message, member and sighting counts and distinct known items."""
    with store.engine.connect() as conn:
        messages: dict[int, int] = dict(
            conn.execute(select(MT.c.chat_id, func.count()).group_by(MT.c.chat_id)).all()
        )
        members: dict[int, int] = dict(
            conn.execute(select(CM.c.chat_id, func.count()).group_by(CM.c.chat_id)).all()
        )
        sightings = _counts_by(conn, MT.c.chat_id)
        out = []
        for c in conn.execute(select(CT).order_by(CT.c.id)):
            posts, known = sightings.get(c.id, (0, 0))
            out.append(
                {
                    "id": c.id,
                    "platform": c.platform,
                    "chat_key": c.chat_key,
                    "title": c.title,
                    "kind": c.kind,
                    "member_count": c.member_count,
                    "subscriber_count": c.subscriber_count,
                    "members_seen": members.get(c.id, 0),
                    "messages": messages.get(c.id, 0),
                    "sightings": posts,
                    "known_items": known,
                    "last_ingested": iso_utc(c.last_ingested),
                }
            )
    return out


def _counts_by(conn: Any, column: Any) -> dict[int, tuple[int, int]]:
    """Per ``column`` value: messages with a known attachment, and distinct known items."""
    base = _sightings_base().subquery()
    key = base.c.chat_id if column is MT.c.chat_id else base.c.account_id
    rows = conn.execute(
        select(
            key, func.count(distinct(base.c.message_id)), func.count(distinct(base.c.sha256))
        ).group_by(key)
    ).all()
    return {r[0]: (r[1], r[2]) for r in rows if r[0] is not None}


def list_accounts(store: Store, *, chat_id: int | None = None) -> list[dict[str, Any]]:
    """Every account with its groups, messages, sightings and distinct known items."""
    with store.engine.connect() as conn:
        messages: dict[int, int] = dict(
            conn.execute(
                select(MT.c.account_id, func.count())
                .where(MT.c.account_id.is_not(None))
                .group_by(MT.c.account_id)
            ).all()
        )
        groups: dict[int, int] = dict(
            conn.execute(select(CM.c.account_id, func.count()).group_by(CM.c.account_id)).all()
        )
        sightings = _counts_by(conn, MT.c.account_id)
        query = select(AT).order_by(AT.c.id)
        if chat_id is not None:
            query = query.where(AT.c.id.in_(select(CM.c.account_id).where(CM.c.chat_id == chat_id)))
        out = []
        for a in conn.execute(query):
            posts, known = sightings.get(a.id, (0, 0))
            out.append(
                {
                    "id": a.id,
                    "platform": a.platform,
                    "id_kind": a.id_kind,
                    "external_id": a.external_id,
                    "display_name": a.display_name,
                    "groups": groups.get(a.id, 0),
                    "messages": messages.get(a.id, 0),
                    "sightings": posts,
                    "known_items": known,
                    "first_seen": iso_utc(a.first_seen),
                    "last_seen": iso_utc(a.last_seen),
                }
            )
    out.sort(key=lambda r: (-r["known_items"], -r["sightings"], r["id"]))
    return out
