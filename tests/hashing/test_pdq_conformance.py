"""Our PDQ against Meta's own regression photos and reference hashes.

The photos (a bridge and ordinary scenes from ThreatExchange's ``pdq/data``) live outside
the repository, in ``shared/pdq-conformance`` beside the checkout, or wherever
``RAKSHA_PDQ_CONFORMANCE_DIR`` points; see its README. They are never copied in. Without
them the tests skip, except under CI, where a missing directory is a failure.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from raksha.hashing.pdq import dihedral_from_file, hamming, pdq_from_file

CONFORMANCE = 10
MATCH = 31


def _conformance_dir() -> Path:
    configured = os.environ.get("RAKSHA_PDQ_CONFORMANCE_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2].parent / "shared" / "pdq-conformance"


CONFORMANCE_DIR = _conformance_dir()


@dataclass(frozen=True)
class Row:
    path: Path
    expected_pdq: str
    quality: int


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    expected = CONFORMANCE_DIR / "expected.csv"
    if not expected.is_file():
        reason = (
            f"PDQ conformance data not found at {CONFORMANCE_DIR} (set RAKSHA_PDQ_CONFORMANCE_DIR)"
        )
        if os.environ.get("CI", "").lower() in {"true", "1", "yes"}:
            pytest.fail(reason)
        pytest.skip(reason)
    with expected.open(newline="") as handle:
        return [
            Row(CONFORMANCE_DIR / row["file"], row["expected_pdq"], int(row["quality"]))
            for row in csv.DictReader(handle)
        ]


def test_high_quality_images_are_within_conformance_of_the_reference(rows: list[Row]) -> None:
    checked = [row for row in rows if row.quality >= 80]
    assert len(checked) >= 10
    failures = []
    for row in checked:
        got = pdq_from_file(row.path)
        distance = hamming(got.value, row.expected_pdq)
        if distance > CONFORMANCE or got.quality < 80:
            failures.append(f"{row.path.name}: distance {distance}, quality {got.quality}")
    assert not failures, failures


def test_low_quality_images_are_flagged_low_information(rows: list[Row]) -> None:
    flat = [row for row in rows if row.quality < 50]
    assert len(flat) >= 3
    for row in flat:
        assert pdq_from_file(row.path).low_information, row.path.name


def test_every_dihedral_image_matches_the_original(rows: list[Row]) -> None:
    dih = CONFORMANCE_DIR / "images" / "reg-test-input" / "dih"
    # File name -> the DIHEDRAL_NAMES variant of the original that it is.
    variants = {
        "bridge-1-original.jpg": "original",
        "bridge-2-rotate-90.jpg": "rotate-90",
        "bridge-3-rotate-180.jpg": "rotate-180",
        "bridge-4-rotate-270.jpg": "rotate-270",
        "bridge-5-flipx.jpg": "flip-x",
        "bridge-6-flipy.jpg": "flip-y",
        "bridge-7-flip-plus-1.jpg": "flip-plus-1",
        "bridge-8-flip-minus-1.jpg": "flip-minus-1",
    }
    assert sorted(p.name for p in dih.glob("*.jpg")) == sorted(variants)
    original = dihedral_from_file(dih / "bridge-1-original.jpg")
    for name, variant in variants.items():
        found, distance = original.closest(pdq_from_file(dih / name).value)
        assert distance <= MATCH, name
        assert found == variant, name


def test_every_bridge_edit_matches_the_original(rows: list[Row]) -> None:
    mods = CONFORMANCE_DIR / "images" / "bridge-mods"
    original = pdq_from_file(mods / "aaa-orig.jpg")
    edits = sorted(path for path in mods.glob("*.jpg") if path.name != "aaa-orig.jpg")
    assert len(edits) == 11
    far = {
        p.name: d for p in edits if (d := hamming(pdq_from_file(p).value, original.value)) > MATCH
    }
    assert not far, far
