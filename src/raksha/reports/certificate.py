"""The certificate for electronic evidence: Indian Evidence Act 1872 s.65B(4) and
Bharatiya Sakshya Adhiniyam 2023 s.63(4), pre-filled for signature.

A court admits a computer output on such a certificate: it identifies the electronic
records, describes the manner of their production, gives particulars of the devices
involved, deals with the conditions of s.65B(2) / s.63(2), and is signed by a person in
charge of the computer (and, under the Adhiniyam's Schedule, by an expert). Raksha fills
in everything it knows (each record's name and SHA-256, the computer and software that
produced it) and leaves the officers' names, designations, signatures, dates and places
blank. It is also where the case report's own SHA-256 is stated, since the report cannot
contain it. The wording is a pre-filled draft: the unit's legal adviser approves the form.
"""

from __future__ import annotations

import platform
import socket
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from raksha import __version__
from raksha.cases import audit
from raksha.errors import NotFoundError
from raksha.reports import html
from raksha.reports.case_data import case_devices, case_evidence, case_summary
from raksha.reports.case_method import TOOL_NAME
from raksha.reports.case_model import CaseSummary, Device, to_plain
from raksha.reports.errors import ReportIntegrityError
from raksha.reports.formatting import fmt_size, fmt_time, text_or_dash
from raksha.reports.pdf_layout import (
    build_pdf,
    gap,
    grid_table,
    hash_cell,
    kv_table,
    lines,
    para,
)
from raksha.reports.registry import RegisteredReport, file_sha256, latest_batch

#: Registry kinds of the case report files a certificate covers.
CASE_REPORT_KINDS = ("case-pdf", "case-html")

CONDITIONS = [
    "the computer output containing the information was produced by the computer during "
    "the period over which the computer was used regularly to store or process information "
    "for the purposes of activities regularly carried on over that period by the person "
    "having lawful control over the use of the computer;",
    "during that period, information of the kind contained in the electronic record, or of "
    "the kind from which the information so contained is derived, was regularly fed into "
    "the computer in the ordinary course of the said activities;",
    "throughout the material part of that period the computer was operating properly or, "
    "if not, any period in which it was not operating properly or was out of operation was "
    "not such as to affect the electronic record or the accuracy of its contents;",
    "the information contained in the electronic record reproduces or is derived from such "
    "information fed into the computer in the ordinary course of the said activities.",
]
SIGNATORIES = [
    "Part A: person in charge of the computer / communication device",
    "Part B: expert",
]
SIGNATURE_FIELDS = [
    "Name",
    "Designation",
    "Office / unit",
    "Signature",
    "Date",
    "Time (IST)",
    "Place",
]
BLANK = "_" * 40


@dataclass(slots=True)
class CertifiedRecord:
    """One electronic record the certificate covers."""

    description: str
    name: str
    sha256: str | None
    size: int | None
    detail: str


@dataclass(slots=True)
class Certificate:
    case: CaseSummary
    records: list[CertifiedRecord]
    devices: list[Device]
    host: str
    system: str
    tool: str
    version: str
    database: str
    generated_at: datetime
    generated_by: str
    audit_head: str
    manner: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=lambda: list(CONDITIONS))

    @property
    def title(self) -> str:
        return self.case.fir_number or self.case.name

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = to_plain(self)
        return out


def _checked_reports(conn: Connection, case_id: int) -> list[RegisteredReport]:
    """The newest case report's files, each still holding the hash the registry states."""
    reports = latest_batch(conn, case_id, CASE_REPORT_KINDS)
    if not reports:
        raise NotFoundError(
            "this case has no report to certify yet; generate it first with "
            "`raksha report case CASE`"
        )
    for r in reports:
        path = Path(r.path)
        if not path.is_file():
            raise NotFoundError(
                f"the case report {r.path} is gone; generate the report again with "
                "`raksha report case CASE`, then the certificate"
            )
        sha256, _ = file_sha256(path)
        if sha256 != r.sha256:
            raise ReportIntegrityError(
                f"{r.path} has changed since it was generated (registry SHA-256 {r.sha256}, "
                f"file {sha256}); it cannot be certified: generate the report again"
            )
    return reports


