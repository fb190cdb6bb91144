"""``raksha case``, ``scan``, ``hits`` and ``evidence show`` end to end, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raksha.cli.main import main
from raksha.settings import Settings
from tests.scan.evidence import build, zip_of


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, object]], str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")], err


def test_scan_hits_and_evidence_show(env_for: Settings, tmp_path: Path, capsys) -> None:
    ev = build(tmp_path, known=2, unrelated=2, others=1)
    archive = zip_of(ev.root, tmp_path / "export.zip")
    assert run(capsys, "hashset", "import", str(ev.set_file), "--name", "ref")[0] == 0
    code, out, _ = run(capsys, "case", "create", "FIR 1/2026", "--json")
    assert code == 0 and out[0]["name"] == "FIR 1/2026"
    assert run(capsys, "case", "create", "FIR 1/2026")[0] == 2  # names are unique

    code, out, _ = run(
        capsys, "scan", str(archive), "--case", "FIR 1/2026", "--workers", "0", "--json"
    )
    assert code == 0
    summary = out[-1]
    assert summary["event"] == "summary" and summary["status"] == "completed"
    assert summary["counts"]["hits"] == 2  # type: ignore[index]
    assert len(str(summary["container_sha256"])) == 64

    code, out, _ = run(capsys, "hits", "--case", "FIR 1/2026", "--json")
    assert code == 0 and len({h["locator"] for h in out}) == 2
    assert all(str(h["locator"]).startswith("export.zip > ") for h in out)
    assert {h["set_name"] for h in out} == {"ref"}

    code, out, _ = run(capsys, "evidence", "show", "--case", "FIR 1/2026", "--json")
    (evidence,) = out
    assert evidence["items_by_type"]["jpeg"] == 4  # type: ignore[index]
    assert evidence["hits"][0]["items"] == 2  # type: ignore[index]

    code, out, _ = run(capsys, "case", "list", "--json")
    assert out[0]["evidence"] == 1
    code, _, err = run(capsys, "scan", str(ev.root), "--case", "no such case")
    assert code == 3 and "case create" in err


def test_scan_reports_progress_without_a_terminal(
    env_for: Settings, tmp_path: Path, capsys, monkeypatch
) -> None:
    from raksha.cli import progress as progress_module

    monkeypatch.setattr(progress_module, "LOG_EVERY_SECONDS", 0.0)
    ev = build(tmp_path, known=1, unrelated=1, others=1)
    assert run(capsys, "case", "create", "c")[0] == 0
    code, out, _ = run(capsys, "scan", str(ev.root), "--case", "c", "--workers", "0", "--json")
    assert code == 0
    progress = [e for e in out if e["event"] == "progress"]
    assert progress and progress[-1]["files"] == 3  # every file, as the last batch is stored
    assert out[-1]["event"] == "summary"
    other = build(tmp_path / "second", known=1, unrelated=1, others=1)
    code, _, err = run(capsys, "scan", str(other.root), "--case", "c", "--workers", "0")
    assert code == 0 and "3 files" in err  # a log line on stderr when stderr is no terminal
