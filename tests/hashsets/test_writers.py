"""Exports read back to the same records (VICS 2.0 and typed text), and stream in flat memory."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raksha.hashsets.records import ReferenceRecord
from raksha.hashsets.registry import get_reader
from raksha.hashsets.writers import write_typed_text, write_vics_json

HEX = "0123456789abcdef"


def hex_of(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=HEX, min_size=n, max_size=n)


records_strategy = st.lists(
    st.builds(
        lambda key, md5, pdq, cat, victim, series: ReferenceRecord(
            hashes=[("md5", md5), ("pdq", pdq)],
            where="",
            record_key=key,
            category=cat,
            victim_identified=victim,
            series=series,
        ),
        st.text(alphabet="ABC123-", min_size=1, max_size=8),
        hex_of(32),
        hex_of(64),
        st.sampled_from([None, "0", "1", "5", "A", "B1"]),
        st.sampled_from([None, True, False]),
        st.sampled_from([None, "s1", "série ünïcode"]),
    ),
    max_size=15,
    unique_by=lambda r: r.record_key,
)


@settings(max_examples=40, deadline=None)
@given(records_strategy)
def test_vics_round_trip(records: list[ReferenceRecord]) -> None:
    buf = io.BytesIO()
    assert write_vics_json(buf, records, flavour="Default") == len(records)
    path = Path(f"/tmp/raksha-vics-rt-{id(buf)}.json")
    path.write_bytes(buf.getvalue())
    try:
        back = [e for e in get_reader("vics").read(path) if isinstance(e, ReferenceRecord)]
    finally:
        path.unlink()
    assert [(r.record_key, r.hashes, r.category, r.victim_identified, r.series) for r in back] == [
        (r.record_key, r.hashes, r.category, r.victim_identified, r.series) for r in records
    ]


def test_typed_round_trip(tmp_path: Path) -> None:
    records = [
        ReferenceRecord(hashes=[("md5", "a" * 32), ("sha1", "b" * 40)], where=""),
        ReferenceRecord(hashes=[("pdq", "c" * 64), ("sha256", "d" * 64)], where=""),
    ]
    out = io.StringIO()
    assert write_typed_text(out, records) == 4
    path = tmp_path / "t.txt"
    path.write_text(out.getvalue())
    back = [e.hashes[0] for e in get_reader("typed").read(path) if isinstance(e, ReferenceRecord)]
    assert back == [h for r in records for h in r.hashes]


def _many(n: int) -> Iterator[ReferenceRecord]:
    for i in range(n):
        yield ReferenceRecord(
            hashes=[("md5", f"{i:032x}"), ("sha1", f"{i:040x}"), ("pdq", f"{i:064x}")],
            where="",
            record_key=str(i),
            category=str(i % 6),
            series="a series name that makes each record longer",
        )


@pytest.mark.slow
def test_large_vics_files_are_written_and_read_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    count = 70_000
    tracemalloc.start()
    with path.open("wb") as out:
        write_vics_json(out, _many(count))
    _, write_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    seen = 0
    for event in get_reader("vics").read(path):
        seen += isinstance(event, ReferenceRecord)
    _, read_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seen == count
    assert path.stat().st_size > 20_000_000  # the file is many times the peak
    assert write_peak < 5_000_000 and read_peak < 10_000_000, (write_peak, read_peak)
