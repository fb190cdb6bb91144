"""The demo's last act: the scanned phone becomes a sealed exhibit with a chain of custody,
and the case gets its court report and s.65B / s.63 certificate.

It runs after the scans of :mod:`raksha.demo`, as the unit would: the case is registered
under IT Act s.67B, the phone the pictures came from is recorded as seized, sealed,
handed to the lab and examined (each step re-verifying the hashes of what was made from
it), and then the report is generated from the store, registered by its SHA-256 and
checked against the registry; the demo checks that every hit its scans found is in it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from raksha.cases import custody, records, seizures, users
from raksha.cases.actor import Actor
from raksha.reports.registry import RegisteredReport, verify_report
from raksha.reports.service import generate_case_report, generate_certificate
from raksha.scan.pipeline import ScanResult
from raksha.store.db import Store

SEAL = "DEMO/PS-CYBER/2026/01"
SEIZED_AT = datetime(2026, 11, 2, 6, 30, tzinfo=UTC)
#: The steps after seizure, with who did each and where (synthetic names).
STEPS = (
    ("sealed", "SI R. Nair", None, "Residence, Ward 9"),
    ("transferred", "SI R. Nair", "HC A. Menon", "Residence, Ward 9"),
    ("received at lab", "HC A. Menon", None, "Cyber Forensic Lab"),
    ("imaged", "HC A. Menon", None, "Cyber Forensic Lab"),
    ("analysed", "HC A. Menon", None, "Cyber Forensic Lab"),
)


@dataclass(slots=True, frozen=True)
class DemoLogin:
    """The demo's own users, so its console can be opened on its data."""

    username: str
    password: str
    admin: str
    admin_password: str
    file: Path


def demo_logins(store: Store, home: Path) -> DemoLogin:
    """Add an admin and a supervisor with random passwords (written to ``login.txt``) and
    log the supervisor in for the CLI, so the printed `raksha` commands work on the demo's
    data and `raksha serve` opens the console on it. This ends the demo store's set-up
    mode, which is why it runs last."""
    admin, admin_password = "demo-admin", secrets.token_urlsafe(12)
    username, password = "demo", secrets.token_urlsafe(12)
    with store.engine.begin() as conn:
        users.create_user(conn, Actor.local_setup(), admin, "admin", admin_password)
        boss = users.find_user(conn, admin).actor()
        users.create_user(conn, boss, username, "supervisor", password, "Demo supervisor")
    with store.engine.begin() as conn:
        token = users.login(conn, username, password, client="cli")
    users.write_session_file(home / "session", token)
    file = home / "login.txt"
    file.write_text(
        f"console and CLI login: {username} / {password} (supervisor)\n"
        f"user admin: {admin} / {admin_password} (admin)\n"
    )
    file.chmod(0o600)
    return DemoLogin(username, password, admin, admin_password, file)


@dataclass(slots=True)
class CourtOutcome:
    """What the court side produced and whether it holds together."""

    files: list[RegisteredReport] = field(default_factory=list)
    hits_in_report: int = 0
    missing_from_report: list[str] = field(default_factory=list)
    chain: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing_from_report and not self.problems and self.chain == "ok"


def court_side(
    store: Store,
    case: str,
    phone_scan: ScanResult,
    found: set[str],
    out_dir: Path,
    report: Callable[[str], None],
) -> CourtOutcome:
    """Record the case, the exhibit and its custody; write and check the court papers."""
    actor = Actor.local_setup()
    outcome = CourtOutcome()
    records.update_case(
        store,
        actor,
        case,
        fir_number="112/2026",
        police_station="Cyber PS",
        district="Ernakulam",
        sections=["IT Act s.67B"],
    )
    records.set_status(store, actor, case, "FIR registered")
    seizures.add_seizure(
        store,
        actor,
        case,
        "phone",
        SEAL,
        make="Synthetic",
        model="Demo Phone",
        imei="490154203237518",
        seized_from="the demo's suspect",
        place="Residence, Ward 9",
        district="Ernakulam",
        seized_at=SEIZED_AT,
        seized_by="SI R. Nair",
    )
    seizures.link_evidence(store, actor, SEAL, phone_scan.evidence.id)
    for step, (action, by, to, where) in enumerate(STEPS, start=1):
        custody.add_event(
            store,
            actor,
            SEAL,
            action,
            by_whom=by,
            to_whom=to,
            location=where,
            at=SEIZED_AT + timedelta(hours=2 * step),
        )
    chain = custody.show_custody(store, actor, SEAL)["chain"]
    outcome.chain = chain["status"]
    outcome.problems.extend(chain["reasons"])
    report(f"exhibit {SEAL}: {chain['events']} custody events, chain {chain['status']}")
    case_report, files = generate_case_report(store, actor, case, out_dir)
    _, certificate = generate_certificate(store, actor, case, out_dir)
    outcome.files = [*files, *certificate]
    reported = {h.locator for h in case_report.hits}
    outcome.hits_in_report = len(case_report.hits)
    outcome.missing_from_report = sorted(found - reported)
    for registered in outcome.files:
        checked = verify_report(store, Path(registered.path))
        if not checked.ok:
            outcome.problems.extend(checked.problems)
    return outcome
