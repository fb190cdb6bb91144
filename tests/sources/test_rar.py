"""RAR support glue, exercised through a stand-in for the optional ``rarfile`` module.

Real RAR archives cannot be made by code here (the format's writer is not free
software), so a fake module with rarfile's interface checks how members are mapped.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from raksha.sources.detect import open_source
from tests.sources.builders import collect, payload_bytes


class _Error(Exception):
    pass


class _Info:
    def __init__(self, name: str, data: bytes, *, kind: str = "file", locked: bool = False) -> None:
        self.filename = name
        self.data = data
        self.file_size = len(data)
        self.compress_size = len(data)
        self.mtime = datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)
        self.date_time = (2021, 1, 2, 3, 4, 5)
        self._kind = kind
        self._locked = locked

    def is_dir(self) -> bool:
        return self._kind == "dir"

    def is_symlink(self) -> bool:
        return self._kind == "link"

    def needs_password(self) -> bool:
        return self._locked


class _RarFile:
    def __init__(self, stream: Any) -> None:
        assert stream.read(4) == b"Rar!"
        self._infos = [
            _Info("dir", b"", kind="dir"),
            _Info("dir/a.txt", b"alpha"),
            _Info("link", b"", kind="link"),
            _Info("secret.jpg", b"s", locked=True),
            _Info("broken.bin", b"b"),
        ]

    def infolist(self) -> list[_Info]:
        return self._infos

    def open(self, info: _Info) -> io.BytesIO:
        if info.filename == "broken.bin":
            raise _Error("CRC error")
        return io.BytesIO(info.data)

    def close(self) -> None:
        pass


def test_rar_members_through_rarfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = SimpleNamespace(
        RarFile=_RarFile, Error=_Error, PasswordRequired=type("PR", (_Error,), {})
    )
    monkeypatch.setattr("raksha.sources.rar_reader.rar_module", lambda: fake)
    path = tmp_path / "case.rar"
    path.write_bytes(b"Rar!\x1a\x07\x00" + bytes(64))
    with open_source(path) as source:
        items = collect(source)
    assert [(i.locator, i.kind, i.error) for i in items] == [
        ("case.rar", "archive", None),
        ("case.rar > dir/a.txt", "file", None),
        ("case.rar > link", "link", "symbolic link not followed"),
        ("case.rar > secret.jpg", "file", "encrypted (password needed)"),
        ("case.rar > broken.bin", "file", "damaged: CRC error"),
    ]
    assert payload_bytes(items[1].payload) == b"alpha"
    assert items[1].modified == datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)
