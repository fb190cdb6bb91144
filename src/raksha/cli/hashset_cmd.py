"""``raksha hashset``: import, list, show, export and delete reference hash sets."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from raksha.cli.context import app_context, console, emit_json, err_console
from raksha.errors import UsageError
from raksha.hashsets.categories import scheme_names
from raksha.hashsets.registry import reader_names
from raksha.services.hashsets import EXPORT_FORMATS, export_hashset, import_hashset
from raksha.store.hashset_import import ImportReport
from raksha.store.hashset_repo import (
    SetSummary,
    delete_set,
    get_set,
    list_imports,
    list_rejections,
    list_sets,
)

app = typer.Typer(
    help=(
        "Reference hash sets (INTERPOL ICSE, Project VIC, NCMEC, your own finds) and "
        "known-file sets (NSRL).\n\nA file imported under the name of an existing set is its "
        "new version: hashes it adds are added, re-categorised ones updated, and ones it no "
        "longer lists removed (use --append to only add)."
    ),
    no_args_is_help=True,
)

JSON_OPTION = typer.Option(False, "--json", help="Write JSON instead of a table.")


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="The hash-set file.", show_default=False),
    name: str | None = typer.Option(None, "--name", "-n", help="Set name (default: file stem)."),
    format_name: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help=f"Force the format ({', '.join(reader_names())}); default: detected from content.",
    ),
    agency: str | None = typer.Option(None, "--agency", help="Source agency, e.g. INTERPOL."),
    version: str | None = typer.Option(None, "--set-version", help="Version of the set."),
    description: str | None = typer.Option(None, "--description", help="Free text."),
    kind: str | None = typer.Option(
        None,
        "--kind",
        help="'reference' flags matches; 'known' (NSRL-like) skips files. Default: from file.",
    ),
    scheme: str | None = typer.Option(
        None,
        "--scheme",
        help=f"Category scheme ({', '.join(scheme_names())}); default: from the format.",
    ),
    category_map: str | None = typer.Option(
        None,
        "--category-map",
        help="Override category labels, e.g. '0=uncategorised,5=non-pertinent'.",
    ),
    threshold: int | None = typer.Option(
        None, "--pdq-threshold", help="PDQ match distance for this set (default 31)."
    ),
    video_threshold: int | None = typer.Option(
        None,
        "--video-threshold",
        help="Percent of a video's frames that must match this set's videos (default 80).",
    ),
    append: bool = typer.Option(
        False, "--append", help="Only add and update; never remove hashes the file omits."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Import a hash set: VICS JSON, ICSE CSV, md5sum/sha1sum lists, `<type> <hash>` lines,
    vPDQ video signatures (a file, or a ZIP of them) or an NSRL RDSv3 database. Every
    rejected line is reported with the reason."""
    ctx = app_context()
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=json_out or not err_console.is_terminal,
    ) as progress:
        task = progress.add_task(f"importing {file.name}", total=None)
        report = import_hashset(
            ctx.store,
            file,
            name=name,
            format_name=format_name,
            source_agency=agency,
            version=version,
            description=description,
            kind=kind,
            category_scheme=scheme,
            category_map=category_map,
            pdq_threshold=threshold,
            video_threshold=video_threshold,
            mode="append" if append else "replace",
            on_progress=lambda n: progress.update(task, completed=n),
        )
    if json_out:
        emit_json(report.as_dict())
        return
    _print_report(report)


def _print_report(report: ImportReport) -> None:
    verb = "created" if report.created else "updated"
    console.print(
        f"[bold]{report.set_name}[/] {verb} from {report.source} "
        f"([cyan]{report.format_name}[/], {report.kind} set, scheme {report.category_scheme})"
    )
    console.print(f"  source sha256 {report.source_sha256}")
    table = Table(show_header=True, box=None, padding=(0, 2))
    for col in ("read", "hashes", "added", "updated", "unchanged", "duplicate", "rejected"):
        table.add_column(col, justify="right")
    table.add_column("removed", justify="right")
    table.add_row(
        *(
            f"{n:,}"
            for n in (
                report.records_read,
                report.hashes_read,
                report.added,
                report.updated,
                report.unchanged,
                report.duplicate,
                report.rejected,
                report.removed,
            )
        )
    )
    console.print(table)
    if report.category_labels:
        assumed = ", ".join(f"{k}={v}" for k, v in sorted(report.category_labels.items()))
        console.print(f"  categories assumed: {assumed}", highlight=False)
    if report.rejections:
        console.print(f"[yellow]{report.rejected:,} rejected:[/]")
        for r in report.rejections[:20]:
            console.print(f"  {r.where}: {r.reason}", highlight=False)
        if report.rejected > 20:
            console.print(
                f"  … and {report.rejected - 20:,} more: "
                f"`raksha hashset show {report.set_name!r} --rejections`"
            )
    console.print(f"  {report.seconds:.1f} s")


