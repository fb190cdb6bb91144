"""Benchmark: ingesting a large Telegram export, stage by stage.

    .venv/bin/python -m bench.bench_ingest [--messages 100000] [--media 5000] [--workers N]
        [--repeat 1] [--work DIR] [--keep] [--profile] [--profile-top 15]

What is measured, and why: a seized phone's Telegram Desktop export of one busy
supergroup easily holds 100,000 messages and thousands of photos, and ``raksha scan
EXPORT --case X`` must read it in flat memory and not spend longer on the chat side than
on hashing the media. So, in one run:

1. a single-chat export (``result.json`` as Telegram Desktop writes it, a public
   supergroup, written as a stream) is generated: ``--messages`` messages from ~200
   senders (``from_id`` ``user<N>``), ``--media`` of them with a photo (files drawn from a
   pool of 40 generated JPEGs of 320x240 to 640x480, each made distinct by a few unique
   bytes after the JPEG end), plus replies, forwards, edits and service messages (invites,
   joins by link); with it a reference hash set (``md5 <hex>`` lines) holding the MD5s of
   ~1 % of the photo files;
2. each stage is timed, every store a fresh SQLite one, inputs in the page cache:

   a. the reader alone: ``read_telegram(FolderTree(export))`` iterated to the end; the
      main process's RSS is sampled throughout, and its peak above the level before the
      read is reported (it must not grow with the number of messages);
   b. the chat writer: ``ChatWriter(...).write_all(read_telegram(...))`` for an evidence
      row made by hand (no scan, so attachments link to nothing); its time includes the
      reading, so "writing only" is (b) minus (a); the SQL statements it sends are counted;
   c. the full ingest as ``raksha scan`` runs it (``detect_export`` + ``ingest_export``:
      scan with ``--workers`` processes, chat writer, sightings query), with the reference
      set imported beforehand (untimed); split into scan (``ScanResult.seconds``),
      sightings (the same query run once more afterwards) and the chat side (the rest:
      the chat writer and whatever else ``ingest_export`` does).
      Its sightings must be exactly the planted photos;
   d. the same export ingested again into the same store: nothing is new.

``--repeat`` runs a-d that many times. ``--profile`` adds one cProfile'd chat-writer run
(main process) and prints its top entries.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import json
import random
import resource
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import ijson
from sqlalchemy import event

from bench.common import machine_line, print_profile
from raksha.chats.detect import detect_export
from raksha.chats.records import ChatMessage, ChatProblem
from raksha.chats.telegram import read_telegram
from raksha.chats.tree import FolderTree
from raksha.scan.executors import default_workers
from raksha.scan.pipeline import ScanOptions
from raksha.services.hashsets import import_hashset
from raksha.services.ingest import IngestResult, ingest_export
from raksha.settings import Settings
from raksha.store.chat_repo import iter_sightings
from raksha.store.chat_writer import ChatWriter
from raksha.store.db import Store
from raksha.store.scan_repo import create_case, get_or_create_evidence
from raksha.synthetic import images as synth

try:
    import psutil
except ImportError:  # pragma: no cover - psutil is optional
    psutil = None

MB = 1_000_000
MIB = 1024 * 1024
CASE = "bench"
SET_NAME = "bench-reference"
CHAT_ID = 1_987_654_321
CHAT_TITLE = "Bench Supergroup Gamma"
EXPORT_DIR = "ChatExport_2026-10-01"
START = int(datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp())
IST_SECONDS = 5 * 3600 + 1800  # Telegram Desktop writes ``date`` in the exporter's local time
SAMPLE_SECONDS = 0.02  # RSS sampling interval

POOL = 40
POOL_SIZES = [(320, 240), (480, 360), (640, 480), (360, 480)]
SENDERS = 200
PLANTED_SHARE = 0.01
SERVICE_SHARE = 0.01
REPLY_SHARE = 0.12
FORWARD_SHARE = 0.05
EDIT_SHARE = 0.03
LINK_SHARE = 0.04

FIRST_NAMES = [
    "Arun", "Bindu", "Chetan", "Deepa", "Eshan", "Farah", "Girish", "Hema", "Imran", "Jaya",
    "Kiran", "Lata", "Manoj", "Nisha", "Omkar", "Priya", "Rahul", "Sunita", "Tarun", "Usha",
]  # fmt: skip
LAST_INITIALS = "ABDGKMNPRS"
FORWARD_SOURCES = ["Demo News Relay", "Weather Updates Alpha", "Bench Deals Channel"]
TEXTS = [
    "see you at 5",
    "ok",
    "thanks",
    "who is coming tomorrow?",
    "the meeting moved to the community hall",
    "sharing the photos from today",
    "please check the last message",
    "noted",
    "good morning all",
    "bus leaves at 7:30 from the main gate",
    "can someone forward the list again",
    "done 👍",
]


# -- the export -------------------------------------------------------------------------------


@dataclass(slots=True)
class Export:
    """What was generated, for the checks and the report."""

    folder: Path
    hashset: Path
    messages: int = 0
    service: int = 0
    replies: int = 0
    forwards: int = 0
    media: int = 0
    planted: int = 0
    media_bytes: int = 0
    json_bytes: int = 0
    seconds: float = 0.0


def _local_date(unix: int) -> str:
    return datetime.fromtimestamp(unix + IST_SECONDS, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _picture_pool(seed: int) -> list[tuple[bytes, int, int]]:
    """(JPEG bytes, width, height) of each distinct picture."""
    pool = []
    for n in range(POOL):
        width, height = POOL_SIZES[n % len(POOL_SIZES)]
        pool.append((synth.jpeg_bytes(synth.photo_like(seed + n, width, height)), width, height))
    return pool


def _senders() -> list[tuple[str, str]]:
    """(``from_id``, display name) of each sender; names unique, as service messages need."""
    names = [f"{first} {last}." for last in LAST_INITIALS for first in FIRST_NAMES]
    return [(f"user{5_000_000 + n * 37}", names[n % len(names)]) for n in range(SENDERS)]


def _text(rng: random.Random) -> tuple[str | list[Any], list[dict[str, str]]]:
    """``text`` and ``text_entities``: mostly a plain string, sometimes with a link."""
    plain = rng.choice(TEXTS)
    if rng.random() >= LINK_SHARE:
        return plain, [{"type": "plain", "text": plain}]
    link = f"https://example.org/notice/{rng.randrange(10_000)}"
    parts: list[Any] = [f"{plain} ", {"type": "link", "text": link}]
    return parts, [{"type": "plain", "text": f"{plain} "}, {"type": "link", "text": link}]


def _service(
    rng: random.Random, head: dict[str, Any], senders: list[tuple[str, str]]
) -> dict[str, Any]:
    actor_id, actor = rng.choice(senders)
    message = {**head, "type": "service", "actor": actor, "actor_id": actor_id}
    if rng.random() < 0.5:
        invited = rng.sample(senders, rng.randint(1, 3))
        message["action"] = "invite_members"
        message["members"] = [name for _id, name in invited]
    else:
        message["action"] = "join_group_by_link"
        message["inviter"] = senders[0][1]  # the group's admin made the link
    message["text"] = ""
    message["text_entities"] = []
    return message


def _write_message(out: TextIO, message: dict[str, Any], first: bool) -> None:
    """One message as Telegram Desktop lays it out (indent 1, inside ``messages``)."""
    body = json.dumps(message, ensure_ascii=False, indent=1).replace("\n", "\n  ")
    out.write(("" if first else ",\n") + "  " + body)


def build_export(root: Path, messages: int, media: int, seed: int = 2026) -> Export:
    """The export folder and the reference set below ``root``; messages are streamed."""
    started = time.perf_counter()
    rng = random.Random(seed)
    folder = root / EXPORT_DIR
    (folder / "photos").mkdir(parents=True)
    export = Export(folder, root / "reference-md5.txt")
    pool = _picture_pool(seed)
    senders = _senders()
    with_photo = set(rng.sample(range(messages), media))
    planted_at = set(rng.sample(sorted(with_photo), max(1, round(media * PLANTED_SHARE))))
    unix = START
    with (
        (folder / "result.json").open("w", encoding="utf-8") as out,
        export.hashset.open("w", encoding="utf-8") as reference,
    ):
        reference.write("# synthetic reference set for bench_ingest: md5 of planted photos\n")
        out.write(
            "{\n"
            f' "name": {json.dumps(CHAT_TITLE)},\n'
            ' "type": "public_supergroup",\n'
            f' "id": {CHAT_ID},\n'
            ' "messages": [\n'
        )
        for i in range(messages):
            unix += rng.randint(5, 420)
            head: dict[str, Any] = {
                "id": i + 1,
                "type": "message",
                "date": _local_date(unix),
                "date_unixtime": str(unix),
            }
            if i not in with_photo and rng.random() < SERVICE_SHARE:
                message = _service(rng, head, senders)
                export.service += 1
            else:
                from_id, name = rng.choice(senders)
                message = {**head, "from": name, "from_id": from_id}
                if rng.random() < EDIT_SHARE:
                    edited = unix + rng.randint(30, 3600)
                    message["edited"] = _local_date(edited)
                    message["edited_unixtime"] = str(edited)
                if i > 0 and rng.random() < REPLY_SHARE:
                    message["reply_to_message_id"] = rng.randint(max(1, i - 200), i)
                    export.replies += 1
                elif rng.random() < FORWARD_SHARE:
                    message["forwarded_from"] = rng.choice(FORWARD_SOURCES)
                    export.forwards += 1
                if i in with_photo:
                    export.media += 1
                    picture, width, height = rng.choice(pool)
                    data = picture + b"\x00raksha-bench" + i.to_bytes(8, "big")
                    stamp = datetime.fromtimestamp(unix + IST_SECONDS, UTC)
                    relative = f"photos/photo_{export.media}@{stamp:%d-%m-%Y_%H-%M-%S}.jpg"
                    (folder / relative).write_bytes(data)  # after the JPEG EOI: still valid
                    export.media_bytes += len(data)
                    message["photo"] = relative
                    message["photo_file_size"] = len(data)
                    message["width"], message["height"] = width, height
                    if i in planted_at:
                        reference.write(f"md5 {hashlib.md5(data).hexdigest()}\n")
                        export.planted += 1
                    text, entities = ("", []) if rng.random() < 0.6 else _text(rng)
                else:
                    text, entities = _text(rng)
                message["text"] = text
                message["text_entities"] = entities
            _write_message(out, message, first=i == 0)
            export.messages += 1
            if (i + 1) % 20_000 == 0:
                print(f"  written {i + 1:,}/{messages:,} messages", flush=True)
        out.write("\n ]\n}\n")
    export.json_bytes = (folder / "result.json").stat().st_size
    export.seconds = time.perf_counter() - started
    return export


def warm(folder: Path) -> None:
    """Read every file of the export once (untimed), so each stage starts from the cache."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb", buffering=0) as f:
                while f.read(8 * MIB):
                    pass


