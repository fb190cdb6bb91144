"""Project VIC "VICS" JSON, versions 1.x and 2.0, hash-set and case-file shapes, streamed.

Files run to hundreds of megabytes, so they are parsed as a stream of JSON events (ijson,
with its C backend when present): one Media record is built at a time and handed on.
Quirks handled: a UTF-8 byte-order mark, booleans written as strings, upper-case hex,
OData extras, ``IsPrecategorized`` without a ``Category`` (only ``Category`` is trusted),
and a truncated file (every record before the damage is kept, then a rejection says
where parsing stopped).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from raksha.errors import InputFormatError, InvalidHashError
from raksha.hashes import MD5, PDQ, PHOTODNA, SHA1, SHA256, normalize_hash
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo, excerpt

logger = logging.getLogger(__name__)

_BOM = b"\xef\xbb\xbf"
_V1 = re.compile(rb'"odata\.metadata"\s*:\s*"[^"]*ProjectVic/DataModels/(1\.\d+)\.xml#(\w+)')
_V2 = re.compile(
    rb'"@odata\.context"\s*:\s*"[^"]*ProjectVic/DataModels/(2\.\d+)\.xml/(\w+)/\$metadata#(\w+)'
)
_ALT_NAMES = {
    "pdq": PDQ,
    "sha256": SHA256,
    "sha-256": SHA256,
    "sha1": SHA1,
    "sha-1": SHA1,
    "md5": MD5,
    "photodna": PHOTODNA,
}
_EXTRA_FIELDS = (
    "Tags",
    "Comments",
    "IsSuspected",
    "RelativeFilePath",
    "IsPrecategorized",
    "PrecategorizationSource",
    "DateUpdated",
)
_CASE_SCALARS = (
    "CaseID",
    "CaseNumber",
    "ContactOrganization",
    "ContactName",
    "ContactPhone",
    "ContactEmail",
    "ContactTitle",
    "TotalMediaFiles",
    "TotalPrecategorized",
    "SeizureDate",
    "SourceApplicationName",
    "SourceApplicationVersion",
)


def _backend() -> Any:
    for name in ("yajl2_c", "yajl2_cffi", "python"):
        try:
            return ijson.get_backend(name)
        except ImportError:
            continue
    return ijson  # pragma: no cover


_IJSON = _backend()


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no", ""):
            return False if lowered else None
    if isinstance(value, int | Decimal):
        return bool(value)
    return None


def _plain(value: Any) -> Any:
    """JSON-safe copy (ijson yields Decimal for numbers)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _category(value: Any) -> str | None:
    if value is None or value == "":
        return None
    value = _plain(value)
    return str(value).strip()


