"""Writers: what is exported reads back through the readers into the same records."""

from __future__ import annotations

import base64
import io
import itertools
import json
import random
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raksha.hashsets.records import ReferenceRecord, Rejection, SetInfo
from raksha.hashsets.text import TypedReader
from raksha.hashsets.vics import VicsReader
from raksha.hashsets.writers import write_typed_text, write_vics_json
from tests.hashsets.fixtures import random_hex, random_photodna

RNG = random.Random(61)


def _normalised(record: ReferenceRecord) -> ReferenceRecord:
    """A record as compared after a round trip: position-free, hashes in a fixed order."""
    return replace(record, where="", hashes=sorted(record.hashes))


def _vics_round_trip(
    path: Path, records: list[ReferenceRecord], **options: Any
) -> tuple[int, list[ReferenceRecord], dict[str, Any]]:
    with path.open("wb") as out:
        written = write_vics_json(out, records, **options)
    events = list(VicsReader().read(path))
    assert not [e for e in events if isinstance(e, Rejection)]
    info: dict[str, Any] = {}
    for event in events:
        if isinstance(event, SetInfo):
            info.update(event.fields)
    return written, [e for e in events if isinstance(e, ReferenceRecord)], info


def _full_record(key: str | None, category: str | None) -> ReferenceRecord:
    return ReferenceRecord(
        hashes=[
            ("pdq", random_hex(RNG, 64)),
            ("md5", random_hex(RNG, 32)),
            ("sha256", random_hex(RNG, 64)),
            ("photodna", random_photodna(RNG)),
            ("sha1", random_hex(RNG, 40)),
            ("md5", random_hex(RNG, 32)),  # a second MD5 goes to AlternativeHashes
        ],
        where="anything",
        record_key=key,
        category=category,
        victim_identified=True,
        offender_identified=False,
        distributed=None,
        baseline=True,
        series="Made-up series",
        mime_type="image/png",
        media_size=123_456,
        file_name="synthetic name.png",
        extra={"Tags": "made-up tag", "IsSuspected": False},
    )


def test_vics_round_trip_keeps_every_field(tmp_path: Path) -> None:
    records = [
        _full_record("42", "1"),
        _full_record("M-7", "A"),
        _full_record("007", "01"),
        ReferenceRecord([("md5", random_hex(RNG, 32))], "x", record_key="9", category=None),
    ]

    written, back, info = _vics_round_trip(tmp_path / "out.json", records, flavour="UK")

    assert written == 4
    assert [_normalised(r) for r in back] == [_normalised(r) for r in records]
    assert (info["vics_version"], info["flavour"], info["shape"]) == ("2.0", "UK", "hashset")
    document = json.loads((tmp_path / "out.json").read_bytes())
    assert document["@odata.context"].endswith("/2.0.xml/UK/$metadata#Media")
    media = document["value"]
    assert [m["MediaID"] for m in media] == [42, "M-7", "007", 9]
    assert [m.get("Category") for m in media] == [1, "A", "01", None]  # ints when numeric
    assert {a["HashName"] for a in media[0]["AlternativeHashes"]} == {"PDQ", "SHA256", "MD5"}
    assert media[0]["MediaFiles"] == [{"FileName": "synthetic name.png"}]
    assert "IsDistributed" not in media[0]  # unknown stays unknown


def test_records_without_a_key_get_their_position(tmp_path: Path) -> None:
    records = [ReferenceRecord([("sha1", random_hex(RNG, 40))], "x") for _ in range(3)]

    _, back, _ = _vics_round_trip(tmp_path / "out.json", records)

    assert [r.record_key for r in back] == ["1", "2", "3"]


def test_case_file_round_trip(tmp_path: Path) -> None:
    case = {"CaseID": "C-77", "CaseNumber": "SYN/1", "ContactOrganization": "Made-up Unit"}
    records = [_full_record(str(i), "2") for i in range(1, 4)]

    written, back, info = _vics_round_trip(tmp_path / "case.json", records, case=case)

    assert written == 3
    assert [_normalised(r) for r in back] == [_normalised(r) for r in records]
    assert info["shape"] == "case" and info["case"] == case
    assert json.loads((tmp_path / "case.json").read_bytes())["@odata.context"].endswith("#Cases")


@pytest.mark.parametrize("case", [None, {}], ids=["hashset", "empty-case"])
def test_no_records_is_still_a_valid_file(tmp_path: Path, case: dict[str, Any] | None) -> None:
    written, back, _ = _vics_round_trip(tmp_path / "none.json", [], case=case)

    assert (written, back) == (0, [])


