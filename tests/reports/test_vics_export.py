"""VICS 2.0 exports of a case's hits and of its new material: they parse, hold exactly
the expected hashes, and read back through the project's own VICS reader and importer.
Confirming new material refuses what a set already holds, and is audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from raksha.cases.actor import Actor
from raksha.errors import AccessDeniedError, NotFoundError, UsageError
from raksha.hashsets.records import ReferenceRecord, Rejection
from raksha.hashsets.vics import VicsReader
from raksha.reports import material, service
from raksha.reports.errors import NotNewMaterialError
from raksha.reports.vics_export import Which
from raksha.services.hashsets import import_hashset, records_of
from raksha.store.case_models import audit_log_table
from raksha.store.db import Store
from raksha.store.models import items_table
from tests.reports.court_case import CASE, FIR, CourtCase

ADMIN = Actor.local_setup()


def _export(store: Store, tmp_path: Path, which: Which) -> Path:
    out = tmp_path / f"{which}.json"
    ((report, count),) = service.export_vics(
        store, ADMIN, CASE, tmp_path, which=[which], out_file=out
    )
    assert Path(report.path) == out.resolve() and report.kind == f"vics-{which}"
    assert count == len(json.loads(out.read_text())["value"][0]["Media"])
    return out


def _hashes(media: dict[str, object]) -> set[tuple[str, str]]:
    out = {("md5", str(media["MD5"])), ("sha1", str(media["SHA1"]))}
    for alt in media.get("AlternativeHashes", []):  # type: ignore[attr-defined]
        out.add((alt["HashName"].lower(), alt["HashValue"]))
    return out


def _read_back(path: Path) -> list[ReferenceRecord]:
    events = list(VicsReader().read(path))
    assert not [e for e in events if isinstance(e, Rejection)]
    return [e for e in events if isinstance(e, ReferenceRecord)]


def test_hits_export_holds_exactly_the_matched_hashes(
    court_case: CourtCase, store: Store, tmp_path: Path
) -> None:
    path = _export(store, tmp_path, "hits")
    doc = json.loads(path.read_text())
    assert doc["@odata.context"].endswith("DataModels/2.0.xml/Default/$metadata#Cases")
    case = doc["value"][0]
    assert case["CaseNumber"] == FIR and case["SourceApplicationName"] == "Raksha"
    items = court_case.hit_items
    expected: dict[str, set[tuple[str, str]]] = {}
    for matches in items.values():
        m = matches[0]
        expected[m["sha256"]] = {("md5", m["md5"]), ("sha1", m["sha1"]), ("sha256", m["sha256"]),
                                 ("pdq", m["pdq"])}  # fmt: skip
    media = case["Media"]
    assert len(media) == len(expected) == 2  # the picture found twice is one record...
    by_sha = {dict(_hashes(m))["sha256"]: m for m in media}
    assert {k: _hashes(m) for k, m in by_sha.items()} == expected
    twice = next(m for m in media if len(m["MediaFiles"]) == 2)  # ...with both places
    locators = {
        h["locator"]
        for ms in items.values()
        for h in ms
        if h["sha256"] == dict(_hashes(twice))["sha256"]
    }
    assert {f["FilePath"] for f in twice["MediaFiles"]} == locators
    category = {m["sha256"]: int(m["category"]) for ms in items.values() for m in ms}
    assert {k: m["Category"] for k, m in by_sha.items()} == category
    assert all(m["IsPrecategorized"] is True for m in media)
    assert case["TotalMediaFiles"] == 2 and "Miniature" not in path.read_text()

    records = _read_back(path)
    assert {frozenset(r.hashes) for r in records} == {frozenset(v) for v in expected.values()}
    report = import_hashset(store, path, name="round trip")
    assert report.records_read == 2 and report.rejected == 0
    assert {frozenset(r.hashes) for r in records_of(store, "round trip")} == {
        frozenset(v) for v in expected.values()
    }


def test_new_material_is_exported_apart_from_the_hits(
    court_case: CourtCase, store: Store, tmp_path: Path
) -> None:
    assert json.loads(_export(store, tmp_path, "new").read_text())["value"][0]["Media"] == []
    rec = material.confirm_new(store, ADMIN, court_case.new_item_id, "1", "seen by two analysts")
    assert rec.category == "1" and rec.confirmed_by == "local"
    with store.engine.connect() as conn:
        item = conn.execute(select(items_table).where(items_table.c.id == rec.item_id)).one()
    path = _export(store, tmp_path, "new")
    (media,) = json.loads(path.read_text())["value"][0]["Media"]
    assert _hashes(media) == {("md5", item.md5), ("sha1", item.sha1), ("sha256", item.sha256),
                              ("pdq", item.pdq)}  # fmt: skip
    assert media["Category"] == 1 and media["IsPrecategorized"] is False
    assert "seen by two analysts" not in path.read_text()  # notes stay in Raksha
    (record,) = _read_back(path)
    assert set(record.hashes) == _hashes(media) and record.category == "1"
    hits = json.loads(_export(store, tmp_path, "hits").read_text())["value"][0]["Media"]
    assert item.sha256 not in json.dumps(hits)

    assert [m.item_id for m in material.list_new(store, ADMIN, court_case.case_id)] == [rec.item_id]
    material.withdraw(store, ADMIN, rec.item_id, "second look")
    assert material.list_new(store, ADMIN) == []
    with store.engine.connect() as conn:
        actions = conn.execute(
            select(audit_log_table.c.action, audit_log_table.c.details).where(
                audit_log_table.c.action.like("material.%")
            )
        ).all()
    assert [a for a, _ in actions] == ["material.confirm", "material.list", "material.withdraw",
                                       "material.list"]  # fmt: skip
    assert actions[0][1]["sha256"] == item.sha256


def test_confirm_refuses_what_a_set_already_holds(
    court_case: CourtCase, store: Store, tmp_path: Path
) -> None:
    matched = next(iter(court_case.hit_items))
    with pytest.raises(NotNewMaterialError, match="already matches the reference set"):
        material.confirm_new(store, ADMIN, matched)
    with pytest.raises(UsageError, match="not a VICS category"):
        material.confirm_new(store, ADMIN, court_case.new_item_id, "A1")
    with pytest.raises(NotFoundError):
        material.confirm_new(store, ADMIN, 999_999)
    with pytest.raises(AccessDeniedError):
        material.confirm_new(store, Actor("i", "investigator", 7), court_case.new_item_id)
    material.confirm_new(store, ADMIN, court_case.new_item_id)
    with pytest.raises(UsageError, match="already"):
        material.confirm_new(store, ADMIN, court_case.new_item_id)
    material.withdraw(store, ADMIN, court_case.new_item_id)
    with pytest.raises(NotFoundError):
        material.withdraw(store, ADMIN, court_case.new_item_id)

    # A set imported after the scan holds the picture now: it is not new any more.
    with store.engine.connect() as conn:
        md5 = conn.execute(
            select(items_table.c.md5).where(items_table.c.id == court_case.new_item_id)
        ).scalar_one()
    late = tmp_path / "late.txt"
    late.write_text(f"md5 {md5}\n")
    import_hashset(store, late, name="late set")
    with pytest.raises(NotNewMaterialError, match="late set"):
        material.confirm_new(store, ADMIN, court_case.new_item_id)


def test_vics_out_file_needs_one_kind(court_case: CourtCase, store: Store, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--hits-only or --new-only"):
        service.export_vics(store, ADMIN, CASE, tmp_path, out_file=tmp_path / "x.json")
    both = service.export_vics(store, ADMIN, CASE, tmp_path / "folder")
    assert [r.kind for r, _ in both] == ["vics-hits", "vics-new"]
    assert all(Path(r.path).parent == (tmp_path / "folder").resolve() for r, _ in both)
