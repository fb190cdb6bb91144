"""Facebook Messenger chats: the "Download Your Information" (DYI) JSON export and the
separate download of end-to-end-encrypted (E2EE) chats.

DYI puts each chat ("thread") in its own folder, ``messages/<inbox|archived_threads|...>/
<thread>_<id>/``, as one or more ``message_N.json`` files; the ``messages/`` folder moved
under ``your_activity_across_facebook/`` in 2024 and under ``your_facebook_activity/`` in
2025, and a download may be rooted one folder higher still, so threads are found by the
end of their path, never by a fixed root. The E2EE download is a flat set of
``<Name>_<n>.json`` files with a different schema, recognised by sniffing their first
bytes, since their names say nothing.

Both are read in flat memory: a thread file is parsed twice with :mod:`ijson`, once for
the chat's participants and title (which DYI writes *after* the messages) and once for
the messages themselves, so no file is ever held whole and one message is held at a
time. Messages are yielded in file order (Messenger writes newest first), never sorted.

Messenger names accounts by display name only, so every account is an ``id_kind =
"name"`` :class:`AccountRef`, scoped by the store to the export.

DYI writes text as UTF-8 bytes each escaped as ``\\u00XX`` (mojibake: "☺" arrives as
"â\\x98º"); every DYI string is repaired by re-reading its latin-1 bytes as UTF-8, which
leaves any string alone that is not mojibake (text outside latin-1, or bytes that are not
UTF-8). The E2EE download writes proper UTF-8 and is not touched.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, BinaryIO

import ijson

from raksha.chats.identity import clean_text, content_key
from raksha.chats.records import (
    MESSENGER,
    AccountRef,
    ChatEvent,
    ChatInfo,
    ChatMessage,
    ChatProblem,
    MediaRef,
)
from raksha.chats.tree import ExportTree, resolve_media

logger = logging.getLogger(__name__)

NAME = MESSENGER

#: Folders the 2024 and 2025 DYI layouts put ``messages/`` under.
LAYOUT_PREFIXES = ("your_activity_across_facebook/", "your_facebook_activity/")

#: The folders of ``messages/`` that hold threads.
THREAD_FOLDERS = (
    "inbox",
    "archived_threads",
    "filtered_threads",
    "message_requests",
    "e2ee_cutover",
)

MISSING_MEDIA = "attachment named in the export but not included"
LINKED_MEDIA = "attachment is a web link, not a file in the export"
NO_MEDIA_PATH = "attachment without a file path"

_THREAD_FILE = re.compile(
    r"(?:^|/)messages/(?P<folder>" + "|".join(THREAD_FOLDERS) + r")/(?P<thread>[^/]+)/"
    r"message_(?P<n>\d+)\.json$"
)
_E2EE_NAME = re.compile(r"(?:^|/)[^/]+_\d+\.json$")
_SNIFF_BYTES = 64 * 1024
_BOM = b"\xef\xbb\xbf"

_READ_ERRORS = (ijson.JSONError, OSError, EOFError, zipfile.BadZipFile, zlib.error, UnicodeError)
_MESSAGE_ERRORS = (TypeError, ValueError, ArithmeticError)

#: DYI message fields that carry attachments, and the kind each one is.
_DYI_MEDIA = (
    ("photos", "photo"),
    ("videos", "video"),
    ("audio_files", "audio"),
    ("files", "file"),
    ("gifs", "animation"),
)

#: The E2EE download names attachments only by file, so the kind comes from the extension.
_KIND_BY_EXTENSION = {
    **dict.fromkeys(("jpg", "jpeg", "png", "webp", "heic", "heif", "bmp"), "photo"),
    **dict.fromkeys(("mp4", "mov", "m4v", "webm", "3gp", "mkv"), "video"),
    **dict.fromkeys(("mp3", "m4a", "aac", "ogg", "opus", "wav", "amr"), "audio"),
    "gif": "animation",
}

#: Group events as DYI writes them (English exports); "You" is the exporting account.
_GROUP_EVENTS = (
    (re.compile(r"^(?P<actor>.+?) added (?P<members>.+) to the group\.?$"), "invite"),
    (re.compile(r"^(?P<actor>.+?) removed (?P<members>.+) from the group\.?$"), "remove"),
    (re.compile(r"^(?P<actor>.+?) left the group\.?$"), "leave"),
    (re.compile(r"^(?P<actor>.+?) named the group (?P<title>.+?)\.?$"), "other"),
    (re.compile(r"^(?P<actor>.+?) created the group\.?$"), "create"),
)
_YOU = ("You", "you")
_SERVICE_TYPES = ("Subscribe", "Unsubscribe")


def repair_mojibake(text: str) -> str:
    """``text`` with DYI's byte-per-character escaping undone, or ``text`` itself when it
    is not mojibake (already proper text, or not UTF-8 underneath)."""
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def _as_is(text: str) -> str:
    return text


_Fix = Callable[[str], str]
_Build = Callable[[dict[str, Any], str], ChatMessage]


@dataclass(slots=True)
class _Thread:
    """One DYI thread folder and its ``message_N.json`` files, in N order."""

    root: str  # the export root as the tree names it: "" or "facebook-user123/"
    layout: str  # "", "your_activity_across_facebook/" or "your_facebook_activity/"
    folder: str  # inbox, archived_threads, ...
    thread: str  # the thread folder's own name
    files: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"{self.root}{self.layout}messages/{self.folder}/{self.thread}"


def _threads(tree: ExportTree) -> list[_Thread]:
    found: dict[str, tuple[_Thread, list[tuple[int, str]]]] = {}
    for name in tree.names():
        match = _THREAD_FILE.search(name)
        if match is None:
            continue
        above = name[: match.start() + (1 if name[match.start()] == "/" else 0)]
        layout = next((p for p in LAYOUT_PREFIXES if above.endswith(p)), "")
        root = above[: len(above) - len(layout)]
        thread = _Thread(root, layout, match["folder"], match["thread"])
        entry = found.setdefault(thread.path, (thread, []))
        entry[1].append((int(match["n"]), name))
    out: list[_Thread] = []
    for path in sorted(found):
        thread, files = found[path]
        thread.files = [name for _, name in sorted(files)]
        out.append(thread)
    return out


def find_threads(tree: ExportTree) -> list[str]:
    """The DYI thread files of ``tree``, by thread folder then by N (message_2 before
    message_10), whichever of the three layouts the export uses."""
    return [name for thread in _threads(tree) for name in thread.files]


def find_e2ee_files(tree: ExportTree) -> list[str]:
    """The E2EE chat files of ``tree``: ``<Name>_<n>.json`` anywhere whose first bytes show
    string participants, a ``threadName`` and messages with ``senderName``/``timestamp``."""
    dyi = set(find_threads(tree))
    return sorted(
        name
        for name in tree.names()
        if name not in dyi and _E2EE_NAME.search(name) and _sniff_e2ee(tree, name)
    )


def looks_like_messenger(tree: ExportTree) -> bool:
    """Whether ``tree`` holds Messenger chats of either kind."""
    return bool(find_threads(tree)) or bool(find_e2ee_files(tree))


def _sniff_e2ee(tree: ExportTree, name: str) -> bool:
    """Whether the first bytes of ``name`` look like an E2EE chat file; reads at most
    :data:`_SNIFF_BYTES`, so a large unrelated JSON file costs next to nothing."""
    try:
        with tree.open(name) as f:
            head = _strip_bom(f.read(_SNIFF_BYTES))
    except _READ_ERRORS:
        return False
    is_object = participants = thread_name = messages = first_done = False
    bad_participant = False
    first_keys: set[str] = set()
    try:
        for number, (prefix, event, value) in enumerate(ijson.parse(io.BytesIO(head))):
            if number == 0:
                if event != "start_map":
                    return False
                is_object = True
            elif prefix == "" and event == "map_key":
                thread_name = thread_name or value == "threadName"
                messages = messages or value == "messages"
            elif prefix == "participants.item":
                if event == "string":
                    participants = True
                else:
                    bad_participant = True
            elif prefix == "messages.item" and not first_done:
                if event == "map_key":
                    first_keys.add(value)
                elif event == "end_map":
                    first_done = True
            if first_done and thread_name:
                break
    except ijson.JSONError:
        pass  # the head ends mid-document (or is not JSON: then nothing was seen)
    wanted = {"senderName", "timestamp"}
    first_ok = wanted <= first_keys if first_done else not first_keys or bool(wanted & first_keys)
    return (
        is_object and participants and not bad_participant and thread_name and messages and first_ok
    )


def _strip_bom(data: bytes) -> bytes:
    return data[len(_BOM) :] if data.startswith(_BOM) else data


class _NoBom:
    """A file handed to ijson without a leading UTF-8 byte-order mark, which yajl would
    reject as an invalid character (exports that passed through an editor carry one)."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._first = True

    def read(self, size: int = -1) -> bytes:
        data = self._f.read(size)
        if self._first and data:  # ijson first reads 0 bytes, to learn bytes from text
            self._first = False
            if data.startswith(_BOM):
                data = data[len(_BOM) :] or self._f.read(size)
        return data


