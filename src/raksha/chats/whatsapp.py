"""WhatsApp "Export chat" text files (Android and iOS) read into chat records.

WhatsApp publishes no format for its exports: a chat is a text file whose lines begin
with a date and time written the way the exporting phone's locale writes them
(``12/10/19, 9:41 pm - ``, ``[12/10/2019, 14:05:33] ``, ``13.06.18 21.25.15: ``), then
``sender: text``, or only text for a system message. This reader accepts every header
form in ``FORMATS.md`` and is strict about what follows it, because a header that is
guessed wrongly turns one person's words into another's.

Three things cannot be known from one line, so the file is read twice, both times line
by line (a chat of 100,000 messages is read in flat memory):

* whether dates are day-first or month-first: one date anywhere whose first field is
  over 12 settles it for the whole file; a file that never settles it is read by the
  region's habit and the user is told so;
* who took part and whether it is a group (the chat record comes first, before any
  message, so the first pass gathers the senders and group events);
* nothing else: the second pass yields the messages.

Times carry no zone; they are the exporting phone's wall clock and are converted to UTC
with the zone the investigator gives (``Asia/Kolkata`` unless told otherwise).

Attachment names come from the chat text, which the suspect's phone wrote: they are
resolved inside the export with :func:`resolve_media`, never followed out of it.
"""

from __future__ import annotations

import functools
import logging
import posixpath
import re
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import BinaryIO, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from raksha.chats.identity import DEFAULT_REGION, account_from_name, clean_text, content_key
from raksha.chats.records import (
    WHATSAPP,
    AccountRef,
    ChatEvent,
    ChatInfo,
    ChatMessage,
    ChatProblem,
    MediaRef,
)
from raksha.chats.tree import ExportTree, resolve_media

logger = logging.getLogger(__name__)

NAME = WHATSAPP
DEFAULT_TZ = "Asia/Kolkata"

#: Longest line kept; the rest of a longer line is dropped (and the user told), so a
#: file without line breaks cannot make the reader hold it whole.
MAX_LINE_BYTES = 1024 * 1024
#: Longest message text kept; further continuation lines are dropped (and the user told).
MAX_MESSAGE_CHARS = 1_000_000
#: How many recent timestamps the duplicate counter remembers (see :class:`_KeyCounter`).
KEY_WINDOW = 256
#: How much of a candidate ``.txt`` is read to sniff whether it is a WhatsApp chat.
SNIFF_BYTES = 4096

NOT_IN_EXPORT = "attachment named in the chat but not in the export"
OMITTED = "media not included in the export"
NO_HEADERS = "no line in the form of a WhatsApp export; locale not recognised"
NOT_UTF8 = (
    "the chat file is not valid UTF-8: bytes that could not be decoded are shown as "
    "U+FFFD (said once for the file)"
)

#: Regions whose phones write month-first dates; an ambiguous file from one of them is
#: read month/day, every other region's day/month.
MONTH_FIRST_REGIONS = frozenset({"US", "PH", "PR", "GU", "VI", "AS", "MP", "UM", "FM", "MH", "PW"})

_SP = "[ \t\u00a0\u202f]"
_DATE = r"(?P<d1>\d{1,4})(?P<dsep>[./-])(?P<d2>\d{1,2})(?P=dsep)(?P<d3>\d{1,4})\.?"
_TIME = (
    r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
    rf"(?:{_SP}*(?P<ampm>[aApP]\.?{_SP}?[mM]\.?))?"
)
_ANDROID_HEADER = re.compile(rf"{_DATE},?{_SP}+{_TIME}(?:{_SP}+[-\u2013]{_SP}|:{_SP})(?P<rest>.*)")
_IOS_HEADER = re.compile(rf"\[{_DATE},?{_SP}*{_TIME}\]{_SP}?(?P<rest>.*)")
_LEADING_MARKS = "\ufeff\u200e\u200f"

