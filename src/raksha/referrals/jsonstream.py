"""The records of a JSON referral file, one at a time, whatever the root's shape.

NCMEC hands out a single report as one object, a batch as a list, and some exports wrap
the list in an object (``{"reports": [...]}``); the alert format allows the same. A batch
can hold thousands of reports, so the file is parsed as a stream (ijson) and one record
is built at a time; a single object is built whole, which is fine at its size.

A file that ends early or breaks (a download cut short, a hand edit) gives every record
before the damage, then one :class:`ReferralProblem` saying where reading stopped: the
records before it are as good as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, BinaryIO, Final

import ijson

from raksha.referrals.records import ReferralProblem
from raksha.referrals.values import PrefixedReader, json_kind, skip_bom

logger = logging.getLogger(__name__)

_STARTS: Final = frozenset({"start_map", "start_array"})
_ENDS: Final = frozenset({"end_map", "end_array"})
_CHUNK: Final = 64 * 1024


class _EndedError(Exception):
    """The event stream stopped although the JSON was not complete."""


def _next(events: Iterator[tuple[str, Any]]) -> tuple[str, Any]:
    event = next(events, None)
    if event is None:
        raise _EndedError
    return event


def _build(events: Iterator[tuple[str, Any]], event: str, value: Any) -> Any:
    """The Python value whose first parse event is ``(event, value)``."""
    if event not in _STARTS:
        return value
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1
    while depth:
        event, value = _next(events)
        builder.event(event, value)
        if event in _STARTS:
            depth += 1
        elif event in _ENDS:
            depth -= 1
    return builder.value


def _parser_message(exc: Exception) -> str:
    """The first line of a parser error; yajl echoes the input after it, which we drop
    so that no content of the file ends up in a problem."""
    text = str(exc).strip()
    if text.startswith(("b'", 'b"')):
        text = text[2:]
    first = text.replace("\\n", "\n").splitlines()[0] if text else ""
    return first.strip()[:120] or type(exc).__name__


def _skip_space(stream: PrefixedReader) -> PrefixedReader | None:
    """``stream`` from its first non-space byte, or ``None`` when there is none (the
    parser would call an empty file "premature EOF", which reads as damage)."""
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return None
        start = chunk.lstrip()
        if start:
            return PrefixedReader(start, stream)


def json_records(
    stream: BinaryIO, *, label: str, wrapper_key: str
) -> Iterator[tuple[str, Any] | ReferralProblem]:
    """``(where, value)`` for each record (``where`` is ``"<label> <n>"``), then problems.

    The root may be one record (an object), a list of records, or an object whose
    ``wrapper_key`` member is that list (its other members are ignored). Values are not
    checked here, only found: a record that is not an object is the caller's to report.
    """
    try:
        body = _skip_space(skip_bom(stream))
    except OSError as exc:
        yield ReferralProblem("file", f"the file could not be read ({exc.strerror or exc})")
        return
    if body is None:
        yield ReferralProblem("file", f"the file holds no JSON, so no {label} was read")
        return
    events = ijson.basic_parse(body, use_float=True)
    count = 0
    inside = False  # a record has begun but not ended

    def records_of_list() -> Iterator[tuple[str, Any]]:
        nonlocal count, inside
        while True:
            event, value = _next(events)
            if event == "end_array":
                return
            inside = True
            record = _build(events, event, value)
            inside = False
            count += 1
            yield f"{label} {count}", record

    try:
        first = next(events, None)
        if first is None:
            yield ReferralProblem("file", f"the file holds no JSON, so no {label} was read")
            return
        event, value = first
        if event == "start_array":
            yield from records_of_list()
        elif event == "start_map":
            single: dict[str, Any] = {}
            wrapped = False
            inside = True
            while True:
                event, key = _next(events)
                if event == "end_map":
                    break
                event, value = _next(events)
                if key == wrapper_key and event == "start_array" and not wrapped:
                    wrapped = True
                    inside = False
                    yield from records_of_list()
                else:
                    single[key] = _build(events, event, value)
            inside = False
            if wrapped:
                ignored = sorted(single)
                if ignored:
                    logger.debug("ignored members beside %r: %s", wrapper_key, ignored)
            else:
                count += 1
                yield f"{label} {count}", single
        else:
            yield ReferralProblem(
                "file",
                f"the file holds a JSON {json_kind(value)}, not a {label} object or a list "
                f"of them; nothing was read",
            )
            return
        for _ in events:  # the parser checks that nothing follows the root
            pass
    except (_EndedError, ijson.JSONError, ValueError) as exc:
        reason = "the file ends early" if isinstance(exc, _EndedError) else _parser_message(exc)
        where = f"{label} {count + 1}" if inside else f"after {label} {count}"
        if count == 0 and not inside:
            where = "file"
        yield ReferralProblem(
            where,
            f"the JSON ends or is damaged here ({reason}); reading stopped, "
            f"the {count} {label}(s) before it were read",
        )
    except OSError as exc:
        yield ReferralProblem(
            f"after {label} {count}",
            f"the file could not be read further ({exc.strerror or exc}); "
            f"the {count} {label}(s) before it were read",
        )
