"""Operation statistics: per district and for the whole operation, as CSV and PDF.

"21 places, 12 arrested, 20 cases, 47 items seized" is what a press note, a supervisor's
review and the court's case diary all quote, so the numbers come from the tables in one
read and the CSV holds exactly those numbers (its last row is the whole operation). A
case registered after raids in two districts counts once in each district but once in
the whole operation, so the overall row is counted, never summed.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from raksha import __version__
from raksha.cases import audit
from raksha.errors import NotFoundError
from raksha.reports.case_model import to_plain
from raksha.reports.formatting import as_utc, fmt_time, text_or_dash
from raksha.reports.pdf_layout import WIDE, build_pdf, grid_table, header_widths, kv_table, para
from raksha.store.case_models import (
    operations_table,
    raid_target_cases_table,
    raid_targets_table,
    seizures_table,
)

OP, RT, RTC, SZ = operations_table, raid_targets_table, raid_target_cases_table, seizures_table
#: The overall row's name in the CSV and the PDF.
ALL_DISTRICTS = "(all districts)"
#: Target statuses counted in their own column (others count as places only).
STATUSES = ("done", "not found", "in progress", "planned")
_BASE_COLUMNS = (
    "district",
    "places",
    "done",
    "not found",
    "in progress",
    "planned",
    "arrests",
    "cases registered",
    "items seized",
)


def _status(value: str | None) -> str:
    return (value or "planned").strip().lower().replace("_", " ").replace("-", " ")


@dataclass(slots=True)
class DistrictStats:
    district: str
    places: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    arrests: int = 0
    cases: set[int] = field(default_factory=set)
    items: Counter[str] = field(default_factory=Counter)

    @property
    def cases_registered(self) -> int:
        return len(self.cases)

    @property
    def items_seized(self) -> int:
        return sum(self.items.values())

    def row(self, kinds: list[str]) -> list[Any]:
        return [
            self.district,
            self.places,
            *(self.statuses[s] for s in STATUSES),
            self.arrests,
            self.cases_registered,
            self.items_seized,
            *(self.items[k] for k in kinds),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "district": self.district,
            "places": self.places,
            **{s: self.statuses[s] for s in STATUSES},
            "arrests": self.arrests,
            "cases_registered": self.cases_registered,
            "items_seized": self.items_seized,
            "items_by_kind": dict(sorted(self.items.items())),
        }


@dataclass(slots=True)
class OperationStats:
    operation_id: int
    name: str
    starts_at: datetime | None
    description: str | None
    districts: list[DistrictStats]
    overall: DistrictStats
    generated_at: datetime
    generated_by: str
    audit_head: str

    @property
    def kinds(self) -> list[str]:
        return sorted(self.overall.items)

    @property
    def columns(self) -> list[str]:
        return [*_BASE_COLUMNS, *(f"seized: {k}" for k in self.kinds)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation_id,
            "name": self.name,
            "starts_at": to_plain(self.starts_at),
            "districts": [d.as_dict() for d in self.districts],
            "overall": self.overall.as_dict(),
            "generated_at": to_plain(self.generated_at),
            "generated_by": self.generated_by,
            "audit_head": self.audit_head,
        }


def find_operation(conn: Connection, ref: str | int) -> int:
    """An operation's id from its name or its id."""
    text = str(ref).strip()
    row = conn.execute(select(OP.c.id).where(OP.c.name == text)).first()
    if row is None and text.isdigit():
        row = conn.execute(select(OP.c.id).where(OP.c.id == int(text))).first()
    if row is None:
        raise NotFoundError(f"no operation {text!r} (by name or id); check its name")
    return int(row[0])


def load_operation_stats(
    conn: Connection, operation_id: int, *, generated_by: str, generated_at: datetime
) -> OperationStats:
    op = conn.execute(select(OP).where(OP.c.id == operation_id)).first()
    if op is None:
        raise NotFoundError(f"no operation with id {operation_id}; check its name")
    overall = DistrictStats(ALL_DISTRICTS)
    by_district: dict[str, DistrictStats] = {}
    district_of: dict[int, DistrictStats] = {}
    for t in conn.execute(
        select(RT.c.id, RT.c.district, RT.c.status, RT.c.arrests)
        .where(RT.c.operation_id == operation_id)
        .order_by(RT.c.id)
    ):
        name = (t.district or "").strip() or "(no district)"
        stats = by_district.setdefault(name, DistrictStats(name))
        district_of[t.id] = stats
        for s in (stats, overall):
            s.places += 1
            s.statuses[_status(t.status)] += 1
            s.arrests += int(t.arrests or 0)
    if district_of:
        for target_id, case_id in conn.execute(
            select(RTC.c.target_id, RTC.c.case_id).where(RTC.c.target_id.in_(district_of))
        ):
            district_of[target_id].cases.add(case_id)
            overall.cases.add(case_id)
        for target_id, kind in conn.execute(
            select(SZ.c.raid_target_id, SZ.c.kind).where(SZ.c.raid_target_id.in_(district_of))
        ):
            district_of[target_id].items[kind] += 1
            overall.items[kind] += 1
    return OperationStats(
        operation_id=op.id,
        name=op.name,
        starts_at=as_utc(op.starts_at),
        description=op.description,
        districts=[by_district[k] for k in sorted(by_district)],
        overall=overall,
        generated_at=generated_at,
        generated_by=generated_by,
        audit_head="{}:{}".format(*audit.head(conn)),
    )


def statistics_csv(stats: OperationStats) -> str:
    """One row per district, then the whole operation; counts only, so totals add up."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(stats.columns)
    kinds = stats.kinds
    for d in stats.districts:
        writer.writerow(d.row(kinds))
    writer.writerow(stats.overall.row(kinds))
    return buf.getvalue()


def write_statistics_csv(stats: OperationStats, path: Path) -> None:
    path.write_text(statistics_csv(stats), encoding="utf-8", newline="")


def write_statistics_pdf(stats: OperationStats, path: Path) -> None:
    o = stats.overall
    headline = (
        f"{o.places} places, {o.arrests} arrested, {o.cases_registered} cases, "
        f"{o.items_seized} items seized"
    )
    kinds = stats.kinds
    header = [c.removeprefix("seized: ") for c in stats.columns]
    rows = [d.row(kinds) for d in stats.districts] + [o.row(kinds)]
    story: list[Any] = [
        para(f"Operation statistics: {stats.name}", "title"),
        kv_table(
            width=WIDE,
            rows=[
                ("Operation", stats.name),
                ("Started", fmt_time(stats.starts_at)),
                ("Description", text_or_dash(stats.description)),
                ("In short", headline),
                (
                    "Generated",
                    f"{fmt_time(stats.generated_at)} by {stats.generated_by}, Raksha {__version__}",
                ),
                ("Audit log head", stats.audit_head),
            ],
        ),
        para("Per district", "h2"),
        grid_table(header, rows, [70, *header_widths(header[1:])], width=WIDE),
        para(
            "A case registered after raids in two districts counts in each district's row "
            "but once in the whole operation's. Items seized counts seizures recorded "
            "against the operation's raid targets.",
            "muted",
        ),
    ]
    build_pdf(
        path,
        story,
        title=f"Operation statistics: {stats.name}",
        subject="Raksha operation statistics",
        footer=f"Statistics of {stats.name} · generated {fmt_time(stats.generated_at)} · "
        f"Raksha {__version__}",
        author=stats.generated_by,
        wide=True,
    )
