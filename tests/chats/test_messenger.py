"""The Messenger reader against synthetic DYI and E2EE exports built by code."""

from __future__ import annotations

import json
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from raksha.chats.identity import content_key
from raksha.chats.messenger import (
    LINKED_MEDIA,
    MISSING_MEDIA,
    NAME,
    NO_MEDIA_PATH,
    find_e2ee_files,
    find_threads,
    looks_like_messenger,
    read_messenger,
    repair_mojibake,
)
from raksha.chats.records import AccountRef, ChatEvent, ChatInfo, ChatMessage, ChatProblem, MediaRef
from raksha.chats.tree import FolderTree, ZipTree, resolve_media
from tests.chats.messenger_fixtures import (
    BASE_MS,
    LAYOUTS,
    e2ee_message,
    facebook_json,
    message,
    photo,
    thread,
    thread_dir,
    write_big_thread,
    write_e2ee,
    write_file,
    write_thread,
    zip_folder,
)

BASE = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
MEDIA_SIZE = len(b"synthetic media bytes")


def acct(name: str) -> AccountRef:
    return AccountRef("messenger", name, "name", name)


def at(offset_s: int) -> datetime:
    return BASE + timedelta(seconds=offset_s)


def key(ms: int, sender: str | None, text: str, *uris: str) -> str:
    return content_key(ms, sender, text, "\n".join(uris))


def read(tree: FolderTree | ZipTree) -> list[ChatEvent]:
    return list(read_messenger(tree))


def messages(events: list[ChatEvent]) -> list[ChatMessage]:
    return [e for e in events if isinstance(e, ChatMessage)]


# --- finding threads -----------------------------------------------------------------


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("above", ["", "facebook-user123/"])
def test_threads_are_found_in_every_layout_in_folder_then_numeric_order(
    tmp_path: Path, layout: str, above: str
) -> None:
    inbox = thread_dir(tmp_path, layout, "inbox", "asha_abc123", above=above)
    write_thread(inbox, [thread(["Asha", "Ravi"], [message("Asha", BASE_MS, "hi")])])
    archived = thread_dir(tmp_path, layout, "archived_threads", "ravi_xyz9", above=above)
    for number in (10, 2, 1):
        document = thread(["Asha", "Ravi"], [message("Ravi", BASE_MS - number, f"part {number}")])
        (archived / f"message_{number}.json").write_bytes(facebook_json(document))
    requests = thread_dir(tmp_path, layout, "message_requests", "dev_5", above=above)
    write_thread(requests, [thread(["Dev", "Asha"], [message("Dev", BASE_MS, "hello")])])
    (inbox / "message_1.html").write_text("<html></html>")  # the HTML export is not read
    (inbox / "notes.json").write_text("{}")

    prefix = f"{above}{LAYOUTS[layout]}messages"
    assert find_threads(FolderTree(tmp_path)) == [
        f"{prefix}/archived_threads/ravi_xyz9/message_1.json",
        f"{prefix}/archived_threads/ravi_xyz9/message_2.json",
        f"{prefix}/archived_threads/ravi_xyz9/message_10.json",
        f"{prefix}/inbox/asha_abc123/message_1.json",
        f"{prefix}/message_requests/dev_5/message_1.json",
    ]
    events = read(FolderTree(tmp_path))
    assert [e.chat_key for e in events if isinstance(e, ChatInfo)] == [
        "messenger:archived_threads/ravi_xyz9",
        "messenger:inbox/asha_abc123",
        "messenger:message_requests/dev_5",
    ]
    assert [m.text for m in messages(events)] == ["part 1", "part 2", "part 10", "hi", "hello"]
    assert looks_like_messenger(FolderTree(tmp_path))
    assert NAME == "messenger"


def test_e2ee_cutover_and_filtered_threads_are_threads(tmp_path: Path) -> None:
    for folder in ("e2ee_cutover", "filtered_threads"):
        where = thread_dir(tmp_path, "2025", folder, "asha_1")
        write_thread(where, [thread(["Asha", "Ravi"], [message("Asha", BASE_MS, "hi")])])
    assert find_threads(FolderTree(tmp_path)) == [
        "your_facebook_activity/messages/e2ee_cutover/asha_1/message_1.json",
        "your_facebook_activity/messages/filtered_threads/asha_1/message_1.json",
    ]


