"""Identity resolution on both databases: hard identifiers merge, soft ones only suggest,
analyst merges and splits are audited, reversible, and never undone by automation."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from raksha.errors import UsageError
from raksha.network import identity
from raksha.store.chat_models import accounts_table
from raksha.store.db import Store
from raksha.store.intel_models import (
    referral_accounts_table,
    referral_links_table,
    referrals_table,
)
from raksha.store.models import utcnow
from raksha.store.network_models import identity_decisions_table, person_accounts_table


def _accounts(store: Store) -> dict[str, int]:
    rows = [
        ("whatsapp", "phone", "+919847001001", "", "Ravi"),
        ("telegram", "phone", "+919847001001", "", "Ravi K"),  # same number: one person
        ("telegram", "user_id", "user501", "", "Sunil M"),
        ("whatsapp", "phone", "+919847001002", "", "Sunil M"),  # same name only: suggest
        ("telegram", "user_id", "user502", "", "Anu"),
        ("messenger", "name", "Anu P", "messenger:inbox/x", "Anu P"),
    ]
    with store.engine.begin() as conn:
        for platform, kind, external, scope, name in rows:
            conn.execute(
                insert(accounts_table).values(
                    platform=platform,
                    id_kind=kind,
                    external_id=external,
                    scope=scope,
                    display_name=name,
                )
            )
        ids = {f"{r.platform}:{r.external_id}": r.id for r in conn.execute(select(accounts_table))}
        # A referral names user502 on Telegram and the Messenger account: one person.
        ref = conn.execute(
            insert(referrals_table).values(
                source="ncmec",
                external_id="R-1",
                imported_from="x",
                imported_at=utcnow(),
                notes=[],
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        reported = conn.execute(
            insert(referral_accounts_table).values(referral_id=ref, position=0)
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            insert(referral_links_table),
            [
                {
                    "referral_account_id": reported,
                    "account_id": ids["telegram:user502"],
                    "basis": "user_id",
                },
                {
                    "referral_account_id": reported,
                    "account_id": ids["messenger:Anu P"],
                    "basis": "phone",
                },
            ],
        )
    return ids


def _person(store: Store, account_id: int) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(person_accounts_table.c.person_id).where(
                    person_accounts_table.c.account_id == account_id
                )
            ).scalar_one()
        )


def test_hard_identifiers_merge_soft_ones_suggest(store: Store) -> None:
    ids = _accounts(store)
    report = identity.resolve(store)
    assert report.new_people == 6 and report.merges == 2
    assert _person(store, ids["whatsapp:+919847001001"]) == _person(
        store, ids["telegram:+919847001001"]
    )
    assert _person(store, ids["telegram:user502"]) == _person(store, ids["messenger:Anu P"])
    sunil = (_person(store, ids["telegram:user501"]), _person(store, ids["whatsapp:+919847001002"]))
    assert sunil[0] != sunil[1]
    suggested = {(s.person_id, s.other_person_id): s.reason for s in identity.suggestions(store)}
    assert suggested[(min(sunil), max(sunil))] == "same display name (sunilm)"
    with store.engine.connect() as conn:
        reasons = [
            r.reason
            for r in conn.execute(
                select(identity_decisions_table).order_by(identity_decisions_table.c.id)
            )
        ]
    assert any("same phone number +919847001001" in r for r in reasons)
    assert any("referral" in r for r in reasons)
    again = identity.resolve(store)
    assert (again.new_people, again.merges) == (0, 0)  # idempotent


def test_analyst_merge_split_undo_are_audited_and_stick(store: Store) -> None:
    ids = _accounts(store)
    identity.resolve(store)
    a, b = _person(store, ids["telegram:user501"]), _person(store, ids["whatsapp:+919847001002"])
    with pytest.raises(UsageError):
        identity.merge(store, a, b, actor="", reason="")
    merge = identity.merge(store, a, b, actor="SI Rao", reason="same photo and number in chat")
    assert _person(store, ids["whatsapp:+919847001002"]) == a
    ravi = _person(store, ids["whatsapp:+919847001001"])
    split, new = identity.split(
        store, ravi, [ids["telegram:+919847001001"]], actor="SI Rao", reason="shared family phone"
    )
    assert _person(store, ids["telegram:+919847001001"]) == new
    identity.resolve(store)  # the same phone would merge them: the analyst's split wins
    assert _person(store, ids["telegram:+919847001001"]) == new
    identity.undo(store, merge, actor="Insp. Das", reason="different people after all")
    assert _person(store, ids["whatsapp:+919847001002"]) == b
    identity.undo(store, split, actor="Insp. Das", reason="checked again")
    assert _person(store, ids["telegram:+919847001001"]) == ravi
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(identity_decisions_table)
            .where(identity_decisions_table.c.automatic.is_(False))
            .order_by(identity_decisions_table.c.id)
        ).all()
    assert [(r.action, r.actor) for r in rows] == [
        ("merge", "SI Rao"),
        ("split", "SI Rao"),
        ("undo", "Insp. Das"),
        ("undo", "Insp. Das"),
    ]
    assert all(r.undone_by is not None for r in rows[:2])
    with pytest.raises(UsageError):
        identity.undo(store, merge, actor="x", reason="twice")
