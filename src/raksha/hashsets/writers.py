"""Writing hash sets: VICS 2.0 JSON and ``<type> <hash>`` text, streamed record by record."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, BinaryIO, TextIO

from raksha.hashes import MD5, PDQ, PHOTODNA, SHA1, SHA256
from raksha.hashsets.records import ReferenceRecord

VICS_CONTEXT = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/{flavour}/$metadata#Media"
)
_ALT_NAMES = {PDQ: "PDQ", SHA256: "SHA256"}


def _category(label: str | None) -> int | str | None:
    if label is None:
        return None
    return int(label) if label.isdigit() else label


def vics_media(record: ReferenceRecord, media_id: int) -> dict[str, Any]:
    """One record as a VICS 2.0 Media object."""
    by_algorithm: dict[str, str] = {}
    alternatives = []
    for algorithm, value in record.hashes:
        if algorithm in (MD5, SHA1, PHOTODNA) and algorithm not in by_algorithm:
            by_algorithm[algorithm] = value
        elif algorithm in _ALT_NAMES:
            alternatives.append({"HashName": _ALT_NAMES[algorithm], "HashValue": value})
    media: dict[str, Any] = {
        "MediaID": record.record_key or str(media_id),
        "Category": _category(record.category),
        "MD5": by_algorithm.get(MD5),
        "SHA1": by_algorithm.get(SHA1),
        "PhotoDNA": by_algorithm.get(PHOTODNA),
        "VictimIdentified": record.victim_identified,
        "OffenderIdentified": record.offender_identified,
        "IsDistributed": record.distributed,
        "Series": record.series,
        "MimeType": record.mime_type,
        "MediaSize": record.media_size,
    }
    media = {k: v for k, v in media.items() if v is not None}
    if alternatives:
        media["AlternativeHashes"] = alternatives
    if record.file_name:
        media["MediaFiles"] = [{"FileName": record.file_name}]
    return media


def write_vics_json(
    out: BinaryIO,
    records: Iterable[ReferenceRecord],
    *,
    flavour: str = "Default",
    case: dict[str, Any] | None = None,
) -> int:
    """Write VICS 2.0 JSON one Media record at a time; returns the number of records."""
    context = VICS_CONTEXT.format(flavour=flavour)
    out.write(b'{"@odata.context": ' + json.dumps(context).encode() + b', "value": [')
    if case is not None:
        out.write(json.dumps(case, ensure_ascii=False)[:-1].encode("utf-8") + b', "Media": [')
    count = 0
    for count, record in enumerate(records, 1):
        if count > 1:
            out.write(b",")
        out.write(b"\n" + json.dumps(vics_media(record, count), ensure_ascii=False).encode("utf-8"))
    if case is not None:
        out.write(b"\n]}")
    out.write(b"\n]}\n")
    return count


def write_typed_text(out: TextIO, records: Iterable[ReferenceRecord]) -> int:
    """Write one ``<type> <hash>`` line per hash; returns the number of lines."""
    lines = 0
    for record in records:
        for algorithm, value in record.hashes:
            if algorithm == PHOTODNA:
                continue  # the typed format has no PhotoDNA type
            out.write(f"{algorithm} {value}\n")
            lines += 1
    return lines