_EDITED = re.compile(r"[\s\u200e]*<This message was edited>")
_DELETED = frozenset({"this message was deleted", "you deleted this message"})
_ANDROID_ATTACHED = re.compile(r"(?P<name>.+?)\s*\(file attached\)")
_IOS_ATTACHED = re.compile(r"\u200e?<attached:\s*(?P<name>[^>]+?)\s*>")
_IOS_OMITTED = {
    "image omitted": "photo",
    "video omitted": "video",
    "audio omitted": "audio",
    "sticker omitted": "sticker",
    "gif omitted": "animation",
    "document omitted": "file",
    "contact card omitted": "file",
}
_ANDROID_OMITTED = {"<media omitted>": "file"}
_DOCUMENT_OMITTED = re.compile(r"(?P<name>.+?)(?:\s+\u2022.*)?\s+document omitted", re.IGNORECASE)

_ANDROID_NAME = re.compile(r"(?P<prefix>IMG|VID|AUD|PTT|STK|DOC)-\d{8}-WA\d+")
_IOS_NAME = re.compile(r"\d{8}-(?P<prefix>PHOTO|VIDEO|AUDIO|STICKER|GIF|CONTACT|DOCUMENT)-")
_PREFIX_KINDS = {
    "IMG": "photo",
    "VID": "video",
    "AUD": "audio",
    "PTT": "voice_message",
    "STK": "sticker",
    "DOC": "file",
    "PHOTO": "photo",
    "VIDEO": "video",
    "AUDIO": "audio",
    "STICKER": "sticker",
    "GIF": "animation",
    "CONTACT": "file",
    "DOCUMENT": "file",
}
_EXTENSION_KINDS = {
    **dict.fromkeys(("jpg", "jpeg", "png", "heic", "heif", "bmp"), "photo"),
    **dict.fromkeys(("mp4", "3gp", "mov", "mkv", "avi", "webm", "m4v"), "video"),
    **dict.fromkeys(("opus", "ogg", "m4a", "mp3", "aac", "amr", "wav"), "audio"),
    "webp": "sticker",
    "gif": "animation",
}

_NAMED_CHAT = re.compile(r"WhatsApp Chat (?:with |- )(?P<title>.+)\.txt", re.IGNORECASE)
_TITLE_PREFIX = re.compile(r"^WhatsApp Chat (?:with |- )", re.IGNORECASE)

# System messages, on text without direction marks and without a final full stop. The
# order matters: "joined using this group's invite link" before "joined".
_SYS_E2E = re.compile(r"end-to-end encrypt", re.IGNORECASE)
_SYS_CREATE = re.compile(r"(?P<actor>.+?) created group [\"\u201c](?P<name>.*)[\"\u201d]")
_SYS_CREATE_PLAIN = re.compile(r"(?P<actor>.+?) created this group")
_SYS_JOIN_LINK = re.compile(r"(?P<actor>.+?) joined using this group['\u2019]s invite link")
_SYS_JOIN = re.compile(r"(?P<actor>.+?) joined(?: from the community)?")
_SYS_LEAVE = re.compile(r"(?P<actor>.+?) left")
_SYS_REMOVE = re.compile(r"(?P<actor>.+?) removed (?P<members>.+)")
_SYS_ADD = re.compile(r"(?P<actor>.+?) added (?P<members>.+)")
_SYS_GROUPISH = re.compile(
    r"changed the subject|changed the group|changed this group|group['\u2019]s (?:icon|settings)"
    r"|deleted this group|now an admin|no longer an admin|group description",
    re.IGNORECASE,
)
_SYS_OTHER = re.compile(
    r"changed their phone number|security code .*changed|disappearing messages"
    r"|pinned a message|changed to a new number",
    re.IGNORECASE,
)
_MEMBER_SPLIT = re.compile(r",\s+|\s+and\s+|\s+&\s+")
_SENDER_QUOTES = frozenset('"\u201c\u201d')


class _Header(NamedTuple):
    """The date header of a line, fields as written (the date order is not yet known)."""

    d1: int
    d2: int
    d3: int
    d1_digits: int
    d3_digits: int
    hour: int
    minute: int
    second: int
    ampm: str | None
    rest: str


class _Line(NamedTuple):
    number: int
    text: str
    bad_utf8: bool
    cut: bool


class _System(NamedTuple):
    """What a system message says: the action, who did it, whom it concerns."""

    action: str
    actor: str | None
    members: tuple[str, ...]
    groupish: bool


