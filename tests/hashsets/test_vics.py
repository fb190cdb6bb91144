"""The VICS reader: versions, shapes, quirks, rejections, truncation, and flat memory."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import ijson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raksha.errors import InputFormatError
from raksha.hashsets import vics
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo
from raksha.hashsets.vics import VicsReader
from tests.hashsets.fixtures import (
    case_header,
    random_photodna,
    vics_bytes,
    vics_media,
    write_big_vics,
    write_vics,
)

READER = VicsReader()


def _read(path: Path) -> list[ParseEvent]:
    return list(READER.read(path))


def _records(events: list[ParseEvent]) -> list[ReferenceRecord]:
    return [e for e in events if isinstance(e, ReferenceRecord)]


def _rejections(events: list[ParseEvent]) -> list[Rejection]:
    return [e for e in events if isinstance(e, Rejection)]


def _set_info(events: list[ParseEvent]) -> dict[str, Any]:
    """The set information as the importer sees it: later events add to earlier ones."""
    merged: dict[str, Any] = {}
    for event in events:
        if isinstance(event, SetInfo):
            assert event.format_name == "vics"
            merged.update(event.fields)
    return merged


def test_hash_set_2_0_reads_every_field_and_quirk(tmp_path: Path) -> None:
    rng = random.Random(11)
    media = [vics_media(rng, i) for i in range(1, 4)]
    media[0].update(VictimIdentified="true", Category=1, MediaSize=4321)
    media[1].update(VictimIdentified=False, Category=None)  # IsPrecategorized stays "true"
    media[2].update(VictimIdentified="FALSE", Category="2")
    path = write_vics(tmp_path / "set.json", media, flavour="US", bom=True)

    events = _read(path)

    assert isinstance(events[0], SetInfo)  # known before any record
    assert _set_info(events) == {"vics_version": "2.0", "flavour": "US", "shape": "hashset"}
    assert _rejections(events) == []
    first, second, third = _records(events)
    alternatives = media[0]["AlternativeHashes"]
    assert first.hashes == [
        ("md5", media[0]["MD5"].lower()),
        ("sha1", media[0]["SHA1"].lower()),
        ("pdq", alternatives[0]["HashValue"].lower()),
        ("sha256", alternatives[1]["HashValue"]),
    ]
    assert first.where == "record 1" and third.where == "record 3"
    assert (first.record_key, first.category, second.category, third.category) == (
        "1",
        "1",
        None,  # IsPrecategorized "true" but Category null: only Category is trusted
        "2",
    )
    assert (first.victim_identified, second.victim_identified, third.victim_identified) == (
        True,
        False,
        False,
    )
    assert first.offender_identified is False and first.distributed is True
    assert first.baseline is None
    assert first.series == media[0]["Series"] and first.mime_type == "image/jpeg"
    assert first.media_size == 4321
    assert first.file_name == "made_up_name_1.jpg"
    assert first.extra["IsPrecategorized"] == "true"
    assert first.extra["RelativeFilePath"] == media[0]["RelativeFilePath"]
    assert first.extra["IsSuspected"] is False
    for never in ("Miniature", "Exifs", "odata.id", "Tags", "Comments"):
        assert never not in first.extra


def test_vics_1_3_case_file_reports_the_case_header(tmp_path: Path) -> None:
    rng = random.Random(12)
    media = [vics_media(rng, i) for i in range(1, 6)]
    path = write_vics(tmp_path / "case.json", media, version="1.3", case=case_header())

    events = _read(path)

    info = _set_info(events)
    assert info["vics_version"] == "1.3" and info["flavour"] is None
    assert info["shape"] == "case"
    case = info["case"]
    assert case["CaseID"] == "CASE-0001" and case["ContactOrganization"] == "Synthetic Cyber Unit"
    assert case["TotalMediaFiles"] == 0 and case["SeizureDate"] == "2024-02-03T00:00:00Z"
    assert "CaseMetadata" not in case and "odata.id" not in case and "Media" not in case
    first_record = next(i for i, e in enumerate(events) if isinstance(e, ReferenceRecord))
    assert any(isinstance(e, SetInfo) and "case" in e.fields for e in events[:first_record])
    records = _records(events)
    assert [r.where for r in records] == [f"record {i}" for i in range(1, 6)]
    assert [r.record_key for r in records] == ["1", "2", "3", "4", "5"]
    assert records[4].hashes[0] == ("md5", media[4]["MD5"].lower())
    assert json.loads(json.dumps(info)) == info  # plain JSON: it is stored with the set


def test_case_fields_after_the_media_list_are_reported_too(tmp_path: Path) -> None:
    rng = random.Random(13)
    path = write_vics(
        tmp_path / "case.json",
        [vics_media(rng, 1)],
        case={"CaseID": "C-9"},
        case_fields_after_media={"CaseNumber": "LATE-1"},
    )

    info = _set_info(_read(path))

    assert info["case"] == {"CaseID": "C-9", "CaseNumber": "LATE-1"}


@pytest.mark.parametrize("case", [None, {"CaseID": "C-1"}], ids=["hashset", "case"])
def test_metadata_after_value_reads_the_same(tmp_path: Path, case: dict[str, Any] | None) -> None:
    rng = random.Random(14)
    media = [vics_media(rng, i) for i in range(1, 8)]
    first = write_vics(tmp_path / "first.json", media, case=case, flavour="UK")
    last = write_vics(tmp_path / "last.json", media, case=case, flavour="UK", metadata_last=True)

    events_first, events_last = _read(first), _read(last)

    assert _records(events_first) == _records(events_last)
    assert len(_records(events_last)) == 7
    assert _set_info(events_first) == _set_info(events_last)
    assert _set_info(events_last)["flavour"] == "UK"


def test_without_a_metadata_key_the_content_decides(tmp_path: Path) -> None:
    rng = random.Random(20)
    media = [vics_media(rng, i) for i in range(1, 4)]
    path = tmp_path / "bare.json"
    path.write_text(json.dumps({"value": media}))

    events = _read(path)

    assert len(_records(events)) == 3
    assert _set_info(events) == {"vics_version": None, "flavour": None, "shape": "hashset"}


def test_the_shape_follows_the_content_not_the_url(tmp_path: Path) -> None:
    rng = random.Random(21)
    data = vics_bytes([vics_media(rng, 1)], version="1.2").replace(b"#Media", b"#Cases")
    path = tmp_path / "odd.json"
    path.write_bytes(data)

    events = _read(path)

    assert len(_records(events)) == 1
    assert _set_info(events) == {"vics_version": "1.2", "flavour": None, "shape": "hashset"}


@pytest.mark.parametrize("flavour", ["Default", "US", "UK", "CUSTOM"])
def test_flavours_and_escaped_slashes(tmp_path: Path, flavour: str) -> None:
    rng = random.Random(15)
    data = vics_bytes([vics_media(rng, 1)], flavour=flavour, escape_slashes=True)
    path = tmp_path / "set.bin"
    path.write_bytes(data)

    assert READER.sniff(path, data[:65536])
    events = _read(path)

    assert _set_info(events)["flavour"] == flavour
    assert _records(events)[0].mime_type == "image/jpeg"  # "image\/jpeg" unescaped


def test_alternative_hash_names_photodna_and_unknown_names(tmp_path: Path) -> None:
    rng = random.Random(16)
    pdq = "AB" * 32
    photodna = random_photodna(rng)
    media = vics_media(
        rng,
        1,
        MD5=None,
        SHA1="",
        PhotoDNA=photodna,
        AlternativeHashes=[
            {"HashName": "pdq", "HashValue": pdq},
            {"HashName": "Sha-1", "HashValue": "CD" * 20},
            {"HashName": "PhotoDNA", "HashValue": photodna},  # the same value again
            {"HashName": "Thumbprint", "HashValue": "0123"},
        ],
    )
    path = write_vics(tmp_path / "set.json", [media])

    (record,) = _records(_read(path))

    assert record.hashes == [("photodna", photodna), ("pdq", "ab" * 32), ("sha1", "cd" * 20)]
    assert record.extra["other_hashes"] == [{"HashName": "Thumbprint", "HashValue": "0123"}]


@pytest.mark.parametrize("case", [None, {"CaseID": "C-2"}], ids=["hashset", "case"])
def test_unusable_records_are_rejected_and_reading_goes_on(
    tmp_path: Path, case: dict[str, Any] | None
) -> None:
    rng = random.Random(17)
    media: list[Any] = [vics_media(rng, i) for i in range(1, 8)]
    media[1].update(MD5="Z" * 32, SHA1=None, AlternativeHashes=[])  # bad hex, nothing else
    media[2].update(MD5="ab" * 15)  # wrong length; SHA1 and PDQ still good
    media[3].update(MD5=None, SHA1=None, PhotoDNA=None, AlternativeHashes=[])  # no hash
    media[4].update(VictimIdentified="maybe", MediaSize=-5)  # a garbled flag and size
    media[5] = "not an object"
    path = write_vics(tmp_path / "set.json", media, case=case)

    events = _read(path)

    records = {r.where: r for r in _records(events)}
    rejections = {r.where: r for r in _rejections(events)}
    assert sorted(records) == ["record 1", "record 3", "record 5", "record 7"]
    assert sorted(rejections) == ["record 2", "record 3", "record 4", "record 5", "record 6"]
    assert "no usable hash" in rejections["record 2"].reason
    assert "not hex" in rejections["record 2"].reason
    assert "MD5" in rejections["record 2"].reason
    assert "MD5" in rejections["record 3"].reason and "30" in rejections["record 3"].reason
    assert [a for a, _ in records["record 3"].hashes] == ["sha1", "pdq", "sha256"]
    assert rejections["record 4"].reason == "the record has no usable hash"
    assert '"MediaID": 4' in rejections["record 4"].excerpt
    assert "Miniature" not in rejections["record 4"].excerpt
    assert "VictimIdentified 'maybe'" in rejections["record 5"].reason
    assert "MediaSize" in rejections["record 5"].reason
    assert records["record 5"].victim_identified is None
    assert records["record 5"].media_size is None
    assert "JSON object" in rejections["record 6"].reason
    assert records["record 7"].record_key == "7"


@pytest.mark.parametrize("case", [None, {"CaseID": "C-3"}], ids=["hashset", "case"])
def test_truncated_file_keeps_the_records_before_the_cut(
    tmp_path: Path, case: dict[str, Any] | None
) -> None:
    rng = random.Random(18)
    data = vics_bytes([vics_media(rng, i) for i in range(1, 11)], case=case)
    cut = data.index(b'"MediaID": 7') + 5  # inside record 7
    path = tmp_path / "cut.json"
    path.write_bytes(data[:cut])

    events = _read(path)

    assert [r.record_key for r in _records(events)] == ["1", "2", "3", "4", "5", "6"]
    last = events[-1]
    assert isinstance(last, Rejection)
    assert last.where == "after record 6"
    assert "truncated or damaged" in last.reason and "premature EOF" in last.reason


def test_damage_inside_the_first_record(tmp_path: Path) -> None:
    rng = random.Random(19)
    data = vics_bytes([vics_media(rng, 1)])
    path = tmp_path / "cut.json"
    path.write_bytes(data[: data.index(b'"MD5"')])

    events = _read(path)

    assert _set_info(events)["vics_version"] == "2.0"
    assert _records(events) == []
    assert [r.where for r in _rejections(events)] == ["after record 0"]


def test_empty_value_list_gives_only_set_info(tmp_path: Path) -> None:
    path = write_vics(tmp_path / "empty.json", [])

    events = _read(path)

    assert len(events) == 1 and isinstance(events[0], SetInfo)


@pytest.mark.parametrize(
    "content",
    [b"", b"MD5;SHA1\r\n", b"[1, 2, 3]", b'{"name": "not vics", "items": [1]}', b"\x00\x01\x02"],
    ids=["empty", "csv", "array", "other-object", "binary"],
)
def test_a_file_that_is_not_vics_is_an_input_format_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)

    with pytest.raises(InputFormatError, match="VICS"):
        _read(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (vics_bytes([], version="1.3"), True),
        (vics_bytes([], version="2.0", bom=True), True),
        (b'{"value": [{"MediaID": 1, "MD5": "00", "Category": 1}]}', True),
        (
            b'{"@odata.context": "http://example.invalid/odata/$metadata#People", "value": []}',
            False,
        ),
        (b'{"value": [{"name": "x"}]}', False),
        (b"MD5;SHA1;PhotoDNA;Image ID\r\n", False),
        (b"md5 " + b"0" * 32 + b"\n", False),
    ],
    ids=["1.3", "2.0-bom", "value-first", "other-odata", "other-json", "icse", "typed"],
)
def test_sniff(tmp_path: Path, content: bytes, expected: bool) -> None:
    assert READER.sniff(tmp_path / "x", content) is expected


def test_the_c_backend_is_used_when_installed() -> None:
    try:
        ijson.get_backend("yajl2_c")
    except ImportError:
        pytest.skip("the ijson C backend is not installed here")
    assert vics.IJSON_BACKEND == "yajl2_c"


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_MEDIA_KEYS = [
    "MediaID",
    "Category",
    "MD5",
    "SHA1",
    "PhotoDNA",
    "MediaSize",
    "VictimIdentified",
    "IsDistributed",
    "Series",
    "MimeType",
    "MediaFiles",
    "AlternativeHashes",
    "Tags",
    "MediaMetadata",
    "Media",
]
_ODD_MEDIA = st.one_of(
    _JSON,
    st.dictionaries(st.sampled_from(_MEDIA_KEYS), _JSON | st.just("AB" * 16), max_size=8),
).filter(lambda m: not (isinstance(m, dict) and isinstance(m.get("Media"), list)))  # a case


@settings(max_examples=80, deadline=None)
@given(media=st.lists(_ODD_MEDIA, max_size=6), case=st.booleans())
def test_every_value_item_gives_a_record_or_a_rejection(
    tmp_path_factory: pytest.TempPathFactory, media: list[Any], case: bool
) -> None:
    """Whatever the items hold, each is a record or a rejection, the same on both ways through."""
    folder = tmp_path_factory.mktemp("odd")
    header = {"CaseID": 1} if case else None
    first = write_vics(folder / "first.json", media, case=header)
    last = write_vics(folder / "last.json", media, case=header, metadata_last=True)

    events = [e for e in _read(first) if not isinstance(e, SetInfo)]

    assert {e.where for e in events} == {f"record {i}" for i in range(1, len(media) + 1)}
    assert [e for e in _read(last) if not isinstance(e, SetInfo)] == events


def test_reading_holds_one_record_at_a_time(tmp_path: Path) -> None:
    """tracemalloc's peak stays a small fraction of the file: nothing accumulates."""
    path = tmp_path / "mid.json"
    size = write_big_vics(path, 40_000)

    tracemalloc.start()
    try:
        records = sum(1 for e in READER.read(path) if isinstance(e, ReferenceRecord))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert records == 40_000
    assert size > 7_000_000
    assert peak < 2_000_000, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB file"


