"""A real scan process killed mid-way (kill -9 and Ctrl-C) resumes without loss or duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from raksha.scan.pipeline import ScanOptions, ScanPipeline
from raksha.settings import Settings
from raksha.store.db import Store
from raksha.store.models import items_table, scans_table
from raksha.store.scan_repo import create_case, item_count
from raksha.synthetic import images as synth

FILES = 400


@pytest.fixture(scope="module")
def laptop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Evidence big enough that a one-worker scan takes several seconds (read-only, shared)."""
    root = tmp_path_factory.mktemp("evidence") / "laptop"
    root.mkdir()
    pictures = [synth.jpeg_bytes(synth.photo_like(i, 640, 480)) for i in range(40)]
    for i in range(FILES):
        sub = root / f"dir{i % 7}"
        sub.mkdir(exist_ok=True)
        # Bytes after the JPEG end marker make every file distinct content (no PDQ reuse).
        data = pictures[i % len(pictures)] + i.to_bytes(4, "big")
        (sub / f"p{i:04d}.jpg").write_bytes(data)
    return root


def _start(settings: Settings, root: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, RAKSHA_HOME=str(settings.home))
    if settings.is_sqlite:
        env.pop("RAKSHA_DATABASE_URL", None)
    else:
        env["RAKSHA_DATABASE_URL"] = settings.database_url
    return subprocess.Popen(
        [sys.executable, "-m", "raksha", "scan", str(root), "--case", "c1", "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_items(store: Store, proc: subprocess.Popen[bytes], at_least: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        n = item_count(store)
        if n >= at_least:
            return n
        if proc.poll() is not None:
            pytest.fail(f"scan ended before it could be interrupted: {proc.stderr.read()!r}")  # type: ignore[union-attr]
        time.sleep(0.02)
    pytest.fail("the scan stored nothing within 60 s")


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_scan_resumes_without_loss_or_duplicates(
    store: Store, settings: Settings, laptop: Path, how: signal.Signals
) -> None:
    root = laptop
    create_case(store, "c1")
    proc = _start(settings, root)
    _wait_for_items(store, proc, 20)
    proc.send_signal(how)
    code = proc.wait(timeout=60)
    stored_after_kill = item_count(store)
    assert 0 < stored_after_kill < FILES, "the scan must be cut off part-way for this test"
    if how == signal.SIGINT:
        assert code == 130
        with store.engine.connect() as conn:
            status = conn.execute(select(scans_table.c.status)).scalar_one()
        assert status == "interrupted"
    else:
        assert code == -signal.SIGKILL
    result = ScanPipeline(store, settings.index_dir, ScanOptions(workers=0)).run("c1", root)
    assert result.counts.already_stored == stored_after_kill
    assert result.counts.files == FILES - stored_after_kill
    with store.engine.connect() as conn:
        total, distinct = conn.execute(
            select(func.count(), func.count(func.distinct(items_table.c.locator)))
        ).one()
        missing_hash = conn.execute(
            select(func.count()).where(items_table.c.sha256.is_(None))
        ).scalar_one()
    assert total == distinct == FILES
    assert missing_hash == 0
