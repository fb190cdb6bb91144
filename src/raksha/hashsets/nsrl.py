"""NSRL RDSv3: an SQLite database of known operating-system and application files.

A *known-file* set: matches explain a file (it is not user content) and let scans skip
it; they never flag. The database is opened read-only and read with a cursor, so sets of
hundreds of millions of rows import in flat memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from raksha.errors import InputFormatError, InvalidHashError
from raksha.hashes import MD5, SHA1, SHA256, normalize_hash
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo

_SQLITE_MAGIC = b"SQLite format 3\x00"


class NsrlReader:
    NAME = "nsrl"
    description = "NSRL RDSv3 SQLite database (known files: skipped, never flagged)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if not head.startswith(_SQLITE_MAGIC):
            return False
        try:
            with self._connect(path) as conn:
                row = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = 'FILE' AND type IN ('table', 'view')"
                ).fetchone()
        except sqlite3.Error:
            return False
        return row is not None

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def read(self, path: Path) -> Iterator[ParseEvent]:
        try:
            conn = self._connect(path)
            cursor = conn.execute("SELECT sha256, sha1, md5, file_name, file_size FROM FILE")
        except sqlite3.Error as exc:
            raise InputFormatError(f"{path} is not a readable NSRL RDSv3 database: {exc}") from exc
        yield SetInfo(self.NAME, {"known_files": True})
        try:
            for number, (sha256, sha1, md5, name, size) in enumerate(cursor, 1):
                where = f"row {number}"
                hashes: list[tuple[str, str]] = []
                try:
                    for algorithm, value in ((MD5, md5), (SHA1, sha1), (SHA256, sha256)):
                        if value:
                            hashes.append((algorithm, normalize_hash(algorithm, str(value))))
                except InvalidHashError as exc:
                    yield Rejection(where, str(exc), f"{md5} {sha1} {sha256}")
                    continue
                if not hashes:
                    yield Rejection(where, "row has no hash", str(name))
                    continue
                yield ReferenceRecord(
                    hashes=hashes,
                    where=where,
                    file_name=name,
                    media_size=int(size) if size is not None else None,
                )
        except sqlite3.Error as exc:
            yield Rejection("database", f"reading stopped: {exc}")
        finally:
            conn.close()
