"""What a case report shows, as plain dataclasses that know nothing about the store or
about rendering: ``case_data`` fills them, ``html`` and ``pdf`` draw them, ``as_dict``
hands them to ``--json`` and the web console."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from raksha.store.models import iso_utc


def to_plain(value: Any) -> Any:
    """Dataclasses, lists and times as JSON-ready values (times in ISO 8601 UTC)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


@dataclass(slots=True)
class CaseSummary:
    id: int
    name: str
    description: str | None
    fir_number: str | None
    police_station: str | None
    district: str | None
    sections: list[str]
    status: str
    created_at: datetime | None
    created_by: str | None
    updated_at: datetime | None


@dataclass(slots=True)
class AccountRef:
    """One identifier of an accused: an account on a platform."""

    platform: str
    id_kind: str
    external_id: str
    display_name: str | None
    basis: str


@dataclass(slots=True)
class Accused:
    person_id: int
    label: str | None
    status: str | None
    added_at: datetime | None
    added_by: str | None
    accounts: list[AccountRef] = field(default_factory=list)


@dataclass(slots=True)
class EvidenceImage:
    """An image or extraction ingested into the case, with what proves its integrity."""

    id: int
    kind: str
    name: str
    source_path: str
    container_sha256: str | None
    container_size: int | None
    image_format: str | None
    media_size: int | None
    acquisition_md5: str | None
    acquisition_sha1: str | None
    verification: str | None
    verified_at: datetime | None
    added_at: datetime | None
    seizure_id: int | None
    items: int = 0
    hit_items: int = 0


@dataclass(slots=True)
class Verification:
    """One image re-verified at a custody step: the hashes on record and those read back
    (``{"sha256": ...}``, or ``{"md5": ..., "sha1": ...}`` for a disk image), and the
    verdict (verified, mismatch, unreadable, not verifiable)."""

    evidence_id: int | None
    source_path: str | None
    method: str | None
    expected: dict[str, str]
    observed: dict[str, str]
    result: str
    detail: str | None
    evidence_name: str | None = None

    @property
    def label(self) -> str:
        """``phone.E01 (evidence 3)``: the name a reader recognises, and the id."""
        name = self.evidence_name or (self.source_path or "").rsplit("/", 1)[-1] or "evidence"
        return name if self.evidence_id is None else f"{name} (evidence {self.evidence_id})"

    @property
    def algorithms(self) -> list[str]:
        return sorted(set(self.expected) | set(self.observed))

    @property
    def differs(self) -> bool:
        return bool(self.observed) and self.observed != self.expected


@dataclass(slots=True)
class CustodyStep:
    id: int
    action: str
    at: datetime | None
    by_whom: str
    to_whom: str | None
    location: str | None
    notes: str | None
    recorded_by: str | None
    verification: list[Verification] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Device:
    """A seized device or medium, the images made from it, and its chain of custody."""

    seizure_id: int
    kind: str
    make: str | None
    model: str | None
    serial: str | None
    imei: str | None
    seal_label: str
    seized_from: str | None
    seized_from_person_id: int | None
    place: str | None
    district: str | None
    seized_at: datetime | None
    seized_by: str | None
    notes: str | None
    evidence: list[EvidenceImage] = field(default_factory=list)
    custody: list[CustodyStep] = field(default_factory=list)

    @property
    def make_model(self) -> str:
        return " ".join(p for p in (self.make, self.model) if p) or "—"

    @property
    def flags(self) -> list[str]:
        return [flag for step in self.custody for flag in step.flags]


@dataclass(slots=True)
class MatchDetail:
    """One reference entry an item matched, copied from the hit row."""

    set_name: str
    set_kind: str
    algorithm: str
    match_kind: str
    exactness: str  # exact | near
    distance: int
    variant: str | None
    ref_value: str
    record_key: str | None
    category: str | None
    category_label: str | None
    review_state: str
    query_share: float | None
    ref_share: float | None
    at_seconds: float | None


@dataclass(slots=True)
class Hit:
    """A matched item: where it is, its own hashes, and every reference it matched."""

    number: int
    item_id: int
    evidence_id: int
    evidence_name: str
    seal_label: str | None
    locator: str
    kind: str
    size: int | None
    file_type: str | None
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    pdq_quality: int | None
    modified: datetime | None
    allocation: str | None
    matches: list[MatchDetail] = field(default_factory=list)

    @property
    def categories(self) -> list[str]:
        seen: list[str] = []
        for m in self.matches:
            words = m.category_label or m.category
            if words and words not in seen:
                seen.append(words)
        return seen


@dataclass(slots=True)
class NewMaterialEntry:
    item_id: int
    evidence_name: str
    locator: str
    size: int | None
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    category: str | None
    confirmed_by: str
    confirmed_at: datetime | None


@dataclass(slots=True)
class ScanRun:
    scan_id: int
    evidence_name: str
    started_at: datetime | None
    finished_at: datetime | None
    status: str
    workers: int
    options: dict[str, Any]
    counts: dict[str, Any]


@dataclass(slots=True)
class SetUsed:
    """A hash set as the store held it when the report was made (which version matched)."""

    name: str
    kind: str
    version: str | None
    source_agency: str | None
    category_scheme: str
    pdq_threshold: int
    video_threshold: int
    active: bool
    last_import_sha256: str | None
    last_import_at: datetime | None
    case_matches: int


@dataclass(slots=True)
class Method:
    tool: str
    version: str
    database: str
    algorithms: list[str]
    pdq_min_quality: int
    default_pdq_threshold: int
    default_video_threshold: int
    scans: list[ScanRun] = field(default_factory=list)
    sets: list[SetUsed] = field(default_factory=list)


@dataclass(slots=True)
class CaseReport:
    """Everything one case report shows, gathered in one read of the store."""

    case: CaseSummary
    accused: list[Accused]
    devices: list[Device]
    unlinked_evidence: list[EvidenceImage]
    hits: list[Hit]
    new_material: list[NewMaterialEntry]
    method: Method
    generated_at: datetime
    generated_by: str
    audit_head: str

    @property
    def evidence(self) -> list[EvidenceImage]:
        """Every image of the case: those made from seized devices, then the others."""
        return [e for d in self.devices for e in d.evidence] + self.unlinked_evidence

    @property
    def totals(self) -> dict[str, int]:
        return {
            "devices": len(self.devices),
            "evidence": len(self.evidence),
            "items": sum(e.items for e in self.evidence),
            "hit_items": len(self.hits),
            "matches": sum(len(h.matches) for h in self.hits),
            "exact_items": sum(
                1 for h in self.hits if any(m.exactness == "exact" for m in h.matches)
            ),
            "near_only_items": sum(
                1 for h in self.hits if all(m.exactness == "near" for m in h.matches)
            ),
            "new_material": len(self.new_material),
            "custody_flags": sum(len(d.flags) for d in self.devices),
        }

    @property
    def title(self) -> str:
        return self.case.fir_number or self.case.name

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = to_plain(self)
        out["totals"] = self.totals
        return out
