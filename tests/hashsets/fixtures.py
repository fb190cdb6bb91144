"""Synthetic hash-set files, written by code from random values (never real hashes)."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

RNG = random.Random(4242)


def hexes(chars: int, n: int, rng: random.Random = RNG) -> list[str]:
    return [f"{rng.getrandbits(chars * 4):0{chars}x}" for _ in range(n)]


def vics_media(i: int, *, upper: bool = True, string_bools: bool = True) -> dict[str, Any]:
    md5, sha1, pdq = hexes(32, 1)[0], hexes(40, 1)[0], hexes(64, 1)[0]
    flag = "true" if string_bools else True
    return {
        "odata.id": f"http://example.invalid/Media({i})",
        "Media@odata.navigationLinkUrl": "ignored",
        "MediaID": str(1000 + i),
        "Category": i % 6,
        "MD5": md5.upper() if upper else md5,
        "SHA1": sha1.upper() if upper else sha1,
        "VictimIdentified": flag if i % 2 else ("false" if string_bools else False),
        "IsDistributed": flag,
        "IsPrecategorized": "true",
        "Series": f"series-{i % 3}",
        "MimeType": "image/jpeg",
        "MediaSize": 10_000 + i,
        "MediaFiles": [{"MD5": md5, "FileName": f"f{i}.jpg", "FilePath": "x/"}],
        "AlternativeHashes": [{"MD5": md5, "HashName": "PDQ", "HashValue": pdq}],
    }


def vics_v2(
    path: Path, media: list[dict[str, Any]], *, flavour: str = "US", bom: bool = True
) -> Path:
    doc = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/"
        f"{flavour}/$metadata#Media",
        "value": media,
    }
    data = json.dumps(doc).encode()
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def vics_v1_case(path: Path, media: list[dict[str, Any]]) -> Path:
    doc = {
        "odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases",
        "value": [
            {
                "CaseID": "7",
                "CaseNumber": "FIR-112-2026",
                "ContactOrganization": "State Cyber Wing",
                "ContactName": "Analyst",
                "TotalMediaFiles": len(media),
                "Media": media,
            }
        ],
    }
    path.write_text(json.dumps(doc))
    return path


def icse_csv(path: Path, rows: list[list[str]]) -> Path:
    header = (
        "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;"
        "Series name;Number of submissions;File Available;Media Type;Baseline"
    )
    path.write_text("\n".join([header, *(";".join(r) for r in rows)]) + "\n")
    return path


def nsrl_db(path: Path, rows: list[tuple[str, str, str, str, int]]) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE FILE_DATA (sha256, sha1, md5, file_name, file_size)")
    conn.execute("CREATE VIEW FILE AS SELECT * FROM FILE_DATA")
    conn.executemany("INSERT INTO FILE_DATA VALUES (?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return path