def _parse_header(text: str) -> _Header | None:
    """The header of ``text`` if it starts with one in any known form, else None.

    Only the shape is checked here; whether the numbers make a date depends on the date
    order, which the caller knows.
    """
    line = text.lstrip(_LEADING_MARKS)
    match = _IOS_HEADER.match(line) if line.startswith("[") else _ANDROID_HEADER.match(line)
    if match is None:
        return None
    ampm = match["ampm"]
    return _Header(
        int(match["d1"]),
        int(match["d2"]),
        int(match["d3"]),
        len(match["d1"]),
        len(match["d3"]),
        int(match["h"]),
        int(match["mi"]),
        int(match["s"] or 0),
        ampm[0].lower() if ampm else None,
        match["rest"],
    )


def _header_date(head: _Header, day_first: bool) -> date | None:
    """The date a header names under one date order, or None if it names none."""
    if head.d1_digits == 4:  # year first (2019-10-12): no order to infer
        if head.d3_digits > 2:
            return None
        year, month, day = head.d1, head.d2, head.d3
    else:
        if head.d1_digits > 2 or head.d3_digits not in (2, 4):
            return None
        year = head.d3 + 2000 if head.d3_digits == 2 else head.d3
        day, month = (head.d1, head.d2) if day_first else (head.d2, head.d1)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _header_time(head: _Header) -> time | None:
    """The wall-clock time of a header, or None if the numbers are not a time."""
    hour = head.hour
    if head.ampm is not None:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if head.ampm == "p" else 0)
    try:
        return time(hour, head.minute, head.second)
    except ValueError:
        return None


def _plausible(head: _Header) -> bool:
    """Whether a header names a real time and a real date under at least one order."""
    return _header_time(head) is not None and (
        _header_date(head, True) is not None or _header_date(head, False) is not None
    )


def _system(text: str) -> _System | None:
    """The system message ``text`` is, if it is one this reader knows, else None."""
    body = clean_text(text).rstrip(".").strip()
    if _SYS_E2E.search(body):
        return _System("other", None, (), "this group" in body.lower())
    for pattern in (_SYS_CREATE, _SYS_CREATE_PLAIN):
        if match := pattern.fullmatch(body):
            return _System("create", match["actor"], (match["actor"],), True)
    if match := _SYS_JOIN_LINK.fullmatch(body):
        return _System("join_by_link", match["actor"], (match["actor"],), True)
    if _SYS_GROUPISH.search(body):  # before "added"/"left": a new subject may say anything
        return _System("other", None, (), True)
    if match := _SYS_JOIN.fullmatch(body):
        return _System("join", match["actor"], (match["actor"],), True)
    if match := _SYS_LEAVE.fullmatch(body):
        return _System("leave", match["actor"], (match["actor"],), True)
    for action, pattern in (("remove", _SYS_REMOVE), ("invite", _SYS_ADD)):
        if match := pattern.fullmatch(body):
            members = tuple(m for m in _MEMBER_SPLIT.split(match["members"]) if m.strip())
            return _System(action, match["actor"], members, True)
    if _SYS_OTHER.search(body):
        return _System("other", None, (), False)
    return None


def _may_be_marker(line: str) -> bool:
    """A cheap test that a line might hold an attachment marker (most lines do not)."""
    return "<" in line or "omitted" in line or "attached)" in line


def _split_sender(rest: str) -> tuple[str | None, str]:
    """(sender as shown, text) of what follows a header; sender None for a system line.

    Android writes system messages with no sender; iOS writes them as if the group (or
    the contact) had sent them, with the text behind a U+200E mark, so such a line is a
    system message when its text is one this reader knows.
    """
    index = rest.find(": ")
    if index > 0:
        shown, text = rest[:index], rest[index + 2 :]
    elif rest.endswith(":") and len(rest) > 1:
        shown, text = rest[:-1], ""
    else:
        return None, rest
    if len(shown) > 100 or not shown.strip() or not _SENDER_QUOTES.isdisjoint(shown):
        return None, rest  # e.g. X changed the subject to "Trip: day 2"
    if text.startswith("\u200e") and _system(text) is not None:
        return None, text
    return shown, text


@functools.lru_cache(maxsize=4096)
def _account(shown: str, region: str) -> AccountRef:
    """The account a shown sender or member name stands for (cached: names repeat)."""
    name = clean_text(shown).lstrip("~").strip(" \u00a0\u202f")  # "~ Arun": not a contact
    if name.lower() == "you":
        name = "You"
    return account_from_name(NAME, name, region)


