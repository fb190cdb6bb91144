"""A folder of evidence (a mounted image, a copied phone dump), walked read-only.

The walk is depth-first in sorted byte order of names, so a resumed scan meets the same
locators in the same order. Symbolic links are never followed: following them could
leave the evidence (a link to ``/``), loop forever, or scan the same files twice; each
link becomes an item that says where it points and why it was not followed. Directories
are also remembered by (device, inode), so a bind mount that loops is still caught.
Every regular file is sniffed by content: archives are opened whatever their name.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from raksha.sources.archives import expand, new_context
from raksha.sources.base import (
    DEFAULT_LIMITS,
    BaseSource,
    FilePayload,
    SourceItem,
    SourceLimits,
    escape_name,
    is_inside,
    open_directory,
    open_readonly,
    read_head,
    reason_of,
    refuse_temp_inside,
    stat_times,
)
from raksha.sources.magic import sniff_archive

logger = logging.getLogger(__name__)

_SPECIAL = (
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


def _special_label(mode: int) -> str:
    for test, label in _SPECIAL:
        if test(mode):
            return label
    return "unknown file type"


def _listing(path: str, *, follow: bool = False) -> list[str] | OSError:
    """A directory's names in sorted byte order, or why it cannot be read.

    Listed through a descriptor opened with ``O_NOATIME`` where the OS has it, so reading
    the directory does not change its access time either.
    """
    try:
        if os.scandir in os.supports_fd:
            fd = open_directory(path, follow=follow)
            try:
                with os.scandir(fd) as it:
                    names = [entry.name for entry in it]
            finally:
                os.close(fd)
        else:
            with os.scandir(path) as it:
                names = [entry.name for entry in it]
    except OSError as exc:
        return exc
    names.sort(key=os.fsencode)
    return names


class FolderSource(BaseSource):
    """Every file below a folder; locators are paths relative to it (``DCIM/IMG_1.jpg``)."""

    NAME = "folder"

    def __init__(
        self,
        root: Path,
        limits: SourceLimits = DEFAULT_LIMITS,
        *,
        temp_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        refuse_temp_inside(os.fspath(root), temp_dir)
        super().__init__(escape_name(root.name or str(root)), limits, temp_dir)
        self.root = os.path.abspath(os.fspath(root))
        self._real_root = os.path.realpath(self.root)

    def _item(
        self, rel: str, st: os.stat_result | None, *, kind: str = "file", error: str | None = None
    ) -> SourceItem:
        times = stat_times(st) if st is not None else (None, None, None, None)
        size = st.st_size if st is not None and kind != "directory" else None
        return SourceItem(rel, size, *times, payload=None, error=error, kind=kind)

    def _walk(self) -> Iterator[SourceItem]:
        try:
            root_st = os.stat(self.root)
            root_listing = _listing(self.root, follow=True)
        except OSError as exc:
            root_listing = exc
        if isinstance(root_listing, OSError):
            reason = reason_of(root_listing)
            yield self._item(".", None, kind="directory", error=f"unreadable directory: {reason}")
            return
        seen = {(root_st.st_dev, root_st.st_ino)}
        stack: list[tuple[str, str, Iterator[str]]] = [("", self.root, iter(root_listing))]
        while stack:
            prefix, folder, names = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                continue
            rel = prefix + escape_name(name)
            path = os.path.join(folder, name)
            try:
                st = os.lstat(path)
            except OSError as exc:
                yield self._item(rel, None, error=f"unreadable: {reason_of(exc)}")
                continue
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    error = "directory not scanned again: it was reached before (a loop?)"
                    yield self._item(rel, st, kind="directory", error=error)
                    continue
                seen.add(key)
                listing = _listing(path)
                if isinstance(listing, OSError):
                    error = f"unreadable directory: {reason_of(listing)}"
                    yield self._item(rel, st, kind="directory", error=error)
                    continue
                stack.append((rel + "/", path, iter(listing)))
            elif stat.S_ISLNK(mode):
                yield self._item(rel, st, kind="link", error=self._link_reason(path))
            elif stat.S_ISREG(mode):
                yield from self._file(rel, path, st)
            else:
                error = f"special file not read: {_special_label(mode)}"
                yield self._item(rel, st, kind="special", error=error)

    def _link_reason(self, path: str) -> str:
        try:
            shown = escape_name(os.readlink(path))
        except OSError:
            shown = "?"
        try:
            real = os.path.realpath(path, strict=True)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                why = "it is part of a loop"
            elif exc.errno == errno.ENOENT:
                why = "target does not exist"
            else:
                why = f"target cannot be reached ({reason_of(exc)})"
        else:
            here = os.path.realpath(os.path.dirname(path))
            if os.path.isdir(real) and is_inside(here, real):
                why = "it is part of a loop (points to a folder that contains it)"
            elif is_inside(real, self._real_root):
                why = "target inside the evidence root is scanned there"
            else:
                why = "leaves the evidence root"
        return f"symbolic link not followed: {why} (-> {shown})"

    def _file(self, rel: str, path: str, st: os.stat_result) -> Iterator[SourceItem]:
        item = self._item(rel, st)
        try:
            stream = open_readonly(path, follow=False)
        except OSError as exc:
            item.error = f"unreadable: {reason_of(exc)}"
            yield item
            return
        with contextlib.closing(stream):
            try:
                now = os.fstat(stream.fileno())
                if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (
                    st.st_dev,
                    st.st_ino,
                ):
                    item.error = "unreadable: the file was replaced while being scanned"
                    yield item
                    return
                head = read_head(stream)
                stream.seek(0)
            except OSError as exc:
                item.error = f"unreadable: {reason_of(exc)}"
                yield item
                return
            item.payload = FilePayload(path)
            ctx = new_context(self.limits, self._temp)
            name = os.path.basename(path)
            yield from expand(ctx, item, sniff_archive(head), lambda: stream, name)
