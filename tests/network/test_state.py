"""The synthetic network state: what it writes is what its ground truth says, on both
databases, and sightings come out of it under the same join the product uses."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import distinct, func, select

from raksha.settings import Settings
from raksha.store.chat_models import (
    accounts_table,
    chat_members_table,
    chats_table,
    membership_events_table,
    message_media_table,
    messages_table,
)
from raksha.store.chat_repo import iter_sightings
from raksha.store.db import Store
from raksha.store.models import (
    cases_table,
    evidence_table,
    items_table,
    reference_hashes_table,
)
from tests.network.state import END, START, GroundTruth, build_state, scale

SMALL = {"groups": 5, "accounts": 300, "messages": 5000}
AT, CT, CM, MT, MM = (
    accounts_table,
    chats_table,
    chat_members_table,
    messages_table,
    message_media_table,
)


@pytest.fixture
def small(store: Store) -> GroundTruth:
    return build_state(store, **SMALL)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Any]:
    """Fresh SQLite stores beside the parametrized one (for comparing two builds)."""
    opened: list[Store] = []

    def make(name: str) -> Store:
        home = tmp_path / name
        store = Store.open(Settings(home=home, database_url=f"sqlite:///{home / 'raksha.db'}"))
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _by_account(store: Store) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for s in iter_sightings(store):
        out[s["account_id"]].append(s)
    return out


def test_the_rows_written_are_the_rows_counted(store: Store, small: GroundTruth) -> None:
    counts = small.counts
    with store.engine.connect() as conn:
        for table in (
            cases_table,
            evidence_table,
            reference_hashes_table,
            AT,
            CT,
            CM,
            MT,
            MM,
            items_table,
            membership_events_table,
        ):
            assert (
                conn.execute(select(func.count()).select_from(table)).scalar() == counts[table.name]
            ), table.name
        service = conn.execute(
            select(func.count()).select_from(MT).where(MT.c.action.is_not(None))
        ).scalar()
        kinds = set(conn.execute(select(evidence_table.c.kind)).scalars())
        categories = set(conn.execute(select(reference_hashes_table.c.category)).scalars())
        algorithms = set(conn.execute(select(reference_hashes_table.c.algorithm)).scalars())
        chats = conn.execute(select(CT)).all()
    assert counts["messages"] == SMALL["messages"]
    assert counts["accounts"] == SMALL["accounts"]
    assert counts["chats"] == counts["evidence"] == SMALL["groups"]
    assert counts["cases"] == counts["hash_sets"] == 1
    assert counts["reference_hashes"] == 2000
    assert counts["item_matches"] == counts["known_posts"]
    assert counts["message_media"] == counts["known_posts"] + counts["unknown_posts"]
    assert counts["items"] == counts["message_media"] + counts["evidence"]  # + each export file
    assert service == counts["service_messages"] == counts["membership_events"]
    assert counts["messages"] == (
        counts["text_messages"] + counts["message_media"] + counts["service_messages"]
    )
    assert kinds == {"telegram export", "whatsapp export"}
    assert categories == {"1", "2", "3"}
    assert algorithms == {"md5"}
    for chat in chats:
        if chat.kind == "channel":
            assert chat.platform == "telegram"
            assert 100 <= chat.subscriber_count <= 20_000
        elif chat.kind == "supergroup":
            assert chat.platform == "telegram"
            assert 20 <= chat.member_count <= 5000
        else:
            assert (chat.platform, chat.kind) == ("whatsapp", "group")


def test_every_known_picture_is_a_sighting(store: Store, small: GroundTruth) -> None:
    sightings = list(iter_sightings(store))
    assert len(sightings) == small.counts["known_posts"]
    # the same posts found another way: the item's MD5 is in the reference set
    with store.engine.connect() as conn:
        known = set(
            conn.execute(
                select(MM.c.message_id)
                .join(
                    items_table,
                    (items_table.c.evidence_id == MM.c.evidence_id)
                    & (items_table.c.locator_key == MM.c.locator_key),
                )
                .where(items_table.c.md5.in_(select(reference_hashes_table.c.value)))
            ).scalars()
        )
        unknown = conn.execute(
            select(func.count())
            .select_from(MM)
            .join(
                items_table,
                (items_table.c.evidence_id == MM.c.evidence_id)
                & (items_table.c.locator_key == MM.c.locator_key),
            )
            .where(items_table.c.md5.not_in(select(reference_hashes_table.c.value)))
        ).scalar()
    assert {s["message_id"] for s in sightings} == known
    assert unknown == small.counts["unknown_posts"]
    for s in sightings:
        assert len(s["matches"]) == 1
        assert (s["match_kind"], s["algorithm"], s["distance"]) == ("exact", "md5", 0)
        assert s["category"] in {"1", "2", "3"}
        assert re.fullmatch(r".+ > photos/p\d+\.jpg", s["locator"])
        assert START <= datetime.fromisoformat(s["sent_at"]) < END


def test_distributors_have_more_distinct_known_items_than_anyone_else(
    store: Store, small: GroundTruth
) -> None:
    by_account = _by_account(store)
    distinct_items = {a: len({s["sha256"] for s in posts}) for a, posts in by_account.items()}
    planted = {p.account_id: p for p in small.planted}
    assert list(planted) == list(small.distributors)
    for a, p in planted.items():
        assert distinct_items[a] == p.distinct_items
        assert len(by_account[a]) == p.posts
    weakest = min(distinct_items[a] for a in small.distributors)
    others = [n for a, n in distinct_items.items() if a not in planted]
    assert others and max(others) < weakest
    assert max(others) <= 3  # background accounts post a few known items at most
    strongest_volume = max(p.posts for p in small.planted)
    for a in small.spammers:  # one item, more posts than any distributor
        assert distinct_items[a] == 1
        assert len(by_account[a]) > strongest_volume
    distinct_order = [planted[a].distinct_items for a in small.distributors]
    assert distinct_order == sorted(distinct_order, reverse=True)
    # most known posts by background accounts are of items distributors posted
    spread = {s["sha256"] for a in small.distributors for s in by_account[a]}
    background = [s for a, posts in by_account.items() if a not in planted for s in posts]
    background = [s for s in background if s["account_id"] not in small.spammers]
    assert sum(s["sha256"] in spread for s in background) > len(background) / 2


def test_forwarders_post_their_originators_items_later(store: Store, small: GroundTruth) -> None:
    assert len(small.pairs) == 5
    by_account = _by_account(store)
    with store.engine.connect() as conn:
        names = {r.id: (r.display_name, r.external_id) for r in conn.execute(select(AT))}
    roles = {p.account_id: p for p in small.planted}
    for originator, forwarder in small.pairs:
        assert roles[originator].role == "originator"
        assert roles[forwarder].role == "forwarder"
        first: dict[str, datetime] = {}
        for s in by_account[originator]:
            assert s["forwarded_from"] is None
            at = datetime.fromisoformat(s["sent_at"])
            first[s["sha256"]] = min(first.get(s["sha256"], at), at)
        forwards = by_account[forwarder]
        assert len(forwards) == len(by_account[originator])  # the same volume
        assert {s["sha256"] for s in forwards} == set(first)  # the same items
        for s in forwards:
            assert s["forwarded_from"] == names[originator][0]
            assert datetime.fromisoformat(s["sent_at"]) > first[s["sha256"]]
    with store.engine.connect() as conn:
        forwarded = conn.execute(
            select(MT.c.forwarded_from_id).where(MT.c.account_id.in_([f for _, f in small.pairs]))
        ).scalars()
        assert {f for f in forwarded if f} <= {names[o][1] for o, _ in small.pairs}


def test_hard_pairs_share_a_number_on_two_platforms_and_soft_pairs_only_a_name(
    store: Store, small: GroundTruth
) -> None:
    assert len(small.hard_pairs) == 50
    assert len(small.soft_pairs) == 20
    with store.engine.connect() as conn:
        accounts = {r.id: r for r in conn.execute(select(AT))}
    for telegram, whatsapp in small.hard_pairs:
        t, w = accounts[telegram], accounts[whatsapp]
        assert (t.platform, t.id_kind) == ("telegram", "phone")
        assert (w.platform, w.id_kind) == ("whatsapp", "phone")
        assert t.external_id == w.external_id
        assert re.fullmatch(r"\+91984700\d{4}", t.external_id)
    for telegram, whatsapp in small.soft_pairs:
        t, w = accounts[telegram], accounts[whatsapp]
        assert (t.platform, w.platform) == ("telegram", "whatsapp")
        assert t.display_name == w.display_name
        assert t.external_id != w.external_id
        names = [a for a in accounts.values() if a.display_name == t.display_name]
        assert len(names) == 2  # nobody else is called that
    platforms: dict[str, set[str]] = defaultdict(set)
    for a in accounts.values():
        if a.id_kind == "phone":
            assert re.fullmatch(r"\+91\d{10}", a.external_id)
            platforms[a.external_id].add(a.platform)
        else:
            assert a.id_kind == "user_id"
            assert a.platform == "telegram"
            assert re.fullmatch(r"user\d+", a.external_id)
    shared = {number for number, where in platforms.items() if len(where) > 1}
    assert shared == {accounts[t].external_id for t, _ in small.hard_pairs}


def test_memberships_times_and_keys_look_like_ingested_exports(
    store: Store, small: GroundTruth
) -> None:
    with store.engine.connect() as conn:
        groups: dict[int, int] = {
            a: n
            for a, n in conn.execute(
                select(CM.c.account_id, func.count()).group_by(CM.c.account_id)
            )
        }
        telegram_chats = conn.execute(
            select(func.count()).select_from(CT).where(CT.c.platform == "telegram")
        ).scalar_one()
        members = {(r.chat_id, r.account_id): r for r in conn.execute(select(CM))}
        messages = conn.execute(
            select(MT.c.chat_id, MT.c.account_id, MT.c.sent_at, MT.c.action)
        ).all()
        per_chat = conn.execute(
            select(MT.c.chat_id, func.count(), func.count(distinct(MT.c.message_key))).group_by(
                MT.c.chat_id
            )
        ).all()
        events = conn.execute(select(membership_events_table)).all()
        accounts = {r.id: r for r in conn.execute(select(AT))}
    assert len(groups) == small.counts["accounts"]  # every account is in a group
    for a, n in groups.items():
        if a in small.distributors:
            assert min(5, telegram_chats) <= n <= 15
        else:
            assert 1 <= n <= 6
    for chat_id, n, keys in per_chat:
        assert n == keys, chat_id
    first_post: dict[tuple[int, int], datetime] = {}
    seen: dict[int, list[datetime]] = defaultdict(list)
    for chat_id, account_id, sent_at, action in messages:
        at = _utc(sent_at)
        assert START <= at < END
        assert (chat_id, account_id) in members  # everyone who posts is a member
        seen[account_id].append(at)
        if action is None:
            key = (chat_id, account_id)
            first_post[key] = min(first_post.get(key, at), at)
    for e in events:
        member = members[(e.chat_id, e.account_id)]
        assert member.joined_at is not None and _utc(member.joined_at) == _utc(e.at)
        assert member.how == e.action
        if (e.chat_id, e.account_id) in first_post:
            assert _utc(e.at) < first_post[(e.chat_id, e.account_id)]
    for account_id, times in seen.items():
        account = accounts[account_id]
        assert _utc(account.first_seen) == min(times)
        assert _utc(account.last_seen) == max(times)


def test_the_same_seed_builds_the_same_state(
    store: Store, small: GroundTruth, sqlite_store
) -> None:
    again = sqlite_store("again")
    assert build_state(again, **SMALL) == small

    def fingerprint(s: Store) -> list[tuple[Any, ...]]:
        return [
            (x["message_id"], x["account_id"], x["message_key"], x["sent_at"], x["sha256"])
            for x in iter_sightings(s)
        ]

    assert fingerprint(again) == fingerprint(store)
    other = build_state(sqlite_store("other"), **SMALL, seed=2)
    assert other.distributors != small.distributors
    assert other.counts["messages"] == small.counts["messages"]


def test_the_store_keeps_numbering_after_a_build(store: Store, small: GroundTruth) -> None:
    with store.engine.begin() as conn:
        new = conn.execute(
            accounts_table.insert()
            .values(platform="telegram", id_kind="user_id", external_id="user1", scope="")
            .returning(accounts_table.c.id)
        ).scalar_one()
        case = conn.execute(
            cases_table.insert().values(name="later case").returning(cases_table.c.id)
        ).scalar_one()
    assert new == small.counts["accounts"] + 1
    assert case == small.case_id + 1


def test_scale_multiplies_the_default_size() -> None:
    assert scale(10) == {
        "groups": 500,
        "accounts": 50_000,
        "messages": 2_000_000,
        "distributors": 200,
        "known_items": 20_000,
        "hard_pairs": 500,
        "soft_pairs": 200,
    }
    assert scale(1)["messages"] == 200_000
    with pytest.raises(ValueError):
        scale(0)


def test_a_state_too_small_for_its_plants_is_refused(sqlite_store) -> None:
    with pytest.raises(ValueError, match="messages"):
        build_state(sqlite_store("tiny"), groups=5, accounts=300, messages=300)
    with pytest.raises(ValueError, match="accounts"):
        build_state(sqlite_store("few"), groups=5, accounts=100, messages=5000)


@pytest.mark.slow
def test_the_default_state_builds_on_sqlite(sqlite_store) -> None:
    store = sqlite_store("default")
    started = time.perf_counter()
    truth = build_state(store)
    elapsed = time.perf_counter() - started
    print(f"\ndefault state on SQLite: {elapsed:.1f} s, {truth.counts}")
    assert truth.counts["messages"] == 200_000
    assert truth.counts["accounts"] == 5000
    assert truth.counts["chats"] == 50
    assert len(truth.distributors) == 20
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(MT)).scalar() == 200_000
    assert sum(1 for _ in iter_sightings(store)) == truth.counts["known_posts"]
