"""The network graph, kept in ``graph_edges`` and rebuilt from the evidence when it changed.

Nodes are people, accounts, groups, items (known pictures, by SHA-256), referrals,
forwarding sources and seized devices; edges: has-account, member-of, admin-of, invited,
posted (with counts and first/last time), posted-item, forwarded-from,
named-in-referral, owns-device (the person a device was seized from) and
found-on-device (an account whose own export is on the device, an account seen in chats
extracted from it, a known item found on it). :func:`build` aggregates each kind with
one query and rewrites the table in one transaction; it does nothing when no chat,
referral, identity decision, seizure or hit changed since the last build, so running it
after every ingest costs little.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, distinct, func, insert, select

from raksha.network.graph_model import Edge, NetworkGraph, Node
from raksha.store.case_models import evidence_accounts_table, seizures_table
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
from raksha.store.models import (
    evidence_table,
    iso_utc,
    item_matches_table,
    items_table,
    store_meta_table,
)
from raksha.store.network_models import (
    graph_edges_table,
    identity_decisions_table,
    people_table,
    person_accounts_table,
)

logger = logging.getLogger(__name__)

STAMP_KEY = "network_built_from"
GE = graph_edges_table
#: Edges that belong to one group: rebuilt for the groups an ingest touched.
CHAT_KINDS = ("member_of", "admin_of", "posted")
#: Edges that sum over an account's groups: rebuilt for the accounts in touched groups.
ACCOUNT_KINDS = ("posted_item", "forwarded_from")
#: Edges over small tables (people, referrals, devices): always rebuilt whole.
WHOLE_KINDS = ("has_account", "named_in_referral", "owns_device", "found_on_device")
#: Past this share of groups touched, a full rebuild is cheaper than an incremental one.
FULL_REBUILD_SHARE = 0.5
_CHUNK = 500


@dataclass(slots=True)
class BuildReport:
    rebuilt: bool
    edges: int
    seconds: float
    mode: str = "unchanged"  # unchanged, full, incremental
    groups: int = 0  # groups whose edges were rebuilt (incremental)
    accounts: int = 0  # accounts whose cross-group edges were rebuilt (incremental)


def _stamp(conn: Connection) -> dict[str, str]:
    """What the graph was built from: the newest chat ingest, the message and hit counts
    (the group and account edges depend on nothing else), and ``other`` — referrals,
    decisions, people, seizures — which only the small whole-table kinds depend on."""
    parts = [
        conn.execute(select(func.max(referrals_table.c.imported_at))).scalar(),
        conn.execute(select(func.max(identity_decisions_table.c.id))).scalar(),
        conn.execute(select(func.count()).select_from(person_accounts_table)).scalar(),
        conn.execute(
            select(func.count(), func.sum(seizures_table.c.seized_from_person_id)).select_from(
                seizures_table
            )
        ).one(),
        conn.execute(
            select(func.count(), func.sum(evidence_table.c.seizure_id)).where(
                evidence_table.c.seizure_id.is_not(None)
            )
        ).one(),
        conn.execute(select(func.count()).select_from(evidence_accounts_table)).scalar(),
    ]
    newest = conn.execute(select(func.max(chats_table.c.last_ingested))).scalar()
    return {
        "chats": str(newest),
        "chats_upto": iso_utc(newest) or "",
        "messages": str(conn.execute(select(func.count()).select_from(messages_table)).scalar()),
        "hits": str(conn.execute(select(func.count()).select_from(item_matches_table)).scalar()),
        "other": "|".join(str(p) for p in parts),
    }


def build(store: Store, *, force: bool = False) -> BuildReport:
    """Bring ``graph_edges`` up to date with the evidence.

    Nothing changed: nothing done. Only chats were ingested since the last build (the
    common case: a weekly export, a new group): only the edges of the groups that ingest
    touched and of the accounts in them are rewritten, plus the small whole-table kinds
    (people, referrals, devices), which is all a referral, a decision or a seizure
    changes. ``force``, no earlier build, messages or hits that changed with no group
    stamped, or more than half the groups touched: the table is rewritten whole. Either
    way in one transaction.
    """
    started = time.monotonic()
    with store.engine.begin() as conn:
        stamp = _stamp(conn)
        raw = conn.execute(
            select(store_meta_table.c.value).where(store_meta_table.c.key == STAMP_KEY)
        ).scalar()
        old = _old_stamp(raw)
        report = BuildReport(False, 0, 0.0)
        if old == stamp and not force:
            report.edges = int(conn.execute(select(func.count()).select_from(GE)).scalar_one())
        else:
            changed = None if force or old is None else _changed_chats(conn, old, stamp)
            total_chats = int(
                conn.execute(select(func.count()).select_from(chats_table)).scalar_one()
            )
            if changed is None or len(changed) > FULL_REBUILD_SHARE * max(total_chats, 1):
                conn.execute(delete(GE))
                _insert(conn, _edges(conn))
                report.mode = "full"
            else:
                _update(conn, changed, report)
                report.mode = "incremental"
            report.rebuilt = True
            report.edges = int(conn.execute(select(func.count()).select_from(GE)).scalar_one())
            conn.execute(delete(store_meta_table).where(store_meta_table.c.key == STAMP_KEY))
            conn.execute(insert(store_meta_table).values(key=STAMP_KEY, value=json.dumps(stamp)))
    report.seconds = round(time.monotonic() - started, 3)
    if report.rebuilt:
        logger.info("network graph %s: %d edges", report.mode, report.edges)
    return report


def _old_stamp(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None  # a stamp from an older version: rebuild whole
    return value if isinstance(value, dict) else None


def _changed_chats(conn: Connection, old: dict[str, str], new: dict[str, str]) -> list[int] | None:
    """The groups ingested since the last build, or ``None`` when a full rebuild is due."""
    query = select(chats_table.c.id)
    if old.get("chats_upto"):
        query = query.where(chats_table.c.last_ingested > datetime.fromisoformat(old["chats_upto"]))
    changed = [int(c) for c in conn.execute(query).scalars()]
    moved = old.get("messages") != new["messages"] or old.get("hits") != new["hits"]
    if not changed and moved:
        return None  # messages or hits changed with no group stamped: do not guess
    return changed


def _insert(conn: Connection, rows: Iterator[dict[str, Any]]) -> int:
    total = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 5000:
            conn.execute(insert(GE), batch)
            total += len(batch)
            batch = []
    if batch:
        conn.execute(insert(GE), batch)
        total += len(batch)
    return total


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _update(conn: Connection, chats: list[int], report: BuildReport) -> None:
    """Rewrite the edges of ``chats``, of the accounts in them, and the whole-table kinds."""
    cm, mt = chat_members_table, messages_table
    accounts: set[int] = set()
    for part in _chunks(chats):
        accounts.update(
            conn.execute(select(cm.c.account_id).where(cm.c.chat_id.in_(part))).scalars()
        )
        accounts.update(
            conn.execute(
                select(mt.c.account_id)
                .where(mt.c.chat_id.in_(part), mt.c.account_id.is_not(None))
                .distinct()
            ).scalars()
        )
    account_list = sorted(int(a) for a in accounts)
    conn.execute(delete(GE).where(GE.c.kind.in_(WHOLE_KINDS)))
    for part in _chunks(chats):
        conn.execute(
            delete(GE).where(
                GE.c.kind.in_(CHAT_KINDS),
                GE.c.dst_kind == "group",
                GE.c.dst_id.in_([str(c) for c in part]),
            )
        )
    for part in _chunks(account_list):
        ids = [str(a) for a in part]
        conn.execute(delete(GE).where(GE.c.kind.in_(ACCOUNT_KINDS), GE.c.src_id.in_(ids)))
        conn.execute(delete(GE).where(GE.c.kind == "invited", GE.c.dst_id.in_(ids)))
    _insert(conn, _whole_edges(conn))
    for part in _chunks(chats):
        _insert(conn, _chat_edges(conn, part))
    for part in _chunks(account_list):
        _insert(conn, _account_edges(conn, part))
        _insert(conn, _invited_edges(conn, part))
    report.groups, report.accounts = len(chats), len(account_list)


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
    """Every edge, from the whole store."""
    yield from _whole_edges(conn)
    yield from _chat_edges(conn, None)
    yield from _account_edges(conn, None)
    yield from _invited_edges(conn, None)


def _whole_edges(conn: Connection) -> Iterator[dict[str, Any]]:
    """has-account, named-in-referral and the device edges: small, always rebuilt whole."""
    pa = person_accounts_table
    for person, account, basis in conn.execute(select(pa.c.person_id, pa.c.account_id, pa.c.basis)):
        yield _edge(
            ("person", person), ("account", account), "has_account", details={"basis": basis}
        )
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
    yield from _device_edges(conn)


def _known_messages(where: Any = None) -> Any:
    """Messages with an attachment that matched a reference set, with the item's SHA-256."""
    mt, mm, it, xt = messages_table, message_media_table, items_table, item_matches_table
    query = (
        select(mt.c.id.label("message_id"), it.c.sha256)
        .select_from(mm)
        .join(mt, mt.c.id == mm.c.message_id)
        .join(it, (it.c.evidence_id == mm.c.evidence_id) & (it.c.locator_key == mm.c.locator_key))
        .join(xt, (xt.c.item_id == it.c.id) & (xt.c.set_kind == "reference"))
        .distinct()
    )
    if where is not None:
        query = query.where(where)
    return query.subquery()


