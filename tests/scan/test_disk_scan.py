"""Scanning disk images into the store, on SQLite and PostgreSQL: hits on live, deleted and
carved pictures with where they lay; E01 acquisition hashes and --verify; the CLI; and a
scan killed mid-way that resumes without loss or duplicates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from raksha.cli.main import main
from raksha.hashing.crypto import digest_bytes
from raksha.hashing.pdq import pdq_from_bytes
from raksha.scan.pipeline import ScanOptions, ScanPipeline
from raksha.services.hashsets import import_hashset
from raksha.settings import Settings
from raksha.store.db import Store
from raksha.store.models import evidence_table, item_matches_table, items_table
from raksha.store.scan_repo import create_case, item_count
from raksha.synthetic import images as synth
from tests.sources import disk_builders as b

KNOWN = {
    "/DCIM/Camera/IMG_0001.jpg": 501,  # live
    "/DCIM/Camera/IMG_0002.jpg": 502,  # deleted (mdel)
    "/Pictures/wiped.jpg": 503,  # deleted and its entry wiped: only carving finds it
}


def _reference_set(path: Path, seeds: list[int]) -> Path:
    lines = []
    for seed in seeds:
        data = b.jpeg(seed)
        lines.append(f"md5 {digest_bytes(data).md5}")
        lines.append(f"pdq {pdq_from_bytes(data).value}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def seized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(raw disk, its E01, the reference set): FAT with live/deleted/wiped known pictures,
    ext4 with a deleted known picture, unrelated pictures beside them."""
    tmp = tmp_path_factory.mktemp("seized")
    files = {path: b.jpeg(seed) for path, seed in KNOWN.items()}
    files["/DCIM/Camera/IMG_0003.jpg"] = b.jpeg(600)  # unrelated
    fat = b.fat_volume(tmp / "fat.img", files)
    b.fat_delete(fat, "/DCIM/Camera/IMG_0002.jpg")
    b.fat_wipe_entry(fat, "/Pictures/wiped.jpg")
    ext = b.ext_volume(
        tmp / "ext.img", {"/home/u/k.jpg": b.jpeg(504), "/home/u/x.jpg": b.jpeg(601)}
    )
    b.ext_delete(ext, "/home/u/k.jpg")
    disk = b.partitioned(tmp / "phone.dd", [fat, ext])
    e01 = b.ewf(disk.image, tmp / "phone")
    refs = _reference_set(tmp / "refs.txt", [*KNOWN.values(), 504])
    return disk.image, e01, refs


def _scan(store: Store, tmp_path: Path, source: Path, **kw: object):
    options = ScanOptions(workers=kw.pop("workers", 0), **kw)  # type: ignore[arg-type]
    return ScanPipeline(store, tmp_path / "index", options).run("c1", source)


def test_scan_finds_live_deleted_and_carved_known_pictures(
    store: Store, tmp_path: Path, seized: tuple[Path, Path, Path]
) -> None:
    image, _, refs = seized
    import_hashset(store, refs, name="ref")
    create_case(store, "c1")
    result = _scan(store, tmp_path, image, workers=1)
    assert result.status == "completed"
    assert result.failures == []
    assert result.counts.hits == 4
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(items_table.c.locator, items_table.c.allocation, items_table.c.data_offset)
            .join(item_matches_table)
            .distinct()
        ).all()
        ev = conn.execute(select(evidence_table)).one()
    by_allocation = {r.allocation: r for r in rows}
    assert sorted(r.allocation for r in rows) == ["allocated", "carved", "deleted", "deleted"]
    carved = by_allocation["carved"]
    assert carved.locator == f"phone.dd > [carved jpeg @ {carved.data_offset}]"
    assert image.read_bytes()[carved.data_offset :].startswith(b.jpeg(503))
    assert {r.locator for r in rows if r.allocation == "allocated"} == {
        "phone.dd > partition 1 @ 1048576 > /DCIM/Camera/IMG_0001.jpg"
    }
    assert ev.kind == "disk image" and ev.image_format == "raw"
    assert ev.media_size == image.stat().st_size
    assert ev.details["volume_system"] == "DOS (MBR)"
    assert [f["type"] for f in ev.details["file_systems"]] == ["FAT16", "ext4"]


