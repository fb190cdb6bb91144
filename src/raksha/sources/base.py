"""What a source yields, the limits it reads under, and the helpers every source shares.

A source opens evidence read-only and turns it into :class:`SourceItem` values; it knows
nothing about hashing or storage. Payloads are plain data (a path or a byte string) so a
batch of them can be sent to a worker process. Members of archives that are too big to
carry in memory are written to a private temporary folder that belongs to the source and
is removed by :meth:`BaseSource.close` (and on any exception), never into the evidence.

Locators are the names a report shows and the database keys an item by, so they must be
valid UTF-8, deterministic and unique: :func:`escape_name` makes names visible and
unambiguous, whatever bytes the evidence used.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import stat
import sys
import tempfile
import weakref
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import BinaryIO, ClassVar, Protocol, TypeAlias

from raksha.errors import InputFormatError, UsageError

logger = logging.getLogger(__name__)

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

HEAD_SIZE = 512  # enough to recognise every archive format, tar's header included
SEPARATOR = " > "  # between an archive's locator and a member's name
ITEM_KINDS = ("file", "archive", "link", "special", "directory", "image", "volume")


@dataclass(frozen=True, slots=True)
class FilePayload:
    """A real file a worker process can open and read (evidence, or a private temp file)."""

    path: str


@dataclass(frozen=True, slots=True)
class BytesPayload:
    """A small member carried in memory; picklable, so it travels with its batch."""

    data: bytes = field(repr=False)


Payload: TypeAlias = FilePayload | BytesPayload


@dataclass(slots=True)
class SourceItem:
    """One thing found in the evidence: a file, an archive, a member, or something not read.

    ``payload`` is None exactly when the bytes could not (or must not) be read; ``error``
    then says why. An item may carry both a payload and an error when its bytes were read
    but something about it is hostile or incomplete (a member named ``../x``); consumers
    hash the payload and record the error. ``note`` holds remarks that are not failures.
    """

    locator: str
    size: int | None
    modified: datetime | None
    accessed: datetime | None
    changed: datetime | None
    created: datetime | None
    payload: Payload | None
    error: str | None = None
    kind: str = "file"
    depth: int = 0
    note: str | None = None
    allocation: str | None = None  # disk images: allocated, deleted or carved
    inode: str | None = None  # disk images: the file system's metadata address
    offset: int | None = None  # disk images: absolute byte offset of the data in the media


@dataclass(frozen=True, slots=True)
class SourceLimits:
    """Bounds that keep hostile archives (bombs, endless nesting) from exhausting the machine.

    ``ratio_min_bytes``: the compression-ratio test only applies once a member (or a
    compressed stream) has produced this many bytes, so a small file of zeros is not
    called a bomb; the ratio of a bomb only matters once its output is large.
    """

    max_depth: int = 3
    max_member_size: int = 4 * GIB
    max_total_size: int = 64 * GIB
    max_ratio: int = 200
    inline_limit: int = 16 * MIB
    max_members: int = 1_000_000
    ratio_min_bytes: int = 1 * MIB


DEFAULT_LIMITS = SourceLimits()


class Source(Protocol):
    """What the scan codes against: a named root and a deterministic stream of items.

    ``close`` removes the private temporary area; a source is also a context manager
    that closes on exit.
    """

    NAME: ClassVar[str]
    root_locator: str

    def items(self) -> Iterator[SourceItem]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Source: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class ArchiveLimitError(InputFormatError):
    """Reading an archive crossed a limit (a bomb, or simply too big to extract).

    ``stop`` is True when the archive cannot be read any further after this (a stream
    that would have to be decompressed through the bomb to reach the next member).
    """

    def __init__(self, message: str, *, stop: bool = False) -> None:
        super().__init__(message)
        self.stop = stop


class ArchiveOpenError(InputFormatError):
    """A file looks like an archive by its magic bytes but cannot be opened as one."""


class ArchiveNotExpandedError(InputFormatError):
    """A valid archive whose members cannot be listed here (encrypted names, no RAR tool)."""


class EvidenceUnreadableError(InputFormatError):
    """The evidence root itself cannot be opened for reading."""


# -- names -----------------------------------------------------------------------------------

_PLAIN = re.compile(r"[\x20-\x5b\x5d-\x7e]*")  # printable ASCII without backslash
_ESCAPE_AHEAD = re.compile(r"x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}")


def _escaped_at(name: str, i: int) -> bool:
    """Whether ``escape_name`` writes ``name[i]`` as a backslash escape."""
    code = ord(name[i])
    if code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF:
        return True
    return name[i] == ">" and 0 < i < len(name) - 1 and name[i - 1] == " " == name[i + 1]


def escape_name(name: str) -> str:
    """A visible, UTF-8-encodable and unambiguous form of one stored name.

    Bytes that are not UTF-8 (kept by ``surrogateescape``) become ``\\xff``, control
    characters ``\\x0a``, lone surrogates ``\\ud800``; ``>`` between spaces becomes ``\\x3e``
    so a name can never contain the locator separator `` > ``. A real backslash is doubled
    only where it would otherwise read as the start of an escape, so ordinary names with
    backslashes (Windows-made zips) stay as they are and two different names never
    escape to the same text.
    """
    if _PLAIN.fullmatch(name) and SEPARATOR not in name:
        return name
    out: list[str] = []
    for i, ch in enumerate(name):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        elif _escaped_at(name, i):
            out.append(f"\\x{code:02x}")
        elif (
            ch == "\\"
            and i + 1 < len(name)
            and (
                name[i + 1] == "\\" or _escaped_at(name, i + 1) or _ESCAPE_AHEAD.match(name, i + 1)
            )
        ):
            out.append("\\\\")
        else:
            out.append(ch)
    return "".join(out)


def path_problem(name: str) -> str | None:
    """Why a stored member name would escape an extraction folder, or None when it is safe.

    Members are never extracted by their names (temporary files get generated names), so
    such members are still read; the reason is reported because it marks a hostile or
    damaged archive.
    """
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "path escapes the archive (absolute path)"
    if any(part == ".." for part in re.split(r"[/\\]", name)):
        return "path escapes the archive (../)"
    return None


def human_size(n: int) -> str:
    """Bytes as a short readable size (``4 GiB``, ``1.5 MiB``) for messages."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            text = f"{value:.1f}".removesuffix(".0")
            return f"{text} {unit}" if unit != "bytes" else f"{n} bytes"
        value /= 1024
    raise AssertionError("unreachable")


