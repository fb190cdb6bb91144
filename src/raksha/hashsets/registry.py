"""The explicit list of hash-set readers, and choosing one by content."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from raksha.errors import InputFormatError, UsageError
from raksha.hashsets.icse import IcseReader
from raksha.hashsets.nsrl import NsrlReader
from raksha.hashsets.records import ParseEvent
from raksha.hashsets.text import HashListReader, TypedReader
from raksha.hashsets.vics import VicsReader

HEAD_BYTES = 64 * 1024


class HashSetReader(Protocol):
    NAME: str
    description: str

    def sniff(self, path: Path, head: bytes) -> bool: ...

    def read(self, path: Path) -> Iterator[ParseEvent]: ...


#: In the order detection asks them: the most specific signatures first.
READERS: tuple[HashSetReader, ...] = (
    NsrlReader(),
    VicsReader(),
    IcseReader(),
    TypedReader(),
    HashListReader(),
)


def reader_names() -> list[str]:
    return [r.NAME for r in READERS]


def get_reader(name: str) -> HashSetReader:
    for reader in READERS:
        if name == reader.NAME:
            return reader
    raise UsageError(
        f"unknown hash-set format {name!r}; choose one of: {', '.join(reader_names())}"
    )


def detect(path: Path) -> HashSetReader:
    try:
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError as exc:
        raise InputFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    for reader in READERS:
        if reader.sniff(path, head):
            return reader
    raise InputFormatError(
        f"{path} is in no hash-set format Raksha reads ({', '.join(reader_names())}); "
        "if you know its format, name it with --format"
    )
