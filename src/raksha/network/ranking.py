"""Rank the people who distribute known material, and the groups it is spread in.

A unit cannot act on everyone seen posting known pictures, so it ranks them, and every
rank has to be justified to a supervisor and, later, a court. The score is therefore a
plain sum of a few named parts, each a transparent measure times a weight, and every part
is returned with its raw value and a sentence saying what it counted. Nothing is learned
from data and nothing is hidden: the same facts and weights always give the same ranks.

Counts are log-scaled (``ln(1 + n)``) before weighting. An account that reposted one
picture 500 times has not done 500 times the harm of one that posted it once, and without
the log one part (usually post volume) would swamp all the others.

Person parts and default weights (:class:`Weights`)
---------------------------------------------------
``distinct_items`` = 3.0 per ``ln(1 + distinct known items)``
    The strongest single signal: each distinct item is another child's abuse passed on and
    shows a collection rather than one picture shared around. Weighted three times posts
    so that breadth beats repetition (10 different items once each outranks one item 200
    times).
``posts`` = 1.0 per ``ln(1 + posts of known items)``
    Volume still matters (persistence, how many times others were exposed) but is the
    cheapest thing to inflate, by reposting, so it carries the base weight.
``severity`` = 4.0 × mean severity multiplier over the person's distinct items
    Multipliers come from ``severity_by_category`` (label -> multiplier), by default::

        "1": 1.0, "A": 1.0, "A1": 1.0, "A2": 0.9, "B": 0.8, "B1": 0.8, "B2": 0.7,
        "C": 0.6, "2": 0.5, "3": 0.4, None: 0.5

    i.e. Project VIC "1" (child abuse material), UK CAID "A" and NCMEC "A1" are the most
    severe; pubescent and non-contact categories less; Project VIC "2" (exploitive / age
    difficult) and "3" (CGI) least; no category at all sits at 0.5, the middle. A label
    not in the mapping (e.g. "baseline") is scored as ``None`` and logged. The mean, not
    a sum, because volume is already counted above; severity says *what* was spread. The
    gap between an all-most-severe and an all-least-severe collection (2.4 points) is
    about what doubling the number of distinct items adds, enough to order otherwise equal
    people but not to outweigh a much larger collection, since schemes differ between
    reference sets and many items carry no label.
``reach`` = 0.25 × sum over the groups the person posted known items in of ``ln(1 + members)``
    Every group is a separate act of distribution to a separate audience, so the sum
    grows with the number of groups; the log keeps a 10,000-member group worth only about
    twice a 100-member one (stated member counts are often inflated). At 0.25 one 1,000-
    member group adds 1.7 points.
``originality`` = 3.0 × share of the person's distinct items they originated
    An item is originated by the person whose post of it is the first across all chats
    (earliest ``sent_at``, ties by ``message_id``, then chat and person; undated posts
    come after dated ones) when that post is not marked forwarded. First appearances in
    our data point towards a source (own collection or production), which is what victim
    identification most needs; forwarders are one step further from it. Up to 3 points,
    about what tripling a small collection adds. "First" is first *in the facts given*,
    not in the world; the explanation says so.
``recency`` = 2.0 × ``0.5 ** (days since the latest known post / recency_half_life_days)``
    Half-life 30 days: someone posting this week is more urgent (ongoing abuse, devices
    still in use) than someone silent for a year, but a prolific distributor who went quiet
    three months ago still keeps his other points. Measured from the ``now`` argument;
    when it is not given, from the newest post in the facts, so a rerun of the same case
    data next month gives the same ranks (a court can reproduce them).
``referrals`` = 2.0 per ``ln(1 + referrals)``, counting at most ``referrals_cap`` = 5
    A CyberTipline or police referral naming one of the person's accounts is independent
    confirmation from outside the chats. Capped because a burst of automated reports
    about one upload is one fact, not twenty.
``devices`` = 3.0 per ``ln(1 + devices)``, counting at most ``devices_cap`` = 3
    Known material found on a seized device attributed to the person is the strongest
    corroboration (physical possession), so it weighs more than a referral; capped for
    the same reason.

Group parts and default weights (:class:`GroupWeights`)
-------------------------------------------------------
``known_share`` = 10.0 × known posts / messages
    What the group is *for*: a group where most posts are known material exists to trade
    it and everyone active in it is of interest; a big general group with a few known posts
    is mostly bystanders. The heaviest group part, so a dedicated trading group outranks a
    large mostly-clean one.
``volume`` = 1.0 per ``ln(1 + known posts)``; ``members`` = 0.5 per ``ln(1 + members)``;
``distinct_items`` = 1.0 per ``ln(1 + distinct known items posted there)``
    How much was spread, to how many, and how broad the collection in it is. Members at
    half weight because stated counts are inflated and most members of a clean group never
    see the few known posts.

Every weight can be overridden from a settings file or the command line with
:meth:`Weights.from_mapping` / :meth:`GroupWeights.from_mapping` (unknown keys are refused,
naming the valid ones); :meth:`~Weights.as_dict` gives the weights used, to record next to
the ranks.

Both rankings read the post facts once and keep only aggregates: per person their distinct
items, chats and accounts, per item its first post. Memory therefore grows with distinct
(person, item) pairs, not with posts, and a million facts rank in a few seconds.
"""