def _json_reason(exc: BaseException) -> str:
    """The first line of a parse error: yajl's message carries the bytes it choked on over
    several lines (and sometimes as bytes), which a report does not need."""
    if isinstance(exc, ijson.JSONError):
        arg: object = exc.args[0] if exc.args else ""
        text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
        first = text.strip().splitlines()[0].strip() if text.strip() else "invalid JSON"
        return first
    return f"{type(exc).__name__}: {exc}"


@dataclass(slots=True)
class _Meta:
    """What the first pass over a chat file learnt, the messages skipped."""

    is_object: bool = False
    participant_count: int = 0
    has_participants: bool = False
    participants: list[str] = field(default_factory=list)
    title: str | None = None
    thread_path: str | None = None
    has_messages: bool = False
    error: str | None = None


_ITEM_START = frozenset(("start_map", "start_array", "string", "number", "boolean", "null"))


def _scan_meta(tree: ExportTree, name: str, title_key: str) -> _Meta:
    """Participants, title and thread path of a chat file, in one streaming pass that
    steps over the messages without building them."""
    meta = _Meta()
    try:
        with tree.open(name) as f:
            for number, (prefix, event, value) in enumerate(ijson.parse(_NoBom(f))):
                if number == 0:
                    if event != "start_map":
                        meta.error = "its JSON is not an object"
                        break
                    meta.is_object = True
                elif prefix.startswith("messages."):
                    continue
                elif prefix == "participants.item":
                    if event in _ITEM_START:
                        meta.participant_count += 1
                    if event == "string":
                        meta.participants.append(value)
                elif prefix == "participants.item.name":
                    if event == "string":
                        meta.participants.append(value)
                elif prefix == "participants" and event == "start_array":
                    meta.has_participants = True
                elif prefix == "messages" and event == "start_array":
                    meta.has_messages = True
                elif prefix == title_key and event == "string":
                    meta.title = value
                elif prefix == "thread_path" and event == "string":
                    meta.thread_path = value
    except _READ_ERRORS as exc:
        reason = _json_reason(exc)
        meta.error = reason if meta.is_object else f"not JSON ({reason})"
    return meta


