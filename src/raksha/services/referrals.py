"""Importing referrals (NCMEC CyberTipline reports, INTERPOL and other alerts).

Each referral is stored once (unique by source and its own number: importing the same
file again adds nothing); its files are matched against the reference sets by hash on
import, and its accounts are linked to accounts already seen in groups: by platform user
id (Telegram ``from_id`` ``user123`` for a reported ``123``), by E.164 phone number, and
by screen name against display names. Linking runs again after every chat ingest, so an
account that appears in a group after the referral arrived is linked then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select

from raksha.hashes import MD5, SHA1, SHA256
from raksha.matching.matcher import Matcher, Query
from raksha.referrals.detect import read_referrals
from raksha.referrals.records import Referral, ReferralProblem
from raksha.store.chat_models import accounts_table
from raksha.store.db import Store, insert_ignoring_duplicates
from raksha.store.intel_models import (
    referral_accounts_table,
    referral_files_table,
    referral_ips_table,
    referral_links_table,
    referrals_table,
)
from raksha.store.models import iso_utc, utcnow

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ReferralImport:
    path: str
    added: int = 0
    already: int = 0
    files: int = 0
    files_known: int = 0
    accounts: int = 0
    links: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "added": self.added,
            "already_imported": self.already,
            "files": self.files,
            "files_matching_reference_sets": self.files_known,
            "accounts": self.accounts,
            "links_to_seen_accounts": self.links,
            "problems": [{"where": w, "reason": r} for w, r in self.problems],
        }


def import_referrals(store: Store, index_dir: Path, path: Path) -> ReferralImport:
    """Read every referral in ``path``, store the new ones, match their files, link."""
    outcome = ReferralImport(str(path))
    matcher = Matcher(store, index_dir)
    for record in read_referrals(path):
        if isinstance(record, ReferralProblem):
            outcome.problems.append((record.where, record.reason))
            continue
        if record.external_id is None:
            outcome.problems.append((record.where, "no report number: not stored"))
            continue
        _store_one(store, matcher, record, path, outcome)
    outcome.links = link_referral_accounts(store)
    return outcome


def _store_one(
    store: Store, matcher: Matcher, ref: Referral, path: Path, outcome: ReferralImport
) -> None:
    rt = referrals_table
    with store.engine.begin() as conn:
        exists = conn.execute(
            select(rt.c.id).where(rt.c.source == ref.source, rt.c.external_id == ref.external_id)
        ).first()
        if exists is not None:
            outcome.already += 1
            return
        referral_id = conn.execute(
            insert(rt).values(
                source=ref.source,
                external_id=ref.external_id,
                received_at=ref.received_at,
                reporting_party=ref.reporting_party,
                incident_type=ref.incident_type,
                incident_at=ref.incident_at,
                summary=ref.summary,
                notes=ref.notes,
                imported_from=str(path),
                imported_at=utcnow(),
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        _accounts(conn, referral_id, ref)
        _files(conn, matcher, referral_id, ref, outcome)
        if ref.ip_captures:
            conn.execute(
                insert(referral_ips_table),
                [
                    {
                        "referral_id": referral_id,
                        "ip": ip.ip,
                        "at": ip.at,
                        "port": ip.port,
                        "event": ip.event,
                        "account_position": ip.account_index,
                    }
                    for ip in ref.ip_captures
                ],
            )
    outcome.added += 1
    outcome.accounts += len(ref.accounts)


def _accounts(conn: Connection, referral_id: int, ref: Referral) -> None:
    if not ref.accounts:
        return
    conn.execute(
        insert(referral_accounts_table),
        [
            {
                "referral_id": referral_id,
                "position": i,
                "platform": a.platform,
                "user_id": a.user_id,
                "screen_name": a.screen_name,
                "display_name": a.display_name,
                "first_name": a.first_name,
                "last_name": a.last_name,
                "emails": a.emails,
                "phones": [p.value for p in a.phones],
                "profile_url": a.profile_url,
                "addresses": a.addresses,
                "device_ids": a.device_ids,
            }
            for i, a in enumerate(ref.accounts)
        ],
    )


def _files(
    conn: Connection, matcher: Matcher, referral_id: int, ref: Referral, outcome: ReferralImport
) -> None:
    if not ref.files:
        return
    queries = [
        Query(
            f"file {i}",
            exact={
                k: v for k, v in ((MD5, f.md5), (SHA1, f.sha1), (SHA256, f.sha256)) if v is not None
            },
        )
        for i, f in enumerate(ref.files)
    ]
    results = matcher.match(queries)
    rows = []
    for i, (f, result) in enumerate(zip(ref.files, results, strict=True)):
        matches = [
            {
                "set_name": m.hit.set_name,
                "set_kind": m.hit.set_kind,
                "category": m.hit.category,
                "category_label": m.hit.category_label,
                "algorithm": m.algorithm,
                "record_key": m.hit.record_key,
            }
            for m in result.matches
        ]
        if any(m["set_kind"] == "reference" for m in matches):
            outcome.files_known += 1
        rows.append(
            {
                "referral_id": referral_id,
                "position": i,
                "file_name": f.file_name,
                "original_file_name": f.original_file_name,
                "md5": f.md5,
                "sha1": f.sha1,
                "sha256": f.sha256,
                "classification": f.classification,
                "viewed_by_esp": f.viewed_by_esp,
                "matches": matches,
            }
        )
    conn.execute(insert(referral_files_table), rows)
    outcome.files += len(rows)


def link_referral_accounts(store: Store) -> int:
    """Link every reported account to the accounts seen in groups that it names.

    Hard links: the platform user id (a reported ``123`` is Telegram's ``user123``) and
    E.164 phone numbers; a screen name equal to a display name is linked as ``screen_name``
    (softer: display names are not unique). Returns how many links are new.
    """
    ra, at, rl = referral_accounts_table, accounts_table, referral_links_table
    with store.engine.begin() as conn:
        if conn.execute(select(ra.c.id).limit(1)).first() is None:
            return 0  # no referral yet: nothing to link (runs after every chat ingest)
        before = conn.execute(select(func.count()).select_from(rl)).scalar_one()
        by_id: dict[str, list[tuple[int, str]]] = {}
        by_name: dict[str, list[tuple[int, str]]] = {}
        for account_id, platform, external_id, id_kind, name in conn.execute(
            select(at.c.id, at.c.platform, at.c.external_id, at.c.id_kind, at.c.display_name)
        ):
            if id_kind in ("user_id", "phone"):
                by_id.setdefault(external_id, []).append((account_id, platform))
                if platform == "telegram" and external_id.startswith("user"):
                    by_id.setdefault(external_id[4:], []).append((account_id, platform))
            if name:
                by_name.setdefault(name.casefold(), []).append((account_id, platform))
        rows: list[dict[str, Any]] = []
        for r in conn.execute(select(ra)):
            wanted = _platform_of(r.platform)
            candidates = [(str(r.user_id), "user_id")] if r.user_id else []
            candidates += [(str(p), "phone") for p in r.phones or []]
            for value, basis in candidates:
                rows.extend(
                    {"referral_account_id": r.id, "account_id": a, "basis": basis}
                    for a, platform in by_id.get(value, [])
                    if basis == "phone" or wanted in (None, platform)
                )
            for name in {n.casefold() for n in (r.screen_name, r.display_name) if n}:
                rows.extend(
                    {"referral_account_id": r.id, "account_id": a, "basis": "screen_name"}
                    for a, platform in by_name.get(name, [])
                    if wanted in (None, platform)
                )
        if rows:
            conn.execute(insert_ignoring_duplicates(conn, rl), rows)
        after = conn.execute(select(func.count()).select_from(rl)).scalar_one()
    return int(after - before)


_PLATFORMS = {"telegram": "telegram", "whatsapp": "whatsapp", "messenger": "messenger"}
_PLATFORMS["facebook"] = "messenger"


def _platform_of(reported: str | None) -> str | None:
    """The platform a referral names (``"Telegram Messenger Inc."`` → telegram), or None
    when it names none of those Raksha ingests; ids are only linked on the same platform."""
    if not reported:
        return None
    text = reported.casefold()
    for word, platform in _PLATFORMS.items():
        if word in text:
            return platform
    return "other"


def list_referrals(store: Store) -> list[dict[str, Any]]:
    """Every referral with its accounts, files, known files, links and IP captures."""
    rt, ra, rf, ri, rl = (
        referrals_table,
        referral_accounts_table,
        referral_files_table,
        referral_ips_table,
        referral_links_table,
    )
    with store.engine.connect() as conn:
        accounts: dict[int, int] = dict(
            conn.execute(select(ra.c.referral_id, func.count()).group_by(ra.c.referral_id)).all()
        )
        files: dict[int, int] = dict(
            conn.execute(select(rf.c.referral_id, func.count()).group_by(rf.c.referral_id)).all()
        )
        ips: dict[int, int] = dict(
            conn.execute(select(ri.c.referral_id, func.count()).group_by(ri.c.referral_id)).all()
        )
        known: dict[int, int] = {}
        for referral_id, matches in conn.execute(select(rf.c.referral_id, rf.c.matches)):
            if any(m.get("set_kind") == "reference" for m in matches or []):
                known[referral_id] = known.get(referral_id, 0) + 1
        linked: dict[int, list[dict[str, Any]]] = {}
        for referral_id, account_id, basis, external_id, platform in conn.execute(
            select(
                ra.c.referral_id,
                rl.c.account_id,
                rl.c.basis,
                accounts_table.c.external_id,
                accounts_table.c.platform,
            )
            .join(rl, rl.c.referral_account_id == ra.c.id)
            .join(accounts_table, accounts_table.c.id == rl.c.account_id)
        ):
            linked.setdefault(referral_id, []).append(
                {
                    "account_id": account_id,
                    "platform": platform,
                    "external_id": external_id,
                    "basis": basis,
                }
            )
        out = []
        for r in conn.execute(select(rt).order_by(rt.c.received_at, rt.c.id)):
            out.append(
                {
                    "id": r.id,
                    "source": r.source,
                    "external_id": r.external_id,
                    "received_at": iso_utc(r.received_at),
                    "reporting_party": r.reporting_party,
                    "incident_type": r.incident_type,
                    "accounts": accounts.get(r.id, 0),
                    "files": files.get(r.id, 0),
                    "files_known": known.get(r.id, 0),
                    "ip_captures": ips.get(r.id, 0),
                    "linked_accounts": linked.get(r.id, []),
                }
            )
    return out
