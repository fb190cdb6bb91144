"""Synthetic evidence for scan tests: generated pictures, a reference set made from some."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from raksha.hashing.crypto import digest_bytes
from raksha.hashing.pdq import pdq_from_bytes
from raksha.synthetic import images as synth


@dataclass
class Evidence:
    root: Path
    set_file: Path
    known: list[Path]  # planted copies of reference pictures
    unrelated: list[Path]


def build(tmp_path: Path, *, known: int = 4, unrelated: int = 4, others: int = 3) -> Evidence:
    """A phone-like folder: known pictures (exact and altered), unrelated ones, other files."""
    root = tmp_path / "phone"
    dcim = root / "DCIM" / "Camera"
    dcim.mkdir(parents=True)
    (root / "Documents").mkdir()
    lines: list[str] = []
    planted: list[Path] = []
    for i in range(known):
        image = synth.photo_like(100 + i, 640, 480)
        original = synth.jpeg_bytes(image)
        lines.append(f"md5 {digest_bytes(original).md5}")
        lines.append(f"pdq {pdq_from_bytes(original).value}")
        path = dcim / f"IMG_{i:04d}.jpg"
        # Even ones byte-identical (renamed to .dat to test content sniffing), odd ones resized.
        if i % 2 == 0:
            path = path.with_suffix(".dat")
            path.write_bytes(original)
        else:
            path.write_bytes(synth.jpeg_bytes(synth.resized(image, 0.5)))
        planted.append(path)
    others_paths = []
    for j in range(unrelated):
        path = dcim / f"VID_{j:04d}.jpg"
        path.write_bytes(synth.jpeg_bytes(synth.photo_like(900 + j, 640, 480)))
        others_paths.append(path)
    for k in range(others):
        (root / "Documents" / f"note-{k}.txt").write_text(f"shopping list {k}\n" * (k + 1))
    set_file = tmp_path / "reference.txt"
    set_file.write_text("\n".join(lines) + "\n")
    return Evidence(root, set_file, planted, others_paths)


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """SHA-256, size and mtime (ns) of every file below ``root``: evidence must not change."""
    out = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            st = path.lstat()
            if path.is_symlink():
                out[str(path)] = ("link", st.st_size, st.st_mtime_ns)
                continue
            out[str(path)] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                st.st_size,
                st.st_mtime_ns,
            )
    return out


def zip_of(folder: Path, target: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    target.write_bytes(buf.getvalue())
    return target
