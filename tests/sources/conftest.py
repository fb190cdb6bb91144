"""Fixtures for source tests: a way to make a path unreadable, as root or not."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def deny(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Make a path unreadable: chmod 000 for a normal user; as root (who may read anything)
    by making ``os.open`` refuse it the way the kernel would for anybody else."""
    denied: set[bytes] = set()
    chmodded: list[tuple[Path, int]] = []
    real_open = os.open

    def refusing_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if isinstance(path, (str, bytes, os.PathLike)) and os.fsencode(path) in denied:
            raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    def apply(path: Path) -> None:
        if os.geteuid() == 0:
            denied.add(os.fsencode(path))
            monkeypatch.setattr(os, "open", refusing_open)
        else:
            chmodded.append((path, path.stat().st_mode))
            path.chmod(0)

    yield apply
    for path, mode in reversed(chmodded):
        path.chmod(mode)