def test_e01_acquisition_hashes_recorded_and_verified(
    store: Store, tmp_path: Path, seized: tuple[Path, Path, Path]
) -> None:
    image, e01, refs = seized
    import_hashset(store, refs, name="ref")
    create_case(store, "c1")
    result = _scan(store, tmp_path, e01, verify=True)
    assert result.verification is not None and result.verification.status == "verified"
    raw = image.read_bytes()
    with store.engine.connect() as conn:
        ev = conn.execute(select(evidence_table)).one()
    assert ev.image_format == "ewf"
    assert ev.acquisition_md5 == digest_bytes(raw).md5 == ev.verified_md5
    assert ev.acquisition_sha1 == digest_bytes(raw).sha1 == ev.verified_sha1
    assert ev.verification == "verified" and ev.verified_at is not None
    assert ev.details["acquisition_headers"]["evidence_number"] == "EX-1"
    assert result.counts.hits == 4


def test_raw_image_verify_records_the_hashes_read(
    store: Store, tmp_path: Path, seized: tuple[Path, Path, Path]
) -> None:
    image, _, _ = seized
    create_case(store, "c1")
    result = _scan(store, tmp_path, image, verify=True)
    assert result.verification is not None
    assert result.verification.status == "no stored hash"
    digests = digest_bytes(image.read_bytes())
    with store.engine.connect() as conn:
        ev = conn.execute(select(evidence_table)).one()
    assert (ev.verification, ev.verified_md5, ev.verified_sha1) == (
        "no stored hash",
        digests.md5,
        digests.sha1,
    )
    assert ev.container_sha256 == digests.sha256
    assert ev.acquisition_md5 is None


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")], err


def test_cli_verify_mismatch_is_loud_recorded_and_exits_10(
    env_for: Settings, tmp_path: Path, seized: tuple[Path, Path, Path], capsys
) -> None:
    _, e01, refs = seized
    tampered = tmp_path / "tampered.E01"
    raw = bytearray(e01.read_bytes())
    at = raw.find(b.jpeg(501)[300:364])
    raw[at] ^= 0x01
    tampered.write_bytes(bytes(raw))
    assert _run(capsys, "hashset", "import", str(refs), "--name", "ref")[0] == 0
    assert _run(capsys, "case", "create", "FIR 9/2026")[0] == 0
    code, out, err = _run(
        capsys,
        "scan",
        str(tampered),
        "--case",
        "FIR 9/2026",
        "--workers",
        "0",
        "--verify",
        "--json",
    )
    assert code == 10
    assert "does NOT match its acquisition hashes" in err
    summary = out[-1]
    assert summary["image"]["verification"]["status"] in ("mismatch", "unreadable")
    code, out, _ = _run(capsys, "evidence", "show", "--case", "FIR 9/2026", "--json")
    assert out[0]["image"]["verification"] in ("mismatch", "unreadable")
    # libewf hands back a chunk that fails its checksum as zeros; here that chunk held the
    # FAT directory too, so the pictures it named are found by carving instead. The scan
    # still ran to the end; the verification status is what tells the examiner.
    assert out[0]["image"]["items_by_allocation"]["carved"] >= 1

    code, out, _ = _run(
        capsys, "scan", str(e01), "--case", "FIR 9/2026", "--workers", "0", "--verify"
    )
    assert code == 0
    code, out, _ = _run(capsys, "hits", "--case", "FIR 9/2026", "--json")
    deleted = [h for h in out if h["allocation"] == "deleted" and h["source_path"].endswith(".E01")]
    assert deleted and all(h["inode"] for h in deleted)


def test_cli_text_output_shows_bracketed_locators(
    env_for: Settings, seized: tuple[Path, Path, Path], capsys
) -> None:
    image, _, refs = seized
    assert _run(capsys, "hashset", "import", str(refs), "--name", "ref")[0] == 0
    assert _run(capsys, "case", "create", "c")[0] == 0
    code, _, _ = _run(capsys, "scan", str(image), "--case", "c", "--workers", "0")
    assert code == 0
    code = main(["hits", "--case", "c"])
    out = capsys.readouterr().out
    assert code == 0
    assert "[carved jpeg @ " in out and "[deleted, inode " in out
    code = main(["scan", str(image), "--case", "c", "--workers", "0", "--no-carve"])
    assert code == 0  # a second run: everything is stored already


