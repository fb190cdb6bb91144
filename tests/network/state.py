"""A synthetic offender network written straight into a store, with its ground truth.

``build_state`` writes what a unit would hold after ingesting many group exports and
scanning their media against a reference set — cases, evidence, chats, accounts,
memberships, messages, attachments, scanned items and their reference matches — without
going through the readers, the scan or the chat writer: rows are generated in memory and
inserted with Core executemany in chunks, so the default size (50 groups, 5,000 accounts,
200,000 messages) takes seconds and ``scale(10)`` is there for benchmarks.

Everything is synthetic and bland: invented names, invented texts, no imagery. A
"picture" is only a content id (its SHA-256); a *known* picture is one whose MD5 is in
the reference set, so its item has an exact reference match and its post is a sighting
under the same join ``raksha.store.chat_repo.iter_sightings`` uses.

What is planted (and returned as :class:`GroundTruth`):

* distributors, who post many distinct known items across 5-15 groups, in sessions;
  some are *originators* paired with a *forwarder*, who later forwards exactly the same
  posts (same items, same volume, ``forwarded_from`` set) into their own groups;
* spammers, who post one known item many times (more posts than any distributor);
* background accounts: chat, unknown pictures, and now and then a known item (mostly a
  forward of a distributor's item, at most three known posts each);
* hard identity pairs: the same E.164 number as a Telegram phone account and a WhatsApp
  account (the only numbers on two platforms);
* soft pairs: the same display name on Telegram and WhatsApp with different numbers,
  which must never be merged automatically.

The same seed gives the same rows and the same ids (ids continue from the store's
largest, so an empty store gets the same ids on SQLite and PostgreSQL; on PostgreSQL
the id sequences are then moved past what was written).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, func, select, text

from raksha.chats.identity import content_key
from raksha.locators import chain_locator, locator_key
from raksha.store.chat_models import (
    accounts_table,
    chat_members_table,
    chats_table,
    membership_events_table,
    message_media_table,
    messages_table,
)
from raksha.store.db import Store
from raksha.store.models import (
    cases_table,
    evidence_table,
    hash_sets_table,
    item_matches_table,
    items_table,
    reference_hashes_table,
    scans_table,
)

#: Rows per executemany.
CHUNK = 5000
#: The window the messages fall in: 120 days, UTC.
START = datetime(2026, 5, 1, tzinfo=UTC)
DAYS = 120
SPAN = DAYS * 86400
END = START + timedelta(seconds=SPAN)
#: Exports were added to the case the day after the window closed.
ADDED = END + timedelta(hours=20)

TELEGRAM = "telegram"
WHATSAPP = "whatsapp"
CHANNEL = "channel"
SUPERGROUP = "supergroup"
GROUP = "group"

# Post kinds, in the order a tie in time is broken (service messages first).
SERVICE, TEXT, KNOWN, UNKNOWN = 0, 1, 2, 3

CATEGORIES = ("1", "2", "3")
CATEGORY_WEIGHTS = (0.7, 0.2, 0.1)
CATEGORY_LABELS = {
    "1": "child abuse material (illegal)",
    "2": "child exploitive (non-illegal / age difficult)",
    "3": "CGI / animation",
}

FIRST_NAMES = (
    "Arun", "Ravi", "Sunil", "Anil", "Vijay", "Suresh", "Ramesh", "Manoj", "Rajesh",
    "Deepak", "Ajay", "Sanjay", "Prakash", "Mahesh", "Ganesh", "Dinesh", "Naveen", "Kiran",
    "Vinod", "Ashok", "Rahul", "Amit", "Rohit", "Nikhil", "Varun", "Arjun", "Akhil",
    "Jithin", "Sreejith", "Biju", "Shaji", "Anoop", "Sajan", "Renjith", "Vishnu", "Hari",
    "Gokul", "Midhun", "Jobin", "Tony", "Bibin", "Sandeep", "Pradeep", "Harish", "Girish",
    "Santhosh", "Jayan", "Babu", "Mohan", "Sabu", "Priya", "Anjali", "Divya", "Lakshmi",
    "Meera", "Neha", "Sneha", "Asha", "Reshma", "Sruthi",
)  # fmt: skip
FAMILY_NAMES = (
    "Nair", "Menon", "Pillai", "Kumar", "Das", "Thomas", "Joseph", "Varghese", "Mathew",
    "George", "Babu", "Raj", "K", "M", "S", "P", "R", "T", "V", "N",
)  # fmt: skip
PLACES = (
    "Kochi", "Thrissur", "Kozhikode", "Kollam", "Chennai", "Bengaluru", "Mumbai", "Pune",
    "Delhi", "Hyderabad", "Kolkata", "Mysuru",
)  # fmt: skip
TOPICS = (
    "Movies Club", "Friends Circle", "Daily Chat", "Deals", "Cricket Fans", "Music Lovers",
    "Photo Share", "Memes", "Night Owls", "Weekend Group", "Tech Talk", "Study Group",
)  # fmt: skip
TEXTS = (
    "good morning", "good morning all", "hi all", "hello", "anyone online?", "ok", "okay",
    "thanks", "thanks bro", "thank you", "welcome", "new here", "thanks for adding",
    "good night", "gn all", "haha", "😂", "👍", "🙏", "nice", "wow", "super", "yes", "no",
    "later", "brb", "same here", "which one?", "any update?", "will check", "ok done",
    "who is admin?", "read the rules", "rules pinned above", "admin please add my friend",
    "where are you from?", "from Kochi", "from Chennai", "cricket today?", "match at 7",
    "rain again here", "traffic is bad today", "happy birthday!", "congrats",
    "check the pinned message", "link not working", "new link in the description",
    "group will be moved soon", "backup group link?", "don't spam please", "sorry",
    "busy now, later", "what time?", "tomorrow", "see you", "morning", "lol", "true",
    "send in dm", "dm me", "check dm", "ok bro", "hmm", "really?", "not sure",
)  # fmt: skip
CAPTIONS = ("", "", "", "new", "👍", "more later", "for all", "part 2", "old one", "share")

# Hour of day (IST) weights: quiet at night, busiest in the evening.
_HOUR_WEIGHTS = (
    1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.7, 1.1, 1.5, 1.8, 2.0, 2.0,
    2.0, 2.0, 2.0, 2.0, 2.2, 2.5, 3.0, 3.5, 4.0, 4.0, 3.5, 2.2,
)  # fmt: skip
_HOUR_CUM = tuple(sum(_HOUR_WEIGHTS[: i + 1]) for i in range(24))
_IST = 19800  # seconds east of UTC


@dataclass(frozen=True, slots=True)
class PlantedDistributor:
    """One planted distributor: what it posted and how strongly."""

    account_id: int
    role: str  # "originator", "forwarder" (forwards its originator's posts) or "distributor"
    distinct_items: int
    posts: int
    groups: int  # chats it is a member of


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """What ``build_state`` planted, by store id, and how many rows it wrote."""

    seed: int
    case_id: int
    hash_set_id: int
    distributors: tuple[int, ...]  # strongest first
    planted: tuple[PlantedDistributor, ...]  # the same order, with their numbers
    pairs: tuple[tuple[int, int], ...]  # (originator, forwarder)
    spammers: tuple[int, ...]
    hard_pairs: tuple[tuple[int, int], ...]  # (telegram phone account, whatsapp account)
    soft_pairs: tuple[tuple[int, int], ...]  # (telegram account, whatsapp account), same name
    counts: dict[str, int] = field(default_factory=dict)
    start: datetime = START
    end: datetime = END


def scale(factor: float) -> dict[str, int]:
    """``build_state`` arguments for a network ``factor`` times the default size.

    ``build_state(store, **scale(10))``: 500 groups, 50,000 accounts, 2,000,000 messages,
    200 distributors, 20,000 reference items, 500 hard and 200 soft pairs.
    """
    if factor <= 0:
        raise ValueError("the factor must be positive")
    return {
        "groups": max(2, round(50 * factor)),
        "accounts": max(300, round(5000 * factor)),
        "messages": max(5000, round(200_000 * factor)),
        "distributors": max(4, round(20 * factor)),
        "known_items": max(200, round(2000 * factor)),
        "hard_pairs": max(1, round(50 * factor)),
        "soft_pairs": max(1, round(20 * factor)),
    }


@dataclass(slots=True)
class _Account:
    platform: str
    id_kind: str
    external_id: str
    name: str
    role: str  # distributor, spammer, hard, soft, background
    activity: float
    chats: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Chat:
    platform: str
    kind: str
    title: str
    chat_key: str
    root: str
    stated: int  # member or subscriber count as the platform states it
    weight: float  # how busy it is
    members: list[int] = field(default_factory=list)
    roles: dict[int, str] = field(default_factory=dict)
    posters: list[int] = field(default_factory=list)
    planted: list[tuple[int, int, int, int, int, str]] = field(default_factory=list)
    joins: list[int] = field(default_factory=list)  # members whose join the export shows
    texts: int = 0
    unknowns: int = 0


def _digests(name: str) -> tuple[str, str, str, int]:
    """MD5, SHA-1, SHA-256 and size of the synthetic picture called ``name``."""
    raw = name.encode()
    sha256 = hashlib.sha256(raw).hexdigest()
    size = 20_000 + int(sha256[:6], 16) % 400_000
    return hashlib.md5(raw).hexdigest(), hashlib.sha1(raw).hexdigest(), sha256, size


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    return round(math.exp(rng.uniform(math.log(low), math.log(high))))


def _moment(rng: random.Random, high: int = SPAN) -> int:
    """A second in (0, high) at a realistic hour of day (IST)."""
    day = rng.randrange(max(1, high // 86400))
    hour = rng.choices(range(24), cum_weights=_HOUR_CUM)[0]
    t = day * 86400 + hour * 3600 + rng.randrange(3600) - _IST
    if t <= 0:  # an early-morning hour before the window opened: the next day's
        t += 86400
    return min(t, high - 1)


def _moments(rng: random.Random, n: int) -> list[int]:
    """``n`` seconds in the window at realistic hours; never 0, so a join can precede."""
    hours = rng.choices(range(24), cum_weights=_HOUR_CUM, k=n)
    rand = rng.random
    out = []
    for hour in hours:
        t = int(rand() * DAYS) * 86400 + hour * 3600 + int(rand() * 3600) - _IST
        out.append(t + 86400 if t <= 0 else t)
    return out


def _split(rng: random.Random, total: int, weights: Sequence[float]) -> list[int]:
    """``total`` divided in proportion to ``weights`` (largest remainder, ties by rng)."""
    whole = sum(weights)
    if whole <= 0 or total <= 0:
        return [0] * len(weights)
    exact = [total * w / whole for w in weights]
    out = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (out[i] - exact[i], rng.random()))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _pick(rng: random.Random, pool: Sequence[int], cum: Sequence[float], k: int) -> list[int]:
    """``k`` distinct members of ``pool``, by weight."""
    if k >= len(pool):
        return list(pool)
    chosen: dict[int, None] = {}
    tries = 0
    while len(chosen) < k and tries < 20 * k:
        chosen[rng.choices(pool, cum_weights=cum)[0]] = None
        tries += 1
    for c in pool:  # pathological weights: fill in order
        if len(chosen) >= k:
            break
        chosen.setdefault(c, None)
    return list(chosen)


class _Ids:
    """The next id of every table (continuing from what the store holds)."""

    TABLES = (
        cases_table, evidence_table, scans_table, hash_sets_table, reference_hashes_table,
        chats_table, accounts_table, chat_members_table, membership_events_table,
        messages_table, message_media_table, items_table, item_matches_table,
    )  # fmt: skip

    def __init__(self, conn: Connection) -> None:
        self.base = {
            t.name: int(conn.execute(select(func.coalesce(func.max(t.c.id), 0))).scalar_one())
            for t in self.TABLES
        }
        self.last = dict(self.base)

    def next(self, table: Table) -> int:
        self.last[table.name] += 1
        return self.last[table.name]

    def written(self, table: Table) -> int:
        return self.last[table.name] - self.base[table.name]


def _insert(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            conn.execute(table.insert(), chunk)
            chunk = []
    if chunk:
        conn.execute(table.insert(), chunk)


class _Sink:
    """Buffers of the streamed tables, flushed together in foreign-key order."""

    ORDER = (messages_table, message_media_table, items_table, item_matches_table)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in self.ORDER}

    def add(self, table: Table, row: dict[str, Any]) -> None:
        self.rows[table.name].append(row)
        if table is messages_table and len(self.rows[table.name]) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        for table in self.ORDER:
            rows = self.rows[table.name]
            if rows:
                self.conn.execute(table.insert(), rows)
                self.rows[table.name] = []


class _Builder:
    def __init__(
        self,
        *,
        groups: int,
        accounts: int,
        messages: int,
        seed: int,
        distributors: int,
        spammers: int | None,
        hard_pairs: int,
        soft_pairs: int,
        known_items: int,
    ) -> None:
        if groups < 2:
            raise ValueError("a state needs at least 2 groups (one of them on WhatsApp)")
        if distributors < 1 or known_items < 100:
            raise ValueError("a state needs a distributor and at least 100 known items")
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_groups = groups
        self.n_accounts = accounts
        self.n_messages = messages
        self.n_distributors = distributors
        self.n_spammers = max(1, distributors // 5) if spammers is None else spammers
        self.n_hard = hard_pairs
        self.n_soft = soft_pairs
        self.n_known = known_items
        background = accounts - distributors - self.n_spammers - 2 * hard_pairs - 2 * soft_pairs
        if background < 10:
            raise ValueError(f"{accounts} accounts leave too few background accounts")
        self.n_background = background
        self.chats: list[_Chat] = []
        self.accounts: list[_Account] = []
        self.distributor_idx: list[int] = []
        self.roles: list[str] = []
        self.pair_idx: list[tuple[int, int]] = []
        self.spammer_idx: list[int] = []
        self.hard_idx: list[tuple[int, int]] = []
        self.soft_idx: list[tuple[int, int]] = []
        self.planted: list[tuple[int, int, int]] = []  # distinct items, posts, per distributor
        self.known_posts = 0

    # -- the reference set ---------------------------------------------------------------

    def known(self) -> None:
        rng = self.rng
        self.known_digests = [
            _digests(f"raksha-state/{self.seed}/known/{k}") for k in range(self.n_known)
        ]
        self.known_category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS, k=self.n_known)
        order = list(range(self.n_known))
        rng.shuffle(order)
        cut = int(self.n_known * 0.7)
        self.distributor_pool = order[:cut]  # what distributors' collections draw from
        self.other_pool = order[cut:]  # spammers' items and background finds

    # -- chats ---------------------------------------------------------------------------

    def make_chats(self) -> None:
        rng = self.rng
        n_wa = max(1, round(self.n_groups * 0.2))
        keys = rng.sample(range(10**9, 2 * 10**9), self.n_groups)
        for c in range(self.n_groups):
            platform = WHATSAPP if c >= self.n_groups - n_wa else TELEGRAM
            title = f"{rng.choice(PLACES)} {rng.choice(TOPICS)} {c + 1}"
            if platform == WHATSAPP:
                kind, stated = GROUP, _log_uniform(rng, 20, 1024)
                chat_key, root = f"whatsapp:{title}", f"WhatsApp Chat - {title}"
            else:
                # the first Telegram chat is a supergroup so everyone has somewhere to post
                kind = CHANNEL if c > 0 and rng.random() < 0.3 else SUPERGROUP
                stated = (
                    _log_uniform(rng, 100, 20_000)
                    if kind == CHANNEL
                    else _log_uniform(rng, 20, 5000)
                )
                chat_key, root = f"telegram:{keys[c]}", f"ChatExport_{c + 1:03d}"
            weight = math.sqrt(stated) * (0.3 if kind == CHANNEL else 1.0) * rng.uniform(0.5, 1.5)
            self.chats.append(_Chat(platform, kind, title, chat_key, root, stated, weight))

    # -- accounts ------------------------------------------------------------------------

    def make_accounts(self) -> None:
        rng = self.rng
        n_phone = 2 * self.n_soft + self.n_hard + self.n_background
        numbers = iter(rng.sample(range(max(10_000, 2 * n_phone)), n_phone))
        user_ids = iter(rng.sample(range(10**8, 6 * 10**9), self.n_accounts))
        reserved = iter(
            rng.sample(
                [
                    f"{f} {chr(65 + i)}. {s}"
                    for f in FIRST_NAMES
                    for i in range(26)
                    for s in FAMILY_NAMES[:12]
                ],
                2 * (self.n_hard + self.n_soft),
            )
        )

        def phone() -> str:
            return f"+91{9_847_000_000 + next(numbers)}"

        def common_name() -> str:
            if rng.random() < 0.2:
                return rng.choice(FIRST_NAMES)
            return f"{rng.choice(FIRST_NAMES)} {rng.choice(FAMILY_NAMES)}"

        def activity() -> float:
            return min(50.0, rng.paretovariate(1.3))

        specs: list[tuple[str, _Account]] = []  # (tag, account); tags pair them up later
        for i in range(self.n_distributors):
            specs.append(
                (
                    f"d{i}",
                    _Account(
                        TELEGRAM,
                        "user_id",
                        f"user{next(user_ids)}",
                        common_name(),
                        "distributor",
                        4.0,
                    ),
                )
            )
        for i in range(self.n_spammers):
            specs.append(
                (
                    f"s{i}",
                    _Account(
                        TELEGRAM, "user_id", f"user{next(user_ids)}", common_name(), "spammer", 2.0
                    ),
                )
            )
        for i in range(self.n_hard):
            number, name = phone(), next(reserved)
            other = name if i % 2 == 0 else next(reserved)  # half use another name there
            specs.append((f"ht{i}", _Account(TELEGRAM, "phone", number, name, "hard", activity())))
            specs.append((f"hw{i}", _Account(WHATSAPP, "phone", number, other, "hard", activity())))
        for i in range(self.n_soft):
            name = next(reserved)
            specs.append((f"st{i}", _Account(TELEGRAM, "phone", phone(), name, "soft", activity())))
            specs.append((f"sw{i}", _Account(WHATSAPP, "phone", phone(), name, "soft", activity())))
        for _ in range(self.n_background):
            if rng.random() < 0.15:
                account = _Account(
                    WHATSAPP, "phone", phone(), common_name(), "background", activity()
                )
            else:
                account = _Account(
                    TELEGRAM,
                    "user_id",
                    f"user{next(user_ids)}",
                    common_name(),
                    "background",
                    activity(),
                )
            specs.append(("", account))
        rng.shuffle(specs)  # ids in no meaningful order, as an ingest would leave them
        self.accounts = [a for _, a in specs]
        where = {tag: i for i, (tag, _) in enumerate(specs) if tag}
        self.distributor_idx = [where[f"d{i}"] for i in range(self.n_distributors)]
        self.spammer_idx = [where[f"s{i}"] for i in range(self.n_spammers)]
        self.hard_idx = [(where[f"ht{i}"], where[f"hw{i}"]) for i in range(self.n_hard)]
        self.soft_idx = [(where[f"st{i}"], where[f"sw{i}"]) for i in range(self.n_soft)]
        # originators at positions 1, 5, 9, ...; each one's forwarder right after it
        self.roles = ["distributor"] * self.n_distributors
        for p in range(self.n_distributors // 4):
            if 2 + 4 * p < self.n_distributors:
                self.roles[1 + 4 * p], self.roles[2 + 4 * p] = "originator", "forwarder"
                self.pair_idx.append(
                    (self.distributor_idx[1 + 4 * p], self.distributor_idx[2 + 4 * p])
                )

    # -- memberships ---------------------------------------------------------------------

    def memberships(self) -> None:
        rng = self.rng
        pools: dict[str, list[int]] = {TELEGRAM: [], WHATSAPP: []}
        postable: dict[str, list[int]] = {TELEGRAM: [], WHATSAPP: []}
        for c, chat in enumerate(self.chats):
            pools[chat.platform].append(c)
            if chat.kind != CHANNEL:
                postable[chat.platform].append(c)

        def cum(pool: list[int]) -> list[float]:
            total, out = 0.0, []
            for c in pool:
                total += math.sqrt(self.chats[c].stated)
                out.append(total)
            return out

        cums = {p: cum(pools[p]) for p in pools}
        post_cums = {p: cum(postable[p]) for p in postable}
        n_tg = len(pools[TELEGRAM])
        forwarder_of = {f: o for o, f in self.pair_idx}
        for position, a in enumerate(self.distributor_idx):
            k = round(15 - 10 * position / max(1, self.n_distributors - 1))
            k = min(max(k, 5), n_tg)
            chats: list[int] = []
            if a in forwarder_of:  # a forwarder sits in two of its originator's groups
                chats = rng.sample(self.accounts[forwarder_of[a]].chats, 2) if n_tg >= 2 else []
            rest = [c for c in pools[TELEGRAM] if c not in chats]
            chats += _pick(rng, rest, cum(rest), k - len(chats))
            self.accounts[a].chats = chats
        for a in self.spammer_idx:
            self.accounts[a].chats = _pick(
                rng, postable[TELEGRAM], post_cums[TELEGRAM], rng.randint(2, 4)
            )
        for account in self.accounts:
            if account.chats:
                continue
            k = rng.choices((1, 2, 3, 4, 5, 6), (30, 25, 18, 12, 9, 6))[0]
            pool = pools[account.platform]
            account.chats = _pick(rng, pool, cums[account.platform], k)
        for a, account in enumerate(self.accounts):
            for c in account.chats:
                self.chats[c].members.append(a)
        for c, chat in enumerate(self.chats):
            spare = (
                [
                    a
                    for a, acc in enumerate(self.accounts)
                    if acc.platform == chat.platform
                    and acc.role == "background"
                    and c not in acc.chats
                    and len(acc.chats) < 6
                ]
                if len(chat.members) < 3
                else []
            )
            for a in rng.sample(spare, max(0, min(len(spare), 3 - len(chat.members)))):
                self.accounts[a].chats.append(c)
                chat.members.append(a)
            self.roles_of(chat)

    def roles_of(self, chat: _Chat) -> None:
        rng = self.rng
        background = [a for a in chat.members if self.accounts[a].role == "background"]
        creator = rng.choice(background or chat.members)
        chat.roles = {a: "member" for a in chat.members}
        chat.roles[creator] = "creator"
        extra = rng.sample(background, min(len(background), rng.randint(0, 2)))
        for a in extra:
            if a != creator:
                chat.roles[a] = "admin"
        if chat.kind == CHANNEL:  # distributors run the channels they are in
            for a in chat.members:
                if self.accounts[a].role == "distributor":
                    chat.roles[a] = "admin"
            chat.posters = [a for a in chat.members if chat.roles[a] != "member"]
        else:
            chat.posters = list(chat.members)

    # -- planted posts -------------------------------------------------------------------

    def _post(self, c: int, t: int, kind: int, a: int, media: int, author: int) -> None:
        caption = self.rng.choice(CAPTIONS) if kind in (KNOWN, UNKNOWN) else ""
        self.chats[c].planted.append((t, kind, a, media, author, caption))
        if kind == KNOWN:
            self.known_posts += 1

    def plant(self) -> None:
        rng = self.rng
        # about 120 distinct items for the strongest at 10,000 messages per distributor
        d_max = max(12, round(0.012 * self.n_messages / self.n_distributors))
        d_min = max(8, round(d_max * 0.3))
        pool = self.distributor_pool
        latest = SPAN - 11 * 86400  # leaves ten days for every forward to land in the window
        posts_of: dict[int, list[tuple[int, int, int]]] = {}  # account -> (t, chat, item)
        sources: list[tuple[int, int, int]] = []  # (t, item, author) for background forwards
        originator_of = {f: o for o, f in self.pair_idx}
        n = self.n_distributors
        for position, a in enumerate(self.distributor_idx):
            chats = self.accounts[a].chats
            if a in originator_of:
                o = originator_of[a]
                mine = []
                for t0, _c, k in posts_of[o]:
                    delay = round(math.exp(rng.uniform(math.log(3600), math.log(10 * 86400))))
                    mine.append((t0 + delay, rng.choice(chats), k))
                for t, c, k in mine:
                    self._post(c, t, KNOWN, a, k, o)
                    sources.append((t, k, o))
                posts_of[a] = mine
                distinct = len({k for _, _, k in mine})
                self.planted.append((distinct, len(mine), len(chats)))
                continue
            d = round(d_max - (d_max - d_min) * position / max(1, n - 1))
            items = rng.sample(pool, min(d, len(pool)))
            sessions = [_moment(rng, latest) for _ in range(max(2, d // 4))]
            mine = []
            for k in items:
                t = min(rng.choice(sessions) + rng.randrange(7200), latest)
                g = min(len(chats), rng.choices((1, 2, 3), (45, 35, 20))[0])
                for c in rng.sample(chats, g):
                    t += rng.randrange(20, 900)
                    mine.append((t, c, k))
            for t, c, k in mine:
                self._post(c, t, KNOWN, a, k, -1)
                sources.append((t, k, a))
            posts_of[a] = mine
            self.planted.append((len(items), len(mine), len(chats)))
        spam_posts = round(1.1 * max(p for _, p, _ in self.planted))
        other = list(self.other_pool)
        for j, a in enumerate(self.spammer_idx):
            k = other.pop()
            chats = [c for c in self.accounts[a].chats if self.chats[c].kind != CHANNEL]
            for _ in range(spam_posts + j):
                self._post(rng.choice(chats), _moment(rng), KNOWN, a, k, -1)
        self._background_known(sources, other)

    def _background_known(self, sources: list[tuple[int, int, int]], other: list[int]) -> None:
        """A few known posts by background accounts, most of them distributors' items."""
        rng = self.rng
        target = max(10, round(self.n_messages * 0.005))
        candidates = [
            a
            for a, acc in enumerate(self.accounts)
            if acc.role in ("background", "hard", "soft")
            and any(a in self.chats[c].posters for c in acc.chats)
        ]
        rng.shuffle(candidates)
        done = 0
        for a in candidates:
            if done >= target:
                break
            account = self.accounts[a]
            chats = [c for c in account.chats if a in self.chats[c].posters]
            for _ in range(min(target - done, rng.choice((1, 1, 1, 2, 2, 3)))):
                done += 1
                c = rng.choice(chats)
                t0, k, author = rng.choice(sources) if sources else (0, 0, -1)
                if sources and rng.random() < 0.8 and t0 < SPAN - 700:
                    t = min(
                        t0 + round(math.exp(rng.uniform(math.log(600), math.log(20 * 86400)))),
                        SPAN - 1,
                    )
                    # WhatsApp exports do not say a message was forwarded
                    self._post(c, t, KNOWN, a, k, author if account.platform == TELEGRAM else -1)
                else:
                    self._post(c, _moment(rng), KNOWN, a, rng.choice(other), -1)

    # -- the rest: chat, unknown pictures, joins -----------------------------------------

    def fill(self) -> None:
        rng = self.rng
        media = round(self.n_messages * 0.05)
        self.n_unknown = max(round(self.n_messages * 0.02), media - self.known_posts)
        eligible = [
            (c, a)
            for c, chat in enumerate(self.chats)
            if chat.kind != CHANNEL
            for a in chat.members
            if chat.roles[a] == "member"
        ]
        p = min(0.2, 0.02 * self.n_messages / max(1, len(eligible)))
        self.n_service = 0
        for c, a in eligible:
            if rng.random() < p:
                self.chats[c].joins.append(a)
                self.n_service += 1
        self.n_text = self.n_messages - self.known_posts - self.n_unknown - self.n_service
        if self.n_text < 0:
            raise ValueError(
                f"{self.n_messages} messages are fewer than the {self.known_posts} planted "
                "posts need: ask for more messages or fewer distributors"
            )
        weights = [chat.weight for chat in self.chats]
        for chat, n in zip(self.chats, _split(rng, self.n_text, weights), strict=True):
            chat.texts = n
        for chat, n in zip(self.chats, _split(rng, self.n_unknown, weights), strict=True):
            chat.unknowns = n
        self.meme_pool = max(20, self.n_unknown // 20)

    # -- writing -------------------------------------------------------------------------

    def write(self, store: Store) -> GroundTruth:
        with store.engine.begin() as conn:
            ids = _Ids(conn)
            self.ids = ids
            self._write_fixed(conn, ids)
            sink = _Sink(conn)
            self.acc_seen: list[tuple[int, int] | None] = [None] * len(self.accounts)
            self.member_seen: dict[tuple[int, int], tuple[int, int]] = {}
            self.joined: dict[tuple[int, int], tuple[int, str, int, int]] = {}
            self.items_per_chat: list[int] = []
            self.unknown_digests: dict[int, tuple[str, str, str, int]] = {}
            self.next_unknown = self.meme_pool
            self.account_base = ids.last[accounts_table.name]
            for c in range(len(self.chats)):
                self._write_chat(sink, ids, c)
            sink.flush()
            self._write_people(conn, ids)
            _insert(conn, scans_table, self._scans())
            if conn.dialect.name == "postgresql":
                for table in _Ids.TABLES:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                        )
                    )
        return self._truth(ids)

    def account_id(self, a: int) -> int:
        return self.account_base + a + 1

    def _write_fixed(self, conn: Connection, ids: _Ids) -> None:
        self.case_id = ids.next(cases_table)
        conn.execute(
            cases_table.insert(),
            [
                {
                    "id": self.case_id,
                    "name": f"Network state {self.seed} ({self.case_id})",
                    "description": "synthetic group exports (tests and benchmarks)",
                    "created_at": ADDED - timedelta(hours=2),
                }
            ],
        )
        self.set_id = ids.next(hash_sets_table)
        self.set_name = f"State reference {self.seed} ({self.set_id})"
        conn.execute(
            hash_sets_table.insert(),
            [
                {
                    "id": self.set_id,
                    "name": self.set_name,
                    "kind": "reference",
                    "source_agency": "Synthetic agency",
                    "version": "1",
                    "description": None,
                    "format_name": None,
                    "format_info": {},
                    "category_scheme": "projectvic",
                    "category_map": {},
                    "pdq_threshold": 31,
                    "video_threshold": None,
                    "active": True,
                    "created_at": START - timedelta(days=30),
                    "updated_at": START - timedelta(days=30),
                }
            ],
        )
        self.ref_ids = []
        refs = []
        for k, (md5, _sha1, _sha256, size) in enumerate(self.known_digests):
            ref_id = ids.next(reference_hashes_table)
            self.ref_ids.append(ref_id)
            refs.append(
                {
                    "id": ref_id,
                    "set_id": self.set_id,
                    "algorithm": "md5",
                    "value": md5,
                    "record_key": f"SYN-{self.seed}-{k:05d}",
                    "category": self.known_category[k],
                    "mime_type": "image/jpeg",
                    "media_size": size,
                }
            )
        _insert(conn, reference_hashes_table, refs)
        self.evidence_ids, self.scan_ids, self.chat_ids = [], [], []
        evidence, chats = [], []
        for c, chat in enumerate(self.chats):
            evidence_id, chat_id = ids.next(evidence_table), ids.next(chats_table)
            self.evidence_ids.append(evidence_id)
            self.scan_ids.append(ids.next(scans_table))
            self.chat_ids.append(chat_id)
            added = ADDED + timedelta(minutes=7 * c)
            evidence.append(
                {
                    "id": evidence_id,
                    "case_id": self.case_id,
                    "kind": f"{chat.platform} export",
                    "source_path": f"/evidence/state-{self.seed}/{chat.root}",
                    "root_locator": chat.root,
                    "added_at": added,
                }
            )
            stated = max(chat.stated, len(chat.members))
            chats.append(
                {
                    "id": chat_id,
                    "platform": chat.platform,
                    "chat_key": chat.chat_key,
                    "title": chat.title,
                    "kind": chat.kind,
                    "member_count": None if chat.kind == CHANNEL else stated,
                    "subscriber_count": stated if chat.kind == CHANNEL else None,
                    "first_ingested": added,
                    "last_ingested": added,
                }
            )
        _insert(conn, evidence_table, evidence)
        _insert(conn, chats_table, chats)

    def _picture(self, kind: int, media: int) -> tuple[str, str, str, int]:
        if kind == KNOWN:
            return self.known_digests[media]
        found = self.unknown_digests.get(media)
        if found is None:
            found = _digests(f"raksha-state/{self.seed}/other/{media}")
            self.unknown_digests[media] = found
        return found

    def _unknown(self) -> int:
        if self.rng.random() < 0.25:  # the same harmless pictures go round
            return self.rng.randrange(self.meme_pool)
        self.next_unknown += 1
        return self.next_unknown

    def _chat_posts(self, c: int) -> list[tuple[int, int, int, int, int, int, str]]:
        """Every message of chat ``c``: (t, kind, seq, sender, media or member, author, text)."""
        rng = self.rng
        chat = self.chats[c]
        posts = [
            (t, kind, i, a, m, au, cap) for i, (t, kind, a, m, au, cap) in enumerate(chat.planted)
        ]
        weights = [self.accounts[a].activity for a in chat.posters]
        seq = len(posts)
        n = chat.texts + chat.unknowns
        senders = rng.choices(chat.posters, weights, k=n) if n else []
        times = _moments(rng, n)
        texts = rng.choices(TEXTS, k=chat.texts)
        for j in range(n):
            if j < chat.texts:
                posts.append((times[j], TEXT, seq, senders[j], -1, -1, texts[j]))
            else:
                posts.append(
                    (times[j], UNKNOWN, seq, senders[j], self._unknown(), -1, rng.choice(CAPTIONS))
                )
            seq += 1
        first: dict[int, int] = {}
        for t, _kind, _s, a, _m, _au, _x in posts:
            if t < first.get(a, SPAN):
                first[a] = t
        hosts = [a for a in chat.members if chat.roles[a] in ("creator", "admin")]
        for a in chat.joins:
            t = rng.randrange(max(1, first.get(a, SPAN)))
            action = rng.choices(("join_by_link", "invite", "join"), (6, 3, 1))[0]
            sender = rng.choice(hosts) if action == "invite" and hosts else a
            posts.append((t, SERVICE, seq, sender, a, -1, "invite" if sender != a else action))
            seq += 1
        posts.sort()
        return posts

    def _write_chat(self, sink: _Sink, ids: _Ids, c: int) -> None:
        rng = self.rng
        chat = self.chats[c]
        chat_id, evidence_id, scan_id = self.chat_ids[c], self.evidence_ids[c], self.scan_ids[c]
        added = ADDED + timedelta(minutes=7 * c)
        key = rng.randrange(1, 5000)
        recent: list[str] = []
        photo = 0
        items = 0
        accounts = self.accounts
        for t, kind, _seq, a, media, author, body in self._chat_posts(c):
            mid = ids.next(messages_table)
            sent = START + timedelta(seconds=t)
            sender = accounts[a]
            if chat.platform == TELEGRAM:
                key += 1 if rng.random() < 0.97 else rng.randint(2, 5)  # deleted ones leave gaps
                message_key = str(key)
            else:
                message_key = content_key(chat.chat_key, mid, t, sender.external_id, body)
            row: dict[str, Any] = {
                "id": mid,
                "chat_id": chat_id,
                "message_key": message_key,
                "evidence_id": evidence_id,
                "account_id": self.account_id(a),
                "sent_at": sent,
                "text": body or None,
                "reply_to": None,
                "forwarded_from": None,
                "forwarded_from_id": None,
                "action": None,
                "edited": False,
                "deleted": False,
                "media_missing": False,
                "ingested_at": added,
            }
            if kind == SERVICE:
                row["text"] = None
                row["action"] = body
                self.joined[(c, media)] = (t, body, self.account_id(a), mid)
            elif kind == TEXT:
                if recent and rng.random() < 0.08:
                    row["reply_to"] = rng.choice(recent)
                row["edited"] = rng.random() < 0.03
            else:
                if author >= 0:
                    row["forwarded_from"] = accounts[author].name
                    row["forwarded_from_id"] = accounts[author].external_id
                photo += 1
                items += 1
                locator = chain_locator(chat.root, f"photos/p{photo}.jpg")
                lkey = locator_key(locator)
                md5, sha1, sha256, size = self._picture(kind, media)
                item_id = ids.next(items_table)
                sink.add(
                    message_media_table,
                    {
                        "id": ids.next(message_media_table),
                        "message_id": mid,
                        "position": 0,
                        "evidence_id": evidence_id,
                        "kind": "photo",
                        "locator": locator,
                        "locator_key": lkey,
                        "file_name": f"p{photo}.jpg",
                        "mime_type": "image/jpeg",
                        "size": size,
                    },
                )
                sink.add(
                    items_table,
                    {
                        "id": item_id,
                        "evidence_id": evidence_id,
                        "scan_id": scan_id,
                        "locator": locator,
                        "locator_key": lkey,
                        "kind": "file",
                        "size": size,
                        "modified": sent,
                        "file_type": "jpeg",
                        "md5": md5,
                        "sha1": sha1,
                        "sha256": sha256,
                        "status": "hashed",
                    },
                )
                if kind == KNOWN:
                    category = self.known_category[media]
                    sink.add(
                        item_matches_table,
                        {
                            "id": ids.next(item_matches_table),
                            "item_id": item_id,
                            "ref_id": self.ref_ids[media],
                            "set_name": self.set_name,
                            "set_kind": "reference",
                            "algorithm": "md5",
                            "match_kind": "exact",
                            "distance": 0,
                            "variant": None,
                            "ref_value": md5,
                            "record_key": f"SYN-{self.seed}-{media:05d}",
                            "category": category,
                            "category_label": CATEGORY_LABELS[category],
                            "review_state": "new",
                        },
                    )
            sink.add(messages_table, row)
            recent.append(message_key)
            if len(recent) > 50:
                recent.pop(0)
            seen = self.acc_seen[a]
            self.acc_seen[a] = (t, t) if seen is None else (min(seen[0], t), max(seen[1], t))
            was = self.member_seen.get((c, a))
            self.member_seen[(c, a)] = (t, t) if was is None else (min(was[0], t), t)
        # the export's own file, scanned like the pictures
        name = "result.json" if chat.platform == TELEGRAM else "_chat.txt"
        locator = chain_locator(chat.root, name)
        md5, sha1, sha256, size = _digests(f"raksha-state/{self.seed}/export/{c}")
        sink.add(
            items_table,
            {
                "id": ids.next(items_table),
                "evidence_id": evidence_id,
                "scan_id": scan_id,
                "locator": locator,
                "locator_key": locator_key(locator),
                "kind": "file",
                "size": size,
                "modified": added,
                "file_type": None,
                "md5": md5,
                "sha1": sha1,
                "sha256": sha256,
                "status": "hashed",
            },
        )
        self.items_per_chat.append(items + 1)

    def _write_people(self, conn: Connection, ids: _Ids) -> None:
        def first(seen: tuple[int, int] | None) -> datetime | None:
            return None if seen is None else START + timedelta(seconds=seen[0])

        def last(seen: tuple[int, int] | None) -> datetime | None:
            return None if seen is None else START + timedelta(seconds=seen[1])

        def account_rows() -> Iterator[dict[str, Any]]:
            for a, acc in enumerate(self.accounts):
                seen = self.acc_seen[a]
                yield {
                    "id": ids.next(accounts_table),
                    "platform": acc.platform,
                    "id_kind": acc.id_kind,
                    "external_id": acc.external_id,
                    "scope": "",
                    "display_name": acc.name,
                    "first_seen": first(seen),
                    "last_seen": last(seen),
                }

        _insert(conn, accounts_table, account_rows())
        events: list[dict[str, Any]] = []

        def member_rows() -> Iterator[dict[str, Any]]:
            for c, chat in enumerate(self.chats):
                for a in chat.members:
                    seen = self.member_seen.get((c, a))
                    joined = self.joined.get((c, a))
                    row = {
                        "id": ids.next(chat_members_table),
                        "chat_id": self.chat_ids[c],
                        "account_id": self.account_id(a),
                        "role": chat.roles[a],
                        "how": None,
                        "invited_by": None,
                        "joined_at": None,
                        "left_at": None,
                        "first_seen": first(seen),
                        "last_seen": last(seen),
                    }
                    if joined is not None:
                        t, action, actor, mid = joined
                        row["how"] = action
                        row["invited_by"] = actor if action == "invite" else None
                        row["joined_at"] = START + timedelta(seconds=t)
                        events.append(
                            {
                                "id": ids.next(membership_events_table),
                                "chat_id": self.chat_ids[c],
                                "message_id": mid,
                                "account_id": self.account_id(a),
                                "actor_id": actor,
                                "action": action,
                                "at": START + timedelta(seconds=t),
                            }
                        )
                    yield row

        _insert(conn, chat_members_table, member_rows())
        _insert(conn, membership_events_table, events)

    def _scans(self) -> Iterator[dict[str, Any]]:
        for c, scan_id in enumerate(self.scan_ids):
            added = ADDED + timedelta(minutes=7 * c)
            yield {
                "id": scan_id,
                "evidence_id": self.evidence_ids[c],
                "started_at": added,
                "finished_at": added + timedelta(minutes=3),
                "status": "completed",
                "workers": 2,
                "options": {},
                "counts": {"files": self.items_per_chat[c]},
            }

    def _truth(self, ids: _Ids) -> GroundTruth:
        aid = self.account_id
        counts = {t.name: ids.written(t) for t in _Ids.TABLES}
        counts.update(
            known_posts=self.known_posts,
            unknown_posts=self.n_unknown,
            text_messages=self.n_text,
            service_messages=self.n_service,
        )
        return GroundTruth(
            seed=self.seed,
            case_id=self.case_id,
            hash_set_id=self.set_id,
            distributors=tuple(aid(a) for a in self.distributor_idx),
            planted=tuple(
                PlantedDistributor(aid(a), role, distinct, posts, groups)
                for a, role, (distinct, posts, groups) in zip(
                    self.distributor_idx, self.roles, self.planted, strict=True
                )
            ),
            pairs=tuple((aid(o), aid(f)) for o, f in self.pair_idx),
            spammers=tuple(aid(a) for a in self.spammer_idx),
            hard_pairs=tuple((aid(t), aid(w)) for t, w in self.hard_idx),
            soft_pairs=tuple((aid(t), aid(w)) for t, w in self.soft_idx),
            counts=counts,
        )


def build_state(
    store: Store,
    *,
    groups: int = 50,
    accounts: int = 5000,
    messages: int = 200_000,
    seed: int = 1,
    distributors: int = 20,
    spammers: int | None = None,
    hard_pairs: int = 50,
    soft_pairs: int = 20,
    known_items: int = 2000,
) -> GroundTruth:
    """Write a synthetic network into ``store`` (one transaction) and say what was planted.

    ``groups`` chats (a fifth of them WhatsApp groups, the rest Telegram channels and
    supergroups), ``accounts`` accounts in all (the planted ones included), exactly
    ``messages`` messages (posts and join notices), ``distributors`` planted distributors
    (a quarter of them originator/forwarder pairs) and ``spammers`` (default: one per five
    distributors). A store holds one state (account and chat keys would collide).
    """
    builder = _Builder(
        groups=groups,
        accounts=accounts,
        messages=messages,
        seed=seed,
        distributors=distributors,
        spammers=spammers,
        hard_pairs=hard_pairs,
        soft_pairs=soft_pairs,
        known_items=known_items,
    )
    builder.known()
    builder.make_chats()
    builder.make_accounts()
    builder.memberships()
    builder.plant()
    builder.fill()
    return builder.write(store)