def _kind_of(name: str) -> str:
    """The media kind a WhatsApp attachment name stands for (prefix first, then extension)."""
    base = posixpath.basename(name.replace("\\", "/"))
    match = _ANDROID_NAME.match(base) or _IOS_NAME.match(base)
    extension = base.rpartition(".")[2].lower() if "." in base else ""
    if match is not None:
        kind = _PREFIX_KINDS[match["prefix"]]
        if match["prefix"] == "AUDIO" and extension == "opus":
            return "voice_message"  # iOS names voice notes AUDIO, Android PTT
        return kind
    return _EXTENSION_KINDS.get(extension, "file")


def _title_of(tree: ExportTree, chat_file: str) -> str | None:
    """The chat's title: the contact or group name in the file name (or the zip's)."""
    base = posixpath.basename(chat_file)
    if base == "_chat.txt":
        raw = tree.label
        if raw.lower().endswith(".zip"):
            raw = raw[:-4]
    else:
        raw = base[:-4] if base.lower().endswith(".txt") else base
    title = clean_text(_TITLE_PREFIX.sub("", raw.strip()))
    return title or None


def _trim_partial_utf8(raw: bytes) -> bytes:
    """``raw`` without a UTF-8 sequence cut at its end (a line cut at the length limit)."""
    for back in range(1, min(4, len(raw)) + 1):
        byte = raw[-back]
        if byte & 0xC0 == 0x80:  # continuation byte: keep looking for the lead
            continue
        need = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4 if byte >= 0xF0 else 1
        return raw[:-back] if need > back else raw
    return raw


def _lines(stream: BinaryIO) -> Iterator[_Line]:
    """The lines of a chat file, decoded one at a time (BOM and CR dropped)."""
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES):
        number += 1
        cut = False
        if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
            cut = True
            raw = _trim_partial_utf8(raw)
            while more := stream.readline(MAX_LINE_BYTES):
                if more.endswith(b"\n"):
                    break
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        raw = raw.rstrip(b"\r\n")
        try:
            yield _Line(number, raw.decode("utf-8"), False, cut)
        except UnicodeDecodeError:
            yield _Line(number, raw.decode("utf-8", "replace"), True, cut)


def _read_head(tree: ExportTree, name: str) -> str:
    try:
        with tree.open(name) as stream:
            raw = stream.read(SNIFF_BYTES)
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError):
        return ""
    return raw.decode("utf-8", "replace").lstrip("\ufeff")


def looks_like_whatsapp(head: str) -> bool:
    """Whether the first few KB of a text file are a WhatsApp chat export.

    An export's first line always has a date header (the encryption notice or the first
    message); a file that opens otherwise still passes when two of its first lines have
    one, so a stray line before the chat does not hide it.
    """
    lines = head.lstrip("\ufeff").split("\n")[:50]
    seen = 0
    first = True
    for line in lines:
        if not line.strip():
            continue
        parsed = _parse_header(line.rstrip("\r"))
        if parsed is not None and _plausible(parsed):
            if first:
                return True
            seen += 1
            if seen >= 2:
                return True
        first = False
    return False


def find_chat_file(tree: ExportTree) -> str | None:
    """The chat text file of an export, or None if it has none (or several candidates).

    iOS names it ``_chat.txt``, Android ``WhatsApp Chat with <name>.txt`` (or
    ``WhatsApp Chat - <name>.txt``); other locales translate the name, so a single other
    top-level ``.txt`` whose first lines are WhatsApp lines is accepted too.
    """
    top = [name for name in tree.names() if "/" not in name]
    if "_chat.txt" in top:
        return "_chat.txt"
    named = sorted(name for name in top if _NAMED_CHAT.fullmatch(name))
    if named:
        if len(named) > 1:
            logger.warning("%s holds %d chat files; reading %s", tree.label, len(named), named[0])
        return named[0]
    texts = sorted(name for name in top if name.lower().endswith(".txt"))
    sniffed = [name for name in texts if looks_like_whatsapp(_read_head(tree, name))]
    if len(sniffed) == 1:
        return sniffed[0]
    if sniffed:
        logger.warning("%s: several text files look like chats: %s", tree.label, sniffed)
    return None


