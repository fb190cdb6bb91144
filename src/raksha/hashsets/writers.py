"""Writing hash sets back out: VICS 2.0 JSON and ``<type> <hash>`` text, record by record.

Exports feed other agencies' tools and our own import, so what is written reads back
through :mod:`raksha.hashsets.vics` and :mod:`raksha.hashsets.text` into the same hashes,
categories, flags and keys. Records are written one at a time as they come from the
iterable (never gathered into a list), so a set of millions exports in flat memory.

VICS details: MD5, SHA-1 and PhotoDNA go to their own fields; SHA-256, PDQ and any second
value of an algorithm go to ``AlternativeHashes``. A numeric category is written as a
JSON integer (as VICS US/Default tools write it), any other label as a string. INTERPOL
Baseline has no VICS field and travels as ``MediaMetadata`` ``Baseline``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, BinaryIO, Final, TextIO

from raksha.hashes import MD5, PDQ, PHOTODNA, SHA1, SHA256
from raksha.hashsets.records import ReferenceRecord
from raksha.hashsets.vics import EXTRA_FIELDS

VICS_CONTEXT: Final = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/{flavour}/$metadata#{entity}"
)
VICS_FLAVOURS: Final = ("Default", "US", "UK", "CUSTOM")
#: Our algorithm -> ``HashName`` in ``AlternativeHashes``.
ALTERNATIVE_NAMES: Final[dict[str, str]] = {
    PDQ: "PDQ",
    SHA256: "SHA256",
    MD5: "MD5",
    SHA1: "SHA1",
    PHOTODNA: "PhotoDNA",
}
_OWN_FIELDS: Final[dict[str, str]] = {MD5: "MD5", SHA1: "SHA1", PHOTODNA: "PhotoDNA"}
#: Algorithms the typed format has a type for (it has none for PhotoDNA).
TYPED_ALGORITHMS: Final = frozenset({PDQ, MD5, SHA1, SHA256})


def _as_int(text: str) -> int | None:
    """``text`` as an integer when it is written exactly as one (``"7"``, not ``"07"``)."""
    if text.isascii() and text.isdigit() and str(int(text)) == text:
        return int(text)
    return None


def vics_category(label: str | None) -> int | str | None:
    """``"1"`` -> ``1``; labels that are not a plain decimal number stay strings."""
    if label is None or not label.strip():
        return None
    number = _as_int(label)
    return label if number is None else number


def vics_media_id(record_key: str | None, number: int) -> int | str:
    """The record's key (an integer when it is one), or its position when it has none."""
    if record_key is None:
        return number
    as_int = _as_int(record_key)
    return record_key if as_int is None else as_int


def vics_media(record: ReferenceRecord, number: int) -> dict[str, Any]:
    """One record as a VICS 2.0 Media object (fields without a value are left out)."""
    own: dict[str, str] = {}
    alternatives: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for algorithm, value in record.hashes:
        if (algorithm, value) in seen:
            continue
        seen.add((algorithm, value))
        if algorithm in _OWN_FIELDS and algorithm not in own:
            own[algorithm] = value
        else:
            name = ALTERNATIVE_NAMES.get(algorithm, algorithm.upper())
            alternatives.append({"HashName": name, "HashValue": value})
    for other in record.extra.get("other_hashes") or []:
        if isinstance(other, dict) and other.get("HashName"):
            alternatives.append(
                {"HashName": other["HashName"], "HashValue": other.get("HashValue")}
            )
    media: dict[str, Any] = {
        "MediaID": vics_media_id(record.record_key, number),
        "Category": vics_category(record.category),
        "MD5": own.get(MD5),
        "SHA1": own.get(SHA1),
        "PhotoDNA": own.get(PHOTODNA),
        "VictimIdentified": record.victim_identified,
        "OffenderIdentified": record.offender_identified,
        "IsDistributed": record.distributed,
        "Series": record.series,
        "MimeType": record.mime_type,
        "MediaSize": record.media_size,
    }
    media = {k: v for k, v in media.items() if v is not None and v != ""}
    for name in EXTRA_FIELDS:
        if record.extra.get(name) is not None:
            media[name] = record.extra[name]
    if alternatives:
        media["AlternativeHashes"] = alternatives
    if record.file_name:
        media["MediaFiles"] = [{"FileName": record.file_name}]
    if record.baseline is not None:
        media["MediaMetadata"] = [
            {"PropertyName": "Baseline", "PropertyValue": "true" if record.baseline else "false"}
        ]
    return media


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def write_vics_json(
    out: BinaryIO,
    records: Iterable[ReferenceRecord],
    *,
    flavour: str = "Default",
    case: dict[str, Any] | None = None,
) -> int:
    """Write VICS 2.0 JSON one Media record at a time; returns the number of records.

    Without ``case`` this is a hash-set file (``value`` is the Media list, ``#Media``);
    with it a case file (``value[0]`` is the case header holding the ``Media`` list,
    ``#Cases``). Records without a key get their position as ``MediaID``.
    """
    entity = "Media" if case is None else "Cases"
    context = VICS_CONTEXT.format(flavour=flavour, entity=entity)
    out.write(b'{"@odata.context": ' + _json(context) + b', "value": [')
    if case is not None:
        header = {k: v for k, v in case.items() if k != "Media"}
        out.write(b"\n{")
        for key, value in header.items():
            out.write(_json(key) + b": " + _json(value) + b", ")
        out.write(b'"Media": [')
    count = 0
    for record in records:
        count += 1
        out.write((b",\n" if count > 1 else b"\n") + _json(vics_media(record, count)))
    if case is not None:
        out.write(b"\n]}")
    out.write(b"\n]}\n")
    return count


def write_typed_text(out: TextIO, records: Iterable[ReferenceRecord]) -> int:
    """Write one ``<type> <hash>`` line per hash; returns the number of lines.

    PhotoDNA has no type in this format and is left out.
    """
    lines = 0
    for record in records:
        for algorithm, value in record.hashes:
            if algorithm in TYPED_ALGORITHMS:
                out.write(f"{algorithm} {value}\n")
                lines += 1
    return lines
