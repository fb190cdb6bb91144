"""Evidence sources: folders, archives and single files, opened read-only, as items.

A source yields :class:`~raksha.sources.base.SourceItem` values with a locator, metadata
and a payload a worker can read; it knows nothing about hashing or storage. Use
:func:`~raksha.sources.detect.open_source` to get the right one for a path.
"""

from __future__ import annotations

from raksha.sources.base import (
    BytesPayload,
    FilePayload,
    Payload,
    Source,
    SourceItem,
    SourceLimits,
)
from raksha.sources.detect import SingleFileSource, open_source, sniff_archive

__all__ = [
    "BytesPayload",
    "FilePayload",
    "Payload",
    "SingleFileSource",
    "Source",
    "SourceItem",
    "SourceLimits",
    "open_source",
    "sniff_archive",
]
