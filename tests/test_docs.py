"""Docs are tested: every command, exit code and setting is documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from raksha.cli.main import app
from raksha.errors import RakshaError
from raksha.settings import ENVIRONMENT

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _commands(group: Any, prefix: str = "raksha") -> list[str]:
    names = [prefix]
    if hasattr(group, "commands"):
        for name, sub in group.commands.items():
            names.extend(_commands(sub, f"{prefix} {name}"))
    return names


def _error_classes(cls: type[RakshaError] = RakshaError) -> list[type[RakshaError]]:
    out = [cls]
    for sub in cls.__subclasses__():
        out.extend(_error_classes(sub))
    return out


def test_every_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    missing = [c for c in _commands(typer.main.get_command(app)) if f"`{c}" not in text]
    assert missing == []


def test_every_exit_code_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    for cls in _error_classes():
        assert f"| {cls.exit_code} |" in text, cls.__name__


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text()
    assert [name for name in ENVIRONMENT if f"`{name}`" not in text] == []
