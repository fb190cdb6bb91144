"""Evidence trees and archives built by code for the source tests.

Nothing here is real material: pictures are tiny generated colour fields, other files
are random bytes or short text. Hostile archives (bombs, ``../`` names, encrypted or cut
short) are assembled byte by byte where the standard writers refuse to make them.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import py7zr
from PIL import Image

from raksha.sources.base import BytesPayload, FilePayload, Payload, Source, SourceItem

MIB = 1024 * 1024
NOATIME = getattr(os, "O_NOATIME", 0)


# -- content -----------------------------------------------------------------------------------


def jpeg_bytes(seed: int, size: tuple[int, int] = (8, 8)) -> bytes:
    rng = random.Random(seed)
    colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def random_bytes(seed: int, n: int) -> bytes:
    return random.Random(seed).randbytes(n)


def payload_bytes(payload: Payload | None) -> bytes:
    assert payload is not None
    if isinstance(payload, BytesPayload):
        return payload.data
    assert isinstance(payload, FilePayload)
    with open(payload.path, "rb") as f:
        return f.read()


def collect(source: Source) -> list[SourceItem]:
    return list(source.items())


def by_locator(items: Iterable[SourceItem]) -> dict[str, SourceItem]:
    return {item.locator: item for item in items}


# -- archives ----------------------------------------------------------------------------------


def zip_bytes(
    members: Iterable[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, (2020, 5, 17, 12, 30, 0)), data, compression)
    return out.getvalue()


@dataclass
class TarEntry:
    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    linkname: str = ""
    mtime: int = 1_600_000_000


def tar_bytes(entries: Iterable[TarEntry | tuple[str, bytes]], compression: str = "") -> bytes:
    out = io.BytesIO()
    mode = f"w:{compression}" if compression else "w"
    with tarfile.open(fileobj=out, mode=mode, format=tarfile.PAX_FORMAT) as tf:  # type: ignore[call-overload]
        for given in entries:
            entry = TarEntry(*given) if isinstance(given, tuple) else given
            info = tarfile.TarInfo(entry.name)
            info.type = entry.type
            info.linkname = entry.linkname
            info.mtime = entry.mtime
            info.size = len(entry.data) if entry.type == tarfile.REGTYPE else 0
            tf.addfile(info, io.BytesIO(entry.data) if info.size else None)
    return out.getvalue()


def sevenzip_bytes(
    members: Iterable[tuple[str, bytes]],
    *,
    password: str | None = None,
    header_encryption: bool = False,
) -> bytes:
    out = io.BytesIO()
    with py7zr.SevenZipFile(
        out, "w", password=password, header_encryption=header_encryption
    ) as archive:
        for name, data in members:
            archive.writestr(data, name)
    return out.getvalue()


def zero_zip(path: Path, name: str, size: int) -> Path:
    """A zip bomb in miniature: ``size`` zero bytes deflated (about 1:1000), streamed."""
    block = bytes(MIB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open(name, "w") as member:
        for _ in range(size // MIB):
            member.write(block)
    return path


def _deflate_raw(chunks: Iterator[bytes]) -> tuple[bytes, int, int]:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts, crc, size = [], 0, 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        parts.append(packer.compress(chunk))
    parts.append(packer.flush())
    return b"".join(parts), crc, size


def _local_header(name: bytes, flags: int, method: int, crc: int, csize: int, usize: int) -> bytes:
    return (
        struct.pack(
            "<4sHHHHHIIIHH",
            b"PK\x03\x04",
            20,
            flags,
            method,
            0,
            0x5021,
            crc,
            csize,
            usize,
            len(name),
            0,
        )
        + name
    )


def descriptor_bomb(zeros: int) -> bytes:
    """A member whose sizes are only in a trailing descriptor, and no central directory.

    Nothing declares how big it is, so only counting the bytes actually inflated can stop
    it: the reader has to fall back to the local headers and meet the bomb while reading.
    """
    block = bytes(MIB)
    data, crc, size = _deflate_raw(block for _ in range(zeros // MIB))
    head = _local_header(b"zeros.bin", 0x8, 8, 0, 0, 0)
    return head + data + struct.pack("<4sIII", b"PK\x07\x08", crc, len(data), size)


def raw_zip(entries: Iterable[tuple[bytes, int, int, int, bytes, int]]) -> bytes:
    """A zip from raw entries: (name, flags, method, crc, stored data, uncompressed size)."""
    body = bytearray()
    central = bytearray()
    count = 0
    for name, flags, method, crc, data, usize in entries:
        offset = len(body)
        body += _local_header(name, flags, method, crc, len(data), usize) + data
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            20,
            20,
            flags,
            method,
            0,
            0x5021,
            crc,
            len(data),
            usize,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += name
        count += 1
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), len(body), 0)
    return bytes(body + central + end)


class _ZipCrypto:
    """The traditional PKWARE stream cipher, enough to build an encrypted member."""

    def __init__(self, password: bytes) -> None:
        self.keys = [0x12345678, 0x23456789, 0x34567890]
        for byte in password:
            self._update(byte)

    @staticmethod
    def _crc(value: int, byte: int) -> int:
        return zlib.crc32(bytes([byte]), value ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def _update(self, byte: int) -> None:
        k0, k1, k2 = self.keys
        k0 = self._crc(k0, byte)
        k1 = ((k1 + (k0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k2 = self._crc(k2, k1 >> 24)
        self.keys = [k0, k1, k2]

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            temp = (self.keys[2] | 2) & 0xFFFF
            out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
            self._update(byte)
        return bytes(out)


def encrypted_zip(name: str, data: bytes, password: bytes, plain: tuple[str, bytes]) -> bytes:
    """A zip with one ZipCrypto-encrypted stored member and one plain member."""
    crc = zlib.crc32(data)
    header = random_bytes(7, 11) + bytes([crc >> 24])
    secret = _ZipCrypto(password).encrypt(header + data)
    plain_name, plain_data = plain
    return raw_zip(
        [
            (name.encode(), 0x1, 0, crc, secret, len(data)),
            (plain_name.encode(), 0, 0, zlib.crc32(plain_data), plain_data, len(plain_data)),
        ]
    )


# -- evidence on disk ----------------------------------------------------------------------------


def _noatime_walk(folder: bytes) -> Iterator[bytes]:
    """Every path below ``folder`` (links not followed), listed without touching atimes."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    fd = os.open(folder, flags | NOATIME)
    try:
        names = sorted(os.listdir(fd))
    finally:
        os.close(fd)
    for name in names:
        path = os.path.join(folder, os.fsencode(name))
        yield path
        if os.path.isdir(path) and not os.path.islink(path):
            yield from _noatime_walk(path)