def _chat_edges(conn: Connection, chats: list[int] | None) -> Iterator[dict[str, Any]]:
    """member-of, admin-of and posted: the edges that belong to one group."""
    cm, mt = chat_members_table, messages_table
    members = select(cm)
    if chats is not None:
        members = members.where(cm.c.chat_id.in_(chats))
    for r in conn.execute(members):
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
    in_chats = None if chats is None else mt.c.chat_id.in_(chats)
    known = _known_messages(in_chats)
    counted = (
        select(mt.c.account_id, mt.c.chat_id, func.count(distinct(known.c.message_id)))
        .join(known, known.c.message_id == mt.c.id)
        .group_by(mt.c.account_id, mt.c.chat_id)
    )
    posts = (
        select(
            mt.c.account_id,
            mt.c.chat_id,
            func.count(),
            func.min(mt.c.sent_at),
            func.max(mt.c.sent_at),
        )
        .where(mt.c.account_id.is_not(None))
        .group_by(mt.c.account_id, mt.c.chat_id)
    )
    if in_chats is not None:
        counted, posts = counted.where(in_chats), posts.where(in_chats)
    known_posts = {(a, c): int(n) for a, c, n in conn.execute(counted)}
    for account, chat, n, first, last in conn.execute(posts):
        yield _edge(
            ("account", account),
            ("group", chat),
            "posted",
            n,
            first,
            last,
            {"known_posts": known_posts.get((account, chat), 0)},
        )