# -- memory -----------------------------------------------------------------------------------


def rss_bytes() -> int:
    """The main process's resident set now (psutil), or its peak so far (getrusage)."""
    if psutil is not None:
        return int(psutil.Process().memory_info().rss)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


@dataclass(slots=True)
class RssWatch:
    """The RSS before a stage and the highest sample during it."""

    before: int = 0
    peak: int = 0
    samples: int = 0

    @property
    def increase_mib(self) -> float:
        return max(0, self.peak - self.before) / MIB


@contextmanager
def watch_rss() -> Iterator[RssWatch]:
    """Sample the main process's RSS in a thread while the body runs (workers not seen)."""
    gc.collect()
    seen = RssWatch(before=rss_bytes())
    seen.peak = seen.before
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(SAMPLE_SECONDS):
            seen.peak = max(seen.peak, rss_bytes())
            seen.samples += 1

    thread = threading.Thread(target=sample, name="rss-watch", daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()
        seen.peak = max(seen.peak, rss_bytes())


# -- the stages -------------------------------------------------------------------------------


@dataclass(slots=True)
class Stage:
    """One timed stage of one run."""

    name: str
    seconds: float
    messages: int
    rss: RssWatch | None = None
    media: int = 0  # photo files hashed and matched (full ingest) …
    scan_seconds: float = 0.0  # … in this many seconds of its scan
    statements: int = 0  # SQL statements sent (chat writer)
    notes: list[str] = field(default_factory=list)

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def media_per_s(self) -> float:
        return self.media / self.scan_seconds if self.scan_seconds else 0.0


def open_store(home: Path) -> tuple[Settings, Store]:
    home.mkdir(parents=True)
    settings = Settings(home, f"sqlite:///{home}/raksha.db")
    return settings, Store.open(settings)


@contextmanager
def count_statements(store: Store) -> Iterator[list[int]]:
    """Count the SQL statements the engine sends (an ``executemany`` counts once)."""
    counter = [0]

    def seen(*_args: Any) -> None:
        counter[0] += 1

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        yield counter
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)


