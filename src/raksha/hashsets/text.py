"""Plain-text hash lists, read line by line: two readers, told apart by content.

* ``hashlist``: what ``md5sum``/``sha1sum``/``sha256sum`` print (``<hex>  <name>``, or
  ``<hex> *<name>`` in binary mode, or ``\\<hex>  <escaped name>`` when the name holds a
  backslash or newline), their ``--tag`` form (``SHA256 (<name>) = <hex>``), or one bare
  hash a line. The algorithm follows from the length: 32 MD5, 40 SHA-1, 64 SHA-256 (these
  tools never write PDQ; a PDQ list must say so, in the typed form).
* ``typed``: ``<signal_type> <hash>`` a line, as python-threatexchange's local-file
  exchange writes it. Types ``pdq``, ``md5``, ``sha1``, ``sha256`` (any case), and
  python-threatexchange's own names for the same digests, ``video_md5`` and
  ``video_sha256`` (their records are marked ``extra["media_kind"] = "video"``).
  Anything after the hash is kept as metadata.

Blank lines and ``#`` comments are skipped; every other unusable line is a rejection with
its line number. Lines are read with a length cap, so even a file with no line breaks is
read in flat memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final

from raksha.errors import InvalidHashError
from raksha.hashes import MD5, PDQ, SHA1, SHA256, normalize_hash
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo, excerpt

#: Longest line read whole; longer lines are skipped in chunks and rejected.
MAX_LINE: Final = 64 * 1024
_SNIFF_LINES: Final = 20
_BY_LENGTH: Final[dict[int, str]] = {32: MD5, 40: SHA1, 64: SHA256}
_TAG_NAMES: Final[dict[str, str]] = {
    "md5": MD5,
    "sha1": SHA1,
    "sha-1": SHA1,
    "sha256": SHA256,
    "sha-256": SHA256,
}
#: Signal types read by the typed reader (lower-cased) -> our algorithm.
SIGNAL_TYPES: Final[dict[str, str]] = {
    "pdq": PDQ,
    "md5": MD5,
    "sha1": SHA1,
    "sha256": SHA256,
    "video_md5": MD5,
    "video_sha256": SHA256,
}
#: Signal types that say the hashed file is a video.
VIDEO_SIGNAL_TYPES: Final = frozenset({"video_md5", "video_sha256"})
_HEX: Final = re.compile(r"[0-9A-Fa-f]+")
_HASHLIST_LINE: Final = re.compile(r"\\?[0-9A-Fa-f]{32}(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{32})?(?:\s|$)")
_TAG_LINE: Final = re.compile(r"(MD5|SHA-?1|SHA-?256) ?\((.*)\) ?= ?([0-9A-Fa-f]+)$", re.IGNORECASE)
_TYPED_LINE: Final = re.compile(
    r"(pdq|md5|sha1|sha256|video_md5|video_sha256)\s+[0-9A-Fa-f]{32}", re.IGNORECASE
)
_EXTRA_TEXT_LIMIT: Final = 200


def content_lines(stream: IO[str], max_line: int = MAX_LINE) -> Iterator[tuple[int, str | None]]:
    """``(line number, text)`` for every line with content; text ``None`` if over-long.

    Lines are read with a length cap, so even a stream with no line breaks is read in flat
    memory; blank lines and ``#`` comments are skipped. Shared by every line-based reader.
    """
    number = 0
    while True:
        line = stream.readline(max_line)
        if not line:
            return
        number += 1
        if len(line) >= max_line and not line.endswith("\n"):
            while (more := stream.readline(max_line)) and not more.endswith("\n"):
                pass
            yield number, None
            continue
        text = line.rstrip("\n")
        stripped = text.strip()
        if stripped and not stripped.startswith("#"):
            yield number, text


def _lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """``(line number, text)`` for every line with content; text ``None`` if over-long."""
    with path.open("r", encoding="utf-8-sig", errors="replace", newline=None) as f:
        yield from content_lines(f)


def _too_long(number: int) -> Rejection:
    return Rejection(f"line {number}", f"the line is longer than {MAX_LINE} characters")


def _head_lines(head: bytes) -> list[str]:
    """The first content lines of a text head (none for binary data)."""
    if b"\x00" in head:
        return []
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines.pop()  # cut off by the end of the head
    content = [ln.strip() for ln in lines]
    return [ln for ln in content if ln and not ln.startswith("#")][:_SNIFF_LINES]


def _mostly(lines: list[str], pattern: re.Pattern[str]) -> bool:
    return bool(lines) and sum(1 for ln in lines if pattern.match(ln)) * 2 > len(lines)


def _unescape_name(name: str) -> str:
    """Undo coreutils' escaping of ``\\`` and newline in names (lines starting ``\\``)."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), name)


