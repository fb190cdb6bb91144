"""Project VIC "VICS" JSON, versions 1.x and 2.0, hash-set and case-file shapes, streamed.

Reference sets run to hundreds of megabytes and millions of Media records, so the file is
never loaded whole: it is parsed as a stream (ijson, with its C backend when installed)
and one Media record at a time is turned into a :class:`ReferenceRecord`.

Two ways through a file, chosen by a short look at its start:

* the usual layout (the metadata key first, then ``value`` as a list of Media) is read
  with ijson's ``items``, which builds each record in C: about twice as fast;
* anything else (a case file, whose ``value[0]`` holds the case header and its ``Media``
  list; the metadata key after ``value``) walks the parse events in Python, so the
  case header and a late metadata key are still seen.

Both give the same records. Quirks handled: a UTF-8 byte-order mark, booleans written as
strings, upper-case hex, OData extras (``odata.id``, ``*@odata.navigationLinkUrl``),
escaped slashes in the metadata URL, ``IsPrecategorized`` without a ``Category`` (only
``Category`` is trusted), and a truncated file (every record before the damage is kept,
then a rejection says where reading stopped). ``Miniature`` (a thumbnail of the
material itself) and ``Exifs`` are never kept. A record whose ``MimeType`` is a video
type (``video/...``) keeps it and is marked ``extra["media_kind"] = "video"``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Final

import ijson

from raksha.errors import InputFormatError, InvalidHashError
from raksha.hashes import MD5, PDQ, PHOTODNA, SHA1, SHA256, normalize_hash
from raksha.hashsets.records import ParseEvent, ReferenceRecord, Rejection, SetInfo, excerpt

logger = logging.getLogger(__name__)

FORMAT_NAME: Final = "vics"
_BOM: Final = b"\xef\xbb\xbf"
_META_KEYS: Final = ("odata.metadata", "@odata.context")
#: The metadata key with a data-model URL, as the sniffer sees it in the raw head.
_SNIFF_META: Final = re.compile(
    rb'"(?:odata\.metadata|@odata\.context)"\s*:\s*"[^"]*DataModels/\d+(?:\.\d+)*\.xml',
    re.IGNORECASE,
)
#: A head that starts straight with ``value`` (metadata key later in the file).
_SNIFF_VALUE_FIRST: Final = re.compile(rb'^\{\s*"value"\s*:\s*\[\s*\{')
_SNIFF_MEDIA_KEYS: Final = (b'"MediaID"', b'"MD5"', b'"SHA1"', b'"Category"', b'"Media"')
_URL_VERSION: Final = re.compile(r"DataModels/(\d+(?:\.\d+)*)\.xml", re.IGNORECASE)
_URL_FLAVOUR: Final = re.compile(r"\.xml/([^/$#]+)/\$metadata", re.IGNORECASE)
_URL_ENTITY: Final = re.compile(r"#(\w+)\s*$")

#: ``AlternativeHashes[].HashName`` (lower-cased) -> our algorithm.
ALTERNATIVE_HASH_NAMES: Final[dict[str, str]] = {
    "md5": MD5,
    "sha1": SHA1,
    "sha-1": SHA1,
    "sha256": SHA256,
    "sha-256": SHA256,
    "pdq": PDQ,
    "photodna": PHOTODNA,
}
#: Media fields kept as they are in ``extra`` (small scalars; read back by the writer).
EXTRA_FIELDS: Final = (
    "Tags",
    "Comments",
    "IsSuspected",
    "IsPrecategorized",
    "PrecategorizationSource",
    "RelativeFilePath",
    "DateUpdated",
)
#: Fields never kept, not even in a rejection's excerpt: a thumbnail of the material.
_NEVER_KEPT: Final = frozenset({"Miniature", "Exifs"})
_EXTRA_TEXT_LIMIT: Final = 200
_EXTRA_LIST_LIMIT: Final = 20
_TRUE: Final = frozenset({"true", "yes", "1"})
_FALSE: Final = frozenset({"false", "no", "0"})
_STARTS: Final = frozenset({"start_map", "start_array"})
_ENDS: Final = frozenset({"end_map", "end_array"})
_ITEM: Final = "value.item"
_MEDIA_LIST: Final = "value.item.Media"
_MEDIA_ITEM: Final = "value.item.Media.item"
_MEDIA_NESTED: Final = "value.item.Media."


def _pick_backend() -> Any:
    """The fastest ijson backend installed: the C one, else whatever ijson chose."""
    for name in ("yajl2_c", "yajl2_cffi"):
        try:
            return ijson.get_backend(name)
        except ImportError:
            logger.debug("ijson backend %s is not available", name)
    return ijson


_IJSON: Final = _pick_backend()
#: Name of the ijson backend in use (``yajl2_c`` when the C extension is installed).
IJSON_BACKEND: Final[str] = str(getattr(_IJSON, "backend_name", getattr(_IJSON, "backend", "?")))


def version_fields(url: str) -> dict[str, Any]:
    """What a VICS metadata URL says: data-model version, flavour, and entity (shape)."""
    version = _URL_VERSION.search(url)
    flavour = _URL_FLAVOUR.search(url)
    entity = _URL_ENTITY.search(url)
    fields: dict[str, Any] = {
        "vics_version": version.group(1) if version else None,
        "flavour": flavour.group(1) if flavour else None,
    }
    if entity:
        fields["shape"] = "case" if entity.group(1).lower() == "cases" else "hashset"
    return fields


def _plain(value: Any) -> Any:
    """A JSON-safe copy (ijson gives ``Decimal`` for numbers with a fraction)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in _NEVER_KEPT}
    return value