def _millis(value: object) -> int | None:
    """A millisecond timestamp from what the export wrote: a number, or digits in a
    string (seen in hand-edited and converted exports); anything else is no time."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float):
        try:
            return int(value)
        except (ValueError, OverflowError, ArithmeticError):
            return None
    if isinstance(value, str):
        text = value.strip()
        if text.removeprefix("-").isdigit():
            return int(text)
    return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _utc(millis: int | None) -> datetime | None:
    if millis is None:
        return None
    try:
        return _EPOCH + timedelta(milliseconds=millis)
    except OverflowError:
        return None


def _string(value: object, fix: _Fix) -> str:
    """Message text from what the export wrote: null is no text, a bare number is its
    digits, anything else (a list, an object) is not text."""
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return ""


def _name(value: object, fix: _Fix) -> str | None:
    if not isinstance(value, str):
        return None
    name = clean_text(fix(value))
    return name or None


def _account(name: str) -> AccountRef:
    return AccountRef(MESSENGER, name, "name", name)


class _Repeats:
    """Numbers repeats of one content key within a chat ("#2", "#3"): two identical
    messages in the same millisecond are still two messages.

    Identical keys share their timestamp, and Messenger lists a chat in time order, so
    only the current run of one timestamp is remembered: memory stays flat however long
    the chat. A file out of time order that repeats a message away from its twin would
    give both the same key; that is the price of not keeping every key.
    """

    def __init__(self) -> None:
        self._millis: int | None = None
        self._run: dict[str, int] = {}

    def key(self, millis: int | None, base: str) -> str:
        if millis != self._millis:
            self._millis = millis
            self._run.clear()
        count = self._run.get(base, 0) + 1
        self._run[base] = count
        return base if count == 1 else f"{base}#{count}"


@dataclass(slots=True)
class _Chat:
    """What reading one chat's messages needs beside the message itself."""

    tree: ExportTree
    key: str
    participants: frozenset[str]
    repeats: _Repeats = field(default_factory=_Repeats)


