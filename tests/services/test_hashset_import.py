"""Importing sets into the store: counts, rejections, new versions, round trips — on both DBs."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from raksha.errors import NotFoundError, UsageError
from raksha.services.hashsets import export_hashset, import_hashset, records_of
from raksha.store import hashset_import
from raksha.store.db import Store
from raksha.store.hashset_repo import delete_set, get_set, list_imports, list_rejections
from raksha.store.models import pdq_removals_table, reference_hashes_table, staging_table
from tests.helpers import random_hex, record, write_typed, write_vics

RNG = random.Random(7)
MD5S = [random_hex(RNG, 32) for _ in range(20)]
SHA1S = [random_hex(RNG, 40) for _ in range(20)]
PDQS = [random_hex(RNG, 64) for _ in range(20)]


def _rows(store: Store, set_name: str) -> set[tuple[str, str, str | None]]:
    rh = reference_hashes_table
    sid = get_set(store, set_name).id
    with store.engine.connect() as conn:
        return {
            (r.algorithm, r.value, r.category)
            for r in conn.execute(select(rh).where(rh.c.set_id == sid))
        }


def test_typed_list_counts_and_rejections(store: Store, tmp_path: Path) -> None:
    path = write_typed(
        tmp_path / "own-finds.txt",
        [
            f"pdq {PDQS[0]}",
            f"md5 {MD5S[0].upper()}",
            "md5 not-a-hash",
            f"sha1 {SHA1S[0]}",
            f"pdq {PDQS[0]}",
            f"pdq {PDQS[1][:-2]}",
        ],
    )
    report = import_hashset(store, path, name="own", source_agency="State cyber wing")
    assert report.created and report.format_name == "typed"
    assert (report.added, report.duplicate, report.rejected) == (3, 1, 2)
    assert {r.where for r in report.rejections} == {"line 3", "line 6"}
    assert all(r.reason for r in report.rejections)
    assert ("md5", MD5S[0], None) in _rows(store, "own")  # upper-case hex normalised
    stored = list_rejections(store, report.import_id)
    assert [r["where"] for r in stored] == ["line 3", "line 6"]
    summary = get_set(store, "own")
    assert summary.counts == {"md5": 1, "sha1": 1, "pdq": 1}
    assert summary.pdq_threshold == 31 and summary.source_agency == "State cyber wing"
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(staging_table)).scalar() == 0


def test_new_version_adds_removes_recategorises_without_duplicates(
    store: Store, tmp_path: Path
) -> None:
    v1 = [record(f"M{i}", md5=MD5S[i], pdq=PDQS[i], category="1") for i in range(5)]
    import_hashset(store, write_vics(tmp_path / "v1.json", v1), name="vic", version="1")
    v2 = [record(f"M{i}", md5=MD5S[i], pdq=PDQS[i], category="1") for i in range(1, 4)]
    v2[0] = record("M1", md5=MD5S[1], pdq=PDQS[1], category="2")  # re-categorised
    v2.append(record("M9", md5=MD5S[9], category="3"))  # new
    report = import_hashset(store, write_vics(tmp_path / "v2.json", v2), name="vic", version="2")
    assert not report.created
    assert (report.added, report.updated, report.unchanged, report.removed) == (1, 2, 4, 4)
    rows = _rows(store, "vic")
    assert len(rows) == 7
    assert ("md5", MD5S[1], "2") in rows and ("pdq", PDQS[1], "2") in rows
    assert not any(v in (MD5S[0], MD5S[4], PDQS[0], PDQS[4]) for _, v, _ in rows)
    assert get_set(store, "vic").version == "2"
    with store.engine.connect() as conn:
        removed_pdq = conn.execute(select(func.count()).select_from(pdq_removals_table)).scalar()
    assert removed_pdq == 2  # PDQS[0] and PDQS[4], logged for the index
    assert [i.version for i in list_imports(store, get_set(store, "vic").id)] == ["1", "2"]
    again = import_hashset(store, tmp_path / "v2.json", name="vic", version="2")
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 7)


def test_append_mode_never_removes(store: Store, tmp_path: Path) -> None:
    import_hashset(store, write_typed(tmp_path / "a.txt", [f"md5 {MD5S[0]}"]), name="own")
    report = import_hashset(
        store, write_typed(tmp_path / "b.txt", [f"md5 {MD5S[1]}"]), name="own", mode="append"
    )
    assert (report.added, report.removed) == (1, 0)
    assert {v for _, v, _ in _rows(store, "own")} == {MD5S[0], MD5S[1]}


def test_a_killed_import_leaves_the_previous_version_intact(store: Store, tmp_path: Path) -> None:
    import_hashset(
        store, write_typed(tmp_path / "v1.txt", [f"md5 {m}" for m in MD5S[:5]]), name="s"
    )

    def die(_count: int) -> None:
        raise KeyboardInterrupt

    v2 = write_typed(tmp_path / "v2.txt", [f"md5 {m}" for m in MD5S[5:20]])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hashset_import, "BATCH_SIZE", 3)  # several batches are written first
        with pytest.raises(KeyboardInterrupt):
            import_hashset(store, v2, name="s", on_progress=die)
    assert {v for _, v, _ in _rows(store, "s")} == set(MD5S[:5])
    assert len(list_imports(store, get_set(store, "s").id)) == 1


def test_vics_export_round_trips(store: Store, tmp_path: Path) -> None:
    records = [
        record(
            f"M{i}",
            md5=MD5S[i],
            sha1=SHA1S[i],
            pdq=PDQS[i],
            category=str(i % 3),
            victim_identified=bool(i % 2),
            series=f"series-{i % 2}",
        )
        for i in range(6)
    ]
    import_hashset(store, write_vics(tmp_path / "in.json", records), name="orig")
    out = tmp_path / "out.json"
    with out.open("wb") as f:
        assert export_hashset(store, "orig", f, "vics") == 6
    import_hashset(store, out, name="copy")
    assert _rows(store, "orig") == _rows(store, "copy")
    back = {r.record_key: r for r in records_of(store, "copy")}
    assert back["M3"].victim_identified is True and back["M2"].series == "series-0"
    assert sorted(back["M1"].hashes) == sorted(
        [("md5", MD5S[1]), ("sha1", SHA1S[1]), ("pdq", PDQS[1])]
    )


def test_typed_export_round_trips(store: Store, tmp_path: Path) -> None:
    lines = [f"md5 {MD5S[0]}", f"sha1 {SHA1S[1]}", f"pdq {PDQS[2]}"]
    import_hashset(store, write_typed(tmp_path / "in.txt", lines), name="t")
    buf = io.BytesIO()
    assert export_hashset(store, "t", buf, "typed") == 3
    again = write_typed(tmp_path / "again.txt", buf.getvalue().decode().splitlines())
    import_hashset(store, again, name="t2")
    assert {(a, v) for a, v, _ in _rows(store, "t")} == {(a, v) for a, v, _ in _rows(store, "t2")}


def test_delete_logs_pdq_removals_and_missing_names_are_clear(store: Store, tmp_path: Path) -> None:
    import_hashset(
        store, write_typed(tmp_path / "x.txt", [f"pdq {PDQS[0]}", f"md5 {MD5S[0]}"]), name="x"
    )
    assert delete_set(store, "x") == 2
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pdq_removals_table)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(reference_hashes_table)).scalar() == 0
    with pytest.raises(NotFoundError, match="hashset list"):
        get_set(store, "x")
    with pytest.raises(NotFoundError):
        import_hashset(store, tmp_path / "missing.txt")
    with pytest.raises(UsageError):
        import_hashset(store, tmp_path / "x.txt", kind="bogus")


def test_category_scheme_and_override_are_recorded(store: Store, tmp_path: Path) -> None:
    path = write_vics(tmp_path / "s.json", [record("M1", md5=MD5S[0], category="0")])
    report = import_hashset(store, path, name="swapped", category_map="0=uncategorised")
    assert report.category_scheme == "projectvic"
    summary = get_set(store, "swapped")
    assert summary.category_labels["0"] == "uncategorised"
    assert summary.categories == {"0": 1}
