"""Test helpers that make synthetic hash values and hash-set files by code."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from raksha.hashsets.records import ReferenceRecord
from raksha.hashsets.writers import write_vics_json


def random_hex(rng: random.Random, chars: int) -> str:
    return f"{rng.getrandbits(chars * 4):0{chars}x}"


def flip_bits(hex_value: str, count: int, rng: random.Random) -> str:
    """``hex_value`` with exactly ``count`` distinct bits flipped (a PDQ at that distance)."""
    bits = len(hex_value) * 4
    value = int(hex_value, 16)
    for position in rng.sample(range(bits), count):
        value ^= 1 << position
    return f"{value:0{len(hex_value)}x}"


def record(
    key: str,
    *,
    md5: str | None = None,
    sha1: str | None = None,
    pdq: str | None = None,
    category: str | None = "1",
    **extra: object,
) -> ReferenceRecord:
    hashes = [(a, v) for a, v in (("md5", md5), ("sha1", sha1), ("pdq", pdq)) if v]
    return ReferenceRecord(hashes=hashes, where=key, record_key=key, category=category, **extra)  # type: ignore[arg-type]


def write_vics(path: Path, records: Iterable[ReferenceRecord], flavour: str = "Default") -> Path:
    with path.open("wb") as out:
        write_vics_json(out, records, flavour=flavour)
    return path


def write_typed(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
