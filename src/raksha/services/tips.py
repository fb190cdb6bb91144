"""Public tips: what a citizen reports (a link, a group invite, a number, a username and
free text; never media), stored with a follow-up number and a status.

The follow-up number is random (``T-2026-7KQ4M9XZ``), not a counter, so one reporter
cannot guess another's. Nothing about the reporter is kept beyond what they typed.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from raksha.chats.identity import DEFAULT_REGION, e164
from raksha.errors import NotFoundError, UsageError
from raksha.store.db import Store
from raksha.store.intel_models import tips_table
from raksha.store.models import utcnow

logger = logging.getLogger(__name__)

TIP_KINDS = ("url", "invite_link", "phone", "username", "text")
TIP_STATUSES = ("new", "triaged", "forwarded", "linked", "closed")
MAX_TEXT = 5000
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
_INVITE = re.compile(
    r"^(https?://)?(t\.me/(\+|joinchat/)|telegram\.me/joinchat/|chat\.whatsapp\.com/)", re.I
)


@dataclass(slots=True, frozen=True)
class TipRecord:
    follow_up: str
    kind: str
    value: str | None
    text: str | None
    status: str
    received_at: datetime
    channel: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "follow_up": self.follow_up,
            "kind": self.kind,
            "value": self.value,
            "text": self.text,
            "status": self.status,
            "received_at": self.received_at.isoformat(),
            "channel": self.channel,
        }


def classify(value: str, region: str = DEFAULT_REGION) -> tuple[str, str]:
    """(kind, normalised value) of what a reporter typed as the lead."""
    text = value.strip()
    if _INVITE.match(text):
        return "invite_link", text
    if re.match(r"^https?://", text, re.I) or re.match(r"^[\w-]+(\.[\w-]+)+/\S*$", text):
        return "url", text
    phone = e164(text, region)
    if phone is not None:
        return "phone", phone
    if re.fullmatch(r"@?[A-Za-z][\w.]{2,63}", text):
        return "username", text.lstrip("@")
    return "text", text


def new_follow_up(year: int) -> str:
    return f"T-{year}-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def add_tip(
    store: Store,
    value: str | None,
    text: str | None,
    *,
    kind: str | None = None,
    channel: str = "cli",
    region: str = DEFAULT_REGION,
) -> TipRecord:
    """Store a tip; it needs a lead (``value``) or a description (``text``)."""
    value = (value or "").strip() or None
    text = (text or "").strip() or None
    if value is None and text is None:
        raise UsageError("a tip needs a link, number or username, or a description")
    if text is not None and len(text) > MAX_TEXT:
        raise UsageError(f"the description is longer than {MAX_TEXT:,} characters")
    if kind is not None and kind not in TIP_KINDS:
        raise UsageError(f"unknown tip kind {kind!r}; use one of {', '.join(TIP_KINDS)}")
    if value is not None:
        found_kind, normalised = classify(value, region)
        kind = kind or found_kind
        value = normalised if kind == found_kind else value
    else:
        kind = "text"
    now = utcnow()
    follow_up = new_follow_up(now.year)
    with store.engine.begin() as conn:
        conn.execute(
            insert(tips_table).values(
                follow_up=follow_up,
                received_at=now,
                kind=kind,
                value=value,
                text=text,
                status="new",
                channel=channel,
            )
        )
    logger.info("tip %s received (%s)", follow_up, kind)
    return TipRecord(follow_up, kind, value, text, "new", now, channel)


def list_tips(store: Store, status: str | None = None) -> list[TipRecord]:
    query = select(tips_table).order_by(tips_table.c.received_at, tips_table.c.id)
    if status is not None:
        query = query.where(tips_table.c.status == status)
    with store.engine.connect() as conn:
        return [
            TipRecord(r.follow_up, r.kind, r.value, r.text, r.status, r.received_at, r.channel)
            for r in conn.execute(query)
        ]


def set_tip_status(store: Store, follow_up: str, status: str, note: str | None = None) -> None:
    if status not in TIP_STATUSES:
        raise UsageError(f"unknown status {status!r}; use one of {', '.join(TIP_STATUSES)}")
    values: dict[str, Any] = {"status": status}
    if note:
        values["notes"] = note
    with store.engine.begin() as conn:
        done = conn.execute(
            update(tips_table).where(tips_table.c.follow_up == follow_up.upper()).values(**values)
        )
    if done.rowcount == 0:
        raise NotFoundError(f"no tip with follow-up number {follow_up!r}; `raksha tip list`")
