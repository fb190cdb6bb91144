"""Ranking people and groups from post facts built by code (all synthetic).

Each test plants people whose facts differ in one respect (breadth, originality,
severity, reach, recency, corroboration) and checks that the ranking and its explanation
follow from that difference alone.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import random
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from raksha.network.facts import ChatFact, Corroboration, PostFact
from raksha.network.ranking import (
    DEFAULT_SEVERITY,
    GroupWeights,
    PersonScore,
    Weights,
    rank_groups,
    rank_people,
)

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
PERSON_PARTS = [
    "distinct_items",
    "posts",
    "severity",
    "originality",
    "reach",
    "recency",
    "referrals",
    "devices",
]


def item(n: int | str) -> str:
    """A stand-in SHA-256 for synthetic item ``n``."""
    return hashlib.sha256(f"item-{n}".encode()).hexdigest()


class Facts:
    """Post and chat facts assembled by a test, with message ids handed out in order."""

    def __init__(self) -> None:
        self.posts: list[PostFact] = []
        self.chats: dict[int, ChatFact] = {}
        self._message_ids = itertools.count(1)

    def chat(
        self,
        chat_id: int,
        members: int = 100,
        *,
        messages: int | None = None,
        known: int | None = None,
        title: str | None = None,
    ) -> int:
        self.chats[chat_id] = ChatFact(
            chat_id=chat_id,
            title=title or f"group {chat_id}",
            kind="supergroup",
            members=members,
            messages=messages if messages is not None else 1000,
            known_posts=known if known is not None else 0,
        )
        return chat_id

    def post(
        self,
        person: int,
        what: str,
        *,
        chat: int = 1,
        at: datetime | None = T0,
        category: str | None = "A",
        forwarded: bool = False,
        account: int | None = None,
        message_id: int | None = None,
    ) -> None:
        self.posts.append(
            PostFact(
                person_id=person,
                account_id=account if account is not None else person * 10,
                chat_id=chat,
                message_id=message_id if message_id is not None else next(self._message_ids),
                sent_at=at,
                item=what,
                category=category,
                forwarded=forwarded,
            )
        )


def by_person(ranked: list[PersonScore]) -> dict[int, PersonScore]:
    return {r.person_id: r for r in ranked}


def points(score: PersonScore, name: str) -> float:
    return score.part(name).points


def originator_and_forwarder() -> Facts:
    """Person 1 first posts six items; person 2 posts the same ones an hour later, forwarded."""
    f = Facts()
    f.chat(1, members=500)
    for i in range(6):
        f.post(1, item(i), at=T0 + timedelta(minutes=i))
        f.post(2, item(i), at=T0 + timedelta(hours=1, minutes=i), forwarded=True)
    return f


# --- what each part measures ---------------------------------------------------------


def test_planted_distributors_with_many_items_outrank_heavy_reposters() -> None:
    rng = random.Random(5)
    f = Facts()
    f.chat(1, members=500)
    # Forty people each repost one picture of their own 30-120 times...
    for person in range(100, 140):
        for k in range(rng.randint(30, 120)):
            f.post(person, item(f"crowd-{person}"), at=T0 + timedelta(minutes=k))
    # ... three planted distributors post 15-25 different pictures once each.
    planted = {1, 2, 3}
    for person in planted:
        for k in range(rng.randint(15, 25)):
            f.post(person, item(f"planted-{person}-{k}"), at=T0 + timedelta(minutes=k))

    ranked = rank_people(f.posts, f.chats)

    assert {r.person_id for r in ranked[:3]} == planted
    top = ranked[0]
    heaviest = max(ranked[3:], key=lambda r: r.part("posts").value or 0)
    assert (top.part("posts").value or 0) < (heaviest.part("posts").value or 0)
    assert points(top, "distinct_items") > points(heaviest, "distinct_items")


def test_ten_items_once_beat_one_item_two_hundred_times() -> None:
    f = Facts()
    f.chat(1)
    for k in range(10):
        f.post(1, item(k), at=T0 + timedelta(minutes=k))
    for k in range(200):
        f.post(2, item("same"), at=T0 + timedelta(minutes=k))

    ranked = by_person(rank_people(f.posts, f.chats))

    assert ranked[1].rank == 1
    assert ranked[2].rank == 2
    assert ranked[1].part("distinct_items").value == 10
    assert ranked[2].part("posts").value == 200


def test_originator_outranks_forwarder_of_same_items_and_volume() -> None:
    f = originator_and_forwarder()

    ranked = by_person(rank_people(f.posts, f.chats))

    origin, forward = ranked[1], ranked[2]
    assert origin.rank == 1
    assert forward.rank == 2
    assert origin.part("originality").value == 1.0
    assert points(origin, "originality") == pytest.approx(Weights().originality)
    assert forward.part("originality").value == 0.0
    assert points(forward, "originality") == 0.0
    for name in ("distinct_items", "posts", "severity", "reach"):
        assert points(origin, name) == pytest.approx(points(forward, name))
    # The forwarder posted later, so he is (slightly) more recent: only originality decides.
    assert points(forward, "recency") > points(origin, "recency")
    assert origin.part("distinct_items").explanation == (
        "6 distinct known items, 6 originated first here"
    )


def test_first_post_that_is_forwarded_originates_nothing() -> None:
    f = Facts()
    f.chat(1)
    f.post(1, item(1), at=T0, forwarded=True)  # first, but forwarded from elsewhere
    f.post(2, item(1), at=T0 + timedelta(hours=1))

    ranked = by_person(rank_people(f.posts, f.chats))

    assert ranked[1].part("originality").value == 0.0
    assert ranked[2].part("originality").value == 0.0  # not first either


def test_first_poster_ties_are_broken_by_message_id_and_undated_posts_come_last() -> None:
    f = Facts()
    f.chat(1)
    f.chat(2)
    # Same second: the lower message id was first, whatever order the facts arrive in.
    f.post(1, item("tie"), at=T0, message_id=90)
    f.post(2, item("tie"), at=T0, message_id=12, chat=2)
    # An undated post cannot claim to be first over a dated one.
    f.post(3, item("dated"), at=None, message_id=1)
    f.post(4, item("dated"), at=T0 + timedelta(days=3), message_id=500)

    ranked = by_person(rank_people(f.posts, f.chats))

    assert ranked[2].part("originality").value == 1.0
    assert ranked[1].part("originality").value == 0.0
    assert ranked[4].part("originality").value == 1.0
    assert ranked[3].part("originality").value == 0.0
    assert ranked[3].part("recency").value is None
    assert points(ranked[3], "recency") == 0.0
    assert "no dated post" in ranked[3].evidence


def test_more_severe_categories_rank_higher_at_the_same_volume() -> None:
    f = Facts()
    f.chat(1)
    for k in range(5):
        f.post(1, item(f"a{k}"), category="A", at=T0 + timedelta(minutes=k))
        f.post(2, item(f"c{k}"), category="3", at=T0 + timedelta(minutes=k))

    ranked = by_person(rank_people(f.posts, f.chats))

    assert ranked[1].rank == 1
    assert ranked[1].part("severity").value == pytest.approx(1.0)
    assert ranked[2].part("severity").value == pytest.approx(0.4)
    assert points(ranked[1], "severity") == pytest.approx(Weights().severity * 1.0)
    assert "A ×5" in ranked[1].part("severity").explanation
    for name in ("distinct_items", "posts", "originality", "reach", "recency"):
        assert points(ranked[1], name) == pytest.approx(points(ranked[2], name))


def test_severity_is_the_mean_over_distinct_items_not_over_posts() -> None:
    f = Facts()
    f.chat(1)
    f.post(1, item("a"), category="A")
    for _ in range(9):  # reposting the milder item does not dilute the severe one
        f.post(1, item("c"), category="C")

    [score] = rank_people(f.posts, f.chats)

    assert score.part("severity").value == pytest.approx((1.0 + 0.6) / 2)


def test_item_with_conflicting_labels_is_scored_at_its_most_severe() -> None:
    f = Facts()
    f.chat(1)
    f.post(1, item(1), category="3", at=T0)
    f.post(2, item(1), category="A1", at=T0 + timedelta(hours=1))
    f.post(3, item(1), category=None, at=T0 + timedelta(hours=2))

    ranked = rank_people(f.posts, f.chats)

    assert {r.part("severity").value for r in ranked} == {1.0}


def test_unknown_label_falls_back_to_uncategorised_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    f = Facts()
    f.chat(1)
    f.post(1, item(1), category="baseline")
    f.post(2, item(2), category=None)
    f.post(3, item(3), category=" a1 ")  # tidied to "A1"

    with caplog.at_level(logging.WARNING, logger="raksha.network.ranking"):
        ranked = by_person(rank_people(f.posts, f.chats))

    assert ranked[1].part("severity").value == DEFAULT_SEVERITY[None]
    assert ranked[2].part("severity").value == DEFAULT_SEVERITY[None]
    assert ranked[3].part("severity").value == 1.0
    assert "'baseline' (1 item)" in caplog.text


def test_reach_counts_group_size() -> None:
    f = Facts()
    f.chat(1, members=10_000)
    f.chat(2, members=10)
    for k in range(4):
        f.post(1, item(f"big{k}"), chat=1, at=T0 + timedelta(minutes=k))
        f.post(2, item(f"small{k}"), chat=2, at=T0 + timedelta(minutes=k))

    ranked = by_person(rank_people(f.posts, f.chats))

    assert ranked[1].rank == 1
    assert ranked[1].part("reach").value == pytest.approx(math.log1p(10_000))
    assert ranked[2].part("reach").value == pytest.approx(math.log1p(10))
    assert ranked[1].part("reach").explanation == "posted in 1 group with 10,000 members in all"
    assert points(ranked[1], "reach") - points(ranked[2], "reach") == pytest.approx(
        Weights().reach * (math.log1p(10_000) - math.log1p(10))
    )


def test_reach_sums_over_groups() -> None:
    f = Facts()
    for chat in (1, 2, 3):
        f.chat(chat, members=1000)
    for chat in (1, 2, 3):
        f.post(1, item("x"), chat=chat)

    [score] = rank_people(f.posts, f.chats)

    assert score.part("reach").value == pytest.approx(3 * math.log1p(1000))


def test_chat_without_facts_counts_with_no_members(caplog: pytest.LogCaptureFixture) -> None:
    f = Facts()
    f.post(1, item(1), chat=77)

    with caplog.at_level(logging.WARNING, logger="raksha.network.ranking"):
        [score] = rank_people(f.posts, f.chats)

    assert score.part("reach").value == 0.0
    assert "1 group reaching 0 members" in score.evidence
    assert "77" in caplog.text


def test_recency_decays_with_a_half_life() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    f = Facts()
    f.chat(1)
    ages = {1: 0, 2: 30, 3: 60, 4: 200}
    for person, days in ages.items():
        f.post(person, item(person), at=now - timedelta(days=days))

    ranked = by_person(rank_people(f.posts, f.chats, now=now))

    weight = Weights().recency
    assert points(ranked[1], "recency") == pytest.approx(weight)
    assert points(ranked[2], "recency") == pytest.approx(weight / 2)
    assert points(ranked[3], "recency") == pytest.approx(weight / 4)
    assert points(ranked[4], "recency") < weight / 64
    assert [ranked[p].rank for p in (1, 2, 3, 4)] == [1, 2, 3, 4]
    assert ranked[2].part("recency").value == pytest.approx(30)
    assert "30 days before 2026-12-01" in ranked[2].part("recency").explanation


def test_recency_half_life_is_configurable_and_default_now_is_the_newest_post() -> None:
    f = Facts()
    f.chat(1)
    f.post(1, item(1), at=T0)
    f.post(2, item(2), at=T0 - timedelta(days=10))

    default = by_person(rank_people(f.posts, f.chats))
    short = by_person(rank_people(f.posts, f.chats, weights=Weights(recency_half_life_days=10)))

    assert points(default[1], "recency") == pytest.approx(Weights().recency)
    assert points(default[2], "recency") == pytest.approx(Weights().recency * 0.5 ** (10 / 30))
    assert points(short[2], "recency") == pytest.approx(Weights().recency / 2)


def test_posts_after_now_count_as_current() -> None:
    f = Facts()
    f.chat(1)
    f.post(1, item(1), at=T0 + timedelta(days=2))

    [score] = rank_people(f.posts, f.chats, now=T0)

    assert score.part("recency").value == 0.0
    assert score.part("recency").points == pytest.approx(Weights().recency)


def test_naive_datetimes_are_read_as_utc() -> None:
    f = Facts()
    f.chat(1)
    f.post(1, item(1), at=datetime(2026, 10, 1, 12, 0))  # as SQLite returns them
    f.post(2, item(1), at=datetime(2026, 10, 1, 13, 0, tzinfo=UTC))

    ranked = by_person(rank_people(f.posts, f.chats, now=datetime(2026, 10, 31, 12, 0)))

    assert ranked[1].part("originality").value == 1.0
    assert ranked[1].part("recency").value == pytest.approx(30)


def test_corroboration_adds_and_is_capped() -> None:
    f = Facts()
    f.chat(1)
    for person in (1, 2, 3, 4, 5):
        f.post(person, item(person))
    corroboration = {
        2: Corroboration(2, referrals=1),
        3: Corroboration(3, devices=1),
        4: Corroboration(4, referrals=5),
        5: Corroboration(5, referrals=50),
        9: Corroboration(9, referrals=3),  # no posts: not a distributor in these facts
    }

    ranked = by_person(rank_people(f.posts, f.chats, corroboration))

    w = Weights()
    assert set(ranked) == {1, 2, 3, 4, 5}
    assert points(ranked[1], "referrals") == 0.0
    assert points(ranked[2], "referrals") == pytest.approx(w.referrals * math.log1p(1))
    assert points(ranked[3], "devices") == pytest.approx(w.devices * math.log1p(1))
    assert ranked[3].score > ranked[2].score > ranked[1].score
    assert points(ranked[5], "referrals") == pytest.approx(points(ranked[4], "referrals"))
    assert ranked[5].part("referrals").value == 50
    assert ranked[5].part("referrals").explanation == "named in 50 referrals (counted up to 5)"
    assert ranked[3].evidence.endswith("; on 1 seized device")
    assert ranked[1].rank == 5


# --- weights ----------------------------------------------------------------------------


def test_setting_originality_to_zero_lets_recency_decide() -> None:
    f = originator_and_forwarder()
    weights = Weights.from_mapping({"originality": 0})

    ranked = by_person(rank_people(f.posts, f.chats, weights=weights))

    assert points(ranked[1], "originality") == points(ranked[2], "originality") == 0.0
    assert ranked[1].part("originality").value == 1.0  # still measured and explained
    assert ranked[2].rank == 1  # the later (forwarded) posts are now all that differs


def test_severity_mapping_override_changes_the_order() -> None:
    f = Facts()
    f.chat(1)
    for k in range(5):
        f.post(1, item(f"a{k}"), category="A")
        f.post(2, item(f"c{k}"), category="3")
    weights = Weights.from_mapping({"severity_by_category": {"A": "0.1", "3": 1}})

    ranked = by_person(rank_people(f.posts, f.chats, weights=weights))

    assert ranked[2].rank == 1
    assert weights.severity_by_category["B"] == DEFAULT_SEVERITY["B"]  # merged, not replaced


def test_from_mapping_refuses_unknown_keys_and_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="orginality") as info:
        Weights.from_mapping({"orginality": 2.0})
    message = str(info.value)
    assert "valid keys" in message
    for key in ("distinct_items", "originality", "recency_half_life_days", "devices_cap"):
        assert key in message
    with pytest.raises(ValueError, match="known_share"):
        GroupWeights.from_mapping({"share": 1.0})


@pytest.mark.parametrize(
    "values",
    [
        {"posts": -1},
        {"posts": True},
        {"posts": "lots"},
        {"posts": float("nan")},
        {"recency_half_life_days": 0},
        {"referrals_cap": 2.5},
        {"severity_by_category": {"A": -0.5}},
        {"severity_by_category": [("A", 1.0)]},
    ],
)
def test_from_mapping_refuses_bad_values(values: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Weights.from_mapping(values)


def test_weights_round_trip_and_settings_spellings() -> None:
    weights = Weights.from_mapping(
        {"posts": "1.5", "referrals_cap": 2, "severity_by_category": {"none": 0.2}}
    )

    assert weights.posts == 1.5
    assert weights.referrals_cap == 2
    assert weights.severity_by_category[None] == 0.2
    assert Weights.from_mapping(weights.as_dict()) == weights
    assert Weights.from_mapping({}) == Weights()
    assert GroupWeights.from_mapping(GroupWeights().as_dict()) == GroupWeights()
    assert Weights().as_dict()["severity_by_category"] == dict(DEFAULT_SEVERITY)
    with pytest.raises(ValueError):
        Weights(devices=-1.0)


def test_weights_keep_their_own_copy_of_the_severity_mapping() -> None:
    table: dict[str | None, float] = {"A": 1.0, None: 0.5}
    weights = Weights(severity_by_category=table)
    table["A"] = 0.0

    assert weights.multiplier("A") == 1.0


# --- the score and its explanation ------------------------------------------------------


def mixed_population(seed: int = 3, people: int = 60) -> tuple[Facts, dict[int, Corroboration]]:
    rng = random.Random(seed)
    f = Facts()
    for chat in range(1, 9):
        f.chat(chat, members=rng.choice([5, 40, 300, 2500, 12_000]))
    labels = [*DEFAULT_SEVERITY, "baseline"]
    for _ in range(3000):
        n = rng.randrange(400)
        f.post(
            rng.randrange(people),
            item(n),
            chat=rng.randint(1, 8),
            at=T0 - timedelta(minutes=rng.randrange(200_000)) if rng.random() > 0.05 else None,
            category=labels[n % len(labels)],
            forwarded=rng.random() < 0.3,
            account=rng.randrange(2),
        )
    corroboration = {
        p: Corroboration(p, referrals=rng.randrange(8), devices=rng.randrange(5))
        for p in range(0, people, 7)
    }
    return f, corroboration


def test_parts_sum_to_the_score_and_ranks_follow_the_scores() -> None:
    f, corroboration = mixed_population()

    ranked = rank_people(f.posts, f.chats, corroboration)

    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
    for r in ranked:
        assert [p.name for p in r.parts] == PERSON_PARTS
        assert r.score == pytest.approx(sum(p.points for p in r.parts))
        assert all(p.points >= 0 and p.explanation for p in r.parts)
    for above, below in itertools.pairwise(ranked):
        assert (above.score, -above.person_id) >= (below.score, -below.person_id)


def test_equal_scores_are_ordered_by_person_id() -> None:
    f = Facts()
    f.chat(1)
    for person in (30, 10, 20):
        f.post(person, item(person))

    ranked = rank_people(f.posts, f.chats)

    assert [r.person_id for r in ranked] == [10, 20, 30]
    assert ranked[0].score == ranked[2].score


def test_evidence_line_states_the_numbers() -> None:
    f = Facts()
    f.chat(1, members=4000)
    f.chat(2, members=200)
    f.chat(3, members=10)
    # Someone else posted items 4..11 first; person 7 first posted items 0..3.
    for k in range(4, 12):
        f.post(8, item(k), chat=1, at=T0 - timedelta(days=5))
    chats = itertools.cycle([1, 2, 3])
    for k in range(12):
        f.post(7, item(k), chat=next(chats), at=T0 + timedelta(hours=k))
    for k in range(11):  # eleven reposts, the last on 9 October
        f.post(7, item(k), chat=next(chats), at=datetime(2026, 10, 9 - k % 3, 8, 0, tzinfo=UTC))

    ranked = by_person(rank_people(f.posts, f.chats, {7: Corroboration(7, referrals=1)}))

    assert ranked[7].evidence == (
        "23 posts of 12 known items (4 first posted by them) in 3 groups reaching 4,210 "
        "members; latest 2026-10-09; named in 1 referral"
    )
    assert ranked[7].part("distinct_items").explanation == (
        "12 distinct known items, 4 originated first here"
    )
    assert ranked[7].part("posts").value == 23
    assert ranked[7].part("originality").value == pytest.approx(4 / 12)


def test_evidence_mentions_several_accounts() -> None:
    f = Facts()
    f.chat(1, members=50)
    f.post(1, item(1), account=11)
    f.post(1, item(2), account=12)
    f.post(1, item(3), account=11)

    [score] = rank_people(f.posts, f.chats)

    assert score.evidence.startswith("3 posts of 3 known items (3 first posted by them) from 2 ")
    assert "from 2 accounts" in score.part("posts").explanation


def test_posts_are_read_once_and_may_be_a_generator() -> None:
    f, corroboration = mixed_population(seed=9)
    reads = 0

    def stream() -> Iterator[PostFact]:
        nonlocal reads
        reads += 1
        yield from f.posts

    from_stream = rank_people(stream(), f.chats, corroboration, now=T0)
    from_list = rank_people(f.posts, f.chats, corroboration, now=T0)

    assert reads == 1
    assert [(r.person_id, r.score, r.evidence) for r in from_stream] == [
        (r.person_id, r.score, r.evidence) for r in from_list
    ]


def test_no_posts_no_ranks() -> None:
    assert rank_people([], {}) == []
    assert rank_groups([], {1: ChatFact(1, "quiet", "group", 50, 10, 0)}) == []


def test_memory_does_not_grow_with_repeated_posts() -> None:
    """100,000 posts by 10 people of 20 items: the ranking keeps aggregates, not posts."""
    chats = {1: ChatFact(1, "g", "group", 100, 100_000, 100_000)}
    items = [item(k) for k in range(20)]

    def stream(n: int) -> Iterator[PostFact]:
        for i in range(n):
            yield PostFact(i % 10, i % 10, 1, i, T0, items[i % 20], "A", False)

    tracemalloc.start()
    try:
        rank_people(stream(100_000), chats)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 1_000_000  # keeping the posts alone would take well over 10 MB


# --- groups ---------------------------------------------------------------------------


def test_mostly_known_group_outranks_a_big_mostly_clean_group() -> None:
    f = Facts()
    f.chat(1, members=50, messages=100, known=80, title="trading room")
    f.chat(2, members=50_000, messages=100_000, known=100, title="city chat")
    f.chat(3, members=90_000, messages=5_000, known=0, title="clean")
    for k in range(80):
        f.post(k % 6, item(k % 30), chat=1)
    for k in range(100):
        f.post(100 + k % 40, item(1000 + k % 60), chat=2)
    f.post(999, item("stray"), chat=404)  # no chat facts: left out

    ranked = rank_groups(f.posts, f.chats)

    assert [g.chat_id for g in ranked] == [1, 2]
    assert [g.rank for g in ranked] == [1, 2]
    top = ranked[0]
    assert top.title == "trading room"
    assert [p.name for p in top.parts] == ["known_share", "volume", "members", "distinct_items"]
    assert top.part("known_share").value == pytest.approx(0.8)
    assert top.part("distinct_items").value == 30
    for g in ranked:
        assert g.score == pytest.approx(sum(p.points for p in g.parts))
    assert top.evidence == (
        "80 of 100 messages known material (80%); 30 distinct known items posted by "
        "6 people; 50 members"
    )
    assert ranked[1].part("members").value == 50_000
    assert "100 of 100,000 messages (0.1%) are known material" in ranked[1].parts[0].explanation


def test_group_weights_override_and_counts_reconciled() -> None:
    f = Facts()
    f.chat(1, members=50, messages=100, known=80)
    f.chat(2, members=50_000, messages=100_000, known=100)
    f.chat(3, members=10, messages=0, known=0)  # stale counts: the facts show five posts
    for k in range(5):
        f.post(1, item(k), chat=3)

    ranked = rank_groups(
        f.posts, f.chats, weights=GroupWeights.from_mapping({"known_share": 0, "members": 3})
    )

    assert ranked[0].chat_id == 2
    stale = next(g for g in ranked if g.chat_id == 3)
    assert stale.part("volume").value == 5
    assert stale.part("known_share").value == 1.0


# --- scale ----------------------------------------------------------------------------


def synthetic_posts(
    n_posts: int, n_people: int, seed: int = 1
) -> tuple[list[PostFact], dict[int, ChatFact]]:
    """Facts shaped like a store export: chat by chat, in time order, posters drawn from a
    chat's regulars, items from their collections (a few very widely shared)."""
    rng = random.Random(seed)
    n_chats, n_items = 1_000, 150_000
    items = [f"{rng.getrandbits(256):064x}" for _ in range(n_items)]
    labels = [*DEFAULT_SEVERITY]
    item_label = [labels[k % len(labels)] for k in range(n_items)]
    chats = {
        c: ChatFact(c, f"group {c}", "supergroup", int(rng.paretovariate(1.1) * 20), 0, 0)
        for c in range(n_chats)
    }
    collections = [
        [
            rng.randrange(200) if rng.random() < 0.3 else rng.randrange(n_items)
            for _ in range(rng.randint(1, 60))
        ]
        for _ in range(n_people)
    ]
    regulars: list[list[int]] = [[] for _ in chats]
    for person in range(n_people):  # everyone is a regular of one to four groups
        for chat in rng.sample(range(n_chats), rng.randint(1, 4)):
            regulars[chat].append(person)
    times = [T0 - timedelta(seconds=s) for s in range(30_000_000, 0, -3_000)]
    posts: list[PostFact] = []
    per_chat = n_posts // n_chats
    message_id = 0
    for chat in range(n_chats):
        people = regulars[chat] or [0]
        start = rng.randrange(len(times) - per_chat)
        for k in range(per_chat):
            person = people[rng.randrange(len(people))]
            collection = collections[person]
            n = collection[rng.randrange(len(collection))]
            message_id += 1
            posts.append(
                PostFact(
                    person,
                    person,
                    chat,
                    message_id,
                    times[start + k],
                    items[n],
                    item_label[n],
                    k % 3 == 0,
                )
            )
    return posts, chats


@pytest.mark.slow
def test_a_million_post_facts_rank_in_seconds() -> None:
    posts, chats = synthetic_posts(1_000_000, 20_000)
    assert len(posts) == 1_000_000

    started = time.perf_counter()
    ranked = rank_people(posts, chats)
    elapsed = time.perf_counter() - started
    groups_started = time.perf_counter()
    groups = rank_groups(posts, chats)
    groups_elapsed = time.perf_counter() - groups_started

    print(
        f"rank_people: {elapsed:.2f}s for {len(ranked):,} people; rank_groups {groups_elapsed:.2f}s"
    )
    assert elapsed < 10.0
    assert groups_elapsed < 10.0
    assert len(ranked) == 20_000
    assert [r.rank for r in ranked[:3]] == [1, 2, 3]
    assert len(groups) == len(chats)