@dataclass(slots=True)
class _Survey:
    """What the first pass learns: date order evidence, senders, group events."""

    headers: int = 0
    ordered_headers: int = 0
    day_first: int = 0
    month_first: int = 0
    day_first_line: int | None = None
    month_first_line: int | None = None
    senders: dict[str, AccountRef] = field(default_factory=dict)
    group: bool = False
    error: str | None = None


@dataclass(slots=True)
class _Pending:
    """The message being read: its header and the lines seen so far."""

    number: int
    sent_at: datetime
    shown: str | None
    lines: list[str]
    size: int
    cut: bool = False


class _KeyCounter:
    """Numbers repeats of one message key: the second identical "ok" is ``<key>#2``.

    Identical messages share a timestamp, and an export is in time order, so only the
    keys of the last :data:`KEY_WINDOW` timestamps are remembered: memory stays flat and
    the numbering depends only on the file, so a re-read gives the same keys.
    """

    def __init__(self) -> None:
        self._recent: OrderedDict[str, dict[str, int]] = OrderedDict()

    def key(self, stamp: str, key: str) -> str:
        bucket = self._recent.get(stamp)
        if bucket is None:
            bucket = self._recent[stamp] = {}
            if len(self._recent) > KEY_WINDOW:
                self._recent.popitem(last=False)
        count = bucket.get(key, 0) + 1
        bucket[key] = count
        return key if count == 1 else f"{key}#{count}"


