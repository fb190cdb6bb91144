"""``raksha scan``, ``raksha hits`` and ``raksha evidence show``."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.markup import escape

from raksha.cases.access import require_case
from raksha.chats.detect import ReaderOptions, detect_export
from raksha.chats.identity import DEFAULT_REGION
from raksha.cli.chat_cmd import print_ingest
from raksha.cli.context import app_context, console, emit_json
from raksha.cli.progress import scan_progress
from raksha.cli.seizure_cmd import link_scanned, seizure_to_link
from raksha.cli.wording import describe_match
from raksha.errors import EvidenceIntegrityError, NotFoundError
from raksha.scan.pipeline import ScanOptions, ScanPipeline, ScanResult
from raksha.services.ingest import ingest_export
from raksha.sources.base import SourceLimits
from raksha.store.db import Store
from raksha.store.results_repo import evidence_summary, iter_hits
from raksha.store.scan_repo import get_case

logger = logging.getLogger(__name__)

evidence_app = typer.Typer(help="What scanned evidence held.", no_args_is_help=True)


def scan_command(
    source: Path = typer.Argument(
        ...,
        help=(
            "A folder, a file, an archive (zip, tar, tgz, tbz, 7z, rar) or a disk image "
            "(raw/dd, split .001, EnCase .E01), recognised by content."
        ),
        show_default=False,
    ),
    case: str = typer.Option(
        ..., "--case", "-c", help="The case it belongs to.", show_default=False
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=0, help="Hashing processes (default: one per core)."
    ),
    max_depth: int = typer.Option(3, "--max-depth", min=0, help="Nested archive depth."),
    dihedral: bool = typer.Option(
        False, "--dihedral", help="Also match rotated and mirrored copies (slower)."
    ),
    verify: bool = typer.Option(
        False,
        "--verify",
        help="Disk images: first read the whole image and check it against the MD5/SHA-1 "
        "stored at acquisition (E01); a mismatch is recorded and exits with code 10.",
    ),
    video_every: float = typer.Option(
        1.0,
        "--video-every",
        min=0.1,
        help="Videos: seconds between the frames hashed (vPDQ; Meta's default is 1).",
    ),
    carve: bool = typer.Option(
        True,
        "--carve/--no-carve",
        help="Disk images: carve JPEG and PNG pictures from unallocated space.",
    ),
    kind: str = typer.Option(
        "auto",
        "--kind",
        help="What the evidence is: auto (by content), files (never read chats), "
        "telegram, whatsapp or messenger (a chat export).",
    ),
    region: str = typer.Option(
        DEFAULT_REGION,
        "--region",
        help="Chat exports: country for phone numbers written without a country code.",
    ),
    tz: str = typer.Option(
        "Asia/Kolkata",
        "--tz",
        help="Chat exports: time zone of times written without one (WhatsApp, old Telegram).",
    ),
    seizure: str | None = typer.Option(
        None,
        "--seizure",
        help="Seal label of the seized device this image or extraction was made from: the "
        "evidence is linked to it (no custody event is added).",
    ),
    json_out: bool = typer.Option(
        False, "--json", help="JSON lines: progress events, then the summary."
    ),
) -> None:
    """Scan evidence for known material, read-only, resumably.

    Files are identified by content. Every file gets MD5, SHA-1 and SHA-256; images get
    PDQ. Files in known-file (NSRL) sets are skipped and counted. Interrupted scans
    continue where they stopped when the same command is run again. Broken or hostile
    input (zip bombs, ../ paths, links, corrupt images, encrypted archives) is recorded
    with the reason and the scan goes on.

    Disk images of seized devices are walked without mounting: every partition and file
    system The Sleuth Kit reads (FAT, exFAT, NTFS, ext2/3/4, HFS+, ISO 9660), deleted
    files the file system still describes, and pictures carved from unallocated space.
    Each item's locator says where it lay: `laptop.E01 > partition 2 @ 1048576 >
    /Users/x/a.jpg`, or `laptop.E01 > [carved jpeg @ 73400320]`.

    Chat exports (Telegram Desktop JSON, WhatsApp "Export chat" as folder or zip,
    Facebook Messenger downloads) are recognised by content: their files are scanned,
    then every chat, account, membership and message is stored, and each post whose
    media matched a reference set is listed as a sighting (who, where, when). A later
    export of the same chat adds only what is new.
    """
    if not source.exists():
        raise NotFoundError(f"{source} does not exist")
    ctx = app_context()
    to_link = seizure_to_link(seizure, case)
    options = ScanOptions(
        workers=workers,
        dihedral=dihedral,
        limits=SourceLimits(max_depth=max_depth),
        verify=verify,
        carve=carve,
        video_every=video_every,
    )
    chosen = None if kind == "auto" else kind
    export = None
    if kind != "files":
        export = detect_export(source, chosen, ReaderOptions(region=region, tz=tz))
    with scan_progress(json_out) as (on_progress, on_verify):
        if export is not None:
            ingested = ingest_export(
                ctx.store, ctx.index_dir, case, export, options, on_progress=on_progress
            )
            result = ingested.scan
        else:
            ingested = None
            pipeline = ScanPipeline(ctx.store, ctx.index_dir, options, on_progress=on_progress)
            pipeline.on_verify = on_verify
            result = pipeline.run(case, source)
    link_scanned(to_link, result.evidence.id, json_out)
    _summary(result, json_out)
    if ingested is not None:
        print_ingest(ingested, json_out)
    check = result.verification
    if check is not None and check.status in ("mismatch", "unreadable"):
        raise EvidenceIntegrityError(
            f"{result.evidence.source_path} does NOT match its acquisition hashes "
            f"(stored MD5 {check.expected_md5 or '-'}, SHA-1 {check.expected_sha1 or '-'}; "
            f"read now MD5 {check.md5}, SHA-1 {check.sha1}"
            f"{'; ' + check.error if check.error else ''}). This is recorded on the "
            "evidence; its items were scanned, but treat them as unverified"
        )


def _image_json(result: ScanResult) -> dict[str, object] | None:
    if result.image is None:
        return None
    out: dict[str, object] = dict(result.image)
    check = result.verification
    if check is not None:
        out["verification"] = {
            "status": check.status,
            "md5": check.md5,
            "sha1": check.sha1,
            "bytes_read": check.bytes_read,
            "error": check.error,
        }
    return out


def _print_image(result: ScanResult) -> None:
    image = result.image
    if image is None:
        return
    fs = ", ".join(f"{f['type']} @ {f['offset']}" for f in image.get("file_systems", []))
    console.print(
        f"  {image['format']} image, {image['media_size']:,} bytes in "
        f"{len(image['segments'])} segment(s); {image.get('volume_system') or 'no'} "
        f"partition table; file systems: {fs or 'none recognised'}",
        highlight=False,
    )
    if image.get("acquisition_md5") or image.get("acquisition_sha1"):
        console.print(
            f"  acquisition md5 {image.get('acquisition_md5') or '-'} "
            f"sha1 {image.get('acquisition_sha1') or '-'}",
            highlight=False,
        )
    check = result.verification
    if check is None:
        return
    if check.status == "verified":
        console.print("  [green]verified[/]: the image matches its acquisition hashes")
    elif check.status == "no stored hash":
        console.print(
            f"  the image stores no acquisition hash; read now md5 {check.md5} sha1 {check.sha1}",
            highlight=False,
        )
    else:
        console.print(
            f"  [bold red]VERIFICATION FAILED ({check.status})[/]: read md5 {check.md5} "
            f"sha1 {check.sha1}",
            highlight=False,
        )


def _summary(result: ScanResult, json_out: bool) -> None:
    c = result.counts
    if json_out:
        emit_json(
            {
                "event": "summary",
                "scan_id": result.scan_id,
                "evidence_id": result.evidence.id,
                "source": result.evidence.source_path,
                "container_sha256": result.evidence.container_sha256,
                "image": _image_json(result),
                "status": result.status,
                "seconds": result.seconds,
                "counts": c.as_dict(),
                "failures": [{"locator": loc, "error": err} for loc, err in result.failures],
                "hits": [
                    {"locator": loc, "matches": [m.as_dict() for m in matches]}
                    for loc, matches in result.hits
                ],
            }
        )
        return
    ev = result.evidence
    console.print(
        f"[bold]{ev.source_path}[/] scan #{result.scan_id} {result.status}", highlight=False
    )
    if ev.container_sha256:
        console.print(f"  evidence sha256 {ev.container_sha256}")
    _print_image(result)
    rate = c.files / result.seconds if result.seconds else 0.0
    console.print(
        f"  {c.files:,} files ({c.images:,} images, {c.bytes / 1e6:,.1f} MB) in "
        f"{result.seconds:.1f} s, {rate:,.0f} files/s; {c.known_skipped:,} known files skipped; "
        f"{c.already_stored:,} already stored by an earlier run",
        highlight=False,
    )
    console.print(f"  [bold red]{c.hits} hits[/]" if c.hits else "  no hits")
    for locator, matches in result.hits[:50]:
        m = matches[0]
        how = {"exact": f"exact {m.algorithm}", "video": "vPDQ video match"}.get(
            m.kind, f"PDQ d={m.distance}"
        )
        console.print(
            f"    {escape(locator)}: {escape(m.hit.set_name)} cat {m.hit.category or '-'} by {how}",
            highlight=False,
        )
    if len(result.hits) > 50:
        console.print(f"    … `raksha hits --case ...` lists all {len(result.hits)}")
    if result.failures:
        console.print(f"  [yellow]{len(result.failures)} items not fully read:[/]")
        for locator, error in result.failures[:20]:
            console.print(f"    {escape(locator)}: {escape(error)}", highlight=False)


def _need_to_know(store: Store, case_id: int) -> None:
    """Hits and evidence of a case are shown only to those who may see the case."""
    with store.engine.connect() as conn:
        require_case(conn, app_context().actor, case_id, "hits.read")


def hits_command(
    case: str = typer.Option(..., "--case", "-c", help="Case name.", show_default=False),
    include_known: bool = typer.Option(
        False, "--include-known", help="Also list matches against known-file sets."
    ),
    json_out: bool = typer.Option(False, "--json", help="JSON lines, one match a line."),
) -> None:
    """List every hit in a case: locator, hashes, set, category, distance, match kind."""
    store = app_context().store
    record = get_case(store, case)
    _need_to_know(store, record.id)
    count = 0
    for hit in iter_hits(store, record.id, include_known=include_known):
        count += 1
        if json_out:
            emit_json(hit)
            continue
        how = describe_match(hit)
        label = f" ({hit['category_label']})" if hit["category_label"] else ""
        where = ""
        if hit["allocation"] is not None:
            where = f" [{hit['allocation']}"
            where += f", inode {hit['inode']}" if hit["inode"] else ""
            where += f", byte {hit['data_offset']:,}]" if hit["data_offset"] is not None else "]"
        console.print(
            escape(f"{hit['source_path']} > {hit['locator']}{where}") + "\n"
            f"    {hit['set_name']} category {hit['category'] or '-'}{label} by {how}"
            f"{' ' + hit['variant'] if hit['variant'] else ''}; sha256 {hit['sha256']}",
            highlight=False,
        )
    if not json_out and count == 0:
        console.print(f"no hits in case {case!r}")


@evidence_app.command("show")
def evidence_show_command(
    case: str = typer.Option(..., "--case", "-c", help="Case name.", show_default=False),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per evidence."),
) -> None:
    """Per evidence: items by type and status, hits by set and category, skipped, errors."""
    store = app_context().store
    record = get_case(store, case)
    _need_to_know(store, record.id)
    for ev in evidence_summary(store, record.id):
        if json_out:
            emit_json(ev)
            continue
        console.print(f"[bold]{escape(ev['source_path'])}[/] ({ev['kind']})", highlight=False)
        if ev["container_sha256"]:
            console.print(f"  sha256 {ev['container_sha256']}")
        image = ev["image"]
        if image is not None:
            console.print(
                f"  {image['format']} image of {image['media_size']:,} bytes; acquisition md5 "
                f"{image['acquisition_md5'] or '-'} sha1 {image['acquisition_sha1'] or '-'}; "
                f"verification: {image['verification'] or 'not run (scan with --verify)'}",
                highlight=False,
            )
            console.print(
                "  items by allocation: "
                + ", ".join(f"{k} {v}" for k, v in sorted(image["items_by_allocation"].items())),
                highlight=False,
            )
        console.print(
            "  items by type: "
            + ", ".join(f"{k} {v}" for k, v in sorted(ev["items_by_type"].items()))
        )
        console.print(
            "  items by status: "
            + ", ".join(f"{k} {v}" for k, v in sorted(ev["items_by_status"].items()))
        )
        for h in ev["hits"]:
            console.print(
                f"  hits: {h['set']} category {h['category'] or '-'}: {h['items']} items",
                highlight=False,
            )
        for e in ev["errors"][:50]:
            console.print(
                f"  [yellow]{escape(e['locator'])}[/]: {escape(e['error'])}", highlight=False
            )
        for s in ev["scans"]:
            console.print(
                f"  scan #{s['id']} {s['status']} {s['started_at'][:19]}", highlight=False
            )
