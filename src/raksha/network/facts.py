"""The facts the offender network is ranked on, as plain values.

Ranking code sees only these records, never SQL: one :class:`PostFact` per post of a
known item (a message whose attachment matched a reference set), one :class:`ChatFact`
per group, one :class:`Corroboration` per person with outside confirmation (referrals
naming one of their accounts, seized devices holding them). ``raksha.network.queries``
reads them from the store; tests and benchmarks can build them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True, frozen=True)
class PostFact:
    """One post of a known item by an account (and the person it belongs to)."""

    person_id: int
    account_id: int
    chat_id: int
    message_id: int
    sent_at: datetime | None
    item: str  # the item's SHA-256: the same picture posted twice is one distinct item
    category: str | None  # the reference set's category label for it ("1", "A", ...)
    forwarded: bool  # the post says it was forwarded from elsewhere


@dataclass(slots=True, frozen=True)
class ChatFact:
    """A group or channel: its size and how much of what is posted there is known."""

    chat_id: int
    title: str | None
    kind: str
    members: int  # stated member/subscriber count, else members seen
    messages: int
    known_posts: int


@dataclass(slots=True, frozen=True)
class Corroboration:
    """Confirmation from outside the chats: referrals naming the person, devices seized."""

    person_id: int
    referrals: int = 0
    devices: int = 0
