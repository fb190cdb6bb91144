"""The one question: which reference entries does this file's hash match, and how closely?

Exact algorithms (MD5, SHA-1, SHA-256) are looked up in the store; PDQ goes through the
persisted exact index, searched at the largest threshold of any active set and then
filtered by each set's own threshold. Low-information PDQ hashes (quality < 50) are never
used for perceptual matching. The matcher knows nothing about cases or evidence: it takes
hashes and returns hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from raksha.hashes import EXACT_ALGORITHMS, PDQ
from raksha.hashing.pdq import DIHEDRAL_NAMES, MIN_MATCH_QUALITY
from raksha.matching.pdq_index import hex_to_array
from raksha.matching.store_index import StoreIndex
from raksha.store.db import Store
from raksha.store.hashset_repo import (
    ReferenceHit,
    hits_by_id,
    lookup_exact,
    max_pdq_threshold,
)


@dataclass(slots=True)
class Query:
    """The hashes of one file (or one hash a user typed) to match."""

    label: str
    exact: dict[str, str] = field(default_factory=dict)
    pdq: str | None = None
    pdq_quality: int | None = None
    dihedral: tuple[str, ...] | None = None


@dataclass(slots=True, frozen=True)
class Match:
    """One reference entry that a query matched."""

    kind: str  # "exact" | "pdq"
    algorithm: str
    distance: int
    hit: ReferenceHit
    variant: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = self.hit.as_dict()
        out.update(
            kind=self.kind, algorithm=self.algorithm, distance=self.distance, variant=self.variant
        )
        return out


@dataclass(slots=True)
class QueryResult:
    query: Query
    matches: list[Match]
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[Match]:
        """Matches against reference sets (known-file sets only explain, never flag)."""
        return [m for m in self.matches if m.hit.set_kind == "reference"]


class Matcher:
    """Matches batches of queries against every active set in a store."""

    def __init__(
        self,
        store: Store,
        index_dir: Path,
        *,
        dihedral: bool = False,
        dihedral_names: Sequence[str] = DIHEDRAL_NAMES,
    ) -> None:
        self.store = store
        self.index = StoreIndex(store, index_dir / "pdq")
        self.dihedral = dihedral
        self.dihedral_names = tuple(dihedral_names)
        self._search_threshold: int | None = None

    @property
    def search_threshold(self) -> int:
        """The largest threshold of any active set, read once, like the index's sync: a
        matcher answers from one snapshot of the sets (a scan asks it thousands of times)."""
        if self._search_threshold is None:
            self._search_threshold = max_pdq_threshold(self.store)
        return self._search_threshold

    def match(self, queries: Sequence[Query]) -> list[QueryResult]:
        results = [QueryResult(q, []) for q in queries]
        self._match_exact(results)
        self._match_pdq(results)
        for result in results:
            result.matches.sort(key=lambda m: (m.hit.set_name, m.distance, m.hit.ref_id))
        return results

    def _match_exact(self, results: list[QueryResult]) -> None:
        pairs = [
            (algorithm, value)
            for r in results
            for algorithm, value in r.query.exact.items()
            if algorithm in EXACT_ALGORITHMS
        ]
        if not pairs:
            return
        found = lookup_exact(self.store, pairs)
        for r in results:
            for algorithm, value in r.query.exact.items():
                for hit in found.get((algorithm, value), []):
                    r.matches.append(Match("exact", algorithm, 0, hit))

    def _match_pdq(self, results: list[QueryResult]) -> None:
        rows: list[str] = []
        owners: list[tuple[int, str | None]] = []
        for i, r in enumerate(results):
            q = r.query
            if q.pdq is None:
                continue
            if q.pdq_quality is not None and q.pdq_quality < MIN_MATCH_QUALITY:
                r.notes.append(
                    f"PDQ quality {q.pdq_quality} < {MIN_MATCH_QUALITY}: "
                    "too little information for perceptual matching"
                )
                continue
            if self.dihedral and q.dihedral:
                for name, value in zip(self.dihedral_names, q.dihedral, strict=True):
                    rows.append(value)
                    owners.append((i, None if name == "original" else name))
            else:
                rows.append(q.pdq)
                owners.append((i, None))
        if not rows:
            return
        index = self.index.index
        if len(index) == 0:
            return
        found = index.search(hex_to_array(rows), threshold=self.search_threshold)
        hits = hits_by_id(self.store, [int(x) for x in np.unique(found.ref_id)])
        best: dict[tuple[int, int], tuple[int, str | None]] = {}
        for row, ref_id, distance in zip(
            found.query_index.tolist(), found.ref_id.tolist(), found.distance.tolist(), strict=True
        ):
            hit = hits.get(ref_id)
            if hit is None or distance > hit.pdq_threshold:
                continue
            owner, variant = owners[row]
            key = (owner, ref_id)
            if key not in best or distance < best[key][0]:
                best[key] = (distance, variant)
        for (owner, ref_id), (distance, variant) in best.items():
            results[owner].matches.append(Match("pdq", PDQ, distance, hits[ref_id], variant))
