"""vPDQ signatures: the reader (files and ZIPs), detection, the ZIP writer, video marking."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from raksha.errors import InputFormatError
from raksha.hashsets.icse import IcseReader
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo
from raksha.hashsets.registry import detect
from raksha.hashsets.text import HashListReader, TypedReader
from raksha.hashsets.vics import VicsReader
from raksha.hashsets.vpdq import MAX_MEMBER_BYTES, VpdqReader, write_vpdq_zip
from raksha.services.hashsets import export_hashset, import_hashset
from raksha.store.db import Store
from tests.hashsets.fixtures import (
    icse_row,
    random_hex,
    vics_media,
    write_icse,
    write_lines,
    write_vics,
)

VPDQ = VpdqReader()
RNG = random.Random(71)
FRAMES = [random_hex(RNG, 64) for _ in range(12)]

Frame = tuple[str, int, float]


def _records(events: list[ParseEvent]) -> list[ReferenceRecord]:
    return [e for e in events if isinstance(e, ReferenceRecord)]


def _rejections(events: list[ParseEvent]) -> dict[str, Rejection]:
    return {e.where: e for e in events if isinstance(e, Rejection)}


def _frames(record: ReferenceRecord) -> list[Frame]:
    """``(pdqhex, quality, seconds)`` in timestamp order, from the record's extra."""
    stored = record.extra["vpdq_frames"]
    assert [v for _, v in record.hashes] == list(stored)
    assert {a for a, _ in record.hashes} == {"vpdq"}
    frames = [(pdq, int(q), float(t)) for pdq, (q, t) in stored.items()]
    return sorted(frames, key=lambda f: f[2])


def _three_field(frames: list[Frame]) -> list[str]:
    return [f"{pdq},{q},{t:.3f}" for pdq, q, t in frames]


def _signature(n: int, start: int = 0) -> list[Frame]:
    return [(FRAMES[(start + i) % len(FRAMES)], 50 + i, float(i)) for i in range(n)]


def _zip(path: Path, members: dict[str, str], *, stored: bool = False) -> Path:
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return path


# --- reading one file ------------------------------------------------------------------


def test_three_field_file_is_one_video(tmp_path: Path) -> None:
    frames = [(FRAMES[0], 100, 0.0), (FRAMES[1], 87, 1.0), (FRAMES[2].upper(), 49, 2.5)]
    path = write_lines(tmp_path / "clip-0042.txt", _three_field(frames))

    events = list(VPDQ.read(path))

    assert events[0] == SetInfo("vpdq", {"container": "file"})
    assert _rejections(events) == {}
    [record] = _records(events)
    assert record.record_key == "clip-0042"
    assert record.where == "file"
    assert record.hashes == [("vpdq", FRAMES[0]), ("vpdq", FRAMES[1]), ("vpdq", FRAMES[2])]
    assert record.mime_type is None
    assert record.extra["media_kind"] == "video"
    assert record.extra["frame_count"] == 3
    assert _frames(record) == [(FRAMES[0], 100, 0.0), (FRAMES[1], 87, 1.0), (FRAMES[2], 49, 2.5)]


def test_four_field_forms(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "video.vpdq",
        [
            f"0,100,{FRAMES[0]},0.000",  # vpdq-hash-video: frame,quality,pdq,timestamp
            f"1,93,{FRAMES[1]},1.000",
            f"2,{FRAMES[2]},80,2",  # the Python binding's example: frame,pdq,quality,ts
            f" 3 , 77 , {FRAMES[3]} , 3.5 ",
        ],
    )

    events = list(VPDQ.read(path))

    assert _rejections(events) == {}
    [record] = _records(events)
    assert record.record_key == "video"
    assert _frames(record) == [
        (FRAMES[0], 100, 0.0),
        (FRAMES[1], 93, 1.0),
        (FRAMES[2], 80, 2.0),
        (FRAMES[3], 77, 3.5),
    ]


