"""``raksha hash`` and ``raksha match``: hashes of files, and what they match."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import typer

from raksha.cli.context import app_context, console, emit_json, err_console
from raksha.errors import HashingError
from raksha.hashing.files import hash_file
from raksha.matching.matcher import Matcher, QueryResult
from raksha.services.matching import MatchInput, match_stream

EXIT_SOME_FAILED = 8


def hash_command(
    files: list[Path] = typer.Argument(..., help="Files to hash.", show_default=False),
    dihedral: bool = typer.Option(
        False, "--dihedral", help="Also print the 8 rotated/flipped PDQ hashes of images."
    ),
    json_out: bool = typer.Option(False, "--json", help="One JSON object a line."),
) -> None:
    """Print MD5, SHA-1, SHA-256 and, for images (found by content), PDQ and its quality;
    for videos and animations, the vPDQ frame hashes (one a second) with time and quality.

    Exit code 8 when some file could not be read or decoded (the others are still printed).
    """
    failed = 0
    for path in files:
        try:
            h = hash_file(path, dihedral=dihedral)
        except HashingError as exc:
            failed += 1
            if json_out:
                emit_json({"path": str(path), "error": str(exc)})
            else:
                err_console.print(f"[red]{path}[/]: {exc}", highlight=False)
            continue
        failed += h.error is not None
        if json_out:
            emit_json(h.as_dict())
            continue
        console.print(f"[bold]{h.path}[/] ({h.size:,} bytes)", highlight=False)
        console.print(f"  md5    {h.md5}\n  sha1   {h.sha1}\n  sha256 {h.sha256}")
        if h.pdq is not None:
            low = " (low information: not used for matching)" if (h.pdq_quality or 0) < 50 else ""
            console.print(f"  pdq    {h.pdq}  quality {h.pdq_quality}{low}", highlight=False)
        if h.dihedral:
            for value in h.dihedral[1:]:
                console.print(f"         {value}")
        if h.vpdq is not None:
            console.print(f"  vpdq   {len(h.vpdq)} unique frames ({h.video_format})")
            for pdq, quality, seconds in h.vpdq:
                console.print(f"         {seconds:8.2f} s  {pdq}  quality {quality}")
        if h.error:
            kind = h.video_format or h.image_format
            console.print(f"  [yellow]{kind}: {h.error}[/]", highlight=False)
    if failed:
        raise typer.Exit(EXIT_SOME_FAILED)


def _lines_from_stdin() -> Iterator[str]:
    yield from sys.stdin


def match_command(
    inputs: list[str] = typer.Argument(
        ...,
        help="Files, or hashes (md5/sha1/sha256 by length, or ALG:VALUE such as pdq:…); "
        "'-' reads one file path or hash a line from stdin, streamed.",
        show_default=False,
    ),
    dihedral: bool = typer.Option(
        False, "--dihedral", help="Also match rotated and flipped copies of images."
    ),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per input, a line each."),
) -> None:
    """Match files or hashes against every active hash set.

    Prints each input's matches with the set, category and distance. Exit code 0 whether
    or not anything matched; 8 when some input could not be hashed or parsed.
    """
    ctx = app_context()
    matcher = Matcher(ctx.store, ctx.index_dir, dihedral=dihedral)
    texts: Iterator[str] = _lines_from_stdin() if inputs == ["-"] else iter(inputs)
    failed = 0
    matched = 0
    for item, result in match_stream(matcher, texts, dihedral=dihedral):
        failed += item.error is not None and item.query is None
        matched += bool(result and result.flagged)
        if json_out:
            emit_json(_as_json(item, result))
        else:
            _print(item, result)
    if not json_out:
        sync = matcher.index.last_sync
        if sync is not None and sync.built:
            err_console.print(
                f"(built the PDQ index: {sync.entries:,} hashes, {sync.seconds:.1f} s)"
            )
    if failed:
        raise typer.Exit(EXIT_SOME_FAILED)


def _as_json(item: MatchInput, result: QueryResult | None) -> dict[str, object]:
    out: dict[str, object] = {"input": item.text}
    if item.file is not None:
        out["hashes"] = item.file.as_dict()
    if item.error:
        out["error"] = item.error
    if result is not None:
        out["matches"] = [m.as_dict() for m in result.matches]
        out["notes"] = result.notes
    return out


def _print(item: MatchInput, result: QueryResult | None) -> None:
    if result is None:
        err_console.print(f"[red]{item.text}[/]: {item.error}", highlight=False)
        return
    if not result.matches:
        note = f"  ({'; '.join(result.notes)})" if result.notes else ""
        console.print(f"{item.text}: no match{note}", highlight=False)
        return
    console.print(f"[bold]{item.text}[/]:", highlight=False)
    for m in result.matches:
        hit = m.hit
        category = hit.category or "-"
        label = f" ({hit.category_label})" if hit.category_label else ""
        how = {"exact": "exact " + m.algorithm, "video": "vPDQ (video)"}.get(
            m.kind, f"PDQ distance {m.distance}"
        )
        if m.variant:
            how += f" ({m.variant})"
        role = "known file" if hit.set_kind == "known" else "MATCH"
        console.print(
            f"  {role} set [cyan]{hit.set_name}[/] category {category}{label} by {how}"
            + (f", record {hit.record_key}" if hit.record_key else ""),
            highlight=False,
        )
    for note in result.notes:
        console.print(f"  {note}", highlight=False)