def _info(chat_key: str, where: str, meta: _Meta, fix: _Fix) -> ChatInfo:
    names = [n for n in (_name(v, fix) for v in meta.participants) if n is not None]
    count = max(meta.participant_count, len(names)) if meta.has_participants else None
    title = _name(meta.title, fix) if meta.title is not None else None
    return ChatInfo(
        platform=MESSENGER,
        chat_key=chat_key,
        title=title,
        kind="group" if count is not None and count > 2 else "personal",
        member_count=count,
        participants=[_account(n) for n in dict.fromkeys(names)],
        where=where,
    )


def _open_messages(
    tree: ExportTree, name: str, build: _Build
) -> Iterator[ChatMessage | ChatProblem]:
    """The messages of one chat file in file order, then a problem if the file breaks off;
    ``build(raw, where)`` turns one message object into a record."""
    count = 0
    try:
        with tree.open(name) as f:
            for count, raw in enumerate(ijson.items(_NoBom(f), "messages.item"), start=1):
                where = f"{name} message {count}"
                if not isinstance(raw, dict):
                    yield ChatProblem(
                        where, f"message is a JSON {type(raw).__name__}, not an object"
                    )
                    continue
                try:
                    yield build(raw, where)
                except _MESSAGE_ERRORS as exc:
                    logger.debug("unreadable message at %s", where, exc_info=True)
                    yield ChatProblem(where, f"message could not be read: {exc}")
    except _READ_ERRORS as exc:
        reason = _json_reason(exc)
        logger.warning("Messenger file %s breaks off after %d messages: %s", name, count, reason)
        yield ChatProblem(
            name, f"damaged JSON after {count} messages ({reason}); the rest of the file is lost"
        )
        return
    if count == 0:
        meta = _scan_meta(tree, name, "title")
        if not meta.has_messages:
            yield ChatProblem(name, "not a Messenger chat file: no messages list")


def _first_problem(name: str, meta: _Meta) -> ChatProblem | None:
    """Why a chat file cannot give its chat's description, if it cannot."""
    if not meta.is_object:
        return ChatProblem(name, f"not a Messenger chat file: {meta.error or 'empty file'}")
    if not meta.has_messages and meta.error is None:
        return ChatProblem(name, "not a Messenger chat file: no messages list")
    return None


def read_messenger(tree: ExportTree) -> Iterator[ChatEvent]:
    """Every Messenger chat in ``tree``: per chat its :class:`ChatInfo`, then its messages
    in the order of the files (newest first, as Messenger writes them), with a
    :class:`ChatProblem` for what cannot be read; DYI threads first, then E2EE files."""
    for thread in _threads(tree):
        yield from _read_thread(tree, thread)
    for name in find_e2ee_files(tree):
        yield from _read_e2ee(tree, name)


# --- DYI threads ---------------------------------------------------------------------


def _read_thread(tree: ExportTree, thread: _Thread) -> Iterator[ChatEvent]:
    """One thread over all its files: the chat is described once, from the first file
    that can describe it; a damaged file loses only itself."""
    chat: _Chat | None = None
    for name in thread.files:
        if chat is None:
            meta = _scan_meta(tree, name, "title")
            problem = _first_problem(name, meta)
            if problem is not None:
                logger.warning("Messenger thread file %s: %s", name, problem.reason)
                yield problem
                continue
            path = repair_mojibake(meta.thread_path.strip()) if meta.thread_path else ""
            key = f"messenger:{path or f'{thread.folder}/{thread.thread}'}"
            info = _info(key, name, meta, repair_mojibake)
            chat = _Chat(tree, key, frozenset(a.external_id for a in info.participants))
            yield info
        yield from _open_messages(tree, name, partial(_dyi_message, chat=chat, thread=thread))


