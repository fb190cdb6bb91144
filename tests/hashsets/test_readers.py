"""Every hash-set reader: what it yields, what it rejects and why, and what it detects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raksha.errors import InputFormatError, UsageError
from raksha.hashsets.categories import (
    default_scheme_for,
    get_scheme,
    parse_category_map,
    scheme_names,
)
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo
from raksha.hashsets.registry import READERS, detect, get_reader, reader_names
from tests.hashsets.fixtures import hexes, icse_csv, nsrl_db, vics_media, vics_v1_case, vics_v2


def split(
    events: list[ParseEvent],
) -> tuple[list[ReferenceRecord], list[Rejection], dict[str, object]]:
    records = [e for e in events if isinstance(e, ReferenceRecord)]
    rejections = [e for e in events if isinstance(e, Rejection)]
    info: dict[str, object] = {}
    for e in events:
        if isinstance(e, SetInfo):
            info.update(e.fields)
    return records, rejections, info


def test_vics_2_hash_set_with_every_quirk(tmp_path: Path) -> None:
    media = [vics_media(i) for i in range(6)]
    media[2]["Category"] = None  # IsPrecategorized true but no Category: trust Category only
    path = vics_v2(tmp_path / "export.bin", media)
    records, rejections, info = split(list(get_reader("vics").read(path)))
    assert rejections == []
    assert info == {"vics_version": "2.0", "flavour": "US", "shape": "hashset"}
    assert len(records) == 6
    r = records[1]
    assert r.record_key == "1001" and r.category == "1" and r.series == "series-1"
    assert r.victim_identified is True and records[0].victim_identified is False
    assert r.distributed is True and r.media_size == 10_001 and r.file_name == "f1.jpg"
    algorithms = [a for a, _ in r.hashes]
    assert algorithms == ["md5", "sha1", "pdq"]
    assert all(v == v.lower() for _, v in r.hashes)  # upper-case hex normalised
    assert records[2].category is None
    assert "odata.id" not in r.extra and r.extra.get("IsPrecategorized") == "true"


def test_vics_1_case_file_yields_case_header_and_media(tmp_path: Path) -> None:
    path = vics_v1_case(
        tmp_path / "case.json", [vics_media(i, string_bools=False) for i in range(3)]
    )
    records, rejections, info = split(list(get_reader("vics").read(path)))
    assert len(records) == 3 and rejections == []
    assert info["vics_version"] == "1.3" and info["shape"] == "case"
    assert info["case"] == {
        "CaseID": "7",
        "CaseNumber": "FIR-112-2026",
        "ContactOrganization": "State Cyber Wing",
        "ContactName": "Analyst",
        "TotalMediaFiles": 3,
    }


def test_vics_bad_values_are_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    media = [vics_media(i) for i in range(4)]
    media[1]["MD5"] = "not-hex"
    media[2] = {"MediaID": "x", "Category": 1}
    path = vics_v2(tmp_path / "v.json", media)
    records, rejections, _ = split(list(get_reader("vics").read(path)))
    assert [r.record_key for r in records] == ["1000", "1001", "1003"]  # 1001 keeps SHA-1/PDQ
    assert [r.where for r in rejections] == ["record 2 (md5)", "record 3"]
    assert "hex" in rejections[0].reason and "no usable hash" in rejections[1].reason


def test_truncated_vics_keeps_what_came_before(tmp_path: Path) -> None:
    path = vics_v2(tmp_path / "v.json", [vics_media(i) for i in range(5)])
    data = path.read_bytes()
    cut = data.index(b'"MediaID": "1003"')
    path.write_bytes(data[:cut])
    records, rejections, _ = split(list(get_reader("vics").read(path)))
    assert [r.record_key for r in records] == ["1000", "1001", "1002"]
    assert len(rejections) == 1 and "truncated" in rejections[0].reason


def test_icse_csv(tmp_path: Path) -> None:
    md5, sha1 = hexes(32, 3), hexes(40, 3)
    path = icse_csv(
        tmp_path / "icse.csv",
        [
            [md5[0], sha1[0], "", "IMG-1", "Yes", "No", "No", "S1", "3", "Yes", "Image", "Yes"],
            [md5[1].upper(), "", "", "IMG-2", "", "", "", "", "", "", "Image", "No"],
            ["xyz", sha1[2], "", "IMG-3", "", "", "", "", "", "", "Image", ""],
            ["only", "three", "cells"],
            [md5[2], sha1[2], "", "IMG-4", "maybe", "", "", "", "", "", "Image", ""],
        ],
    )
    records, rejections, _ = split(list(get_reader("icse").read(path)))
    assert [r.record_key for r in records] == ["IMG-1", "IMG-2"]
    assert records[0].baseline is True and records[0].category == "baseline"
    assert records[0].distributed is True and records[0].victim_identified is False
    assert records[1].hashes == [("md5", md5[1])]
    assert [r.where for r in rejections] == ["line 4", "line 5", "line 6"]


def test_hash_lists_and_typed_lines(tmp_path: Path) -> None:
    md5, sha1, sha256 = hexes(32, 1)[0], hexes(40, 1)[0], hexes(64, 1)[0]
    listing = tmp_path / "md5sums"
    listing.write_text(f"{md5}  photos/a.jpg\n# comment\n\n{sha1} *b.png\n{sha256}\nzz  bad\n")
    records, rejections, _ = split(list(get_reader("hashlist").read(listing)))
    assert [r.hashes[0][0] for r in records] == ["md5", "sha1", "sha256"]
    assert records[0].file_name == "photos/a.jpg" and records[1].file_name == "b.png"
    assert [r.where for r in rejections] == ["line 6"]
    typed = tmp_path / "signals.txt"
    typed.write_text(f"pdq {sha256}\nMD5 {md5}\nphotodna abc\npdq 1234\n")
    records, rejections, _ = split(list(get_reader("typed").read(typed)))
    assert [r.hashes for r in records] == [[("pdq", sha256)], [("md5", md5)]]
    assert [r.where for r in rejections] == ["line 3", "line 4"]


def test_nsrl_known_file_set(tmp_path: Path) -> None:
    sha256, sha1, md5 = hexes(64, 2), hexes(40, 2), hexes(32, 2)
    path = nsrl_db(
        tmp_path / "rds.db",
        [
            (sha256[0], sha1[0], md5[0], "kernel32.dll", 100),
            ("", "", "", "empty", 0),
            (sha256[1].upper(), sha1[1], md5[1], "notepad.exe", 200),
        ],
    )
    records, rejections, info = split(list(get_reader("nsrl").read(path)))
    assert info == {"known_files": True}
    assert [r.file_name for r in records] == ["kernel32.dll", "notepad.exe"]
    assert len(records[1].hashes) == 3 and rejections[0].where == "row 2"


def test_detection_by_content_not_name(tmp_path: Path) -> None:
    md5 = hexes(32, 1)[0]
    files = {
        "vics": vics_v2(tmp_path / "a.txt", [vics_media(0)]),
        "icse": icse_csv(tmp_path / "b.json", [[md5, "", "", "1", "", "", "", "", "", "", "", ""]]),
        "nsrl": nsrl_db(tmp_path / "c.csv", [("", "", md5, "x", 1)]),
        "typed": tmp_path / "d.db",
        "hashlist": tmp_path / "e.json",
    }
    files["typed"].write_text(f"md5 {md5}\n")
    files["hashlist"].write_text(f"{md5}  x.jpg\n")
    for name, path in files.items():
        found = detect(path).NAME
        assert found == name
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x00\x01\x02 nothing here")
    with pytest.raises(InputFormatError, match="--format"):
        detect(garbage)


def test_registry_is_explicit_and_unique() -> None:
    assert len(set(reader_names())) == len(READERS) == 5
    assert {r.NAME for r in READERS} == {"vics", "icse", "hashlist", "typed", "nsrl"}
    with pytest.raises(UsageError):
        get_reader("bogus")


def test_category_schemes() -> None:
    assert get_scheme("projectvic").labels["1"].startswith("child abuse material")
    swapped = get_scheme("projectvic-swapped")
    assert swapped.labels["0"] == get_scheme("projectvic").labels["5"]
    assert "uk-caid" in scheme_names() and get_scheme("ncmec").labels["A1"]
    assert default_scheme_for("vics", {"flavour": "UK"}) == "uk-caid"
    assert default_scheme_for("vics", {"flavour": "US"}) == "projectvic"
    assert default_scheme_for("icse", {}) == "interpol-baseline"
    assert parse_category_map("0=uncategorised, 5=non-pertinent") == {
        "0": "uncategorised",
        "5": "non-pertinent",
    }
    with pytest.raises(UsageError, match="CATEGORY=LABEL"):
        parse_category_map("0:x")
    with pytest.raises(UsageError):
        get_scheme("nope")


def test_case_header_survives_json_round_trip(tmp_path: Path) -> None:
    """The case SetInfo is plain JSON (it is stored on the set)."""
    path = vics_v1_case(tmp_path / "case.json", [vics_media(0)])
    _, _, info = split(list(get_reader("vics").read(path)))
    assert json.loads(json.dumps(info)) == info
