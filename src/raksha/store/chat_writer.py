"""The one writer of chat context: accounts, chats, memberships, messages and their media.

Readers hand it records; it writes them in batches (one transaction each), idempotently:
a chat is unique by platform and key, an account by platform, kind of id and id (scoped
to its chat when it is only a display name), a message by chat and key. Re-ingesting a
later export of the same chat therefore adds only the messages that are new, and the
writer reports which those are, so their sightings can be shown as new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    case,
    delete,
    select,
    tuple_,
    update,
)

from raksha.chats.records import (
    AccountRef,
    ChatEvent,
    ChatInfo,
    ChatMessage,
    ChatProblem,
    ExportOwner,
    ProfilePhoto,
)
from raksha.locators import chain_locator, locator_key
from raksha.sources.base import escape_name
from raksha.store.case_models import evidence_accounts_table
from raksha.store.chat_models import (
    accounts_table,
    chat_members_table,
    chat_problems_table,
    chats_table,
    membership_events_table,
    message_media_table,
    messages_table,
)
from raksha.store.db import Store, insert_ignoring_duplicates
from raksha.store.models import utcnow
from raksha.store.network_models import account_photos_table

logger = logging.getLogger(__name__)

BATCH = 2000
_JOINING = {"create": "create", "invite": "invite", "join_by_link": "join_by_link", "join": "join"}
_LEAVING = {"remove", "leave"}


@dataclass(slots=True)
class IngestCounts:
    chats: int = 0
    messages: int = 0
    new_messages: int = 0
    media: int = 0
    media_missing: int = 0
    accounts: int = 0
    problems: int = 0
    new_message_ids: list[int] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, int]:
        return {
            "chats": self.chats,
            "messages": self.messages,
            "new_messages": self.new_messages,
            "media": self.media,
            "media_missing": self.media_missing,
            "accounts": self.accounts,
            "problems": self.problems,
        }


class ChatWriter:
    """Writes one export's records for one piece of evidence."""

    def __init__(self, store: Store, evidence_id: int, root_locator: str) -> None:
        self.store = store
        self.evidence_id = evidence_id
        self.root_locator = root_locator
        self.counts = IngestCounts()
        self.problems: list[tuple[str, str]] = []
        self._chat_ids: dict[str, int] = {}
        self._account_ids: dict[tuple[str, str, str, str], int] = {}
        self._pending: list[ChatMessage] = []

    def write_all(self, events: Iterable[ChatEvent]) -> IngestCounts:
        for event in events:
            if isinstance(event, ChatInfo):
                self._flush()
                self._chat(event)
            elif isinstance(event, ChatMessage):
                self._pending.append(event)
                if len(self._pending) >= BATCH:
                    self._flush()
            elif isinstance(event, ChatProblem):
                self._problem(event)
            elif isinstance(event, ExportOwner):
                self._owner(event)
            elif isinstance(event, ProfilePhoto):
                self._profile_photo(event)
        self._flush()
        for chat_key, chat_id in self._chat_ids.items():
            self._reconcile_names(chat_id, chat_key)
        return self.counts

    def _owner(self, owner: ExportOwner) -> None:
        """Record the account the export was made from as this evidence's own account."""
        with self.store.engine.begin() as conn:
            ids = self._accounts(conn, "", [owner.account])
            conn.execute(
                insert_ignoring_duplicates(conn, evidence_accounts_table),
                [
                    {
                        "evidence_id": self.evidence_id,
                        "account_id": account_id,
                        "basis": "export owner",
                        "phone": owner.phone,
                    }
                    for account_id in ids.values()
                ],
            )

    def _profile_photo(self, photo: ProfilePhoto) -> None:
        """Point an account at the scanned item that is its profile photo."""
        locator = chain_locator(self.root_locator, escape_name(photo.path))
        with self.store.engine.begin() as conn:
            (account_id,) = self._accounts(conn, "", [photo.account]).values()
            conn.execute(
                insert_ignoring_duplicates(conn, account_photos_table),
                [
                    {
                        "account_id": account_id,
                        "evidence_id": self.evidence_id,
                        "locator": locator,
                        "locator_key": locator_key(locator),
                    }
                ],
            )

    def _reconcile_names(self, chat_id: int, chat_key: str) -> None:
        """Point name-only mentions at the one account of this chat with that name.

        Service messages name people by display name ("Ravi K invited Sunil M") while
        their posts carry ids (``user102``). Within one chat, a display name that exactly
        one id-bearing account uses is that account; the name-only stand-in is merged
        into it. Ambiguous names (two "Arun"s) are left alone.
        """
        at, cm, me, mt = accounts_table, chat_members_table, membership_events_table, messages_table
        with self.store.engine.begin() as conn:
            named = conn.execute(
                select(at.c.id, at.c.display_name).where(
                    at.c.scope == chat_key[:300], at.c.id_kind == "name"
                )
            ).all()
            if not named:
                return
            in_chat = select(cm.c.account_id).where(cm.c.chat_id == chat_id)
            solid: dict[str, list[int]] = {}
            for account_id, name in conn.execute(
                select(at.c.id, at.c.display_name).where(
                    at.c.id.in_(in_chat), at.c.id_kind != "name", at.c.display_name.is_not(None)
                )
            ):
                solid.setdefault(name, []).append(account_id)
            for stand_in, name in named:
                target = solid.get(name, [])
                if len(target) != 1:
                    continue
                into = target[0]
                conn.execute(update(me).where(me.c.account_id == stand_in).values(account_id=into))
                conn.execute(update(me).where(me.c.actor_id == stand_in).values(actor_id=into))
                conn.execute(update(cm).where(cm.c.invited_by == stand_in).values(invited_by=into))
                conn.execute(update(mt).where(mt.c.account_id == stand_in).values(account_id=into))
                old = conn.execute(
                    select(cm).where(cm.c.chat_id == chat_id, cm.c.account_id == stand_in)
                ).first()
                if old is not None:
                    conn.execute(
                        insert_ignoring_duplicates(conn, cm),
                        [{"chat_id": chat_id, "account_id": into, "role": "member"}],
                    )
                    keep = and_(cm.c.chat_id == chat_id, cm.c.account_id == into)
                    for column in ("how", "invited_by", "joined_at", "left_at"):
                        value = getattr(old, column)
                        if value is not None:
                            conn.execute(
                                update(cm)
                                .where(keep, cm.c[column].is_(None))
                                .values({column: value})
                            )
                    if old.role != "member":
                        conn.execute(update(cm).where(keep).values(role=old.role))
                    conn.execute(delete(cm).where(cm.c.id == old.id))
                conn.execute(delete(at).where(at.c.id == stand_in))
                self._account_ids = {k: v for k, v in self._account_ids.items() if v != stand_in}

    # -- chats and accounts -----------------------------------------------------------------

    def _chat(self, info: ChatInfo) -> None:
        now = utcnow()
        with self.store.engine.begin() as conn:
            conn.execute(
                insert_ignoring_duplicates(conn, chats_table),
                [
                    {
                        "platform": info.platform,
                        "chat_key": info.chat_key,
                        "title": info.title,
                        "kind": info.kind,
                        "member_count": info.member_count,
                        "subscriber_count": info.subscriber_count,
                        "first_ingested": now,
                        "last_ingested": now,
                    }
                ],
            )
            ct = chats_table
            chat_id = conn.execute(
                select(ct.c.id).where(
                    ct.c.platform == info.platform, ct.c.chat_key == info.chat_key
                )
            ).scalar_one()
            values: dict[str, object] = {"last_ingested": now, "kind": info.kind}
            if info.title:
                values["title"] = info.title
            if info.member_count is not None:
                values["member_count"] = info.member_count
            if info.subscriber_count is not None:
                values["subscriber_count"] = info.subscriber_count
            conn.execute(update(ct).where(ct.c.id == chat_id).values(**values))
            self._chat_ids[info.chat_key] = chat_id
            if info.participants:
                ids = self._accounts(conn, info.chat_key, info.participants)
                self._members(
                    conn,
                    chat_id,
                    {ids[_key(info.chat_key, a)]: (None, None) for a in info.participants},
                )
        self.counts.chats += 1

    def _accounts(
        self, conn: Connection, chat_key: str, refs: Iterable[AccountRef]
    ) -> dict[tuple[str, str, str, str], int]:
        """Ids of the accounts named (created where new), keyed as :func:`_key` makes them."""
        wanted = {_key(chat_key, r): r for r in refs}
        missing = {k: r for k, r in wanted.items() if k not in self._account_ids}
        if missing:
            conn.execute(
                insert_ignoring_duplicates(conn, accounts_table),
                [
                    {
                        "platform": k[0],
                        "id_kind": k[1],
                        "external_id": k[2],
                        "scope": k[3],
                        "display_name": r.display_name,
                    }
                    for k, r in missing.items()
                ],
            )
            at = accounts_table
            keys = list(missing)
            for start in range(0, len(keys), 500):  # ids of new accounts: a query per 500
                part = keys[start : start + 500]
                for row in conn.execute(
                    select(
                        at.c.platform, at.c.id_kind, at.c.external_id, at.c.scope, at.c.id
                    ).where(
                        tuple_(at.c.platform, at.c.id_kind, at.c.external_id, at.c.scope).in_(part)
                    )
                ):
                    self._account_ids[(row[0], row[1], row[2], row[3])] = row[4]
            self.counts.accounts += len(missing)
        return {k: self._account_ids[k] for k in wanted}

    def _members(
        self,
        conn: Connection,
        chat_id: int,
        seen: dict[int, tuple[datetime | None, datetime | None]],
    ) -> None:
        """Record membership of each account, widening its first/last-seen window."""
        if not seen:
            return
        conn.execute(
            insert_ignoring_duplicates(conn, chat_members_table),
            [
                {
                    "chat_id": chat_id,
                    "account_id": a,
                    "role": "member",
                    "first_seen": f,
                    "last_seen": t,
                }
                for a, (f, t) in seen.items()
            ],
        )
        _widen(
            conn,
            chat_members_table,
            [(cm_key(chat_id, a), f, t) for a, (f, t) in seen.items() if f is not None],
        )

    # -- messages ---------------------------------------------------------------------------

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        by_chat: dict[str, list[ChatMessage]] = {}
        for message in batch:
            by_chat.setdefault(message.chat_key, []).append(message)
        with self.store.engine.begin() as conn:
            for chat_key, messages in by_chat.items():
                chat_id = self._chat_ids.get(chat_key)
                if chat_id is None:
                    self._problem(ChatProblem(messages[0].where, "a message outside any chat"))
                    continue
                self._write_messages(conn, chat_id, chat_key, messages)

    def _write_messages(
        self, conn: Connection, chat_id: int, chat_key: str, messages: list[ChatMessage]
    ) -> None:
        refs: list[AccountRef] = []
        for m in messages:
            refs.extend(r for r in (m.sender, m.actor, *m.members) if r is not None)
        ids = self._accounts(conn, chat_key, refs) if refs else {}

        def account_id(ref: AccountRef | None) -> int | None:
            return ids[_key(chat_key, ref)] if ref is not None else None

        mt = messages_table
        keys = [m.message_key for m in messages]
        existing = set(
            conn.execute(
                select(mt.c.message_key).where(mt.c.chat_id == chat_id, mt.c.message_key.in_(keys))
            ).scalars()
        )
        self.counts.messages += len(messages)
        new = [m for m in messages if m.message_key not in existing]
        unique: dict[str, ChatMessage] = {}
        for m in new:
            unique.setdefault(m.message_key, m)
        new = list(unique.values())
        now = utcnow()
        if new:
            conn.execute(
                insert_ignoring_duplicates(conn, mt),
                [
                    {
                        "chat_id": chat_id,
                        "message_key": m.message_key,
                        "evidence_id": self.evidence_id,
                        "account_id": account_id(m.sender),
                        "sent_at": m.sent_at,
                        "text": m.text or None,
                        "reply_to": m.reply_to,
                        "forwarded_from": m.forwarded_from,
                        "forwarded_from_id": m.forwarded_from_id,
                        "action": m.action,
                        "edited": m.edited,
                        "deleted": m.deleted,
                        "media_missing": any(r.path is None for r in m.media),
                        "ingested_at": now,
                    }
                    for m in new
                ],
            )
        message_ids = (
            dict(
                conn.execute(
                    select(mt.c.message_key, mt.c.id).where(
                        mt.c.chat_id == chat_id,
                        mt.c.message_key.in_([m.message_key for m in new]),
                        mt.c.evidence_id == self.evidence_id,
                    )
                ).all()
            )
            if new
            else {}
        )
        self.counts.new_messages += len(message_ids)
        self.counts.new_message_ids.extend(message_ids.values())
        self._media(conn, new, message_ids)
        self._events(conn, chat_id, new, message_ids, account_id)
        seen: dict[int, tuple[datetime | None, datetime | None]] = {}
        for m in new:  # messages stored before widened their windows already
            sender = account_id(m.sender)
            if sender is None:
                continue
            first, last = seen.get(sender, (m.sent_at, m.sent_at))
            if m.sent_at is not None:
                first = m.sent_at if first is None or m.sent_at < first else first
                last = m.sent_at if last is None or m.sent_at > last else last
            seen[sender] = (first, last)
        self._members(conn, chat_id, seen)
        self._account_times(conn, seen)

    def _account_times(
        self, conn: Connection, seen: dict[int, tuple[datetime | None, datetime | None]]
    ) -> None:
        _widen(
            conn,
            accounts_table,
            [({"k_id": a}, f, t) for a, (f, t) in seen.items() if f is not None],
        )

    def _media(self, conn: Connection, new: list[ChatMessage], message_ids: dict[str, int]) -> None:
        rows = []
        for m in new:
            mid = message_ids.get(m.message_key)
            if mid is None:
                continue
            for position, ref in enumerate(m.media):
                locator = (
                    chain_locator(self.root_locator, escape_name(ref.path)) if ref.path else None
                )
                rows.append(
                    {
                        "message_id": mid,
                        "position": position,
                        "evidence_id": self.evidence_id,
                        "kind": ref.kind,
                        "locator": locator,
                        "locator_key": locator_key(locator) if locator else None,
                        "file_name": ref.file_name,
                        "mime_type": ref.mime_type,
                        "size": ref.size,
                        "missing": ref.missing,
                    }
                )
                self.counts.media += 1
                if ref.path is None:
                    self.counts.media_missing += 1
        if rows:
            conn.execute(insert_ignoring_duplicates(conn, message_media_table), rows)

    def _events(
        self,
        conn: Connection,
        chat_id: int,
        new: list[ChatMessage],
        message_ids: dict[str, int],
        lookup: Callable[[AccountRef | None], int | None],
    ) -> None:
        rows = []
        cm = chat_members_table
        for m in new:
            mid = message_ids.get(m.message_key)
            if mid is None or m.action is None:
                continue
            actor = lookup(m.actor)
            members = [lookup(r) for r in m.members] or ([actor] if actor is not None else [])
            if actor is not None:  # whoever creates, invites or removes is in the chat
                conn.execute(
                    insert_ignoring_duplicates(conn, cm),
                    [{"chat_id": chat_id, "account_id": actor, "role": "member"}],
                )
                if m.action == "create":
                    conn.execute(
                        update(cm)
                        .where(cm.c.chat_id == chat_id, cm.c.account_id == actor)
                        .values(role="creator", how="create", joined_at=m.sent_at)
                    )
            for member in members:
                if member is None:
                    continue
                rows.append(
                    {
                        "chat_id": chat_id,
                        "message_id": mid,
                        "account_id": member,
                        "actor_id": actor,
                        "action": m.action,
                        "at": m.sent_at,
                    }
                )
                conn.execute(
                    insert_ignoring_duplicates(conn, cm),
                    [{"chat_id": chat_id, "account_id": member, "role": "member"}],
                )
                where = and_(cm.c.chat_id == chat_id, cm.c.account_id == member)
                if m.action in _JOINING:
                    values: dict[str, object] = {"how": _JOINING[m.action], "joined_at": m.sent_at}
                    if m.action == "create":
                        values["role"] = "creator"
                    elif actor is not None and actor != member:
                        values["invited_by"] = actor
                    conn.execute(update(cm).where(where, cm.c.joined_at.is_(None)).values(**values))
                elif m.action in _LEAVING:
                    conn.execute(update(cm).where(where).values(left_at=m.sent_at))
        if rows:
            conn.execute(insert_ignoring_duplicates(conn, membership_events_table), rows)

    def _problem(self, problem: ChatProblem) -> None:
        self.counts.problems += 1
        self.problems.append((problem.where, problem.reason))
        with self.store.engine.begin() as conn:
            conn.execute(
                chat_problems_table.insert().values(
                    evidence_id=self.evidence_id, where=problem.where, reason=problem.reason
                )
            )