def stage_reader(export: Export) -> Stage:
    """(a) ``read_telegram`` iterated to the end, nothing stored."""
    warm(export.folder)
    messages = problems = 0
    with watch_rss() as rss:
        started = time.perf_counter()
        for item in read_telegram(FolderTree(export.folder)):
            if isinstance(item, ChatMessage):
                messages += 1
            elif isinstance(item, ChatProblem):
                problems += 1
        seconds = time.perf_counter() - started
    stage = Stage("reader alone", seconds, messages, rss)
    if problems:
        stage.notes.append(f"{problems} problems")
    return stage


def stage_writer(export: Export, home: Path, profile: cProfile.Profile | None = None) -> Stage:
    """(b) ``ChatWriter.write_all`` over the reader, for an evidence row made by hand."""
    _settings, store = open_store(home)
    try:
        case = create_case(store, CASE)
        evidence = get_or_create_evidence(
            store,
            case.id,
            kind="telegram export",
            source_path=str(export.folder),
            root_locator=export.folder.name,
            container_sha256=None,
            container_size=None,
        )
        writer = ChatWriter(store, evidence.id, evidence.root_locator)
        warm(export.folder)
        events = read_telegram(FolderTree(export.folder))
        with watch_rss() as rss, count_statements(store) as statements:
            started = time.perf_counter()
            if profile is not None:
                counts = profile.runcall(writer.write_all, events)
            else:
                counts = writer.write_all(events)
            seconds = time.perf_counter() - started
    finally:
        store.close()
    stage = Stage("chat writer (reads too)", seconds, counts.messages, rss)
    stage.statements = statements[0]
    stage.notes.append(f"{statements[0]:,} SQL statements")
    if counts.new_messages != export.messages:
        stage.notes.append(f"✘ {counts.new_messages:,} new messages of {export.messages:,}")
    return stage