#: Run in a fresh interpreter, so the parent's memory cannot hide (or add to) the reader's:
#: VmHWM is the process's peak resident set, which starts afresh at exec.
_CHILD = """
import json, sys, time
from pathlib import Path
from raksha.hashsets.records import ReferenceRecord
from raksha.hashsets.vics import VicsReader

def hwm_kb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

reader = VicsReader()
baseline = hwm_kb()
started = time.perf_counter()
records = sum(1 for e in reader.read(Path(sys.argv[1])) if isinstance(e, ReferenceRecord))
seconds = time.perf_counter() - started
print(json.dumps({"records": records, "grown_kb": hwm_kb() - baseline, "seconds": seconds}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_large_file_is_read_in_flat_memory(tmp_path: Path) -> None:
    count = 300_000
    path = tmp_path / "big.json"
    size = write_big_vics(path, count)
    assert size > 60_000_000

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    stats = json.loads(done.stdout)

    rate = stats["records"] / stats["seconds"]
    print(
        f"\nVICS: {count} records, {size / 1e6:.0f} MB in {stats['seconds']:.1f} s ({rate:,.0f}/s)"
    )
    assert stats["records"] == count
    assert stats["grown_kb"] < 20_000, f"resident memory grew {stats['grown_kb'] / 1e3:.0f} MB"