def build_certificate(
    conn: Connection, case_id: int, *, generated_by: str, generated_at: datetime
) -> Certificate:
    """Fill in the certificate for the case's newest report and its evidence images."""
    case = case_summary(conn, case_id)
    reports = _checked_reports(conn, case_id)
    evidence = case_evidence(conn, case_id)
    devices = [d for d in case_devices(conn, case_id, evidence) if d.evidence]
    records = [
        CertifiedRecord(
            description=f"Raksha case report ({r.kind.removeprefix('case-').upper()})",
            name=r.name,
            sha256=r.sha256,
            size=r.size,
            detail=f"generated {fmt_time(r.generated_at)} by {r.generated_by}, "
            f"Raksha {r.tool_version}, registry entry {r.id}",
        )
        for r in reports
    ]
    for e in evidence.values():
        detail = f"{e.kind}, added to Raksha {fmt_time(e.added_at)}"
        if e.verification:
            detail += f"; re-verified: {e.verification}"
        records.append(
            CertifiedRecord(
                description="Evidence image / extraction examined",
                name=e.name,
                sha256=e.container_sha256,
                size=e.container_size,
                detail=detail,
            )
        )
    host, system = socket.gethostname(), platform.platform()
    head = "{}:{}".format(*audit.head(conn))
    when = fmt_time(reports[0].generated_at)
    manner = [
        f"The records listed in section 1 were produced by the computer program {TOOL_NAME} "
        f"version {__version__}, running on the computer named {host} ({system}, Python "
        f"{platform.python_version()}), from its {conn.dialect.name} database, in which the "
        "examination of the listed evidence images was recorded.",
        "Each evidence image was hashed (SHA-256) when it was added to Raksha, before any file "
        "was read from it. Every file inside was read without modification; its MD5, SHA-1, "
        "SHA-256 and PDQ were computed and compared with reference hash sets, as the Method "
        "section of the case report sets out. No file was altered, and no imagery is "
        "reproduced in the report.",
        f"The case report was generated on {when} from those records. The SHA-256 of each "
        "report file was computed at once after generation and recorded in Raksha's report "
        "registry and in its hash-chained audit log, whose head at the time of this "
        f"certificate is {head}. Any copy can be checked by recomputing its SHA-256.",
    ]
    return Certificate(
        case=case,
        records=records,
        devices=devices,
        host=host,
        system=system,
        tool=TOOL_NAME,
        version=__version__,
        database=conn.dialect.name,
        generated_at=generated_at,
        generated_by=generated_by,
        audit_head=head,
        manner=manner,
    )


def render_certificate_html(cert: Certificate) -> str:
    footer = html.footer_line(f"Certificate, case {cert.title}", fmt_time(cert.generated_at))
    return html.render(
        "certificate.html.j2",
        footer=footer,
        c=cert,
        blank=BLANK,
        signatories=SIGNATORIES,
        fields=SIGNATURE_FIELDS,
    )


def _record_blocks(records: list[CertifiedRecord]) -> list[Any]:
    """One block a record: a file name or hash must never be split across lines."""
    out: list[Any] = []
    for number, r in enumerate(records, start=1):
        out += [
            para(f"Record {number}: {r.description}", "h3"),
            kv_table(
                [
                    ("File name", hash_cell(r.name)),
                    ("SHA-256", hash_cell(r.sha256 or "— (a folder: no single hash)")),
                    ("Size", fmt_size(r.size)),
                    ("Details", r.detail),
                ]
            ),
        ]
    return out


def write_certificate_pdf(cert: Certificate, path: Path) -> None:
    case = cert.case
    fir = f"FIR {case.fir_number}" if case.fir_number else f"case {case.name}"
    story: list[Any] = [
        para(
            "Certificate under section 65B(4) of the Indian Evidence Act, 1872 and section "
            "63(4) of the Bharatiya Sakshya Adhiniyam, 2023",
            "title",
        ),
        kv_table(
            [
                ("Case", case.name),
                ("FIR number", text_or_dash(case.fir_number)),
                ("Police station", text_or_dash(case.police_station)),
                ("District", text_or_dash(case.district)),
                ("Sections", "; ".join(case.sections) or "—"),
            ]
        ),
        para("1. The electronic records this certificate covers", "h2"),
        *_record_blocks(cert.records),
        para("2. The computer and software that produced them", "h2"),
        kv_table(
            [
                ("Computer", f"{cert.host} ({cert.system})"),
                ("Software", f"{cert.tool} {cert.version}"),
                ("Database", cert.database),
                ("Prepared by", f"{cert.generated_by}, {fmt_time(cert.generated_at)}"),
                ("Audit log head", cert.audit_head),
            ]
        ),
    ]
    if cert.devices:
        story += [
            para("Seized devices the evidence images were made from", "h3"),
            grid_table(
                ["Seal", "Kind", "Make and model", "Serial / IMEI", "Images"],
                [
                    [
                        d.seal_label,
                        d.kind,
                        d.make_model,
                        lines([text_or_dash(d.serial), text_or_dash(d.imei)]),
                        lines([e.name for e in d.evidence]),
                    ]
                    for d in cert.devices
                ],
                [40, 35, 60, 60, 80],
            ),
        ]
    story += [para("3. Manner of production", "h2"), *[para(m) for m in cert.manner]]
    story += [
        para("4. Conditions of section 65B(2) / section 63(2)", "h2"),
        para("The undersigned certify that, to the best of their knowledge and belief:"),
        *[para(f"({chr(97 + i)}) {text}") for i, text in enumerate(cert.conditions)],
        para("5. Signatures", "h2"),
    ]
    for title in SIGNATORIES:
        story += [
            para(title, "h3"),
            *[para(f"{label}: {BLANK}", "line") for label in SIGNATURE_FIELDS],
            gap(),
        ]
    build_pdf(
        path,
        story,
        title=f"Certificate s.65B / s.63: {cert.title}",
        subject="Certificate for electronic evidence",
        footer=f"{fir} · certificate prepared {fmt_time(cert.generated_at)} · "
        f"Raksha {cert.version}",
        author=cert.generated_by,
    )
