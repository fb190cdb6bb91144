"""Item locators: the chained names (``phone.dd > partition 1 @ 1048576 > /DCIM/a.jpg``) a
report shows, and the key (their SHA-256) the store indexes them by.

Shared by the scan (which writes items) and the chat writer (which points messages at
them), so both name the same file the same way.
"""

from __future__ import annotations

import hashlib

SEPARATOR = " > "


def locator_key(locator: str) -> str:
    return hashlib.sha256(locator.encode("utf-8")).hexdigest()


def chain_locator(root: str, locator: str) -> str:
    """Every stored locator starts with the evidence's own name (``phone > DCIM/a.jpg``)."""
    if locator == root or locator.startswith(root + SEPARATOR):
        return locator
    return f"{root}{SEPARATOR}{locator}"
