"""Builders that write synthetic hash-set files by code, for the reader and writer tests.

Every hash here is random (``random.Random`` with a fixed seed) and every name is made up:
no real reference value, no real case. The files follow ``docs/formats.md`` and carry the
quirks seen in real ones: a byte-order mark, booleans as strings, upper-case hex, OData
extras, a null ``Category`` with ``IsPrecategorized`` set, PDQ in ``AlternativeHashes``.
"""

from __future__ import annotations

import base64
import json
import random
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

BOM = b"\xef\xbb\xbf"
ICSE_HEADER = [
    "MD5",
    "SHA1",
    "PhotoDNA",
    "Image ID",
    "Is distributed",
    "Victim identified",
    "Offender identified",
    "Series name",
    "Number of submissions",
    "File Available",
    "Media Type",
    "Baseline",
]


def random_hex(rng: random.Random, chars: int) -> str:
    """``chars`` random lower-case hex characters."""
    return f"{rng.getrandbits(chars * 4):0{chars}x}"


def random_photodna(rng: random.Random) -> str:
    """A random 144-byte value written as base64 (192 characters), the shape of PhotoDNA."""
    return base64.b64encode(rng.randbytes(144)).decode("ascii")


def vics_url(version: str = "2.0", flavour: str = "US", entity: str = "Media") -> tuple[str, str]:
    """The metadata key and URL a VICS file of this version starts with."""
    if version.startswith("1."):
        return (
            "odata.metadata",
            f"http://github.com/ICMEC/ProjectVic/DataModels/{version}.xml#{entity}",
        )
    return (
        "@odata.context",
        "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/"
        f"{version}.xml/{flavour}/$metadata#{entity}",
    )


def vics_media(rng: random.Random, media_id: int, **overrides: Any) -> dict[str, Any]:
    """One Media record with every quirk; ``overrides`` replace (or, as ``None``, null) fields."""
    media: dict[str, Any] = {
        "odata.id": f"http://example.invalid/Media({media_id})",
        "MediaID": media_id,
        "Category": rng.choice([0, 1, 2, 3]),
        "MD5": random_hex(rng, 32).upper(),
        "SHA1": random_hex(rng, 40).upper(),
        "PhotoDNA": None,
        "MediaSize": rng.randint(1_000, 9_000_000),
        "MimeType": "image/jpeg",
        "RelativeFilePath": f"Export\\Media\\{media_id:06d}.jpg",
        "DateUpdated": "2019-05-01T10:00:00Z",
        "VictimIdentified": rng.choice(["true", "false", True, False]),
        "OffenderIdentified": "false",
        "IsDistributed": "true",
        "IsSuspected": False,
        "IsPrecategorized": "true",
        "Series": f"Synthetic series {media_id % 7}",
        "Tags": "",
        "Comments": None,
        "Miniature": base64.b64encode(rng.randbytes(48)).decode("ascii"),
        "MediaFiles@odata.navigationLinkUrl": f"Media({media_id})/MediaFiles",
        "MediaFiles": [
            {
                "MD5": "",
                "FileName": f"made_up_name_{media_id}.jpg",
                "FilePath": "C:\\Synthetic\\Case\\",
                "Created": "2019-01-01T00:00:00Z",
                "Unallocated": "false",
                "Deleted": False,
            }
        ],
        "MediaMetadata": [],
        "AlternativeHashes@odata.navigationLinkUrl": f"Media({media_id})/AlternativeHashes",
        "AlternativeHashes": [
            {"MD5": "", "HashName": "PDQ", "HashValue": random_hex(rng, 64).upper()},
            {"MD5": "", "HashName": "sha256", "HashValue": random_hex(rng, 64)},
        ],
        "Exifs": [{"PropertyName": "Make", "PropertyValue": "Synthetic"}],
    }
    for key, value in overrides.items():
        media[key] = value
    return media


def case_header(case_id: str = "CASE-0001") -> dict[str, Any]:
    """A made-up case header for case-shaped VICS files."""
    return {
        "odata.id": f"http://example.invalid/Cases('{case_id}')",
        "CaseID": case_id,
        "CaseNumber": "SYN/2024/17",
        "ContactOrganization": "Synthetic Cyber Unit",
        "ContactName": "Test Officer",
        "ContactPhone": "+00 000 000",
        "ContactEmail": "officer@example.invalid",
        "ContactTitle": "Inspector",
        "TotalMediaFiles": 0,
        "TotalPrecategorized": 0,
        "SeizureDate": "2024-02-03T00:00:00Z",
        "SourceApplicationName": "SynthTool",
        "SourceApplicationVersion": "1.0",
        "CaseMetadata": [{"PropertyName": "Operation", "PropertyValue": "Made-up"}],
    }