class VicsReader:
    NAME = "vics"
    description = "Project VIC VICS JSON 1.x and 2.0 (hash sets and case files)"

    def sniff(self, path: Path, head: bytes) -> bool:
        body = head.removeprefix(_BOM).lstrip()
        return body.startswith(b"{") and bool(_V1.search(head) or _V2.search(head))

    def read(self, path: Path) -> Iterator[ParseEvent]:
        with path.open("rb") as f:
            if f.read(3) != _BOM:
                f.seek(0)
            yield from self._events(f)

    def _events(self, f: BinaryIO) -> Iterator[ParseEvent]:
        top: Any = None  # builder of value[i] (a Media record, or a case without its Media)
        media: Any = None  # builder of value[0].Media[j]
        is_case = False
        records = 0
        saw_metadata = False
        parser = _IJSON.parse(f)
        try:
            for prefix, event, value in parser:
                if media is not None:
                    media.event(event, value)
                    if event == "end_map" and prefix == "value.item.Media.item":
                        records += 1
                        yield from self._record(media.value, records)
                        media = None
                    continue
                if prefix == "value.item.Media.item" and event == "start_map":
                    media = ijson.ObjectBuilder()
                    media.event(event, value)
                    continue
                if prefix == "value.item.Media" or prefix.startswith("value.item.Media."):
                    continue
                if prefix == "value.item" and event == "map_key" and value == "Media":
                    is_case = True
                    continue
                if top is not None:
                    top.event(event, value)
                    if event == "end_map" and prefix == "value.item":
                        if is_case:
                            case = {
                                k: _plain(top.value.get(k)) for k in _CASE_SCALARS if k in top.value
                            }
                            yield SetInfo(self.NAME, {"shape": "case", "case": case})
                        else:
                            records += 1
                            yield from self._record(top.value, records)
                        top, is_case = None, False
                    continue
                if prefix == "value.item" and event == "start_map":
                    top = ijson.ObjectBuilder()
                    top.event(event, value)
                    continue
                if event == "string" and prefix in ("odata.metadata", "@odata.context"):
                    saw_metadata = True
                    yield SetInfo(self.NAME, _version_fields(prefix, value))
        except ijson.JSONError as exc:
            if not saw_metadata and records == 0:
                raise InputFormatError(f"not a readable VICS JSON file: {exc}") from exc
            yield Rejection(
                f"after record {records}",
                f"the file is damaged or truncated; reading stopped there ({exc})",
            )

    def _record(self, obj: Any, number: int) -> Iterator[ParseEvent]:
        where = f"record {number}"
        if not isinstance(obj, dict):
            yield Rejection(where, "a Media record must be a JSON object", excerpt(str(obj)))
            return
        hashes: list[tuple[str, str]] = []
        extra: dict[str, Any] = {}

        def add(algorithm: str, raw: Any) -> Iterator[Rejection]:
            if raw in (None, ""):
                return
            try:
                value = normalize_hash(algorithm, str(raw))
            except InvalidHashError as exc:
                yield Rejection(f"{where} ({algorithm})", str(exc), excerpt(str(raw)))
                return
            if (algorithm, value) not in hashes:
                hashes.append((algorithm, value))

        yield from add(MD5, obj.get("MD5"))
        yield from add(SHA1, obj.get("SHA1"))
        yield from add(PHOTODNA, obj.get("PhotoDNA"))
        for alt in obj.get("AlternativeHashes") or []:
            if not isinstance(alt, dict):
                continue
            name = str(alt.get("HashName") or "").strip().lower()
            algorithm = _ALT_NAMES.get(name)
            if algorithm is None:
                extra.setdefault("other_hashes", []).append(
                    {"name": alt.get("HashName"), "value": alt.get("HashValue")}
                )
                continue
            yield from add(algorithm, alt.get("HashValue"))
        if not hashes:
            yield Rejection(where, "the record has no usable hash", excerpt(str(_plain(obj))))
            return
        for name in _EXTRA_FIELDS:
            if obj.get(name) not in (None, "", []):
                extra[name] = _plain(obj[name])
        files = obj.get("MediaFiles") or []
        first = files[0] if files and isinstance(files[0], dict) else {}
        size = obj.get("MediaSize")
        yield ReferenceRecord(
            hashes=hashes,
            where=where,
            record_key=str(_plain(obj["MediaID"]))
            if obj.get("MediaID") not in (None, "")
            else None,
            category=_category(obj.get("Category")),
            victim_identified=_bool(obj.get("VictimIdentified")),
            offender_identified=_bool(obj.get("OffenderIdentified")),
            distributed=_bool(obj.get("IsDistributed")),
            series=str(obj["Series"]) if obj.get("Series") not in (None, "") else None,
            mime_type=obj.get("MimeType") or None,
            media_size=int(size) if isinstance(size, int | Decimal) else None,
            file_name=first.get("FileName") or None,
            extra=extra,
        )


def _version_fields(key: str, value: str) -> dict[str, Any]:
    raw = value.encode("utf-8", "replace")
    if key == "odata.metadata":
        m = _V1.search(b'"odata.metadata":"' + raw + b'"')
        if m:
            return {
                "vics_version": m.group(1).decode(),
                "flavour": None,
                "shape": "case" if m.group(2) == b"Cases" else "hashset",
            }
    else:
        m = _V2.search(b'"@odata.context":"' + raw + b'"')
        if m:
            return {
                "vics_version": m.group(1).decode(),
                "flavour": m.group(2).decode(),
                "shape": "case" if m.group(3) == b"Cases" else "hashset",
            }
    return {"metadata": value}
