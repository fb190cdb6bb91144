"""``raksha report`` and ``raksha material`` end to end, on both databases."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from raksha.cli.main import main
from raksha.settings import Settings
from tests.reports.court_case import CASE, FIR, OPERATION, build_court_case
from tests.reports.text import html_text


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")], out + err


def test_report_commands(env_for: Settings, tmp_path: Path, capsys) -> None:
    court = build_court_case(env_for, tmp_path / "build")
    capsys.readouterr()

    code, out, _ = run(capsys, "report", "case", FIR, "--json")
    assert code == 0
    (doc,) = out
    assert doc["case"] == CASE and doc["totals"]["hit_items"] == 3
    files = {f["kind"]: Path(f["path"]) for f in doc["files"]}
    default_dir = env_for.home / "reports" / "Cyber_PS_Kochi_112_2026"
    assert all(p.parent == default_dir.resolve() for p in files.values())
    for f in doc["files"]:
        assert hashlib.sha256(Path(f["path"]).read_bytes()).hexdigest() == f["sha256"]

    code, out, _ = run(capsys, "report", "verify", str(files["case-pdf"]), "--json")
    assert code == 0 and out[0]["ok"] is True
    code, _, text = run(capsys, "report", "verify", str(files["case-html"]))
    assert code == 0 and "unchanged" in text

    code, out, _ = run(capsys, "report", "certificate", CASE, "--json")
    assert code == 0
    cert = {f["kind"]: Path(f["path"]) for f in out[0]["files"]}
    cert_text = html_text(cert["certificate-html"])
    assert all(f["sha256"] in cert_text for f in doc["files"])

    html = files["case-html"]
    html.write_bytes(html.read_bytes() + b" ")
    code, out, text = run(capsys, "report", "verify", str(html), "--json")
    assert code == 10 and out[0]["ok"] is False and "modified" in text

    code, _, text = run(
        capsys, "report", "case", CASE, "--format", "html", "--out", str(tmp_path / "o")
    )
    assert code == 0 and len(list((tmp_path / "o").glob("*.html"))) == 1 and "sha256" in text
    assert run(capsys, "report", "case", CASE, "--format", "docx")[0] == 2
    assert run(capsys, "report", "case", "no such case")[0] == 3

    code, out, _ = run(
        capsys,
        "report",
        "operation",
        OPERATION,
        "--format",
        "csv",
        "--out",
        str(tmp_path / "op"),
        "--json",
    )
    assert code == 0 and out[0]["operation"]["overall"]["places"] == 3
    (csv_file,) = (tmp_path / "op").glob("*.csv")
    rows = list(csv.DictReader(csv_file.open(newline="")))
    assert rows[-1]["district"] == "(all districts)" and rows[-1]["arrests"] == "3"

    hits_file = tmp_path / "hits.json"
    code, out, _ = run(
        capsys, "report", "vics", CASE, "--hits-only", "--out", str(hits_file), "--json"
    )
    assert code == 0 and out[0]["files"][0]["media"] == 2
    assert len(json.loads(hits_file.read_text())["value"][0]["Media"]) == 2
    assert run(capsys, "report", "vics", CASE, "--hits-only", "--new-only")[0] == 2
    assert run(capsys, "report", "vics", CASE, "--out", str(tmp_path / "x.json"))[0] == 2

    code, _, text = run(capsys, "material", "confirm", str(next(iter(court.hit_items))))
    assert code == 2 and "already matches the reference set" in text
    code, out, _ = run(capsys, "material", "confirm", str(court.new_item_id), "--category", "1",
                       "--notes", "two analysts", "--json")  # fmt: skip
    assert code == 0 and out[0]["category_label"] == "child abuse material (illegal)"
    code, out, _ = run(capsys, "material", "list", "--case", CASE, "--json")
    assert [m["item_id"] for m in out] == [court.new_item_id]
    code, out, _ = run(capsys, "report", "vics", CASE, "--new-only", "--json")
    assert code == 0 and out[0]["files"][0]["media"] == 1
    code, _, text = run(capsys, "material", "withdraw", str(court.new_item_id), "--reason", "test")
    assert code == 0 and "withdrawn" in text
    code, _, text = run(capsys, "material", "list")
    assert code == 0

    code, out, _ = run(capsys, "report", "list", "--case", CASE, "--json")
    kinds = [r["kind"] for r in out]
    assert kinds.count("case-pdf") == 1 and kinds.count("case-html") == 2
    assert {"certificate-pdf", "certificate-html", "vics-hits", "vics-new"} <= set(kinds)
    code, out, _ = run(capsys, "report", "list", "--json")
    assert {"operation-csv"} <= {r["kind"] for r in out}
    code, _, text = run(capsys, "report", "list")
    assert code == 0 and "case-pdf" in text
