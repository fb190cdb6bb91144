"""Scanning folders and archives: hits, integrity, dedup, known files, hostile input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from raksha.scan.pipeline import ScanOptions, ScanPipeline
from raksha.services.hashsets import import_hashset
from raksha.store.db import Store
from raksha.store.results_repo import evidence_summary, iter_hits
from raksha.store.scan_repo import create_case, item_count
from raksha.synthetic import images as synth
from tests.scan.evidence import build, snapshot, zip_of


def _scan(store: Store, tmp_path: Path, source: Path, case: str = "c1", **kw: object):
    options = ScanOptions(workers=kw.pop("workers", 0), **kw)  # type: ignore[arg-type]
    return ScanPipeline(store, tmp_path / "index", options).run(case, source)


def test_folder_scan_finds_known_and_altered_copies_and_changes_nothing(
    store: Store, tmp_path: Path
) -> None:
    ev = build(tmp_path)
    import_hashset(store, ev.set_file, name="ref")
    create_case(store, "c1")
    before = snapshot(ev.root)
    result = _scan(store, tmp_path, ev.root)
    assert snapshot(ev.root) == before
    assert result.status == "completed"
    hit_locators = {loc for loc, _ in result.hits}
    assert hit_locators == {str(p.relative_to(ev.root)) for p in ev.known} or hit_locators == {
        f"{ev.root.name} > {p.relative_to(ev.root)}" for p in ev.known
    }
    c = result.counts
    assert (c.files, c.images, c.hits, c.failed) == (11, 8, 4, 0)
    hits = list(iter_hits(store, 1))
    renamed = [h for h in hits if h["locator"].endswith(".dat")]
    assert renamed and all(h["file_type"] == "jpeg" for h in renamed)
    assert {h["match_kind"] for h in hits} == {"exact", "pdq"}
    (summary,) = evidence_summary(store, 1)
    assert summary["items_by_type"]["jpeg"] == 8 and summary["hits"][0]["items"] == 4


def test_archive_is_hashed_first_and_members_are_located_inside_it(
    store: Store, tmp_path: Path
) -> None:
    ev = build(tmp_path, unrelated=1, others=1)
    archive = zip_of(ev.root, tmp_path / "export.zip")
    import_hashset(store, ev.set_file, name="ref")
    create_case(store, "c1")
    result = _scan(store, tmp_path, archive, workers=1)
    import hashlib

    assert result.evidence.container_sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert result.counts.hits == 4
    assert all(" > " in loc or loc.startswith("DCIM") for loc, _ in result.hits)


def test_identical_content_is_perceptually_hashed_once(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "dupes"
    folder.mkdir()
    data = synth.jpeg_bytes(synth.photo_like(5, 640, 480))
    for i in range(5):
        (folder / f"copy{i}.jpg").write_bytes(data)
    create_case(store, "c1")
    result = _scan(store, tmp_path, folder)
    assert (result.counts.pdq_computed, result.counts.pdq_reused) == (1, 4)


def test_known_files_are_skipped_and_counted(store: Store, tmp_path: Path) -> None:
    ev = build(tmp_path, known=2, unrelated=0, others=2)
    from raksha.hashing.crypto import digest_file

    known = [digest_file(p).md5 for p in sorted((ev.root / "Documents").iterdir())]
    nsrl_like = tmp_path / "os-files.txt"
    nsrl_like.write_text("".join(f"md5 {m}\n" for m in known))
    import_hashset(store, nsrl_like, name="nsrl", kind="known")
    create_case(store, "c1")
    result = _scan(store, tmp_path, ev.root)
    assert result.counts.known_skipped == 2 and result.counts.hits == 0


def test_broken_and_hostile_input_is_recorded_and_the_scan_goes_on(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    good = synth.jpeg_bytes(synth.photo_like(1, 640, 480))
    (folder / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "fine.jpg").write_bytes(good)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../escape.txt", "outside")
        zf.writestr("ok.txt", "inside")
    (folder / "hostile.zip").write_bytes(buf.getvalue())
    create_case(store, "c1")
    result = _scan(store, tmp_path, folder)
    assert result.status == "completed"
    errors = dict(result.failures)
    assert any("truncated.jpg" in loc for loc in errors)
    assert any("escape" in loc for loc in errors)
    assert result.counts.files >= 5
    assert not (tmp_path / "escape.txt").exists()


def test_rescanning_stores_nothing_twice(store: Store, tmp_path: Path) -> None:
    ev = build(tmp_path, known=2, unrelated=2, others=1)
    import_hashset(store, ev.set_file, name="ref")
    create_case(store, "c1")
    first = _scan(store, tmp_path, ev.root)
    stored = item_count(store)
    second = _scan(store, tmp_path, ev.root)
    assert item_count(store) == stored == first.counts.files
    assert second.counts.files == 0 and second.counts.already_stored == stored


def test_temporary_copies_of_archive_members_are_freed_once_stored(
    store: Store, tmp_path: Path, monkeypatch
) -> None:
    from raksha.sources import base
    from raksha.sources.base import SourceLimits

    released: list[str] = []
    original = base.BaseSource.release

    def spy(self: base.BaseSource, payload: base.Payload) -> None:
        if isinstance(payload, base.FilePayload):
            released.append(payload.path)
        original(self, payload)

    monkeypatch.setattr(base.BaseSource, "release", spy)
    ev = build(tmp_path, known=2, unrelated=2, others=2)
    archive = zip_of(ev.root, tmp_path / "export.zip")
    import_hashset(store, ev.set_file, name="ref")
    create_case(store, "c1")
    limits = SourceLimits(inline_limit=0)  # every member goes through the temp area
    result = _scan(store, tmp_path, archive, limits=limits)
    assert result.counts.hits == 2 and result.counts.failed == 0
    members = result.counts.files - 1  # all but the archive itself
    assert len(released) == members
    assert not any(Path(p).exists() for p in released)
