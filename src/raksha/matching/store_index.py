"""Keeping the persisted PDQ index in step with the store, without full rebuilds.

The index on disk records, in its metadata, which database it follows (the store id),
the highest reference row id it holds and the last PDQ removal it applied. Opening it
reads only what changed since: rows with a higher id are added, logged removals are
tombstoned. A full build happens only when there is no index yet, it belongs to another
database, or it is damaged.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from raksha.errors import IndexFormatError
from raksha.hashes import PERCEPTUAL_ALGORITHMS
from raksha.matching.pdq_index import PdqIndex, hex_to_array
from raksha.store.db import Store, store_id
from raksha.store.models import pdq_removals_table, reference_hashes_table

logger = logging.getLogger(__name__)

RH = reference_hashes_table
CHUNK = 200_000


@dataclass(slots=True)
class SyncReport:
    """What opening the index had to do."""

    built: bool
    added: int
    removed: int
    entries: int
    seconds: float
    reason: str = ""


class StoreIndex:
    """The PDQ index of one store, persisted under ``directory``."""

    def __init__(self, store: Store, directory: Path) -> None:
        self.store = store
        self.directory = directory
        self._index: PdqIndex | None = None
        self._meta: dict[str, int | str] = {}
        self.last_sync: SyncReport | None = None

    @property
    def index(self) -> PdqIndex:
        """The index, opened and brought up to date on first use."""
        if self._index is None:
            self.sync()
        assert self._index is not None
        return self._index

    def sync(self) -> SyncReport:
        """Bring the index up to date with the store (loading or building it if needed)."""
        started = time.monotonic()
        sid = store_id(self.store)
        reason = ""
        if self._index is None:
            try:
                loaded = PdqIndex.load(self.directory)
            except IndexFormatError as exc:
                reason = str(exc) if (self.directory / "manifest.json").exists() else "no index yet"
                loaded = None
            if loaded is not None and loaded.metadata.get("store_id") != sid:
                reason = "the index on disk belongs to another database"
                loaded = None
            if loaded is None:
                return self._finish(self.rebuild(sid, reason), started)
            self._index = loaded
            self._meta = dict(loaded.metadata)
        added = self._add_new_rows()
        removed = self._apply_removals()
        index = self._index
        assert index is not None
        if index.needs_compaction():
            logger.info("compacting the PDQ index (%d entries)", len(index))
            self._index = index.compacted()
        if added or removed:
            self._save()
        return self._finish(
            SyncReport(False, added, removed, len(self._index), 0.0, reason), started
        )

    def _finish(self, report: SyncReport, started: float) -> SyncReport:
        report.seconds = round(time.monotonic() - started, 3)
        self.last_sync = report
        return report

    def rebuild(self, sid: str | None = None, reason: str = "rebuild asked for") -> SyncReport:
        """Build the index from every PDQ reference row in the store (image PDQ and the
        frames of reference videos: one search finds both)."""
        sid = sid or store_id(self.store)
        logger.info("building the PDQ index: %s", reason)
        with self.store.engine.connect() as conn:
            last_removal = conn.execute(select(func.max(pdq_removals_table.c.seq))).scalar() or 0
            ids, hashes = self._read_rows(0)
        self._index = PdqIndex.build(ids, hashes)
        self._meta = {
            "store_id": sid,
            "max_ref_id": int(ids.max()) if len(ids) else 0,
            "removal_seq": int(last_removal),
        }
        self._save()
        return SyncReport(True, len(ids), 0, len(self._index), 0.0, reason)

    def _read_rows(self, after_id: int) -> tuple[np.ndarray, np.ndarray]:
        id_parts: list[np.ndarray] = []
        hash_parts: list[np.ndarray] = []
        with self.store.engine.connect() as conn:
            result = conn.execution_options(yield_per=CHUNK).execute(
                select(RH.c.id, RH.c.value)
                .where(RH.c.algorithm.in_(sorted(PERCEPTUAL_ALGORITHMS)), RH.c.id > after_id)
                .order_by(RH.c.id)
            )
            for part in result.partitions(CHUNK):
                id_parts.append(np.fromiter((r[0] for r in part), dtype=np.int64, count=len(part)))
                hash_parts.append(hex_to_array([r[1] for r in part]))
        if not id_parts:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 32), dtype=np.uint8)
        return np.concatenate(id_parts), np.concatenate(hash_parts)

    def _add_new_rows(self) -> int:
        after = int(self._meta.get("max_ref_id", 0))
        ids, hashes = self._read_rows(after)
        if len(ids):
            assert self._index is not None
            self._index.add(ids, hashes)
            self._meta["max_ref_id"] = int(ids.max())
        return len(ids)

    def _apply_removals(self) -> int:
        after = int(self._meta.get("removal_seq", 0))
        prt = pdq_removals_table
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(prt.c.seq, prt.c.ref_id).where(prt.c.seq > after).order_by(prt.c.seq)
            ).all()
        if not rows:
            return 0
        assert self._index is not None
        self._index.remove(np.array([r.ref_id for r in rows], dtype=np.int64))
        self._meta["removal_seq"] = int(rows[-1].seq)
        return len(rows)

    def _save(self) -> None:
        assert self._index is not None
        self._index.save(self.directory, metadata=dict(self._meta))
