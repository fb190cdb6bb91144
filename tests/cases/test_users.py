"""Users, passwords and sessions, on both databases: argon2 hashes only, the first user is
an admin, the last admin stays, logins expire and end, failed logins are audited and
never say which part was wrong, and every change is in the audit log."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from raksha.cases import audit, users
from raksha.cases.access import PERMISSIONS
from raksha.cases.actor import ROLES, Actor
from raksha.errors import AccessDeniedError, AuthenticationError, NotFoundError, UsageError
from raksha.store.case_models import user_sessions_table, users_table
from raksha.store.db import Store

SETUP = Actor.local_setup()
PASSWORD = "correct horse battery"
DOCS = Path(__file__).resolve().parents[2] / "docs"


def add(store: Store, actor: Actor, username: str, role: str, password: str = PASSWORD) -> Actor:
    with store.engine.begin() as conn:
        return users.create_user(
            conn, actor, username, role, password, f"{username} (test)"
        ).actor()


def first_admin(store: Store) -> Actor:
    return add(store, SETUP, "root.admin", "admin")


def login(store: Store, username: str, password: str = PASSWORD, hours: float = 12) -> str:
    with store.engine.begin() as conn:
        return users.login(conn, username, password, hours=hours)


def actor_for(store: Store, token: str) -> Actor | None:
    with store.engine.connect() as conn:
        return users.actor_for_token(conn, token)


def actions(store: Store) -> list[tuple[str, str]]:
    with store.engine.connect() as conn:
        return [(e["actor"], e["action"]) for e in reversed(audit.entries(conn, limit=1000))]


def test_only_an_argon2_hash_of_the_password_is_stored(store: Store) -> None:
    with store.engine.connect() as conn:
        assert not users.any_users(conn)
    first_admin(store)
    with store.engine.connect() as conn:
        assert users.any_users(conn)
        stored = conn.execute(select(users_table.c.password_hash)).scalar_one()
        row = conn.execute(select(users_table)).mappings().one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)
    assert PASSWORD not in repr(dict(row))
    assert (row["created_by"], row["role"], row["active"]) == ("local", "admin", True)


def test_the_first_user_must_be_an_admin_and_ends_set_up_mode(store: Store) -> None:
    with pytest.raises(UsageError, match="first user of a store must be an admin"):
        add(store, SETUP, "ana", "analyst")
    admin = first_admin(store)
    with pytest.raises(UsageError, match="set-up mode ended"):
        add(store, SETUP, "ana", "analyst")
    analyst = add(store, admin, "ana", "analyst")
    assert (analyst.username, analyst.role, analyst.setup) == ("ana", "analyst", False)
    assert actions(store) == [("local", "user.add"), ("root.admin", "user.add")]


def test_what_create_user_refuses(store: Store) -> None:
    admin = first_admin(store)
    with pytest.raises(UsageError, match="at least 10 characters"):
        add(store, admin, "ana", "analyst", password="short")
    with pytest.raises(UsageError, match="unknown role"):
        add(store, admin, "ana", "constable")
    for bad in ("Ana", "local", "a b", "-x", "x" * 101):
        with pytest.raises(UsageError, match="cannot be a username"):
            add(store, admin, bad, "analyst")
    with pytest.raises(UsageError, match="already exists"):
        add(store, admin, "root.admin", "analyst")
    analyst = add(store, admin, "ana", "analyst")
    with pytest.raises(AccessDeniedError, match=r"user\.manage"):
        add(store, analyst, "ben", "analyst")
    with store.engine.connect() as conn:
        with pytest.raises(AccessDeniedError):
            users.list_users(conn, analyst)
        assert [u.username for u in users.list_users(conn, admin)] == ["ana", "root.admin"]


def test_login_stores_only_the_tokens_hash_and_logout_ends_it(store: Store) -> None:
    admin = first_admin(store)
    token = login(store, "root.admin")
    assert len(token) >= 40
    with store.engine.connect() as conn:
        session = conn.execute(select(user_sessions_table)).mappings().one()
    assert session["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(dict(session))
    assert actor_for(store, token) == admin
    assert actor_for(store, token + "x") is None
    with store.engine.begin() as conn:
        assert users.logout(conn, token)
    assert actor_for(store, token) is None
    with store.engine.begin() as conn:
        assert not users.logout(conn, token)
    assert actions(store)[-2:] == [("root.admin", "login"), ("root.admin", "logout")]


def test_an_expired_session_logs_no_one_in(store: Store) -> None:
    first_admin(store)
    assert actor_for(store, login(store, "root.admin", hours=-0.01)) is None
    assert actor_for(store, login(store, "root.admin", hours=1)) is not None


def test_failed_logins_say_the_same_and_are_audited(store: Store) -> None:
    admin = first_admin(store)
    add(store, admin, "ana", "analyst")
    with store.engine.begin() as conn:
        users.disable_user(conn, admin, "ana")
    messages = []
    for username, password in (
        ("root.admin", "wrong password!"),
        ("nobody", PASSWORD),
        ("ana", PASSWORD),
    ):
        with pytest.raises(AuthenticationError) as caught:
            login(store, username, password)
        messages.append(str(caught.value))
    assert len(set(messages)) == 1 and "wrong username or password" in messages[0]
    with store.engine.connect() as conn:
        failed = audit.entries(conn, action="login.failed")
        sessions = conn.execute(select(user_sessions_table)).all()
    # Committed though each login's own transaction rolled back with the error.
    assert [(e["actor"], e["details"]["reason"]) for e in reversed(failed)] == [
        ("root.admin", "wrong password"),
        ("nobody", "unknown user"),
        ("ana", "disabled"),
    ]
    assert sessions == []


def test_disabling_a_user_ends_their_sessions(store: Store) -> None:
    admin = first_admin(store)
    add(store, admin, "ana", "investigator")
    tokens = [login(store, "ana"), login(store, "ana")]
    assert all(actor_for(store, t) for t in tokens)
    with store.engine.begin() as conn:
        disabled = users.disable_user(conn, admin, "ana")
    assert not disabled.active and disabled.disabled_at is not None
    assert [actor_for(store, t) for t in tokens] == [None, None]
    with store.engine.begin() as conn, pytest.raises(UsageError, match="already disabled"):
        users.disable_user(conn, admin, "ana")
    with store.engine.begin() as conn, pytest.raises(NotFoundError):
        users.disable_user(conn, admin, "nobody")
    with store.engine.connect() as conn:
        (entry,) = audit.entries(conn, action="user.disable")
    assert entry["object_id"] == "ana" and entry["details"] == {"sessions_revoked": 2}


def test_the_last_active_admin_cannot_be_disabled(store: Store) -> None:
    admin = first_admin(store)
    with store.engine.begin() as conn, pytest.raises(UsageError, match="last active admin"):
        users.disable_user(conn, admin, "root.admin")
    second = add(store, admin, "second.admin", "admin")
    with store.engine.begin() as conn:
        users.disable_user(conn, second, "root.admin")
    with store.engine.begin() as conn, pytest.raises(UsageError, match="last active admin"):
        users.disable_user(conn, second, "second.admin")


def test_passwords_change_by_an_admin_or_by_their_owner(store: Store) -> None:
    admin = first_admin(store)
    ana = add(store, admin, "ana", "analyst")
    add(store, admin, "ben", "analyst")
    anas_token = login(store, "ana")
    with store.engine.begin() as conn:
        users.set_password(conn, admin, "ana", "reset by the admin")
    assert actor_for(store, anas_token) is None  # an admin's reset ends the sessions
    with pytest.raises(AuthenticationError):
        login(store, "ana")
    anas_token = login(store, "ana", "reset by the admin")
    with store.engine.begin() as conn, pytest.raises(AuthenticationError, match="current"):
        users.set_password(conn, ana, "ana", "chosen by ana herself", current_password="nope")
    with store.engine.begin() as conn, pytest.raises(AccessDeniedError):
        users.set_password(conn, ana, "ben", "not her password", current_password=PASSWORD)
    with store.engine.begin() as conn:
        users.set_password(
            conn, ana, "ana", "chosen by ana herself", current_password="reset by the admin"
        )
    assert actor_for(store, anas_token) == ana  # her own change keeps her logged in
    login(store, "ana", "chosen by ana herself")
    with store.engine.begin() as conn, pytest.raises(UsageError, match="too short"):
        users.set_password(conn, admin, "ana", "short")
    assert [a for a in actions(store) if a[1] == "user.passwd"] == [
        ("root.admin", "user.passwd"),
        ("ana", "user.passwd"),
    ]


def test_every_write_is_audited_and_the_chain_holds(store: Store) -> None:
    admin = first_admin(store)
    add(store, admin, "ana", "analyst")
    token = login(store, "ana")
    with store.engine.begin() as conn:
        users.logout(conn, token)
        users.set_password(conn, admin, "ana", "another long one")
        users.disable_user(conn, admin, "ana")
    assert [a for _, a in actions(store)] == [
        "user.add",
        "user.add",
        "login",
        "logout",
        "user.passwd",
        "user.disable",
    ]
    with store.engine.connect() as conn:
        assert audit.verify(conn).ok


def test_a_change_and_its_audit_entry_commit_or_roll_back_together(store: Store) -> None:
    """On SQLite too, where a savepoint opened before the first write would commit alone."""
    with pytest.raises(RuntimeError), store.engine.begin() as conn:
        users.create_user(conn, SETUP, "root.admin", "admin", PASSWORD)
        raise RuntimeError("something after it failed")
    with store.engine.connect() as conn:
        assert not users.any_users(conn)
        assert audit.head(conn)[0] == 0


def test_the_security_doc_lists_every_permission_and_role() -> None:
    text = (DOCS / "security.md").read_text()
    assert [p for p in PERMISSIONS if f"`{p}`" not in text] == []
    assert [r for r in ROLES if f"**{r}**" not in text] == []