from __future__ import annotations

import gc
import logging
import math
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from raksha.network.facts import ChatFact, Corroboration, PostFact

logger = logging.getLogger(__name__)

#: Default severity multiplier per category label (see the module docstring for why).
DEFAULT_SEVERITY: Mapping[str | None, float] = {
    "1": 1.0,
    "A": 1.0,
    "A1": 1.0,
    "A2": 0.9,
    "B": 0.8,
    "B1": 0.8,
    "B2": 0.7,
    "C": 0.6,
    "2": 0.5,
    "3": 0.4,
    None: 0.5,
}

_SECONDS_PER_DAY = 86_400.0
#: Spellings of "no category" accepted as a key of ``severity_by_category`` in a settings
#: file or JSON, where a real ``None`` key cannot be written.
_NONE_KEYS = frozenset({"", "none", "null"})


def _severity_key(key: object) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str):
        raise ValueError(f"severity_by_category keys must be category labels, got {key!r}")
    stripped = key.strip()
    return None if stripped.lower() in _NONE_KEYS else stripped


def _number(name: str, value: object) -> float:
    """A weight from a settings value: a real number (or numeric string), never a bool."""
    if isinstance(value, bool):
        raise ValueError(f"weight {name} must be a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ValueError(f"weight {name} must be a number, got {value!r}")


def _count(name: str, value: object) -> int:
    number = _number(name, value)
    if not number.is_integer():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(number)


def _check_non_negative(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"weight {name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"weight {name} must be a finite number >= 0, got {value!r}")


class _Configurable:
    """``from_mapping``/``as_dict`` shared by both weight sets.

    Subclasses are dataclasses; ``_COUNTS`` names their whole-number fields and
    ``_MAPPINGS`` those that are label -> multiplier mappings (merged over the defaults,
    so a settings file can change one category without restating all of them).
    """

    _COUNTS: ClassVar[frozenset[str]] = frozenset()
    _MAPPINGS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def valid_keys(cls) -> list[str]:
        """The names a settings mapping may use, in declaration order."""
        return [f.name for f in fields(cls)]  # type: ignore[arg-type]

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Self:
        """Weights from a settings file or CLI mapping; keys not given keep their default.

        Raises ``ValueError`` naming the valid keys when a key is unknown (a typo must not
        silently leave a weight at its default), and when a value is not a number >= 0.
        """
        valid = cls.valid_keys()
        unknown = sorted(str(k) for k in values if k not in valid)
        if unknown:
            raise ValueError(
                f"unknown {cls.__name__} key(s): {', '.join(unknown)}; "
                f"valid keys: {', '.join(valid)}"
            )
        defaults = cls()
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            if key in cls._MAPPINGS:
                if not isinstance(value, Mapping):
                    raise ValueError(f"{key} must be a mapping of category label -> multiplier")
                merged = dict(getattr(defaults, key))
                for label, multiplier in value.items():
                    merged[_severity_key(label)] = _number(f"{key}[{label!r}]", multiplier)
                kwargs[key] = merged
            elif key in cls._COUNTS:
                kwargs[key] = _count(key, value)
            else:
                kwargs[key] = _number(key, value)
        return cls(**kwargs)

    def as_dict(self) -> dict[str, Any]:
        """The weights as plain values (mappings copied), to log or store with a ranking."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = dict(value) if isinstance(value, Mapping) else value
        return out

    def _validate(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name in self._MAPPINGS:
                for label, multiplier in value.items():
                    if label is not None and not isinstance(label, str):
                        raise ValueError(f"{f.name} keys must be labels or None, got {label!r}")
                    _check_non_negative(f"{f.name}[{label!r}]", multiplier)
            else:
                _check_non_negative(f.name, value)
                if f.name in self._COUNTS and int(value) != value:
                    raise ValueError(f"{f.name} must be a whole number, got {value!r}")


def _default_severity() -> dict[str | None, float]:
    return dict(DEFAULT_SEVERITY)


@dataclass(frozen=True)
class Weights(_Configurable):
    """How much each part of a person's score counts; defaults and reasons: module docstring."""

    distinct_items: float = 3.0
    posts: float = 1.0
    severity: float = 4.0
    severity_by_category: dict[str | None, float] = field(default_factory=_default_severity)
    reach: float = 0.25
    originality: float = 3.0
    recency: float = 2.0
    recency_half_life_days: float = 30.0
    referrals: float = 2.0
    referrals_cap: int = 5
    devices: float = 3.0
    devices_cap: int = 3

    _COUNTS: ClassVar[frozenset[str]] = frozenset({"referrals_cap", "devices_cap"})
    _MAPPINGS: ClassVar[frozenset[str]] = frozenset({"severity_by_category"})

    def __post_init__(self) -> None:
        # A private copy, so that changing the caller's dict later cannot change the weights.
        object.__setattr__(self, "severity_by_category", dict(self.severity_by_category))
        self._validate()
        if self.recency_half_life_days <= 0:
            raise ValueError(
                f"recency_half_life_days must be > 0, got {self.recency_half_life_days!r}"
            )

    def multiplier(self, category: str | None) -> float:
        """The severity multiplier for a label: exact, then trimmed and upper-cased, else
        the ``None`` (no category) multiplier, else 0.5."""
        table = self.severity_by_category
        if category in table:
            return table[category]
        if category is not None:
            tidy = category.strip().upper()
            if tidy in table:
                return table[tidy]
        return table.get(None, 0.5)

    def knows(self, category: str | None) -> bool:
        """Whether ``category`` has its own multiplier (rather than the fallback)."""
        table = self.severity_by_category
        return category in table or (category is not None and category.strip().upper() in table)


@dataclass(frozen=True)
class GroupWeights(_Configurable):
    """How much each part of a group's score counts; defaults and reasons: module docstring."""

    known_share: float = 10.0
    volume: float = 1.0
    members: float = 0.5
    distinct_items: float = 1.0

    def __post_init__(self) -> None:
        self._validate()


@dataclass
class ScorePart:
    """One named part of a score: what was measured, what it contributed, and in words.

    ``value`` is the raw measure (12 items, 0.85 mean severity, 41 days) or ``None`` when
    it is unknown (no dated post); ``points`` is what it added to the score.
    """

    name: str
    value: float | None
    points: float
    explanation: str


@dataclass
class PersonScore:
    """A ranked person: the score, every part of it, and one line of evidence."""

    person_id: int
    score: float
    parts: list[ScorePart]
    evidence: str
    rank: int

    def part(self, name: str) -> ScorePart:
        """The part called ``name`` (``KeyError`` if there is none)."""
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass
class GroupScore:
    """A ranked group or channel, explained the same way as a person."""

    chat_id: int
    title: str | None
    score: float
    parts: list[ScorePart]
    evidence: str
    rank: int

    def part(self, name: str) -> ScorePart:
        """The part called ``name`` (``KeyError`` if there is none)."""
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(name)


class _Person:
    """What one person's posts add up to; sets hold ids and item hashes, not posts.

    Most people post from one account, so the first account is kept apart and a set is
    only made when a second one turns up (a set add per post costs more than a compare).
    """

    __slots__ = ("account", "chats", "items", "latest", "other_accounts", "posts")

    def __init__(self, account: int) -> None:
        self.posts = 0
        self.items: set[str] = set()
        self.chats: set[int] = set()
        self.account = account
        self.other_accounts: set[int] | None = None
        self.latest: datetime | None = None

    @property
    def n_accounts(self) -> int:
        return 1 + (len(self.other_accounts) if self.other_accounts else 0)


#: The first post of an item: (sent_at, message_id, chat_id, person_id, forwarded, category).
_First = tuple[datetime | None, int, int, int, bool, str | None]


def _num(n: int) -> str:
    """``n`` with thousands separators (most counts are small, and ``str`` is cheaper)."""
    return str(n) if -1000 < n < 1000 else f"{n:,}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{_num(n)} {one if n == 1 else (many or one + 's')}"


def _utc(moment: datetime) -> datetime:
    """Naive datetimes are UTC (SQLite hands them back without a zone)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while a ranking runs.

    Ranking allocates hundreds of thousands of sets and tuples while the caller holds a
    million post facts; every allocation burst triggers a collection that walks all of
    them, which took a third of the time in measurement. Ranking makes no reference cycles,
    so nothing is lost by collecting once afterwards instead; the previous state is
    restored even on error.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _log_points(weight: float, n: float) -> float:
    return weight * math.log1p(n)


def rank_people(
    posts: Iterable[PostFact],
    chats: Mapping[int, ChatFact],
    corroboration: Mapping[int, Corroboration] | None = None,
    *,
    weights: Weights | None = None,
    now: datetime | None = None,
) -> list[PersonScore]:
    """Rank every person with at least one post of a known item, best-supported first.

    ``posts`` is read once (a generator straight from the store is fine); ``chats`` gives
    group sizes for reach (a chat missing from it counts with 0 members and is logged);
    ``corroboration`` adds referrals and seized devices for people who have posts (people
    with corroboration only are not ranked: this ranks distributors). ``now`` anchors
    recency; by default the newest post in the facts. Ties in score are ordered by
    ``person_id`` so the order is reproducible; ranks run 1..n.
    """
    with _gc_paused():
        return _rank_people(posts, chats, corroboration or {}, weights or Weights(), now)


def _rank_people(
    posts: Iterable[PostFact],
    chats: Mapping[int, ChatFact],
    corroboration: Mapping[int, Corroboration],
    w: Weights,
    now: datetime | None,
) -> list[PersonScore]:
    started = time.perf_counter()
    people: dict[int, _Person] = {}
    first: dict[str, _First] = {}
    # Items whose posts carry more than one category label (e.g. two reference sets):
    # every label seen, so the item can be scored at its most severe.
    mixed: dict[str, set[str | None]] = {}
    person_get = people.get
    first_get = first.get
    n_posts = 0

    # The hot loop: one pass, no per-post objects kept, everything inlined.
    for p in posts:
        n_posts += 1
        pid = p.person_id
        item = p.item
        sent = p.sent_at
        if sent is not None and sent.tzinfo is None:
            sent = sent.replace(tzinfo=UTC)
        acc = person_get(pid)
        if acc is None:
            acc = people[pid] = _Person(p.account_id)
        acc.posts += 1
        acc.items.add(item)
        acc.chats.add(p.chat_id)
        if p.account_id != acc.account:
            if acc.other_accounts is None:
                acc.other_accounts = {p.account_id}
            else:
                acc.other_accounts.add(p.account_id)
        if sent is not None and (acc.latest is None or sent > acc.latest):
            acc.latest = sent

        cur = first_get(item)
        if cur is None:
            first[item] = (sent, p.message_id, p.chat_id, pid, p.forwarded, p.category)
            continue
        if p.category != cur[5]:
            mixed.setdefault(item, {cur[5]}).add(p.category)
        cur_sent = cur[0]
        if cur_sent is None:
            earlier = sent is not None or (p.message_id, p.chat_id, pid) < cur[1:4]
        elif sent is None or sent > cur_sent:
            earlier = False
        elif sent < cur_sent:
            earlier = True
        else:
            earlier = (p.message_id, p.chat_id, pid) < cur[1:4]
        if earlier:
            first[item] = (sent, p.message_id, p.chat_id, pid, p.forwarded, p.category)

    aggregated = time.perf_counter()
    if not people:
        logger.info("ranked no people: no post facts")
        return []

    # Per item: its category label (the most severe one if its posts disagree) and who
    # originated it. Multipliers are looked up per label, of which there are few.
    def severity_order(label: str | None) -> tuple[float, bool, str]:
        return (w.multiplier(label), label is not None, label or "")

    label_of: dict[str, str | None] = {}
    originated: Counter[int] = Counter()
    for item, rec in first.items():
        labels = mixed.get(item)
        label_of[item] = rec[5] if labels is None else max(labels, key=severity_order)
        if not rec[4]:
            originated[rec[3]] += 1
    items_per_label = Counter(label_of.values())
    label_multiplier = {label: w.multiplier(label) for label in items_per_label}
    if mixed:
        logger.info(
            "%s carry more than one category label; each scored at its most severe",
            _plural(len(mixed), "item"),
        )
    unknown_labels = sorted(
        (label, n)
        for label, n in items_per_label.items()
        if label is not None and not w.knows(label)
    )
    if unknown_labels:
        logger.warning(
            "category labels without a severity multiplier, scored as uncategorised: %s",
            ", ".join(f"{label!r} ({_plural(n, 'item')})" for label, n in unknown_labels),
        )

    if now is not None:
        anchor: datetime | None = _utc(now)
    else:
        dated = [acc.latest for acc in people.values() if acc.latest is not None]
        anchor = max(dated) if dated else None

    sizes = {cid: (max(c.members, 0), math.log1p(max(c.members, 0))) for cid, c in chats.items()}
    missing_chats: set[int] = set()
    scored: list[tuple[float, int, list[ScorePart], str]] = []
    for pid, acc in people.items():
        parts, evidence = _person_parts(
            acc,
            originated[pid],
            label_of,
            label_multiplier,
            sizes,
            corroboration.get(pid),
            w,
            anchor,
            missing_chats,
        )
        score = math.fsum(part.points for part in parts)
        scored.append((score, pid, parts, evidence))
    if missing_chats:
        logger.warning(
            "%s without chat facts counted with 0 members: %s",
            _plural(len(missing_chats), "chat"),
            ", ".join(str(c) for c in sorted(missing_chats)[:10])
            + (" ..." if len(missing_chats) > 10 else ""),
        )

    scored.sort(key=lambda s: (-s[0], s[1]))
    ranked = [
        PersonScore(person_id=pid, score=score, parts=parts, evidence=evidence, rank=i)
        for i, (score, pid, parts, evidence) in enumerate(scored, start=1)
    ]
    logger.info(
        "ranked %s from %s of %s (aggregate %.2fs, score %.2fs)",
        _plural(len(ranked), "person", "people"),
        _plural(n_posts, "post"),
        _plural(len(first), "distinct item"),
        aggregated - started,
        time.perf_counter() - aggregated,
    )
    return ranked


def _person_parts(
    acc: _Person,
    originated: int,
    label_of: Mapping[str, str | None],
    label_multiplier: Mapping[str | None, float],
    sizes: Mapping[int, tuple[int, float]],
    corroboration: Corroboration | None,
    w: Weights,
    anchor: datetime | None,
    missing_chats: set[int],
) -> tuple[list[ScorePart], str]:
    """The scored parts of one person and their one-line evidence.

    Called once per person, so it works from the aggregates only: one pass over the
    person's distinct items (their labels), one over their chats (precomputed sizes).
    """
    n_items = len(acc.items)
    n_groups = len(acc.chats)
    items_text = _plural(n_items, "item")

    by_label = Counter(map(label_of.__getitem__, acc.items))
    severity = math.fsum(n * label_multiplier[label] for label, n in by_label.items()) / n_items
    top = sorted(by_label.items(), key=lambda kv: (-kv[1], kv[0] or ""))
    labels = ", ".join(
        f"{'uncategorised' if label is None else label} ×{_num(n)}" for label, n in top[:4]
    ) + (", ..." if len(top) > 4 else "")

    members = 0
    reach = 0.0
    for chat_id in acc.chats:
        size = sizes.get(chat_id)
        if size is None:
            missing_chats.add(chat_id)
            continue
        members += size[0]
        reach += size[1]
    members_text = _num(members)
    groups_text = _plural(n_groups, "group")

    share = originated / n_items
    age_days: float | None = None
    decay = 0.0
    latest_day = acc.latest.astimezone(UTC).date().isoformat() if acc.latest else None
    if acc.latest is None or anchor is None:
        recency_text = "no known post has a date"
    else:
        age = max((anchor - acc.latest).total_seconds(), 0.0) / _SECONDS_PER_DAY
        age_days = age
        decay = 0.5 ** (age / w.recency_half_life_days)
        recency_text = (
            f"latest known post {latest_day}, {age:,.0f} days before "
            f"{anchor.date().isoformat()} (half-life {w.recency_half_life_days:g} days)"
        )

    referrals = max(corroboration.referrals, 0) if corroboration else 0
    devices = max(corroboration.devices, 0) if corroboration else 0
    referrals_text = f"named in {_plural(referrals, 'referral')}"
    devices_text = f"on {_plural(devices, 'seized device')}"
    accounts = acc.n_accounts
    accounts_text = f" from {_num(accounts)} accounts" if accounts > 1 else ""
    posts_text = _plural(acc.posts, "post")

    parts = [
        ScorePart(
            "distinct_items",
            n_items,
            w.distinct_items * math.log1p(n_items),
            f"{_plural(n_items, 'distinct known item')}, {_num(originated)} originated first here",
        ),
        ScorePart(
            "posts",
            acc.posts,
            w.posts * math.log1p(acc.posts),
            f"{posts_text} of known items{accounts_text}",
        ),
        ScorePart(
            "severity",
            severity,
            w.severity * severity,
            f"mean severity {severity:.2f} over {items_text} ({labels})",
        ),
        ScorePart(
            "originality",
            share,
            w.originality * share,
            f"{_num(originated)} of {items_text} ({share:.0%}) first seen in these chats"
            " in a post of theirs not marked forwarded",
        ),
        ScorePart(
            "reach",
            reach,
            w.reach * reach,
            f"posted in {groups_text} with {members_text} members in all",
        ),
        ScorePart("recency", age_days, w.recency * decay, recency_text),
        ScorePart(
            "referrals",
            referrals,
            w.referrals * math.log1p(min(referrals, w.referrals_cap)),
            referrals_text
            + (f" (counted up to {w.referrals_cap})" if referrals > w.referrals_cap else ""),
        ),
        ScorePart(
            "devices",
            devices,
            w.devices * math.log1p(min(devices, w.devices_cap)),
            "known material "
            + devices_text
            + (f" (counted up to {w.devices_cap})" if devices > w.devices_cap else ""),
        ),
    ]

    evidence = (
        f"{posts_text} of {_plural(n_items, 'known item')}"
        f" ({_num(originated)} first posted by them){accounts_text}"
        f" in {groups_text} reaching {members_text} members"
        + (f"; latest {latest_day}" if latest_day else "; no dated post")
        + (f"; {referrals_text}" if referrals else "")
        + (f"; {devices_text}" if devices else "")
    )
    return parts, evidence


class _Group:
    __slots__ = ("items", "people", "posts")

    def __init__(self) -> None:
        self.posts = 0
        self.items: set[str] = set()
        self.people: set[int] = set()


def rank_groups(
    posts: Iterable[PostFact],
    chats: Mapping[int, ChatFact],
    *,
    weights: GroupWeights | None = None,
) -> list[GroupScore]:
    """Rank the groups in ``chats`` where known material was posted, worst first.

    A group is ranked when its chat facts count a known post or a post fact names it;
    posts in a chat missing from ``chats`` are logged and left out (without its size and
    message count there is nothing fair to score). Known posts are the larger of the chat's
    stated count and the post facts seen, so a stale count never hides posts. Ties are
    ordered by ``chat_id``; ranks run 1..n.
    """
    with _gc_paused():
        return _rank_groups(posts, chats, weights or GroupWeights())


def _rank_groups(
    posts: Iterable[PostFact], chats: Mapping[int, ChatFact], w: GroupWeights
) -> list[GroupScore]:
    groups: dict[int, _Group] = {}
    get = groups.get
    for p in posts:
        g = get(p.chat_id)
        if g is None:
            g = groups[p.chat_id] = _Group()
        g.posts += 1
        g.items.add(p.item)
        g.people.add(p.person_id)

    unknown = sorted(c for c in groups if c not in chats)
    if unknown:
        logger.warning(
            "posts in %s without chat facts left out of the group ranking: %s",
            _plural(len(unknown), "chat"),
            ", ".join(str(c) for c in unknown[:10]) + (" ..." if len(unknown) > 10 else ""),
        )

    empty = _Group()
    scored: list[tuple[float, int, ChatFact, list[ScorePart], str]] = []
    for chat_id, chat in chats.items():
        g = groups.get(chat_id, empty)
        known = max(chat.known_posts, g.posts, 0)
        if known == 0:
            continue
        messages = max(chat.messages, known)
        share = known / messages
        members = max(chat.members, 0)
        n_items = len(g.items)
        parts = [
            ScorePart(
                "known_share",
                share,
                w.known_share * share,
                f"{known:,} of {_plural(messages, 'message')} ({share:.1%}) are known material",
            ),
            ScorePart(
                "volume", known, _log_points(w.volume, known), f"{_plural(known, 'known post')}"
            ),
            ScorePart("members", members, _log_points(w.members, members), f"{members:,} members"),
            ScorePart(
                "distinct_items",
                n_items,
                _log_points(w.distinct_items, n_items),
                f"{_plural(n_items, 'distinct known item')} posted by "
                f"{_plural(len(g.people), 'person', 'people')}",
            ),
        ]
        evidence = (
            f"{known:,} of {_plural(messages, 'message')} known material ({share:.0%}); "
            f"{_plural(n_items, 'distinct known item')} posted by "
            f"{_plural(len(g.people), 'person', 'people')}; {members:,} members"
        )
        score = math.fsum(part.points for part in parts)
        scored.append((score, chat_id, chat, parts, evidence))

    scored.sort(key=lambda s: (-s[0], s[1]))
    ranked = [
        GroupScore(
            chat_id=chat_id, title=chat.title, score=score, parts=parts, evidence=evidence, rank=i
        )
        for i, (score, chat_id, chat, parts, evidence) in enumerate(scored, start=1)
    ]
    logger.info("ranked %s", _plural(len(ranked), "group"))
    return ranked
