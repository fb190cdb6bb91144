"""Reading an exhibit's images back at a custody step, to show they are still what was
acquired.

A court trusts a hit only if the image it came from is provably the one made from the
seized device. So at every custody event each evidence row of the exhibit is read again,
read-only, and set against the hashes the database recorded when it was first ingested —
never against hashes the file carries about itself, which whoever changed the file could
have rewritten too:

* a disk image with MD5/SHA-1 on record (an E01's acquisition hashes, or what a
  ``scan --verify`` read) is read through :func:`raksha.sources.image_media.verify_media`;
* any other disk image, and every other file, by the SHA-256 of its bytes (all segments,
  in order, for a split or E01 image) taken before the first scan read it;
* a folder has no hash of its own: its items carry theirs.

Nothing here writes: not the evidence, not the database. A check never moves the baseline
either, so a changed image keeps failing until someone explains it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from raksha.errors import RakshaError
from raksha.hashing.crypto import digest_file, digest_files
from raksha.sources.image_media import (
    AcquisitionInfo,
    ewf_segments,
    open_media,
    raw_segments,
    verify_media,
)

logger = logging.getLogger(__name__)

VERIFIED = "verified"
MISMATCH = "mismatch"
UNREADABLE = "unreadable"
NOT_VERIFIABLE = "not verifiable"
#: Every result a check can have.
RESULTS: tuple[str, ...] = (VERIFIED, MISMATCH, UNREADABLE, NOT_VERIFIABLE)

FOLDER_DETAIL = "folder; its items carry their own hashes"


@dataclass(frozen=True, slots=True)
class Check:
    """One evidence row read back: what was expected, what was found, and the verdict."""

    evidence_id: int
    source_path: str
    method: str
    expected: dict[str, str] | None
    observed: dict[str, str] | None
    result: str
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "evidence_id": self.evidence_id,
            "source_path": self.source_path,
            "method": self.method,
            "expected": self.expected,
            "observed": self.observed,
            "result": self.result,
            "detail": self.detail,
        }


def reverify(evidence: Mapping[str, Any]) -> Check:
    """Read one evidence row's bytes again (``evidence`` is its database row as a mapping)."""
    if evidence.get("image_format"):
        return _disk_image(evidence)
    if evidence.get("container_sha256"):
        return _file(evidence)
    eid, path = int(evidence["id"]), str(evidence["source_path"])
    if evidence.get("kind") == "folder" or os.path.isdir(path):
        return Check(eid, path, "none", None, None, NOT_VERIFIABLE, FOLDER_DETAIL)
    return Check(eid, path, "none", None, None, NOT_VERIFIABLE, "no hash was recorded at ingest")


def _file(evidence: Mapping[str, Any]) -> Check:
    eid, path = int(evidence["id"]), str(evidence["source_path"])
    expected = {"sha256": str(evidence["container_sha256"])}
    method = "sha256 of the file"
    if not os.path.isfile(path):
        why = "it is a folder now" if os.path.isdir(path) else "the file is not there"
        return Check(eid, path, method, expected, None, UNREADABLE, f"{path}: {why}")
    try:
        digests = digest_file(path)
    except RakshaError as exc:
        return Check(eid, path, method, expected, None, UNREADABLE, str(exc))
    observed = {"sha256": digests.sha256}
    result = VERIFIED if observed == expected else MISMATCH
    return Check(eid, path, method, expected, observed, result, _size_note(evidence, digests.size))


def _size_note(evidence: Mapping[str, Any], size: int) -> str | None:
    recorded = evidence.get("container_size")
    if recorded is not None and int(recorded) != size:
        return f"size was {int(recorded):,} bytes at ingest, now {size:,}"
    return None


def _baseline(evidence: Mapping[str, Any]) -> tuple[dict[str, str], str] | None:
    """The media MD5/SHA-1 on record for a disk image, and where they came from."""
    acquired = {
        k: str(v)
        for k, v in (
            ("md5", evidence.get("acquisition_md5")),
            ("sha1", evidence.get("acquisition_sha1")),
        )
        if v
    }
    if acquired:
        return acquired, "md5/sha1 of the media against its acquisition hashes"
    if evidence.get("verification") in ("verified", "no stored hash"):
        read = {
            k: str(v)
            for k, v in (
                ("md5", evidence.get("verified_md5")),
                ("sha1", evidence.get("verified_sha1")),
            )
            if v
        }
        if read:
            return read, "md5/sha1 of the media against its last verification"
    return None


def _disk_image(evidence: Mapping[str, Any]) -> Check:
    eid, path = int(evidence["id"]), str(evidence["source_path"])
    fmt = str(evidence["image_format"])
    baseline = _baseline(evidence)
    if baseline is None:
        return _segments(evidence, fmt)
    expected, method = baseline
    if not os.path.isfile(path):
        return Check(
            eid, path, method, expected, None, UNREADABLE, f"{path}: the image is not there"
        )
    try:
        media = open_media(path, fmt)
    except (RakshaError, OSError) as exc:
        return Check(eid, path, method, expected, None, UNREADABLE, str(exc))
    try:
        logger.info("re-verifying %s: reading %d bytes", path, media.size)
        check = verify_media(media, AcquisitionInfo(expected.get("md5"), expected.get("sha1")))
    finally:
        media.close()
    if check.error is not None:  # what was read up to the failure proves nothing
        return Check(eid, path, method, expected, None, UNREADABLE, check.error)
    observed = {k: getattr(check, k) for k in expected}
    result = VERIFIED if check.status == "verified" else MISMATCH
    return Check(eid, path, method, expected, observed, result, check.error)


def _segments(evidence: Mapping[str, Any], fmt: str) -> Check:
    """A disk image with no MD5/SHA-1 on record: the SHA-256 of its files, as at ingest."""
    eid, path = int(evidence["id"]), str(evidence["source_path"])
    method = "sha256 of the image files as at first ingest"
    recorded = evidence.get("container_sha256")
    if not recorded:
        return Check(
            eid, path, "none", None, None, NOT_VERIFIABLE, "no hash was recorded at ingest"
        )
    expected = {"sha256": str(recorded)}
    if not os.path.isfile(path):
        return Check(
            eid, path, method, expected, None, UNREADABLE, f"{path}: the image is not there"
        )
    try:
        segments = ewf_segments(path) if fmt == "ewf" else raw_segments(path)
        digests = digest_files(segments)
    except (RakshaError, OSError) as exc:
        return Check(eid, path, method, expected, None, UNREADABLE, str(exc))
    observed = {"sha256": digests.sha256}
    result = VERIFIED if observed == expected else MISMATCH
    return Check(eid, path, method, expected, observed, result, _size_note(evidence, digests.size))
