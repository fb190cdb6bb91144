"""Account identities from what exports show: user ids, phone numbers, display names.

WhatsApp exports name senders by the exporting phone's contact name or by the number as
that phone formats it (``+91 98470 12345``, ``098470 12345``); numbers are normalised to
E.164 with ``phonenumbers`` (default region ``IN``, configurable per ingest), which is
what lets the same person's WhatsApp and Telegram accounts meet later.
"""

from __future__ import annotations

import hashlib
import logging
import re

import phonenumbers

from raksha.chats.records import AccountRef

logger = logging.getLogger(__name__)

DEFAULT_REGION = "IN"
_PHONE_LIKE = re.compile(r"^[+\d][\d\s().\-\u00a0\u202f\u2011]{5,}\d$")
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def clean_text(text: str) -> str:
    """``text`` without the direction marks exports sprinkle into names and numbers."""
    return text.translate(_INVISIBLE).strip()


def e164(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """The E.164 form of a phone number as an export wrote it, or None if it is not one."""
    text = clean_text(raw)
    if not _PHONE_LIKE.match(text):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def account_from_name(platform: str, shown: str, region: str = DEFAULT_REGION) -> AccountRef:
    """An account named only by what the export shows: a phone number if it is one
    (``id_kind = "phone"``), else the display name (``id_kind = "name"``)."""
    name = clean_text(shown)
    phone = e164(name, region)
    if phone is not None:
        return AccountRef(platform, phone, "phone", name)
    return AccountRef(platform, name, "name", name)


def content_key(*parts: object) -> str:
    """A stable key for a message without a platform id (time + sender + text + file)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(str(part if part is not None else "").encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]
