"""The NSRL RDSv3 reader: a known-file set, read-only, row by row."""

from __future__ import annotations

import hashlib
import random
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from raksha.errors import InputFormatError
from raksha.hashsets.nsrl import NsrlReader
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo
from tests.hashsets.fixtures import nsrl_row, write_nsrl

READER = NsrlReader()


def _head(path: Path) -> bytes:
    return path.read_bytes()[:65536]


def _split(events: list[ParseEvent]) -> tuple[list[ReferenceRecord], list[Rejection]]:
    records = [e for e in events if isinstance(e, ReferenceRecord)]
    return records, [e for e in events if isinstance(e, Rejection)]


def test_rows_become_known_file_records(tmp_path: Path) -> None:
    rng = random.Random(41)
    rows = [nsrl_row(rng, i) for i in range(1, 6)]
    path = write_nsrl(tmp_path / "RDS_synthetic.db", rows)
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    events = list(READER.read(path))

    info = events[0]
    assert isinstance(info, SetInfo) and info.format_name == "nsrl"
    assert info.fields["known_files"] is True and info.fields["relation"] == "FILE"
    assert info.fields["rds_version"]["version"] == "2099.01.1"
    records, rejections = _split(events)
    assert rejections == []
    assert [r.where for r in records] == [f"row {i}" for i in range(1, 6)]
    sha256, sha1, md5, name, size = rows[2]
    assert records[2].hashes == [
        ("md5", str(md5).lower()),
        ("sha1", str(sha1).lower()),
        ("sha256", str(sha256).lower()),
    ]
    assert (records[2].file_name, records[2].media_size) == (name, size)
    assert records[2].category is None and records[2].record_key is None
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # opened read-only


def test_bad_rows_are_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    rng = random.Random(42)
    good = nsrl_row(rng, 1)
    rows = [
        good,
        ("XYZ", None, "", "nohash.dll", 10),  # row 2: only a bad hash
        (None, "AB" * 20, "CD" * 15, "short_md5.dll", None),  # row 3: md5 30 chars
        (None, None, None, "empty.dll", 0),  # row 4: no hash
        nsrl_row(rng, 5),
    ]
    path = write_nsrl(tmp_path / "rds.db", rows)

    records, rejections = _split(list(READER.read(path)))

    assert [r.where for r in records] == ["row 1", "row 3", "row 5"]
    assert [r.where for r in rejections] == ["row 2", "row 3", "row 4"]
    assert "no usable hash" in rejections[0].reason and "sha256" in rejections[0].reason
    assert "imported the row without: md5" in rejections[1].reason
    assert records[1].hashes == [("sha1", "ab" * 20)]
    assert records[1].media_size is None
    assert rejections[2].reason == "the row has no usable hash"


def test_the_minimal_rds_is_read_from_distinct_hash(tmp_path: Path) -> None:
    rng = random.Random(43)
    rows = [nsrl_row(rng, i) for i in range(3)]
    path = write_nsrl(tmp_path / "minimal.db", rows + rows[:1], minimal=True)

    events = list(READER.read(path))

    assert isinstance(events[0], SetInfo) and events[0].fields["relation"] == "DISTINCT_HASH"
    records, _ = _split(events)
    assert len(records) == 3
    assert all(r.file_name is None and len(r.hashes) == 3 for r in records)


def test_a_read_only_file_can_be_read(tmp_path: Path) -> None:
    rng = random.Random(44)
    path = write_nsrl(tmp_path / "ro.db", [nsrl_row(rng, 1)])
    path.chmod(0o444)

    records, _ = _split(list(READER.read(path)))

    assert len(records) == 1


def test_sniff(tmp_path: Path) -> None:
    rng = random.Random(45)
    nsrl = write_nsrl(tmp_path / "a.bin", [nsrl_row(rng, 1)])
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.commit()
    text = tmp_path / "t.txt"
    text.write_text("SQLite format 3 is how this line starts\n")

    assert READER.sniff(nsrl, _head(nsrl))
    assert not READER.sniff(other, _head(other))
    assert not READER.sniff(text, _head(text))


def test_a_database_without_a_file_view_is_an_input_format_error(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.commit()

    with pytest.raises(InputFormatError, match="FILE"):
        list(READER.read(path))


def test_a_file_that_is_not_sqlite_is_an_input_format_error(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"not a database at all" * 100)

    with pytest.raises(InputFormatError):
        list(READER.read(path))
