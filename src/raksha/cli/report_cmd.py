"""``raksha report`` and ``raksha material``: reports for court, and the new-material list.

Thin: each command resolves its options and calls :mod:`raksha.reports.service` (or
``material``), which checks access, writes, registers and audits.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from raksha.cli.context import app_context, console, emit_json
from raksha.errors import UsageError
from raksha.reports import material as material_service
from raksha.reports import service
from raksha.reports.errors import ReportIntegrityError
from raksha.reports.registry import RegisteredReport, verify_report
from raksha.reports.vics_export import Which
from raksha.store.case_lookup import find_case_id

app = typer.Typer(
    help=(
        "Reports for court: the case report (PDF and HTML), the s.65B / s.63 certificate, "
        "operation statistics, VICS exports for INTERPOL ICSE. Every file is registered with "
        "its SHA-256, which `raksha report verify` checks."
    ),
    no_args_is_help=True,
)
material_app = typer.Typer(
    help="New material: items analysts confirmed that no reference set holds (for ICSE).",
    no_args_is_help=True,
)

JSON_OPTION = typer.Option(False, "--json", help="Write JSON instead of text.")
OUT_DIR_OPTION = typer.Option(
    None, "--out", "-o", help="Folder to write to (default RAKSHA_HOME/reports/<case>/)."
)


def _formats(value: str, allowed: tuple[str, ...]) -> list[str]:
    if value == "both":
        return list(allowed)
    if value not in allowed:
        raise UsageError(f"--format is one of: {', '.join(allowed)}, both (not {value!r})")
    return [value]


def _print_files(files: list[RegisteredReport]) -> None:
    for f in files:
        console.print(f"{f.kind:17} {f.path}", highlight=False, soft_wrap=True)
        console.print(f"{'':17} sha256 {f.sha256}  ({f.size:,} bytes)", highlight=False)


@app.command("case")
def case_command(
    case: str = typer.Argument(..., help="Case name, FIR number or id.", show_default=False),
    format_name: str = typer.Option("both", "--format", "-f", help="pdf, html or both."),
    out: Path | None = OUT_DIR_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """The case report: summary, accused, devices, every hit, custody, method."""
    ctx = app_context()
    out_dir = out or service.case_report_dir(ctx.settings, service.case_name(ctx.store, case))
    report, files = service.generate_case_report(
        ctx.store, ctx.actor, case, out_dir, _formats(format_name, service.CASE_FORMATS)
    )
    if json_out:
        emit_json(
            {
                "case": report.case.name,
                "totals": report.totals,
                "audit_head": report.audit_head,
                "files": [f.as_dict() for f in files],
            }
        )
        return
    t = report.totals
    console.print(
        f"case report for {report.case.name!r}: {t['hit_items']} matched files, "
        f"{t['devices']} devices, {t['custody_flags']} custody flags",
        highlight=False,
    )
    _print_files(files)
    console.print("next: `raksha report certificate` covers this report with its SHA-256")


@app.command("certificate")
def certificate_command(
    case: str = typer.Argument(..., help="Case name, FIR number or id.", show_default=False),
    out: Path | None = OUT_DIR_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """The certificate under Evidence Act s.65B(4) / BSA s.63(4) for the newest case report,
    pre-filled for signature (PDF and HTML)."""
    ctx = app_context()
    out_dir = out or service.case_report_dir(ctx.settings, service.case_name(ctx.store, case))
    cert, files = service.generate_certificate(ctx.store, ctx.actor, case, out_dir)
    if json_out:
        emit_json(
            {
                "case": cert.case.name,
                "records": [
                    {"name": r.name, "sha256": r.sha256, "description": r.description}
                    for r in cert.records
                ],
                "files": [f.as_dict() for f in files],
            }
        )
        return
    console.print(f"certificate for {cert.case.name!r} covers:", highlight=False)
    for r in cert.records:
        console.print(f"  {r.name}  {r.sha256 or '(folder)'}", highlight=False)
    _print_files(files)


@app.command("operation")
def operation_command(
    operation: str = typer.Argument(..., help="Operation name or id.", show_default=False),
    format_name: str = typer.Option("both", "--format", "-f", help="pdf, csv or both."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Folder (default RAKSHA_HOME/reports/operations/<name>/)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Operation statistics per district and overall (places, done, not found, arrests,
    cases registered, items seized by kind)."""
    ctx = app_context()
    out_dir = out or service.operation_report_dir(
        ctx.settings, service.operation_name(ctx.store, operation)
    )
    stats, files = service.generate_operation_report(
        ctx.store, ctx.actor, operation, out_dir, _formats(format_name, service.OPERATION_FORMATS)
    )
    if json_out:
        emit_json({"operation": stats.as_dict(), "files": [f.as_dict() for f in files]})
        return
    o = stats.overall
    console.print(
        f"{stats.name}: {o.places} places, {o.arrests} arrested, {o.cases_registered} cases, "
        f"{o.items_seized} items seized",
        highlight=False,
    )
    _print_files(files)


