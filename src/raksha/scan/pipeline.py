"""One scan: evidence in, items with hashes and matches stored, resumable at any point.

Flow (one way): the source yields items → batches go to worker processes for digests →
items whose digests hit a known-file set are skipped → images whose SHA-256 is new to
this scan go back for PDQ → the matcher → the single writer. Only finished items are
written, each batch in its own transaction and idempotently, so after Ctrl-C, ``kill -9``
or a power cut the same command continues where the store ends: stored items are skipped
by locator, nothing is hashed twice or stored twice.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from raksha.hashes import MD5, SHA1, SHA256
from raksha.hashing.crypto import digest_files
from raksha.locators import chain_locator, locator_key
from raksha.matching.matcher import Match, Matcher, Query
from raksha.matching.video import VideoFrame, VideoMatcher
from raksha.matching.video import VideoResult as VideoMatches
from raksha.scan.executors import BatchExecutor, make_executor
from raksha.scan.work import (
    DigestResult,
    PdqResult,
    VideoResult,
    WorkItem,
    digest_batch,
    pdq_batch,
    video_batch,
)
from raksha.sources.base import Source, SourceItem, SourceLimits
from raksha.sources.detect import open_source
from raksha.sources.disk_image import DiskImageSource
from raksha.sources.image_media import Verification, verify_media
from raksha.store.db import Store
from raksha.store.models import items_table
from raksha.store.scan_repo import (
    EvidenceRecord,
    finish_scan,
    get_case,
    get_or_create_evidence,
    record_image,
    record_verification,
    start_scan,
    stored_locator_keys,
)
from raksha.store.scan_writer import ItemRow, MatchRow, ScanWriter

logger = logging.getLogger(__name__)

IMAGE_TYPES = frozenset({"jpeg", "png", "gif", "webp", "bmp", "tiff", "heic"})
VIDEO_TYPES = frozenset(
    {"mp4", "mov", "3gp", "webm", "mkv", "avi", "flv", "ivf", "asf", "ts", "mpeg"}
)
#: Items that stand for a whole disk or partition: their size is not bytes of content.
CONTAINER_KINDS = frozenset({"image", "volume"})


@dataclass(slots=True)
class ScanOptions:
    workers: int | None = None  # None: one per core; 0: in this process
    batch_items: int = 32
    batch_bytes: int = 64 * 1024 * 1024
    dihedral: bool = False
    limits: SourceLimits = field(default_factory=SourceLimits)
    write_every: int = 256
    write_interval: float = 1.0  # seconds: finished items never wait longer to be stored
    video_every: float = 1.0  # videos: seconds between sampled frames
    verify: bool = False  # disk images: read the whole media back against its stored hashes
    carve: bool = True  # disk images: carve JPEG/PNG from unallocated space


@dataclass(slots=True)
class ScanCounts:
    files: int = 0
    bytes: int = 0
    images: int = 0
    hits: int = 0
    failed: int = 0
    known_skipped: int = 0
    already_stored: int = 0
    pdq_computed: int = 0
    pdq_reused: int = 0
    videos: int = 0
    video_frames: int = 0
    total_files: int | None = None
    total_bytes: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(slots=True)
class ScanResult:
    scan_id: int
    evidence: EvidenceRecord
    status: str
    counts: ScanCounts
    seconds: float
    failures: list[tuple[str, str]]
    hits: list[tuple[str, list[Match]]]
    image: dict[str, Any] | None = None
    verification: Verification | None = None


ProgressCallback = Callable[[ScanCounts], None]
VerifyCallback = Callable[[int, int], None]  # (bytes read, media size)


def estimate_folder(path: Path) -> tuple[int, int]:
    """Files and bytes below a folder (links not followed), for progress and ETA."""
    files = size = 0
    for root, _dirs, names in os.walk(path):
        for name in names:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            files += 1
            size += st.st_size
    return files, size


@dataclass(slots=True)
class _Pending:
    item: SourceItem
    locator: str
    digest: DigestResult | None = None
    pdq: PdqResult | None = None
    matches: list[Match] = field(default_factory=list)
    video: VideoResult | None = None
    video_matches: VideoMatches | None = None


class ScanPipeline:
    def __init__(
        self,
        store: Store,
        index_dir: Path,
        options: ScanOptions | None = None,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.store = store
        self.options = options or ScanOptions()
        self.matcher = Matcher(store, index_dir, dihedral=self.options.dihedral)
        self.video_matcher = VideoMatcher(self.matcher)
        self._waiting_video: dict[str, list[_Pending]] = {}  # sha256 -> items waiting
        self.on_progress = on_progress
        self.on_verify: VerifyCallback | None = None
        self.counts = ScanCounts()
        self.failures: list[tuple[str, str]] = []
        self.hits: list[tuple[str, list[Match]]] = []
        self._last_write = time.monotonic()
        self._source: object | None = None

    # -- set-up -----------------------------------------------------------------------------

    def _register(self, case_name: str, path: Path, source: Source) -> EvidenceRecord:
        case = get_case(self.store, case_name)
        container_sha256 = container_size = None
        if path.is_file():
            segments = source.segments if isinstance(source, DiskImageSource) else [str(path)]
            digests = digest_files(segments)  # before any content is read from it
            container_sha256, container_size = digests.sha256, digests.size
        kind = "folder" if path.is_dir() else "file"
        if isinstance(source, DiskImageSource):
            kind = "disk image"
        return get_or_create_evidence(
            self.store,
            case.id,
            kind=kind,
            source_path=str(path),
            root_locator=path.name,
            container_sha256=container_sha256,
            container_size=container_size,
        )

    def _known_pdq(self, evidence_id: int) -> dict[str, tuple[str, int]]:
        it = items_table
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(it.c.sha256, it.c.pdq, it.c.pdq_quality).where(
                    it.c.evidence_id == evidence_id, it.c.pdq.is_not(None)
                )
            )
            return {r.sha256: (r.pdq, r.pdq_quality) for r in rows}

    # -- the run ----------------------------------------------------------------------------

    def run(self, case_name: str, source_path: Path) -> ScanResult:
        started = time.monotonic()
        path = source_path.resolve()
        source = open_source(path, self.options.limits)
        self._source = source
        try:
            evidence = self._register(case_name, path, source)
            image = verification = None
            if isinstance(source, DiskImageSource):
                image, verification = self._image_facts(source, evidence)
            scan_id, status = self._run_scan(path, source, evidence)
        finally:
            source.close()
        return ScanResult(
            scan_id,
            evidence,
            status,
            self.counts,
            round(time.monotonic() - started, 3),
            self.failures,
            self.hits,
            image,
            verification,
        )

    def _image_facts(
        self, source: DiskImageSource, evidence: EvidenceRecord
    ) -> tuple[dict[str, Any], Verification | None]:
        """Record what the image says of itself; with ``verify``, read it all back."""
        acquired = source.acquisition()
        details = dict(source.summary)
        if acquired.headers:
            details["acquisition_headers"] = acquired.headers
        record_image(
            self.store,
            evidence.id,
            image_format=source.format,
            media_size=source.media.size,
            acquisition_md5=acquired.md5,
            acquisition_sha1=acquired.sha1,
            details=details,
        )
        details["acquisition_md5"], details["acquisition_sha1"] = acquired.md5, acquired.sha1
        if not self.options.verify:
            return details, None
        logger.info("verifying %s: reading %d bytes", source.path, source.media.size)
        read = [0]
        size = source.media.size

        def progress(n: int) -> None:
            read[0] += n
            if self.on_verify is not None:
                self.on_verify(read[0], size)

        result = verify_media(source.media, acquired, progress)
        record_verification(
            self.store, evidence.id, status=result.status, md5=result.md5, sha1=result.sha1
        )
        if result.status == "mismatch":
            logger.error(
                "%s does not match its acquisition hashes (stored md5 %s sha1 %s, read md5 %s "
                "sha1 %s)",
                source.path,
                acquired.md5,
                acquired.sha1,
                result.md5,
                result.sha1,
            )
        return details, result

    def _run_scan(self, path: Path, source: Source, evidence: EvidenceRecord) -> tuple[int, str]:
        executor = make_executor(self.options.workers)
        scan_id = start_scan(
            self.store,
            evidence.id,
            executor.workers,
            {
                "dihedral": self.options.dihedral,
                "max_depth": self.options.limits.max_depth,
                "verify": self.options.verify,
                "carve": self.options.carve,
            },
        )
        if path.is_dir():
            self.counts.total_files, self.counts.total_bytes = estimate_folder(path)
        elif evidence.container_size is not None and not isinstance(source, DiskImageSource):
            self.counts.total_bytes = evidence.container_size
        self.matcher.index.index  # noqa: B018 - open/sync the PDQ index before the clock runs
        writer = ScanWriter(self.store, evidence.id, scan_id)
        status = "interrupted"
        try:
            self._scan(source, evidence, executor, writer)
            status = "completed"
        finally:
            executor.shutdown(wait=status == "completed", cancel_futures=True)
            finish_scan(self.store, scan_id, status, self.counts.as_dict())
        return scan_id, status

    def _scan(
        self, source: Source, evidence: EvidenceRecord, executor: BatchExecutor, writer: ScanWriter
    ) -> None:
        done = stored_locator_keys(self.store, evidence.id)
        pdq_cache: dict[str, tuple[str, int]] = self._known_pdq(evidence.id)
        opts = self.options
        max_in_flight = max(2, 3 * max(executor.workers, 1))
        in_flight: dict[Future[Any], tuple[str, list[_Pending]]] = {}
        waiting_pdq: dict[str, list[_Pending]] = {}  # sha256 -> items waiting for its PDQ
        ready: list[_Pending] = []
        batch: list[_Pending] = []
        batch_bytes = 0

        def submit_digests() -> None:
            nonlocal batch, batch_bytes
            if batch:
                work = [WorkItem(i, p.item.payload) for i, p in enumerate(batch) if p.item.payload]
                in_flight[executor.submit(digest_batch, work)] = ("digest", batch)
                batch, batch_bytes = [], 0

        def drain(block: bool) -> None:
            while in_flight and (block or len(in_flight) >= max_in_flight):
                finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in finished:
                    stage, group = in_flight.pop(future)
                    if stage == "video":
                        self._after_video(group, future.result(), ready)
                    elif stage == "digest":
                        self._after_digests(
                            group,
                            future.result(),
                            executor,
                            in_flight,
                            waiting_pdq,
                            pdq_cache,
                            ready,
                        )
                    else:
                        self._after_pdq(group, future.result(), waiting_pdq, pdq_cache, ready)
                self._maybe_write(ready, writer)
                if not block:
                    break

        root = source.root_locator
        if isinstance(source, DiskImageSource):
            source.already_done = lambda locator: locator_key(locator) in done
            source.carve_free_space = opts.carve
        try:
            for item in source.items():
                locator = chain_locator(root, item.locator)
                if locator_key(locator) in done:
                    self.counts.already_stored += 1
                    continue
                pending = _Pending(item, locator)
                if item.payload is None:
                    ready.append(pending)
                    continue
                batch.append(pending)
                batch_bytes += item.size or 0
                if len(batch) >= opts.batch_items or batch_bytes >= opts.batch_bytes:
                    submit_digests()
                    drain(block=False)
                self._maybe_write(ready, writer)
            submit_digests()
            drain(block=True)
        finally:
            # Whatever finished is stored, even when the scan is being interrupted.
            self._write(ready, writer)

    def _after_digests(
        self,
        group: list[_Pending],
        results: list[DigestResult],
        executor: BatchExecutor,
        in_flight: dict[Future[Any], tuple[str, list[_Pending]]],
        waiting_pdq: dict[str, list[_Pending]],
        pdq_cache: dict[str, tuple[str, int]],
        ready: list[_Pending],
    ) -> None:
        for result in results:
            group[result.seq].digest = result
        ok = [p for p in group if p.digest is not None and p.digest.digests is not None]
        matched = self.matcher.match(
            [
                Query(
                    p.locator,
                    exact={
                        MD5: p.digest.digests.md5,
                        SHA1: p.digest.digests.sha1,
                        SHA256: p.digest.digests.sha256,
                    },
                )
                for p in ok
                if p.digest is not None and p.digest.digests is not None
            ]
        )
        need_pdq: list[_Pending] = []
        need_video: list[_Pending] = []
        for p, found in zip(ok, matched, strict=True):
            p.matches = found.matches
            assert p.digest is not None and p.digest.digests is not None
            known = any(m.hit.set_kind == "known" for m in found.matches)
            if not known and p.digest.file_type in VIDEO_TYPES:
                sha = p.digest.digests.sha256
                if sha in self._waiting_video:
                    self._waiting_video[sha].append(p)
                else:
                    self._waiting_video[sha] = [p]
                    need_video.append(p)
                continue
            if known or p.digest.file_type not in IMAGE_TYPES:
                ready.append(p)
                continue
            sha = p.digest.digests.sha256
            if sha in pdq_cache:
                value, quality = pdq_cache[sha]
                p.pdq = PdqResult(0, value, quality, None)
                self.counts.pdq_reused += 1
                self._match_pdq([p])
                ready.append(p)
            elif sha in waiting_pdq:
                waiting_pdq[sha].append(p)
                self.counts.pdq_reused += 1
            else:
                waiting_pdq[sha] = [p]
                need_pdq.append(p)
        for p in group:
            if p.digest is None or p.digest.digests is None:
                ready.append(p)
        if need_pdq:
            work = [WorkItem(i, p.item.payload) for i, p in enumerate(need_pdq) if p.item.payload]
            future = executor.submit(pdq_batch, work, self.options.dihedral)
            in_flight[future] = ("pdq", need_pdq)
        for p in need_video:  # one video a batch: they are long, and workers share them out
            assert p.item.payload is not None
            video_future = executor.submit(
                video_batch, [WorkItem(0, p.item.payload)], self.options.video_every
            )
            in_flight[video_future] = ("video", [p])

    def _after_video(
        self, group: list[_Pending], results: list[VideoResult], ready: list[_Pending]
    ) -> None:
        for result in results:
            first = group[result.seq]
            assert first.digest is not None and first.digest.digests is not None
            waiting = self._waiting_video.pop(first.digest.digests.sha256, [first])
            matched = self._match_video(result)
            for p in waiting:
                p.video, p.video_matches = result, matched
                ready.append(p)

    def _match_video(self, result: VideoResult) -> VideoMatches | None:
        self.counts.videos += 1
        self.counts.video_frames += len(result.frames)
        if not result.frames:
            return None
        return self.video_matcher.match([VideoFrame(*f) for f in result.frames])

    def _after_pdq(
        self,
        group: list[_Pending],
        results: list[PdqResult],
        waiting_pdq: dict[str, list[_Pending]],
        pdq_cache: dict[str, tuple[str, int]],
        ready: list[_Pending],
    ) -> None:
        finished: list[_Pending] = []
        for result in results:
            first = group[result.seq]
            assert first.digest is not None and first.digest.digests is not None
            sha = first.digest.digests.sha256
            self.counts.pdq_computed += 1
            if result.pdq is not None and result.quality is not None:
                pdq_cache[sha] = (result.pdq, result.quality)
            animated = self._match_video(result.video) if result.video is not None else None
            for p in waiting_pdq.pop(sha, [first]):
                p.pdq = result
                if result.video is not None:
                    p.video, p.video_matches = result.video, animated
                finished.append(p)
        self._match_pdq(finished)
        ready.extend(finished)

    def _match_pdq(self, group: list[_Pending]) -> None:
        with_pdq = [p for p in group if p.pdq is not None and p.pdq.pdq is not None]
        if not with_pdq:
            return
        results = self.matcher.match(
            [
                Query(p.locator, pdq=p.pdq.pdq, pdq_quality=p.pdq.quality, dihedral=p.pdq.dihedral)
                for p in with_pdq
                if p.pdq is not None
            ]
        )
        for p, result in zip(with_pdq, results, strict=True):
            p.matches.extend(result.matches)

    def _maybe_write(self, ready: list[_Pending], writer: ScanWriter) -> None:
        due = time.monotonic() - self._last_write >= self.options.write_interval
        if len(ready) >= self.options.write_every or (ready and due):
            self._write(ready, writer)

    def _write(self, ready: list[_Pending], writer: ScanWriter) -> None:
        self._last_write = time.monotonic()
        if not ready:
            return
        rows = [self._row(p) for p in ready]
        writer.write(rows)
        self._release(ready)
        ready.clear()
        if self.on_progress is not None:
            self.on_progress(self.counts)

    def _release(self, done: list[_Pending]) -> None:
        """Free the temporary copies of stored archive members, so a large archive needs
        temp space for what is in flight, not for all of it. Nested archives are kept until
        the source closes: their members may still be read from them."""
        release = getattr(self._source, "release", None)
        if release is None:
            return
        for p in done:
            if p.item.kind == "file" and p.item.payload is not None:
                release(p.item.payload)

    def _row(self, p: _Pending) -> ItemRow:
        item = p.item
        c = self.counts
        c.files += 1
        if item.kind not in CONTAINER_KINDS:
            c.bytes += item.size or 0
        row = ItemRow(
            locator=p.locator,
            locator_key=locator_key(p.locator),
            kind=item.kind,
            status="hashed",
            size=item.size,
            modified=item.modified,
            accessed=item.accessed,
            changed=item.changed,
            created=item.created,
            note=item.note,
            allocation=item.allocation,
            inode=item.inode,
            data_offset=item.offset,
        )
        error = item.error
        if p.digest is not None:
            error = error or p.digest.error
            row.file_type = p.digest.file_type
            if p.digest.digests is not None:
                d = p.digest.digests
                row.md5, row.sha1, row.sha256, row.size = d.md5, d.sha1, d.sha256, d.size
        if p.pdq is not None:
            row.pdq, row.pdq_quality = p.pdq.pdq, p.pdq.quality
            error = error or p.pdq.error
        if p.video is not None:
            row.vpdq = [list(f) for f in p.video.frames]
            row.video = p.video.info or None
            error = error or p.video.error
        if row.file_type in IMAGE_TYPES:
            c.images += 1
        if any(m.hit.set_kind == "known" for m in p.matches):
            row.status = "known"
            c.known_skipped += 1
        if error is not None:
            row.error = error
            row.status = "failed" if row.sha256 is None else "partial"
            c.failed += 1
            self.failures.append((p.locator, error))
        video = p.video_matches.as_matches() if p.video_matches is not None else []
        matches: list[tuple[Match, dict[str, float]]] = [(m, {}) for m in p.matches] + video
        flagged = [m for m, _ in matches if m.hit.set_kind == "reference"]
        if flagged:
            c.hits += 1
            self.hits.append((p.locator, flagged))
        row.matches = [_match_row(m, **extra) for m, extra in matches]
        return row


def _match_row(m: Match, **video: float) -> MatchRow:
    """The stored form of a match (``video``: the shares, or the second a frame shows)."""
    h = m.hit
    return MatchRow(
        ref_id=h.ref_id,
        set_name=h.set_name,
        set_kind=h.set_kind,
        algorithm=m.algorithm,
        match_kind=m.kind,
        distance=m.distance,
        variant=m.variant,
        ref_value=h.value,
        record_key=h.record_key,
        category=h.category,
        category_label=h.category_label,
        **video,
    )