def test_comments_blank_lines_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "with-comments.txt"
    text = "\r\n".join(
        [
            "# vPDQ of a made-up video",
            "",
            f"{FRAMES[0]},100,0.000",
            "   ",
            "# a comment between frames",
            f"{FRAMES[1]},90,1.000",
        ]
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode() + b"\r\n")

    events = list(VPDQ.read(path))

    assert _rejections(events) == {}
    [record] = _records(events)
    assert _frames(record) == [(FRAMES[0], 100, 0.0), (FRAMES[1], 90, 1.0)]


def test_duplicate_frames_are_collapsed_but_counted(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "static.txt",
        [
            f"{FRAMES[0]},100,0.000",
            f"{FRAMES[0]},100,1.000",  # the same picture a second later
            f"{FRAMES[1]},95,2.000",
            f"{FRAMES[0].upper()},100,3.000",
            f"{FRAMES[1]},95,4.000",
        ],
    )

    [record] = _records(list(VPDQ.read(path)))

    assert record.hashes == [("vpdq", FRAMES[0]), ("vpdq", FRAMES[1])]
    assert record.extra["frame_count"] == 5
    assert _frames(record) == [(FRAMES[0], 100, 0.0), (FRAMES[1], 95, 2.0)]  # first seen


def test_bad_lines_are_rejected_with_line_numbers_and_the_video_is_still_read(
    tmp_path: Path,
) -> None:
    path = write_lines(
        tmp_path / "damaged.txt",
        [
            f"{FRAMES[0]},100,0.000",  # 1
            f"{FRAMES[1][:-1]},100,1.000",  # 2: 63 hex
            f"{'g' * 64},100,2.000",  # 3: not hex
            f"{FRAMES[2]},101,3.000",  # 4: quality too high
            f"{FRAMES[3]},-1,4.000",  # 5: quality negative
            f"{FRAMES[4]},high,5.000",  # 6: quality not a number
            f"{FRAMES[5]},100,soon",  # 7: timestamp not a number
            f"{FRAMES[6]},100,-1.0",  # 8: timestamp negative
            f"{FRAMES[7]},100",  # 9: two fields
            f"x,100,{FRAMES[8]},9.000",  # 10: frame number not a number
            "1,2,3,4",  # 11: no hash
            f"{FRAMES[9]},100,nan",  # 12: not finite
            f"{FRAMES[10]},100,10.000",  # 13
        ],
    )

    events = list(VPDQ.read(path))

    [record] = _records(events)
    assert record.hashes == [("vpdq", FRAMES[0]), ("vpdq", FRAMES[10])]
    assert record.extra["frame_count"] == 2
    rejections = _rejections(events)
    assert set(rejections) == {f"line {n}" for n in range(2, 13)}
    assert "64 hex characters" in rejections["line 2"].reason
    assert "64 hex characters" in rejections["line 3"].reason
    assert rejections["line 4"].reason == "quality 101 is outside 0-100"
    assert rejections["line 5"].reason == "quality -1 is outside 0-100"
    assert "quality 'high' is not a whole number" in rejections["line 6"].reason
    assert "timestamp 'soon'" in rejections["line 7"].reason
    assert "timestamp '-1.0'" in rejections["line 8"].reason
    assert "found 2 comma-separated field(s)" in rejections["line 9"].reason
    assert "frame number 'x'" in rejections["line 10"].reason
    assert "no field is a PDQ hash" in rejections["line 11"].reason
    assert "timestamp 'nan'" in rejections["line 12"].reason
    assert rejections["line 4"].excerpt == f"{FRAMES[2]},101,3.000"


def test_a_file_without_any_usable_frame_is_a_rejection_and_no_record(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "empty-video.txt", [f"{FRAMES[0]},200,0.0", "# nothing"])

    events = list(VPDQ.read(path))

    assert _records(events) == []
    rejections = _rejections(events)
    assert set(rejections) == {"line 1", "file"}
    assert "no usable frame" in rejections["file"].reason


def test_an_overlong_line_is_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "long.txt", [f"{FRAMES[0]},100,0", "7" * 100_000, f"{FRAMES[1]},1,1"]
    )

    events = list(VPDQ.read(path))

    assert set(_rejections(events)) == {"line 2"}
    assert [v for _, v in _records(events)[0].hashes] == FRAMES[:2]


# --- ZIPs ------------------------------------------------------------------------------