@app.command("vics")
def vics_command(
    case: str = typer.Argument(..., help="Case name, FIR number or id.", show_default=False),
    new_only: bool = typer.Option(False, "--new-only", help="Only confirmed new material."),
    hits_only: bool = typer.Option(False, "--hits-only", help="Only matches of reference sets."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="File to write (with --hits-only or --new-only)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """VICS 2.0 case files of the case's hits and of its new material, for INTERPOL ICSE."""
    ctx = app_context()
    if new_only and hits_only:
        raise UsageError("--new-only and --hits-only exclude each other; leave both out for both")
    which: list[Which] = ["new"] if new_only else ["hits"] if hits_only else ["hits", "new"]
    out_dir = service.case_report_dir(ctx.settings, service.case_name(ctx.store, case))
    files = service.export_vics(ctx.store, ctx.actor, case, out_dir, which=which, out_file=out)
    if json_out:
        emit_json({"files": [f.as_dict() | {"media": n} for f, n in files]})
        return
    for f, n in files:
        console.print(f"{f.kind}: {n} media records", highlight=False)
        _print_files([f])


@app.command("verify")
def verify_command(
    file: Path = typer.Argument(..., help="A report file.", show_default=False),
    json_out: bool = JSON_OPTION,
) -> None:
    """Recompute a report's SHA-256 and compare it with the registry and its sidecar
    (exit code 10 when it does not match)."""
    ctx = app_context()
    result = verify_report(ctx.store, file, actor=ctx.actor)
    if json_out:
        emit_json(result.as_dict())
    else:
        console.print(f"{result.path}\n  sha256 {result.sha256}", highlight=False)
        if result.registered is not None:
            r = result.registered
            console.print(
                f"  registered as report {r.id} ({r.kind}), generated by {r.generated_by} "
                f"at {r.generated_at.isoformat()} with Raksha {r.tool_version}",
                highlight=False,
            )
    if not result.ok:
        raise ReportIntegrityError("; ".join(result.problems))
    if not json_out:
        console.print("[green]unchanged[/]: the file is the one Raksha generated")


@app.command("list")
def list_command(
    case: str | None = typer.Option(None, "--case", help="Only this case's reports."),
    json_out: bool = typer.Option(False, "--json", help="JSON lines."),
) -> None:
    """Every registered report, oldest first."""
    ctx = app_context()
    rows = service.list_registered(ctx.store, ctx.actor, case)
    if json_out:
        for r in rows:
            emit_json(r.as_dict())
        return
    table = Table("id", "kind", "generated", "by", "sha256", "file")
    for r in rows:
        table.add_row(
            str(r.id), r.kind, r.generated_at.isoformat()[:19], r.generated_by, r.sha256, r.name
        )
    console.print(table)


@material_app.command("confirm")
def confirm_command(
    item_id: int = typer.Argument(..., help="The item's id (case report, `raksha hits`)."),
    category: str = typer.Option(
        material_service.DEFAULT_CATEGORY, "--category", help="VICS category 0-5 (default 1)."
    ),
    notes: str | None = typer.Option(None, "--notes", help="Why (kept in Raksha, not exported)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Confirm an item as new material (refused when a reference set already holds it)."""
    ctx = app_context()
    rec = material_service.confirm_new(ctx.store, ctx.actor, item_id, category, notes)
    if json_out:
        emit_json(rec.as_dict())
        return
    console.print(
        f"item {rec.item_id} ({rec.locator}) confirmed as new material, category {rec.category}",
        highlight=False,
    )


@material_app.command("withdraw")
def withdraw_command(
    item_id: int = typer.Argument(..., help="The item's id."),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept in the audit log)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Take an item off the new-material list."""
    ctx = app_context()
    rec = material_service.withdraw(ctx.store, ctx.actor, item_id, reason)
    if json_out:
        emit_json(rec.as_dict())
        return
    console.print(f"item {rec.item_id} withdrawn from the new-material list", highlight=False)


@material_app.command("list")
def material_list_command(
    case: str | None = typer.Option(None, "--case", help="Only this case's items."),
    json_out: bool = typer.Option(False, "--json", help="JSON lines."),
) -> None:
    """Confirmed new material."""
    ctx = app_context()
    case_id = None
    if case is not None:
        with ctx.store.engine.connect() as conn:
            case_id = find_case_id(conn, case)
    rows = material_service.list_new(ctx.store, ctx.actor, case_id)
    if json_out:
        for r in rows:
            emit_json(r.as_dict())
        return
    table = Table("item", "case", "category", "sha256", "locator", "confirmed by")
    for r in rows:
        table.add_row(
            str(r.item_id), r.case_name, r.category or "", r.sha256 or "", r.locator, r.confirmed_by
        )
    console.print(table)
