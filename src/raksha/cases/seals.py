"""Finding a seized exhibit by the label on its seal (or by its id).

The seal label is what an officer reads off the packet in the store room or the court, so
every command takes it; the id is accepted too, for links from reports and the web
console. Seizure registration and the custody chain both look exhibits up here, which is
why this lives in its own small module below both of them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, func, select

from raksha.errors import NotFoundError
from raksha.store.case_models import seizures_table


def clean_seal(label: str) -> str:
    """The label as stored: surrounding space removed, inner runs of space made one."""
    return " ".join(label.split())


def find_seizure(conn: Connection, seal_or_id: str | int) -> Row[Any]:
    """The seizure row for a seal label (exact, then ignoring case) or an id.

    A label made only of digits that no seal carries is taken as an id.
    """
    t = seizures_table
    if isinstance(seal_or_id, int):
        row = conn.execute(select(t).where(t.c.id == seal_or_id)).first()
        if row is None:
            raise NotFoundError(
                f"no seizure with id {seal_or_id}; `raksha seizure list` shows them"
            )
        return row
    label = clean_seal(seal_or_id)
    row = conn.execute(select(t).where(t.c.seal_label == label)).first()
    if row is None:
        row = conn.execute(
            select(t).where(func.lower(t.c.seal_label) == label.lower()).order_by(t.c.id)
        ).first()
    if row is None and label.isdigit():
        row = conn.execute(select(t).where(t.c.id == int(label))).first()
    if row is None:
        raise NotFoundError(
            f"no seizure with the seal {label!r}; check the label on the packet, or list "
            "them with `raksha seizure list`"
        )
    return row
