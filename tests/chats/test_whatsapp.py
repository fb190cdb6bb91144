"""The WhatsApp "Export chat" reader, on exports built by code (see whatsapp_fixtures)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from raksha.chats import whatsapp
from raksha.chats.records import (
    AccountRef,
    ChatEvent,
    ChatInfo,
    ChatMessage,
    ChatProblem,
    MediaRef,
)
from raksha.chats.tree import ExportTree, FolderTree, ZipTree
from raksha.chats.whatsapp import (
    NAME,
    NO_HEADERS,
    NOT_IN_EXPORT,
    NOT_UTF8,
    OMITTED,
    find_chat_file,
    looks_like_whatsapp,
    read_whatsapp,
)
from tests.chats.whatsapp_fixtures import (
    LRM,
    NNBSP,
    STYLES,
    chat_bytes,
    header,
    line,
    media_bytes,
    write_folder,
    write_long_chat,
    write_zip,
)

# 12 October 2019 is ambiguous as 12/10; 25 October proves the order.
OCT12 = datetime(2019, 10, 12, 21, 41, 5)
OCT25 = datetime(2019, 10, 25, 9, 5, 30)
E2E = (
    "Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
    "WhatsApp, can read or listen to them."
)
AMBIGUOUS = ChatProblem("file", "date order ambiguous: read as day/month")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0):
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def name(shown: str) -> AccountRef:
    return AccountRef(NAME, shown, "name", shown)


def phone(e164: str, shown: str) -> AccountRef:
    return AccountRef(NAME, e164, "phone", shown)


def read(tree: ExportTree, **options: str) -> list[ChatEvent]:
    return list(read_whatsapp(tree, **options))


def info_of(events: list[ChatEvent]) -> ChatInfo:
    assert isinstance(events[0], ChatInfo)
    return events[0]


def messages(events: list[ChatEvent]) -> list[ChatMessage]:
    return [e for e in events if isinstance(e, ChatMessage)]


def problems(events: list[ChatEvent]) -> list[ChatProblem]:
    return [e for e in events if isinstance(e, ChatProblem)]


def android_export(tmp_path: Path, lines: list[str], media: dict[str, bytes] | None = None):
    files = {"WhatsApp Chat with Family Group.txt": chat_bytes(lines), **(media or {})}
    return FolderTree(write_folder(tmp_path / "export", files))


# -- header forms ------------------------------------------------------------------------------


def test_android_12_hour_with_narrow_no_break_space(tmp_path: Path) -> None:
    lines = [
        line(OCT12, None, E2E, "android12_nnbsp"),
        line(OCT12, "+91 98470 12345", "see you at 5", "android12_nnbsp"),
        line(OCT25, "Arun", "ok", "android12_nnbsp"),
    ]
    assert NNBSP + "pm - " in lines[1]
    events = read(android_export(tmp_path, lines))
    info = info_of(events)
    assert info == ChatInfo(
        NAME,
        "whatsapp:Family Group",
        "Family Group",
        "personal",
        participants=[phone("+919847012345", "+91 98470 12345"), name("Arun")],
        where="WhatsApp Chat with Family Group.txt",
    )
    got = messages(events)
    assert problems(events) == []  # 25/10 proves day-first
    assert [(m.sent_at, m.sender, m.text, m.action, m.where) for m in got] == [
        (utc(2019, 10, 12, 16, 11), None, E2E, "other", "line 1"),
        (utc(2019, 10, 12, 16, 11), phone("+919847012345", "+91 98470 12345"), "see you at 5",
         None, "line 2"),
        (utc(2019, 10, 25, 3, 35), name("Arun"), "ok", None, "line 3"),
    ]  # fmt: skip
    assert all(m.chat_key == "whatsapp:Family Group" for m in got)


def test_android_12_hour_plain_space_and_midnight_noon(tmp_path: Path) -> None:
    lines = [
        line(datetime(2019, 10, 25, 0, 5), "Arun", "late", "android12"),
        line(datetime(2019, 10, 25, 12, 5), "Arun", "noon", "android12"),
    ]
    assert lines[0].startswith("25/10/19, 12:05 am - ")
    got = messages(read(android_export(tmp_path, lines)))
    assert [m.sent_at for m in got] == [utc(2019, 10, 24, 18, 35), utc(2019, 10, 25, 6, 35)]


def test_android_24_hour_four_digit_year(tmp_path: Path) -> None:
    lines = [line(OCT25, "Arun", "see you at 5", "android24")]
    assert lines[0] == "25/10/2019, 09:05 - Arun: see you at 5"
    (message,) = messages(read(android_export(tmp_path, lines)))
    assert message.sent_at == utc(2019, 10, 25, 3, 35)
    assert message.sender == name("Arun")
    assert message.text == "see you at 5"


def test_android_p_m_with_dots(tmp_path: Path) -> None:
    when = datetime(2018, 6, 3, 13, 55)
    lines = [line(when, "Arun", "see you at 5", "android_pm_dots")]
    assert lines[0] == "3/6/18, 1:55 p.m. - Arun: see you at 5"
    events = read(android_export(tmp_path, lines))
    assert problems(events) == [AMBIGUOUS]
    (message,) = messages(events)
    assert message.sent_at == utc(2018, 6, 3, 8, 25)


def test_dotted_date_with_seconds(tmp_path: Path) -> None:
    when = datetime(2018, 6, 13, 21, 25, 15)
    lines = [line(when, "Arun", "see you at 5", "dotted"), line(when, None, "Arun left", "dotted")]
    assert lines[0] == "13.06.18 21.25.15: Arun: see you at 5"
    got = messages(read(android_export(tmp_path, lines)))
    assert [(m.sent_at, m.sender, m.text, m.action) for m in got] == [
        (utc(2018, 6, 13, 15, 55, 15), name("Arun"), "see you at 5", None),
        (utc(2018, 6, 13, 15, 55, 15), None, "Arun left", "leave"),
    ]


def test_ios_12_hour(tmp_path: Path) -> None:
    lines = [line(OCT25, "Arun", "see you at 5", "ios12")]
    assert lines[0] == f"[25/10/19, 9:05:30{NNBSP}AM] Arun: see you at 5"
    root = write_folder(tmp_path / "WhatsApp Chat - Arun", {"_chat.txt": chat_bytes(lines)})
    (message,) = messages(read(FolderTree(root)))
    assert message.sent_at == utc(2019, 10, 25, 3, 35, 30)
    assert message.text == "see you at 5"


def test_time_zone_option(tmp_path: Path) -> None:
    lines = [line(OCT25, "Arun", "see you at 5", "android24")]
    (message,) = messages(read(android_export(tmp_path, lines), tz="Europe/London"))
    assert message.sent_at == utc(2019, 10, 25, 8, 5)  # BST, UTC+1
    with pytest.raises(ValueError, match="unknown time zone"):
        read_whatsapp(android_export(tmp_path / "b", lines), tz="Mars/Olympus")


# -- iOS exports -------------------------------------------------------------------------------


def ios_lines(with_media: bool) -> list[str]:
    photo = "00000042-PHOTO-2019-10-25-09-05-30.jpg"
    voice = "00000043-AUDIO-2019-10-25-09-05-30.opus"
    rows = [
        line(OCT25, "Family Group", f"{LRM}{E2E}", "ios24"),
        line(OCT25, "Family Group", f"{LRM}Arun created group “Family Group”", "ios24"),
        line(OCT25, "Family Group", f"{LRM}Arun added Meena", "ios24"),
        line(OCT25, "Arun", "see you at 5", "ios24"),
    ]
    if with_media:
        rows += [
            line(OCT25, "Meena", f"{LRM}<attached: {photo}>", "ios24"),
            line(OCT25, "Arun", f"{LRM}<attached: {voice}>", "ios24"),
        ]
    else:
        rows += [
            line(OCT25, "Meena", f"{LRM}image omitted", "ios24"),
            line(OCT25, "Arun", f"{LRM}audio omitted", "ios24"),
        ]
    return rows


def test_ios_zip_with_media(tmp_path: Path) -> None:
    files = {
        "_chat.txt": chat_bytes(ios_lines(with_media=True)),
        "00000042-PHOTO-2019-10-25-09-05-30.jpg": media_bytes(1, 100),
        "00000043-AUDIO-2019-10-25-09-05-30.opus": media_bytes(2, 50),
    }
    tree = ZipTree(write_zip(tmp_path / "WhatsApp Chat - Family Group.zip", files))
    try:
        assert find_chat_file(tree) == "_chat.txt"
        events = read(tree)
    finally:
        tree.close()
    info = info_of(events)
    assert (info.chat_key, info.title, info.kind) == (
        "whatsapp:Family Group",
        "Family Group",
        "group",
    )
    assert info.participants == [name("Arun"), name("Meena")]  # the group is not a sender
    got = messages(events)
    assert [(m.sender, m.text, m.action) for m in got[:4]] == [
        (None, E2E, "other"),
        (None, "Arun created group “Family Group”", "create"),
        (None, "Arun added Meena", "invite"),
        (name("Arun"), "see you at 5", None),
    ]
    assert got[1].actor == name("Arun")
    assert got[2].members == [name("Meena")]
    assert got[4].text == ""
    assert got[4].media == [
        MediaRef("photo", "00000042-PHOTO-2019-10-25-09-05-30.jpg",
                 file_name="00000042-PHOTO-2019-10-25-09-05-30.jpg", size=100),
    ]  # fmt: skip
    assert got[5].media == [
        MediaRef("voice_message", "00000043-AUDIO-2019-10-25-09-05-30.opus",
                 file_name="00000043-AUDIO-2019-10-25-09-05-30.opus", size=50),
    ]  # fmt: skip


def test_ios_zip_without_media(tmp_path: Path) -> None:
    files = {"_chat.txt": chat_bytes(ios_lines(with_media=False))}
    tree = ZipTree(write_zip(tmp_path / "WhatsApp Chat - Family Group.zip", files))
    try:
        got = messages(read(tree))
    finally:
        tree.close()
    assert [(m.sender, m.text, m.media) for m in got[4:]] == [
        (name("Meena"), "", [MediaRef("photo", None, missing=OMITTED)]),
        (name("Arun"), "", [MediaRef("audio", None, missing=OMITTED)]),
    ]


def test_ios_folder_with_bom_and_crlf(tmp_path: Path) -> None:
    data = chat_bytes(ios_lines(with_media=True), bom=True, crlf=True)
    root = write_folder(
        tmp_path / "WhatsApp Chat - Family Group",
        {"_chat.txt": data, "00000042-PHOTO-2019-10-25-09-05-30.jpg": media_bytes(3, 10)},
    )
    tree = FolderTree(root)
    events = read(tree)
    assert info_of(events).title == "Family Group"
    got = messages(events)
    assert len(got) == 6
    assert got[0].text == E2E
    assert got[3].text == "see you at 5"
    assert got[4].media[0].path == "00000042-PHOTO-2019-10-25-09-05-30.jpg"
    assert got[5].media == [
        MediaRef("voice_message", None, file_name="00000043-AUDIO-2019-10-25-09-05-30.opus",
                 missing=NOT_IN_EXPORT),
    ]  # fmt: skip


def test_ios_contact_messages_behind_lrm_are_not_system_messages(tmp_path: Path) -> None:
    lines = [
        line(OCT25, "Arun", f"{LRM}{E2E}", "ios24"),
        line(OCT25, "Arun", "see you at 5", "ios24"),
        line(OCT25, "Meena", f"{LRM}sticker omitted", "ios24"),
        line(OCT25, "~ Ravi", f"{LRM}GIF omitted", "ios24"),
        line(OCT25, "Arun", f"{LRM}document omitted", "ios24"),
        line(OCT25, "Arun", f"Plan.pdf • 2 pages {LRM}document omitted", "ios24"),
        line(OCT25, "Arun", f"{LRM}video omitted", "ios24"),
    ]
    root = write_folder(tmp_path / "WhatsApp Chat - Arun", {"_chat.txt": chat_bytes(lines)})
    events = read(FolderTree(root))
    info = info_of(events)
    assert info.participants == [name("Arun"), name("Meena"), name("Ravi")]
    assert info.kind == "group"  # three senders
    got = messages(events)
    assert got[0].sender is None
    assert got[1].sender == name("Arun")
    assert [m.media for m in got[2:]] == [
        [MediaRef("sticker", None, missing=OMITTED)],
        [MediaRef("animation", None, missing=OMITTED)],
        [MediaRef("file", None, missing=OMITTED)],
        [MediaRef("file", None, file_name="Plan.pdf", missing=OMITTED)],
        [MediaRef("video", None, missing=OMITTED)],
    ]
    assert got[3].sender == name("Ravi")


def test_personal_chat_kind(tmp_path: Path) -> None:
    lines = [
        line(OCT25, None, E2E, "android24"),
        line(OCT25, "Arun", "see you at 5", "android24"),
        line(OCT25, "Meena", "ok", "android24"),
    ]
    info = info_of(read(android_export(tmp_path, lines)))
    assert info.kind == "personal"
    assert info.participants == [name("Arun"), name("Meena")]


# -- date order ----------------------------------------------------------------------------------


def test_day_first_proved_only_on_last_line(tmp_path: Path) -> None:
    lines = [line(datetime(2019, 3, d, 10, 0), "Arun", f"day {d}", "android24") for d in (1, 5)]
    lines.append(line(datetime(2019, 3, 20, 10, 0), "Arun", "day 20", "android24"))
    assert lines[0].startswith("1/3/2019, ")  # ambiguous until the last line
    events = read(android_export(tmp_path, lines))
    assert problems(events) == []
    assert [m.sent_at for m in messages(events)] == [
        utc(2019, 3, 1, 4, 30),
        utc(2019, 3, 5, 4, 30),
        utc(2019, 3, 20, 4, 30),
    ]


def test_month_first_proved_only_on_last_line(tmp_path: Path) -> None:
    days = [datetime(2019, 3, 1, 10, 0), datetime(2019, 3, 5, 10, 0), datetime(2019, 3, 20, 10)]
    lines = [line(d, "Arun", "hi", "android12", month_first=True) for d in days]
    assert lines[0].startswith("3/1/19, 10:00 am - ")
    assert lines[2].startswith("3/20/19, ")
    events = read(android_export(tmp_path, lines))
    assert problems(events) == []
    assert [m.sent_at for m in messages(events)] == [
        utc(2019, 3, 1, 4, 30),
        utc(2019, 3, 5, 4, 30),
        utc(2019, 3, 20, 4, 30),
    ]


def test_ambiguous_order_defaults_by_region(tmp_path: Path) -> None:
    lines = [line(datetime(2019, 3, 5, 10, 0), "Arun", "hi", "android24")]
    events = read(android_export(tmp_path, lines))
    assert events[1] == AMBIGUOUS
    assert messages(events)[0].sent_at == utc(2019, 3, 5, 4, 30)
    events = read(android_export(tmp_path / "us", lines), region="US", tz="America/New_York")
    assert events[1] == ChatProblem("file", "date order ambiguous: read as month/day")
    assert messages(events)[0].sent_at == utc(2019, 5, 3, 14, 0)  # 3 May, EDT


def test_contradicting_dates_majority_wins(tmp_path: Path) -> None:
    lines = [
        line(datetime(2019, 10, 13, 10, 0), "Arun", "a", "android24"),
        line(datetime(2019, 10, 14, 10, 0), "Arun", "b", "android24"),
        line(datetime(2019, 10, 15, 10, 0), "Arun", "c", "android24", month_first=True),
    ]
    events = read(android_export(tmp_path, lines))
    assert problems(events) == [
        ChatProblem(
            "file",
            "dates disagree on their order (line 1 reads only as day/month, line 3 only as "
            "month/day): read as day/month; lines that do not fit are read as text of the "
            "message before them",
        )
    ]
    got = messages(events)
    assert [m.text for m in got] == ["a", "b\n" + lines[2]]


# -- message text ----------------------------------------------------------------------------


def test_multi_line_messages_and_date_like_text(tmp_path: Path) -> None:
    lines = [
        line(OCT25, "Arun", "first line", "android24"),
        "second line",
        "",
        "31/02/2019, 10:00 - not a real date",
        "25/10/2019 is the day",
        line(OCT25, "Meena", "ok", "android24"),
        "and a truncated la",
    ]
    got = messages(read(android_export(tmp_path, lines)))
    assert [(m.sender, m.text, m.where) for m in got] == [
        (
            name("Arun"),
            "first line\nsecond line\n\n31/02/2019, 10:00 - not a real date\n25/10/2019 is the day",
            "line 1",
        ),
        (name("Meena"), "ok\nand a truncated la", "line 6"),
    ]


def test_truncated_file_without_final_newline(tmp_path: Path) -> None:
    data = chat_bytes([line(OCT25, "Arun", "see you", "android24")]) + b"25/10/2019, 09:0"
    root = write_folder(tmp_path / "e", {"WhatsApp Chat with Arun.txt": data})
    got = messages(read(FolderTree(root)))
    assert [m.text for m in got] == ["see you\n25/10/2019, 09:0"]


def test_edited_and_deleted_markers(tmp_path: Path) -> None:
    lines = [
        line(OCT25, "Arun", "see you at 6 <This message was edited>", "android24"),
        line(OCT25, "Arun", "This message was deleted", "android24"),
        line(OCT25, "You", "You deleted this message", "android24"),
        line(OCT25, "Meena", f"{LRM}This message was deleted.", "ios24"),
        line(OCT25, "Meena", f"ok {LRM}<This message was edited>", "ios24"),
    ]
    got = messages(read(android_export(tmp_path, lines)))
    assert [(m.sender, m.text, m.edited, m.deleted) for m in got] == [
        (name("Arun"), "see you at 6", True, False),
        (name("Arun"), "", False, True),
        (name("You"), "", False, True),
        (name("Meena"), "", False, True),
        (name("Meena"), "ok", True, False),
    ]


def test_sender_with_empty_text_and_colon_in_text(tmp_path: Path) -> None:
    lines = [
        header(OCT25, "android24") + "Arun:",
        "next line",
        line(OCT25, "Arun", "time: 5 pm", "android24"),
    ]
    got = messages(read(android_export(tmp_path, lines)))
    assert [(m.sender, m.text) for m in got] == [
        (name("Arun"), "next line"),
        (name("Arun"), "time: 5 pm"),
    ]


# -- system messages ---------------------------------------------------------------------------


def test_every_system_message_kind(tmp_path: Path) -> None:
    texts = [
        E2E,
        'Arun created group "Family Group"',
        "Arun added Meena",
        "You added Ravi, Sita and +91 98470 12345",
        "Meena left",
        "Arun removed Ravi",
        "Sita joined using this group's invite link",
        'Arun changed the subject from "Trip" to "Trip: day 2"',
        "Arun changed this group's icon",
        "Arun added you",
        "Someone did something new",
    ]
    lines = [line(OCT25, None, text, "android24") for text in texts]
    events = read(android_export(tmp_path, lines))
    info = info_of(events)
    assert info.kind == "group"
    assert info.participants == []  # nobody sent a message
    got = messages(events)
    assert all(m.sender is None for m in got)
    assert [(m.text, m.action, m.actor, m.members) for m in got] == [
        (texts[0], "other", None, []),
        (texts[1], "create", name("Arun"), [name("Arun")]),
        (texts[2], "invite", name("Arun"), [name("Meena")]),
        (texts[3], "invite", name("You"),
         [name("Ravi"), name("Sita"), phone("+919847012345", "+91 98470 12345")]),
        (texts[4], "leave", name("Meena"), [name("Meena")]),
        (texts[5], "remove", name("Arun"), [name("Ravi")]),
        (texts[6], "join_by_link", name("Sita"), [name("Sita")]),
        (texts[7], "other", None, []),
        (texts[8], "other", None, []),
        (texts[9], "invite", name("Arun"), [name("You")]),
        (texts[10], "other", None, []),
    ]  # fmt: skip


def test_system_messages_make_a_group(tmp_path: Path) -> None:
    lines = [
        line(OCT25, None, "Arun added Meena", "android24"),
        line(OCT25, "Arun", "see you at 5", "android24"),
    ]
    info = info_of(read(android_export(tmp_path, lines)))
    assert (info.kind, info.participants) == ("group", [name("Arun")])


# -- attachments -------------------------------------------------------------------------------


def test_android_attachments_present_missing_and_omitted(tmp_path: Path) -> None:
    present = {
        "IMG-20191025-WA0001.jpg": media_bytes(1, 11),
        "VID-20191025-WA0002.mp4": media_bytes(2, 12),
        "PTT-20191025-WA0004.opus": media_bytes(4, 14),
        "DOC-20191025-WA0006.pdf": media_bytes(6, 16),
    }
    names = [
        "IMG-20191025-WA0001.jpg",
        "VID-20191025-WA0002.mp4",
        "AUD-20191025-WA0003.opus",
        "PTT-20191025-WA0004.opus",
        "STK-20191025-WA0005.webp",
        "DOC-20191025-WA0006.pdf",
    ]
    lines = [line(OCT25, "Arun", f"{n} (file attached)", "android24") for n in names]
    lines.insert(1, "a caption")
    lines.append(line(OCT25, "Meena", "<Media omitted>", "android24"))
    got = messages(read(android_export(tmp_path, lines, present)))
    assert [m.media for m in got] == [
        [MediaRef("photo", names[0], file_name=names[0], size=11)],
        [MediaRef("video", names[1], file_name=names[1], size=12)],
        [MediaRef("audio", None, file_name=names[2], missing=NOT_IN_EXPORT)],
        [MediaRef("voice_message", names[3], file_name=names[3], size=14)],
        [MediaRef("sticker", None, file_name=names[4], missing=NOT_IN_EXPORT)],
        [MediaRef("file", names[5], file_name=names[5], size=16)],
        [MediaRef("file", None, missing=OMITTED)],
    ]
    assert [m.text for m in got] == ["a caption", "", "", "", "", "", ""]


def test_attachment_in_a_zip_subfolder_resolves_beside_the_chat(tmp_path: Path) -> None:
    files = {
        "WhatsApp Chat with Arun.txt": chat_bytes(
            [line(OCT25, "Arun", "IMG-20191025-WA0001.jpg (file attached)", "android24")]
        ),
        "IMG-20191025-WA0001.jpg": media_bytes(1, 5),
    }
    tree = ZipTree(write_zip(tmp_path / "WhatsApp Chat with Arun.zip", files))
    try:
        (message,) = messages(read(tree))
    finally:
        tree.close()
    assert message.media[0].path == "IMG-20191025-WA0001.jpg"


def test_attachment_names_that_leave_the_export_are_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.jpg").write_bytes(b"outside")
    lines = [
        line(OCT25, "Arun", "../secret.jpg (file attached)", "android24"),
        line(OCT25, "Arun", f"{LRM}<attached: ../../secret.jpg>", "ios24"),
        line(OCT25, "Arun", "/etc/hosts (file attached)", "android24"),
    ]
    got = messages(read(android_export(tmp_path, lines)))
    assert [m.media for m in got] == [
        [MediaRef("photo", None, file_name="../secret.jpg",
                  missing="media path '../secret.jpg' points outside the export")],
        [MediaRef("photo", None, file_name="../../secret.jpg",
                  missing="media path '../../secret.jpg' points outside the export")],
        [MediaRef("file", None, file_name="/etc/hosts",
                  missing="media path '/etc/hosts' is absolute: it points outside the export")],
    ]  # fmt: skip


# -- identities --------------------------------------------------------------------------------


def test_phone_senders_normalised_to_e164(tmp_path: Path) -> None:
    lines = [
        line(OCT25, "+91 98470 12345", "see you at 5", "android24"),
        line(OCT25, "098470 12345", "ok", "android24"),
        line(OCT25, f"{LRM}+91 98470 12345", "fine", "ios24"),
        line(OCT25, "Arun", "hi", "android24"),
    ]
    events = read(android_export(tmp_path, lines))
    assert info_of(events).participants == [phone("+919847012345", "+91 98470 12345"), name("Arun")]
    got = messages(events)
    assert [m.sender.external_id if m.sender else None for m in got] == [
        "+919847012345",
        "+919847012345",
        "+919847012345",
        "Arun",
    ]
    assert got[1].sender == phone("+919847012345", "098470 12345")


# -- damaged or foreign files ------------------------------------------------------------------


def test_non_utf8_bytes_are_replaced_and_reported_once(tmp_path: Path) -> None:
    good = chat_bytes([line(OCT25, "Arun", "see you", "android24")])
    bad = header(OCT25, "android24").encode() + b"Meena: caf\xe9 at 5\n" + b"more \xff\n"
    root = write_folder(tmp_path / "e", {"WhatsApp Chat with Arun.txt": good + bad})
    events = read(FolderTree(root))
    assert problems(events) == [ChatProblem("line 2", NOT_UTF8)]
    got = messages(events)
    assert [m.text for m in got] == ["see you", "caf\ufffd at 5\nmore \ufffd"]


def test_unrecognised_locale_gives_one_problem(tmp_path: Path) -> None:
    lines = ["2019年10月25日 上午9:05 - Arun: hi", "hello there", "see you at 5"]
    events = read(android_export(tmp_path, lines))
    assert events == [ChatProblem("file", NO_HEADERS)]


def test_empty_file_and_missing_chat_file(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "e", {"WhatsApp Chat with Arun.txt": b""})
    assert read(FolderTree(root)) == [ChatProblem("file", NO_HEADERS)]
    root = write_folder(tmp_path / "f", {"IMG-20191025-WA0001.jpg": b"x"})
    (problem,) = read(FolderTree(root))
    assert isinstance(problem, ChatProblem)
    assert problem.where == "f"
    assert problem.reason.startswith("no WhatsApp chat file in the export")
    (problem,) = read(FolderTree(root), chat_file="nothing.txt")
    assert problem == ChatProblem("nothing.txt", "the chat file is not in the export")


def test_text_before_the_first_header(tmp_path: Path) -> None:
    lines = ["stray words", "more", line(OCT25, "Arun", "see you", "android24")]
    events = read(android_export(tmp_path, lines))
    assert problems(events) == [
        ChatProblem(
            "line 1",
            "2 line(s) of text before the first message header: not part of any message",
        )
    ]
    assert [m.text for m in messages(events)] == ["see you"]


def test_damaged_zip_member_stops_with_a_problem(tmp_path: Path) -> None:
    body = chat_bytes([line(OCT25, "Arun", f"message {n} " * 20, "ios24") for n in range(300)])
    path = write_zip(tmp_path / "WhatsApp Chat - Arun.zip", {"_chat.txt": body})
    data = bytearray(path.read_bytes())
    middle = data.find(b"_chat.txt") + 200  # inside the deflated stream
    for offset in range(middle, middle + 40):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    tree = ZipTree(path)
    try:
        events = read(tree)
    finally:
        tree.close()
    assert isinstance(events[0], ChatInfo)
    last = events[-1]
    assert isinstance(last, ChatProblem)
    assert last.reason.startswith("reading the chat file stopped: ")
    assert len(messages(events)) < 300


# -- keys --------------------------------------------------------------------------------------


def test_duplicate_messages_get_distinct_keys_stable_across_reads(tmp_path: Path) -> None:
    lines = [
        line(OCT25, "Arun", "ok", "android24"),
        line(OCT25, "Arun", "ok", "android24"),
        line(OCT25, "Meena", "ok", "android24"),
        line(OCT25, "Arun", "ok", "android24"),
        line(OCT25.replace(minute=6), "Arun", "ok", "android24"),
    ]
    tree = android_export(tmp_path, lines)
    first = [m.message_key for m in messages(read(tree))]
    second = [m.message_key for m in messages(read(FolderTree(tmp_path / "export")))]
    assert first == second
    base = first[0]
    assert len(base) == 32
    assert first[1] == f"{base}#2"
    assert first[3] == f"{base}#3"
    assert len(set(first)) == 5
    assert "#" not in first[2]
    assert "#" not in first[4]


def test_keys_depend_on_time_sender_text_and_attachment(tmp_path: Path) -> None:
    a = [line(OCT25, "Arun", "IMG-20191025-WA0001.jpg (file attached)", "android24")]
    b = [line(OCT25, "Arun", "IMG-20191025-WA0002.jpg (file attached)", "android24")]
    (ma,) = messages(read(android_export(tmp_path / "a", a)))
    (mb,) = messages(read(android_export(tmp_path / "b", b)))
    assert ma.message_key != mb.message_key
    # the same message in a later export of the same chat keeps its key
    later = [*a, line(OCT25.replace(day=26), "Arun", "later", "android24")]
    assert messages(read(android_export(tmp_path / "c", later)))[0].message_key == ma.message_key


# -- finding and sniffing ----------------------------------------------------------------------


def test_find_chat_file(tmp_path: Path) -> None:
    chat = chat_bytes([line(OCT25, "Arun", "hi", "android24")])
    cases: dict[str, tuple[dict[str, bytes], str | None]] = {
        "ios": ({"_chat.txt": chat, "notes.txt": b"x"}, "_chat.txt"),
        "android": ({"WhatsApp Chat with Arun.txt": chat}, "WhatsApp Chat with Arun.txt"),
        "dash": ({"WhatsApp Chat - Arun.txt": chat}, "WhatsApp Chat - Arun.txt"),
        "locale": (
            {"WhatsApp-Chat mit Arun.txt": chat, "readme.txt": b"hello"},
            "WhatsApp-Chat mit Arun.txt",
        ),
        "two": ({"a.txt": chat, "b.txt": chat}, None),
        "none": ({"readme.txt": b"hello\n"}, None),
        "nested": ({"sub/_chat.txt": chat}, None),
    }
    for label, (files, expected) in cases.items():
        tree = FolderTree(write_folder(tmp_path / label, files))
        assert find_chat_file(tree) == expected, label


def test_explicit_chat_file(tmp_path: Path) -> None:
    chat = chat_bytes([line(OCT25, "Arun", "hi", "android24")])
    tree = FolderTree(write_folder(tmp_path / "e", {"a.txt": chat, "b.txt": chat}))
    assert find_chat_file(tree) is None
    events = read(tree, chat_file="b.txt")
    assert (info_of(events).title, info_of(events).where) == ("b", "b.txt")
    assert [m.text for m in messages(events)] == ["hi"]


def test_long_lines_and_messages_are_cut(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(whatsapp, "MAX_LINE_BYTES", 64)
    monkeypatch.setattr(whatsapp, "MAX_MESSAGE_CHARS", 80)
    first = line(OCT25, "Arun", "a" * 27 + "é" * 40, "android24")  # 26-byte header; é is 2 bytes
    lines = [first, line(OCT25, "Meena", "ok", "android24"), "b" * 40, "c" * 40, "d" * 40]
    events = read(android_export(tmp_path, lines))
    assert problems(events) == [
        ChatProblem("line 1", "line longer than 64 bytes: cut"),
        ChatProblem(
            "line 4",
            "message of line 2 is longer than 80 characters: the rest is dropped",
        ),
    ]
    got = messages(events)
    assert [m.text for m in got] == ["a" * 27 + "é" * 5, "ok\n" + "b" * 40]


def test_other_locale_file_name_gives_its_stem_as_title(tmp_path: Path) -> None:
    chat = chat_bytes([line(OCT25, "Arun", "hi", "android24")])
    tree = FolderTree(write_folder(tmp_path / "e", {"WhatsApp-Chat mit Arun.txt": chat}))
    info = info_of(read(tree))
    assert (info.title, info.chat_key) == (
        "WhatsApp-Chat mit Arun",
        "whatsapp:WhatsApp-Chat mit Arun",
    )


@pytest.mark.parametrize("style", STYLES)
def test_looks_like_whatsapp_every_form(style: str) -> None:
    head = "\ufeff" + line(OCT25, "Arun", "hi", style) + "\nmore\n"
    assert looks_like_whatsapp(head)


def test_looks_like_whatsapp_rejects_other_text() -> None:
    assert not looks_like_whatsapp("")
    assert not looks_like_whatsapp("hello\nsee you at 5\n")
    assert not looks_like_whatsapp('{"name": "Saved Messages", "messages": []}')
    assert not looks_like_whatsapp("31/02/2019, 10:00 - Arun: hi\n")  # no such date
    assert not looks_like_whatsapp("notes\n25/10/2019, 09:05 - Arun: hi\nmore notes\n")
    assert looks_like_whatsapp(
        "notes\n25/10/2019, 09:05 - Arun: hi\n25/10/2019, 09:06 - Arun: ok\n"
    )


# -- scale -------------------------------------------------------------------------------------


_STREAM_SCRIPT = """
import resource, sys
from pathlib import Path
from raksha.chats.records import ChatInfo, ChatMessage
from raksha.chats.tree import FolderTree
from raksha.chats.whatsapp import read_whatsapp

