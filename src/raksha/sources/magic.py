"""Recognising archives by their first bytes, never by their names.

Evidence is often renamed to hide it (a zip called ``holiday.jpg``), so every decision
to open something as an archive is taken from its content. A tar has no magic at
offset 0: it is recognised by the ``ustar`` magic at offset 257 or, for old V7 tars, by
a header checksum that adds up; both need the first 512 bytes.
"""

from __future__ import annotations

TAR_BLOCK = 512

_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_SEVENZIP = b"7z\xbc\xaf\x27\x1c"
_RAR = (b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00")
_XZ = b"\xfd7zXZ\x00"
_BZIP2_BLOCK = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")


def _octal(field: bytes) -> int | None:
    text = field.split(b"\x00", 1)[0].strip(b" \x00")
    if not text or any(c not in b"01234567" for c in text):
        return None
    return int(text, 8)


def looks_like_tar(block: bytes) -> bool:
    """Whether ``block`` starts with a tar header (ustar/GNU magic, or a valid V7 checksum)."""
    if len(block) >= 262 and block[257:262] == b"ustar":
        return True
    if len(block) < TAR_BLOCK or block[0] == 0:
        return False
    stored = _octal(block[148:156])
    if stored is None:
        return False
    header = block[:TAR_BLOCK]
    unsigned = sum(header[:148]) + 8 * 0x20 + sum(header[156:])
    signed = sum(b - 256 if b > 127 else b for b in header[:148] + header[156:]) + 8 * 0x20
    return stored in (unsigned, signed) and _octal(header[124:136]) is not None


def sniff_archive(head: bytes) -> str | None:
    """The archive or compression format ``head`` starts with, or None.

    One of ``zip``, ``tar``, ``gzip``, ``bzip2``, ``xz``, ``7z``, ``rar``. Pass at least
    512 bytes: with fewer, a tar without the ``ustar`` magic is not recognised.
    """
    if head.startswith(_ZIP):
        return "zip"
    if head.startswith(_SEVENZIP):
        return "7z"
    if head.startswith(_RAR):
        return "rar"
    if head.startswith(b"\x1f\x8b\x08"):
        return "gzip"
    if head.startswith(_XZ):
        return "xz"
    if (
        len(head) >= 10
        and head.startswith(b"BZh")
        and head[3:4] in b"123456789"
        and head[4:10] in _BZIP2_BLOCK
    ):
        return "bzip2"
    if looks_like_tar(head):
        return "tar"
    return None