# -- times -----------------------------------------------------------------------------------


def utc_from_timestamp(seconds: float | None) -> datetime | None:
    """A UTC-aware time from POSIX seconds; None when absent or out of range (hostile)."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def stat_times(
    st: os.stat_result,
) -> tuple[datetime | None, datetime | None, datetime | None, datetime | None]:
    """(modified, accessed, changed, created) from a stat result, as the platform knows them."""
    modified = utc_from_timestamp(st.st_mtime_ns / 1e9)
    accessed = utc_from_timestamp(st.st_atime_ns / 1e9)
    birth = getattr(st, "st_birthtime", None)
    if sys.platform == "win32":  # st_ctime is the creation time there
        return modified, accessed, None, utc_from_timestamp(st.st_ctime_ns / 1e9)
    changed = utc_from_timestamp(st.st_ctime_ns / 1e9)
    return modified, accessed, changed, utc_from_timestamp(birth)


# -- reading evidence ------------------------------------------------------------------------

_NOATIME = getattr(os, "O_NOATIME", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def open_readonly(path: str, *, follow: bool = True) -> BinaryIO:
    """Open evidence for reading without touching its access time where the OS allows.

    ``O_NOATIME`` is only permitted to the file's owner (or root); elsewhere it fails with
    EPERM and the file is opened without it. ``follow=False`` refuses a symbolic link that
    replaced a file after it was listed. ``O_NONBLOCK`` keeps a FIFO from blocking the
    scan at open (callers check the file type with ``fstat`` before reading); it has no
    effect on reading regular files or disks.
    """
    flags = os.O_RDONLY | _BINARY | getattr(os, "O_NONBLOCK", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | _NOATIME)
    except PermissionError as exc:
        if not _NOATIME or exc.errno != errno.EPERM:
            raise
        fd = os.open(path, flags)
    return os.fdopen(fd, "rb")


def open_directory(path: str, *, follow: bool = False) -> int:
    """A descriptor for listing a directory without touching its access time where allowed."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(path, flags | _NOATIME)
    except PermissionError as exc:
        if not _NOATIME or exc.errno != errno.EPERM:
            raise
        return os.open(path, flags)


def read_head(stream: BinaryIO, size: int = HEAD_SIZE) -> bytes:
    """The first ``size`` bytes of a stream (fewer if it is shorter), read fully."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def reason_of(exc: BaseException) -> str:
    """A short human reason for an exception (the OS message for OSError)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip()
    return text or type(exc).__name__


