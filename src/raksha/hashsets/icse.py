"""INTERPOL ICSE hash export: semicolon-separated CSV with a header, read row by row.

The header names the columns (``MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim
identified;Offender identified;Series name;Number of submissions;File Available;Media
Type;Baseline``); exports differ in order, case and spacing, so columns are found by
name, never by position. Empty cells mean "unknown". A row with a cell count that does not
fit the header is rejected whole: its values may have slid into the wrong columns.

``Baseline`` goes to ``ReferenceRecord.baseline``; the category stays ``None`` unless the
file has a ``Category`` column, because ICSE states no category of its own and a made-up
one would be indistinguishable from a real one later. A row whose ``Media Type`` is
``Video`` (or a ``video/...`` MIME type) is marked ``extra["media_kind"] = "video"``.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from raksha.errors import InputFormatError, InvalidHashError
from raksha.hashes import MD5, PHOTODNA, SHA1, SHA256, normalize_hash
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo, excerpt

logger = logging.getLogger(__name__)

FORMAT_NAME: Final = "icse"
_BOM: Final = "\ufeff"
_TRUE: Final = frozenset({"yes", "y", "true", "1"})
_FALSE: Final = frozenset({"no", "n", "false", "0"})
_EXTRA_TEXT_LIMIT: Final = 200

#: Normalised header name -> our field. Names are compared lower-case without spaces,
#: underscores or hyphens, so "Image ID", "ImageID" and "image_id" are one column.
COLUMNS: Final[dict[str, str]] = {
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "photodna": "photodna",
    "imageid": "image_id",
    "isdistributed": "distributed",
    "victimidentified": "victim_identified",
    "offenderidentified": "offender_identified",
    "seriesname": "series",
    "numberofsubmissions": "submissions",
    "fileavailable": "file_available",
    "mediatype": "media_type",
    "baseline": "baseline",
    "category": "category",
}
_HASH_COLUMNS: Final = (("md5", MD5), ("sha1", SHA1), ("sha256", SHA256), ("photodna", PHOTODNA))
#: Columns only ICSE exports have; two of them (with a hash column) identify the format.
_SIGNATURE: Final = frozenset(
    {
        "imageid",
        "isdistributed",
        "victimidentified",
        "offenderidentified",
        "seriesname",
        "numberofsubmissions",
        "fileavailable",
        "baseline",
    }
)
_NAME_NOISE: Final = re.compile(r"[\s_\-\"']+")


def normalise_column(name: str) -> str:
    """``" Image ID"`` -> ``"imageid"``: how header names are compared."""
    return _NAME_NOISE.sub("", name.lstrip(_BOM)).lower()


class _Row:
    """One data row turned into a record; collects the values that could not be used."""

    def __init__(self, cells: dict[str, str], where: str) -> None:
        self.cells = cells
        self.where = where
        self.problems: list[str] = []

    def flag(self, field_name: str, label: str) -> bool | None:
        raw = self.cells.get(field_name, "")
        if not raw:
            return None
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        self.problems.append(f"{label} {excerpt(raw)!r} is neither yes nor no")
        return None

    def events(self, extra_columns: dict[str, str]) -> tuple[ParseEvent, ...]:
        cells = self.cells
        hashes: list[tuple[str, str]] = []
        for column, algorithm in _HASH_COLUMNS:
            raw = cells.get(column, "")
            if not raw:
                continue
            try:
                hashes.append((algorithm, normalize_hash(algorithm, raw)))
            except InvalidHashError as exc:
                self.problems.append(f"{column.upper()}: {exc}")
        if not hashes:
            reason = "the row has no usable hash"
            if self.problems:
                reason += ": " + "; ".join(self.problems)
            return (Rejection(self.where, reason, excerpt(";".join(cells.values()))),)
        extra: dict[str, Any] = {}
        submissions = cells.get("submissions", "")
        if submissions:
            extra["submissions"] = int(submissions) if submissions.isdigit() else submissions
        available = self.flag("file_available", "File Available")
        if available is not None:
            extra["file_available"] = available
        media_type = cells.get("media_type", "") or None
        if media_type is not None and (
            media_type.lower() == "video" or media_type.lower().startswith("video/")
        ):
            extra["media_kind"] = "video"
        if media_type is not None and "/" not in media_type:
            extra["media_type"] = media_type  # "Image"/"Video", not a MIME type
            media_type = None
        for column, header in extra_columns.items():
            if cells.get(column):
                extra[header] = cells[column][:_EXTRA_TEXT_LIMIT]
        record = ReferenceRecord(
            hashes=hashes,
            where=self.where,
            record_key=cells.get("image_id") or None,
            category=cells.get("category") or None,
            victim_identified=self.flag("victim_identified", "Victim identified"),
            offender_identified=self.flag("offender_identified", "Offender identified"),
            distributed=self.flag("distributed", "Is distributed"),
            baseline=self.flag("baseline", "Baseline"),
            series=cells.get("series") or None,
            mime_type=media_type,
            extra=extra,
        )
        if not self.problems:
            return (record,)
        reason = "imported the row without: " + "; ".join(self.problems)
        return record, Rejection(self.where, reason, excerpt(";".join(cells.values())))


def _header_columns(header: list[str]) -> tuple[list[str], dict[str, str]]:
    """Field name per position, and the unknown columns kept as ``extra`` (key -> header)."""
    fields: list[str] = []
    extra: dict[str, str] = {}
    seen: set[str] = set()
    for position, raw in enumerate(header):
        name = normalise_column(raw)
        field_name = COLUMNS.get(name, f"column {position + 1}")
        if field_name in seen:
            logger.warning("ICSE column %r appears twice; the first one is used", raw)
            field_name = f"column {position + 1}"
        seen.add(field_name)
        fields.append(field_name)
        if name not in COLUMNS and raw.strip():
            extra[field_name] = raw.strip()[:_EXTRA_TEXT_LIMIT]
    return fields, extra


class IcseReader:
    """INTERPOL ICSE semicolon CSV export."""

    NAME = FORMAT_NAME
    description = "INTERPOL ICSE semicolon CSV export (MD5;SHA1;PhotoDNA;Image ID;...)"

    def sniff(self, path: Path, head: bytes) -> bool:
        """The first line is a semicolon header with a hash column and ICSE column names."""
        if b"\x00" in head:
            return False
        first = head.decode("utf-8", "replace").lstrip(_BOM).split("\n", 1)[0]
        if ";" not in first:
            return False
        names = {normalise_column(c) for c in first.split(";")}
        has_hash = bool(names & {"md5", "sha1", "photodna"})
        return has_hash and len(names & _SIGNATURE) >= 2

    def read(self, path: Path) -> Iterator[ParseEvent]:
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as f:
            reader = csv.reader(f, delimiter=";")
            try:
                header = next(reader)
            except StopIteration:
                raise InputFormatError(f"{path} is empty, not an ICSE export") from None
            except csv.Error as exc:
                raise InputFormatError(f"{path} has no readable ICSE header: {exc}") from exc
            fields, extra_columns = _header_columns(header)
            if not set(fields) & {name for name, _ in _HASH_COLUMNS}:
                raise InputFormatError(
                    f"{path} is not an ICSE export: its header has no MD5, SHA1 or PhotoDNA "
                    f"column ({excerpt(';'.join(header))})"
                )
            yield SetInfo(self.NAME, {"columns": [c.strip() for c in header]})
            width = len(fields)
            while True:
                start = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    yield Rejection(f"line {start}", f"not a readable CSV line: {exc}")
                    continue
                where = f"line {start}"
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) > width and not any(c.strip() for c in row[width:]):
                    row = row[:width]  # trailing empty cells, e.g. a ';' at each line end
                if len(row) != width:
                    yield Rejection(
                        where,
                        f"{len(row)} cells where the header has {width}; the values may be in "
                        "the wrong columns, so the row is left out",
                        excerpt(";".join(row)),
                    )
                    continue
                cells = {name: cell.strip() for name, cell in zip(fields, row, strict=True)}
                yield from _Row(cells, where).events(extra_columns)