def parse_hashlist_line(text: str, where: str) -> ReferenceRecord | Rejection:
    """One line of md5sum-style output (or a bare hash) as a record or a rejection."""
    tagged = _TAG_LINE.match(text.strip())
    if tagged:
        algorithm = _TAG_NAMES[tagged.group(1).lower()]
        try:
            value = normalize_hash(algorithm, tagged.group(3))
        except InvalidHashError as exc:
            return Rejection(where, str(exc), excerpt(text))
        return ReferenceRecord([(algorithm, value)], where, file_name=tagged.group(2) or None)
    line = text.lstrip()
    escaped = line.startswith("\\")
    if escaped:
        line = line[1:]
    parts = line.split(None, 1)
    token = parts[0] if parts else ""
    if not _HEX.fullmatch(token):
        return Rejection(
            where, "expected '<hash>  <file name>' or a bare MD5/SHA-1/SHA-256 hash", excerpt(text)
        )
    by_length = _BY_LENGTH.get(len(token))
    if by_length is None:
        return Rejection(
            where,
            f"a hash of {len(token)} hex characters is neither MD5 (32), SHA-1 (40) "
            "nor SHA-256 (64)",
            excerpt(text),
        )
    rest = line[len(token) :]
    # coreutils write '<hash>  <name>' or '<hash> *<name>'; be lenient about the spacing
    name = rest[2:] if rest.startswith((" *", "  ")) else rest.strip().removeprefix("*")
    if escaped:
        name = _unescape_name(name)
    return ReferenceRecord(
        [(by_length, normalize_hash(by_length, token))], where, file_name=name or None
    )


def parse_typed_line(text: str, where: str) -> ReferenceRecord | Rejection:
    """One ``<signal_type> <hash> [metadata]`` line as a record or a rejection."""
    parts = text.strip().split(None, 2)
    if len(parts) < 2:
        return Rejection(
            where, "expected '<type> <hash>', e.g. 'pdq <64 hex characters>'", excerpt(text)
        )
    algorithm = SIGNAL_TYPES.get(parts[0].lower())
    if algorithm is None:
        return Rejection(
            where,
            f"signal type {excerpt(parts[0])!r} is not a file hash Raksha reads; "
            f"known types: {', '.join(SIGNAL_TYPES)}",
            excerpt(text),
        )
    try:
        value = normalize_hash(algorithm, parts[1])
    except InvalidHashError as exc:
        return Rejection(where, str(exc), excerpt(text))
    extra = {"metadata": parts[2][:_EXTRA_TEXT_LIMIT]} if len(parts) > 2 else {}
    if parts[0].lower() in VIDEO_SIGNAL_TYPES:
        extra["media_kind"] = "video"
    return ReferenceRecord([(algorithm, value)], where, extra=extra)


class HashListReader:
    """md5sum/sha1sum/sha256sum output (plain or ``--tag``), or one bare hash a line."""

    NAME = "hashlist"
    description = "md5sum/sha1sum/sha256sum output, or one MD5/SHA-1/SHA-256 hash a line"

    def sniff(self, path: Path, head: bytes) -> bool:
        """Most of the first lines start with a hash of a digest's length."""
        lines = _head_lines(head)
        return bool(lines) and (
            sum(1 for ln in lines if _HASHLIST_LINE.match(ln) or _TAG_LINE.match(ln)) * 2
            > len(lines)
        )

    def read(self, path: Path) -> Iterator[ParseEvent]:
        yield SetInfo(self.NAME, {})
        for number, text in _lines(path):
            yield _too_long(number) if text is None else parse_hashlist_line(text, f"line {number}")


class TypedReader:
    """``<signal_type> <hash>`` lines: pdq, md5, sha1, sha256."""

    NAME = "typed"
    description = "'<type> <hash>' lines (pdq, md5, sha1, sha256) as python-threatexchange writes"

    def sniff(self, path: Path, head: bytes) -> bool:
        """Most of the first lines are a known signal type followed by hex."""
        return _mostly(_head_lines(head), _TYPED_LINE)

    def read(self, path: Path) -> Iterator[ParseEvent]:
        yield SetInfo(self.NAME, {})
        for number, text in _lines(path):
            yield _too_long(number) if text is None else parse_typed_line(text, f"line {number}")