def _account_edges(conn: Connection, accounts: list[int] | None) -> Iterator[dict[str, Any]]:
    """posted-item and forwarded-from: per account over all of its groups."""
    mt = messages_table
    of_accounts = None if accounts is None else mt.c.account_id.in_(accounts)
    known = _known_messages(of_accounts)
    items = (
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
    )
    source = func.coalesce(mt.c.forwarded_from_id, mt.c.forwarded_from)
    forwards = (
        select(
            mt.c.account_id, source, func.count(), func.min(mt.c.sent_at), func.max(mt.c.sent_at)
        )
        .where(mt.c.account_id.is_not(None), mt.c.forwarded_from.is_not(None))
        .group_by(mt.c.account_id, source)
    )
    if of_accounts is not None:
        items, forwards = items.where(of_accounts), forwards.where(of_accounts)
    for account, sha, n, first, last in conn.execute(items):
        yield _edge(("account", account), ("item", sha), "posted_item", n, first, last)
    for account, src, n, first, last in conn.execute(forwards):
        yield _edge(("account", account), ("source", src), "forwarded_from", n, first, last)


def _invited_edges(conn: Connection, accounts: list[int] | None) -> Iterator[dict[str, Any]]:
    """invited: who brought whom in, over every group (one edge a pair, with the groups)."""
    cm = chat_members_table
    query = (
        select(cm.c.invited_by, cm.c.account_id, cm.c.chat_id, cm.c.joined_at)
        .where(cm.c.invited_by.is_not(None))
        .order_by(cm.c.account_id, cm.c.invited_by, cm.c.chat_id)
    )
    if accounts is not None:
        query = query.where(cm.c.account_id.in_(accounts))
    pairs: dict[tuple[int, int], list[Any]] = {}
    for inviter, invitee, chat, joined in conn.execute(query):
        pairs.setdefault((inviter, invitee), []).append((chat, joined))
    for (inviter, invitee), seen in pairs.items():
        times = [j for _, j in seen if j is not None]
        yield _edge(
            ("account", inviter),
            ("account", invitee),
            "invited",
            len(seen),
            first=min(times) if times else None,
            last=max(times) if times else None,
            details={"group": seen[0][0], "groups": [c for c, _ in seen]},
        )


