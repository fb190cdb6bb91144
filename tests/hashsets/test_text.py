"""The plain-text readers: md5sum-style lists and typed ``<type> <hash>`` lines."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo
from raksha.hashsets.text import MAX_LINE, HashListReader, TypedReader
from tests.hashsets.fixtures import random_hex, write_lines

HASHLIST = HashListReader()
TYPED = TypedReader()
RNG = random.Random(31)
MD5 = random_hex(RNG, 32)
SHA1 = random_hex(RNG, 40)
SHA256 = random_hex(RNG, 64)
PDQ = random_hex(RNG, 64)


def _records(events: list[ParseEvent]) -> dict[str, ReferenceRecord]:
    return {e.where: e for e in events if isinstance(e, ReferenceRecord)}


def _rejections(events: list[ParseEvent]) -> dict[str, Rejection]:
    return {e.where: e for e in events if isinstance(e, Rejection)}


def test_md5sum_sha1sum_sha256sum_and_bare_lines(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "sums",
        [
            "# made-up checksums",
            f"{MD5.upper()}  holiday photo.jpg",
            f"{SHA1} *binary mode.png",
            f"{SHA256}  ./dir/with  two spaces.gif",
            "",
            f"  {MD5}",
            f"\\{SHA1}  back\\\\slash\\nnewline.jpg",
            f"SHA256 (tagged name.jpg) = {SHA256.upper()}",
            f"MD5 ({MD5}.jpg) = {MD5}",
        ],
        bom=True,
    )

    events = list(HASHLIST.read(path))

    assert events[0] == SetInfo("hashlist", {})
    records = _records(events)
    assert _rejections(events) == {}
    expected = {
        "line 2": (("md5", MD5), "holiday photo.jpg"),
        "line 3": (("sha1", SHA1), "binary mode.png"),
        "line 4": (("sha256", SHA256), "./dir/with  two spaces.gif"),
        "line 6": (("md5", MD5), None),
        "line 7": (("sha1", SHA1), "back\\slash\nnewline.jpg"),
        "line 8": (("sha256", SHA256), "tagged name.jpg"),
        "line 9": (("md5", MD5), f"{MD5}.jpg"),
    }
    assert {w: (r.hashes[0], r.file_name) for w, r in records.items()} == expected
    assert all(len(r.hashes) == 1 for r in records.values())


def test_hashlist_rejections_carry_line_numbers(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "sums",
        [
            f"{MD5}  ok.jpg",
            f"{MD5[:-1]}  short.jpg",
            "not a hash at all",
            f"{MD5}{MD5}0  too-long.jpg",
            f"SHA1 (x.jpg) = {SHA1[:-2]}",
            "\\",
            f"{SHA1}  ok.png",
        ],
    )

    events = list(HASHLIST.read(path))

    assert set(_records(events)) == {"line 1", "line 7"}
    rejections = _rejections(events)
    assert set(rejections) == {"line 2", "line 3", "line 4", "line 5", "line 6"}
    assert "31 hex characters" in rejections["line 2"].reason
    assert "expected '<hash>  <file name>'" in rejections["line 3"].reason
    assert rejections["line 3"].excerpt == "not a hash at all"
    assert "65 hex characters" in rejections["line 4"].reason
    assert "sha1 value must be 40" in rejections["line 5"].reason


def test_typed_lines(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "signals.txt",
        [
            "# exported by a made-up tool",
            f"pdq {PDQ}",
            f"PDQ {PDQ.upper()}",
            f"md5 {MD5}",
            f"sha1\t{SHA1}",
            f"sha256 {SHA256} seen in synthetic case 4",
            f"video_md5 {MD5}",
            f"video_sha256 {SHA256}",
        ],
    )

    events = list(TYPED.read(path))

    assert events[0] == SetInfo("typed", {})
    records = _records(events)
    assert _rejections(events) == {}
    assert {w: r.hashes for w, r in records.items()} == {
        "line 2": [("pdq", PDQ)],
        "line 3": [("pdq", PDQ)],
        "line 4": [("md5", MD5)],
        "line 5": [("sha1", SHA1)],
        "line 6": [("sha256", SHA256)],
        "line 7": [("md5", MD5)],
        "line 8": [("sha256", SHA256)],
    }
    assert records["line 6"].extra == {"metadata": "seen in synthetic case 4"}
    assert records["line 2"].extra == {}


def test_typed_rejections(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "signals.txt",
        [
            f"pdq {PDQ[:-1]}",
            "md5",
            "url https://example.invalid/x",
            f"url_md5 {MD5}",
            f"photodna {MD5}",
            f"sha1 {SHA1}",
        ],
    )

    events = list(TYPED.read(path))

    assert set(_records(events)) == {"line 6"}
    rejections = _rejections(events)
    assert "pdq value must be 64 hex characters" in rejections["line 1"].reason
    assert "expected '<type> <hash>'" in rejections["line 2"].reason
    for where, kind in (("line 3", "'url'"), ("line 4", "'url_md5'"), ("line 5", "'photodna'")):
        assert f"signal type {kind} is not a file hash" in rejections[where].reason
        assert "pdq, md5, sha1, sha256" in rejections[where].reason


@pytest.mark.parametrize(
    ("reader", "good_line"), [(HASHLIST, "line 4"), (TYPED, "line 3")], ids=["hashlist", "typed"]
)
def test_an_overlong_line_is_rejected_and_reading_goes_on(
    tmp_path: Path, reader: HashListReader | TypedReader, good_line: str
) -> None:
    path = tmp_path / "long.txt"
    path.write_text(f"# x\n{'a' * (3 * MAX_LINE)}\nsha1 {SHA1}\n{SHA1}\n")

    events = list(reader.read(path))

    assert _rejections(events)["line 2"].reason == f"the line is longer than {MAX_LINE} characters"
    assert _records(events)[good_line].hashes == [("sha1", SHA1)]


@pytest.mark.parametrize(
    ("head", "hashlist", "typed"),
    [
        (f"{MD5}  a.jpg\n{SHA1}  b.jpg\n".encode(), True, False),
        (f"{SHA256}\n{SHA256}\n".encode(), True, False),
        (f"SHA256 (a.jpg) = {SHA256}\n".encode(), True, False),
        (f"# header\npdq {PDQ}\nmd5 {MD5}\n".encode(), False, True),
        (f"MD5 {MD5.upper()}\n".encode(), False, True),
        (
            b"MD5;SHA1;PhotoDNA;Image ID;Baseline\r\n" + f"{MD5};{SHA1};;1;Yes\r\n".encode(),
            False,
            False,
        ),
        (b'{"value": []}\n', False, False),
        (b"SQLite format 3\x00" + b"\x00" * 100, False, False),
        (b"hello\nworld\n", False, False),
        (b"", False, False),
    ],
    ids=[
        "md5sum",
        "bare-sha256",
        "tagged",
        "typed",
        "typed-upper",
        "icse",
        "json",
        "sqlite",
        "prose",
        "empty",
    ],
)
def test_sniff_tells_the_formats_apart(
    tmp_path: Path, head: bytes, hashlist: bool, typed: bool
) -> None:
    assert HASHLIST.sniff(tmp_path / "x", head) is hashlist
    assert TYPED.sniff(tmp_path / "x", head) is typed
