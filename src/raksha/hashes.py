"""Hash algorithms Raksha knows, and how their values are written.

One place decides what a valid value looks like, so every reader (hash-set formats, the
CLI, the matcher) normalises the same way: lower-case hex for the digests and PDQ;
PhotoDNA kept exactly as given (we never compute it, only carry it for re-export).
"""

from __future__ import annotations

import re
from typing import Final

from raksha.errors import InvalidHashError

MD5: Final = "md5"
SHA1: Final = "sha1"
SHA256: Final = "sha256"
PDQ: Final = "pdq"
#: One frame of a video's vPDQ signature: a PDQ value; a video is the set of its frames.
VPDQ: Final = "vpdq"
PHOTODNA: Final = "photodna"

#: Algorithms in the order they are shown to users.
ALGORITHMS: Final[tuple[str, ...]] = (MD5, SHA1, SHA256, PDQ, VPDQ, PHOTODNA)

#: Algorithms whose values are PDQ hashes, searched in the PDQ index.
PERCEPTUAL_ALGORITHMS: Final[frozenset[str]] = frozenset({PDQ, VPDQ})

#: Algorithms compared by equality (everything but the perceptual ones).
EXACT_ALGORITHMS: Final[frozenset[str]] = frozenset({MD5, SHA1, SHA256})

_HEX_LENGTHS: Final[dict[str, int]] = {MD5: 32, SHA1: 40, SHA256: 64, PDQ: 64, VPDQ: 64}
_HEX_RE: Final = re.compile(r"[0-9a-f]+")
_BASE64_RE: Final = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def normalize_hash(algorithm: str, value: str) -> str:
    """Return ``value`` in canonical form for ``algorithm`` or raise :class:`InvalidHashError`.

    Hex values are stripped and lower-cased; PhotoDNA must be 288 hex or 192 base64
    characters (144 bytes) and is returned as given, apart from surrounding space.
    """
    algorithm = algorithm.strip().lower()
    text = value.strip()
    if algorithm == PHOTODNA:
        if len(text) == 288 and _HEX_RE.fullmatch(text.lower()):
            return text
        if len(text) == 192 and _BASE64_RE.fullmatch(text):
            return text
        raise InvalidHashError(
            f"PhotoDNA value must be 288 hex or 192 base64 characters, got {len(text)}"
        )
    expected = _HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise InvalidHashError(
            f"unknown hash algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}"
        )
    text = text.lower()
    if len(text) != expected:
        raise InvalidHashError(
            f"{algorithm} value must be {expected} hex characters, got {len(text)}"
        )
    if not _HEX_RE.fullmatch(text):
        raise InvalidHashError(f"{algorithm} value has characters that are not hex")
    return text


def guess_algorithm(value: str) -> str | None:
    """Guess the algorithm of a bare hex value from its length (``None`` if ambiguous).

    A 64-character value could be SHA-256 or PDQ; callers that cannot tell must ask.
    """
    text = value.strip().lower()
    if not _HEX_RE.fullmatch(text):
        return None
    return {32: MD5, 40: SHA1}.get(len(text))