def rss():
    scale = 1024 if sys.platform == "darwin" else 1  # bytes there, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // scale

before = rss()
seen, kinds, last = 0, [], None
for event in read_whatsapp(FolderTree(Path(sys.argv[1]))):
    if isinstance(event, ChatMessage):
        seen += 1
        last = event
    elif isinstance(event, ChatInfo):
        kinds.append((event.kind, [p.external_id for p in event.participants]))
    else:
        kinds.append(event)
print(json.dumps([seen, rss() - before, repr(kinds), last.text, last.where]))
""".replace("import resource", "import json, resource")


@pytest.mark.slow
def test_hundred_thousand_messages_in_flat_memory(tmp_path: Path) -> None:
    """A fresh process reads 100,000 messages; its peak memory may not grow with them.

    Holding every message would add some 55 MiB here; reading in a stream adds well under
    one. A fresh process is used because this one's high-water mark may already be high.
    """
    count = 100_000
    path = tmp_path / "export" / "WhatsApp Chat with Big Group.txt"
    path.parent.mkdir()
    write_long_chat(path, count, datetime(2020, 1, 13, 8, 0))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _STREAM_SCRIPT, str(path.parent)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    seen, growth_kib, header_events, last_text, last_where = json.loads(done.stdout)
    assert seen == count
    assert header_events == repr([("group", ["Arun", "Meena", "Ravi"])])
    assert (last_text, last_where) == (f"message {count - 1}", f"line {count}")
    assert growth_kib < 8 * 1024, growth_kib
    assert elapsed < 30, elapsed
