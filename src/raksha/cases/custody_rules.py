"""The rules a chain of custody is judged by: its actions, their order, and what is a gap.

Pure functions over events (mappings with ``action``, ``at``, ``by_whom``, ``to_whom`` and
``verification``), so the flags stored when an event is recorded and the flags a
timeline recomputes over the whole chain come from the same code, and a test can state
each rule on plain data. Each flag is one sentence that starts with the name of its rule
(``"handover gap: …"``), so a report or the web console can group them.

An exhibit passes these stages once each, in this order: seized, sealed, received at
lab, imaged, analysed, produced in court. A transfer or a return to the store may come
between any two of them, and being produced in court may repeat (one hearing after
another). The chain is the order events were recorded in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from raksha.cases.reverify import MISMATCH, UNREADABLE
from raksha.errors import UsageError

SEIZED = "seized"
SEALED = "sealed"
TRANSFERRED = "transferred"
RECEIVED = "received at lab"
IMAGED = "imaged"
ANALYSED = "analysed"
RETURNED = "returned to store"
PRODUCED = "produced in court"

#: Every action, in the order a complete chain usually has them.
ACTIONS: tuple[str, ...] = (
    SEIZED,
    SEALED,
    TRANSFERRED,
    RECEIVED,
    IMAGED,
    ANALYSED,
    RETURNED,
    PRODUCED,
)
#: The stages an exhibit passes once each, in order.
STAGES: tuple[str, ...] = (SEIZED, SEALED, RECEIVED, IMAGED, ANALYSED, PRODUCED)
#: Actions that may happen any number of times.
REPEATABLE: frozenset[str] = frozenset({TRANSFERRED, RETURNED, PRODUCED})

_ALIASES: dict[str, str] = {
    "seize": SEIZED,
    "seizure": SEIZED,
    "seal": SEALED,
    "transfer": TRANSFERRED,
    "handed over": TRANSFERRED,
    "handover": TRANSFERRED,
    "received": RECEIVED,
    "receive": RECEIVED,
    "received at the lab": RECEIVED,
    "lab": RECEIVED,
    "image": IMAGED,
    "imaging": IMAGED,
    "analyse": ANALYSED,
    "analyze": ANALYSED,
    "analyzed": ANALYSED,
    "analysis": ANALYSED,
    "returned": RETURNED,
    "return": RETURNED,
    "returned to the store": RETURNED,
    "store": RETURNED,
    "produced": PRODUCED,
    "produce": PRODUCED,
    "court": PRODUCED,
    "produced in the court": PRODUCED,
}

MISMATCH_RULE = "mismatch"
UNREADABLE_RULE = "unreadable"
FIRST_EVENT_RULE = "first event"
ORDER_RULE = "out of order"
HANDOVER_RULE = "handover gap"
BACKWARDS_RULE = "time backwards"
SILENCE_RULE = "silence"
#: The name every flag starts with, one per rule.
FLAG_RULES: tuple[str, ...] = (
    MISMATCH_RULE,
    UNREADABLE_RULE,
    FIRST_EVENT_RULE,
    ORDER_RULE,
    HANDOVER_RULE,
    BACKWARDS_RULE,
    SILENCE_RULE,
)

#: Days between two events, with the exhibit out of the store, that count as a silence.
DEFAULT_SILENCE_DAYS = 30


def normalise_action(text: str) -> str:
    """The canonical action for what was typed (``"received"`` is ``"received at lab"``)."""
    key = " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())
    if key in ACTIONS:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    raise UsageError(
        f"{text!r} is not a custody action; use one of: {', '.join(ACTIONS)} "
        "(quote the ones with spaces)"
    )


def flag_rule(flag: str) -> str:
    """The rule a flag belongs to (its text up to the first colon)."""
    return flag.partition(":")[0]


def utc(value: datetime | str) -> datetime:
    """A time as an aware UTC datetime (SQLite hands back UTC times without a zone; a
    timeline carries ISO 8601 text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def same_person(a: str | None, b: str | None) -> bool:
    """Names compared the way people write them: ignoring case and extra spaces."""
    if a is None or b is None:
        return False
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _hashes(values: Mapping[str, str] | None) -> str:
    if not values:
        return "nothing"
    return ", ".join(f"{k} {v}" for k, v in values.items())


def _verification_flags(event: Mapping[str, Any]) -> list[str]:
    flags: list[str] = []
    for check in event.get("verification") or []:
        where = f"evidence {check['evidence_id']} ({check.get('source_path') or '?'})"
        if check.get("result") == MISMATCH:
            flags.append(
                f"{MISMATCH_RULE}: {where} does not match its recorded hashes: expected "
                f"{_hashes(check.get('expected'))}, found {_hashes(check.get('observed'))}"
            )
        elif check.get("result") == UNREADABLE:
            flags.append(
                f"{UNREADABLE_RULE}: {where} could not be read back to verify it: "
                f"{check.get('detail') or 'no reason given'}"
            )
    return flags


class _Walk:
    """What the events so far established: stages reached, who holds the exhibit."""

    def __init__(self, silence_days: int) -> None:
        self.silence = timedelta(days=silence_days)
        self.silence_days = silence_days
        self.done: set[str] = set()
        self.highest = -1
        self.last_transferee: str | None = None
        self.prev: Mapping[str, Any] | None = None

    def order(self, action: str) -> str | None:
        if action not in STAGES:
            return None
        rank = STAGES.index(action)
        if rank < self.highest:
            return f"{ORDER_RULE}: {action!r} after {STAGES[self.highest]!r}"
        if action in self.done and action not in REPEATABLE:
            return (
                f"{ORDER_RULE}: {action!r} again; only transferred, returned to store and "
                "produced in court may repeat"
            )
        # A chain without its "seized" is the first-event rule's to report, not this one's.
        missing = [s for s in STAGES[1:rank] if s not in self.done]
        if missing:
            return f"{ORDER_RULE}: {action!r} before {missing[0]!r}"
        return None

    def handover(self, event: Mapping[str, Any]) -> str | None:
        by = event.get("by_whom")
        prev = self.prev
        if prev is not None and prev["action"] == TRANSFERRED:
            to = prev.get("to_whom")
            if not to:
                return f"{HANDOVER_RULE}: the transfer before this names no one it went to"
            if not same_person(by, to):
                return f"{HANDOVER_RULE}: transferred to {to}, but this event is by {by}"
            return None
        if (
            event["action"] == RECEIVED
            and self.last_transferee is not None
            and not same_person(by, self.last_transferee)
        ):
            return (
                f"{HANDOVER_RULE}: received by {by}, but the exhibit was last "
                f"transferred to {self.last_transferee}"
            )
        return None

    def timing(self, event: Mapping[str, Any]) -> list[str]:
        prev = self.prev
        if prev is None:
            return []
        at, before = utc(event["at"]), utc(prev["at"])
        if at < before:
            return [
                f"{BACKWARDS_RULE}: {at.isoformat()} is earlier than the event before it "
                f"({prev['action']!r} at {before.isoformat()})"
            ]
        if prev["action"] != RETURNED and at - before > self.silence:
            days = (at - before).days
            return [
                f"{SILENCE_RULE}: {days} days without an event after {prev['action']!r} on "
                f"{before.date().isoformat()}, while the exhibit was out of the store "
                f"(more than {self.silence_days})"
            ]
        return []

    def advance(self, event: Mapping[str, Any]) -> None:
        action = event["action"]
        if action in STAGES:
            self.done.add(action)
            self.highest = max(self.highest, STAGES.index(action))
        if action == TRANSFERRED:
            self.last_transferee = event.get("to_whom") or None
        self.prev = event


def chain_flags(
    events: Sequence[Mapping[str, Any]], *, silence_days: int = DEFAULT_SILENCE_DAYS
) -> list[list[str]]:
    """The flags of each event, judged against the events recorded before it.

    The rules: a re-verified hash that does not match, or an image that could not be read
    back; a first event other than "seized"; a stage out of order (before one it needs,
    after a later one, or a second time); a handover gap (the event after a transfer is by
    someone other than the person it was transferred to, or "received at lab" by someone
    other than the last transferee); a time earlier than the event before; and a silence
    of more than ``silence_days`` between two events while the exhibit was not in the
    store.
    """
    walk = _Walk(silence_days)
    out: list[list[str]] = []
    for i, event in enumerate(events):
        flags = _verification_flags(event)
        if i == 0 and event["action"] != SEIZED:
            flags.append(
                f"{FIRST_EVENT_RULE}: the chain starts with {event['action']!r}, not 'seized'"
            )
        for found in (walk.order(event["action"]), walk.handover(event)):
            if found is not None:
                flags.append(found)
        flags.extend(walk.timing(event))
        walk.advance(event)
        out.append(flags)
    return out


def chain_status(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``ok`` or ``flagged`` for a timeline (events carrying ``flags``), with the reasons.

    Each reason names the event by its place in the chain, its action and its date.
    """
    reasons: list[str] = []
    for i, event in enumerate(events, start=1):
        when = utc(event["at"]).date().isoformat()
        for flag in event.get("flags") or []:
            reasons.append(f"event {i} ({event['action']}, {when}): {flag}")
    return {"status": "flagged" if reasons else "ok", "events": len(events), "reasons": reasons}
