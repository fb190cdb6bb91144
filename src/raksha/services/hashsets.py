"""Importing and exporting hash sets: format detection, category schemes, file hashing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal

from raksha.errors import NotFoundError, UsageError
from raksha.hashing.crypto import digest_file
from raksha.hashsets.categories import (
    default_scheme_for,
    get_scheme,
    parse_category_map,
)
from raksha.hashsets.registry import detect, get_reader
from raksha.hashsets.vpdq import write_vpdq_zip
from raksha.hashsets.writers import write_typed_text, write_vics_json
from raksha.store.db import Store
from raksha.store.hashset_import import (
    HashSetImporter,
    ImportMode,
    ImportReport,
    ProgressCallback,
    SetDescription,
    SourceFile,
)
from raksha.store.hashset_repo import get_set, iter_set_records

logger = logging.getLogger(__name__)

ExportFormat = Literal["vics", "typed", "vpdq"]
EXPORT_FORMATS: tuple[str, ...] = ("vics", "typed", "vpdq")


def import_hashset(
    store: Store,
    path: Path,
    *,
    name: str | None = None,
    format_name: str | None = None,
    source_agency: str | None = None,
    version: str | None = None,
    description: str | None = None,
    kind: str | None = None,
    category_scheme: str | None = None,
    category_map: str | None = None,
    pdq_threshold: int | None = None,
    video_threshold: int | None = None,
    mode: ImportMode = "replace",
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import ``path`` into the set ``name`` (default: the file's stem)."""
    if not path.is_file():
        raise NotFoundError(f"{path} is not a file that can be read")
    if kind not in (None, "reference", "known"):
        raise UsageError("--kind is 'reference' (flags matches) or 'known' (skips files)")
    reader = get_reader(format_name) if format_name else detect(path)
    if category_scheme is not None:
        get_scheme(category_scheme)  # fail early on a typo
    overrides = parse_category_map(category_map) if category_map else {}
    digests = digest_file(path)  # the evidence of what was imported, taken first
    source = SourceFile(str(path), digests.sha256, digests.size, reader.NAME)
    desc = SetDescription(
        name=name or path.stem,
        source_agency=source_agency,
        version=version,
        description=description,
        kind=kind,
        category_scheme=category_scheme,
        pdq_threshold=pdq_threshold,
        video_threshold=video_threshold,
        mode=mode,
    )

    def complete(d: SetDescription, set_info: dict[str, Any]) -> None:
        if d.kind is None:
            d.kind = "known" if set_info.get("known_files") else "reference"
        if d.category_scheme is None:
            d.category_scheme = default_scheme_for(reader.NAME, set_info)
        labels = dict(get_scheme(d.category_scheme).labels)
        labels.update(overrides)
        d.category_labels = labels

    logger.info("importing %s as %s into %r", path, reader.NAME, desc.name)
    return HashSetImporter(store).run(
        reader.read(path), desc, source, on_progress=on_progress, complete=complete
    )


def export_hashset(store: Store, name: str, out: BinaryIO, format_name: str) -> int:
    """Write set ``name`` to ``out``.

    Returns the number of records (vics), lines (typed) or videos (vpdq: a ZIP with one
    signature file per reference video; the set's other records are left out).
    """
    summary = get_set(store, name)
    records = iter_set_records(store, summary.id)
    if format_name == "vics":
        flavour = "UK" if summary.category_scheme == "uk-caid" else "Default"
        return write_vics_json(out, records, flavour=flavour)
    if format_name == "typed":
        import io

        text = io.TextIOWrapper(out, encoding="utf-8", newline="\n", write_through=True)
        try:
            return write_typed_text(text, records)
        finally:
            text.detach()
    if format_name == "vpdq":
        return write_vpdq_zip(out, records)
    raise UsageError(
        f"unknown export format {format_name!r}; choose one of: {', '.join(EXPORT_FORMATS)}"
    )


def records_of(store: Store, name: str) -> Iterator[Any]:
    """Every record of a set (used by tests and the demo)."""
    return iter_set_records(store, get_set(store, name).id)
