"""Users, people and intelligence rows for the case and operation tests, inserted directly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert

from raksha.cases.actor import Actor
from raksha.store.case_models import users_table
from raksha.store.chat_models import accounts_table
from raksha.store.db import Store
from raksha.store.intel_models import referrals_table, tips_table
from raksha.store.network_models import people_table, person_accounts_table

T0 = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)


def user(store: Store, username: str, role: str) -> Actor:
    """A users row (any password hash will do here) and the actor it logs in as."""
    with store.engine.begin() as conn:
        result = conn.execute(
            insert(users_table).values(
                username=username, role=role, password_hash="not-a-real-hash", active=True
            )
        )
    return Actor(username, role, int(result.inserted_primary_key[0]))  # type: ignore[index]


def person(store: Store, label: str, accounts: Sequence[tuple[str, str, str]] = ()) -> int:
    """A person with accounts ``(platform, id_kind, external_id)``; returns its id."""
    with store.engine.begin() as conn:
        result = conn.execute(insert(people_table).values(label=label, created_at=T0))
        pid = int(result.inserted_primary_key[0])  # type: ignore[index]
        for platform, id_kind, external_id in accounts:
            aid = conn.execute(
                insert(accounts_table).values(
                    platform=platform,
                    id_kind=id_kind,
                    external_id=external_id,
                    scope="",
                    display_name=label,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                insert(person_accounts_table).values(person_id=pid, account_id=aid, basis="own")
            )
    return pid


def referral(store: Store, external_id: str = "CT-1001") -> int:
    with store.engine.begin() as conn:
        result = conn.execute(
            insert(referrals_table).values(
                source="ncmec",
                external_id=external_id,
                received_at=T0,
                incident_type="Child Pornography (possession, manufacture, and distribution)",
                notes=[],
                imported_from="synthetic.xml",
            )
        )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def tip(store: Store, follow_up: str = "T-2026-7KQ4M9XZ") -> str:
    with store.engine.begin() as conn:
        conn.execute(
            insert(tips_table).values(
                follow_up=follow_up, kind="username", value="@seller", text="sells links"
            )
        )
    return follow_up
