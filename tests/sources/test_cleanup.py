"""The private temporary area and open handles never outlive the source, however it ends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from raksha.sources import capture
from raksha.sources.base import FilePayload, SourceLimits
from raksha.sources.folder import FolderSource
from tests.sources.builders import random_bytes, tar_bytes, zip_bytes

SMALL_INLINE = SourceLimits(inline_limit=1024)


def _evidence(tmp_path: Path) -> Path:
    root = tmp_path / "ev"
    root.mkdir()
    members = [(f"big{i}.bin", random_bytes(i, 4096)) for i in range(4)]
    (root / "a.zip").write_bytes(zip_bytes(members))
    (root / "b.tgz").write_bytes(tar_bytes(members, "gz"))
    return root


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_temp_area_is_removed_on_close(tmp_path: Path) -> None:
    source = FolderSource(_evidence(tmp_path), SMALL_INLINE)
    items = list(source.items())
    temp = source.temp_path
    assert temp is not None and len(os.listdir(temp)) == 8
    assert all(isinstance(i.payload, FilePayload) for i in items)
    source.close()
    assert not os.path.exists(temp)
    source.close()  # twice is fine


def test_temp_area_is_removed_when_the_consumer_fails_mid_walk(tmp_path: Path) -> None:
    source = FolderSource(_evidence(tmp_path), SMALL_INLINE)
    temp = None
    with pytest.raises(RuntimeError, match="consumer broke"), source:
        for item in source.items():
            if " > " in item.locator:
                temp = source.temp_path
                raise RuntimeError("consumer broke")
    assert temp is not None and not os.path.exists(temp)


def test_temp_area_is_removed_when_reading_is_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real_finish = capture.Sink.finish

    def interrupted(self: capture.Sink) -> capture.Captured:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_finish(self)

    monkeypatch.setattr(capture.Sink, "finish", interrupted)
    source = FolderSource(_evidence(tmp_path), SMALL_INLINE)
    seen: list[str] = []
    temps: set[str | None] = set()
    with pytest.raises(KeyboardInterrupt):
        for item in source.items():
            seen.append(item.locator)
            temps.add(source.temp_path)
    assert seen == ["a.zip", "a.zip > big0.bin", "a.zip > big1.bin"]
    (temp,) = temps - {None}
    assert temp is not None and not os.path.exists(
        temp
    )  # removed by the walk itself, before any close()
    assert source.temp_path is None


def test_the_item_stream_is_a_context_manager_that_closes_the_source(tmp_path: Path) -> None:
    source = FolderSource(_evidence(tmp_path), SMALL_INLINE)
    with source.items() as items:
        first_member = next(i for i in items if " > " in i.locator)
        assert isinstance(first_member.payload, FilePayload)
        path = first_member.payload.path
        assert os.path.exists(path)
    assert not os.path.exists(path)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_abandoning_a_walk_closes_its_files(tmp_path: Path) -> None:
    root = _evidence(tmp_path)
    before = _open_fds()
    source = FolderSource(root, SMALL_INLINE)
    items = source.items()
    next(items)
    next(items)  # inside a.zip: the evidence file is open now
    assert _open_fds() > before
    source.close()
    assert _open_fds() == before


def test_release_deletes_only_private_temp_files(tmp_path: Path) -> None:
    root = _evidence(tmp_path)
    with FolderSource(root, SMALL_INLINE) as source:
        items = list(source.items())
        archive, member = items[0], items[1]
        assert isinstance(archive.payload, FilePayload) and isinstance(member.payload, FilePayload)
        source.release(archive.payload)  # evidence: left alone
        source.release(member.payload)
        assert os.path.exists(archive.payload.path)
        assert not os.path.exists(member.payload.path)
