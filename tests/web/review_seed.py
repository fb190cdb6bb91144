"""Synthetic evidence for the evidence, scan and review pages, built by code.

A phone-like folder of generated pictures (nothing depicts anyone or anything), some of
which are in a reference set of md5 lines; one known picture sits inside a zip, so its
hit has no preview. Cases are made by a supervisor and assigned to the users named.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from raksha.cases import records
from raksha.hashing.crypto import digest_bytes
from raksha.services.hashsets import import_hashset
from raksha.store.models import evidence_table, item_matches_table, items_table
from raksha.synthetic import images as synth
from raksha.web.scans import ScanJob, ScanRequest, scan_jobs
from tests.web.conftest import People


def assert_no_inline_code(html: str) -> None:
    """The Content-Security-Policy allows no inline script, style or event handler."""
    assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None
    assert "<style" not in html and " style=" not in html
    assert re.search(r"<[^>]+\son[a-z]+=", html) is None


def picture(seed: int) -> bytes:
    return synth.jpeg_bytes(synth.photo_like(seed, 320, 240), quality=85)


@dataclass
class Phone:
    """A seized phone's folder: known pictures (two loose, one in a zip) and other files."""

    root: Path
    known: list[bytes]
    loose: list[Path]
    zipped: Path


def build_phone(root: Path, seed: int = 10) -> Phone:
    dcim = root / "DCIM"
    dcim.mkdir(parents=True)
    known = [picture(seed), picture(seed + 1), picture(seed + 2)]
    loose = [dcim / "IMG_0001.jpg", dcim / "IMG_0002.dat"]  # .dat: recognised by content
    for path, data in zip(loose, known[:2], strict=True):
        path.write_bytes(data)
    (dcim / "IMG_0003.jpg").write_bytes(picture(seed + 50))  # not in the set
    (root / "notes.txt").write_text("shopping list\n")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("sent/photo.jpg", known[2])
    zipped = root / "backup.zip"
    zipped.write_bytes(buf.getvalue())
    return Phone(root, known, loose, zipped)


def md5_set(app: FastAPI, folder: Path, name: str, pictures: Iterable[bytes]) -> Path:
    """A reference set of md5 lines for ``pictures``, imported as ``name``; returns the file."""
    path = folder / f"{name}.txt"
    path.write_text("".join(f"md5 {digest_bytes(p).md5}\n" for p in pictures))
    import_hashset(app.state.store, path, name=name)
    return path


def make_case(app: FastAPI, people: People, name: str, members: Iterable[str] = ()) -> int:
    """A case made by the supervisor, with the users of ``members`` (roles) assigned."""
    supervisor = people.actor(app, "supervisor")
    case = records.create_case(app.state.store, supervisor, name)
    for role in members:
        records.assign(app.state.store, supervisor, int(case["id"]), people.usernames[role])
    return int(case["id"])


def scan_and_wait(
    app: FastAPI, people: People, case_id: int, name: str, path: Path, role: str = "supervisor"
) -> ScanJob:
    jobs = scan_jobs(app.state)
    request = ScanRequest(path=path.resolve(), kind="files", workers=0)
    job = jobs.start(people.actor(app, role), case_id, name, request)
    assert jobs.wait(), "the scan did not finish"
    assert job.state == "done", job.error
    return job


def hits_of(app: FastAPI, evidence_id: int) -> list[dict[str, object]]:
    """(match id, item id, locator, state, category) of the evidence's hits, by locator."""
    mt, it = item_matches_table, items_table
    with app.state.store.engine.connect() as conn:
        rows = conn.execute(
            select(
                mt.c.id.label("match_id"),
                it.c.id.label("item_id"),
                it.c.locator,
                mt.c.review_state,
                mt.c.category,
                mt.c.category_label,
            )
            .join(it, it.c.id == mt.c.item_id)
            .where(it.c.evidence_id == evidence_id)
            .order_by(it.c.locator, mt.c.id)
        ).mappings()
        return [dict(r) for r in rows]


@dataclass
class Seeded:
    """A scanned case every role's walk can use (analyst1 and investigator1 assigned)."""

    app: FastAPI
    case_id: int
    case_name: str
    phone: Phone
    job_id: str
    evidence_id: int
    hits: list[dict[str, object]]
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def readable_hit(self) -> dict[str, object]:
        return next(h for h in self.hits if " > backup.zip > " not in str(h["locator"]))

    def new_folder(self) -> Path:
        """A fresh small folder to scan (each walk call starts a scan of its own)."""
        folder = Path(self.app.state.settings.home) / f"walk-scan-{next(self.counter)}"
        folder.mkdir(parents=True)
        (folder / "readme.txt").write_text("nothing to find here\n")
        return folder


def seed_review(app: FastAPI, people: People) -> Seeded:
    """The scanned walk case of this app (made once per app)."""
    existing: Seeded | None = getattr(app.state, "test_review_seed", None)
    if existing is not None:
        return existing
    home = Path(app.state.settings.home)
    phone = build_phone(home / "walk-evidence" / "phone")
    md5_set(app, home, "walk-ref", phone.known)
    name = "Walk FIR 9/2026"
    case_id = make_case(app, people, name, members=("analyst", "investigator"))
    job = scan_and_wait(app, people, case_id, name, phone.root)
    with app.state.store.engine.connect() as conn:
        evidence_id = conn.execute(
            select(evidence_table.c.id).where(evidence_table.c.case_id == case_id)
        ).scalar_one()
    seeded = Seeded(app, case_id, name, phone, job.id, int(evidence_id), hits_of(app, evidence_id))
    app.state.test_review_seed = seeded
    return seeded


def _seeded(c: Any) -> Seeded:
    """The walk's scanned case, from a ``test_security.WalkContext`` (its app and people)."""
    return seed_review(c.app, c.people)


#: route name -> the path parameters and form fields the every-route walk sends it
#: (``tests/web/test_security.py`` turns each into a ``Sample``).
REVIEW_SAMPLES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "evidence.show": lambda c: {"path": {"evidence_id": str(_seeded(c).evidence_id)}},
    "scans.start": lambda c: {
        "data": {
            "path": str(_seeded(c).new_folder()),
            "case_id": str(_seeded(c).case_id),
            "kind": "files",
            "workers": "0",
        }
    },
    "scans.status": lambda c: {"path": {"job_id": _seeded(c).job_id}},
    "scans.progress": lambda c: {"path": {"job_id": _seeded(c).job_id}},
    "review.decide": lambda c: {
        "path": {"match_id": str(_seeded(c).readable_hit()["match_id"])},
        "data": {"decision": "confirm"},
    },
    "review.preview": lambda c: {"path": {"item_id": str(_seeded(c).readable_hit()["item_id"])}},
    "review.reveal": lambda c: {
        "path": {"item_id": str(_seeded(c).readable_hit()["item_id"])},
        "data": {"confirmed": "yes"},
    },
}
