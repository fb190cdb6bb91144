"""Recognising a chat export by its content, and opening its reader.

``raksha scan`` takes a folder, a zip or a Telegram ``result.json``; whether it is a chat
export, and of which app, is decided from what is inside (a Telegram ``result.json``, a
WhatsApp chat text, Messenger thread files), never from the name. ``--kind`` forces it.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from raksha.chats import messenger, telegram, whatsapp
from raksha.chats.records import ChatEvent
from raksha.chats.tree import ExportTree, FolderTree, ZipTree
from raksha.errors import UsageError
from raksha.sources.base import open_readonly, read_head

logger = logging.getLogger(__name__)

KINDS = ("telegram", "whatsapp", "messenger")
_HEAD = 64 * 1024


@dataclass(slots=True)
class ReaderOptions:
    region: str = "IN"  # for phone numbers written without a country code
    tz: str = "Asia/Kolkata"  # for times an export writes without a zone


@dataclass(slots=True)
class DetectedExport:
    """An export found at ``scan_path``: what to scan for media, and how to read its chats."""

    kind: str
    scan_path: Path
    tree: ExportTree
    read: Callable[[], Iterator[ChatEvent]]

    def close(self) -> None:
        close = getattr(self.tree, "close", None)
        if close is not None:
            close()


def _tree(path: Path) -> ExportTree | None:
    if path.is_dir():
        return FolderTree(path)
    if path.is_file() and zipfile.is_zipfile(path):
        try:
            return ZipTree(path)
        except (OSError, zipfile.BadZipFile):
            return None
    return None


def _telegram_head(tree: ExportTree, name: str) -> bytes:
    with tree.open(name) as f:
        return read_head(f, _HEAD)


def _kind_of(tree: ExportTree) -> str | None:
    result = telegram.find_result(tree)
    if result is not None and telegram.looks_like_telegram(_telegram_head(tree, result)):
        return "telegram"
    if whatsapp.find_chat_file(tree) is not None:
        return "whatsapp"
    if messenger.looks_like_messenger(tree):
        return "messenger"
    return None


def detect_export(
    path: Path, kind: str | None = None, options: ReaderOptions | None = None
) -> DetectedExport | None:
    """The chat export at ``path``, or None when it is not one (and ``kind`` is not forced).

    A Telegram ``result.json`` given by itself stands for the folder it lies in.
    """
    opts = options or ReaderOptions()
    if kind is not None and kind not in KINDS:
        raise UsageError(f"unknown export kind {kind!r}; use one of {', '.join(KINDS)}")
    scan_path = path
    if path.is_file() and not zipfile.is_zipfile(path):
        with open_readonly(str(path)) as f:
            head = read_head(f, _HEAD)
        if not (kind == "telegram" or telegram.looks_like_telegram(head)):
            return None
        scan_path = path.parent
    tree = _tree(scan_path)
    if tree is None:
        return None
    found = kind or _kind_of(tree)
    if found is None:
        close = getattr(tree, "close", None)
        if close is not None:
            close()
        return None
    logger.info("%s: %s export", path, found)
    return DetectedExport(found, scan_path, tree, _reader(found, tree, opts))


def _reader(kind: str, tree: ExportTree, opts: ReaderOptions) -> Callable[[], Iterator[ChatEvent]]:
    if kind == "telegram":
        return lambda: telegram.read_telegram(tree, tz=opts.tz, region=opts.region)
    if kind == "whatsapp":
        return lambda: whatsapp.read_whatsapp(tree, region=opts.region, tz=opts.tz)
    return lambda: messenger.read_messenger(tree)
