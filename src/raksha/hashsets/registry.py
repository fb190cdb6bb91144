"""The explicit list of hash-set readers, and choosing one by a file's content.

Readers are listed here by hand (no registration as a side effect of importing a module),
so what Raksha reads is visible in one place and a test can check the list is complete.

Detection reads the first 64 KiB once and asks each reader, in :data:`READERS` order, the
most specific signatures first:

1. ``nsrl``: the SQLite header plus a ``FILE`` table or view;
2. ``vics``: a JSON object with a VICS metadata URL (or opening with a Media list);
3. ``icse``: a semicolon header naming ICSE columns;
4. ``vpdq``: comma-separated vPDQ frame lines (64-hex PDQ, quality, timestamp), or a ZIP
   whose first member is such a ``.txt``/``.vpdq`` file;
5. ``typed``: lines of a known signal type followed by hex;
6. ``hashlist``: lines starting with a hash of a digest's length.

The file's name and extension are never consulted: evidence is often misnamed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final, Protocol

from raksha.errors import InputFormatError, UsageError
from raksha.hashsets.icse import IcseReader
from raksha.hashsets.nsrl import NsrlReader
from raksha.hashsets.records import ParseEvent
from raksha.hashsets.text import HashListReader, TypedReader
from raksha.hashsets.vics import VicsReader
from raksha.hashsets.vpdq import VpdqReader

#: How much of a file the sniffers see.
HEAD_BYTES: Final = 64 * 1024


class HashSetReader(Protocol):
    """What every reader offers: a stable name, a content sniffer, and a streaming read."""

    NAME: str
    description: str

    def sniff(self, path: Path, head: bytes) -> bool:
        """Whether ``head`` (the first 64 KiB of ``path``) looks like this format."""
        ...

    def read(self, path: Path) -> Iterator[ParseEvent]:
        """The file as a stream of records, rejections and set information."""
        ...


#: Every reader, in the order detection asks them.
READERS: Final[tuple[HashSetReader, ...]] = (
    NsrlReader(),
    VicsReader(),
    IcseReader(),
    VpdqReader(),
    TypedReader(),
    HashListReader(),
)


def reader_names() -> list[str]:
    """The ``--format`` names, in detection order."""
    return [r.NAME for r in READERS]


def get_reader(name: str) -> HashSetReader:
    """The reader called ``name`` (any case); :class:`UsageError` naming the choices if none."""
    wanted = name.strip().lower()
    for reader in READERS:
        if wanted == reader.NAME:
            return reader
    raise UsageError(
        f"unknown hash-set format {name!r}; choose one of: {', '.join(reader_names())}"
    )


def _supported() -> str:
    return "; ".join(f"{r.NAME} ({r.description})" for r in READERS)


def detect(path: Path) -> HashSetReader:
    """The reader for ``path``, chosen by content; :class:`InputFormatError` if none fits."""
    try:
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError as exc:
        raise InputFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not head.strip():
        raise InputFormatError(f"{path} is empty; there is no hash set to read")
    for reader in READERS:
        if reader.sniff(path, head):
            return reader
    raise InputFormatError(
        f"{path} is in no hash-set format Raksha recognises. Supported formats: "
        f"{_supported()}. If you know the format, name it with --format "
        f"({'|'.join(reader_names())})."
    )
