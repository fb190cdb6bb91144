"""The legal sections a case may be registered under: the unit's own list.

A fresh store holds IT Act 2000 s.67 and s.67B and POCSO Act 2012 ss.13-15 (migration
0008); supervisors and admins add sections and disable them. A disabled section is
refused on new cases and new edits, but stays on the cases already registered under it,
so a court record never changes because the list did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, select

from raksha.cases import audit
from raksha.cases.access import require
from raksha.cases.actor import Actor
from raksha.errors import NotFoundError, UsageError
from raksha.store.case_models import legal_sections_table
from raksha.store.db import Store

LS = legal_sections_table


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def titles(conn: Connection) -> dict[str, str]:
    """Every section's title by its code (disabled ones included)."""
    return {str(c): str(t) for c, t in conn.execute(select(LS.c.code, LS.c.title))}


def section_key(code: str) -> str:
    return " ".join(code.split()).lower()


def check_sections(conn: Connection, codes: Iterable[str], keep: Sequence[str] = ()) -> list[str]:
    """The codes as the list spells them; each must be active (or already on the case)."""
    rows = conn.execute(select(LS.c.code, LS.c.active).order_by(LS.c.code)).all()
    by_key = {section_key(r.code): r for r in rows}
    kept = {section_key(c) for c in keep}
    out: list[str] = []
    unknown: list[str] = []
    for code in codes:
        row = by_key.get(section_key(code))
        if row is None or not (row.active or section_key(code) in kept):
            unknown.append(code)
        elif row.code not in out:
            out.append(row.code)
    if unknown:
        valid = ", ".join(repr(r.code) for r in rows if r.active) or "none"
        raise UsageError(
            f"not an active legal section: {', '.join(repr(c) for c in unknown)}; the valid "
            f"ones are {valid} (a supervisor or admin adds more with `raksha case sections add`)"
        )
    return out


def list_sections(
    store: Store, actor: Actor, *, include_disabled: bool = True
) -> list[dict[str, Any]]:
    """The sections cases may be registered under (reference data: not audited)."""
    require(actor, "case.read")
    query = select(LS).order_by(LS.c.code)
    if not include_disabled:
        query = query.where(LS.c.active.is_(True))
    with store.engine.connect() as conn:
        return [
            {"code": r.code, "title": r.title, "active": bool(r.active)}
            for r in conn.execute(query)
        ]


def _find(conn: Connection, code: str) -> Row[Any] | None:
    key = section_key(code)
    for row in conn.execute(select(LS).order_by(LS.c.id)):
        if section_key(row.code) == key:
            return row
    return None


def add_section(store: Store, actor: Actor, code: str, title: str | None = None) -> dict[str, Any]:
    """Add a section, or enable a disabled one again (its title updated when given)."""
    require(actor, "sections.manage")
    code, title = _text(code) or "", _text(title)
    if not code:
        raise UsageError("a section needs a code, e.g. --code 'BNS s.294'")
    with store.engine.begin() as conn:
        row = _find(conn, code)
        if row is not None and row.active:
            raise UsageError(f"section {row.code!r} is already on the list")
        if row is not None:
            values: dict[str, Any] = {"active": True} | ({"title": title} if title else {})
            conn.execute(LS.update().where(LS.c.id == row.id).values(**values))
            action, code = "sections.enable", str(row.code)
        elif not title:
            raise UsageError(
                f"a new section needs its title, e.g. --title 'Act, s.N: what it covers' "
                f"for {code!r}"
            )
        else:
            conn.execute(LS.insert().values(code=code, title=title, active=True))
            action = "sections.add"
        out = conn.execute(select(LS).where(LS.c.code == code)).one()
        result = {"code": out.code, "title": out.title, "active": True}
        audit.record(conn, actor, action, object_kind="section", object_id=out.code, details=result)
    return result


def disable_section(store: Store, actor: Actor, code: str) -> dict[str, Any]:
    """Take a section off the list for new cases; cases registered under it keep it."""
    require(actor, "sections.manage")
    with store.engine.begin() as conn:
        row = _find(conn, code)
        if row is None:
            raise NotFoundError(f"no section {code!r}; `raksha case sections list` shows them")
        if not row.active:
            raise UsageError(f"section {row.code!r} is already disabled")
        conn.execute(LS.update().where(LS.c.id == row.id).values(active=False))
        audit.record(conn, actor, "sections.disable", object_kind="section", object_id=row.code)
    return {"code": row.code, "title": row.title, "active": False}
