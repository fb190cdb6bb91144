"""Accounts become people: automatically on hard identifiers, by analysts on judgement.

* **Automatic** (:func:`resolve`): every account gets a person; accounts are joined when
  they share a hard identifier — the same E.164 phone number (a WhatsApp number that is
  also a Telegram account's number), or one reported account in a referral that names
  them both by platform id or phone. Each join is an identity decision by ``raksha``
  with the identifier as its reason.
* **Suggested** (:func:`suggestions`): soft identifiers — the same display name on two
  platforms or in two groups, a referral screen name matching a display name, the same
  profile photo by PDQ, a referral's email address that spells an account's name — are
  listed for an analyst, never joined.
* **By an analyst** (:func:`merge`, :func:`split`, :func:`undo`): each with who and why,
  written to ``identity_decisions`` with what it changed, so it can be reversed. An
  account an analyst placed is never moved by automatic resolution afterwards.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from raksha.errors import NotFoundError, UsageError
from raksha.store.case_models import (
    case_accused_table,
    evidence_accounts_table,
    raid_targets_table,
    seizures_table,
)
from raksha.store.chat_models import accounts_table
from raksha.store.db import Store
from raksha.store.intel_models import referral_accounts_table, referral_links_table
from raksha.store.models import evidence_table, items_table, utcnow
from raksha.store.network_models import (
    account_photos_table,
    identity_decisions_table,
    people_table,
    person_accounts_table,
)

logger = logging.getLogger(__name__)

AUTOMATIC = "raksha"
HARD_LINK_BASES = ("user_id", "phone")
ANALYST = "analyst"

PA, PT, DT, AT = person_accounts_table, people_table, identity_decisions_table, accounts_table


@dataclass(slots=True)
class ResolveReport:
    new_people: int = 0
    merges: int = 0
    accounts_moved: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "new_people": self.new_people,
            "merges": self.merges,
            "accounts_moved": self.accounts_moved,
        }


@dataclass(slots=True, frozen=True)
class Suggestion:
    person_id: int
    other_person_id: int
    reason: str


class _Union:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.why: dict[int, str] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(x, x) != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def join(self, a: int, b: int, why: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            low, high = min(ra, rb), max(ra, rb)
            self.parent[high] = low
            self.why.setdefault(high, why)


def _ensure_people(conn: Connection, report: ResolveReport) -> None:
    """One person for every account that has none yet (its own, basis ``own``).

    People are inserted in batches and matched back to their accounts by a label made
    unique for the batch, so 50,000 new accounts cost a few statements, not 50,000.
    """
    missing = conn.execute(
        select(AT.c.id, AT.c.display_name, AT.c.external_id)
        .where(AT.c.id.not_in(select(PA.c.account_id)))
        .order_by(AT.c.id)
    ).all()
    now = utcnow()
    for start in range(0, len(missing), 5000):
        part = missing[start : start + 5000]
        tag = f"~raksha-new-{uuid.uuid4().hex}-"
        conn.execute(
            insert(PT),
            [{"label": f"{tag}{account_id}", "created_at": now} for account_id, _, _ in part],
        )
        made = dict(
            conn.execute(select(PT.c.label, PT.c.id).where(PT.c.label.like(f"{tag}%"))).all()
        )
        conn.execute(
            insert(PA),
            [
                {"person_id": made[f"{tag}{account_id}"], "account_id": account_id, "basis": "own"}
                for account_id, _, _ in part
            ],
        )
        conn.execute(
            update(PT).where(PT.c.id == bindparam("pid")).values(label=bindparam("new_label")),
            [
                {"pid": made[f"{tag}{account_id}"], "new_label": (name or external_id)[:300]}
                for account_id, name, external_id in part
            ],
        )
        report.new_people += len(part)


def _hard_pairs(conn: Connection) -> list[tuple[int, int, str]]:
    """(account, account, why) for every pair tied by a hard identifier."""
    pairs: list[tuple[int, int, str]] = []
    by_phone: dict[str, list[int]] = {}
    for account_id, phone in conn.execute(
        select(AT.c.id, AT.c.external_id).where(AT.c.id_kind == "phone")
    ):
        by_phone.setdefault(phone, []).append(account_id)
    for phone, ids in by_phone.items():
        pairs.extend((ids[0], other, f"same phone number {phone}") for other in ids[1:])
    rl = referral_links_table
    by_reported: dict[int, list[int]] = {}
    for reported, account_id in conn.execute(
        select(rl.c.referral_account_id, rl.c.account_id).where(rl.c.basis.in_(HARD_LINK_BASES))
    ):
        by_reported.setdefault(reported, []).append(account_id)
    for reported, ids in by_reported.items():
        unique = sorted(set(ids))
        pairs.extend(
            (unique[0], other, f"one reported account in a referral (#{reported}) names both")
            for other in unique[1:]
        )
    return pairs


def _device_ties(conn: Connection) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """Hard ties from evidence's own accounts (the account an export was made from).

    Returns (account, account, why) pairs — two accounts found on one seized device, an
    export's stated phone number and the account with that number — and
    (account, person, why) ties — an account found on a device seized from a person.
    """
    ea, ev, sz = evidence_accounts_table, evidence_table, seizures_table
    rows = conn.execute(
        select(
            ea.c.account_id,
            ea.c.phone,
            sz.c.id,
            sz.c.seal_label,
            sz.c.seized_from_person_id,
            sz.c.seized_from,
        )
        .select_from(
            ea.join(ev, ev.c.id == ea.c.evidence_id).outerjoin(sz, sz.c.id == ev.c.seizure_id)
        )
        .order_by(ea.c.account_id)
    ).all()
    pairs: list[tuple[int, int, str]] = []
    to_person: list[tuple[int, int, str]] = []
    phones = {r[1] for r in rows if r[1]}
    by_phone: dict[str, list[int]] = {}
    if phones:
        for account_id, phone in conn.execute(
            select(AT.c.id, AT.c.external_id).where(
                AT.c.id_kind == "phone", AT.c.external_id.in_(sorted(phones))
            )
        ):
            by_phone.setdefault(phone, []).append(account_id)
    on_device: dict[int, list[int]] = {}
    for account_id, phone, seizure_id, seal, person_id, seized_from in rows:
        for other in by_phone.get(phone or "", []):
            if other != account_id:
                pairs.append((account_id, other, f"its own export states phone number {phone}"))
        if seizure_id is None:
            continue
        on_device.setdefault(seizure_id, []).append(account_id)
        if person_id is not None:
            owner = f", seized from {seized_from}" if seized_from else ""
            to_person.append((account_id, person_id, f"found on seized device {seal}{owner}"))
    seals = dict(conn.execute(select(sz.c.id, sz.c.seal_label)).all()) if on_device else {}
    for seizure_id, ids in on_device.items():
        unique = sorted(set(ids))
        pairs.extend(
            (unique[0], other, f"both found on seized device {seals.get(seizure_id)}")
            for other in unique[1:]
        )
    return pairs, to_person


def resolve(store: Store) -> ResolveReport:
    """Give every account a person and join people on hard identifiers (idempotent)."""
    report = ResolveReport()
    with store.engine.begin() as conn:
        _ensure_people(conn, report)
        person_of = dict(conn.execute(select(PA.c.account_id, PA.c.person_id)).all())
        pinned = set(conn.execute(select(PA.c.account_id).where(PA.c.basis == ANALYST)).scalars())
        union = _Union()
        device_pairs, device_people = _device_ties(conn)
        for a, b, why in _hard_pairs(conn) + device_pairs:
            if a in pinned or b in pinned:
                continue  # an analyst decided where these belong
            union.join(person_of[a], person_of[b], why)
        existing = set(conn.execute(select(PT.c.id)).scalars())
        for a, person, why in device_people:
            if a not in pinned and person in existing:
                union.join(person_of[a], person, why)
        groups: dict[int, list[int]] = {}
        for person in set(person_of.values()) | {p for _, p, _ in device_people}:
            root = union.find(person)
            if root != person:
                groups.setdefault(root, []).append(person)
        for into, others in sorted(groups.items()):
            for other in sorted(others):
                moved = _move_all(conn, other, into, basis="hard", decision=None)
                reason = union.why.get(other) or union.why.get(union.find(other), "")
                _decide(
                    conn,
                    AUTOMATIC,
                    "merge",
                    into,
                    other,
                    [a for a, _, _ in moved],
                    reason or "a hard identifier",
                    {"moves": moved},
                    automatic=True,
                )
                report.merges += 1
                report.accounts_moved += len(moved)
    return report


def _move_all(
    conn: Connection, source: int, target: int, *, basis: str, decision: int | None
) -> list[tuple[int, int, str]]:
    rows = conn.execute(select(PA.c.account_id, PA.c.basis).where(PA.c.person_id == source)).all()
    conn.execute(
        update(PA)
        .where(PA.c.person_id == source)
        .values(person_id=target, basis=basis, decision_id=decision)
    )
    _repoint_person(conn, source, target)
    conn.execute(delete(PT).where(PT.c.id == source))
    return [(account, source, old) for account, old in rows]


def _repoint_person(conn: Connection, source: int, target: int) -> None:
    """What names the merged-away person (seizures, raid targets, accused) now names the
    person it was merged into, so a merge never loses a device's owner or an accused."""
    conn.execute(
        update(seizures_table)
        .where(seizures_table.c.seized_from_person_id == source)
        .values(seized_from_person_id=target)
    )
    conn.execute(
        update(raid_targets_table)
        .where(raid_targets_table.c.person_id == source)
        .values(person_id=target)
    )
    ca = case_accused_table
    already = select(ca.c.case_id).where(ca.c.person_id == target).scalar_subquery()
    conn.execute(delete(ca).where(ca.c.person_id == source, ca.c.case_id.in_(already)))
    conn.execute(update(ca).where(ca.c.person_id == source).values(person_id=target))


