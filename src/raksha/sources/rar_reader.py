"""RAR archives, when the optional ``rarfile`` module and an extraction tool are present.

RAR decompression is not in Python's standard library and the format's own tool is not
free software, so RAR support is optional: without ``rarfile`` and one of unrar, unar,
bsdtar or 7z, a RAR archive is still hashed as a file and reported as not expanded.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any, BinaryIO

from raksha.sources.base import (
    ArchiveLimitError,
    ArchiveNotExpandedError,
    ArchiveOpenError,
    reason_of,
)
from raksha.sources.capture import (
    Member,
    Opened,
    ReadContext,
    capture_chunks,
    fill_member,
    read_chunks,
)
from raksha.sources.zip_reader import declared_problem, dos_time

logger = logging.getLogger(__name__)

TOOL_MISSING = "RAR archives need unrar or bsdtar installed"
ENCRYPTED = "encrypted (password needed)"
_TOOLS = ("unrar", "unar", "bsdtar", "7z", "7zz")


def rar_module() -> Any | None:
    """The ``rarfile`` module when it and an extraction tool are available, else None."""
    if importlib.util.find_spec("rarfile") is None:
        return None
    if not any(shutil.which(tool) for tool in _TOOLS):
        return None
    return importlib.import_module("rarfile")


def open_rar(ctx: ReadContext, stream: BinaryIO, size: int, name_hint: str) -> Opened:
    module = rar_module()
    if module is None:
        raise ArchiveNotExpandedError(TOOL_MISSING)
    try:
        archive = module.RarFile(stream)
    except module.PasswordRequired as exc:
        raise ArchiveNotExpandedError(f"{ENCRYPTED}: the member names are encrypted too") from exc
    except Exception as exc:  # rarfile.Error and the parser's own failures
        raise ArchiveOpenError(f"not a readable RAR archive: {reason_of(exc)}") from exc
    return Opened(_members(ctx, module, archive))


def _when(info: Any) -> datetime | None:
    mtime = getattr(info, "mtime", None)
    if isinstance(mtime, datetime):
        return mtime.astimezone(UTC) if mtime.tzinfo else mtime.replace(tzinfo=UTC)
    return dos_time(tuple(info.date_time))


def _members(ctx: ReadContext, module: Any, archive: Any) -> Iterator[Member]:
    try:
        for info in archive.infolist():
            if info.is_dir():
                continue
            member = Member(info.filename, size=info.file_size, modified=_when(info))
            if info.is_symlink():
                member.kind = "link"
                member.error = "symbolic link not followed"
            elif info.needs_password():
                member.error = ENCRYPTED
            else:
                member.error = declared_problem(ctx.limits, info.file_size, info.compress_size)
            if member.error is None:
                ratio_in = partial(max, int(info.compress_size), 1)
                try:
                    with archive.open(info) as data:
                        captured = capture_chunks(ctx.sink(ratio_in), read_chunks(data))
                    fill_member(member, captured)
                except ArchiveLimitError as exc:
                    member.error = str(exc)
                except (module.Error, OSError, EOFError, ValueError) as exc:
                    member.error = f"damaged: {reason_of(exc)}"
            yield member
    finally:
        archive.close()