def test_no_carve_leaves_unallocated_space_alone(
    store: Store, tmp_path: Path, seized: tuple[Path, Path, Path]
) -> None:
    image, _, refs = seized
    import_hashset(store, refs, name="ref")
    create_case(store, "c1")
    result = _scan(store, tmp_path, image, carve=False)
    assert result.counts.hits == 3
    assert not any("[carved" in loc for loc, _ in result.hits)


# -- killed mid-scan ----------------------------------------------------------------------

FILES = 240


@pytest.fixture(scope="module")
def big_card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A FAT32 memory card with enough distinct pictures that a scan takes a few seconds."""
    tmp = tmp_path_factory.mktemp("card")
    pictures = [synth.jpeg_bytes(synth.photo_like(i, 640, 480)) for i in range(24)]
    files = {
        f"/DCIM/{i % 6:03d}/P{i:04d}.jpg": pictures[i % 24] + i.to_bytes(4, "big")
        for i in range(FILES)
    }
    card = b.fat_volume(tmp / "card.img", files, size_mib=64, bits=32)
    return card.image


@pytest.mark.slow
def test_killed_disk_image_scan_resumes_without_loss_or_duplicates(
    store: Store, settings: Settings, big_card: Path
) -> None:
    create_case(store, "c1")
    env = dict(os.environ, RAKSHA_HOME=str(settings.home))
    if settings.is_sqlite:
        env.pop("RAKSHA_DATABASE_URL", None)
    else:
        env["RAKSHA_DATABASE_URL"] = settings.database_url
    proc = subprocess.Popen(
        [sys.executable, "-m", "raksha", "scan", str(big_card), "--case", "c1", "-w", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while item_count(store) < 30:
        assert proc.poll() is None, proc.stderr.read()  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    stored = item_count(store)
    result = ScanPipeline(store, settings.index_dir, ScanOptions(workers=0)).run("c1", big_card)
    assert result.counts.already_stored == stored
    with store.engine.connect() as conn:
        total, distinct = conn.execute(
            select(func.count(), func.count(func.distinct(items_table.c.locator)))
        ).one()
        files = conn.execute(
            select(func.count()).where(
                items_table.c.kind == "file", items_table.c.sha256.is_not(None)
            )
        ).scalar_one()
    assert total == distinct
    assert files == FILES


def test_phone_extraction_folder_keeps_file_names_for_chat_linking(
    store: Store, tmp_path: Path
) -> None:
    """An Android extraction delivered as a folder tree scans as a folder: the WhatsApp
    media names (IMG-YYYYMMDD-WA0001.jpg) stay in the locators, ready to link to chats."""
    sdcard = tmp_path / "sdcard"
    media = sdcard / "WhatsApp" / "Media"
    names = {
        media / "WhatsApp Images" / "IMG-20191012-WA0001.jpg": b.jpeg(501),
        media / "WhatsApp Images" / "Sent" / "IMG-20191013-WA0002.jpg": b.jpeg(600),
        media / "WhatsApp Video" / "VID-20191012-WA0003.mp4": b"\x00\x00\x00\x18ftypmp42",
        sdcard / "DCIM" / "Camera" / "IMG_20191010_101010.jpg": b.jpeg(502),
        sdcard / "Telegram" / "Telegram Images" / "123_456.jpg": b.jpeg(601),
    }
    for path, data in names.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    refs = _reference_set(tmp_path / "refs.txt", [501, 502])
    import_hashset(store, refs, name="ref")
    create_case(store, "c1")
    result = _scan(store, tmp_path, sdcard)
    assert result.evidence.kind == "folder"
    assert {loc for loc, _ in result.hits} == {
        "sdcard > WhatsApp/Media/WhatsApp Images/IMG-20191012-WA0001.jpg",
        "sdcard > DCIM/Camera/IMG_20191010_101010.jpg",
    }
    with store.engine.connect() as conn:
        stored = set(conn.execute(select(items_table.c.locator)).scalars())
    expected = {f"sdcard > {p.relative_to(sdcard).as_posix()}" for p in names}
    assert expected <= stored