def test_nothing_messenger_like(tmp_path: Path) -> None:
    (tmp_path / "notes_1.json").write_text('{"participants": ["a"], "title": "x"}')
    (tmp_path / "readme.txt").write_text("see you at 5")
    (tmp_path / "messages").mkdir()
    (tmp_path / "messages" / "message_1.json").write_text('{"messages": []}')
    tree = FolderTree(tmp_path)
    assert find_threads(tree) == []
    assert find_e2ee_files(tree) == []
    assert not looks_like_messenger(tree)
    assert read(tree) == []


# --- reading a thread ----------------------------------------------------------------


def test_a_personal_thread_exactly(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2023", "inbox", "ashamenon_abc123")
    photo_uri = "messages/inbox/ashamenon_abc123/photos/1.jpg"
    video_uri = "messages/inbox/ashamenon_abc123/videos/2.mp4"
    write_file(tmp_path / photo_uri)
    newest = message(
        "Ravi Kumar",
        BASE_MS + 60_000,
        "see you at 5",
        reactions=[{"reaction": "👍", "actor": "Asha Menon"}],
        type="Generic",
    )
    oldest = message(
        "Asha Menon", BASE_MS, "ok", photos=[photo(photo_uri)], videos=[photo(video_uri)]
    )
    document = thread(
        ["Asha Menon", "Ravi Kumar"],
        [newest, oldest],
        title="Asha Menon",
        thread_path="inbox/ashamenon_abc123",
    )
    write_thread(folder, [document])
    file = "messages/inbox/ashamenon_abc123/message_1.json"
    chat = "messenger:inbox/ashamenon_abc123"

    assert read(FolderTree(tmp_path)) == [
        ChatInfo(
            platform="messenger",
            chat_key=chat,
            title="Asha Menon",
            kind="personal",
            member_count=2,
            participants=[acct("Asha Menon"), acct("Ravi Kumar")],
            where=file,
        ),
        ChatMessage(
            chat_key=chat,
            message_key=key(BASE_MS + 60_000, "Ravi Kumar", "see you at 5"),
            sent_at=at(60),
            sender=acct("Ravi Kumar"),
            text="see you at 5",
            where=f"{file} message 1",
        ),
        ChatMessage(
            chat_key=chat,
            message_key=key(BASE_MS, "Asha Menon", "ok", photo_uri, video_uri),
            sent_at=BASE,
            sender=acct("Asha Menon"),
            text="ok",
            media=[
                MediaRef("photo", photo_uri, file_name="1.jpg", size=MEDIA_SIZE),
                MediaRef("video", None, file_name="2.mp4", missing=MISSING_MEDIA),
            ],
            where=f"{file} message 2",
        ),
    ]


def test_a_thread_over_several_files_is_one_chat(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2024", "inbox", "weekendplan_77")
    people = ["Asha", "Ravi", "Meena"]
    write_thread(
        folder,
        [
            thread(
                people,
                [message("Asha", BASE_MS + 3000, "c"), message("Ravi", BASE_MS + 2000, "b")],
                title="Weekend plan",
                thread_path="inbox/weekendplan_77",
            ),
            thread(people, [message("Meena", BASE_MS + 1000, "a")], title="Old name"),
            thread(people, [message("Asha", BASE_MS, "start")], title="Old name"),
        ],
    )
    events = read(FolderTree(tmp_path))
    base = "your_activity_across_facebook/messages/inbox/weekendplan_77"
    assert events[0] == ChatInfo(
        platform="messenger",
        chat_key="messenger:inbox/weekendplan_77",
        title="Weekend plan",
        kind="group",
        member_count=3,
        participants=[acct("Asha"), acct("Ravi"), acct("Meena")],
        where=f"{base}/message_1.json",
    )
    assert sum(isinstance(e, ChatInfo) for e in events) == 1
    assert [(m.text, m.where, m.sent_at, m.chat_key) for m in messages(events)] == [
        ("c", f"{base}/message_1.json message 1", at(3), "messenger:inbox/weekendplan_77"),
        ("b", f"{base}/message_1.json message 2", at(2), "messenger:inbox/weekendplan_77"),
        ("a", f"{base}/message_2.json message 1", at(1), "messenger:inbox/weekendplan_77"),
        ("start", f"{base}/message_3.json message 1", BASE, "messenger:inbox/weekendplan_77"),
    ]
    assert len(events) == 5


def test_chat_key_without_thread_path_comes_from_the_folder(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2025", "archived_threads", "ravi_42")
    write_thread(folder, [thread(["Asha", "Ravi"], [message("Ravi", BASE_MS, "hi")])])
    info, only = read(FolderTree(tmp_path))
    assert isinstance(info, ChatInfo)
    assert info.chat_key == "messenger:archived_threads/ravi_42"
    assert info.title is None
    assert isinstance(only, ChatMessage)
    assert only.chat_key == "messenger:archived_threads/ravi_42"


def test_mojibake_is_repaired_everywhere(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2023", "inbox", "chai_1")
    write_thread(
        folder,
        [
            thread(
                ["Añjali", "Ravi"],
                [message("Añjali", BASE_MS, "नमस्ते ☺", share={"link": "https://example.com/ĉ"})],
                title="Chai ☺",
                thread_path="inbox/chai_1",
            )
        ],
    )
    raw = (folder / "message_1.json").read_bytes()
    assert b'"Chai \\u00e2\\u0098\\u00ba"' in raw  # written as Facebook writes it
    info, msg = read(FolderTree(tmp_path))
    assert isinstance(info, ChatInfo)
    assert isinstance(msg, ChatMessage)
    assert info.title == "Chai ☺"
    assert info.participants == [acct("Añjali"), acct("Ravi")]
    assert msg.sender == acct("Añjali")
    assert msg.text == "नमस्ते ☺\nhttps://example.com/ĉ"


def test_text_that_is_not_mojibake_is_left_alone(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2025", "inbox", "cafe_1")
    document = thread(["Zoë", "Ravi"], [message("Zoë", BASE_MS, "Café नमस्ते")], title="Café")
    write_thread(folder, [document], escape=False)  # proper UTF-8, as a fixed exporter writes
    info, msg = read(FolderTree(tmp_path))
    assert isinstance(info, ChatInfo)
    assert isinstance(msg, ChatMessage)
    assert (info.title, msg.sender, msg.text) == ("Café", acct("Zoë"), "Café नमस्ते")


def test_repair_mojibake() -> None:
    assert repair_mojibake("\u00e2\u0098\u00ba") == "☺"
    assert repair_mojibake("नमस्ते") == "नमस्ते"
    assert repair_mojibake("Café") == "Café"
    assert repair_mojibake("see you at 5") == "see you at 5"


def test_shares_unsent_messages_and_reactions(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2023", "inbox", "asha_1")
    write_thread(
        folder,
        [
            thread(
                ["Asha", "Ravi"],
                [
                    message(
                        "Asha", BASE_MS + 2000, "look", share={"link": "https://example.com/a"}
                    ),
                    message(
                        "Asha",
                        BASE_MS + 1000,
                        "https://example.com/b",
                        share={"link": "https://example.com/b"},
                    ),
                    message("Ravi", BASE_MS, None, share={"link": "https://example.com/c"}),
                    message("Ravi", BASE_MS - 1000, None, is_unsent=True),
                    message(
                        "Asha",
                        BASE_MS - 2000,
                        "fine",
                        reactions=[{"reaction": "x", "actor": "Ravi"}],
                    ),
                ],
            )
        ],
    )
    got = messages(read(FolderTree(tmp_path)))
    assert [(m.text, m.deleted) for m in got] == [
        ("look\nhttps://example.com/a", False),
        ("https://example.com/b", False),
        ("https://example.com/c", False),
        ("", True),
        ("fine", False),
    ]


def test_every_attachment_kind(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2023", "inbox", "asha_1")
    base = "messages/inbox/asha_1"
    for sub in ("audio/1.m4a", "files/plan.pdf", "gifs/1.gif", "stickers/1.png"):
        write_file(tmp_path / base / sub)
    raw = message(
        "Asha",
        BASE_MS,
        None,
        audio_files=[photo(f"{base}/audio/1.m4a")],
        files=[photo(f"{base}/files/plan.pdf")],
        gifs=[photo(f"{base}/gifs/1.gif")],
        sticker={"uri": f"{base}/stickers/1.png"},
        photos=[{"creation_timestamp": 1}],
    )
    write_thread(folder, [thread(["Asha", "Ravi"], [raw])])
    (msg,) = messages(read(FolderTree(tmp_path)))
    assert msg.media == [
        MediaRef("photo", None, missing=NO_MEDIA_PATH),
        MediaRef("audio", f"{base}/audio/1.m4a", file_name="1.m4a", size=MEDIA_SIZE),
        MediaRef("file", f"{base}/files/plan.pdf", file_name="plan.pdf", size=MEDIA_SIZE),
        MediaRef("animation", f"{base}/gifs/1.gif", file_name="1.gif", size=MEDIA_SIZE),
        MediaRef("sticker", f"{base}/stickers/1.png", file_name="1.png", size=MEDIA_SIZE),
    ]
    assert msg.action is None


@pytest.mark.parametrize(
    ("tree_root", "uri", "expected"),
    [
        # tree rooted above the layout folder, uri without it: the layout folder is added
        (
            "",
            "messages/inbox/asha_1/photos/1.jpg",
            "your_facebook_activity/messages/inbox/asha_1/photos/1.jpg",
        ),
        # the same tree, uri with it: as given
        (
            "",
            "your_facebook_activity/messages/inbox/asha_1/photos/1.jpg",
            "your_facebook_activity/messages/inbox/asha_1/photos/1.jpg",
        ),
        # tree rooted inside the layout folder, uri with it: the layout folder is stripped
        (
            "your_facebook_activity",
            "your_facebook_activity/messages/inbox/asha_1/photos/1.jpg",
            "messages/inbox/asha_1/photos/1.jpg",
        ),
        # the other layout's folder in the uri
        (
            "",
            "your_activity_across_facebook/messages/inbox/asha_1/photos/1.jpg",
            "your_facebook_activity/messages/inbox/asha_1/photos/1.jpg",
        ),
        # relative to the thread folder
        ("", "photos/1.jpg", "your_facebook_activity/messages/inbox/asha_1/photos/1.jpg"),
    ],
)
def test_media_uris_of_the_2024_2025_layouts(
    tmp_path: Path, tree_root: str, uri: str, expected: str
) -> None:
    folder = thread_dir(tmp_path, "2025", "inbox", "asha_1")
    write_file(folder / "photos" / "1.jpg")
    write_thread(
        folder, [thread(["Asha", "Ravi"], [message("Asha", BASE_MS, photos=[photo(uri)])])]
    )
    (msg,) = messages(read(FolderTree(tmp_path / tree_root)))
    assert msg.media == [MediaRef("photo", expected, file_name="1.jpg", size=MEDIA_SIZE)]


def test_export_rooted_one_folder_higher_resolves_media(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2024", "inbox", "asha_1", above="facebook-user123/")
    write_file(folder / "photos" / "1.jpg")
    uri = "your_activity_across_facebook/messages/inbox/asha_1/photos/1.jpg"
    write_thread(
        folder, [thread(["Asha", "Ravi"], [message("Asha", BASE_MS, photos=[photo(uri)])])]
    )
    (msg,) = messages(read(FolderTree(tmp_path)))
    assert msg.media == [
        MediaRef("photo", f"facebook-user123/{uri}", file_name="1.jpg", size=MEDIA_SIZE)
    ]


def test_web_links_as_attachments_are_not_files(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2023", "inbox", "asha_1")
    uri = "https://example.com/media/1.gif"
    write_thread(folder, [thread(["Asha", "Ravi"], [message("Asha", BASE_MS, gifs=[photo(uri)])])])
    (msg,) = messages(read(FolderTree(tmp_path)))
    assert msg.media == [MediaRef("animation", None, file_name="1.gif", missing=LINKED_MEDIA)]
    assert msg.message_key == key(BASE_MS, "Asha", "", uri)


@pytest.mark.parametrize(
    "uri", ["../../etc/passwd", "/etc/passwd", "messages/../../outside.txt", "../outside.txt"]
)
def test_media_paths_leaving_the_export_are_refused(tmp_path: Path, uri: str) -> None:
    export = tmp_path / "export"
    write_file(tmp_path / "outside.txt")  # exists, but outside the export
    folder = thread_dir(export, "2023", "inbox", "asha_1")
    write_thread(
        folder, [thread(["Asha", "Ravi"], [message("Asha", BASE_MS, photos=[photo(uri)])])]
    )
    (msg,) = messages(read(FolderTree(export)))
    problem = resolve_media("", uri)[1]
    assert problem is not None
    assert msg.media == [MediaRef("photo", None, file_name=uri.rsplit("/", 1)[-1], missing=problem)]


def test_group_events(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2023", "inbox", "weekendplan_7")
    people = ["Asha", "Ravi", "Meena", "Dev"]
    raw = [
        message("Asha", BASE_MS + 9, "Asha added Meena and Dev to the group.", type="Subscribe"),
        message(
            "Asha",
            BASE_MS + 8,
            "Asha added Meena to the group.",
            type="Subscribe",
            users=[{"name": "Meena"}],
        ),
        message("Dev", BASE_MS + 7, "Dev left the group.", type="Unsubscribe"),
        message("Asha", BASE_MS + 6, "Asha removed Ravi from the group.", type="Unsubscribe"),
        message("Asha", BASE_MS + 5, "Asha named the group Weekend plan.", type="Generic"),
        message("Ravi", BASE_MS + 4, "Dev left the group.", type="Generic"),
        message("Ravi", BASE_MS + 3, "see you at 5", type="Generic"),
        message("Asha", BASE_MS + 2, "You added Dev to the group.", type="Subscribe"),
        message(
            "Asha",
            BASE_MS + 1,
            "Asha a ajouté Dev au groupe.",
            type="Subscribe",
            users=[{"name": "Dev"}],
        ),
        message("Asha", BASE_MS, "Asha created the group.", type="Generic"),
        message("Dev", BASE_MS - 1, "Dev a quitté le groupe.", type="Unsubscribe"),
        message(
            "Asha",
            BASE_MS - 2,
            "Asha a retiré Ravi du groupe.",
            type="Unsubscribe",
            users=[{"name": "Ravi"}],
        ),
    ]
    write_thread(folder, [thread(people, raw, title="Weekend plan")])
    got = messages(read(FolderTree(tmp_path)))
    assert [(m.text, m.action, m.actor, m.members) for m in got] == [
        (
            "Asha added Meena and Dev to the group.",
            "invite",
            acct("Asha"),
            [acct("Meena"), acct("Dev")],
        ),
        ("Asha added Meena to the group.", "invite", acct("Asha"), [acct("Meena")]),
        ("Dev left the group.", "leave", acct("Dev"), [acct("Dev")]),
        ("Asha removed Ravi from the group.", "remove", acct("Asha"), [acct("Ravi")]),
        ("Asha named the group Weekend plan.", "other", acct("Asha"), []),
        ("Dev left the group.", None, None, []),
        ("see you at 5", None, None, []),
        ("You added Dev to the group.", "invite", acct("Asha"), [acct("Dev")]),
        ("Asha a ajouté Dev au groupe.", "invite", acct("Asha"), [acct("Dev")]),
        ("Asha created the group.", "create", acct("Asha"), []),
        ("Dev a quitté le groupe.", "leave", acct("Dev"), [acct("Dev")]),
        ("Asha a retiré Ravi du groupe.", "remove", acct("Asha"), [acct("Ravi")]),
    ]
    assert all(m.sender is not None for m in got)


# --- bad input -----------------------------------------------------------------------


def test_truncated_json_keeps_what_came_before_and_other_threads_go_on(tmp_path: Path) -> None:
    broken = thread_dir(tmp_path, "2023", "inbox", "asha_1")
    document = thread(
        ["Asha", "Ravi"],
        [
            message("Asha", BASE_MS + 2, "one"),
            message("Ravi", BASE_MS + 1, "two"),
            message("Asha", BASE_MS, "three"),
        ],
        title="Asha",
        thread_path="inbox/asha_1",
    )
    data = facebook_json(document)
    (broken / "message_1.json").write_bytes(data[: data.index(b'"three"')])
    garbage = thread_dir(tmp_path, "2023", "inbox", "bad_2")
    (garbage / "message_1.json").write_bytes(b"see you at 5, not JSON")
    fine = thread_dir(tmp_path, "2023", "inbox", "ravi_3")
    write_thread(fine, [thread(["Asha", "Ravi"], [message("Ravi", BASE_MS, "still here")])])

    events = read(FolderTree(tmp_path))
    first = "messages/inbox/asha_1/message_1.json"
    assert events[0] == ChatInfo(
        platform="messenger",
        chat_key="messenger:inbox/asha_1",  # thread_path and title come after the messages
        title=None,
        kind="personal",
        member_count=2,
        participants=[acct("Asha"), acct("Ravi")],
        where=first,
    )
    assert [m.text for m in events[1:3] if isinstance(m, ChatMessage)] == ["one", "two"]
    assert events[3] == ChatProblem(
        first,
        "damaged JSON after 2 messages (parse error: premature EOF); the rest of the file is lost",
    )
    assert events[4] == ChatProblem(
        "messages/inbox/bad_2/message_1.json",
        "not a Messenger chat file: not JSON (lexical error: invalid char in json text.)",
    )
    assert isinstance(events[5], ChatInfo)
    assert events[5].chat_key == "messenger:inbox/ravi_3"
    assert [m.text for m in messages(events[6:])] == ["still here"]
    assert len(events) == 7


def test_a_damaged_file_loses_only_itself_within_a_thread(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2023", "inbox", "asha_1")
    people = ["Asha", "Ravi"]
    write_thread(
        folder,
        [
            thread(people, [message("Asha", BASE_MS + 2, "two")], thread_path="inbox/asha_1"),
            thread(people, [message("Asha", BASE_MS + 1, "lost")]),
            thread(people, [message("Ravi", BASE_MS, "one")]),
        ],
    )
    (folder / "message_1.json").write_bytes(b"\x00\x01 not JSON")
    (folder / "message_2.json").write_bytes(b'{"participants": [], "messages": 5}')
    events = read(FolderTree(tmp_path))
    base = "messages/inbox/asha_1"
    assert events[0] == ChatProblem(
        f"{base}/message_1.json",
        "not a Messenger chat file: not JSON (lexical error: invalid char in json text.)",
    )
    assert events[1] == ChatProblem(
        f"{base}/message_2.json", "not a Messenger chat file: no messages list"
    )
    info = events[2]
    assert isinstance(info, ChatInfo)
    assert (info.chat_key, info.where, info.member_count) == (
        "messenger:inbox/asha_1",
        f"{base}/message_3.json",
        2,
    )
    assert [(m.text, m.where) for m in messages(events)] == [
        ("one", f"{base}/message_3.json message 1")
    ]
    assert len(events) == 4


def test_a_later_file_that_breaks(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2023", "inbox", "asha_1")
    people = ["Asha", "Ravi"]
    write_thread(
        folder,
        [
            thread(people, [message("Asha", BASE_MS + 1, "one")]),
            thread(people, [message("Asha", BASE_MS, "two")]),
            thread(people, [message("Asha", BASE_MS - 1, "three")]),
        ],
    )
    (folder / "message_2.json").write_bytes(b"[1, 2")
    (folder / "message_3.json").write_bytes(b'{"participants": [], "title": "x"}')
    events = read(FolderTree(tmp_path))
    base = "messages/inbox/asha_1"
    assert events[2:] == [
        ChatProblem(
            f"{base}/message_2.json",
            "damaged JSON after 0 messages (parse error: premature EOF); the rest of the file "
            "is lost",
        ),
        ChatProblem(f"{base}/message_3.json", "not a Messenger chat file: no messages list"),
    ]


def test_wrong_types_are_handled(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2023", "inbox", "asha_1")
    raw: list[object] = [
        {"sender_name": "Asha", "timestamp_ms": str(BASE_MS), "content": None},
        {"sender_name": "Ravi", "timestamp_ms": "soon", "content": 5},
        {"timestamp_ms": 1.7e12, "content": ["see", "you"]},
        "not a message",
        {"sender_name": 7, "timestamp_ms": True, "photos": "x", "share": "x", "sticker": 3},
        {"sender_name": "", "timestamp_ms": None, "is_unsent": "yes", "type": 5},
    ]
    document = {"participants": [{"name": "Asha"}, {"name": None}, "Ravi"], "messages": raw}
    (folder / "message_1.json").write_text(json.dumps(document))
    events = read(FolderTree(tmp_path))
    info = events[0]
    assert isinstance(info, ChatInfo)
    assert (info.member_count, info.participants, info.kind) == (
        3,
        [acct("Asha"), acct("Ravi")],
        "group",
    )
    file = "messages/inbox/asha_1/message_1.json"
    got = [
        (e.sender, e.sent_at, e.text, e.media, e.deleted, e.where)
        if isinstance(e, ChatMessage)
        else e
        for e in events[1:]
    ]
    assert got == [
        (acct("Asha"), BASE, "", [], False, f"{file} message 1"),
        (acct("Ravi"), None, "5", [], False, f"{file} message 2"),
        (None, BASE, "", [], False, f"{file} message 3"),
        ChatProblem(f"{file} message 4", "message is a JSON str, not an object"),
        (None, None, "", [], False, f"{file} message 5"),
        (None, None, "", [], False, f"{file} message 6"),
    ]


def test_a_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2023", "inbox", "asha_1")
    data = facebook_json(thread(["Asha", "Ravi"], [message("Asha", BASE_MS, "hi")]))
    (folder / "message_1.json").write_bytes(b"\xef\xbb\xbf" + data)
    assert [m.text for m in messages(read(FolderTree(tmp_path)))] == ["hi"]


# --- keys ----------------------------------------------------------------------------


def test_keys_are_stable_and_repeats_are_numbered(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2023", "inbox", "asha_1")
    same = message("Asha", BASE_MS, "see you at 5")
    other = message("Ravi", BASE_MS, "see you at 5")  # the same millisecond, another sender
    write_thread(
        folder,
        [
            thread(["Asha", "Ravi"], [same, other, same]),
            thread(["Asha", "Ravi"], [same, message("Ravi", BASE_MS - 5, "ok")]),
        ],
    )
    first = [m.message_key for m in messages(read(FolderTree(tmp_path)))]
    second = [m.message_key for m in messages(read(FolderTree(tmp_path)))]
    base = key(BASE_MS, "Asha", "see you at 5")
    assert (
        first
        == second
        == [
            base,
            key(BASE_MS, "Ravi", "see you at 5"),
            f"{base}#2",
            f"{base}#3",  # the count goes on across the thread's files
            key(BASE_MS - 5, "Ravi", "ok"),
        ]
    )


# --- zip delivery --------------------------------------------------------------------


def test_a_zip_delivered_export_reads_like_the_folder(tmp_path: Path) -> None:
    export = tmp_path / "export"
    folder = thread_dir(export, "2025", "inbox", "asha_1", above="facebook-user123/")
    uri = "your_facebook_activity/messages/inbox/asha_1/photos/1.jpg"
    write_file(folder / "photos" / "1.jpg")
    write_thread(
        folder,
        [
            thread(
                ["Asha", "Ravi"],
                [message("Asha", BASE_MS, "नमस्ते ☺", photos=[photo(uri)])],
                thread_path="inbox/asha_1",
            )
        ],
    )
    write_e2ee(
        export / "e2ee" / "Asha_1.json",
        ["Asha", "Ravi"],
        "Asha",
        [e2ee_message("Ravi", BASE_MS, "ok", kind="media", media=["./media/a1.jpg"])],
    )
    write_file(export / "e2ee" / "media" / "a1.jpg")
    zipped = ZipTree(zip_folder(export, tmp_path / "facebook-user123.zip"))
    try:
        from_zip = read(zipped)
    finally:
        zipped.close()
    assert from_zip == read(FolderTree(export))
    assert [m.media for m in messages(from_zip)] == [
        [MediaRef("photo", f"facebook-user123/{uri}", file_name="1.jpg", size=MEDIA_SIZE)],
        [MediaRef("photo", "e2ee/media/a1.jpg", file_name="a1.jpg", size=MEDIA_SIZE)],
    ]
    assert [m.text for m in messages(from_zip)] == ["नमस्ते ☺", "ok"]


# --- the E2EE download ---------------------------------------------------------------


def test_e2ee_files_are_found_by_their_content(tmp_path: Path) -> None:
    write_e2ee(tmp_path / "Asha_1.json", ["Asha", "Ravi"], "Asha", [e2ee_message("Asha", 1, "hi")])
    write_e2ee(tmp_path / "deep" / "Ravi_12.json", ["Asha", "Ravi"], "Ravi", [])
    write_e2ee(tmp_path / "Asha.json", ["Asha", "Ravi"], "Asha", [])  # no _<n>: not one
    (tmp_path / "posts_1.json").write_text('[{"timestamp": 1}]')
    (tmp_path / "friends_1.json").write_text(
        '{"participants": [{"name": "Asha"}], "threadName": "x", "messages": []}'
    )
    (tmp_path / "other_1.json").write_text(
        '{"participants": ["Asha"], "threadName": "x", "messages": [{"author": "Asha"}]}'
    )
    (tmp_path / "broken_1.json").write_bytes(b"\xff\xfe not json")
    tree = FolderTree(tmp_path)
    assert find_e2ee_files(tree) == ["Asha_1.json", "deep/Ravi_12.json"]
    assert find_threads(tree) == []
    assert looks_like_messenger(tree)


def test_e2ee_chat_exactly(tmp_path: Path) -> None:
    path = write_e2ee(
        tmp_path / "chats" / "Asha_1.json",
        ["Asha", "Ravi"],
        "Asha",
        [
            e2ee_message("Ravi", BASE_MS + 4000, "नमस्ते"),
            e2ee_message("Asha", BASE_MS + 3000, kind="media", media=["./media/1111.jpg"]),
            e2ee_message("Asha", BASE_MS + 2000, kind="media", media=["./media/2222.mp4"]),
            e2ee_message("Ravi", BASE_MS + 1000, "", unsent=True),
            e2ee_message("Ravi", BASE_MS, kind="media", media=["../../etc/passwd"]),
        ],
    )
    write_file(tmp_path / "chats" / "media" / "1111.jpg")
    assert "नमस्ते" in path.read_text(encoding="utf-8")  # plain UTF-8, no escaping
    chat = "messenger:e2ee/Asha_1"
    file = "chats/Asha_1.json"
    passwd_problem = resolve_media("chats", "../../etc/passwd")[1]
    assert passwd_problem is not None

    def msg(
        n: int,
        ms: int,
        sender: str,
        text: str,
        media: list[MediaRef],
        uris: list[str],
        deleted: bool = False,
    ) -> ChatMessage:
        return ChatMessage(
            chat_key=chat,
            message_key=key(ms, sender, text, *uris),
            sent_at=BASE + timedelta(milliseconds=ms - BASE_MS),
            sender=acct(sender),
            text=text,
            media=media,
            deleted=deleted,
            where=f"{file} message {n}",
        )

    assert read(FolderTree(tmp_path)) == [
        ChatInfo(
            platform="messenger",
            chat_key=chat,
            title="Asha",
            kind="personal",
            member_count=2,
            participants=[acct("Asha"), acct("Ravi")],
            where=file,
        ),
        msg(1, BASE_MS + 4000, "Ravi", "नमस्ते", [], []),
        msg(
            2,
            BASE_MS + 3000,
            "Asha",
            "",
            [MediaRef("photo", "chats/media/1111.jpg", file_name="1111.jpg", size=MEDIA_SIZE)],
            ["./media/1111.jpg"],
        ),
        msg(
            3,
            BASE_MS + 2000,
            "Asha",
            "",
            [MediaRef("video", None, file_name="2222.mp4", missing=MISSING_MEDIA)],
            ["./media/2222.mp4"],
        ),
        msg(4, BASE_MS + 1000, "Ravi", "", [], [], deleted=True),
        msg(
            5,
            BASE_MS,
            "Ravi",
            "",
            [MediaRef("file", None, file_name="passwd", missing=passwd_problem)],
            ["../../etc/passwd"],
        ),
    ]


def test_e2ee_after_dyi_and_a_truncated_e2ee_file(tmp_path: Path) -> None:
    folder = thread_dir(tmp_path, "2025", "inbox", "asha_1")
    write_thread(folder, [thread(["Asha", "Ravi"], [message("Asha", BASE_MS, "dyi")])])
    path = write_e2ee(
        tmp_path / "Meena_2.json",
        ["Asha", "Meena", "Ravi"],
        "Plans",
        [e2ee_message("Meena", BASE_MS + 1, "first"), e2ee_message("Asha", BASE_MS, "second")],
    )
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b'"second"')])
    events = read(FolderTree(tmp_path))
    assert [type(e).__name__ for e in events] == [
        "ChatInfo",
        "ChatMessage",
        "ChatInfo",
        "ChatMessage",
        "ChatProblem",
    ]
    info = events[2]
    assert isinstance(info, ChatInfo)
    assert (info.chat_key, info.title, info.kind, info.member_count) == (
        "messenger:e2ee/Meena_2",
        "Plans",
        "group",
        3,
    )
    assert [m.text for m in messages(events)] == ["dyi", "first"]
    assert events[4] == ChatProblem(
        "Meena_2.json",
        "damaged JSON after 1 messages (parse error: premature EOF); the rest of the file is lost",
    )


# --- size ----------------------------------------------------------------------------


def _read_all(root: Path) -> int:
    seen = 0
    for event in read_messenger(FolderTree(root)):
        assert not isinstance(event, ChatProblem), event
        seen += isinstance(event, ChatMessage)
    return seen


@pytest.mark.slow
def test_a_thread_of_100000_messages(tmp_path: Path) -> None:
    count = 100_000
    write_big_thread(tmp_path / "messages/inbox/asha_1/message_1.json", count)
    started = time.monotonic()
    (info,) = (e for e in read_messenger(FolderTree(tmp_path)) if isinstance(e, ChatInfo))
    assert (info.chat_key, info.title, info.member_count) == ("messenger:inbox/asha_1", "Asha", 2)
    assert _read_all(tmp_path) == count
    assert time.monotonic() - started < 15


def _peak_reading(root: Path) -> int:
    tracemalloc.start()
    try:
        _read_all(root)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_does_not_grow_with_the_chat(tmp_path: Path) -> None:
    small, big = tmp_path / "small", tmp_path / "big"
    write_big_thread(small / "messages/inbox/asha_1/message_1.json", 2_000)
    path = write_big_thread(big / "messages/inbox/asha_1/message_1.json", 20_000)
    small_peak, big_peak = _peak_reading(small), _peak_reading(big)
    # Ten times the messages, about the same peak: one message is held at a time, beside
    # the parser's events for one 64 KiB read; the file is never held whole.
    assert big_peak < small_peak * 1.5 + 64 * 1024, (small_peak, big_peak)
    assert big_peak < 3 * 1024 * 1024 < path.stat().st_size * 2, big_peak