def cm_key(chat_id: int, account_id: int) -> dict[str, int]:
    return {"k_chat": chat_id, "k_account": account_id}


def _widen(
    conn: Connection,
    table: Table,
    rows: list[tuple[dict[str, int], datetime | None, datetime | None]],
) -> None:
    """Widen each row's first/last-seen window, in one statement run for all rows.

    ``rows`` holds (key binds, first, last); the key binds are ``k_id`` (accounts) or
    ``k_chat`` + ``k_account`` (chat members). One compiled statement, many parameter
    sets: per-row expressions cost more to build than to run.
    """
    if not rows:
        return
    c = table.c
    where = (
        [c.id == bindparam("k_id")]
        if "k_id" in rows[0][0]
        else [c.chat_id == bindparam("k_chat"), c.account_id == bindparam("k_account")]
    )
    first, last = (
        bindparam("v_first", type_=c.first_seen.type),
        bindparam("v_last", type_=c.last_seen.type),
    )
    statement = (
        update(table)
        .where(*where)
        .values(
            first_seen=case(
                (c.first_seen.is_(None), first), (c.first_seen > first, first), else_=c.first_seen
            ),
            last_seen=case(
                (c.last_seen.is_(None), last), (c.last_seen < last, last), else_=c.last_seen
            ),
        )
    )
    conn.execute(statement, [{**key, "v_first": f, "v_last": t} for key, f, t in rows])


def _key(chat_key: str, ref: AccountRef) -> tuple[str, str, str, str]:
    scope = chat_key if ref.id_kind == "name" else ""
    return (ref.platform, ref.id_kind, ref.external_id[:300], scope[:300])
