"""The case report as a PDF: the same sections, in the same words, as the HTML form.

Every list is a table that breaks across pages with its header repeated; each hit is a
block of its own (its hashes, then one row per reference entry it matched), so a video
with many matched frames still breaks cleanly. No imagery is drawn, ever.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak

from raksha.reports.case_model import CaseReport, CustodyStep, Device, EvidenceImage, Hit
from raksha.reports.formatting import fmt_share, fmt_size, fmt_time, text_or_dash
from raksha.reports.pdf_layout import (
    HASH_WIDTH,
    build_pdf,
    gap,
    grid_table,
    hash_cell,
    kv_table,
    lines,
    markup,
    para,
)

_HIT_INTRO = (
    "Each file below matched at least one entry of a reference hash set. An <b>exact</b> "
    "match means the file's MD5, SHA-1 or SHA-256 equals the reference value; a <b>near</b> "
    "match means its PDQ (or a video's frames) came within the stated Hamming distance of "
    "a reference PDQ."
)


def footer_text(report: CaseReport) -> str:
    case = report.case
    fir = f"FIR {case.fir_number}" if case.fir_number else f"case {case.name}"
    return f"{fir} · generated {fmt_time(report.generated_at)} · Raksha {report.method.version}"


def write_case_report_pdf(report: CaseReport, path: Path) -> None:
    """Write the case report to ``path``."""
    build_pdf(
        path,
        _story(report, path.name),
        title=f"Case report: {report.title}",
        subject="Raksha case report (hashes and metadata only, no imagery)",
        footer=footer_text(report),
        author=report.generated_by,
    )


def _story(r: CaseReport, own_name: str) -> list[Any]:
    story: list[Any] = [
        para(f"Case report: {r.title}", "title"),
        para(
            f"Generated {fmt_time(r.generated_at)} by {r.generated_by} with {r.method.tool} "
            f"{r.method.version}. Audit log head at generation: {r.audit_head}. This report "
            "holds no imagery: only hashes and metadata.",
            "muted",
        ),
    ]
    story += _case_section(r)
    story += _accused_section(r)
    story += _devices_section(r)
    story += _hits_section(r)
    story += _new_material_section(r)
    story += _custody_section(r)
    story += _method_section(r)
    story += [
        para("8. Integrity of this report", "h2"),
        para(
            "A file cannot contain its own hash. The SHA-256 of this file is recorded in "
            "Raksha's report registry and in the audit log at generation, written in the file "
            f"{own_name}.sha256 beside it, and stated in the certificate under Indian Evidence "
            "Act 1872 s.65B(4) / Bharatiya Sakshya Adhiniyam 2023 s.63(4) that covers it. "
            f"Anyone can recompute it (sha256sum {own_name}) or check it with "
            f"raksha report verify {own_name}."
        ),
    ]
    return story


def _case_section(r: CaseReport) -> list[Any]:
    c, t = r.case, r.totals
    rows: list[tuple[str, Any]] = [
        ("Case", c.name),
        ("FIR number", text_or_dash(c.fir_number)),
        ("Police station", text_or_dash(c.police_station)),
        ("District", text_or_dash(c.district)),
        ("Sections", "; ".join(c.sections) or "—"),
        ("Status", c.status),
        (
            "Registered in Raksha",
            fmt_time(c.created_at) + (f" by {c.created_by}" if c.created_by else ""),
        ),
        ("Last updated", fmt_time(c.updated_at)),
    ]
    if c.description:
        rows.append(("Description", c.description))
    totals = grid_table(
        [
            "Devices seized",
            "Images and extractions",
            "Files examined",
            "Files matched",
            "of which exact",
            "near only",
            "Confirmed new material",
            "Custody flags",
        ],
        [
            [
                t["devices"],
                t["evidence"],
                t["items"],
                t["hit_items"],
                t["exact_items"],
                t["near_only_items"],
                t["new_material"],
                t["custody_flags"],
            ]
        ],
        [1] * 8,
    )
    return [para("1. Case", "h2"), kv_table(rows), gap(), totals]


def _accused_section(r: CaseReport) -> list[Any]:
    out: list[Any] = [para("2. Accused", "h2")]
    if not r.accused:
        return [*out, para("No accused are recorded for this case.")]
    rows = [
        [
            a.person_id,
            text_or_dash(a.label),
            text_or_dash(a.status),
            lines(
                [
                    f"{x.platform} {x.id_kind} {x.external_id}"
                    + (f" ({x.display_name})" if x.display_name else "")
                    for x in a.accounts
                ]
            ),
        ]
        for a in r.accused
    ]
    return [
        *out,
        grid_table(["Person", "Name", "Status", "Identifiers (accounts)"], rows, [12, 40, 22, 90]),
    ]


def _evidence_table(evidence: list[EvidenceImage]) -> Any:
    rows = []
    for e in evidence:
        acquired = [e.container_sha256 or "— (a folder: each file's hashes are listed)"]
        if e.acquisition_md5:
            acquired.append(f"acquisition MD5 {e.acquisition_md5}")
        verified = e.verification or "not re-verified"
        if e.verified_at:
            verified += f" at {fmt_time(e.verified_at)}"
        kind = e.kind + (f" ({e.image_format})" if e.image_format else "")
        rows.append(
            [
                e.name,
                kind,
                fmt_size(e.container_size),
                hash_cell(*acquired),
                verified,
                f"{e.items} / {e.hit_items}",
            ]
        )
    widths = [50, 30, 45, HASH_WIDTH, 50, 40]
    return grid_table(
        ["Evidence", "Kind", "Size", "SHA-256 when acquired", "Verification", "Files / matched"],
        rows,
        widths,
    )


def _device_rows(d: Device) -> list[tuple[str, Any]]:
    place = text_or_dash(d.place) + (f" ({d.district})" if d.district else "")
    seized = fmt_time(d.seized_at) + (f" by {d.seized_by}" if d.seized_by else "")
    rows: list[tuple[str, Any]] = [
        ("Kind", d.kind),
        ("Make and model", d.make_model),
        ("Serial number", text_or_dash(d.serial)),
        ("IMEI", text_or_dash(d.imei)),
        ("Seal", d.seal_label),
        ("Seized from", text_or_dash(d.seized_from)),
        ("Place", place),
        ("Seized at", seized),
    ]
    if d.notes:
        rows.append(("Notes", d.notes))
    return rows


def _devices_section(r: CaseReport) -> list[Any]:
    out: list[Any] = [para("3. Devices seized", "h2")]
    if not r.devices:
        out.append(para("No seizures are recorded for this case."))
    for number, d in enumerate(r.devices, start=1):
        out += [
            CondPageBreak(40 * mm),
            para(f"Device {number}: {d.kind}, seal {d.seal_label}", "h3"),
            kv_table(_device_rows(d)),
            gap(2 * mm),
        ]
        if d.evidence:
            out.append(_evidence_table(d.evidence))
        else:
            out.append(para("No image or extraction of this device is in Raksha yet."))
    if r.unlinked_evidence:
        out += [
            para("Evidence not linked to a seized device", "h3"),
            _evidence_table(r.unlinked_evidence),
        ]
    return out


def _hit_block(h: Hit) -> list[Any]:
    evidence = h.evidence_name + (f" (device seal {h.seal_label})" if h.seal_label else "")
    kind = text_or_dash(h.file_type) + (f", {h.allocation}" if h.allocation else "")
    pdq = f"{h.pdq} (quality {h.pdq_quality})" if h.pdq and h.pdq_quality is not None else h.pdq
    facts = kv_table(
        [
            ("Locator", h.locator),
            ("Evidence", evidence),
            ("Size", fmt_size(h.size)),
            ("Type", kind),
            ("Modified", fmt_time(h.modified)),
            ("MD5", hash_cell(h.md5)),
            ("SHA-1", hash_cell(h.sha1)),
            ("SHA-256", hash_cell(h.sha256)),
            ("PDQ", hash_cell(pdq)),
        ]
    )
    rows = []
    for m in h.matches:
        category = text_or_dash(m.category) + (f": {m.category_label}" if m.category_label else "")
        how = f"{m.exactness} ({m.match_kind}" + (f", {m.variant}" if m.variant else "") + ")"
        distance = str(m.distance)
        if m.query_share is not None:
            distance += (
                f"; {fmt_share(m.query_share)} of the video's frames, "
                f"{fmt_share(m.ref_share)} of the reference's"
            )
        if m.at_seconds is not None:
            distance += f"; at {m.at_seconds:.1f} s"
        rows.append([m.set_name, category, how, m.algorithm, distance, hash_cell(m.ref_value)])
    matches = grid_table(
        ["Reference set", "Category", "Match", "Algorithm", "Distance", "Reference value"],
        rows,
        [50, 62, 40, 42, 40, HASH_WIDTH],
    )
    return [
        CondPageBreak(45 * mm),
        para(f"Hit {h.number}: {h.locator}", "h3"),
        facts,
        gap(1.5 * mm),
        matches,
    ]


def _hits_section(r: CaseReport) -> list[Any]:
    out: list[Any] = [para("4. Hits", "h2"), markup(_HIT_INTRO)]
    if not r.hits:
        out.append(para("No file of this case matched a reference set."))
    for h in r.hits:
        out += _hit_block(h)
    return out


def _new_material_section(r: CaseReport) -> list[Any]:
    if not r.new_material:
        return []
    rows = [
        [
            n.locator,
            fmt_size(n.size),
            hash_cell(n.sha256, n.md5),
            text_or_dash(n.category),
            f"{fmt_time(n.confirmed_at)} by {n.confirmed_by}",
        ]
        for n in r.new_material
    ]
    return [
        para("5. Confirmed new material", "h2"),
        para(
            "Files analysts confirmed that no reference set holds (submitted to INTERPOL ICSE "
            "by VICS export)."
        ),
        grid_table(
            ["Locator", "Size", "SHA-256 / MD5", "Category", "Confirmed"],
            rows,
            [80, 45, HASH_WIDTH, 30, 70],
        ),
    ]


def _custody_row(c: CustodyStep) -> list[Any]:
    step = [c.action] + ([c.notes] if c.notes else [])
    who = [c.by_whom + (f" to {c.to_whom}" if c.to_whom else ""), text_or_dash(c.location)]
    checks: list[Any] = []  # words in the body face, hashes whole in the hash face
    for v in c.verification:
        names = ", ".join(v.algorithms)
        checks.append(para(f"{v.label}: {v.result}" + (f" ({names})" if names else ""), "cell"))
        checks += [hash_cell(v.observed[a]) for a in v.algorithms if a in v.observed]
        if (v.differs or not v.observed) and v.expected:
            checks.append(para("on record:", "cell"))
            checks += [hash_cell(v.expected[a]) for a in v.algorithms if a in v.expected]
        if v.detail:
            checks.append(para(v.detail, "cell"))
    return [
        fmt_time(c.at),
        lines(step),
        lines(who),
        checks or "—",
        lines(c.flags, "flag") if c.flags else "none",
    ]


def _custody_section(r: CaseReport) -> list[Any]:
    out: list[Any] = [para("6. Chain of custody", "h2")]
    if not r.devices:
        out.append(para("No seizures, so no chain of custody."))
    for d in r.devices:
        out.append(para(f"Seal {d.seal_label} ({d.kind})", "h3"))
        if not d.custody:
            out.append(para("No custody events are recorded for this device.", "flag"))
            continue
        out.append(
            grid_table(
                ["When", "Step", "By / to, where", "Image hashes re-verified", "Flags"],
                [_custody_row(c) for c in d.custody],
                [60, 45, 65, HASH_WIDTH, 63],
            )
        )
    return out


def _method_section(r: CaseReport) -> list[Any]:
    m = r.method
    facts = kv_table(
        [
            ("Tool", f"{m.tool} {m.version} (database: {m.database})"),
            ("Hash algorithms", lines(m.algorithms)),
            (
                "PDQ",
                f"pictures whose PDQ quality is below {m.pdq_min_quality} are not matched; "
                f"default match threshold distance {m.default_pdq_threshold} "
                "(each set's own below)",
            ),
            (
                "Videos",
                f"a video matches when at least {m.default_video_threshold}% of its frames "
                "match (each set's own below)",
            ),
        ]
    )
    sets = grid_table(
        [
            "Set",
            "Kind",
            "Version / agency",
            "Scheme",
            "Thresholds",
            "Last import (SHA-256 of the file)",
            "Case matches",
        ],
        [
            [
                s.name,
                s.kind + ("" if s.active else " (inactive)"),
                f"{text_or_dash(s.version)} / {text_or_dash(s.source_agency)}",
                s.category_scheme,
                lines([f"PDQ {s.pdq_threshold}", f"video {s.video_threshold}%"]),
                lines([fmt_time(s.last_import_at), text_or_dash(s.last_import_sha256)], "hash"),
                s.case_matches,
            ]
            for s in m.sets
        ],
        [38, 40, 35, 36, 46, HASH_WIDTH, 38],
    )
    scans = grid_table(
        ["Scan", "Evidence", "Started / finished", "Status", "Options", "Counts"],
        [
            [
                s.scan_id,
                s.evidence_name,
                lines([fmt_time(s.started_at), fmt_time(s.finished_at)]),
                s.status,
                ", ".join(
                    [f"workers {s.workers}"] + [f"{k} {v}" for k, v in sorted(s.options.items())]
                ),
                ", ".join(f"{k} {v}" for k, v in sorted(s.counts.items()) if v is not None),
            ]
            for s in m.scans
        ],
        [16, 50, 60, 30, 70, 110],
    )
    return [
        para("7. Method", "h2"),
        facts,
        para("Reference and known-file sets in the store", "h3"),
        sets,
        para("Scans", "h3"),
        scans,
    ]
