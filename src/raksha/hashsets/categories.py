"""Category schemes: what the raw category labels of a hash set mean.

The raw category from a file is always stored as given; a scheme only supplies labels and
says which raw categories mean illegal material and which are known but ignorable. Tools
disagree (one VICS tool family swaps 0 and 5), so the scheme is chosen per import, the
labels assumed are shown, and any label can be overridden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from raksha.errors import UsageError


@dataclass(frozen=True, slots=True)
class CategoryScheme:
    name: str
    description: str
    labels: dict[str, str]
    illegal: frozenset[str]
    ignorable: frozenset[str]


_VIC = {
    "0": "non-pertinent",
    "1": "child abuse material (illegal)",
    "2": "child exploitive (non-illegal / age difficult)",
    "3": "CGI / animation",
    "4": "comparison images",
    "5": "uncategorised",
}

SCHEMES: tuple[CategoryScheme, ...] = (
    CategoryScheme(
        "projectvic",
        "Project VIC / VICS US and Default flavour",
        _VIC,
        frozenset({"1"}),
        frozenset({"0"}),
    ),
    CategoryScheme(
        "projectvic-swapped",
        "Project VIC with 0 and 5 swapped, as one tool family writes them",
        {**_VIC, "0": _VIC["5"], "5": _VIC["0"]},
        frozenset({"1"}),
        frozenset({"5"}),
    ),
    CategoryScheme(
        "uk-caid",
        "UK CAID (sentencing guideline 2014), VICS UK flavour",
        {"A": "category A (most severe)", "B": "category B", "C": "category C"},
        frozenset({"A", "B", "C"}),
        frozenset(),
    ),
    CategoryScheme(
        "ncmec",
        "NCMEC industry classification",
        {
            "A1": "prepubescent, sex act",
            "A2": "prepubescent, lascivious exhibition",
            "B1": "pubescent, sex act",
            "B2": "pubescent, lascivious exhibition",
        },
        frozenset({"A1", "A2", "B1", "B2"}),
        frozenset(),
    ),
    CategoryScheme(
        "interpol-baseline",
        "INTERPOL Baseline: verified by two agencies as illegal in any country",
        {"baseline": "baseline (illegal in any country)"},
        frozenset({"baseline"}),
        frozenset(),
    ),
    CategoryScheme(
        "none", "categories kept as given, without labels", {}, frozenset(), frozenset()
    ),
)

_BY_NAME = {s.name: s for s in SCHEMES}


def scheme_names() -> list[str]:
    return [s.name for s in SCHEMES]


def get_scheme(name: str) -> CategoryScheme:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UsageError(
            f"unknown category scheme {name!r}; choose one of: {', '.join(scheme_names())}"
        ) from None


def parse_category_map(text: str) -> dict[str, str]:
    """``"0=uncategorised,5=non-pertinent"`` -> ``{"0": "uncategorised", "5": "non-pertinent"}``."""
    out: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, label = part.partition("=")
        if not sep or not key.strip() or not label.strip():
            raise UsageError(
                f"cannot read category map entry {part.strip()!r}; "
                "write CATEGORY=LABEL pairs, e.g. '0=uncategorised,5=non-pertinent'"
            )
        out[key.strip()] = label.strip()
    return out


def default_scheme_for(format_name: str, set_info_fields: dict[str, Any]) -> str:
    if format_name == "vics":
        return (
            "uk-caid" if str(set_info_fields.get("flavour", "")).upper() == "UK" else "projectvic"
        )
    return {"icse": "interpol-baseline", "nsrl": "none"}.get(format_name, "none")
