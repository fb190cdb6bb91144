"""What a hash-set reader yields, independent of the file format it came from.

Readers know nothing about the store: they turn a file into a stream of
:class:`ReferenceRecord` (one reference media item with one or more hashes),
:class:`Rejection` (a line or record that could not be used, and why) and, usually once
at the start, :class:`SetInfo` (what the file says about itself: a VICS version, a case
header). The importer consumes the stream and writes; a reader never holds more than one
record in memory, so files of millions of records import in flat memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class ReferenceRecord:
    """One reference media item as a hash set describes it.

    ``hashes`` holds ``(algorithm, value)`` pairs already normalised with
    :func:`raksha.hashes.normalize_hash`. ``where`` says where in the file the record was
    (``"line 12"``, ``"record 5"``) so problems found later can point back at it.
    ``category`` is the raw category label from the file (``"1"``, ``"A"``, ``"A1"``) or
    ``None``; mapping it to a meaning is the set's category scheme's job.
    """

    hashes: list[tuple[str, str]]
    where: str
    record_key: str | None = None
    category: str | None = None
    victim_identified: bool | None = None
    offender_identified: bool | None = None
    distributed: bool | None = None
    baseline: bool | None = None
    series: str | None = None
    mime_type: str | None = None
    media_size: int | None = None
    file_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class Rejection:
    """A line or record that was not imported, with the reason in words a user follows."""

    where: str
    reason: str
    excerpt: str = ""


@dataclass(slots=True)
class SetInfo:
    """Facts a file states about itself (format version, flavour, case header, ...)."""

    format_name: str
    fields: dict[str, Any] = field(default_factory=dict)


ParseEvent = ReferenceRecord | Rejection | SetInfo

#: Longest excerpt of a rejected line or record kept for the report.
EXCERPT_LIMIT = 200


def excerpt(text: str) -> str:
    """Shorten ``text`` for a rejection report."""
    text = text.strip()
    return text if len(text) <= EXCERPT_LIMIT else text[: EXCERPT_LIMIT - 1] + "…"