def is_inside(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or below it (both already resolved)."""
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives on Windows
        return False


# -- the private temporary area --------------------------------------------------------------


class TempArea:
    """A private folder (mode 0700) for members too big to carry in memory.

    Created only when first needed and removed whole on :meth:`close`, on garbage
    collection and at interpreter exit, so extracted material never outlives the source.
    Files are named by a counter, never by a member's stored name, so hostile names
    (``../``, absolute paths) cannot point anywhere.
    """

    def __init__(self, parent: str | None = None) -> None:
        self._parent = parent
        self._path: str | None = None
        self._counter = 0
        self._finalizer: Callable[[], object] | None = None

    @property
    def path(self) -> str | None:
        return self._path

    def _ensure(self) -> str:
        if self._path is None:
            path = tempfile.mkdtemp(prefix="raksha-src-", dir=self._parent)
            os.chmod(path, stat.S_IRWXU)
            self._path = path
            self._finalizer = weakref.finalize(self, shutil.rmtree, path, True)
        return self._path

    def new_file(self) -> tuple[int, str]:
        """A fresh private file opened for writing: (descriptor, path)."""
        folder = self._ensure()
        self._counter += 1
        path = os.path.join(folder, f"m{self._counter:09d}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY
        return os.open(path, flags, stat.S_IRUSR | stat.S_IWUSR), path

    def owns(self, path: str) -> bool:
        return self._path is not None and os.path.dirname(path) == self._path

    def release(self, path: str) -> None:
        """Delete one temp file early (the consumer is done with it); others are untouched."""
        if self.owns(path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # runs rmtree once; later calls do nothing
        self._path = None


# -- the shared source machinery -------------------------------------------------------------


class ItemStream(Iterator[SourceItem]):
    """The iterator ``items()`` returns: a generator that is also a context manager.

    Leaving the ``with`` block closes the walk and the source (its temporary area too),
    so use it only when every payload has been consumed.
    """

    def __init__(self, gen: Generator[SourceItem, None, None], source: BaseSource) -> None:
        self._gen = gen
        self._source = source

    def __iter__(self) -> ItemStream:
        return self

    def __next__(self) -> SourceItem:
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()

    def __enter__(self) -> ItemStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        self._source.close()


class BaseSource:
    """Common life cycle: the temporary area, ``items()`` and cleanup on every way out."""

    NAME: ClassVar[str] = "source"

    def __init__(
        self, root_locator: str, limits: SourceLimits, temp_dir: str | os.PathLike[str] | None
    ) -> None:
        self.root_locator = root_locator
        self.limits = limits
        self._temp = TempArea(os.fspath(temp_dir) if temp_dir is not None else None)
        self._streams: list[ItemStream] = []

    @property
    def temp_path(self) -> str | None:
        """The private temporary folder while it exists (tests check it is gone)."""
        return self._temp.path

    def _walk(self) -> Iterator[SourceItem]:
        raise NotImplementedError

    def _guarded(self) -> Generator[SourceItem, None, None]:
        try:
            yield from self._walk()
        except GeneratorExit:
            raise
        except BaseException:
            # Something broke the walk (KeyboardInterrupt included): nothing handed out so
            # far will be read any more, so extracted material goes now.
            self._temp.close()
            raise

    def items(self) -> ItemStream:
        stream = ItemStream(self._guarded(), self)
        self._streams.append(stream)
        return stream

    def release(self, payload: Payload) -> None:
        """Let go of one payload early: deletes it if it is a file in the temporary area."""
        if isinstance(payload, FilePayload):
            self._temp.release(payload.path)

    def close(self) -> None:
        for stream in self._streams:
            stream.close()
        self._streams.clear()
        self._temp.close()

    def __enter__(self) -> BaseSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def refuse_temp_inside(evidence_root: str, temp_dir: str | os.PathLike[str] | None) -> None:
    """Raise when the temporary area would be created inside the evidence folder."""
    parent = os.path.realpath(
        os.fspath(temp_dir) if temp_dir is not None else tempfile.gettempdir()
    )
    root = os.path.realpath(evidence_root)
    if is_inside(parent, root):
        raise UsageError(
            f"the temporary folder {parent} lies inside the evidence {root}; "
            "set TMPDIR to a folder outside the evidence"
        )