def test_vics_is_written_record_by_record() -> None:
    out = io.BytesIO()
    sizes: list[int] = []

    def records() -> Iterator[ReferenceRecord]:
        for i in range(5):
            sizes.append(out.tell())
            yield ReferenceRecord([("md5", random_hex(RNG, 32))], "x", record_key=str(i))

    assert write_vics_json(out, records()) == 5
    assert all(b > a for a, b in itertools.pairwise(sizes))  # written as they came


def test_vics_export_memory_stays_flat(tmp_path: Path) -> None:
    """tracemalloc's peak while writing is a small fraction of what is written."""

    def many(count: int) -> Iterator[ReferenceRecord]:
        for i in range(count):
            yield ReferenceRecord(
                [("md5", f"{i:032x}"), ("pdq", f"{i:064x}")],
                "",
                record_key=str(i),
                category=str(i % 6),
                series="a made-up series name that makes each record longer",
            )

    path = tmp_path / "big.json"
    tracemalloc.start()
    try:
        with path.open("wb") as out:
            written = write_vics_json(out, many(30_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert written == 30_000
    assert path.stat().st_size > 8_000_000
    assert peak < 1_000_000, f"peak {peak / 1e6:.1f} MB"


def test_typed_round_trip(tmp_path: Path) -> None:
    records = [_full_record("1", "1"), _full_record("2", None)]
    path = tmp_path / "typed.txt"

    with path.open("w", encoding="utf-8", newline="\n") as out:
        lines = write_typed_text(out, records)

    events = list(TypedReader().read(path))
    back = {h for e in events if isinstance(e, ReferenceRecord) for h in e.hashes}
    expected = {h for r in records for h in r.hashes if h[0] != "photodna"}
    assert lines == len(expected) == 10
    assert back == expected
    assert not [e for e in events if isinstance(e, Rejection)]
    assert path.read_text().splitlines()[0] == f"pdq {records[0].hashes[0][1]}"


def _hex(chars: int) -> st.SearchStrategy[str]:
    return st.integers(0, 16**chars - 1).map(lambda v: f"{v:0{chars}x}")


_HASH = st.one_of(
    _hex(32).map(lambda v: ("md5", v)),
    _hex(40).map(lambda v: ("sha1", v)),
    _hex(64).map(lambda v: ("sha256", v)),
    _hex(64).map(lambda v: ("pdq", v)),
    st.binary(min_size=144, max_size=144).map(
        lambda b: ("photodna", base64.b64encode(b).decode("ascii"))
    ),
)
_TEXT = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=24)
    .map(str.strip)
    .filter(bool)
)
_FLAG = st.one_of(st.none(), st.booleans())
_RECORD = st.builds(
    ReferenceRecord,
    hashes=st.lists(_HASH, min_size=1, max_size=6, unique=True),
    where=st.just(""),
    record_key=st.one_of(st.integers(0, 10**15).map(str), _TEXT),
    category=st.one_of(
        st.none(),
        st.sampled_from(["0", "1", "2", "3", "4", "5", "A", "B", "C", "A1", "B2", "baseline"]),
        st.integers(0, 10**6).map(str),
        _TEXT,
    ),
    victim_identified=_FLAG,
    offender_identified=_FLAG,
    distributed=_FLAG,
    baseline=_FLAG,
    series=st.one_of(st.none(), _TEXT),
    mime_type=st.one_of(st.none(), _TEXT),
    media_size=st.one_of(st.none(), st.integers(0, 2**53)),
    file_name=st.one_of(st.none(), _TEXT),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(_RECORD, max_size=8), flavour=st.sampled_from(["Default", "US", "UK"]))
def test_any_records_round_trip_through_vics(
    tmp_path_factory: pytest.TempPathFactory, records: list[ReferenceRecord], flavour: str
) -> None:
    path = tmp_path_factory.mktemp("prop") / "out.json"

    written, back, info = _vics_round_trip(path, records, flavour=flavour)

    assert written == len(records)
    assert [_normalised(r) for r in back] == [_normalised(r) for r in records]
    assert info["flavour"] == flavour


@settings(max_examples=40, deadline=None)
@given(records=st.lists(_RECORD, max_size=8))
def test_any_records_round_trip_through_typed_text(
    tmp_path_factory: pytest.TempPathFactory, records: list[ReferenceRecord]
) -> None:
    path = tmp_path_factory.mktemp("prop") / "typed.txt"
    with path.open("w", encoding="utf-8", newline="\n") as out:
        write_typed_text(out, records)

    back = [e for e in TypedReader().read(path) if not isinstance(e, SetInfo)]

    assert all(isinstance(e, ReferenceRecord) for e in back)
    assert [h for e in back if isinstance(e, ReferenceRecord) for h in e.hashes] == [
        h for r in records for h in r.hashes if h[0] != "photodna"
    ]