def _ingest(store: Store, settings: Settings, export: Export, workers: int | None) -> IngestResult:
    detected = detect_export(export.folder)
    if detected is None or detected.kind != "telegram":
        raise RuntimeError(f"{export.folder} was not recognised as a Telegram export")
    return ingest_export(store, settings.index_dir, CASE, detected, ScanOptions(workers=workers))


def stage_ingest(export: Export, home: Path, workers: int | None) -> tuple[Stage, Stage]:
    """(c) the full ingest into a fresh store, then (d) the same export once more."""
    settings, store = open_store(home)
    try:
        imported = import_hashset(store, export.hashset, name=SET_NAME)
        if imported.added != export.planted:
            raise RuntimeError(f"the set holds {imported.added} hashes, {export.planted} planted")
        create_case(store, CASE)
        warm(export.folder)
        with watch_rss() as rss:
            started = time.perf_counter()
            result = _ingest(store, settings, export, workers)
            seconds = time.perf_counter() - started
        scan = result.scan
        if scan.status != "completed":
            raise RuntimeError(f"the ingest's scan ended {scan.status}")
        started = time.perf_counter()
        again = list(iter_sightings(store, message_ids=result.counts.new_message_ids))
        sightings_s = time.perf_counter() - started
        media = scan.counts.images
        full = Stage("full ingest", seconds, result.counts.messages, rss, media, scan.seconds)
        chats_s = seconds - scan.seconds - sightings_s
        full.notes.append(
            f"scan {scan.seconds:.2f} s ({scan.counts.files:,} files, "
            f"{scan.counts.bytes / MB:,.0f} MB), chats and the rest {chats_s:.2f} s, "
            f"sightings {sightings_s:.2f} s"
        )
        found = len(result.new_sightings)
        ok = found == export.planted == scan.counts.hits == len(again)
        full.notes.append(
            f"{found} sightings of {export.planted} planted {'✔' if ok else '✘'}"
            + ("" if ok else f" (scan hits {scan.counts.hits}, query {len(again)})")
        )
        if media != export.media:
            full.notes.append(f"✘ the scan saw {media} images, {export.media} planted")
        if scan.failures:
            full.notes.append(f"{len(scan.failures)} scan failures, first {scan.failures[0]}")
        if result.problems:
            full.notes.append(f"{len(result.problems)} chat problems, first {result.problems[0]}")
        if result.counts.media != export.media or result.counts.media_missing:
            full.notes.append(
                f"✘ {result.counts.media} attachments, {result.counts.media_missing} missing"
            )

        warm(export.folder)
        with watch_rss() as rss_again:
            started = time.perf_counter()
            second = _ingest(store, settings, export, workers)
            seconds = time.perf_counter() - started
        repeat = Stage("re-ingest (nothing new)", seconds, second.counts.messages, rss_again)
        new = second.counts.new_messages
        fresh = len(second.new_sightings)
        verdict = "✔" if new == fresh == 0 else "✘"
        repeat.notes.append(
            f"scan {second.scan.seconds:.2f} s ({second.scan.counts.already_stored:,} already "
            f"stored); {new} new messages, {fresh} new sightings {verdict}"
        )
    finally:
        store.close()
    return full, repeat