def _decide(
    conn: Connection,
    actor: str,
    action: str,
    person: int | None,
    other: int | None,
    accounts: list[int],
    reason: str,
    before: dict[str, Any],
    *,
    automatic: bool = False,
) -> int:
    return int(
        conn.execute(
            insert(DT).values(
                at=utcnow(),
                actor=actor,
                action=action,
                automatic=automatic,
                person_id=person,
                other_person_id=other,
                account_ids=accounts,
                reason=reason,
                before=before,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )


def _need_reason(actor: str, reason: str) -> None:
    if not actor.strip() or not reason.strip():
        raise UsageError("an identity decision needs who makes it (--by) and why (--reason)")


def _person_exists(conn: Connection, person_id: int) -> None:
    if conn.execute(select(PT.c.id).where(PT.c.id == person_id)).first() is None:
        raise NotFoundError(f"no person #{person_id}; `raksha suspects` lists them")


def merge(store: Store, person_id: int, other_id: int, *, actor: str, reason: str) -> int:
    """Move every account of ``other_id`` to ``person_id``; returns the decision's id."""
    _need_reason(actor, reason)
    if person_id == other_id:
        raise UsageError("a person cannot be merged with itself")
    with store.engine.begin() as conn:
        _person_exists(conn, person_id)
        _person_exists(conn, other_id)
        moved = _move_all(conn, other_id, person_id, basis=ANALYST, decision=None)
        decision = _decide(
            conn,
            actor,
            "merge",
            person_id,
            other_id,
            [a for a, _, _ in moved],
            reason,
            {"moves": moved},
        )
        conn.execute(update(PA).where(PA.c.person_id == person_id).values(decision_id=decision))
    return decision


def split(
    store: Store, person_id: int, account_ids: list[int], *, actor: str, reason: str
) -> tuple[int, int]:
    """Move ``account_ids`` of a person to a new person; returns (decision, new person)."""
    _need_reason(actor, reason)
    with store.engine.begin() as conn:
        _person_exists(conn, person_id)
        owned = dict(
            conn.execute(
                select(PA.c.account_id, PA.c.basis).where(PA.c.person_id == person_id)
            ).all()
        )
        wrong = sorted(set(account_ids) - set(owned))
        if wrong:
            raise UsageError(f"accounts {wrong} are not person #{person_id}'s")
        if len(set(account_ids)) >= len(owned):
            raise UsageError("a split leaves at least one account with the person")
        label = conn.execute(select(AT.c.display_name).where(AT.c.id == account_ids[0])).scalar()
        new_person = int(
            conn.execute(insert(PT).values(label=label, created_at=utcnow())).inserted_primary_key[
                0
            ]  # type: ignore[index]
        )
        moves = [(a, person_id, owned[a]) for a in account_ids]
        decision = _decide(
            conn,
            actor,
            "split",
            person_id,
            new_person,
            list(account_ids),
            reason,
            {"moves": moves, "new_person": new_person},
        )
        conn.execute(
            update(PA)
            .where(PA.c.account_id.in_(account_ids))
            .values(person_id=new_person, basis=ANALYST, decision_id=decision)
        )
        # What stays is also the analyst's decision now: automation must not rejoin them.
        conn.execute(update(PA).where(PA.c.person_id == person_id).values(basis=ANALYST))
    return decision, new_person


def undo(store: Store, decision_id: int, *, actor: str, reason: str) -> int:
    """Reverse a merge or split (the accounts go back where they were); audited too."""
    _need_reason(actor, reason)
    with store.engine.begin() as conn:
        row = conn.execute(select(DT).where(DT.c.id == decision_id)).first()
        if row is None:
            raise NotFoundError(f"no identity decision #{decision_id}")
        if row.undone_by is not None or row.action == "undo":
            raise UsageError(
                f"decision #{decision_id} cannot be undone (already undone, or an undo)"
            )
        moves = (row.before or {}).get("moves", [])
        for account, old_person, old_basis in moves:
            exists = conn.execute(select(PT.c.id).where(PT.c.id == old_person)).first()
            if exists is None:
                conn.execute(insert(PT).values(id=old_person, created_at=utcnow()))
            conn.execute(
                update(PA)
                .where(PA.c.account_id == account)
                .values(person_id=old_person, basis=old_basis if old_basis != "hard" else ANALYST)
            )
        if row.action == "split" and row.other_person_id is not None:
            left = conn.execute(
                select(func.count()).select_from(PA).where(PA.c.person_id == row.other_person_id)
            ).scalar_one()
            if not left:
                conn.execute(delete(PT).where(PT.c.id == row.other_person_id))
        undo_id = _decide(
            conn,
            actor,
            "undo",
            row.person_id,
            row.other_person_id,
            list(row.account_ids),
            reason,
            {"undoes": decision_id},
        )
        conn.execute(update(DT).where(DT.c.id == decision_id).values(undone_by=undo_id))
    return undo_id


def suggestions(store: Store, limit: int = 200) -> list[Suggestion]:
    """People who may be one, on soft identifiers; for an analyst to decide."""
    out: list[Suggestion] = []
    seen: set[tuple[int, int]] = set()
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(PA.c.person_id, AT.c.display_name, AT.c.platform)
            .join(AT, AT.c.id == PA.c.account_id)
            .where(AT.c.display_name.is_not(None))
        ).all()
        by_name: dict[str, set[tuple[int, str]]] = {}
        for person, name, platform in rows:
            key = "".join(ch for ch in name.casefold() if ch.isalnum())
            if len(key) >= 4 and not key.isdigit():
                by_name.setdefault(key, set()).add((person, platform))
        for key, members in sorted(by_name.items()):
            people = sorted({p for p, _ in members})
            for other in people[1:]:
                pair = (people[0], other)
                if pair not in seen:
                    seen.add(pair)
                    out.append(Suggestion(pair[0], pair[1], f"same display name ({key})"))
        rl = referral_links_table
        soft = conn.execute(
            select(rl.c.referral_account_id, PA.c.person_id)
            .join(PA, PA.c.account_id == rl.c.account_id)
            .where(rl.c.basis.not_in(HARD_LINK_BASES))
        ).all()
        by_reported: dict[int, set[int]] = {}
        for reported, person in soft:
            by_reported.setdefault(reported, set()).add(person)
        for reported, people_set in by_reported.items():
            people = sorted(people_set)
            for other in people[1:]:
                pair = (people[0], other)
                if pair not in seen:
                    seen.add(pair)
                    out.append(
                        Suggestion(pair[0], pair[1], f"a referral's screen name (#{reported})")
                    )
        for a, b, reason in _photo_pairs(conn) + _email_pairs(conn):
            pair = (min(a, b), max(a, b))
            if a != b and pair not in seen:
                seen.add(pair)
                out.append(Suggestion(pair[0], pair[1], reason))
    return out[:limit]


#: Two profile photos this close (PDQ bits) are suggested as the same photo; PDQ's own
#: match threshold, as for reference sets. Low-quality hashes (flat images) are left out.
PHOTO_DISTANCE = 31
PHOTO_MIN_QUALITY = 50


def _photo_pairs(conn: Connection) -> list[tuple[int, int, str]]:
    """(person, person, why) for accounts of two people whose profile photos match by PDQ."""
    ap, it = account_photos_table, items_table
    rows = conn.execute(
        select(PA.c.person_id, it.c.pdq, it.c.locator)
        .select_from(ap)
        .join(PA, PA.c.account_id == ap.c.account_id)
        .join(it, (it.c.evidence_id == ap.c.evidence_id) & (it.c.locator_key == ap.c.locator_key))
        .where(it.c.pdq.is_not(None), it.c.pdq_quality >= PHOTO_MIN_QUALITY)
        .order_by(PA.c.person_id, it.c.id)
    ).all()
    photos = [(int(person), int(pdq, 16), locator) for person, pdq, locator in rows]
    pairs: list[tuple[int, int, str]] = []
    for i, (person, value, locator) in enumerate(photos):
        for other, other_value, other_locator in photos[i + 1 :]:
            if other == person:
                continue
            distance = (value ^ other_value).bit_count()
            if distance <= PHOTO_DISTANCE:
                pairs.append(
                    (
                        person,
                        other,
                        f"same profile photo (PDQ distance {distance}: {locator} and "
                        f"{other_locator})",
                    )
                )
    return pairs


def _letters(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalpha())


def _email_pairs(conn: Connection) -> list[tuple[int, int, str]]:
    """(person, person, why) when a referral's email address spells an account's name.

    ``kiran.trader99@example.com`` and the display name "Kiran Trader" share the letters
    ``kirantrader``: a username pattern, which people reuse across services, but common
    names collide, so it is only ever a suggestion (and needs 6 letters or more).
    """
    ra, rl = referral_accounts_table, referral_links_table
    reported: dict[str, set[int]] = {}
    for reported_id, emails in conn.execute(select(ra.c.id, ra.c.emails)):
        for email in emails or []:
            key = _letters(str(email).partition("@")[0])
            if len(key) >= 6:
                reported.setdefault(key, set()).add(int(reported_id))
    if not reported:
        return []
    linked: dict[int, set[int]] = {}
    for reported_id, person in conn.execute(
        select(rl.c.referral_account_id, PA.c.person_id).join(
            PA, PA.c.account_id == rl.c.account_id
        )
    ):
        linked.setdefault(int(reported_id), set()).add(int(person))
    pairs: list[tuple[int, int, str]] = []
    for person, name in conn.execute(
        select(PA.c.person_id, AT.c.display_name)
        .join(AT, AT.c.id == PA.c.account_id)
        .where(AT.c.display_name.is_not(None))
    ):
        for reported_id in reported.get(_letters(name), ()):
            for other in linked.get(reported_id, ()):
                if other != person:
                    pairs.append(
                        (
                            int(person),
                            other,
                            f"a referral's email address spells the name {name!r} "
                            f"(reported account #{reported_id})",
                        )
                    )
    return pairs
