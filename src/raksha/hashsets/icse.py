"""INTERPOL ICSE hash export: semicolon-separated CSV with a header, columns in any order."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from raksha.errors import InputFormatError, InvalidHashError
from raksha.hashes import MD5, PHOTODNA, SHA1, normalize_hash
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo, excerpt

_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}
_REQUIRED = {"md5", "sha1"}


def _bool(value: str | None) -> bool | None:
    if value is None or not value.strip():
        return None
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes/no")


class IcseReader:
    NAME = "icse"
    description = "INTERPOL ICSE semicolon CSV export"

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace")
        columns = {c.strip().lower() for c in first.split(";")}
        return ";" in first and columns >= _REQUIRED and "image id" in columns

    def read(self, path: Path) -> Iterator[ParseEvent]:
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as f:
            reader = csv.reader(f, delimiter=";")
            try:
                header = [c.strip().lower() for c in next(reader)]
            except StopIteration:
                raise InputFormatError(f"{path} is empty") from None
            if not set(header) >= _REQUIRED:
                raise InputFormatError(f"{path} has no MD5;SHA1 header: not an ICSE export")
            yield SetInfo(self.NAME, {"columns": header})
            for row in reader:
                number = reader.line_num
                where = f"line {number}"
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    yield Rejection(
                        where,
                        f"{len(row)} columns where the header has {len(header)}",
                        excerpt(";".join(row)),
                    )
                    continue
                cells = dict(zip(header, (c.strip() for c in row), strict=True))
                try:
                    yield self._record(cells, where)
                except (InvalidHashError, ValueError) as exc:
                    yield Rejection(where, str(exc), excerpt(";".join(row)))

    @staticmethod
    def _record(cells: dict[str, str], where: str) -> ReferenceRecord:
        hashes = [
            (algorithm, normalize_hash(algorithm, cells[column]))
            for column, algorithm in (("md5", MD5), ("sha1", SHA1), ("photodna", PHOTODNA))
            if cells.get(column)
        ]
        if not hashes:
            raise ValueError("the row has no hash")
        extra = {k: cells[k] for k in ("number of submissions", "file available") if cells.get(k)}
        baseline = _bool(cells.get("baseline"))
        return ReferenceRecord(
            hashes=hashes,
            where=where,
            record_key=cells.get("image id") or None,
            category="baseline" if baseline else None,
            victim_identified=_bool(cells.get("victim identified")),
            offender_identified=_bool(cells.get("offender identified")),
            distributed=_bool(cells.get("is distributed")),
            baseline=baseline,
            series=cells.get("series name") or None,
            mime_type=cells.get("media type") or None,
            extra=extra,
        )
