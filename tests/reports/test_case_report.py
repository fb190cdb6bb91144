"""The case report, PDF and HTML, on both databases: read back as text, every hit, device,
custody step and the method are there; the files' hashes are registered, in the sidecar,
audited; a changed report is caught."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from raksha import __version__
from raksha.cases import audit
from raksha.cases.actor import Actor
from raksha.errors import AccessDeniedError, NotFoundError, UsageError
from raksha.reports import service
from raksha.reports.case_model import (
    CaseReport,
    CaseSummary,
    CustodyStep,
    Device,
    Hit,
    MatchDetail,
    Method,
)
from raksha.reports.pdf import write_case_report_pdf
from raksha.reports.registry import SIDECAR_SUFFIX, verify_report
from raksha.store.case_models import audit_log_table, reports_table
from raksha.store.db import Store
from tests.reports.court_case import (
    ALTERED,
    CASE,
    FIR,
    IMEI,
    SEALS,
    SERIAL,
    SET_NAME,
    CourtCase,
)
from tests.reports.text import html_text, pdf_has_images, pdf_pages, pdf_text, section

ADMIN = Actor.local_setup()


def _generate(store: Store, tmp_path: Path) -> tuple[CaseReport, dict[str, Path]]:
    report, files = service.generate_case_report(store, ADMIN, CASE, tmp_path / "out")
    return report, {f.kind: Path(f.path) for f in files}


def _hit_blocks(text: str, count: int) -> list[str]:
    ends = ["5. Confirmed new material", "6. Chain of custody"]
    return [section(text, f"Hit {n}: ", [f"Hit {n + 1}: ", *ends]) for n in range(1, count + 1)]


@pytest.mark.parametrize("kind", ["case-pdf", "case-html"])
def test_every_hit_device_and_custody_step_is_in_the_report(
    court_case: CourtCase, store: Store, tmp_path: Path, kind: str
) -> None:
    report, files = _generate(store, tmp_path)
    text = pdf_text(files[kind]) if kind == "case-pdf" else html_text(files[kind])
    items = court_case.hit_items
    assert len(items) == 3  # the exact picture twice (phone and card), the resized one once
    blocks = _hit_blocks(text, len(items))
    by_locator = {h.locator: h for h in report.hits}
    for block, (item_id, matches) in zip(blocks, sorted(items.items()), strict=True):
        first = matches[0]
        assert first["locator"] in block and first["sha256"] in block and first["md5"] in block
        assert first["sha1"] in block and first["pdq"] in block
        assert by_locator[first["locator"]].item_id == item_id
        for m in matches:
            assert m["set_name"] == SET_NAME and SET_NAME in block
            assert f"{m['category']}: {m['category_label']}" in block
            assert m["ref_value"] in block
            words = "near" if m["match_kind"] == "pdq" else "exact"
            row = section(block, f"{words} ({m['match_kind']})", [m["ref_value"]])
            assert f" {m['distance']} " in row  # the distance sits in the same row
    near = [m for ms in items.values() for m in ms if m["match_kind"] == "pdq" and m["distance"]]
    assert near, "the resized picture matched at a non-zero distance"

    for seal in SEALS:
        assert seal in text
    assert IMEI in text and SERIAL in text and "Testmake T1" in text
    for root, ev in court_case.evidence.items():
        assert root in text and ev["container_sha256"] in text
    custody = section(text, "6. Chain of custody", ["7. Method"])
    for action in court_case.custody_actions:
        assert action in custody
    assert "Lab Clerk Test" in custody and "Cyber Forensic Lab, Kochi" in custody
    for flag in court_case.flags:
        assert flag in custody
    imaged = section(custody, "imaged", ["Seal"])
    phone = court_case.evidence["phone-image.zip"]
    assert (
        f"phone-image.zip (evidence {phone['id']}): verified (sha256) {phone['container_sha256']}"
        in imaged
    )
    card = court_case.evidence["card-image.zip"]
    mismatch = section(custody, f"Seal {SEALS[1]}", ["7. Method"])
    assert (
        f"card-image.zip (evidence {card['id']}): mismatch (sha256) {ALTERED} on record: "
        f"{card['container_sha256']}" in mismatch
    )
    accused = section(text, "2. Accused", ["3. Devices seized"])
    assert court_case.accused_label in accused
    assert all(account in accused for account in court_case.account_ids)
    case_part = section(text, "1. Case", ["2. Accused"])
    for value in (FIR, "Cyber PS Kochi City", "Ernakulam", "IT Act 2000 s.67B", "FIR registered"):
        assert value in case_part
    method = section(text, "7. Method", ["8. Integrity"])
    assert f"Raksha {__version__}" in method and "PDQ" in method and SET_NAME in method
    assert report.audit_head in text


def test_report_files_are_registered_with_their_sha256(
    court_case: CourtCase, store: Store, tmp_path: Path
) -> None:
    _, files = _generate(store, tmp_path)
    with store.engine.connect() as conn:
        rows = {r.kind: r for r in conn.execute(select(reports_table))}
        audited = [
            r.details
            for r in conn.execute(
                select(audit_log_table).where(audit_log_table.c.action == "report.generate")
            )
        ]
        assert audit.verify(conn).ok
    assert set(rows) == {"case-pdf", "case-html"}
    for kind, path in files.items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert rows[kind].sha256 == digest and rows[kind].size == path.stat().st_size
        assert rows[kind].case_id == court_case.case_id
        assert rows[kind].tool_version == __version__ and rows[kind].generated_by == "local"
        sidecar = path.with_name(path.name + SIDECAR_SUFFIX).read_text()
        assert sidecar == f"{digest}  {path.name}\n"  # sha256sum -c reads it
        assert {"kind": kind, "file": path.name, "sha256": digest}.items() <= next(
            d for d in audited if d["file"] == path.name
        ).items()
        assert verify_report(store, path).ok


def test_verify_finds_a_modified_report_and_accepts_a_moved_copy(
    court_case: CourtCase, store: Store, tmp_path: Path
) -> None:
    _, files = _generate(store, tmp_path)
    html = files["case-html"]
    copy = shutil.copy(html, tmp_path / "copy-for-court.html")
    result = verify_report(store, Path(copy), actor=ADMIN)
    assert result.ok and result.registered is not None and result.registered.kind == "case-html"

    html.write_text(html.read_text().replace(SEALS[0], "KOC/999/FAKE"))
    result = verify_report(store, html, actor=ADMIN)
    assert not result.ok
    assert result.problems[0].startswith("modified: the registry holds SHA-256")
    assert any("sidecar" in p for p in result.problems)

    stranger = tmp_path / "stranger.pdf"
    stranger.write_bytes(b"%PDF-1.4 not ours")
    assert verify_report(store, stranger).problems[0].startswith("not registered")
    with pytest.raises(NotFoundError):
        verify_report(store, tmp_path / "missing.pdf")
    with store.engine.connect() as conn:
        checks = (
            conn.execute(
                select(audit_log_table.c.details).where(audit_log_table.c.action == "report.verify")
            )
            .scalars()
            .all()
        )
    assert [c["ok"] for c in checks] == [True, False]


def test_the_report_holds_no_imagery_and_numbers_its_pages(
    court_case: CourtCase, store: Store, tmp_path: Path
) -> None:
    _, files = _generate(store, tmp_path)
    assert not pdf_has_images(files["case-pdf"])
    html = files["case-html"].read_text()
    assert "<img" not in html and "data:image" not in html and "<script" not in html
    assert "http://" not in html and "https://" not in html  # nothing fetched from anywhere
    pages = pdf_pages(files["case-pdf"])
    for number, page in enumerate(pages, start=1):
        assert f"page {number} of {len(pages)}" in page
        assert f"FIR {FIR}" in page and "generated" in page


def test_access_is_checked_on_the_case(court_case: CourtCase, store: Store, tmp_path: Path) -> None:
    analyst = Actor("ana", "analyst", user_id=9999)
    with pytest.raises(AccessDeniedError, match=r"report\.generate"):
        service.generate_case_report(store, analyst, CASE, tmp_path)
    investigator = Actor("ivan", "investigator", user_id=9999)
    with pytest.raises(AccessDeniedError, match="not assigned"):
        service.generate_case_report(store, investigator, CASE, tmp_path)
    supervisor = Actor("sue", "supervisor", user_id=9998)
    _, files = service.generate_case_report(store, supervisor, FIR, tmp_path, ["html"])
    assert [f.generated_by for f in files] == ["sue"]
    with pytest.raises(NotFoundError):
        service.generate_case_report(store, supervisor, "no such case", tmp_path)
    with pytest.raises(UsageError):
        service.generate_case_report(store, supervisor, CASE, tmp_path, ["docx"])
    assert not list(tmp_path.glob("*.docx"))


def _big_report(hits: int, steps: int) -> CaseReport:
    when = datetime(2026, 3, 1, tzinfo=UTC)
    case = CaseSummary(1, "Big case", None, "9/2026", "PS", "D", [], "trial", when, None, None)
    device = Device(
        1,
        "hard disk",
        "Make",
        "Model",
        "S1",
        None,
        "SEAL-BIG",
        None,
        None,
        None,
        None,
        when,
        None,
        None,
    )
    device.custody = [
        CustodyStep(i, "transferred", when, f"Officer {i}", None, "Store room", None, None)
        for i in range(steps)
    ]
    report_hits = []
    for n in range(1, hits + 1):
        digest = hashlib.sha256(str(n).encode()).hexdigest()
        hit = Hit(
            n,
            n,
            1,
            "disk.E01",
            "SEAL-BIG",
            f"disk.E01 > p1 > /Users/x/f{n:04d}.jpg",
            "file",
            1000 + n,
            "jpeg",
            digest[:32],
            digest[:40],
            digest,
            digest[::-1],
            100,
            when,
            "allocated",
        )
        hit.matches.append(
            MatchDetail(
                "Set",
                "reference",
                "sha256",
                "exact",
                "exact",
                0,
                None,
                digest,
                None,
                "1",
                "label",
                "new",
                None,
                None,
                None,
            )
        )
        report_hits.append(hit)
    method = Method("Raksha", __version__, "sqlite", [], 50, 31, 80)
    return CaseReport(
        case, [], [device], [], report_hits, [], method, when, "tester", "0:" + "0" * 64
    )


def test_long_tables_break_across_pages_whole(tmp_path: Path) -> None:
    report = _big_report(hits=40, steps=90)
    path = tmp_path / "big.pdf"
    write_case_report_pdf(report, path)
    pages = pdf_pages(path)
    assert len(pages) > 5
    text = " ".join(pages)
    for hit in report.hits:
        assert hit.sha256 is not None and hit.sha256 in text and hit.locator in text
    first = next(p for p in pages if "Officer 0 " in p)
    last = next(p for p in pages if "Officer 89 " in p)
    assert first != last  # the custody table runs over a page break...
    assert "Image hashes re-verified" in first and "Image hashes re-verified" in last  # ...header
    assert all(f"Officer {i} " in text for i in range(90))


def test_a_failed_registration_leaves_no_file_behind(
    court_case: CourtCase, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from raksha.reports import registry

    real = registry.register
    calls = []

    def flaky(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(registry, "register", flaky)
    with pytest.raises(OSError):
        service.generate_case_report(store, ADMIN, CASE, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []  # neither file, nor any sidecar
    with store.engine.connect() as conn:
        assert conn.execute(select(reports_table)).first() is None  # rolled back together
