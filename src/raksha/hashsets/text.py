"""Plain-text hash lists: md5sum/sha1sum/sha256sum output, bare hashes, and typed lines.

Two readers, told apart by content: ``hashlist`` (``<hex>  <name>``, ``<hex> *<name>`` or a
bare hex value a line; the algorithm follows from the length) and ``typed``
(``<signal_type> <hash>`` as python-threatexchange's local-file exchange writes it).
Blank lines and ``#`` comments are skipped; every other unusable line is a rejection.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from raksha.errors import InvalidHashError
from raksha.hashes import MD5, PDQ, SHA1, SHA256, normalize_hash
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo, excerpt

_BY_LENGTH = {32: MD5, 40: SHA1, 64: SHA256}
_TYPES = {"pdq": PDQ, "md5": MD5, "sha1": SHA1, "sha256": SHA256}
_HASHLIST_LINE = re.compile(r"^([0-9A-Fa-f]{32,64})(?:\s+\*?(.*))?$")
_TYPED_LINE = re.compile(r"^(pdq|md5|sha1|sha256)\s+\S+", re.IGNORECASE)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as f:
        for number, line in enumerate(f, 1):
            text = line.strip()
            if text and not text.startswith("#"):
                yield number, text


def _text_head(head: bytes) -> list[str]:
    if b"\x00" in head:
        return []
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = [ln.strip() for ln in text.splitlines()[:-1] or text.splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")][:20]


class HashListReader:
    """md5sum/sha1sum/sha256sum style lists, or one bare hash a line."""

    NAME = "hashlist"
    description = "md5sum/sha1sum/sha256sum output or one hash a line"

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = _text_head(head)
        if not lines:
            return False
        good = sum(
            1 for ln in lines if _HASHLIST_LINE.match(ln) and len(ln.split()[0]) in _BY_LENGTH
        )
        return good * 2 > len(lines)

    def read(self, path: Path) -> Iterator[ParseEvent]:
        yield SetInfo(self.NAME, {})
        for number, text in _lines(path):
            where = f"line {number}"
            match = _HASHLIST_LINE.match(text)
            algorithm = _BY_LENGTH.get(len(match.group(1))) if match else None
            if match is None or algorithm is None:
                yield Rejection(
                    where, "not '<hash>  <name>' with an MD5, SHA-1 or SHA-256 hash", excerpt(text)
                )
                continue
            yield ReferenceRecord(
                hashes=[(algorithm, normalize_hash(algorithm, match.group(1)))],
                where=where,
                file_name=(match.group(2) or "").strip() or None,
            )


class TypedReader:
    """``<signal_type> <hash>`` lines: pdq, md5, sha1, sha256."""

    NAME = "typed"
    description = "'<type> <hash>' lines (pdq, md5, sha1, sha256) as python-threatexchange writes"

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = _text_head(head)
        return bool(lines) and sum(bool(_TYPED_LINE.match(ln)) for ln in lines) * 2 > len(lines)

    def read(self, path: Path) -> Iterator[ParseEvent]:
        yield SetInfo(self.NAME, {})
        for number, text in _lines(path):
            where = f"line {number}"
            parts = text.split(None, 2)
            if len(parts) < 2:
                yield Rejection(where, "expected '<type> <hash>'", excerpt(text))
                continue
            algorithm = _TYPES.get(parts[0].lower())
            if algorithm is None:
                yield Rejection(
                    where,
                    f"unknown hash type {parts[0]!r}; expected one of {', '.join(_TYPES)}",
                    excerpt(text),
                )
                continue
            try:
                value = normalize_hash(algorithm, parts[1])
            except InvalidHashError as exc:
                yield Rejection(where, str(exc), excerpt(text))
                continue
            extra = {"metadata": parts[2]} if len(parts) > 2 else {}
            yield ReferenceRecord(hashes=[(algorithm, value)], where=where, extra=extra)
