"""The ranking page documents every weight with its current default."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from raksha.network.ranking import GroupWeights, Weights

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "ranking.md").read_text()


def _section(title: str) -> str:
    start = PAGE.index(title)
    end = PAGE.find("\n## ", start + 1)
    return PAGE[start : end if end > 0 else None]


def test_every_weight_and_default_is_documented() -> None:
    for cls, title in ((Weights, "## Person score"), (GroupWeights, "## Group score")):
        section = _section(title)
        for f in dataclasses.fields(cls):
            if f.name == "severity_by_category":
                continue
            default = getattr(cls(), f.name)
            assert f"| `{f.name}` | {default} |" in section, f.name


def test_severity_multipliers_are_documented() -> None:
    row = next(line for line in PAGE.splitlines() if line.startswith("| `severity_by_category`"))
    for label, multiplier in Weights().severity_by_category.items():
        shown = "none" if label is None else f'"{label}"'
        # The first number after the label (labels sharing one are written "1"/"A" 1.0).
        after = re.search(r"\d+\.\d+", row[row.index(shown) + len(shown) :])
        assert after is not None and float(after.group()) == multiplier, label
