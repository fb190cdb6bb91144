"""The INTERPOL ICSE CSV reader: header by name, flags, empty cells, and rejections."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from raksha.errors import InputFormatError
from raksha.hashsets.icse import IcseReader
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo
from tests.hashsets.fixtures import ICSE_HEADER, icse_row, random_photodna, write_icse

READER = IcseReader()


def _read(path: Path) -> list[ParseEvent]:
    return list(READER.read(path))


def _records(events: list[ParseEvent]) -> dict[str, ReferenceRecord]:
    return {e.where: e for e in events if isinstance(e, ReferenceRecord)}


def _rejections(events: list[ParseEvent]) -> dict[str, Rejection]:
    return {e.where: e for e in events if isinstance(e, Rejection)}


def test_every_column_is_read(tmp_path: Path) -> None:
    rng = random.Random(21)
    photodna = random_photodna(rng)
    rows = [
        icse_row(
            rng,
            101,
            PhotoDNA=photodna,
            **{
                "Is distributed": "Yes",
                "Victim identified": "",
                "Offender identified": "0",
                "Baseline": "True",
                "Number of submissions": "12",
                "File Available": "No",
                "Media Type": "Image",
            },
        ),
        icse_row(rng, 102, **{"Baseline": "no", "Media Type": "video/mp4", "Series name": ""}),
    ]
    path = write_icse(tmp_path / "icse.csv", rows, bom=True)

    events = _read(path)

    assert isinstance(events[0], SetInfo) and events[0].format_name == "icse"
    assert events[0].fields["columns"] == ICSE_HEADER
    records = _records(events)
    assert sorted(records) == ["line 2", "line 3"]
    first, second = records["line 2"], records["line 3"]
    assert first.hashes == [
        ("md5", rows[0]["MD5"].lower()),
        ("sha1", rows[0]["SHA1"].lower()),
        ("photodna", photodna),
    ]
    assert first.record_key == "101"
    assert (first.distributed, first.victim_identified, first.offender_identified) == (
        True,
        None,  # an empty cell is "unknown"
        False,
    )
    assert first.baseline is True and first.category is None
    assert first.series == "Made-up series 2"
    assert first.mime_type is None
    assert first.extra == {"submissions": 12, "file_available": False, "media_type": "Image"}
    assert second.baseline is False and second.mime_type == "video/mp4"
    assert second.series is None and "media_type" not in second.extra


def test_columns_in_any_order_and_case_with_a_category_column(tmp_path: Path) -> None:
    rng = random.Random(22)
    header = ["baseline", "IMAGE ID", " sha1 ", "md5", "Category", "Source unit"]
    row = icse_row(rng, 7)
    cells = {
        "baseline": "1",
        "IMAGE ID": "7",
        " sha1 ": row["SHA1"],
        "md5": row["MD5"],
        "Category": "A1",
        "Source unit": "Made-up unit",
    }
    path = write_icse(tmp_path / "x.csv", [cells], header=header)

    (record,) = _records(_read(path)).values()

    assert record.record_key == "7" and record.baseline is True and record.category == "A1"
    assert [a for a, _ in record.hashes] == ["md5", "sha1"]
    assert record.extra == {"Source unit": "Made-up unit"}


def test_unusable_rows_are_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    rng = random.Random(23)
    rows = [icse_row(rng, i) for i in range(1, 7)]
    rows[1].update(MD5="XYZ", SHA1="")  # line 3: bad hash, no other
    rows[2].update(MD5="ab" * 15)  # line 4: MD5 wrong length, SHA1 good
    rows[3].update(MD5="", SHA1="", PhotoDNA="")  # line 5: no hash at all
    rows[4].update(**{"Victim identified": "perhaps"})  # line 6: garbled flag
    path = write_icse(
        tmp_path / "x.csv",
        rows,
        extra_lines=["", "only;three;cells", "cd" * 16 + ";" * 11 + "Yes;;"],
    )

    events = _read(path)

    records, rejections = _records(events), _rejections(events)
    assert set(records) == {"line 2", "line 4", "line 6", "line 7", "line 10"}
    assert set(rejections) == {"line 3", "line 4", "line 5", "line 6", "line 9"}
    assert "no usable hash" in rejections["line 3"].reason
    assert "MD5" in rejections["line 3"].reason
    assert "MD5" in rejections["line 4"].reason and "got 30" in rejections["line 4"].reason
    assert records["line 4"].hashes == [("sha1", rows[2]["SHA1"].lower())]
    assert rejections["line 5"].reason == "the row has no usable hash"
    assert "Victim identified 'perhaps'" in rejections["line 6"].reason
    assert records["line 6"].victim_identified is None
    assert "3 cells where the header has 12" in rejections["line 9"].reason
    assert rejections["line 9"].excerpt == "only;three;cells"
    # trailing empty cells (a ';' at the end of a line) are not a column mismatch
    assert records["line 10"].hashes == [("md5", "cd" * 16)]
    assert records["line 10"].baseline is True


def test_quoted_cells_with_semicolons_and_line_numbers(tmp_path: Path) -> None:
    rng = random.Random(24)
    row = icse_row(rng, 5)
    path = tmp_path / "q.csv"
    header = ";".join(ICSE_HEADER)
    line = ";".join(
        f'"{row[h]}"' if h != "Series name" else '"Series; with ""quotes""\nand a break"'
        for h in ICSE_HEADER
    )
    path.write_text(f"{header}\n{line}\nnot;enough\n", encoding="utf-8")

    events = _read(path)

    records, rejections = _records(events), _rejections(events)
    assert records["line 2"].series == 'Series; with "quotes"\nand a break'
    assert list(rejections) == ["line 4"]  # the quoted cell spanned lines 2 and 3


@pytest.mark.parametrize(
    "content",
    [b"", b"Image ID;Baseline;Series name\r\n1;Yes;x\r\n"],
    ids=["empty", "no-hash-column"],
)
def test_not_an_icse_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)

    with pytest.raises(InputFormatError, match="ICSE"):
        _read(path)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (";".join(ICSE_HEADER).encode() + b"\r\n", True),
        (b"\xef\xbb\xbfmd5;sha1;image id;baseline\n", True),
        (b"Baseline;MD5;Victim identified\n", True),
        (b"MD5;SHA1\n", False),  # a generic list: not recognisably ICSE
        (b"MD5,SHA1,Image ID,Baseline\n", False),
        (b'{"value": []}', False),
        (b"md5 " + b"0" * 32 + b"\n", False),
    ],
)
def test_sniff(tmp_path: Path, head: bytes, expected: bool) -> None:
    assert READER.sniff(tmp_path / "x", head) is expected
