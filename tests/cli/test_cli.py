"""The ``raksha`` command end to end, in process, on both databases."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from raksha.cli.main import main
from raksha.errors import NotFoundError
from raksha.settings import Settings
from tests.helpers import flip_bits, random_hex, record, write_typed, write_vics

RNG = random.Random(3)
PDQS = [random_hex(RNG, 64) for _ in range(10)]
MD5S = [random_hex(RNG, 32) for _ in range(10)]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_import_list_show_export_match(env_for: Settings, tmp_path: Path, capsys) -> None:
    set_file = write_vics(
        tmp_path / "icse-like.json",
        [record(f"M{i}", md5=MD5S[i], pdq=PDQS[i], category="1") for i in range(5)],
    )
    code, out, _ = run(
        capsys,
        "hashset",
        "import",
        str(set_file),
        "--name",
        "vic",
        "--agency",
        "Project VIC",
        "--json",
    )
    assert code == 0
    report = json_lines(out)[0]
    assert (report["added"], report["rejected"], report["format_name"]) == (10, 0, "vics")

    code, out, _ = run(capsys, "hashset", "list", "--json")
    (listed,) = json_lines(out)
    assert listed["name"] == "vic" and listed["counts"] == {"md5": 5, "pdq": 5}

    code, out, _ = run(capsys, "hashset", "show", "vic", "--json")
    assert json_lines(out)[0]["imports"][0]["counts"]["added"] == 10  # type: ignore[index]

    exported = tmp_path / "out.txt"
    assert run(capsys, "hashset", "export", "vic", "-o", str(exported), "-f", "typed")[0] == 0
    assert len(exported.read_text().splitlines()) == 10

    near = flip_bits(PDQS[2], 9, RNG)
    code, out, _ = run(capsys, "match", MD5S[1], f"pdq:{near}", random_hex(RNG, 40), "--json")
    assert code == 0
    first, second, third = json_lines(out)
    assert first["matches"][0]["record_key"] == "M1"  # type: ignore[index]
    assert second["matches"][0]["distance"] == 9  # type: ignore[index]
    assert third["matches"] == []

    code, out, _ = run(capsys, "match", MD5S[1])
    assert "MATCH" in out and "vic" in out


def test_match_streams_stdin(env_for: Settings, tmp_path: Path, capsys, monkeypatch) -> None:
    write_typed(tmp_path / "s.txt", [f"md5 {m}" for m in MD5S])
    assert run(capsys, "hashset", "import", str(tmp_path / "s.txt"))[0] == 0
    lines = [MD5S[0], "", "zz-not-a-hash", MD5S[9]]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, _ = run(capsys, "match", "-", "--json")
    rows = json_lines(out)
    assert code == 8  # one input could not be parsed; the rest are still answered
    assert [r["input"] for r in rows] == [MD5S[0], "zz-not-a-hash", MD5S[9]]
    assert "error" in rows[1] and rows[2]["matches"]


def test_errors_are_one_sentence_with_documented_exit_codes(
    env_for: Settings, tmp_path: Path, capsys
) -> None:
    code, _, err = run(capsys, "hashset", "show", "nope")
    assert code == NotFoundError.exit_code and "hashset list" in err and "Traceback" not in err
    code, _, err = run(capsys, "hashset", "import", str(tmp_path / "missing.json"))
    assert code == 3
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01 this is not any hash set format \xff" * 10)
    code, _, err = run(capsys, "hashset", "import", str(garbage))
    assert code == 4 and "--format" in err
    code, _, err = run(
        capsys, "hashset", "export", "nope", "-o", str(tmp_path / "x"), "-f", "bogus"
    )
    assert code == 2


def test_hash_command_prints_digests_and_pdq(env_for: Settings, tmp_path: Path, capsys) -> None:
    from raksha.synthetic.images import jpeg_bytes, photo_like

    photo = tmp_path / "renamed.dat"
    photo.write_bytes(jpeg_bytes(photo_like(1, 640, 480)))
    other = tmp_path / "notes.txt"
    other.write_text("plain text")
    code, out, _ = run(capsys, "hash", str(photo), str(other), "--json")
    assert code == 0
    img, txt = json_lines(out)
    assert img["image_format"] == "jpeg" and len(str(img["pdq"])) == 64
    assert txt["pdq"] is None and len(str(txt["sha256"])) == 64


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["hashset"],
        ["hashset", "import"],
        ["hashset", "list"],
        ["hashset", "show"],
        ["hashset", "export"],
        ["hashset", "delete"],
        ["hash"],
        ["match"],
        ["demo"],
        ["index"],
        ["index", "status"],
        ["index", "rebuild"],
        ["case"],
        ["case", "create"],
        ["case", "list"],
        ["scan"],
        ["hits"],
        ["evidence"],
        ["evidence", "show"],
    ],
)
def test_every_command_has_help(args: list[str], capsys) -> None:
    code, out, _ = run(capsys, *args, "--help")
    assert code == 0 and "Usage" in out
