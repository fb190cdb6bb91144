"""Videos in a scan, on SQLite and PostgreSQL: a known video found after re-encoding to
another codec and size and after trimming, a known image found inside a video at the
second it is shown, unrelated videos left alone, and a video posted in a chat export
becoming a sighting."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from raksha.chats.detect import detect_export
from raksha.hashing.pdq import pdq_from_bytes
from raksha.hashing.video import vpdq_from_file
from raksha.scan.pipeline import ScanOptions, ScanPipeline
from raksha.services.hashsets import import_hashset
from raksha.services.ingest import ingest_export
from raksha.store.db import Store
from raksha.store.models import item_matches_table, items_table
from raksha.store.scan_repo import create_case
from raksha.synthetic import images as synth
from raksha.synthetic.chat_exports import TelegramChannel
from raksha.synthetic.videos import make_video, reencode, trim

STILL = synth.jpeg_bytes(synth.photo_like(4242, 640, 480), quality=90)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("videos")
    known = make_video(tmp / "known.mp4", seconds=12, fps=10, size=(320, 240), codec="h264", seed=7)
    evidence = tmp / "phone" / "Movies"
    evidence.mkdir(parents=True)
    reencode(known, evidence / "copy.webm", codec="libvpx-vp9", size=(240, 180))
    trim(known, evidence / "clip.mp4", 3.0, 9.0)
    make_video(
        evidence / "montage.mp4",
        seconds=10,
        fps=10,
        size=(320, 240),
        codec="h264",
        seed=99,
        inserts=[(4.0, 7.0, STILL)],
    )
    make_video(evidence / "other.mp4", seconds=8, fps=10, size=(320, 240), codec="h264", seed=31)
    sets = tmp / "sets"
    sets.mkdir()
    hashed = vpdq_from_file(known)
    (sets / "known-video.txt").write_text(
        "".join(f"{f.pdq},{f.quality},{f.timestamp:.3f}\n" for f in hashed.frames)
    )
    (sets / "stills.txt").write_text(f"pdq {pdq_from_bytes(STILL).value}\n")
    return {"known": known, "evidence": tmp / "phone", "sets": sets}


def _import_sets(store: Store, sets: Path) -> None:
    import_hashset(store, sets / "known-video.txt", name="videos")
    import_hashset(store, sets / "stills.txt", name="stills")


def test_known_video_reencoded_trimmed_and_known_image_inside(
    store: Store, tmp_path: Path, media: dict[str, Path]
) -> None:
    _import_sets(store, media["sets"])
    create_case(store, "c1")
    result = ScanPipeline(store, tmp_path / "index", ScanOptions(workers=1)).run(
        "c1", media["evidence"]
    )
    assert result.status == "completed" and result.failures == []
    assert result.counts.videos == 4
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                items_table.c.locator,
                item_matches_table.c.match_kind,
                item_matches_table.c.set_name,
                item_matches_table.c.query_share,
                item_matches_table.c.ref_share,
                item_matches_table.c.at_seconds,
            ).join(item_matches_table, item_matches_table.c.item_id == items_table.c.id)
        ).all()
        frames = dict(conn.execute(select(items_table.c.locator, items_table.c.vpdq)).all())
    by_file = {r.locator.rsplit("/", 1)[-1]: r for r in rows}
    assert set(by_file) == {"copy.webm", "clip.mp4", "montage.mp4"}
    for name in ("copy.webm", "clip.mp4"):
        row = by_file[name]
        assert (row.match_kind, row.set_name) == ("video", "videos")
        assert row.query_share >= 0.8, (name, row.query_share)
    assert by_file["copy.webm"].ref_share >= 0.8
    assert by_file["clip.mp4"].ref_share < 0.8  # half the known video: only its frames
    montage = by_file["montage.mp4"]
    assert (montage.match_kind, montage.set_name) == ("frame", "stills")
    assert 4.0 <= montage.at_seconds <= 7.0
    assert all(len(v) >= 5 for v in frames.values() if v is not None)


def test_a_video_posted_in_a_channel_is_a_sighting(
    store: Store, tmp_path: Path, media: dict[str, Path]
) -> None:
    _import_sets(store, media["sets"])
    create_case(store, "c1")
    channel = TelegramChannel("Video Channel", 1700000777)
    from datetime import UTC, datetime

    at = datetime(2026, 10, 3, 10, 0, tzinfo=UTC)
    channel.post(at, "clip", None)
    channel.posts[-1].update(
        {
            "file": "video_files/clip.mp4",
            "media_type": "video_file",
            "mime_type": "video/mp4",
            "file_name": "clip.mp4",
        }
    )
    channel.files["video_files/clip.mp4"] = (media["evidence"] / "Movies" / "clip.mp4").read_bytes()
    folder = tmp_path / "export"
    channel.export(folder, at)
    (folder / "video_files").mkdir(exist_ok=True)
    (folder / "video_files" / "clip.mp4").write_bytes(channel.files["video_files/clip.mp4"])
    export = detect_export(folder)
    assert export is not None
    result = ingest_export(store, tmp_path / "index", "c1", export, ScanOptions(workers=0))
    (sighting,) = result.new_sightings
    assert sighting["media_kind"] == "video" and sighting["match_kind"] == "video"
    assert sighting["chat"] == "Video Channel"


def test_hash_and_match_commands_on_videos(
    env_for: object, media: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from raksha.cli.main import main

    copy = media["evidence"] / "Movies" / "copy.webm"
    assert main(["hash", str(copy), "--json"]) == 0
    (hashed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert hashed["video_format"] == "webm" and len(hashed["vpdq"]) >= 8
    assert all(f["quality"] >= 0 and f["timestamp"] >= 0 for f in hashed["vpdq"])
    for name in ("known-video.txt", "stills.txt"):
        assert main(["hashset", "import", str(media["sets"] / name)]) == 0
    capsys.readouterr()
    assert main(["match", str(copy), "--json"]) == 0
    (result,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [m["kind"] for m in result["matches"]] == ["video"]
    assert "of this video's frames match" in result["notes"][0]
    montage = media["evidence"] / "Movies" / "montage.mp4"
    assert main(["match", str(montage)]) == 0
    out = capsys.readouterr().out
    assert "stills" in out and "at " in out