def _dyi_message(raw: dict[str, Any], where: str, *, chat: _Chat, thread: _Thread) -> ChatMessage:
    fix = repair_mojibake
    sender_name = _name(raw.get("sender_name"), fix)
    millis = _millis(raw.get("timestamp_ms"))
    text = _string(raw.get("content"), fix)
    share = raw.get("share")
    if isinstance(share, dict):
        link = share.get("link")
        if isinstance(link, str) and link.strip():
            link = fix(link.strip())
            if link not in text:
                text = f"{text}\n{link}" if text else link
    media: list[MediaRef] = []
    uris: list[str] = []
    for field_name, kind in _DYI_MEDIA:
        items = raw.get(field_name)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict):
                    media.append(_dyi_media(chat.tree, thread, kind, item.get("uri"), uris))
    sticker = raw.get("sticker")
    if isinstance(sticker, dict):
        media.append(_dyi_media(chat.tree, thread, "sticker", sticker.get("uri"), uris))
    message = ChatMessage(
        chat_key=chat.key,
        message_key=chat.repeats.key(
            millis, content_key(millis, sender_name, text, "\n".join(uris))
        ),
        sent_at=_utc(millis),
        sender=_account(sender_name) if sender_name else None,
        text=text,
        media=media,
        deleted=raw.get("is_unsent") is True,
        where=where,
    )
    if not media:
        _group_event(message, raw, sender_name, chat.participants)
    return message


def _dyi_media(
    tree: ExportTree, thread: _Thread, kind: str, uri: object, uris: list[str]
) -> MediaRef:
    """An attachment of a DYI message. The uri is relative to the export root, but the
    2024/2025 layouts write it with or without their layout folder regardless of where
    the tree starts, so each reading is tried; nothing may climb out of the export."""
    if not isinstance(uri, str) or not uri.strip():
        return MediaRef(kind, None, missing=NO_MEDIA_PATH)
    uri = repair_mojibake(uri.strip())
    uris.append(uri)
    file_name = posixpath.basename(uri.replace("\\", "/")) or None
    if "://" in uri:
        return MediaRef(kind, None, file_name=file_name, missing=LINKED_MEDIA)
    rel, problem = resolve_media("", uri)
    if problem is not None or rel is None:
        logger.warning("Messenger attachment %r refused: %s", uri, problem)
        return MediaRef(kind, None, file_name=file_name, missing=problem)
    stripped = next((rel[len(p) :] for p in LAYOUT_PREFIXES if rel.startswith(p)), rel)
    candidates = (
        thread.root + rel,
        thread.root + stripped,
        thread.root + thread.layout + stripped,
        f"{thread.path}/{rel}",
    )
    for candidate in dict.fromkeys(candidates):
        if tree.exists(candidate):
            return MediaRef(kind, candidate, file_name=file_name, size=tree.size(candidate))
    return MediaRef(kind, None, file_name=file_name, missing=MISSING_MEDIA)


def _split_members(text: str, participants: frozenset[str]) -> list[str]:
    """Names in "Bob, Carol and Dave": split only where every piece is a participant,
    since a display name may itself contain "and" or a comma."""
    if text in participants:
        return [text]
    pieces = [p.strip() for p in re.split(r",\s*|\s+and\s+", text)]
    if len(pieces) > 1 and all(p in participants for p in pieces):
        return pieces
    return [text]


