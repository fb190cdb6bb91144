"""``raksha seizure``, ``custody``, ``trace``, ``evidence link`` and ``scan --seizure`` end
to end, on both databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from raksha.cli.main import main
from raksha.settings import Settings
from raksha.store.db import Store
from tests.cases.exhibits import BAD_IMEI, IMEI, extraction_zip, raid

CASE = "FIR 7/2026"
SEAL = "CCPS/21/PH-01"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")], err + out


def _add_phone(
    capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, list[dict[str, Any]], str]:
    return run(
        capsys,
        "seizure",
        "add",
        "--case",
        CASE,
        "--kind",
        "mobile",
        "--seal",
        SEAL,
        "--make",
        "Samsung",
        "--model",
        "SM-A125F",
        "--imei",
        IMEI,
        "--from",
        "Ravi Kumar",
        "--place",
        "House 4, Ward 7",
        "--district",
        "Pune",
        "--at",
        "2026-03-01T12:00",
        "--by",
        "SI Rao",
        *extra,
    )


def test_seizure_add_list_and_show(env_for: Settings, capsys) -> None:
    assert run(capsys, "case", "create", CASE)[0] == 0
    store = Store.open(env_for)
    r = raid(store)
    store.close()
    code, out, _ = _add_phone(
        capsys, "--person", str(r.person_id), "--target", str(r.target_id), "--json"
    )
    assert code == 0
    (s,) = out
    assert s["kind"] == "phone" and s["imei"] == IMEI and s["seized_from_person_id"] == r.person_id
    assert s["seized_at"] == "2026-03-01T06:30:00+00:00"  # 12:00 in Asia/Kolkata

    code, _, err = run(
        capsys,
        "seizure",
        "add",
        "--case",
        CASE,
        "--kind",
        "sd",
        "--seal",
        "SD-1",
        "--imei",
        BAD_IMEI,
    )
    assert code == 2 and "check) digit should be 8" in err
    code, _, err = _add_phone(capsys)
    assert code == 2 and "already on seizure" in err
    code, _, err = run(capsys, "seizure", "add", "--case", CASE, "--kind", "toaster", "--seal", "X")
    assert code == 2 and "modem/router" in err
    code, _, err = run(
        capsys, "seizure", "add", "--case", CASE, "--kind", "sd", "--seal", "X", "--at", "soon"
    )
    assert code == 2 and "ISO 8601" in err
    code, out, _ = run(
        capsys, "seizure", "add", "--case", CASE, "--kind", "sd", "--seal", "SD-1", "--json"
    )
    assert code == 0 and out[0]["kind"] == "memory card"

    code, out, _ = run(capsys, "seizure", "list", "--case", CASE, "--json")
    assert code == 0 and [x["seal_label"] for x in out] == [SEAL, "SD-1"]
    code, out, _ = run(capsys, "seizure", "list", "--operation", "Op Nirbhay", "--json")
    assert [x["seal_label"] for x in out] == [SEAL]
    code, _, text = run(capsys, "seizure", "list")
    assert code == 0 and "device" in text and "custody" in text  # a table, wrapped at 80

    code, out, _ = run(capsys, "seizure", "show", SEAL, "--json")
    assert code == 0
    shown = out[0]
    assert shown["raid_target"]["operation"]["name"] == "Op Nirbhay"
    assert [e["action"] for e in shown["custody"]] == ["seized"]
    code, _, text = run(capsys, "seizure", "show", SEAL)
    assert code == 0 and "phone Samsung SM-A125F" in text and "chain: ok" in text
    assert run(capsys, "seizure", "show", "nope")[0] == 3


CHAIN = [
    ("sealed", "2026-03-01T13:00", "SI Rao", None),
    ("transferred", "2026-03-02T10:00", "SI Rao", "Dr Mehta"),
    ("received at lab", "2026-03-03T10:00", "Dr Mehta", None),
    ("imaged", "2026-03-04T10:00", "Dr Mehta", None),
    ("analysed", "2026-03-10T10:00", "Dr Mehta", None),
    ("returned to store", "2026-03-12T10:00", "HC Patil", None),
    ("produced in court", "2026-06-10T10:00", "SI Rao", None),
]


def test_scan_into_a_seizure_custody_and_trace(env_for: Settings, tmp_path: Path, capsys) -> None:
    archive, refs = extraction_zip(tmp_path)
    assert run(capsys, "hashset", "import", str(refs), "--name", "ref")[0] == 0
    assert run(capsys, "case", "create", CASE)[0] == 0
    store = Store.open(env_for)
    r = raid(store)
    store.close()
    assert _add_phone(capsys, "--person", str(r.person_id), "--target", str(r.target_id))[0] == 0

    code, _, err = run(capsys, "scan", str(archive), "--case", CASE, "--seizure", "nope")
    assert code == 3 and "no seizure with the seal" in err
    code, out, _ = run(
        capsys, "scan", str(archive), "--case", CASE, "--workers", "0", "--seizure", SEAL, "--json"
    )
    assert code == 0
    link = next(e for e in out if e["event"] == "seizure link")
    assert link["seal_label"] == SEAL and link["linked"] is True
    assert out[-1]["event"] == "summary"
    evidence_id = out[-1]["evidence_id"]
    assert link["evidence_id"] == evidence_id

    # No custody event came with the scan: the chain is still the seizure alone.
    code, out, _ = run(capsys, "custody", "show", SEAL, "--json")
    assert [e["action"] for e in out[0]["events"]] == ["seized"]

    code, hits, _ = run(capsys, "hits", "--case", CASE, "--json")
    assert code == 0 and len({h["item_id"] for h in hits}) == 2
    code, out, _ = run(capsys, "trace", str(hits[0]["item_id"]), "--json")
    assert code == 0
    t = out[0]
    seizure = t["seizure"]
    assert seizure["seal_label"] == SEAL and seizure["imei"] == IMEI
    assert (seizure["place"], seizure["district"]) == ("House 4, Ward 7", "Pune")
    assert seizure["seized_from"] == {"person_id": r.person_id, "name": "Ravi Kumar"}
    assert t["raid_target"]["operation"]["name"] == "Op Nirbhay"
    assert t["case"]["name"] == CASE
    code, _, text = run(capsys, "trace", str(hits[0]["item_id"]))
    assert code == 0 and "seized from Ravi Kumar" in text and "Op Nirbhay" in text
    assert run(capsys, "trace", "999999")[0] == 3

    for action, at, by, to in CHAIN:
        args = ["custody", "add", SEAL, action, "--by", by, "--at", at, "--json"]
        args += ["--to", to] if to else []
        code, out, _ = run(capsys, *args)
        assert code == 0, action
        assert out[0]["flags"] == [] and out[0]["verification"][0]["result"] == "verified"
    code, out, _ = run(capsys, "custody", "show", SEAL, "--json")
    assert out[0]["chain"] == {"status": "ok", "events": 8, "reasons": []}

    with archive.open("ab") as f:  # the extraction on disk is changed
        f.write(b"tampered")
    code, out, err = run(
        capsys,
        "custody",
        "add",
        SEAL,
        "returned to store",
        "--by",
        "SI Rao",
        "--at",
        "2026-06-10T16:00",
        "--json",
    )
    assert code == 10 and "is recorded, but re-verification failed" in err
    assert out[0]["verification"][0]["result"] == "mismatch"
    assert out[0]["flags"][0].startswith("mismatch: evidence")
    code, _, text = run(
        capsys,
        "custody",
        "add",
        SEAL,
        "produced in court",
        "--by",
        "SI Rao",
        "--at",
        "2026-06-20T10:00",
    )
    assert code == 10 and "mismatch" in text and "FLAG" in text
    code, out, _ = run(capsys, "custody", "show", SEAL, "--json")
    assert out[0]["chain"]["status"] == "flagged" and len(out[0]["events"]) == 10
    code, _, text = run(capsys, "custody", "show", SEAL)
    assert code == 0 and "chain: flagged" in text
    code, _, err = run(capsys, "custody", "add", SEAL, "lost", "--by", "SI Rao")
    assert code == 2 and "not a custody action" in err


def test_evidence_link_and_handover_flag(env_for: Settings, tmp_path: Path, capsys) -> None:
    archive, _ = extraction_zip(tmp_path)
    assert run(capsys, "case", "create", CASE)[0] == 0
    assert _add_phone(capsys)[0] == 0
    code, out, _ = run(capsys, "scan", str(archive), "--case", CASE, "--workers", "0", "--json")
    evidence_id = str(out[-1]["evidence_id"])
    code, out, _ = run(capsys, "evidence", "link", evidence_id, "--seizure", SEAL, "--json")
    assert code == 0 and out[0]["linked"] is True
    code, _, text = run(capsys, "evidence", "link", evidence_id, "--seizure", SEAL)
    assert code == 0 and "already linked" in text
    assert run(capsys, "evidence", "link", "999", "--seizure", SEAL)[0] == 3

    run(capsys, "custody", "add", SEAL, "sealed", "--by", "SI Rao", "--at", "2026-03-01T13:00")
    code, _, err = run(capsys, "custody", "add", SEAL, "transferred", "--by", "SI Rao")
    assert code == 2 and "--to NAME" in err
    run(
        capsys,
        "custody",
        "add",
        SEAL,
        "transfer",
        "--by",
        "SI Rao",
        "--to",
        "HC Patil",
        "--at",
        "2026-03-02T10:00",
    )
    code, out, _ = run(
        capsys,
        "custody",
        "add",
        SEAL,
        "received",
        "--by",
        "Dr Mehta",
        "--at",
        "2026-03-03T10:00",
        "--where",
        "FSL Pune",
        "--json",
    )
    assert code == 0
    assert out[0]["action"] == "received at lab" and out[0]["location"] == "FSL Pune"
    assert out[0]["flags"] == [
        "handover gap: transferred to HC Patil, but this event is by Dr Mehta"
    ]
    code, _, text = run(capsys, "seizure", "show", SEAL)
    assert "FLAG" in text and "handover gap" in text and "chain: flagged" in text
