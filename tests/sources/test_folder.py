"""Folder sources: exact locators in order, real bytes, links reported, evidence untouched."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from raksha.errors import UsageError
from raksha.sources.base import FilePayload
from raksha.sources.detect import open_source
from raksha.sources.folder import FolderSource
from tests.sources.builders import (
    NON_UTF8,
    age,
    by_locator,
    collect,
    evidence_tree,
    jpeg_bytes,
    payload_bytes,
    snapshot,
    zip_bytes,
)

EXPECTED = [
    ("DCIM/Camera/IMG_0001.jpg", "file"),
    ("DCIM/Camera/IMG_0002.dat", "file"),
    ("DCIM/Camera/empty.jpg", "file"),
    ("Documents/caf\\xe9.txt", "file"),
    ("Documents/deep/er/still.bin", "file"),
    ("Documents/notes.txt", "file"),
    ("backup.jpg", "archive"),
    ("backup.jpg > photos/a.jpg", "file"),
    ("backup.jpg > photos/b.jpg", "file"),
    ("links/inside", "link"),
    ("links/loop_a", "link"),
    ("links/loop_b", "link"),
    ("links/outside", "link"),
    ("links/self", "link"),
]


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    root = tmp_path / "phone"
    files = evidence_tree(root, tmp_path / "elsewhere")
    return root, files


def test_locators_kinds_and_order_are_exact(tree: tuple[Path, dict[str, bytes]]) -> None:
    root, _ = tree
    source = open_source(root)
    assert isinstance(source, FolderSource)
    assert source.root_locator == "phone"
    items = collect(source)
    source.close()
    assert [(i.locator, i.kind) for i in items] == EXPECTED
    assert [i.depth for i in items if " > " in i.locator] == [1, 1]


def test_payloads_are_the_files_bytes(tree: tuple[Path, dict[str, bytes]]) -> None:
    root, files = tree
    with FolderSource(root) as source:
        items = by_locator(collect(source))
    for rel, data in files.items():
        item = items[rel]
        assert item.error is None
        assert isinstance(item.payload, FilePayload)
        assert payload_bytes(item.payload) == data
        assert item.size == len(data)
    assert payload_bytes(items["backup.jpg > photos/b.jpg"].payload) == jpeg_bytes(5)
    empty = items["DCIM/Camera/empty.jpg"]
    assert (empty.size, empty.error, payload_bytes(empty.payload)) == (0, None, b"")


def test_a_name_that_is_not_utf8_gets_a_visible_locator_and_a_real_path(
    tree: tuple[Path, dict[str, bytes]],
) -> None:
    root, _ = tree
    with FolderSource(root) as source:
        item = by_locator(collect(source))["Documents/caf\\xe9.txt"]
    item.locator.encode("utf-8")  # storable as text
    assert isinstance(item.payload, FilePayload)
    assert os.fsencode(item.payload.path).endswith(NON_UTF8)
    assert payload_bytes(item.payload) == b"latin-1 name\n"


def test_links_are_not_followed_and_say_why(tree: tuple[Path, dict[str, bytes]]) -> None:
    root, _ = tree
    with FolderSource(root) as source:
        items = by_locator(collect(source))
    links = {k: v for k, v in items.items() if v.kind == "link"}
    assert all(v.payload is None for v in links.values())
    assert "part of a loop" in (links["links/loop_a"].error or "")
    assert "part of a loop" in (links["links/loop_b"].error or "")
    assert "points to a folder that contains it" in (links["links/self"].error or "")
    assert "leaves the evidence root" in (links["links/outside"].error or "")
    assert (links["links/inside"].error or "").startswith(
        "symbolic link not followed: target inside the evidence root is scanned there"
    )
    assert "secret.txt" not in "".join(i.locator for i in items.values())


def test_evidence_bytes_mtimes_and_atimes_are_unchanged(
    tree: tuple[Path, dict[str, bytes]],
) -> None:
    root, _ = tree
    age(root)
    before = snapshot(root)
    with FolderSource(root) as source:
        items = collect(source)
    assert len(items) == len(EXPECTED)
    assert snapshot(root) == before


def test_two_walks_give_the_same_items(tree: tuple[Path, dict[str, bytes]]) -> None:
    root, _ = tree

    def run() -> list[tuple[str, str, int | None, str | None, bytes | None]]:
        with FolderSource(root) as source:
            return [
                (
                    i.locator,
                    i.kind,
                    i.size,
                    i.error,
                    payload_bytes(i.payload) if i.payload else None,
                )
                for i in source.items()
            ]

    assert run() == run()


def test_unreadable_file_and_folder_are_items_and_the_walk_goes_on(
    tmp_path: Path, deny: Callable[[Path], None]
) -> None:
    root = tmp_path / "ev"
    (root / "closed").mkdir(parents=True)
    (root / "closed" / "hidden.txt").write_bytes(b"x")
    (root / "a.txt").write_bytes(b"a")
    (root / "locked.txt").write_bytes(b"locked")
    (root / "z.txt").write_bytes(b"z")
    deny(root / "locked.txt")
    deny(root / "closed")
    with FolderSource(root) as source:
        items = collect(source)
    assert [(i.locator, i.kind) for i in items] == [
        ("a.txt", "file"),
        ("closed", "directory"),
        ("locked.txt", "file"),
        ("z.txt", "file"),
    ]
    closed, locked = items[1], items[2]
    assert closed.error == "unreadable directory: Permission denied"
    assert (locked.error, locked.payload, locked.size) == ("unreadable: Permission denied", None, 6)
    assert payload_bytes(items[3].payload) == b"z"


def test_special_files_are_reported_not_opened(tmp_path: Path) -> None:
    root = tmp_path / "ev"
    root.mkdir()
    os.mkfifo(root / "pipe")  # opening it for reading would block forever
    (root / "x.txt").write_bytes(b"x")
    with FolderSource(root) as source:
        items = collect(source)
    assert [(i.locator, i.kind, i.error) for i in items] == [
        ("pipe", "special", "special file not read: fifo"),
        ("x.txt", "file", None),
    ]


def test_unusual_names_stay_unique_and_visible(tmp_path: Path) -> None:
    root = tmp_path / "ev"
    root.mkdir()
    (root / "a.zip").write_bytes(zip_bytes([("x", b"member")]))
    (root / "a.zip > x").write_bytes(b"a file named like a member")
    (root / "line\nbreak").write_bytes(b"n")
    (root / "\\x41").write_bytes(b"backslash")
    (root / "A").write_bytes(b"A")
    with FolderSource(root) as source:
        locators = [i.locator for i in source.items()]
    assert locators == ["A", "\\\\x41", "a.zip", "a.zip > x", "a.zip \\x3e x", "line\\x0abreak"]
    assert len(set(locators)) == len(locators)


def test_a_temporary_area_inside_the_evidence_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "ev"
    (root / "tmp").mkdir(parents=True)
    with pytest.raises(UsageError, match="inside the evidence"):
        FolderSource(root, temp_dir=root / "tmp")


def test_a_root_that_cannot_be_listed_is_one_item(
    tmp_path: Path, deny: Callable[[Path], None]
) -> None:
    root = tmp_path / "ev"
    root.mkdir()
    deny(root)
    with FolderSource(root) as source:
        items = collect(source)
    assert [(i.locator, i.kind, i.error) for i in items] == [
        (".", "directory", "unreadable directory: Permission denied")
    ]
