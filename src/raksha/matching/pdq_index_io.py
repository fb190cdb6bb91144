"""The PDQ index on disk: a JSON manifest and plain ``.npy`` arrays, written atomically.

Layout of an index directory::

    manifest.json            format name, format_version, geometry, counts, file list,
                             the caller's metadata (e.g. a database sync watermark)
    base.ids.npy ...         one file per array of each segment (``base``, ``delta``)

Nothing is pickled: every array is saved with ``allow_pickle=False`` and loaded the same
way, memory-mapped by default so a 10 M-row index opens in well under a second and the
operating system shares its pages between processes.

A save writes a complete new directory beside the target (every file fsynced), then swaps
it in with two renames. A crash leaves either the old index, the new one, or (between the
renames) the old one under ``.NAME.old``, which :func:`load_segments` falls back to.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from raksha.errors import IndexFormatError, UsageError
from raksha.matching import pdq_bits as bits
from raksha.matching.pdq_segment import Segment, segment_arrays, segment_geometry
from raksha.matching.pdq_tables import table_from

logger = logging.getLogger(__name__)

FORMAT_NAME = "raksha-pdq-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SEGMENT_NAMES = ("base", "delta")


def _old_path(directory: Path) -> Path:
    return directory.with_name(f".{directory.name}.old")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _write_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as handle:
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())


def save_segments(
    directory: Path,
    segments: dict[str, Segment],
    metadata: dict[str, Any],
    options: dict[str, Any],
) -> None:
    """Write ``segments`` to ``directory`` atomically (see the module docstring)."""
    directory = Path(directory)
    try:
        metadata_text = json.dumps(metadata)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"PDQ index metadata must be plain JSON: {exc}") from exc
    if directory.exists() and not (directory / MANIFEST).exists() and any(directory.iterdir()):
        raise UsageError(f"{directory} exists and is not a PDQ index; refusing to replace it")
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    try:
        files: dict[str, dict[str, Any]] = {}
        geometry: dict[str, Any] = {}
        for name, segment in segments.items():
            geometry[name] = segment_geometry(segment)
            for stem, array in segment_arrays(segment).items():
                file_name = f"{name}.{stem}.npy"
                _write_npy(tmp / file_name, array)
                files[file_name] = {"dtype": array.dtype.str, "shape": list(array.shape)}
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "entries": sum(s.live for s in segments.values()),
            "options": options,
            "segments": geometry,
            "files": files,
            "metadata": json.loads(metadata_text),
        }
        with (tmp / MANIFEST).open("w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(tmp)
        old = _old_path(directory)
        if old.exists():
            shutil.rmtree(old)
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        _fsync_dir(directory.parent)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("saved the PDQ index to %s (%s entries)", directory, manifest["entries"])


def _damaged(directory: Path, why: str) -> IndexFormatError:
    return IndexFormatError(f"the PDQ index in {directory} is damaged ({why}); rebuild it")


def _read_manifest(directory: Path) -> tuple[Path, dict[str, Any]]:
    path = directory / MANIFEST
    if not path.exists():
        old = _old_path(directory)
        if (old / MANIFEST).exists():
            logger.warning("the PDQ index save into %s was interrupted; using %s", directory, old)
            directory, path = old, old / MANIFEST
        else:
            raise IndexFormatError(f"no PDQ index in {directory}; build it first")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _damaged(directory, f"unreadable manifest: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise IndexFormatError(f"{path} is not a Raksha PDQ index manifest; rebuild the index")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise IndexFormatError(
            f"the PDQ index in {directory} has format version {version!r}; this Raksha "
            f"reads version {FORMAT_VERSION}: rebuild the index"
        )
    return directory, manifest


def load_segments(
    directory: Path, mmap: bool
) -> tuple[dict[str, Segment], dict[str, Any], dict[str, Any]]:
    """(segments by name, user metadata, build options) from ``directory``."""
    directory, manifest = _read_manifest(Path(directory))
    try:
        files = manifest["files"]
        geometry = manifest["segments"]
        metadata = manifest.get("metadata") or {}
        options = manifest.get("options") or {}
        if not isinstance(metadata, dict) or not isinstance(options, dict):
            raise TypeError("metadata and options must be objects")
        segments = {
            name: _load_segment(directory, name, geometry[name], files, mmap)
            for name in SEGMENT_NAMES
        }
    except IndexFormatError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise _damaged(directory, f"{type(exc).__name__}: {exc}") from exc
    return segments, metadata, options


def _load_segment(
    directory: Path, name: str, geometry: dict[str, Any], files: dict[str, Any], mmap: bool
) -> Segment:
    def array(stem: str) -> np.ndarray:
        file_name = f"{name}.{stem}.npy"
        expected = files[file_name]
        loaded = np.load(directory / file_name, mmap_mode="r" if mmap else None, allow_pickle=False)
        if loaded.dtype.str != expected["dtype"] or list(loaded.shape) != expected["shape"]:
            raise _damaged(directory, f"{file_name} is not the array the manifest describes")
        # A plain ndarray view of the memmap: numpy's subclass hooks cost on every take.
        out: np.ndarray = np.asarray(loaded)
        return out

    rows = int(geometry["rows"])
    ids, head, tail = array("ids"), array("head"), array("tail")
    alive = np.array(array("alive"), dtype=bool)  # a writable copy: removals change it
    order = array("order")
    tables = []
    start_check = 0
    for k, chunk in enumerate(geometry["chunks"]):
        table = table_from(chunk, array(f"coarse{k}"), array(f"packed{k}"), array(f"escapes{k}"))
        if table is None or table.start != start_check:
            raise _damaged(directory, f"chunk {k} of {name} is inconsistent")
        start_check += table.width
        tables.append(table)
    if (
        start_check > bits.HASH_BITS
        or ids.shape != (rows,)
        or ids.dtype not in (np.dtype(np.int64), np.dtype(np.uint32))
        or head.shape != (rows, 2)
        or tail.shape != (rows, 2)
        or head.dtype != np.uint64
        or tail.dtype != np.uint64
        or alive.shape != (rows,)
        or order.shape != (len(tables) * rows,)
        or order.dtype != np.uint32
        or (rows > 1 and not bool(np.all(ids[1:] > ids[:-1])))
    ):
        raise _damaged(directory, f"the {name} arrays are inconsistent")
    return Segment(ids, head, tail, alive, order, tables, int(geometry.get("id_base", 0)))