def vics_bytes(
    media: Sequence[Any],
    *,
    version: str = "2.0",
    flavour: str = "US",
    case: dict[str, Any] | None = None,
    bom: bool = False,
    metadata_last: bool = False,
    escape_slashes: bool = False,
    case_fields_after_media: dict[str, Any] | None = None,
) -> bytes:
    """A whole VICS file as bytes (hash-set shape, or case shape when ``case`` is given)."""
    key, url = vics_url(version, flavour, "Cases" if case is not None else "Media")
    if case is not None:
        body: dict[str, Any] = {**case, "Media": list(media)}
        if case_fields_after_media:
            body.update(case_fields_after_media)
        value: list[Any] = [body]
    else:
        value = list(media)
    root = {"value": value, key: url} if metadata_last else {key: url, "value": value}
    text = json.dumps(root, indent=1)
    if escape_slashes:
        text = text.replace("/", "\\/")
    return (BOM if bom else b"") + text.encode("utf-8")


def write_vics(path: Path, media: Sequence[Any], **options: Any) -> Path:
    """Write :func:`vics_bytes` to ``path``."""
    path.write_bytes(vics_bytes(media, **options))
    return path


def write_big_vics(path: Path, count: int, seed: int = 1) -> int:
    """Stream a VICS 2.0 hash set of ``count`` compact records to ``path``; returns its size."""
    rng = random.Random(seed)
    key, url = vics_url("2.0", "Default")
    with path.open("wb") as out:
        out.write(BOM + json.dumps({key: url})[:-1].encode() + b', "value": [')
        for i in range(count):
            media = {
                "MediaID": i,
                "Category": i % 6,
                "MD5": random_hex(rng, 32).upper(),
                "SHA1": random_hex(rng, 40),
                "IsDistributed": "true",
                "MediaFiles": [{"FileName": f"f{i}.jpg"}],
            }
            out.write((b",\n" if i else b"\n") + json.dumps(media).encode())
        out.write(b"\n]}\n")
        return out.tell()


def icse_row(rng: random.Random, image_id: int, **overrides: str) -> dict[str, str]:
    """One ICSE row (header name -> cell) with random hashes; ``overrides`` by header name."""
    row = {
        "MD5": random_hex(rng, 32).upper(),
        "SHA1": random_hex(rng, 40).upper(),
        "PhotoDNA": "",
        "Image ID": str(image_id),
        "Is distributed": rng.choice(["Yes", "No"]),
        "Victim identified": rng.choice(["True", "False", ""]),
        "Offender identified": rng.choice(["1", "0"]),
        "Series name": f"Made-up series {image_id % 3}",
        "Number of submissions": str(rng.randint(1, 40)),
        "File Available": "Yes",
        "Media Type": "Image",
        "Baseline": rng.choice(["Yes", "No"]),
    }
    row.update(overrides)
    return row


def write_icse(
    path: Path,
    rows: Iterable[dict[str, str]],
    *,
    header: Sequence[str] = ICSE_HEADER,
    bom: bool = False,
    extra_lines: Iterable[str] = (),
) -> Path:
    """Write an ICSE semicolon CSV (CRLF line ends, as Windows tools write it)."""
    lines = [";".join(header)]
    lines += [";".join(row.get(name, "") for name in header) for row in rows]
    lines += list(extra_lines)
    path.write_bytes((BOM if bom else b"") + ("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def write_lines(path: Path, lines: Iterable[str], *, bom: bool = False) -> Path:
    """Write text lines (LF ends)."""
    path.write_bytes((BOM if bom else b"") + ("\n".join(lines) + "\n").encode("utf-8"))
    return path


NsrlRow = tuple[str | None, str | None, str | None, str | None, int | None]


def nsrl_row(rng: random.Random, number: int) -> NsrlRow:
    """``(sha256, sha1, md5, file_name, file_size)`` with upper-case hex, as the RDS has it."""
    return (
        random_hex(rng, 64).upper(),
        random_hex(rng, 40).upper(),
        random_hex(rng, 32).upper(),
        f"synthetic_{number}.dll",
        rng.randint(100, 10_000_000),
    )


def write_nsrl(path: Path, rows: Iterable[NsrlRow], *, minimal: bool = False) -> Path:
    """An RDSv3-like SQLite database: tables, a ``FILE`` view over them, a ``VERSION`` table.

    ``minimal`` builds the "minimal" RDS shape instead: only a ``DISTINCT_HASH`` view.
    """
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            """
            CREATE TABLE PKG (package_id INTEGER PRIMARY KEY, name TEXT, version TEXT);
            CREATE TABLE PKG_FILE (
                sha256 TEXT, sha1 TEXT, md5 TEXT, crc32 TEXT,
                file_name TEXT, file_size INTEGER, package_id INTEGER
            );
            CREATE TABLE VERSION (
                version TEXT, build_set TEXT, build_date TEXT, description TEXT
            );
            INSERT INTO PKG VALUES (1, 'Synthetic Office Suite', '1.0');
            INSERT INTO VERSION VALUES ('2099.01.1', 'synthetic', '2099-01-01', 'test RDS');
            """
        )
        conn.executemany("INSERT INTO PKG_FILE VALUES (?, ?, ?, '00000000', ?, ?, 1)", list(rows))
        if minimal:
            conn.execute(
                "CREATE VIEW DISTINCT_HASH AS SELECT DISTINCT sha256, sha1, md5 FROM PKG_FILE"
            )
        else:
            conn.execute(
                "CREATE VIEW FILE AS SELECT sha256, sha1, md5, crc32, file_name, file_size, "
                "package_id FROM PKG_FILE"
            )
        conn.commit()
    return path