def test_a_zip_of_three_videos_is_three_records(tmp_path: Path) -> None:
    signatures = {
        "vid-a.txt": _signature(3),
        "b/vid-b.vpdq": _signature(4, 3),
        "C.TXT": _signature(1, 9),
    }
    members = {name: "\n".join(_three_field(f)) + "\n" for name, f in signatures.items()}
    members["__MACOSX/._vid-a.txt"] = "\x00\x05\x16\x07 resource fork"
    members["notes.md"] = "made-up notes"
    path = _zip(tmp_path / "videos.zip", {"b/": "", **members})

    events = list(VPDQ.read(path))

    info = [e for e in events if isinstance(e, SetInfo)]
    assert info == [SetInfo("vpdq", {"container": "zip", "members": 4})]
    records = _records(events)
    assert [(r.record_key, r.where) for r in records] == [
        ("vid-a", "member vid-a.txt"),
        ("vid-b", "member b/vid-b.vpdq"),
        ("C", "member C.TXT"),
    ]
    for record, frames in zip(records, signatures.values(), strict=True):
        assert _frames(record) == frames
        assert record.extra["media_kind"] == "video"
    rejections = _rejections(events)
    assert set(rejections) == {"member notes.md"}
    assert "not a vPDQ signature" in rejections["member notes.md"].reason


def test_zip_member_lines_are_rejected_with_member_and_line(tmp_path: Path) -> None:
    path = _zip(tmp_path / "v.zip", {"one.txt": f"{FRAMES[0]},100,0\n{FRAMES[1]},999,1\n"})

    events = list(VPDQ.read(path))

    assert set(_rejections(events)) == {"member one.txt line 2"}
    assert len(_records(events)) == 1


