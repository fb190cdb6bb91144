"""Users, their passwords and their login sessions.

Passwords are kept only as argon2 hashes. A login hands back a random token once; the
store keeps only its SHA-256, so a copied database lets no one act as anybody. Every
change here is written to the audit log in the same transaction, and a failed login is
audited in a transaction of its own, because the command that tried it fails.

Until the first user exists a store is in set-up mode (``Actor.local_setup``): its one
local operator may do everything, and must make that first user an admin.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from raksha.cases import audit
from raksha.cases.access import allowed, require
from raksha.cases.actor import ROLES, Actor
from raksha.errors import AuthenticationError, NotFoundError, UsageError
from raksha.store.case_models import user_sessions_table, users_table
from raksha.store.models import iso_utc, utcnow

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
#: Longer passwords are refused so that hashing one cannot be used to tie up the server.
MAX_PASSWORD_LENGTH = 1024
SESSION_HOURS = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
#: Names the audit log already uses for actors that are not users.
_RESERVED = frozenset({"local", "system", "anonymous"})
#: One message for every failed login, so it never tells which usernames exist.
LOGIN_FAILED = "wrong username or password, or the account is disabled; try again or ask an admin"

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so that case takes as long as the
    others (made on first need: hashing costs time and memory every command would pay)."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A user as listings show it (never the password hash)."""

    id: int
    username: str
    full_name: str | None
    role: str
    active: bool
    created_at: datetime
    created_by: str | None
    disabled_at: datetime | None

    @classmethod
    def from_row(cls, row: RowMapping) -> UserInfo:
        return cls(
            id=int(row["id"]),
            username=str(row["username"]),
            full_name=row["full_name"],
            role=str(row["role"]),
            active=bool(row["active"]),
            created_at=row["created_at"],
            created_by=row["created_by"],
            disabled_at=row["disabled_at"],
        )

    def actor(self) -> Actor:
        return Actor(username=self.username, role=self.role, user_id=self.id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "full_name": self.full_name,
            "role": self.role,
            "active": self.active,
            "created_at": iso_utc(self.created_at),
            "created_by": self.created_by,
            "disabled_at": iso_utc(self.disabled_at),
        }


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live login: who it acts as and until when."""

    actor: Actor
    expires_at: datetime
    client: str


def token_digest(token: str) -> str:
    """What the store keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def any_users(conn: Connection) -> bool:
    """Whether the store has left set-up mode (a user exists, active or not)."""
    return conn.execute(select(users_table.c.id).limit(1)).first() is not None


def find_user(conn: Connection, username: str) -> UserInfo:
    """The user called ``username``, or :class:`NotFoundError`."""
    row = (
        conn.execute(select(users_table).where(users_table.c.username == username))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"no user named {username!r}; list users with `raksha user list`")
    return UserInfo.from_row(row)