def snapshot(root: Path) -> dict[str, tuple[str, int, int, int]]:
    """Content hash, size, mtime and atime (ns) of everything below ``root``, links unfollowed.

    Listed and read through ``O_NOATIME`` so that taking the snapshot does not itself
    change the access times it records.
    """
    out: dict[str, tuple[str, int, int, int]] = {}
    for path in [os.fsencode(root), *_noatime_walk(os.fsencode(root))]:
        st = os.lstat(path)
        digest = "-"
        if os.path.islink(path):
            digest = os.fsdecode(os.readlink(path))
        elif os.path.isfile(path):
            fd = os.open(path, os.O_RDONLY | NOATIME)
            with os.fdopen(fd, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
        atime = 0 if os.path.islink(path) else st.st_atime_ns
        out[os.fsdecode(path)] = (digest, st.st_size, st.st_mtime_ns, atime)
    return out


def age(root: Path) -> None:
    """Give everything an old, distinct mtime and atime, so a read or write would show.

    The access times are more than a day old, so even a ``relatime`` mount updates them
    on any ordinary read.
    """
    stamp = 1_500_000_000
    for path in [*_noatime_walk(os.fsencode(root)), os.fsencode(root)]:
        stamp += 7
        os.utime(path, ns=(stamp * 10**9, (stamp + 3) * 10**9), follow_symlinks=False)


# -- a folder of evidence ----------------------------------------------------------------------

NON_UTF8 = b"caf\xe9.txt"


def evidence_tree(root: Path, outside: Path) -> dict[str, bytes]:
    """A phone-like folder with the awkward cases; returns the bytes of each readable file.

    Holds nested folders, an empty file, a JPEG renamed ``.dat``, a zip renamed ``.jpg``,
    a name that is not UTF-8, and links that loop, leave the root, or stay inside it.
    """
    files = {
        "DCIM/Camera/IMG_0001.jpg": jpeg_bytes(1),
        "DCIM/Camera/IMG_0002.dat": jpeg_bytes(2),
        "DCIM/Camera/empty.jpg": b"",
        "Documents/deep/er/still.bin": random_bytes(3, 1000),
        "Documents/notes.txt": b"shopping list\n",
        "backup.jpg": zip_bytes([("photos/a.jpg", jpeg_bytes(4)), ("photos/b.jpg", jpeg_bytes(5))]),
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    odd = os.path.join(os.fsencode(root / "Documents"), NON_UTF8)
    with open(odd, "wb") as f:
        f.write(b"latin-1 name\n")
    links = root / "links"
    links.mkdir()
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_bytes(b"not evidence")
    os.symlink("loop_b", links / "loop_a")
    os.symlink("loop_a", links / "loop_b")
    os.symlink(outside / "secret.txt", links / "outside")
    os.symlink("../Documents/notes.txt", links / "inside")
    os.symlink(".", links / "self")
    return files


def sevenzip_with_stored_name(stored_name: str, data: bytes) -> bytes:
    """A 7z whose member is stored under ``stored_name``, which py7zr would refuse to write.

    Written with a placeholder of the same length and a plain (unencoded) header, then the
    name in the header is replaced and the header checksums are recomputed.
    """
    placeholder = "p" * len(stored_name)
    out = io.BytesIO()
    with py7zr.SevenZipFile(out, "w") as archive:
        archive.set_encoded_header_mode(False)
        archive.writestr(data, placeholder)
    raw = bytearray(out.getvalue())
    next_offset, next_size = struct.unpack_from("<QQ", raw, 12)
    start = 32 + next_offset
    old, new = placeholder.encode("utf-16-le"), stored_name.encode("utf-16-le")
    at = raw.index(old, start)
    raw[at : at + len(old)] = new
    struct.pack_into("<I", raw, 28, zlib.crc32(raw[start : start + next_size]))
    struct.pack_into("<I", raw, 8, zlib.crc32(raw[12:32]))
    return bytes(raw)