class _Reader:
    """One chat file of one export, read in two streaming passes."""

    def __init__(
        self, tree: ExportTree, chat_file: str | None, region: str, zone: ZoneInfo
    ) -> None:
        self.tree = tree
        self.chat_file = chat_file
        self.region = region
        self.zone = zone
        self.base = ""
        self.day_first = region.upper() not in MONTH_FIRST_REGIONS
        self.chat_key = ""
        self.keys = _KeyCounter()
        self._last_stamp: tuple[object, ...] = ()
        self._last_sent_at: datetime | None = None

    # -- the two passes ------------------------------------------------------------------

    def events(self) -> Iterator[ChatEvent]:
        """The chat record, any file-level note, then messages and line problems.

        A chat file with no WhatsApp line at all gives one problem and no chat record:
        an empty chat in the store would look like a chat that was read and held nothing.
        """
        chat_file = self.chat_file or find_chat_file(self.tree)
        if chat_file is None:
            yield ChatProblem(
                self.tree.label,
                "no WhatsApp chat file in the export (_chat.txt or 'WhatsApp Chat with "
                "<name>.txt', or a .txt in a known export form)",
            )
            return
        if not self.tree.exists(chat_file):
            yield ChatProblem(chat_file, "the chat file is not in the export")
            return
        self.chat_file = chat_file
        self.base = posixpath.dirname(chat_file)
        survey = self._survey(chat_file)
        if survey.headers == 0:
            reason = (
                NO_HEADERS if survey.error is None else f"cannot read the chat file: {survey.error}"
            )
            yield ChatProblem("file", reason)
            return
        note = self._choose_order(survey)
        title = _title_of(self.tree, chat_file)
        self.chat_key = f"{NAME}:{title or chat_file}"
        participants = list(survey.senders.values())
        kind = "group" if survey.group or len(participants) > 2 else "personal"
        yield ChatInfo(NAME, self.chat_key, title, kind, participants=participants, where=chat_file)
        if note is not None:
            yield ChatProblem("file", note)
        count = 0
        for event in self._messages(chat_file):
            if isinstance(event, ChatMessage):
                count += 1
            yield event
        logger.info("%s: %s read, %d messages", self.tree.label, chat_file, count)

    def _survey(self, chat_file: str) -> _Survey:
        """First pass: how dates are written, who sent messages, whether it is a group."""
        survey = _Survey()
        try:
            with self.tree.open(chat_file) as stream:
                for line in _lines(stream):
                    head = _parse_header(line.text)
                    if head is None or not _plausible(head):
                        continue
                    survey.headers += 1
                    if head.d1_digits != 4:
                        survey.ordered_headers += 1
                        as_day = _header_date(head, True) is not None
                        as_month = _header_date(head, False) is not None
                        if as_day and not as_month:
                            survey.day_first += 1
                            survey.day_first_line = survey.day_first_line or line.number
                        elif as_month and not as_day:
                            survey.month_first += 1
                            survey.month_first_line = survey.month_first_line or line.number
                    shown, text = _split_sender(head.rest)
                    if shown is not None:
                        account = _account(shown, self.region)
                        survey.senders.setdefault(account.external_id, account)
                    elif (system := _system(text)) is not None and system.groupish:
                        survey.group = True
        except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
            logger.warning("%s: first pass over %s stopped: %s", self.tree.label, chat_file, exc)
            survey.error = str(exc) or type(exc).__name__
        return survey

    def _choose_order(self, survey: _Survey) -> str | None:
        """Sets the date order from the survey; says what was assumed, if anything was."""
        default = self.day_first
        if survey.ordered_headers == 0:
            return None
        if survey.day_first and survey.month_first:
            self.day_first = (
                survey.day_first > survey.month_first
                if survey.day_first != survey.month_first
                else default
            )
            return (
                f"dates disagree on their order (line {survey.day_first_line} reads only as "
                f"day/month, line {survey.month_first_line} only as month/day): read as "
                f"{'day/month' if self.day_first else 'month/day'}; lines that do not fit "
                "are read as text of the message before them"
            )
        if survey.day_first or survey.month_first:
            self.day_first = bool(survey.day_first)
            return None
        return f"date order ambiguous: read as {'day/month' if default else 'month/day'}"

    def _messages(self, chat_file: str) -> Iterator[ChatEvent]:
        """Second pass: one message per header, continuation lines joined to it."""
        pending: _Pending | None = None
        orphan_start: int | None = None
        orphans = 0
        warned_utf8 = False
        number = 0
        try:
            with self.tree.open(chat_file) as stream:
                for line in _lines(stream):
                    number = line.number
                    if line.bad_utf8 and not warned_utf8:
                        warned_utf8 = True
                        yield ChatProblem(f"line {number}", NOT_UTF8)
                    if line.cut:
                        yield ChatProblem(
                            f"line {number}", f"line longer than {MAX_LINE_BYTES} bytes: cut"
                        )
                    head = _parse_header(line.text)
                    sent_at = self._sent_at(head) if head is not None else None
                    if head is not None and sent_at is not None:
                        if orphan_start is not None:
                            yield self._orphans(orphan_start, orphans)
                            orphan_start = None
                        if pending is not None:
                            yield self._finish(pending)
                        shown, text = _split_sender(head.rest)
                        pending = _Pending(number, sent_at, shown, [text], len(text))
                    elif pending is not None:
                        if pending.size + len(line.text) > MAX_MESSAGE_CHARS:
                            if not pending.cut:
                                pending.cut = True
                                yield ChatProblem(
                                    f"line {number}",
                                    f"message of line {pending.number} is longer than "
                                    f"{MAX_MESSAGE_CHARS} characters: the rest is dropped",
                                )
                            continue
                        pending.lines.append(line.text)
                        pending.size += len(line.text) + 1
                    elif line.text.strip():
                        if orphan_start is None:
                            orphan_start = number
                        orphans += 1
        except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
            logger.warning("%s: reading %s stopped: %s", self.tree.label, chat_file, exc)
            if pending is not None:
                yield self._finish(pending)
                pending = None
            yield ChatProblem(f"line {number + 1}", f"reading the chat file stopped: {exc}")
        if orphan_start is not None:
            yield self._orphans(orphan_start, orphans)
        if pending is not None:
            yield self._finish(pending)

    # -- one message ---------------------------------------------------------------------

    def _sent_at(self, head: _Header) -> datetime | None:
        """The UTC time of a header under the file's date order; None if it names none
        (such a line is read as text: a message may quote a date at a line's start)."""
        stamp = head[:-1]  # every field but the text: consecutive lines often share it
        if stamp == self._last_stamp:
            return self._last_sent_at
        day = _header_date(head, self.day_first)
        clock = _header_time(head)
        sent_at = None
        if day is not None and clock is not None:
            sent_at = datetime.combine(day, clock).replace(tzinfo=self.zone).astimezone(UTC)
        self._last_stamp, self._last_sent_at = stamp, sent_at
        return sent_at

    @staticmethod
    def _orphans(start: int, count: int) -> ChatProblem:
        return ChatProblem(
            f"line {start}",
            f"{count} line(s) of text before the first message header: not part of any message",
        )

    def _finish(self, pending: _Pending) -> ChatMessage:
        where = f"line {pending.number}"
        if pending.shown is None:
            return self._system_message(pending, where)
        sender = _account(pending.shown, self.region)
        media: list[MediaRef] = []
        kept: list[str] = []
        edited = False
        for raw in pending.lines:
            line = raw
            if "<This message was edited>" in line:
                line = _EDITED.sub("", line)
                edited = True
            if _may_be_marker(line):
                ref = self._marker(clean_text(line))
                if ref is not None:
                    media.append(ref)
                    continue
                if "<attached:" in line:
                    for match in _IOS_ATTACHED.finditer(line):
                        media.append(self._attachment(match["name"]))
                    line = _IOS_ATTACHED.sub("", line)
                    if not clean_text(line):
                        continue
            kept.append(line.lstrip("\u200e").rstrip())
        text = "\n".join(kept).strip()
        deleted = "deleted" in text and clean_text(text).rstrip(".").lower() in _DELETED
        if deleted:
            text = ""
        stamp = pending.sent_at.isoformat()
        key = content_key(
            stamp,
            sender.external_id,
            text,
            "\n".join(ref.file_name or ref.kind for ref in media),
        )
        return ChatMessage(
            chat_key=self.chat_key,
            message_key=self.keys.key(stamp, key),
            sent_at=pending.sent_at,
            sender=sender,
            text=text,
            media=media,
            edited=edited,
            deleted=deleted,
            where=where,
        )

    def _system_message(self, pending: _Pending, where: str) -> ChatMessage:
        text = "\n".join(pending.lines).strip().lstrip("\u200e")
        system = _system(pending.lines[0])
        stamp = pending.sent_at.isoformat()
        key = self.keys.key(stamp, content_key(stamp, "", text, ""))
        message = ChatMessage(
            chat_key=self.chat_key,
            message_key=key,
            sent_at=pending.sent_at,
            sender=None,
            text=text,
            action=system.action if system is not None else "other",
            where=where,
        )
        if system is not None:
            if system.actor is not None:
                message.actor = _account(system.actor, self.region)
            message.members = [_account(name, self.region) for name in system.members]
        return message

    def _marker(self, bare: str) -> MediaRef | None:
        """The attachment a whole line stands for (Android file, omitted media), if any."""
        lowered = bare.lower()
        kind = _ANDROID_OMITTED.get(lowered) or _IOS_OMITTED.get(lowered)
        if kind is not None:
            return MediaRef(kind, None, missing=OMITTED)
        if lowered.endswith("document omitted") and (m := _DOCUMENT_OMITTED.fullmatch(bare)):
            return MediaRef("file", None, file_name=m["name"].strip(), missing=OMITTED)
        if bare.endswith(")") and (m := _ANDROID_ATTACHED.fullmatch(bare)):
            return self._attachment(m["name"])
        return None

    def _attachment(self, raw_name: str) -> MediaRef:
        """An attachment the chat names, found in the export if it is there and inside."""
        name = clean_text(raw_name)
        kind = _kind_of(name)
        path, problem = resolve_media(self.base, name)
        if path is None:
            logger.warning("%s: attachment %r refused: %s", self.tree.label, name, problem)
            return MediaRef(kind, None, file_name=name, missing=problem)
        file_name = posixpath.basename(path)
        if self.tree.exists(path):
            return MediaRef(kind, path, file_name=file_name, size=self.tree.size(path))
        return MediaRef(kind, None, file_name=file_name, missing=NOT_IN_EXPORT)


def read_whatsapp(
    tree: ExportTree,
    *,
    region: str = DEFAULT_REGION,
    chat_file: str | None = None,
    tz: str = DEFAULT_TZ,
) -> Iterator[ChatEvent]:
    """The chat (:class:`ChatInfo`), then its messages, of a WhatsApp export.

    ``region`` is the exporting phone's country, for phone numbers written without a
    country code and for the date order of a file that never settles it; ``tz`` is the
    zone of the phone's clock (the export writes local times without one). The zone is
    checked here, before any reading, so a wrong one fails at once and not mid-stream.
    """
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc
    return _Reader(tree, chat_file, region, zone).events()