def list_users(conn: Connection, actor: Actor) -> list[UserInfo]:
    require(actor, "user.manage")
    rows = conn.execute(select(users_table).order_by(users_table.c.username)).mappings()
    return [UserInfo.from_row(r) for r in rows]


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(
            f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters "
            "(a few unrelated words are easy to remember)"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UsageError(f"the password is too long: use at most {MAX_PASSWORD_LENGTH} characters")


def _check_username(username: str) -> None:
    if not _USERNAME.match(username) or username in _RESERVED:
        raise UsageError(
            f"{username!r} cannot be a username: use lower-case letters, digits, '.', '_' or "
            "'-', start with a letter or digit, at most 100 characters, and not "
            + ", ".join(sorted(_RESERVED))
        )


def create_user(
    conn: Connection,
    actor: Actor,
    username: str,
    role: str,
    password: str,
    full_name: str | None = None,
) -> UserInfo:
    """Add a user. The first user of a store is made in set-up mode and must be an admin."""
    require(actor, "user.manage")
    _check_username(username)
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    _check_password(password)
    first = not any_users(conn)
    if first and role != "admin":
        raise UsageError(
            "the first user of a store must be an admin (they add everyone else): "
            f"use `raksha user add {username} --role admin`"
        )
    if not first and actor.setup:
        raise UsageError(
            "set-up mode ended when the first user was added; log in as an admin with "
            "`raksha login USERNAME` to add users"
        )
    if conn.execute(select(users_table.c.id).where(users_table.c.username == username)).first():
        raise UsageError(f"a user named {username!r} already exists; pick another name")
    values = {
        "username": username,
        "full_name": full_name,
        "role": role,
        "password_hash": _hasher.hash(password),
        "active": True,
        "created_at": utcnow(),
        "created_by": actor.username,
    }
    try:
        # No savepoint: on SQLite one opened before the transaction's first write commits
        # on release, which would split the user from its audit entry.
        conn.execute(users_table.insert().values(**values))
    except IntegrityError as exc:  # another admin added the same name a moment ago
        raise UsageError(f"a user named {username!r} already exists; pick another name") from exc
    audit.record(
        conn,
        actor,
        "user.add",
        object_kind="user",
        object_id=username,
        details={"role": role, "full_name": full_name, "first_user": first},
    )
    logger.info("user %s (%s) added by %s", username, role, actor.username)
    return find_user(conn, username)


def _active_admins(conn: Connection) -> int:
    t = users_table
    count = conn.execute(
        select(func.count()).select_from(t).where(t.c.role == "admin", t.c.active.is_(True))
    ).scalar_one()
    return int(count)


def _revoke_sessions(conn: Connection, user_id: int) -> int:
    t = user_sessions_table
    result = conn.execute(
        update(t)
        .where(t.c.user_id == user_id, t.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount)


def disable_user(conn: Connection, actor: Actor, username: str) -> UserInfo:
    """Disable a user and end their sessions. The last active admin cannot be disabled."""
    require(actor, "user.manage")
    user = find_user(conn, username)
    if not user.active:
        raise UsageError(f"{username} is already disabled")
    if user.role == "admin" and _active_admins(conn) <= 1:
        raise UsageError(
            f"{username} is the last active admin; add another admin first, or nobody could "
            "manage users any more"
        )
    conn.execute(
        update(users_table)
        .where(users_table.c.id == user.id)
        .values(active=False, disabled_at=utcnow())
    )
    revoked = _revoke_sessions(conn, user.id)
    audit.record(
        conn,
        actor,
        "user.disable",
        object_kind="user",
        object_id=username,
        details={"sessions_revoked": revoked},
    )
    return find_user(conn, username)


def set_password(
    conn: Connection,
    actor: Actor,
    username: str,
    password: str,
    *,
    current_password: str | None = None,
) -> None:
    """Change a password: an admin for anyone, a user for themselves with the current one.

    An admin resetting someone else's password also ends that user's sessions (a reset
    usually means the old password leaked); changing your own keeps your sessions.
    """
    user = find_user(conn, username)
    own = actor.user_id is not None and actor.user_id == user.id
    if not allowed(actor, "user.manage"):
        if not own:
            require(actor, "user.manage")  # raises, naming who may
        if current_password is None or not _verify(_password_hash(conn, user.id), current_password):
            raise AuthenticationError("the current password is wrong; the password is unchanged")
    _check_password(password)
    conn.execute(
        update(users_table)
        .where(users_table.c.id == user.id)
        .values(password_hash=_hasher.hash(password))
    )
    revoked = 0 if own else _revoke_sessions(conn, user.id)
    audit.record(
        conn,
        actor,
        "user.passwd",
        object_kind="user",
        object_id=username,
        details={"sessions_revoked": revoked},
    )


def _password_hash(conn: Connection, user_id: int) -> str:
    return str(
        conn.execute(
            select(users_table.c.password_hash).where(users_table.c.id == user_id)
        ).scalar_one()
    )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def login(
    conn: Connection,
    username: str,
    password: str,
    client: str = "cli",
    hours: float = SESSION_HOURS,
) -> str:
    """Check the password and start a session; returns the raw token (shown only now).

    Call it in a transaction of its own: on success the session and its audit entry are
    written there; on failure the "login.failed" entry is committed on a separate
    connection (the caller's transaction rolls back with the error) and
    :class:`AuthenticationError` is raised with the same sentence whatever went wrong.
    """
    row = (
        conn.execute(select(users_table).where(users_table.c.username == username))
        .mappings()
        .first()
    )
    reason = None
    if row is None:
        _verify(_dummy_hash(), password)
        reason = "unknown user"
    elif not _verify(str(row["password_hash"]), password):
        reason = "wrong password"
    elif not row["active"]:
        reason = "disabled"
    if reason is not None or row is None:
        _audit_failed_login(conn, username, client, reason or "unknown user")
        raise AuthenticationError(LOGIN_FAILED)
    user = UserInfo.from_row(row)
    if _hasher.check_needs_rehash(str(row["password_hash"])):
        conn.execute(
            update(users_table)
            .where(users_table.c.id == user.id)
            .values(password_hash=_hasher.hash(password))
        )
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(hours=hours)
    conn.execute(
        user_sessions_table.insert().values(
            token_sha256=token_digest(token),
            user_id=user.id,
            client=client,
            created_at=now,
            expires_at=expires,
        )
    )
    audit.record(
        conn,
        user.actor(),
        "login",
        object_kind="user",
        object_id=user.username,
        details={"client": client, "expires_at": iso_utc(expires)},
    )
    return token


def _audit_failed_login(conn: Connection, username: str, client: str, reason: str) -> None:
    who = Actor(username=username[:100] or "anonymous", role="none")
    with conn.engine.begin() as own:
        audit.record(
            own,
            who,
            "login.failed",
            object_kind="user",
            object_id=username[:100],
            details={"client": client, "reason": reason},
        )
    logger.warning("failed login for %r (%s)", username, reason)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def session_for_token(conn: Connection, token: str) -> SessionInfo | None:
    """The live session behind ``token``; ``None`` when expired, revoked or disabled."""
    s, u = user_sessions_table, users_table
    row = (
        conn.execute(
            select(s.c.expires_at, s.c.revoked_at, s.c.client, u)
            .join(u, u.c.id == s.c.user_id)
            .where(s.c.token_sha256 == token_digest(token))
        )
        .mappings()
        .first()
    )
    if row is None or row["revoked_at"] is not None or not row["active"]:
        return None
    expires = _aware(row["expires_at"])
    if expires <= utcnow():
        return None
    actor = Actor(username=str(row["username"]), role=str(row["role"]), user_id=int(row["id"]))
    return SessionInfo(actor=actor, expires_at=expires, client=str(row["client"]))


def actor_for_token(conn: Connection, token: str) -> Actor | None:
    """Who ``token`` logs in as; ``None`` when it is unknown, expired, revoked or disabled."""
    session = session_for_token(conn, token)
    return None if session is None else session.actor


def logout(conn: Connection, token: str) -> bool:
    """End the session behind ``token``; whether there was a live one to end."""
    session = session_for_token(conn, token)
    if session is None:
        return False
    t = user_sessions_table
    conn.execute(
        update(t).where(t.c.token_sha256 == token_digest(token)).values(revoked_at=utcnow())
    )
    audit.record(
        conn,
        session.actor,
        "logout",
        object_kind="user",
        object_id=session.actor.username,
        details={"client": session.client},
    )
    return True


def write_session_file(path: Path, token: str) -> None:
    """Write the token readable by this OS user only (0600), replacing any old one whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, f"{token}\n".encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
