"""The Method section of a case report: which scans ran with which options and counts,
which hash sets (and which version of each) the files were compared with, the hash
algorithms and thresholds, and the tool's name and version. A court asks "how was this
found?"; this is the answer, read from the store like the rest of the report."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, func, select

from raksha import __version__
from raksha.hashing.pdq import MIN_MATCH_QUALITY
from raksha.matching.pdq_index import DEFAULT_THRESHOLD
from raksha.matching.video import DEFAULT_VIDEO_THRESHOLD
from raksha.reports.case_model import EvidenceImage, Method, ScanRun, SetUsed
from raksha.reports.formatting import as_utc
from raksha.store.models import (
    evidence_table,
    hash_sets_table,
    imports_table,
    item_matches_table,
    items_table,
    scans_table,
)

TOOL_NAME = "Raksha"
ALGORITHMS_USED = [
    "MD5, SHA-1 and SHA-256 of every file (cryptographic; a match is exact equality)",
    "PDQ of every picture (Meta's 256-bit perceptual hash; a match is a Hamming distance "
    "at or below the set's threshold)",
    "vPDQ of every video (PDQ of one frame a second; a match is the share of the video's "
    "frames that match)",
]

EV, IT, MT, HS = evidence_table, items_table, item_matches_table, hash_sets_table


def load_method(conn: Connection, case_id: int, evidence: dict[int, EvidenceImage]) -> Method:
    """What ran over the case's evidence, and against what."""
    scans = [
        ScanRun(
            scan_id=r.id,
            evidence_name=evidence[r.evidence_id].name,
            started_at=as_utc(r.started_at),
            finished_at=as_utc(r.finished_at),
            status=r.status,
            workers=r.workers,
            options=dict(r.options or {}),
            counts=dict(r.counts or {}),
        )
        for r in conn.execute(
            select(scans_table)
            .where(scans_table.c.evidence_id.in_(list(evidence) or [-1]))
            .order_by(scans_table.c.started_at, scans_table.c.id)
        )
    ]
    matches: dict[str, int] = defaultdict(int)
    for name, n in conn.execute(
        select(MT.c.set_name, func.count())
        .join(IT, IT.c.id == MT.c.item_id)
        .join(EV, EV.c.id == IT.c.evidence_id)
        .where(EV.c.case_id == case_id)
        .group_by(MT.c.set_name)
    ):
        matches[name] = int(n)
    last_import = (
        select(imports_table.c.set_id, func.max(imports_table.c.id).label("import_id"))
        .group_by(imports_table.c.set_id)
        .subquery("last_import")
    )
    sets = [
        SetUsed(
            name=r.name,
            kind=r.kind,
            version=r.version,
            source_agency=r.source_agency,
            category_scheme=r.category_scheme,
            pdq_threshold=r.pdq_threshold,
            video_threshold=r.video_threshold or DEFAULT_VIDEO_THRESHOLD,
            active=r.active,
            last_import_sha256=r.source_sha256,
            last_import_at=as_utc(r.finished_at),
            case_matches=matches.pop(r.name, 0),
        )
        for r in conn.execute(
            select(HS, imports_table.c.source_sha256, imports_table.c.finished_at)
            .outerjoin(last_import, last_import.c.set_id == HS.c.id)
            .outerjoin(imports_table, imports_table.c.id == last_import.c.import_id)
            .order_by(HS.c.name)
        )
    ]
    for gone, n in sorted(matches.items()):  # sets deleted since: their hits still count
        sets.append(
            SetUsed(gone, "deleted", None, None, "?", DEFAULT_THRESHOLD, 0, False, None, None, n)
        )
    return Method(
        tool=TOOL_NAME,
        version=__version__,
        database=conn.dialect.name,
        algorithms=list(ALGORITHMS_USED),
        pdq_min_quality=MIN_MATCH_QUALITY,
        default_pdq_threshold=DEFAULT_THRESHOLD,
        default_video_threshold=DEFAULT_VIDEO_THRESHOLD,
        scans=scans,
        sets=sets,
    )
