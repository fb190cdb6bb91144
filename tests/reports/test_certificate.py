"""The s.65B / s.63 certificate: it states the case report's SHA-256 (the report cannot),
each evidence image by name and SHA-256, the computer and software, and leaves the
officers' lines blank; it covers the newest report only, and refuses a changed one."""

from __future__ import annotations

import hashlib
import socket
import time
from pathlib import Path

import pytest

from raksha import __version__
from raksha.cases.actor import Actor
from raksha.errors import NotFoundError
from raksha.reports import service
from raksha.reports.errors import ReportIntegrityError
from raksha.reports.registry import SIDECAR_SUFFIX, verify_report
from raksha.store.db import Store
from tests.reports.court_case import CASE, FIR, SEALS, CourtCase
from tests.reports.text import html_text, pdf_has_images, pdf_text, section

ADMIN = Actor.local_setup()


def _texts(files: list[Path]) -> dict[str, str]:
    return {p.suffix: pdf_text(p) if p.suffix == ".pdf" else html_text(p) for p in files}


def test_certificate_states_every_record_and_its_sha256(
    court_case: CourtCase, store: Store, tmp_path: Path
) -> None:
    _, reports = service.generate_case_report(store, ADMIN, CASE, tmp_path)
    cert, files = service.generate_certificate(store, ADMIN, CASE, tmp_path)
    assert [f.kind for f in files] == ["certificate-pdf", "certificate-html"]
    for suffix, text in _texts([Path(f.path) for f in files]).items():
        assert "65B(4)" in text and "63(4)" in text, suffix
        assert "Indian Evidence Act, 1872" in text and "Bharatiya Sakshya Adhiniyam, 2023" in text
        records = section(text, "1. The electronic records", ["2. The computer"])
        for r in reports:
            digest = hashlib.sha256(Path(r.path).read_bytes()).hexdigest()
            assert Path(r.path).name in records and digest in records  # the report's own hash
        for root, ev in court_case.evidence.items():
            assert root in records and ev["container_sha256"] in records
        computer = section(text, "2. The computer", ["3. Manner of production"])
        assert socket.gethostname() in computer and f"Raksha {__version__}" in computer
        assert cert.audit_head in computer
        assert all(seal in computer for seal in SEALS)
        manner = section(text, "3. Manner of production", ["4. Conditions"])
        assert "SHA-256" in manner and "without modification" in manner
        conditions = section(text, "4. Conditions", ["5. Signatures"])
        for words in ("used regularly", "regularly fed into", "operating properly", "reproduces"):
            assert words in conditions
        signatures = text[text.index("5. Signatures") :]
        assert "Part A" in signatures and "Part B: expert" in signatures
        for label in ("Name:", "Designation:", "Signature:", "Date:", "Place:"):
            assert signatures.count(label) == 2, (suffix, label)
        assert FIR in text
    pdf = Path(files[0].path)
    assert not pdf_has_images(pdf)
    assert verify_report(store, pdf).ok
    digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert pdf.with_name(pdf.name + SIDECAR_SUFFIX).read_text().startswith(digest)


def test_certificate_covers_the_newest_report_only(
    court_case: CourtCase, store: Store, tmp_path: Path
) -> None:
    _, old = service.generate_case_report(store, ADMIN, CASE, tmp_path)
    time.sleep(0.01)
    _, new = service.generate_case_report(store, ADMIN, CASE, tmp_path, ["pdf"])
    _, files = service.generate_certificate(store, ADMIN, CASE, tmp_path, ["html"])
    text = html_text(Path(files[0].path))
    assert new[0].sha256 in text and new[0].name in text
    assert all(r.sha256 not in text for r in old)
    assert "Raksha case report (HTML)" not in text


def test_certificate_needs_an_unchanged_report(
    court_case: CourtCase, store: Store, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match="report case"):
        service.generate_certificate(store, ADMIN, CASE, tmp_path)
    _, reports = service.generate_case_report(store, ADMIN, CASE, tmp_path)
    html = Path(next(r.path for r in reports if r.kind == "case-html"))
    html.write_text(html.read_text() + "<!-- edited -->")
    with pytest.raises(ReportIntegrityError, match="has changed"):
        service.generate_certificate(store, ADMIN, CASE, tmp_path / "certs")
    assert not (tmp_path / "certs").exists() or not list((tmp_path / "certs").iterdir())
    html.unlink()
    with pytest.raises(NotFoundError, match="is gone"):
        service.generate_certificate(store, ADMIN, CASE, tmp_path / "certs")