def _record_excerpt(obj: Any) -> str:
    try:
        text = json.dumps(_plain(obj), ensure_ascii=False, default=str)
    except ValueError:  # pragma: no cover - ijson never builds cyclic objects
        text = repr(obj)
    return excerpt(text)


def _json_error(exc: Exception) -> str:
    """The first line of a parser error, without the echo of the input that yajl adds."""
    text = str(exc).strip()
    if text.startswith(("b'", 'b"')):
        text = text[2:]
    first = text.replace("\\n", "\n").splitlines()[0] if text else ""
    return first.strip()[:160] or type(exc).__name__


@dataclass(slots=True)
class _Media:
    """Turns one Media object into a record, collecting what could not be used."""

    obj: dict[str, Any]
    where: str
    problems: list[str] = field(default_factory=list)
    hashes: list[tuple[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def add_hash(self, algorithm: str, label: str, raw: Any) -> None:
        if raw is None or raw == "":
            return
        if not isinstance(raw, str):
            self.problems.append(f"{label} is not a string")
            return
        try:
            value = normalize_hash(algorithm, raw)
        except InvalidHashError as exc:
            self.problems.append(f"{label}: {exc}")
            return
        if (algorithm, value) not in self.hashes:
            self.hashes.append((algorithm, value))

    def flag(self, name: str) -> bool | None:
        raw = self.obj.get(name)
        if raw is None or isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            lowered = raw.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            if not lowered:
                return None
        elif isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        self.problems.append(f"{name} {excerpt(str(raw))!r} is neither true nor false")
        return None

    def text(self, name: str) -> str | None:
        raw = self.obj.get(name)
        if type(raw) is str:  # the common case first: this runs millions of times
            return raw.strip() or None
        if raw is None or isinstance(raw, dict | list | bool):
            return None
        text = str(_plain(raw)).strip()
        return text or None

    def category(self) -> str | None:
        raw = self.obj.get("Category")
        if isinstance(raw, dict | list | bool):
            self.problems.append(f"Category {excerpt(str(raw))!r} is not a category label")
            return None
        return self.text("Category")

    def size(self) -> int | None:
        raw = self.obj.get("MediaSize")
        if raw is None or raw == "":
            return None
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
            return raw
        if isinstance(raw, str) and raw.strip().isdigit():
            return int(raw.strip())
        self.problems.append(f"MediaSize {excerpt(str(raw))!r} is not a size in bytes")
        return None

    def file_name(self) -> str | None:
        files = self.obj.get("MediaFiles")
        if not isinstance(files, list):
            return None
        for item in files:
            if isinstance(item, dict) and isinstance(item.get("FileName"), str):
                name = item["FileName"].strip()
                if name:
                    return str(name)
        return None

    def alternatives(self) -> None:
        alternatives = self.obj.get("AlternativeHashes")
        if not isinstance(alternatives, list):
            return
        for alt in alternatives:
            if not isinstance(alt, dict):
                continue
            name = alt.get("HashName")
            algorithm = ALTERNATIVE_HASH_NAMES.get(str(name).strip().lower())
            if algorithm is None:
                others = self.extra.setdefault("other_hashes", [])
                if len(others) < _EXTRA_LIST_LIMIT:
                    raw = alt.get("HashValue")
                    value = None if raw is None else str(_plain(raw))[:_EXTRA_TEXT_LIMIT]
                    others.append({"HashName": str(name), "HashValue": value})
                continue
            self.add_hash(algorithm, f"AlternativeHashes {name}", alt.get("HashValue"))

    def keep_extras(self) -> None:
        for name in EXTRA_FIELDS:
            value = self.obj.get(name)
            if value is None or value in ("", []):
                continue
            if isinstance(value, str):
                self.extra[name] = value[:_EXTRA_TEXT_LIMIT]
            elif isinstance(value, list):
                self.extra[name] = [
                    str(_plain(v))[:_EXTRA_TEXT_LIMIT] for v in value[:_EXTRA_LIST_LIMIT]
                ]
            elif not isinstance(value, dict):
                self.extra[name] = _plain(value)

    def baseline(self) -> bool | None:
        """INTERPOL Baseline, carried as ``MediaMetadata`` (VICS has no field for it)."""
        metadata = self.obj.get("MediaMetadata")
        if not isinstance(metadata, list):
            return None
        for item in metadata:
            if (
                isinstance(item, dict)
                and str(item.get("PropertyName", "")).strip().lower() == "baseline"
            ):
                value = str(item.get("PropertyValue", "")).strip().lower()
                if value in _TRUE:
                    return True
                if value in _FALSE:
                    return False
                self.problems.append(f"Baseline {excerpt(value)!r} is neither true nor false")
        return None

    def events(self) -> tuple[ParseEvent, ...]:
        obj = self.obj
        self.add_hash(MD5, "MD5", obj.get("MD5"))
        self.add_hash(SHA1, "SHA1", obj.get("SHA1"))
        self.add_hash(PHOTODNA, "PhotoDNA", obj.get("PhotoDNA"))
        self.alternatives()
        if not self.hashes:
            reason = "the record has no usable hash"
            if self.problems:
                reason += ": " + "; ".join(self.problems)
            return (Rejection(self.where, reason, _record_excerpt(obj)),)
        self.keep_extras()
        mime_type = self.text("MimeType")
        if mime_type is not None and mime_type.lower().startswith("video/"):
            self.extra["media_kind"] = "video"
        record = ReferenceRecord(
            hashes=self.hashes,
            where=self.where,
            record_key=self.text("MediaID"),
            category=self.category(),
            victim_identified=self.flag("VictimIdentified"),
            offender_identified=self.flag("OffenderIdentified"),
            distributed=self.flag("IsDistributed"),
            baseline=self.baseline(),
            series=self.text("Series"),
            mime_type=mime_type,
            media_size=self.size(),
            file_name=self.file_name(),
            extra=self.extra,
        )
        if not self.problems:
            return (record,)
        reason = "imported the record without: " + "; ".join(self.problems)
        return record, Rejection(self.where, reason, _record_excerpt(obj))


def media_events(obj: Any, where: str) -> tuple[ParseEvent, ...]:
    """One Media object as the record it describes, plus a rejection for what was unusable.

    A record is kept whenever it has at least one valid hash: losing a known hash because a
    flag is garbled would hide a match. Every value left out is named in one rejection for
    the record, so the import report shows it.
    """
    if not isinstance(obj, dict):
        return (Rejection(where, "a Media record must be a JSON object", _record_excerpt(obj)),)
    return _Media(obj, where).events()


@dataclass(slots=True)
class _Layout:
    """What the first few parse events say about the file."""

    metadata: str | None = None  # the metadata URL, when it comes before ``value``
    hashset: bool = False  # value[0] is a Media record (or value is empty)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | Decimal)


class VicsReader:
    """Project VIC VICS JSON 1.x and 2.0 (hash sets and case files)."""

    NAME = FORMAT_NAME
    description = "Project VIC VICS JSON 1.x and 2.0 (hash sets and case files)"

    def sniff(self, path: Path, head: bytes) -> bool:
        """A JSON object with a VICS metadata URL, or one opening with a Media list."""
        body = head.removeprefix(_BOM).lstrip()
        if not body.startswith(b"{"):
            return False
        unescaped = body.replace(b"\\/", b"/")
        if _SNIFF_META.search(unescaped):
            return True
        return bool(_SNIFF_VALUE_FIRST.match(body)) and (
            sum(key in body for key in _SNIFF_MEDIA_KEYS) >= 2
        )

    def read(self, path: Path) -> Iterator[ParseEvent]:
        layout = self._peek(path)
        fast = layout.metadata is not None and layout.hashset
        logger.debug("reading %s (ijson %s, fast path %s)", path, IJSON_BACKEND, fast)
        with path.open("rb") as f:
            if f.read(len(_BOM)) != _BOM:
                f.seek(0)
            if layout.metadata is not None and layout.hashset:
                yield from self._read_items(f, layout.metadata)
            else:
                yield from self._read_events(f)

    def _peek(self, path: Path) -> _Layout:
        """Look at the first events (at most one record) to choose the way through."""
        layout = _Layout()
        seen_value = False
        media_key = False  # value[0] has just named a "Media" member
        try:
            with path.open("rb") as f:
                if f.read(len(_BOM)) != _BOM:
                    f.seek(0)
                events = _IJSON.parse(f)
                first = next(events, None)
                if first is None or first[1] != "start_map":
                    raise InputFormatError(
                        f"{path} is not VICS JSON: the file does not hold a JSON object"
                    )
                for prefix, event, value in events:
                    if prefix in _META_KEYS and event == "string" and layout.metadata is None:
                        layout.metadata = value
                    elif prefix == "value" and event == "start_array":
                        seen_value = True
                        if layout.metadata is None:
                            break  # metadata later, if at all: the event walk finds it
                    elif prefix == "value" and event == "end_array":
                        layout.hashset = True
                        break
                    elif media_key and prefix == _MEDIA_LIST:
                        if event == "start_array":
                            break  # value[0] holds a Media list: a case file
                        media_key = False
                    elif prefix == _ITEM:
                        media_key = event == "map_key" and value == "Media"
                        if event == "end_map" or event not in _STARTS | {"map_key"}:
                            layout.hashset = True
                            break
                    elif prefix == "" and event == "end_map":
                        break
        except (ijson.JSONError, ValueError) as exc:
            if layout.metadata is None and not seen_value:
                raise InputFormatError(
                    f"{path} is not readable VICS JSON: {_json_error(exc)}"
                ) from exc
            return _Layout(metadata=layout.metadata)  # damaged early: the event walk reports it
        except OSError as exc:
            raise InputFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if layout.metadata is None and not seen_value:
            raise InputFormatError(
                f"{path} is not VICS JSON: it has neither a 'value' list nor a "
                "'@odata.context'/'odata.metadata' key"
            )
        return layout

    def _read_items(self, f: BinaryIO, metadata: str) -> Iterator[ParseEvent]:
        """The usual hash-set layout: each ``value`` item built in C by ijson."""
        fields = version_fields(metadata)
        fields["shape"] = "hashset"
        yield SetInfo(self.NAME, fields)
        number = 0
        try:
            for obj in _IJSON.items(f, _ITEM):
                number += 1
                yield from media_events(obj, f"record {number}")
        except (ijson.JSONError, ValueError) as exc:
            yield _damaged(number, exc)

    def _read_events(self, f: BinaryIO) -> Iterator[ParseEvent]:
        """Any layout: walk the parse events, building one record (or case header) at a time."""
        number = 0
        item: Any = None  # builder of value[i] (a Media record, or a case without its Media)
        media: Any = None  # builder of value[i].Media[j]
        case_info: dict[str, Any] | None = None  # header of the case being read
        declared: dict[str, Any] | None = None  # what the metadata URL said
        saw_case = False
        media_key = False  # the item being built has just named a "Media" member
        try:
            for prefix, event, value in _IJSON.parse(f):
                if media is not None:
                    media.event(event, value)
                    if prefix == _MEDIA_ITEM and event in _ENDS:
                        number += 1
                        yield from media_events(media.value, f"record {number}")
                        media = None
                    continue
                if item is not None:
                    if case_info is not None and (
                        prefix == _MEDIA_LIST or prefix.startswith(_MEDIA_NESTED)
                    ):
                        if prefix == _MEDIA_ITEM:
                            if event in _STARTS:
                                media = ijson.ObjectBuilder()
                                media.event(event, value)
                            else:
                                number += 1
                                yield from media_events(value, f"record {number}")
                        continue
                    if prefix == _ITEM and event == "map_key" and value == "Media":
                        media_key = True  # a case if a list follows: wait for the next event
                        continue
                    if media_key:
                        media_key = False
                        if prefix == _MEDIA_LIST and event == "start_array":
                            case_info, saw_case = _case_fields(item.value), True
                            yield SetInfo(self.NAME, {"shape": "case", "case": case_info})
                            continue
                        item.event("map_key", "Media")  # not a case after all
                    item.event(event, value)
                    if prefix == _ITEM and event in _ENDS:
                        if case_info is not None:
                            complete = _case_fields(item.value)
                            if complete != case_info:
                                yield SetInfo(self.NAME, {"shape": "case", "case": complete})
                        else:
                            number += 1
                            yield from media_events(item.value, f"record {number}")
                        item, case_info = None, None
                    continue
                if prefix == _ITEM:
                    if event in _STARTS:
                        item = ijson.ObjectBuilder()
                        item.event(event, value)
                    else:
                        number += 1
                        yield from media_events(value, f"record {number}")
                elif prefix in _META_KEYS and event == "string" and declared is None:
                    declared = version_fields(value)
                    yield SetInfo(self.NAME, declared)
        except (ijson.JSONError, ValueError) as exc:
            yield _damaged(number, exc)
        correction = _correction(declared, saw_case, number)
        if correction:
            yield SetInfo(self.NAME, correction)


def _correction(declared: dict[str, Any] | None, saw_case: bool, records: int) -> dict[str, Any]:
    """What the content showed that the metadata URL did not say (or said otherwise)."""
    fields: dict[str, Any] = {}
    if declared is None:
        fields = {"vics_version": None, "flavour": None}
    if saw_case or records:
        shape = "case" if saw_case else "hashset"
        if (declared or {}).get("shape") != shape:
            fields["shape"] = shape
    return fields


def _case_fields(case: Any) -> dict[str, Any]:
    """The case header's scalar fields (``CaseID``, ``CaseNumber``, ``ContactOrganization``...)."""
    if not isinstance(case, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in case.items():
        if key == "Media" or "odata" in key or not _scalar(value):
            continue
        plain = _plain(value)
        out[key] = plain[:_EXTRA_TEXT_LIMIT] if isinstance(plain, str) else plain
    return out


def _damaged(records_read: int, exc: Exception) -> Rejection:
    """The rejection that ends a damaged or truncated file."""
    return Rejection(
        f"after record {records_read}",
        f"the file is truncated or damaged after record {records_read}, so reading stopped "
        f"there; the {records_read} record(s) before it were read ({_json_error(exc)})",
    )