def test_an_oversized_zip_member_is_skipped_and_the_rest_are_read(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("first.txt", "\n".join(_three_field(_signature(2))) + "\n")
        with archive.open("huge.txt", "w") as member:
            line = f"{FRAMES[0]},100,0.000\n".encode()
            chunk = line * (1024 * 1024 // len(line) + 1)
            written = 0
            while written <= MAX_MEMBER_BYTES:
                member.write(chunk)
                written += len(chunk)
        archive.writestr("last.txt", "\n".join(_three_field(_signature(1, 5))) + "\n")
    assert path.stat().st_size < 2 * 1024 * 1024  # it compresses well: a small file

    events = list(VPDQ.read(path))

    assert [r.record_key for r in _records(events)] == ["first", "last"]
    rejections = _rejections(events)
    assert set(rejections) == {"member huge.txt"}
    assert "over the 64 MiB" in rejections["member huge.txt"].reason


def test_a_damaged_zip_member_is_skipped_and_the_rest_are_read(tmp_path: Path) -> None:
    good = "\n".join(_three_field(_signature(2))) + "\n"
    damaged = "\n".join(_three_field(_signature(3, 4))) + "\n"
    path = _zip(tmp_path / "d.zip", {"good.txt": good, "bad.txt": damaged}, stored=True)
    data = bytearray(path.read_bytes())
    at = data.index(damaged.encode())
    data[at] = ord("0") if data[at] != ord("0") else ord("1")  # the CRC no longer fits
    path.write_bytes(bytes(data))

    events = list(VPDQ.read(path))

    assert [r.record_key for r in _records(events)] == ["good"]
    assert "cannot be read" in _rejections(events)["member bad.txt"].reason


def test_a_broken_zip_is_an_input_format_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)

    with pytest.raises(InputFormatError, match="not a readable ZIP"):
        list(VPDQ.read(path))
    assert not VPDQ.sniff(path, path.read_bytes())


# --- detection -------------------------------------------------------------------------


def _sniffs(path: Path) -> dict[str, bool]:
    head = path.read_bytes()[: 64 * 1024]
    readers = (VPDQ, TypedReader(), HashListReader())
    return {r.NAME: r.sniff(path, head) for r in readers}


@pytest.mark.parametrize(
    "lines",
    [
        _three_field(_signature(5)),
        [f"{i},{q},{pdq},{t:.3f}" for i, (pdq, q, t) in enumerate(_signature(5))],
        [f"{i},{pdq},{q},{int(t)}" for i, (pdq, q, t) in enumerate(_signature(5))],
        ["# comment", "", *_three_field(_signature(2))],
    ],
    ids=["three-field", "four-field", "four-field-python", "comments"],
)
def test_vpdq_files_are_detected_and_not_taken_for_typed_or_hashlist(
    tmp_path: Path, lines: list[str]
) -> None:
    path = write_lines(tmp_path / "signature.csv", lines)

    assert _sniffs(path) == {"vpdq": True, "typed": False, "hashlist": False}
    assert detect(path).NAME == "vpdq"


def test_a_vpdq_zip_is_detected_by_content(tmp_path: Path) -> None:
    path = _zip(tmp_path / "export.bin", {"a.txt": "\n".join(_three_field(_signature(2)))})

    assert detect(path).NAME == "vpdq"


def test_typed_pdq_and_md5sum_lists_are_not_vpdq(tmp_path: Path) -> None:
    typed = write_lines(tmp_path / "typed.txt", [f"pdq {f}" for f in FRAMES[:5]])
    sums = write_lines(
        tmp_path / "sums.txt", [f"{random_hex(RNG, 32)}  f{i}.mp4" for i in range(5)]
    )
    bare = write_lines(tmp_path / "bare.txt", FRAMES[:5])

    assert _sniffs(typed) == {"vpdq": False, "typed": True, "hashlist": False}
    assert _sniffs(sums) == {"vpdq": False, "typed": False, "hashlist": True}
    assert _sniffs(bare)["vpdq"] is False
    assert detect(typed).NAME == "typed"
    assert detect(sums).NAME == "hashlist"


def test_a_zip_of_something_else_is_not_vpdq(tmp_path: Path) -> None:
    photos = _zip(tmp_path / "photos.zip", {"a.jpg": "\xff\xd8 not really", "b.txt": "x"})
    prose = _zip(tmp_path / "prose.zip", {"readme.txt": "just some prose\n"})

    for path in (photos, prose):
        assert not VPDQ.sniff(path, path.read_bytes())
        with pytest.raises(InputFormatError):
            detect(path)


# --- writing ---------------------------------------------------------------------------


def _read_zip(data: bytes, tmp_path: Path) -> list[ReferenceRecord]:
    path = tmp_path / "out.zip"
    path.write_bytes(data)
    events = list(VPDQ.read(path))
    assert _rejections(events) == {}
    return _records(events)


class _Unseekable(io.BytesIO):
    """A pipe-like binary stream (what ``-o -`` writes to): no tell, no seek."""

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        raise OSError("not seekable")

    def seek(self, offset: int, whence: int = 0) -> int:
        raise OSError("not seekable")


def test_writer_orders_by_timestamp_fills_gaps_and_skips_records_without_frames(
    tmp_path: Path,
) -> None:
    ordered = ReferenceRecord(
        hashes=[("vpdq", FRAMES[0]), ("vpdq", FRAMES[1]), ("md5", random_hex(RNG, 32))],
        where="x",
        record_key="case/7 video",
        extra={"vpdq_frames": {FRAMES[0]: [90, 2.25], FRAMES[1]: [60, 0.0333333]}},
    )
    bare = ReferenceRecord([("vpdq", FRAMES[2]), ("vpdq", FRAMES[3])], "y", record_key=None)
    image = ReferenceRecord([("pdq", FRAMES[4])], "z", record_key="photo")
    same_key = ReferenceRecord([("vpdq", FRAMES[5])], "w", record_key="case/7 video")
    out = _Unseekable()

    written = write_vpdq_zip(out, [ordered, image, bare, same_key])

    assert written == 3
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        assert archive.namelist() == ["case_7_video.txt", "video-2.txt", "case_7_video-2.txt"]
        assert archive.read("case_7_video.txt").decode().splitlines() == [
            f"{FRAMES[1]},60,0.0333333",
            f"{FRAMES[0]},90,2.250",
        ]
        assert archive.read("video-2.txt").decode().splitlines() == [
            f"{FRAMES[2]},100,0.000",
            f"{FRAMES[3]},100,1.000",
        ]
    records = _read_zip(out.getvalue(), tmp_path)
    assert _frames(records[0]) == [(FRAMES[1], 60, 0.0333333), (FRAMES[0], 90, 2.25)]


def test_typed_writer_leaves_vpdq_out() -> None:
    from raksha.hashsets.writers import write_typed_text

    text = io.StringIO()
    video = ReferenceRecord([("vpdq", FRAMES[0]), ("md5", "0" * 32)], "x", record_key="v")

    assert write_typed_text(text, [video]) == 1
    assert text.getvalue() == f"md5 {'0' * 32}\n"


def test_export_round_trip_through_the_store(store: Store, tmp_path: Path) -> None:
    first = [(FRAMES[0], 100, 0.0), (FRAMES[1], 72, 1.0), (FRAMES[2], 55, 2.5)]
    second = [(FRAMES[3], 88, 0.0), (FRAMES[1], 72, 1.04), (FRAMES[4], 100, 2.0)]  # shares one
    source = _zip(
        tmp_path / "reference-videos.zip",
        {
            "video-1.txt": "\n".join([*_three_field(first), _three_field(first)[0]]) + "\n",
            "video-2.txt": "\n".join(f"{i},{q},{p},{t:.3f}" for i, (p, q, t) in enumerate(second)),
        },
    )

    report = import_hashset(store, source, name="videos")

    assert report.format_name == "vpdq"
    assert (report.records_read, report.hashes_read, report.rejected) == (2, 6, 0)
    assert (report.added, report.duplicate) == (5, 1)
    out = io.BytesIO()
    assert export_hashset(store, "videos", out, "vpdq") == 2
    typed = io.BytesIO()
    assert export_hashset(store, "videos", typed, "typed") == 0

    records = {r.record_key: r for r in _read_zip(out.getvalue(), tmp_path)}
    assert set(records) == {"video-1", "video-2"}
    assert _frames(records["video-1"]) == first
    # A set holds each hash once: the frame both videos share stays with the first (its
    # row, its quality and time), so the second comes back without it.
    assert _frames(records["video-2"]) == [second[0], second[2]]

    path = tmp_path / "single.txt"
    write_lines(path, _three_field(first))
    import_hashset(store, path, name="single")
    out = io.BytesIO()
    assert export_hashset(store, "single", out, "vpdq") == 1
    [record] = _read_zip(out.getvalue(), tmp_path)
    assert record.record_key == "single"
    assert _frames(record) == first


# --- videos in digest lists ------------------------------------------------------------


def test_vics_marks_video_mime_types(tmp_path: Path) -> None:
    path = write_vics(
        tmp_path / "v.json",
        [
            vics_media(RNG, 1, MimeType="video/mp4"),
            vics_media(RNG, 2),
            vics_media(RNG, 3, MimeType="Video/X-Matroska"),
        ],
    )

    records = _records(list(VicsReader().read(path)))

    assert [r.mime_type for r in records] == ["video/mp4", "image/jpeg", "Video/X-Matroska"]
    assert [r.extra.get("media_kind") for r in records] == ["video", None, "video"]


def test_icse_marks_video_media_type(tmp_path: Path) -> None:
    path = write_icse(
        tmp_path / "icse.csv",
        [
            icse_row(RNG, 1, **{"Media Type": "Video"}),
            icse_row(RNG, 2),
            icse_row(RNG, 3, **{"Media Type": "video/mp4"}),
        ],
    )

    records = _records(list(IcseReader().read(path)))

    assert [r.extra.get("media_kind") for r in records] == ["video", None, "video"]
    assert [r.extra.get("media_type") for r in records] == ["Video", "Image", None]
    assert records[2].mime_type == "video/mp4"


def test_typed_marks_video_signal_types(tmp_path: Path) -> None:
    md5 = random_hex(RNG, 32)
    sha256 = random_hex(RNG, 64)
    path = write_lines(
        tmp_path / "typed.txt",
        [f"video_md5 {md5}", f"VIDEO_SHA256 {sha256} clip", f"md5 {md5}", f"pdq {FRAMES[0]}"],
    )

    records = _records(list(TypedReader().read(path)))

    assert [r.extra for r in records] == [
        {"media_kind": "video"},
        {"metadata": "clip", "media_kind": "video"},
        {},
        {},
    ]
