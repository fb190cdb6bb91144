"""An export as a tree of named files, whether it arrived as a folder or as a zip.

Chat readers only list names and open files through :class:`ExportTree`, so one reader
serves a WhatsApp export that is a folder and one that is ``WhatsApp Chat - X.zip``.
Names are POSIX paths relative to the export's root. A media path the export itself
names is resolved with :func:`resolve_media`, which refuses anything that would leave
the export (``../``, absolute paths, links out of the folder).
"""

from __future__ import annotations

import os
import posixpath
import zipfile
from pathlib import Path
from typing import BinaryIO, Protocol

from raksha.sources.base import is_inside, open_readonly


class ExportTree(Protocol):
    """Read-only access to the files of one export."""

    label: str

    def names(self) -> list[str]: ...

    def exists(self, name: str) -> bool: ...

    def open(self, name: str) -> BinaryIO: ...

    def size(self, name: str) -> int | None: ...


class FolderTree:
    """An export folder on disk (opened read-only, links not followed out of it)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.label = root.name
        self._names: list[str] | None = None

    def names(self) -> list[str]:
        if self._names is None:
            out: list[str] = []
            for folder, dirs, files in os.walk(self.root):
                dirs.sort()
                rel = os.path.relpath(folder, self.root)
                for name in sorted(files):
                    out.append(name if rel == "." else f"{Path(rel).as_posix()}/{name}")
            self._names = out
        return self._names

    def _path(self, name: str) -> Path | None:
        path = (self.root / name).resolve()
        return path if is_inside(str(path), str(self.root)) else None

    def exists(self, name: str) -> bool:
        path = self._path(name)
        return path is not None and path.is_file()

    def open(self, name: str) -> BinaryIO:
        path = self._path(name)
        if path is None:
            raise FileNotFoundError(f"{name} lies outside the export")
        return open_readonly(str(path))

    def size(self, name: str) -> int | None:
        path = self._path(name)
        try:
            return path.stat().st_size if path is not None else None
        except OSError:
            return None


class ZipTree:
    """An export delivered as a zip (iOS WhatsApp, a Messenger download)."""

    def __init__(self, path: Path) -> None:
        self.label = path.name
        self._zip = zipfile.ZipFile(open_readonly(str(path)))
        self._infos = {
            i.filename.replace("\\", "/"): i for i in self._zip.infolist() if not i.is_dir()
        }

    def names(self) -> list[str]:
        return sorted(self._infos)

    def exists(self, name: str) -> bool:
        return name in self._infos

    def open(self, name: str) -> BinaryIO:
        info = self._infos.get(name)
        if info is None:
            raise FileNotFoundError(f"{name} is not in {self.label}")
        return self._zip.open(info)  # type: ignore[return-value]

    def size(self, name: str) -> int | None:
        info = self._infos.get(name)
        return info.file_size if info is not None else None

    def close(self) -> None:
        self._zip.close()


def resolve_media(base: str, raw: str) -> tuple[str | None, str | None]:
    """(path relative to the export root, problem) for a media path written in a file at
    folder ``base`` of the export; the problem is set when the path would leave it."""
    text = raw.replace("\\", "/").strip()
    if not text:
        return None, "empty media path"
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return None, f"media path {raw!r} is absolute: it points outside the export"
    joined = posixpath.normpath(posixpath.join(base, text)) if base else posixpath.normpath(text)
    if joined == ".." or joined.startswith("../"):
        return None, f"media path {raw!r} points outside the export"
    return joined.removeprefix("./"), None