def _device_edges(conn: Connection) -> Iterator[dict[str, Any]]:
    """owns-device and found-on-device, from seizures and the evidence made from them."""
    sz, ev, ea, mt = seizures_table, evidence_table, evidence_accounts_table, messages_table
    for seizure, person in conn.execute(
        select(sz.c.id, sz.c.seized_from_person_id).where(sz.c.seized_from_person_id.is_not(None))
    ):
        yield _edge(("person", person), ("device", seizure), "owns_device")
    seized = dict(
        conn.execute(select(ev.c.id, ev.c.seizure_id).where(ev.c.seizure_id.is_not(None))).all()
    )
    if not seized:
        return  # no evidence comes from a seized device
    own: dict[tuple[int, int], str] = {}
    for account, seizure in conn.execute(
        select(ea.c.account_id, ev.c.seizure_id)
        .join(ev, ev.c.id == ea.c.evidence_id)
        .where(ev.c.seizure_id.is_not(None))
        .distinct()
    ):
        own[(account, seizure)] = "own account"
    seen: dict[tuple[int, int], int] = {}
    for account, evidence, n in conn.execute(
        select(mt.c.account_id, mt.c.evidence_id, func.count())
        .where(mt.c.evidence_id.in_(sorted(seized)), mt.c.account_id.is_not(None))
        .group_by(mt.c.account_id, mt.c.evidence_id)
    ):
        key = (account, seized[evidence])
        seen[key] = seen.get(key, 0) + int(n)
    for key in sorted(own.keys() | seen.keys()):
        yield _edge(
            ("account", key[0]),
            ("device", key[1]),
            "found_on_device",
            max(seen.get(key, 0), 1),
            details={"basis": own.get(key, "in chats"), "messages": seen.get(key, 0)},
        )
    it, xt = items_table, item_matches_table
    for sha, seizure, n in conn.execute(
        select(it.c.sha256, ev.c.seizure_id, func.count(distinct(it.c.id)))
        .join(ev, ev.c.id == it.c.evidence_id)
        .join(xt, (xt.c.item_id == it.c.id) & (xt.c.set_kind == "reference"))
        .where(ev.c.seizure_id.is_not(None), it.c.sha256.is_not(None))
        .group_by(it.c.sha256, ev.c.seizure_id)
    ):
        yield _edge(("item", sha), ("device", seizure), "found_on_device", int(n))


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
        for r in conn.execute(select(seizures_table)):
            what = " ".join(x for x in (r.make, r.model) if x)
            graph.add_node(
                Node(
                    "device",
                    str(r.id),
                    f"{r.kind} {r.seal_label}",
                    {"kind": r.kind, "seal": r.seal_label, "make_model": what},
                )
            )
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
