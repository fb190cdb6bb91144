"""Category schemes: what the raw category labels of a hash set mean.

The raw category from a file is always stored exactly as given; a scheme only supplies the
words for it and says which raw categories mean illegal material and which are known but
ignorable. Tools disagree (one VICS tool family swaps 0 and 5), so the scheme is chosen per
import, the labels assumed are shown to the user, and any label can be overridden with a
map such as ``"0=uncategorised,5=non-pertinent"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from raksha.errors import UsageError

CATEGORY_MAP_EXAMPLE: Final = "0=uncategorised,5=non-pertinent"


@dataclass(frozen=True)
class CategoryScheme:
    """A named set of category labels and what they mean for a match."""

    name: str
    description: str
    labels: dict[str, str] = field(hash=False)
    #: Raw categories that mean illegal material.
    illegal: frozenset[str]
    #: Raw categories that are known but not pertinent (a match is noted, not flagged).
    ignorable: frozenset[str]

    def label(self, category: str | None) -> str | None:
        """The words for a raw category, or ``None`` when the scheme does not know it."""
        return None if category is None else self.labels.get(category)

    def is_illegal(self, category: str | None) -> bool:
        return category is not None and category in self.illegal

    def is_ignorable(self, category: str | None) -> bool:
        return category is not None and category in self.ignorable

    def with_labels(self, overrides: Mapping[str, str]) -> CategoryScheme:
        """This scheme with some labels replaced, the meanings following the new words.

        A raw category relabelled with the words of an illegal (or ignorable) label of this
        scheme becomes illegal (or ignorable); one relabelled with other words is neither.
        So ``projectvic`` with ``0=uncategorised,5=non-pertinent`` means what
        ``projectvic-swapped`` means.
        """
        illegal_words = {self.labels[c].casefold() for c in self.illegal if c in self.labels}
        ignorable_words = {self.labels[c].casefold() for c in self.ignorable if c in self.labels}
        labels = {**self.labels, **overrides}
        illegal = set(self.illegal) - set(overrides)
        ignorable = set(self.ignorable) - set(overrides)
        for category, words in overrides.items():
            if words.casefold() in illegal_words:
                illegal.add(category)
            elif words.casefold() in ignorable_words:
                ignorable.add(category)
        return CategoryScheme(
            self.name, self.description, labels, frozenset(illegal), frozenset(ignorable)
        )


_VIC: Final[dict[str, str]] = {
    "0": "non-pertinent",
    "1": "child abuse material (illegal)",
    "2": "child exploitive (non-illegal / age difficult)",
    "3": "CGI / animation",
    "4": "comparison images",
    "5": "uncategorised",
}

#: Every scheme, in the order they are listed to users.
SCHEMES: Final[tuple[CategoryScheme, ...]] = (
    CategoryScheme(
        "projectvic",
        "Project VIC / VICS US and Default flavour",
        dict(_VIC),
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
        "NCMEC industry classification (A prepubescent, B pubescent; 1 sex act, "
        "2 lascivious exhibition)",
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
        "none",
        "categories kept as given, without labels",
        {},
        frozenset(),
        frozenset(),
    ),
)

_BY_NAME: Final[dict[str, CategoryScheme]] = {s.name: s for s in SCHEMES}


def scheme_names() -> list[str]:
    """Names of every scheme, in display order."""
    return [s.name for s in SCHEMES]


def get_scheme(name: str) -> CategoryScheme:
    """The scheme called ``name`` (any case); :class:`UsageError` naming the choices if none."""
    scheme = _BY_NAME.get(name.strip().lower())
    if scheme is None:
        raise UsageError(
            f"unknown category scheme {name!r}; choose one of: {', '.join(scheme_names())}"
        )
    return scheme


def parse_category_map(text: str) -> dict[str, str]:
    """``"0=uncategorised,5=non-pertinent"`` -> ``{"0": "uncategorised", "5": "non-pertinent"}``.

    Raises :class:`UsageError` (with an example) for an entry without ``=``, an empty
    category or label, a category given twice, or no entry at all.
    """
    out: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        category, sep, label = part.partition("=")
        category, label = category.strip(), label.strip()
        if not sep or not category or not label:
            raise UsageError(
                f"cannot read the category map entry {part.strip()!r}: write "
                f"CATEGORY=LABEL pairs separated by commas, e.g. '{CATEGORY_MAP_EXAMPLE}'"
            )
        if category in out:
            raise UsageError(
                f"category {category!r} is given twice in the category map; "
                f"give each once, e.g. '{CATEGORY_MAP_EXAMPLE}'"
            )
        out[category] = label
    if not out:
        raise UsageError(
            f"the category map is empty; write CATEGORY=LABEL pairs, e.g. '{CATEGORY_MAP_EXAMPLE}'"
        )
    return out


def default_scheme_for(format_name: str, set_info_fields: dict[str, Any]) -> str:
    """The scheme assumed for a file when the user names none.

    VICS files say their flavour: UK means CAID categories, anything else (US, Default,
    CUSTOM, or a 1.x file without a flavour) the Project VIC numbers. ICSE is INTERPOL's,
    and NSRL and the plain-text lists carry no categories.
    """
    if format_name == "vics":
        flavour = str(set_info_fields.get("flavour") or "").strip().upper()
        return "uk-caid" if flavour == "UK" else "projectvic"
    if format_name == "icse":
        return "interpol-baseline"
    return "none"
