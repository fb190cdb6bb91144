"""What a seized device is: its kind, and an IMEI that can be trusted.

An IMEI is how a phone is named to a telecom operator and a court; a misread digit
names someone else's phone. Its last digit is a Luhn check digit, so most misreadings
are caught here, at the moment of entry, with a message that says which digit to read
again.
"""

from __future__ import annotations

from collections.abc import Sequence

from raksha.errors import UsageError

#: What can be seized, as stored and shown.
KINDS: tuple[str, ...] = (
    "laptop",
    "phone",
    "tablet",
    "modem/router",
    "hard disk",
    "memory card",
    "USB drive",
    "SIM",
    "other",
)

_ALIASES: dict[str, str] = {
    "notebook": "laptop",
    "computer": "laptop",
    "mobile": "phone",
    "mobile phone": "phone",
    "smartphone": "phone",
    "cellphone": "phone",
    "cell phone": "phone",
    "handset": "phone",
    "tab": "tablet",
    "modem": "modem/router",
    "router": "modem/router",
    "wifi router": "modem/router",
    "modem router": "modem/router",
    "dongle": "modem/router",
    "hdd": "hard disk",
    "ssd": "hard disk",
    "hard drive": "hard disk",
    "harddisk": "hard disk",
    "disk": "hard disk",
    "external hard disk": "hard disk",
    "sd": "memory card",
    "sd card": "memory card",
    "microsd": "memory card",
    "micro sd": "memory card",
    "memory": "memory card",
    "card": "memory card",
    "usb": "USB drive",
    "usb stick": "USB drive",
    "pendrive": "USB drive",
    "pen drive": "USB drive",
    "flash drive": "USB drive",
    "thumb drive": "USB drive",
    "sim card": "SIM",
}

IMEI_DIGITS = 15
#: The IMEI column holds at most two (a dual-SIM phone), written ``A, B``.
MAX_IMEIS = 2


class InvalidImeiError(UsageError):
    """An IMEI that is not 15 digits with a valid Luhn check digit."""


def normalise_kind(text: str) -> str:
    """The canonical kind for what was typed: ``"hdd"`` is ``"hard disk"``."""
    key = " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())
    for kind in KINDS:
        if key == kind.lower():
            return kind
    if key in _ALIASES:
        return _ALIASES[key]
    raise UsageError(
        f"{text!r} is not a kind of seizure; use one of: {', '.join(KINDS)} "
        "(or a simple alias such as modem, hdd, sd, pendrive)"
    )


def luhn_check_digit(body: str) -> int:
    """The Luhn digit that completes ``body`` (the first 14 digits of an IMEI)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # doubled: every second digit from the right of the full number
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return (10 - total % 10) % 10


def validate_imei(text: str) -> str:
    """One IMEI as 15 digits (spaces, dashes and slashes dropped), or a clear error."""
    digits = "".join(ch for ch in text if ch not in " -/.")
    if not digits.isdigit() or len(digits) != IMEI_DIGITS:
        found = f"{sum(c.isdigit() for c in digits)} digits"
        if not digits.isdigit():
            found += " and other characters"
        raise InvalidImeiError(
            f"IMEI {text!r} is not valid: an IMEI has {IMEI_DIGITS} digits (this has "
            f"{found}). Read it again from the label or with *#06#; a 16-digit IMEISV is "
            "not an IMEI"
        )
    want = luhn_check_digit(digits[:-1])
    if int(digits[-1]) != want:
        raise InvalidImeiError(
            f"IMEI {text!r} is not valid: its last (check) digit should be {want}, not "
            f"{digits[-1]}, so a digit was misread or mistyped; read it again from the device"
        )
    return digits


def imei_field(value: str | Sequence[str] | None) -> str | None:
    """One or two IMEIs, each validated, as the IMEI column holds them."""
    if value is None:
        return None
    given = [value] if isinstance(value, str) else list(value)
    parts = [p for v in given for p in v.split(",") if p.strip()]
    if not parts:
        return None
    if len(parts) > MAX_IMEIS:
        raise InvalidImeiError(f"at most {MAX_IMEIS} IMEIs per device (a dual-SIM phone has two)")
    return ", ".join(validate_imei(p) for p in parts)
