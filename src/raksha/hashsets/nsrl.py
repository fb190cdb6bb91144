"""NSRL RDSv3: an SQLite database of known operating-system and application files.

A *known-file* set: a match explains a file (it is not user content) and lets a scan skip
it; it never flags anything, and "known" is not "good". The reader says so in its
:class:`SetInfo` (``known_files: True``) so the importer marks the set that way.

The database is opened read-only through an SQLite URI (evidence and reference media are
never written to) and rows are read with a cursor, so a set of hundreds of millions of
rows is read in flat memory. The full RDS has a ``FILE`` view (``sha256``, ``sha1``,
``md5``, ``file_name``, ``file_size``, ...); the "minimal" RDS only a ``DISTINCT_HASH``
view of the hashes, read when ``FILE`` is absent. Columns are looked up by name.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any, Final

from raksha.errors import InputFormatError, InvalidHashError
from raksha.hashes import MD5, SHA1, SHA256, normalize_hash
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo, excerpt

logger = logging.getLogger(__name__)

FORMAT_NAME: Final = "nsrl"
SQLITE_MAGIC: Final = b"SQLite format 3\x00"
#: Relations read, in order of preference.
RELATIONS: Final = ("FILE", "DISTINCT_HASH")
_HASH_COLUMNS: Final = (("md5", MD5), ("sha1", SHA1), ("sha256", SHA256))
_INFO_COLUMNS: Final = ("file_name", "file_size")
_VERSION_TEXT_LIMIT: Final = 200


def connect_read_only(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only (a URI built from the absolute path, so any name is safe)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _relation(conn: sqlite3.Connection) -> str | None:
    names = {
        str(row[0]).upper(): str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
        ).fetchall()
    }
    return next((names[r] for r in RELATIONS if r in names), None)


def _columns(conn: sqlite3.Connection, relation: str) -> dict[str, str]:
    """Lower-cased column name -> its spelling in the database."""
    rows = conn.execute(f'PRAGMA table_info("{relation}")').fetchall()
    return {str(row[1]).lower(): str(row[1]) for row in rows}


def _rds_version(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The first row of a ``VERSION`` table, if the database has one (best effort)."""
    try:
        cursor = conn.execute('SELECT * FROM "VERSION" LIMIT 1')
        row = cursor.fetchone()
    except sqlite3.Error:
        return None
    if row is None:
        return None
    names = [d[0] for d in cursor.description]
    return {
        name: value[:_VERSION_TEXT_LIMIT] if isinstance(value, str) else value
        for name, value in zip(names, row, strict=True)
        if value is None or isinstance(value, str | int | float)
    }


class NsrlReader:
    """NSRL RDSv3 SQLite database (known files: skipped, never flagged)."""

    NAME = FORMAT_NAME
    description = "NSRL RDSv3 SQLite database (known files: skipped, never flagged)"

    def sniff(self, path: Path, head: bytes) -> bool:
        """An SQLite database with a ``FILE`` (or ``DISTINCT_HASH``) table or view."""
        if not head.startswith(SQLITE_MAGIC):
            return False
        try:
            with closing(connect_read_only(path)) as conn:
                return _relation(conn) is not None
        except sqlite3.Error:
            return False

    def read(self, path: Path) -> Iterator[ParseEvent]:
        try:
            conn = connect_read_only(path)
        except sqlite3.Error as exc:
            raise InputFormatError(f"cannot open {path} as an SQLite database: {exc}") from exc
        with closing(conn):
            try:
                relation = _relation(conn)
                if relation is None:
                    raise InputFormatError(
                        f"{path} is not an NSRL RDSv3 database: it has no FILE or "
                        "DISTINCT_HASH table or view"
                    )
                columns = _columns(conn, relation)
                wanted = [name for name, _ in _HASH_COLUMNS if name in columns]
                if not wanted:
                    raise InputFormatError(
                        f"{path}: {relation} has no md5, sha1 or sha256 column; "
                        "not an NSRL RDSv3 database"
                    )
                wanted += [name for name in _INFO_COLUMNS if name in columns]
                select = ", ".join(f'"{columns[name]}"' for name in wanted)
                cursor = conn.execute(f'SELECT {select} FROM "{relation}"')
                version = _rds_version(conn)
            except sqlite3.Error as exc:
                raise InputFormatError(f"{path} is not a readable NSRL database: {exc}") from exc
            fields: dict[str, Any] = {"known_files": True, "relation": relation}
            if version:
                fields["rds_version"] = version
            yield SetInfo(self.NAME, fields)
            logger.debug("reading %s from %s (%s)", path, relation, ", ".join(wanted))
            yield from self._rows(cursor, wanted)

    @staticmethod
    def _rows(cursor: sqlite3.Cursor, wanted: list[str]) -> Iterator[ParseEvent]:
        number = 0
        algorithms = dict(_HASH_COLUMNS)
        try:
            for number, row in enumerate(cursor, 1):
                values = dict(zip(wanted, row, strict=True))
                hashes: list[tuple[str, str]] = []
                problems: list[str] = []
                for column, algorithm in algorithms.items():
                    raw = values.get(column)
                    if raw is None or raw == "":
                        continue
                    try:
                        hashes.append((algorithm, normalize_hash(algorithm, str(raw))))
                    except InvalidHashError as exc:
                        problems.append(f"{column}: {exc}")
                where = f"row {number}"
                shown = excerpt(" ".join(str(v) for v in row if v is not None))
                if not hashes:
                    reason = "the row has no usable hash"
                    if problems:
                        reason += ": " + "; ".join(problems)
                    yield Rejection(where, reason, shown)
                    continue
                size = values.get("file_size")
                name = values.get("file_name")
                yield ReferenceRecord(
                    hashes=hashes,
                    where=where,
                    file_name=str(name) if name not in (None, "") else None,
                    media_size=size if isinstance(size, int) and size >= 0 else None,
                )
                if problems:
                    yield Rejection(
                        where, "imported the row without: " + "; ".join(problems), shown
                    )
        except sqlite3.Error as exc:
            yield Rejection(
                f"row {number + 1}",
                f"the database is damaged; reading stopped after row {number} ({exc})",
            )
