"""The reader list and detection by content (never by file name)."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import pkgutil
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import raksha.hashsets
from raksha.errors import InputFormatError, UsageError
from raksha.hashsets.records import ReferenceRecord, Rejection, SetInfo
from raksha.hashsets.registry import READERS, detect, get_reader, reader_names
from tests.hashsets.fixtures import (
    case_header,
    icse_row,
    nsrl_row,
    random_hex,
    vics_media,
    write_icse,
    write_lines,
    write_nsrl,
    write_vics,
)

RNG = random.Random(51)


def _reader_classes() -> set[type]:
    """Every class in the hashsets package that looks like a reader."""
    found: set[type] = set()
    for info in pkgutil.iter_modules(raksha.hashsets.__path__, "raksha.hashsets."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and all(
                hasattr(cls, a) for a in ("NAME", "sniff", "read")
            ):
                found.add(cls)
    return found


def test_names_are_unique_and_every_reader_is_listed() -> None:
    names = reader_names()
    assert len(names) == len(set(names))
    assert set(names) == {"nsrl", "vics", "icse", "vpdq", "typed", "hashlist"}
    assert {type(r) for r in READERS} == _reader_classes()
    assert all(r.description for r in READERS)


def test_get_reader() -> None:
    assert get_reader("vics").NAME == "vics"
    assert get_reader(" ICSE ").NAME == "icse"
    with pytest.raises(UsageError, match="hashlist"):
        get_reader("csv")


Builder = Callable[[Path], Path]

BUILDERS: dict[str, tuple[str, Builder]] = {
    "vics-2.0": ("vics", lambda p: write_vics(p, [vics_media(RNG, 1)], bom=True)),
    "vics-1.3-case": (
        "vics",
        lambda p: write_vics(p, [vics_media(RNG, 1)], version="1.3", case=case_header()),
    ),
    "vics-metadata-last": (
        "vics",
        lambda p: write_vics(p, [vics_media(RNG, 1)], metadata_last=True),
    ),
    "icse": ("icse", lambda p: write_icse(p, [icse_row(RNG, 1)], bom=True)),
    "md5sum": (
        "hashlist",
        lambda p: write_lines(p, [f"{random_hex(RNG, 32)}  a.jpg", f"{random_hex(RNG, 32)} *b"]),
    ),
    "sha256sum": ("hashlist", lambda p: write_lines(p, [f"{random_hex(RNG, 64)}  c.png"])),
    "bare": ("hashlist", lambda p: write_lines(p, [random_hex(RNG, 40)] * 3)),
    "typed": (
        "typed",
        lambda p: write_lines(p, ["# list", f"pdq {random_hex(RNG, 64)}", f"md5 {'0' * 32}"]),
    ),
    "nsrl": ("nsrl", lambda p: write_nsrl(p, [nsrl_row(RNG, 1)])),
}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
@pytest.mark.parametrize("file_name", ["hashes.json", "hashes.csv", "hashes.txt", "hashes.db", "x"])
def test_detect_by_content_whatever_the_name(tmp_path: Path, kind: str, file_name: str) -> None:
    expected, build = BUILDERS[kind]
    path = build(tmp_path / file_name)

    reader = detect(path)

    assert expected == reader.NAME
    assert any(True for _ in reader.read(path))


@pytest.mark.parametrize(
    "content",
    [b"just some prose\nnothing to see\n", b'{"a": 1}', b"\x89PNG\r\n\x1a\n" + b"\x00" * 50],
    ids=["prose", "other-json", "binary"],
)
def test_unknown_content_names_the_formats_and_suggests_format(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "mystery.txt"
    path.write_bytes(content)

    with pytest.raises(InputFormatError) as caught:
        detect(path)

    message = str(caught.value)
    assert "--format" in message
    for name in reader_names():
        assert name in message


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    with pytest.raises(InputFormatError, match="empty"):
        detect(empty)
    with pytest.raises(InputFormatError, match="cannot read"):
        detect(tmp_path / "absent.json")


_NOISE = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(
        st.sampled_from(
            [
                b"{",
                b"}",
                b"[",
                b"]",
                b'"value"',
                b":",
                b",",
                b'"MD5"',
                b'"Media"',
                b"\n",
                b";",
                b"md5 ",
                b"pdq ",
                b"0" * 32,
                b"A" * 40,
                b"null",
                b"true",
                b'"x"',
                b"\xef\xbb\xbf",
            ]
        ),
        max_size=60,
    ).map(b"".join),
)


@settings(max_examples=150, deadline=None)
@given(content=_NOISE)
def test_no_reader_fails_on_garbage_with_anything_but_input_format_error(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    path = tmp_path_factory.mktemp("noise") / "noise"
    path.write_bytes(content)
    for reader in READERS:
        try:
            events = list(reader.read(path))
        except InputFormatError:
            continue
        assert all(isinstance(e, ReferenceRecord | Rejection | SetInfo) for e in events)
    with contextlib.suppress(InputFormatError):
        detect(path)
