"""VICS 2.0 case files of a case's hits and of its confirmed new material, for INTERPOL
ICSE and Project VIC tools.

Two files, never one: the hits are material the world already knows (submitting them
tells ICSE where it was seen again); new material is what no reference set holds, which
analysts confirmed (``material``), and which ICSE's specialists will review to add.

Each Media record is one distinct file content (the same picture found at three places is
one record with three ``MediaFiles``), with the item's own MD5 and SHA-1 in their fields
and SHA-256 and PDQ in ``AlternativeHashes``, written by the same ``vics_media`` mapping
as ``raksha hashset export``, so the project's VICS reader reads the hashes back. Nothing
of the material itself is written: no ``Miniature``, no ``Exifs``, no analyst notes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, func, select

from raksha import __version__
from raksha.cases import audit
from raksha.hashes import MD5, PDQ, SHA1, SHA256
from raksha.hashsets.records import ReferenceRecord
from raksha.hashsets.writers import VICS_CONTEXT, vics_media
from raksha.locators import SEPARATOR
from raksha.reports.case_data import case_summary
from raksha.reports.case_method import TOOL_NAME
from raksha.reports.formatting import NEAR_KINDS
from raksha.store.case_models import new_material_table, seizures_table
from raksha.store.models import (
    evidence_table,
    hash_sets_table,
    iso_utc,
    item_matches_table,
    items_table,
)

Which = Literal["hits", "new"]
EV, IT, MT, NM = evidence_table, items_table, item_matches_table, new_material_table
_MIME = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "heic": "image/heic",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
    "3gp": "video/3gpp",
}


@dataclass(slots=True)
class ExportMedia:
    """One distinct content: its hashes, category and every place it was found."""

    key: str
    hashes: list[tuple[str, str]]
    size: int | None
    file_type: str | None
    category: str | None
    source: str | None
    files: list[dict[str, Any]] = field(default_factory=list)
    rank: tuple[int, int] = (9, 1 << 30)  # how good the match that set the category is


def _file_entry(row: Any) -> dict[str, Any]:
    name = row.locator.rsplit(SEPARATOR, 1)[-1].rsplit("/", 1)[-1]
    entry: dict[str, Any] = {"FileName": name, "FilePath": row.locator}
    if row.md5:
        entry["MD5"] = row.md5
    if row.modified is not None:
        entry["Written"] = iso_utc(row.modified)
    if row.allocation == "deleted":
        entry["Deleted"] = True
    if row.allocation == "carved":
        entry["Unallocated"] = True
    return entry


def _hashes(row: Any) -> list[tuple[str, str]]:
    return [
        (a, v)
        for a, v in ((MD5, row.md5), (SHA1, row.sha1), (SHA256, row.sha256), (PDQ, row.pdq))
        if v
    ]


def _group(rows: Iterable[Any], *, hits: bool) -> list[ExportMedia]:
    media: dict[str, ExportMedia] = {}
    files_seen: set[int] = set()
    for row in rows:
        key = row.sha256 or row.md5 or f"item-{row.id}"
        m = media.get(key)
        if m is None:
            m = media[key] = ExportMedia(key, _hashes(row), row.size, row.file_type, None, None)
        if row.id not in files_seen:
            files_seen.add(row.id)
            m.files.append(_file_entry(row))
        if hits:
            rank = (0 if row.match_kind not in NEAR_KINDS else 1, int(row.distance))
            if rank < m.rank:
                m.rank, m.category = rank, row.category
                m.source = (
                    f"{TOOL_NAME} match: set {row.set_name} ({row.match_kind} {row.algorithm})"
                )
        elif m.category is None:
            m.category = row.category
    return list(media.values())


def _item_columns() -> list[Any]:
    return [
        IT.c.id,
        IT.c.locator,
        IT.c.size,
        IT.c.file_type,
        IT.c.md5,
        IT.c.sha1,
        IT.c.sha256,
        IT.c.pdq,
        IT.c.modified,
        IT.c.allocation,
    ]


def hit_media(conn: Connection, case_id: int) -> list[ExportMedia]:
    rows = conn.execute(
        select(
            *_item_columns(),
            MT.c.set_name,
            MT.c.match_kind,
            MT.c.algorithm,
            MT.c.distance,
            MT.c.category,
        )
        .join(EV, EV.c.id == IT.c.evidence_id)
        .join(MT, MT.c.item_id == IT.c.id)
        .where(EV.c.case_id == case_id, MT.c.set_kind == "reference")
        .order_by(IT.c.evidence_id, IT.c.locator, IT.c.id)
    )
    return _group(rows, hits=True)


def new_media(conn: Connection, case_id: int) -> list[ExportMedia]:
    rows = conn.execute(
        select(*_item_columns(), NM.c.category)
        .join(EV, EV.c.id == IT.c.evidence_id)
        .join(NM, NM.c.item_id == IT.c.id)
        .where(EV.c.case_id == case_id)
        .order_by(IT.c.evidence_id, IT.c.locator, IT.c.id)
    )
    return _group(rows, hits=False)


def _flavour(conn: Connection, case_id: int, which: Which) -> str:
    """UK when every set the hits came from uses the UK CAID scheme, else Default."""
    if which == "new":
        return "Default"
    schemes = {
        r[0]
        for r in conn.execute(
            select(func.distinct(hash_sets_table.c.category_scheme))
            .join(MT, MT.c.set_name == hash_sets_table.c.name)
            .join(IT, IT.c.id == MT.c.item_id)
            .join(EV, EV.c.id == IT.c.evidence_id)
            .where(EV.c.case_id == case_id, MT.c.set_kind == "reference")
        )
    }
    return "UK" if schemes == {"uk-caid"} else "Default"


def _media_object(m: ExportMedia, number: int, *, hits: bool) -> dict[str, Any]:
    extra: dict[str, Any] = {"IsPrecategorized": hits}
    if hits and m.source:
        extra["PrecategorizationSource"] = m.source
    record = ReferenceRecord(
        hashes=m.hashes,
        where=m.key,
        record_key=str(number),
        category=m.category,
        mime_type=_MIME.get((m.file_type or "").lower()),
        media_size=m.size,
        extra=extra,
    )
    obj = vics_media(record, number)
    obj["MediaFiles"] = m.files
    return obj


def build_case_file(
    conn: Connection, case_id: int, which: Which, *, contact: str, generated_at: datetime
) -> dict[str, Any]:
    """The whole VICS 2.0 case file (a case's hits are thousands at most: one document)."""
    case = case_summary(conn, case_id)
    media = hit_media(conn, case_id) if which == "hits" else new_media(conn, case_id)
    seized = conn.execute(
        select(func.min(seizures_table.c.seized_at)).where(seizures_table.c.case_id == case_id)
    ).scalar()
    seq, head = audit.head(conn)
    header: dict[str, Any] = {
        "CaseID": str(case.id),
        "CaseNumber": case.fir_number or case.name,
        "ContactOrganization": case.police_station,
        "ContactName": contact,
        "TotalMediaFiles": len(media),
        "TotalPrecategorized": len(media) if which == "hits" else 0,
        "SeizureDate": iso_utc(seized),
        "SourceApplicationName": TOOL_NAME,
        "SourceApplicationVersion": __version__,
        "CaseMetadata": [
            {
                "PropertyName": "Contents",
                "PropertyValue": "matches of reference sets"
                if which == "hits"
                else "new material confirmed by analysts, held by no reference set",
            },
            {"PropertyName": "CaseName", "PropertyValue": case.name},
            {"PropertyName": "District", "PropertyValue": case.district},
            {"PropertyName": "GeneratedAt", "PropertyValue": iso_utc(generated_at)},
            {"PropertyName": "RakshaAuditHead", "PropertyValue": f"{seq}:{head}"},
        ],
    }
    header = {k: v for k, v in header.items() if v is not None}
    header["Media"] = [
        _media_object(m, n, hits=which == "hits") for n, m in enumerate(media, start=1)
    ]
    context = VICS_CONTEXT.format(flavour=_flavour(conn, case_id, which), entity="Cases")
    return {"@odata.context": context, "value": [header]}


def write_case_file(document: dict[str, Any], path: Path) -> int:
    """Write the case file; returns the number of Media records."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        json.dump(document, out, ensure_ascii=False, indent=1)
        out.write("\n")
    return len(document["value"][0]["Media"])
