"""Matching against the store: exact and PDQ, per-set thresholds, an index that follows changes."""

from __future__ import annotations

import random
from pathlib import Path

from raksha.matching.matcher import Matcher, Query
from raksha.matching.store_index import StoreIndex
from raksha.services.hashsets import import_hashset
from raksha.store.db import Store
from raksha.store.hashset_repo import delete_set
from tests.helpers import flip_bits, random_hex, record, write_typed, write_vics

RNG = random.Random(11)
PDQS = [random_hex(RNG, 64) for _ in range(50)]
MD5S = [random_hex(RNG, 32) for _ in range(50)]


def _matcher(store: Store, tmp_path: Path, *, dihedral: bool = False) -> Matcher:
    return Matcher(store, tmp_path / "index", dihedral=dihedral)


def test_exact_and_pdq_hits_carry_set_category_and_distance(store: Store, tmp_path: Path) -> None:
    records = [
        record(f"M{i}", md5=MD5S[i], pdq=PDQS[i], category=str(1 + i % 3)) for i in range(30)
    ]
    import_hashset(store, write_vics(tmp_path / "vic.json", records), name="vic")
    near = flip_bits(PDQS[4], 17, RNG)
    far = flip_bits(PDQS[5], 40, RNG)
    results = _matcher(store, tmp_path).match(
        [Query("a", exact={"md5": MD5S[3]}), Query("b", pdq=near), Query("c", pdq=far)]
    )
    (exact,) = results[0].matches
    assert (exact.kind, exact.hit.set_name, exact.hit.record_key, exact.hit.category) == (
        "exact",
        "vic",
        "M3",
        "1",
    )
    assert exact.hit.category_label is not None  # the scheme's label for category 1
    (pdq,) = results[1].matches
    assert (pdq.kind, pdq.distance, pdq.hit.record_key) == ("pdq", 17, "M4")
    assert results[2].matches == []


def test_each_set_applies_its_own_threshold(store: Store, tmp_path: Path) -> None:
    lines = [f"pdq {PDQS[0]}"]
    import_hashset(
        store, write_typed(tmp_path / "strict.txt", lines), name="strict", pdq_threshold=10
    )
    import_hashset(
        store, write_typed(tmp_path / "loose.txt", lines), name="loose", pdq_threshold=40
    )
    import_hashset(store, write_typed(tmp_path / "std.txt", lines), name="std")
    matcher = _matcher(store, tmp_path)
    for distance, expected in (
        (8, {"strict", "loose", "std"}),
        (25, {"loose", "std"}),
        (35, {"loose"}),
    ):
        (result,) = matcher.match([Query("q", pdq=flip_bits(PDQS[0], distance, RNG))])
        assert {m.hit.set_name for m in result.matches} == expected, distance


def test_low_quality_hashes_are_not_matched_perceptually(store: Store, tmp_path: Path) -> None:
    import_hashset(store, write_typed(tmp_path / "s.txt", [f"pdq {PDQS[0]}"]), name="s")
    (result,) = _matcher(store, tmp_path).match([Query("q", pdq=PDQS[0], pdq_quality=30)])
    assert result.matches == []
    assert "quality 30" in result.notes[0]


def test_index_follows_set_changes_without_a_rebuild(store: Store, tmp_path: Path) -> None:
    import_hashset(
        store, write_typed(tmp_path / "v1.txt", [f"pdq {p}" for p in PDQS[:10]]), name="s"
    )
    index = StoreIndex(store, tmp_path / "index" / "pdq")
    assert index.sync().built
    import_hashset(
        store, write_typed(tmp_path / "v2.txt", [f"pdq {p}" for p in PDQS[5:15]]), name="s"
    )
    again = StoreIndex(store, tmp_path / "index" / "pdq")  # a new process, say
    report = again.sync()
    assert (report.built, report.added, report.removed, report.entries) == (False, 5, 5, 10)
    matcher = _matcher(store, tmp_path)
    results = matcher.match([Query("old", pdq=PDQS[0]), Query("new", pdq=PDQS[14])])
    assert results[0].matches == [] and len(results[1].matches) == 1
    delete_set(store, "s")
    assert _matcher(store, tmp_path).match([Query("new", pdq=PDQS[14])])[0].matches == []


def test_index_of_another_database_is_rebuilt(store: Store, tmp_path: Path) -> None:
    import_hashset(store, write_typed(tmp_path / "a.txt", [f"pdq {PDQS[0]}"]), name="s")
    index = StoreIndex(store, tmp_path / "index" / "pdq")
    index.sync()
    meta_file = tmp_path / "index" / "pdq" / "manifest.json"
    text = meta_file.read_text()
    from raksha.store.db import store_id

    meta_file.write_text(text.replace(store_id(store), "0" * 32))
    report = StoreIndex(store, tmp_path / "index" / "pdq").sync()
    assert report.built and "another database" in report.reason


def test_known_file_sets_explain_but_never_flag(store: Store, tmp_path: Path) -> None:
    import_hashset(
        store, write_typed(tmp_path / "k.txt", [f"md5 {MD5S[0]}"]), name="os-files", kind="known"
    )
    (result,) = _matcher(store, tmp_path).match([Query("q", exact={"md5": MD5S[0]})])
    assert len(result.matches) == 1 and result.flagged == []
