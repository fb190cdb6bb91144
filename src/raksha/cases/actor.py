"""Who is acting: the logged-in user every write, read and audit entry is attributed to."""

from __future__ import annotations

from dataclasses import dataclass

#: The roles, from least to most administrative (``docs/security.md`` says what each may do).
ROLES: tuple[str, ...] = ("analyst", "investigator", "supervisor", "auditor", "admin")


@dataclass(frozen=True, slots=True)
class Actor:
    """A user as far as the rest of Raksha cares: a name to write down and a role to check.

    ``setup`` is the single local operator of a store that has no users yet (a fresh
    embedded install): it may do everything, and the first ``raksha user add`` ends it.
    """

    username: str
    role: str
    user_id: int | None = None
    setup: bool = False

    @classmethod
    def local_setup(cls) -> Actor:
        return cls(username="local", role="admin", setup=True)

    @classmethod
    def system(cls, what: str) -> Actor:
        """Automation acting on its own (identity resolution, a watch run)."""
        return cls(username=f"system:{what}", role="admin", setup=True)