@app.command("list")
def list_command(json_out: bool = JSON_OPTION) -> None:
    """List hash sets with their sizes."""
    sets = list_sets(app_context().store)
    if json_out:
        for s in sets:
            emit_json(s.as_dict())
        return
    if not sets:
        console.print("no hash sets yet: `raksha hashset import FILE` adds one")
        return
    table = Table("name", "kind", "agency", "version", "hashes", "by algorithm", "PDQ ≤", "updated")
    for s in sets:
        table.add_row(
            s.name,
            s.kind,
            s.source_agency or "",
            s.version or "",
            f"{s.total:,}",
            " ".join(f"{k}:{v:,}" for k, v in s.counts.items()),
            str(s.pdq_threshold),
            s.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


@app.command("show")
def show_command(
    name: str = typer.Argument(..., help="Set name.", show_default=False),
    rejections: bool = typer.Option(
        False, "--rejections", help="List what the last import rejected."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Show one set: counts by algorithm and category, its imports, its rejections."""
    store = app_context().store
    summary = get_set(store, name)
    imports = list_imports(store, summary.id)
    rejected = list_rejections(store, imports[-1].id, limit=1000) if imports and rejections else []
    if json_out:
        out = summary.as_dict()
        out["imports"] = [i.as_dict() for i in imports]
        if rejections:
            out["rejections"] = rejected
        emit_json(out)
        return
    _print_summary(summary)
    if imports:
        console.print("[bold]imports[/]")
        for i in imports:
            c = i.counts
            console.print(
                f"  #{i.id} {i.started_at:%Y-%m-%d %H:%M} {i.mode} {i.format_name} "
                f"{i.source_path}: +{c['added']:,} ~{c['updated']:,} -{c['removed']:,} "
                f"rejected {c['rejected']:,}",
                highlight=False,
            )
    for r in rejected:
        console.print(f"  {r['where']}: {r['reason']}  [dim]{r['excerpt']}[/]", highlight=False)


def _print_summary(s: SetSummary) -> None:
    console.print(f"[bold]{s.name}[/] ({s.kind} set)")
    for label, value in (
        ("agency", s.source_agency),
        ("version", s.version),
        ("description", s.description),
        ("format", s.format_name),
        ("scheme", s.category_scheme),
        ("PDQ threshold", str(s.pdq_threshold)),
        ("hashes", f"{s.total:,} (" + ", ".join(f"{k} {v:,}" for k, v in s.counts.items()) + ")"),
    ):
        if value:
            console.print(f"  {label}: {value}", highlight=False)
    if s.categories:
        console.print("  records by category:")
        for category, n in sorted(s.categories.items()):
            label = s.category_labels.get(category, "")
            console.print(f"    {category} {label}: {n:,}", highlight=False)


@app.command("export")
def export_command(
    name: str = typer.Argument(..., help="Set name.", show_default=False),
    output: Path = typer.Option(
        ..., "--output", "-o", help="File to write ('-' for stdout).", show_default=False
    ),
    format_name: str = typer.Option(
        "vics",
        "--format",
        "-f",
        help=(
            "vics (VICS 2.0 JSON), typed (`<type> <hash>` lines) or vpdq (a ZIP of vPDQ "
            "signatures, one `<record>.txt` per reference video)."
        ),
    ),
) -> None:
    """Export a set as VICS 2.0 JSON, `<type> <hash>` text or a ZIP of vPDQ video signatures
    (all import back)."""
    if format_name not in EXPORT_FORMATS:
        raise UsageError(f"--format must be one of: {', '.join(EXPORT_FORMATS)}")
    store = app_context().store
    if str(output) == "-":
        count = export_hashset(store, name, sys.stdout.buffer, format_name)
        sys.stdout.flush()
    else:
        get_set(store, name)  # fail before creating the file
        tmp = output.with_name(output.name + ".part")
        with tmp.open("wb") as out:
            count = export_hashset(store, name, out, format_name)
        tmp.replace(output)
        unit = {"vics": "records", "typed": "lines", "vpdq": "videos"}[format_name]
        err_console.print(f"wrote {count:,} {unit} to {output}")


@app.command("delete")
def delete_command(
    name: str = typer.Argument(..., help="Set name.", show_default=False),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a set and all its hashes."""
    store = app_context().store
    summary = get_set(store, name)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("deleting a set needs --yes when not run interactively")
        typer.confirm(f"Delete {name!r} and its {summary.total:,} hashes?", abort=True)
    removed = delete_set(store, name)
    console.print(f"deleted {name!r} ({removed:,} hashes)")