def _group_event(
    message: ChatMessage, raw: dict[str, Any], sender: str | None, participants: frozenset[str]
) -> None:
    """Marks ``message`` as a membership event where DYI's text shows one. Messenger
    writes these as ordinary messages from the actor, so outside the Subscribe and
    Unsubscribe types the text's actor must be the sender, or a member who happens to
    type "Bob left the group." would be taken at their word."""
    kind = raw.get("type")
    service_type = kind in _SERVICE_TYPES
    if not service_type and " the group" not in message.text:
        return  # every pattern names "the group": most messages stop here
    listed = raw.get("users")
    users = [
        n
        for n in (
            _name(u.get("name"), repair_mojibake)
            for u in (listed if isinstance(listed, list) else [])
            if isinstance(u, dict)
        )
        if n is not None
    ]
    for pattern, action in _GROUP_EVENTS:
        match = pattern.match(message.text.strip())
        if match is None:
            continue
        actor = clean_text(match["actor"])
        if not service_type and actor != sender and actor not in _YOU:
            return
        actor_ref = _account(actor) if actor not in _YOU else _account(sender) if sender else None
        if action in ("invite", "remove"):
            names = users or _split_members(clean_text(match["members"]), participants)
        elif action == "leave":
            names = [actor] if actor not in _YOU else ([sender] if sender else [])
        else:
            names = []
        message.action = action
        message.actor = actor_ref
        message.members = [_account(n) for n in names if n not in _YOU]
        return
    if service_type:
        # A membership event in words we do not know (another language): the type and
        # the users it lists still say what happened.
        if kind == "Subscribe":
            message.action = "invite"
        elif not users or users == [sender]:
            message.action = "leave"
            users = users or ([sender] if sender else [])
        else:
            message.action = "remove"
        message.actor = _account(sender) if sender else None
        message.members = [_account(n) for n in users]


# --- E2EE download -------------------------------------------------------------------


def _read_e2ee(tree: ExportTree, name: str) -> Iterator[ChatEvent]:
    """One E2EE chat file: its participants are plain strings and its media paths are
    relative to the file's own folder."""
    meta = _scan_meta(tree, name, "threadName")
    problem = _first_problem(name, meta)
    if problem is not None:
        yield problem
        return
    stem = posixpath.basename(name).removesuffix(".json")
    info = _info(f"messenger:e2ee/{stem}", name, meta, _as_is)
    chat = _Chat(tree, info.chat_key, frozenset(a.external_id for a in info.participants))
    yield info
    base = posixpath.dirname(name)
    yield from _open_messages(tree, name, partial(_e2ee_message, chat=chat, base=base))


def _e2ee_message(raw: dict[str, Any], where: str, *, chat: _Chat, base: str) -> ChatMessage:
    sender_name = _name(raw.get("senderName"), _as_is)
    millis = _millis(raw.get("timestamp"))
    text = _string(raw.get("text"), _as_is)
    media: list[MediaRef] = []
    uris: list[str] = []
    items = raw.get("media")
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                media.append(_e2ee_media(chat.tree, base, item.get("uri"), uris))
    return ChatMessage(
        chat_key=chat.key,
        message_key=chat.repeats.key(
            millis, content_key(millis, sender_name, text, "\n".join(uris))
        ),
        sent_at=_utc(millis),
        sender=_account(sender_name) if sender_name else None,
        text=text,
        media=media,
        deleted=raw.get("isUnsent") is True,
        where=where,
    )


def _e2ee_media(tree: ExportTree, base: str, uri: object, uris: list[str]) -> MediaRef:
    if not isinstance(uri, str) or not uri.strip():
        return MediaRef("file", None, missing=NO_MEDIA_PATH)
    uri = uri.strip()
    uris.append(uri)
    file_name = posixpath.basename(uri.replace("\\", "/")) or None
    extension = file_name.rsplit(".", 1)[-1].lower() if file_name and "." in file_name else ""
    kind = _KIND_BY_EXTENSION.get(extension, "file")
    if "://" in uri:
        return MediaRef(kind, None, file_name=file_name, missing=LINKED_MEDIA)
    path, problem = resolve_media(base, uri)
    if problem is not None or path is None:
        logger.warning("Messenger E2EE attachment %r refused: %s", uri, problem)
        return MediaRef(kind, None, file_name=file_name, missing=problem)
    if tree.exists(path):
        return MediaRef(kind, path, file_name=file_name, size=tree.size(path))
    return MediaRef(kind, None, file_name=file_name, missing=MISSING_MEDIA)