# -- report -----------------------------------------------------------------------------------


def _rss_text(stage: Stage) -> str:
    return f"+{stage.rss.increase_mib:,.1f} MiB" if stage.rss is not None else ""


def print_stage(run: int, stage: Stage) -> None:
    rate = f"{stage.messages_per_s:9,.0f} msg/s"
    media = f", {stage.media_per_s:6,.0f} photos/s in the scan" if stage.media else ""
    print(
        f"  run {run} {stage.name:24} {stage.seconds:8.2f} s  {stage.messages:,} messages  "
        f"{rate}{media}  RSS {_rss_text(stage)}",
        flush=True,
    )
    for note in stage.notes:
        print(f"      {note}")


def print_markdown(
    runs: list[list[Stage]], args: argparse.Namespace, export: Export, workers: int
) -> None:
    print()
    print("## Ingesting a large Telegram export")
    print(
        f"`.venv/bin/python -m bench.bench_ingest --messages {args.messages} --media "
        f"{args.media} --repeat {args.repeat}"
        + (f" --workers {args.workers}" if args.workers is not None else "")
        + f"` — one generated Telegram Desktop single-chat export (public supergroup): "
        f"{export.messages:,} messages from {SENDERS} senders ({export.service:,} service "
        f"messages, {export.replies:,} replies, {export.forwards:,} forwards), "
        f"`result.json` {export.json_bytes / MB:,.1f} MB, {export.media:,} photos "
        f"({export.media_bytes / MB:,.1f} MB, JPEG 320×240 to 640×480, each distinct); "
        f"reference set of {export.planted} MD5s (~1 % of the photos). {workers} worker(s), "
        f"fresh SQLite store per stage (re-ingest: the same store), inputs in the page cache, "
        f"ijson backend `{ijson.backend}`. Photos/s: photo files hashed and matched "
        "per second of the ingest's scan. RSS: the main process's peak above its level "
        "before the stage (scan workers not included)."
    )
    print()
    print("| run | stage | seconds | messages/s | photos/s (scan) | peak RSS increase | notes |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for n, stages in enumerate(runs, 1):
        for s in stages:
            media = f"{s.media_per_s:,.0f}" if s.media else ""
            notes = "; ".join(s.notes)
            print(
                f"| {n} | {s.name} | {s.seconds:.2f} | {s.messages_per_s:,.0f} | {media} "
                f"| {_rss_text(s)} | {notes} |"
            )
    if len(runs) > 1:
        print()
        for i, name in enumerate(s.name for s in runs[0]):
            median = statistics.median(r[i].seconds for r in runs)
            print(f"- {name}: median {median:.2f} s")
    reader = statistics.median(r[0].seconds for r in runs)
    writer = statistics.median(r[1].seconds for r in runs)
    print()
    print(
        f"Chat writer alone (writer minus reader, medians): {writer - reader:.2f} s, "
        f"{export.messages / max(writer - reader, 1e-9):,.0f} messages/s."
    )
    print()
    print(f"Machine: {machine_line()}")


# -- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--media", type=int, default=5_000, help="messages carrying a photo")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--repeat", type=int, default=1, help="times to run stages a-d")
    parser.add_argument("--work", type=Path, default=None, help="default: a fresh temp dir")
    parser.add_argument("--keep", action="store_true", help="leave the work dir behind")
    parser.add_argument("--profile", action="store_true", help="cProfile one more writer run")
    parser.add_argument("--profile-top", type=int, default=15)
    args = parser.parse_args()
    if args.messages < 1 or not 1 <= args.media <= args.messages:
        parser.error("need --messages >= 1 and 1 <= --media <= --messages")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="raksha-bench-ingest-", dir=args.work))
    workers = args.workers if args.workers is not None else default_workers()
    try:
        print(f"work dir: {work}")
        print(f"generating {args.messages:,} messages, {args.media:,} photos…", flush=True)
        export = build_export(work, args.messages, args.media)
        print(
            f"export: {export.messages:,} messages ({export.service:,} service, "
            f"{export.replies:,} replies, {export.forwards:,} forwards), result.json "
            f"{export.json_bytes / MB:,.1f} MB, {export.media:,} photos "
            f"{export.media_bytes / MB:,.1f} MB, {export.planted} planted in the set "
            f"({export.seconds:.1f} s to generate, not measured)"
        )
        print(f"workers: {workers}" + (" (one per core)" if args.workers is None else ""))
        print(f"RSS from: {'psutil' if psutil is not None else 'getrusage (peak only)'}")

        runs: list[list[Stage]] = []
        for n in range(1, args.repeat + 1):
            stages = [stage_reader(export)]
            print_stage(n, stages[-1])
            stages.append(stage_writer(export, work / f"store-{n}-writer"))
            print_stage(n, stages[-1])
            full, repeat = stage_ingest(export, work / f"store-{n}-ingest", args.workers)
            for stage in (full, repeat):
                stages.append(stage)
                print_stage(n, stage)
            runs.append(stages)

        print_markdown(runs, args, export, workers)

        if args.profile:
            profile = cProfile.Profile()
            stage_writer(export, work / "store-profile", profile)
            print_profile(
                profile,
                args.profile_top,
                "one extra chat-writer run (reading included)",
                own_first=True,
            )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
