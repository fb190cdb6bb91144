"""Finding a case the way people name one: by its name, its FIR number or its id.

Every part that takes a case from a user (the case commands, seizures, operations,
reports, the web console) looks it up here, so "FIR 112/2026" means the same case
everywhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select

from raksha.errors import NotFoundError, UsageError
from raksha.store.models import cases_table as CT  # noqa: N812


def find_case(conn: Connection, ref: str | int) -> Row[Any]:
    """A case by its name, its FIR number (when only one case has it) or its id."""
    if isinstance(ref, int):
        row = conn.execute(select(CT).where(CT.c.id == ref)).first()
    else:
        text = ref.strip()
        row = conn.execute(select(CT).where(CT.c.name == text)).first()
        if row is None and text:
            firs = conn.execute(select(CT).where(CT.c.fir_number == text).limit(2)).all()
            if len(firs) > 1:
                raise UsageError(
                    f"more than one case has FIR number {text!r}; name the case or give its id"
                )
            row = firs[0] if firs else None
        if row is None and text.isdigit():
            row = conn.execute(select(CT).where(CT.c.id == int(text))).first()
    if row is None:
        raise NotFoundError(
            f"no case {ref!r} (by name, FIR number or id); `raksha case list` shows the cases "
            "you may see, `raksha case create` makes one"
        )
    return row


def find_case_id(conn: Connection, ref: str | int) -> int:
    return int(find_case(conn, ref).id)
