"""Ingesting a chat export: its files scanned like any evidence, then its chats written.

Two passes that meet in the store: the scan hashes and matches every file of the export
(media included) exactly as ``raksha scan`` does for a folder or zip, resumably; then
the export's reader streams chats and messages to the chat writer, which links each
attachment to its scanned item by locator. Sightings are then a query. Running the same
ingest again (or a later export of the same chat) adds only what is new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import update

from raksha.chats.detect import DetectedExport
from raksha.scan.pipeline import ProgressCallback, ScanOptions, ScanPipeline, ScanResult
from raksha.services.referrals import link_referral_accounts
from raksha.store.chat_repo import iter_sightings
from raksha.store.chat_writer import ChatWriter, IngestCounts
from raksha.store.db import Store
from raksha.store.models import evidence_table

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestResult:
    kind: str
    scan: ScanResult
    counts: IngestCounts
    problems: list[tuple[str, str]]
    new_sightings: list[dict[str, Any]] = field(default_factory=list)


def ingest_export(
    store: Store,
    index_dir: Path,
    case: str,
    export: DetectedExport,
    options: ScanOptions | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> IngestResult:
    """Scan the export's files into ``case``, then write its chats; report new sightings."""
    try:
        scan = ScanPipeline(store, index_dir, options, on_progress=on_progress).run(
            case, export.scan_path
        )
        evidence = scan.evidence
        with store.engine.begin() as conn:
            conn.execute(
                update(evidence_table)
                .where(evidence_table.c.id == evidence.id)
                .values(kind=f"{export.kind} export")
            )
        writer = ChatWriter(store, evidence.id, evidence.root_locator)
        counts = writer.write_all(export.read())
    finally:
        export.close()
    link_referral_accounts(store)  # accounts new to the store may be named in referrals
    sightings = list(iter_sightings(store, message_ids=counts.new_message_ids))
    logger.info(
        "%s: %d messages (%d new), %d new sightings",
        export.scan_path,
        counts.messages,
        counts.new_messages,
        len(sightings),
    )
    return IngestResult(export.kind, scan, counts, writer.problems, sightings)
