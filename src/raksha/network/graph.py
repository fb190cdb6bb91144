"""The network graph, kept in ``graph_edges`` and rebuilt from the evidence when it changed.

Nodes are people, accounts, groups, items (known pictures, by SHA-256), referrals and
forwarding sources; edges: has-account, member-of, admin-of, invited, posted (with counts
and first/last time), posted-item, forwarded-from and named-in-referral (owns-device and
found-on-device come with seizures). :func:`build` aggregates each kind with one query and
rewrites the table in one transaction; it does nothing when no chat, referral or identity
decision changed since the last build, so running it after every ingest costs little.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, distinct, func, insert, select

from raksha.network.graph_model import Edge, NetworkGraph, Node
from raksha.store.chat_models import (
    accounts_table,
    chat_members_table,
    chats_table,
    message_media_table,
    messages_table,
)
from raksha.store.db import Store
from raksha.store.intel_models import (
    referral_accounts_table,
    referral_links_table,
    referrals_table,
)
from raksha.store.models import item_matches_table, items_table, store_meta_table
from raksha.store.network_models import (
    graph_edges_table,
    identity_decisions_table,
    people_table,
    person_accounts_table,
)

logger = logging.getLogger(__name__)

STAMP_KEY = "network_built_from"
GE = graph_edges_table


@dataclass(slots=True)
class BuildReport:
    rebuilt: bool
    edges: int
    seconds: float


def _stamp(conn: Connection) -> str:
    """What the graph was built from: the newest chat ingest, referral, decision, people."""
    parts = [
        conn.execute(select(func.max(chats_table.c.last_ingested))).scalar(),
        conn.execute(select(func.max(referrals_table.c.imported_at))).scalar(),
        conn.execute(select(func.max(identity_decisions_table.c.id))).scalar(),
        conn.execute(select(func.count()).select_from(person_accounts_table)).scalar(),
        conn.execute(select(func.count()).select_from(messages_table)).scalar(),
    ]
    return "|".join(str(p) for p in parts)


def build(store: Store, *, force: bool = False) -> BuildReport:
    """Rebuild ``graph_edges`` if the evidence changed since the last build."""
    started = time.monotonic()
    with store.engine.begin() as conn:
        stamp = _stamp(conn)
        old = conn.execute(
            select(store_meta_table.c.value).where(store_meta_table.c.key == STAMP_KEY)
        ).scalar()
        if old == stamp and not force:
            count = conn.execute(select(func.count()).select_from(GE)).scalar_one()
            return BuildReport(False, int(count), round(time.monotonic() - started, 3))
        conn.execute(delete(GE))
        total = 0
        batch: list[dict[str, Any]] = []
        for row in _edges(conn):
            batch.append(row)
            if len(batch) >= 5000:
                conn.execute(insert(GE), batch)
                total += len(batch)
                batch = []
        if batch:
            conn.execute(insert(GE), batch)
            total += len(batch)
        conn.execute(delete(store_meta_table).where(store_meta_table.c.key == STAMP_KEY))
        conn.execute(insert(store_meta_table).values(key=STAMP_KEY, value=stamp))
    logger.info("network graph rebuilt: %d edges", total)
    return BuildReport(True, total, round(time.monotonic() - started, 3))


def _edge(
    src: tuple[str, Any],
    dst: tuple[str, Any],
    kind: str,
    count: int = 1,
    first: datetime | None = None,
    last: datetime | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "src_kind": src[0],
        "src_id": str(src[1])[:100],
        "dst_kind": dst[0],
        "dst_id": str(dst[1])[:100],
        "kind": kind,
        "count": int(count),
        "first_at": first,
        "last_at": last,
        "details": details,
    }


def _edges(conn: Connection) -> Iterator[dict[str, Any]]:
    pa, cm, mt, mm, it, xt = (
        person_accounts_table,
        chat_members_table,
        messages_table,
        message_media_table,
        items_table,
        item_matches_table,
    )
    for person, account, basis in conn.execute(select(pa.c.person_id, pa.c.account_id, pa.c.basis)):
        yield _edge(
            ("person", person), ("account", account), "has_account", details={"basis": basis}
        )
    for r in conn.execute(select(cm)):
        yield _edge(
            ("account", r.account_id),
            ("group", r.chat_id),
            "member_of",
            first=r.joined_at or r.first_seen,
            last=r.left_at or r.last_seen,
            details={"how": r.how, "left": r.left_at is not None},
        )
        if r.role in ("creator", "admin"):
            yield _edge(("account", r.account_id), ("group", r.chat_id), "admin_of")
        if r.invited_by is not None:
            yield _edge(
                ("account", r.invited_by),
                ("account", r.account_id),
                "invited",
                first=r.joined_at,
                details={"group": r.chat_id},
            )
    known = (
        select(mt.c.id.label("message_id"), it.c.sha256)
        .select_from(mm)
        .join(mt, mt.c.id == mm.c.message_id)
        .join(it, (it.c.evidence_id == mm.c.evidence_id) & (it.c.locator_key == mm.c.locator_key))
        .join(xt, (xt.c.item_id == it.c.id) & (xt.c.set_kind == "reference"))
        .distinct()
        .subquery()
    )
    known_posts: dict[tuple[int, int], int] = {}
    for account, chat, n in conn.execute(
        select(mt.c.account_id, mt.c.chat_id, func.count(distinct(known.c.message_id)))
        .join(known, known.c.message_id == mt.c.id)
        .group_by(mt.c.account_id, mt.c.chat_id)
    ):
        known_posts[(account, chat)] = int(n)
    for account, chat, n, first, last in conn.execute(
        select(
            mt.c.account_id,
            mt.c.chat_id,
            func.count(),
            func.min(mt.c.sent_at),
            func.max(mt.c.sent_at),
        )
        .where(mt.c.account_id.is_not(None))
        .group_by(mt.c.account_id, mt.c.chat_id)
    ):
        yield _edge(
            ("account", account),
            ("group", chat),
            "posted",
            n,
            first,
            last,
            {"known_posts": known_posts.get((account, chat), 0)},
        )
    for account, sha, n, first, last in conn.execute(
        select(
            mt.c.account_id,
            known.c.sha256,
            func.count(),
            func.min(mt.c.sent_at),
            func.max(mt.c.sent_at),
        )
        .join(known, known.c.message_id == mt.c.id)
        .where(mt.c.account_id.is_not(None))
        .group_by(mt.c.account_id, known.c.sha256)
    ):
        yield _edge(("account", account), ("item", sha), "posted_item", n, first, last)
    for account, source, n, first, last in conn.execute(
        select(
            mt.c.account_id,
            func.coalesce(mt.c.forwarded_from_id, mt.c.forwarded_from),
            func.count(),
            func.min(mt.c.sent_at),
            func.max(mt.c.sent_at),
        )
        .where(mt.c.account_id.is_not(None), mt.c.forwarded_from.is_not(None))
        .group_by(mt.c.account_id, func.coalesce(mt.c.forwarded_from_id, mt.c.forwarded_from))
    ):
        yield _edge(("account", account), ("source", source), "forwarded_from", n, first, last)
    rl, ra = referral_links_table, referral_accounts_table
    for account, referral, basis in conn.execute(
        select(rl.c.account_id, ra.c.referral_id, rl.c.basis).join(
            ra, ra.c.id == rl.c.referral_account_id
        )
    ):
        yield _edge(
            ("account", account),
            ("referral", referral),
            "named_in_referral",
            details={"basis": basis},
        )


def load(store: Store) -> NetworkGraph:
    """The stored graph with node labels, for export and community detection."""
    graph = NetworkGraph()
    with store.engine.connect() as conn:
        at, ct, pt = accounts_table, chats_table, people_table
        for r in conn.execute(select(pt)):
            graph.add_node(Node("person", str(r.id), r.label or f"person {r.id}", {}))
        for r in conn.execute(select(at)):
            graph.add_node(
                Node(
                    "account",
                    str(r.id),
                    r.display_name or r.external_id,
                    {"platform": r.platform, "identifier": r.external_id, "id_kind": r.id_kind},
                )
            )
        for r in conn.execute(select(ct)):
            size = r.member_count or r.subscriber_count or 0
            graph.add_node(
                Node(
                    "group",
                    str(r.id),
                    r.title or r.chat_key,
                    {"platform": r.platform, "title": r.title or "", "members": int(size)},
                )
            )
        for r in conn.execute(select(referrals_table)):
            graph.add_node(Node("referral", str(r.id), f"{r.source} {r.external_id}", {}))
        for r in conn.execute(select(GE)):
            graph.add_edge(
                Edge(
                    (r.src_kind, r.src_id),
                    (r.dst_kind, r.dst_id),
                    r.kind,
                    int(r._mapping["count"]),
                    r.first_at,
                    r.last_at,
                    {k: v for k, v in (r.details or {}).items() if v is not None},
                )
            )
    return graph
