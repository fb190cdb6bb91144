"""Category schemes, the user's category map, and the default scheme per format."""

from __future__ import annotations

import pytest

from raksha.errors import UsageError
from raksha.hashsets.categories import (
    SCHEMES,
    default_scheme_for,
    get_scheme,
    parse_category_map,
    scheme_names,
)


def test_every_documented_scheme_exists_once() -> None:
    assert scheme_names() == [
        "projectvic",
        "projectvic-swapped",
        "uk-caid",
        "ncmec",
        "interpol-baseline",
        "none",
    ]
    assert len({s.name for s in SCHEMES}) == len(SCHEMES)
    for scheme in SCHEMES:
        assert scheme.description
        assert scheme.illegal <= set(scheme.labels)
        assert scheme.ignorable <= set(scheme.labels)
        assert not scheme.illegal & scheme.ignorable
        assert hash(scheme)  # usable as a key despite its label dict


def test_project_vic_and_the_swapped_family() -> None:
    vic, swapped = get_scheme("projectvic"), get_scheme("projectvic-swapped")

    assert vic.labels["0"] == "non-pertinent" and vic.labels["5"] == "uncategorised"
    assert vic.labels["1"] == "child abuse material (illegal)"
    assert vic.labels["2"].startswith("child exploitive")
    assert vic.labels["3"] == "CGI / animation" and vic.labels["4"] == "comparison images"
    assert vic.is_illegal("1") and not vic.is_illegal("2") and not vic.is_illegal(None)
    assert vic.is_ignorable("0") and not vic.is_ignorable("5")
    assert swapped.labels["0"] == "uncategorised" and swapped.labels["5"] == "non-pertinent"
    assert swapped.is_ignorable("5") and not swapped.is_ignorable("0")
    assert {k: v for k, v in swapped.labels.items() if k not in "05"} == {
        k: v for k, v in vic.labels.items() if k not in "05"
    }


def test_uk_ncmec_baseline_and_none() -> None:
    uk, ncmec = get_scheme("uk-caid"), get_scheme("ncmec")

    assert set(uk.labels) == {"A", "B", "C"} and "most severe" in uk.labels["A"]
    assert set(ncmec.labels) == {"A1", "A2", "B1", "B2"}
    assert ncmec.labels["A1"] == "prepubescent, sex act"
    assert ncmec.labels["B2"] == "pubescent, lascivious exhibition"
    assert get_scheme("interpol-baseline").is_illegal("baseline")
    none = get_scheme("none")
    assert none.labels == {} and none.label("1") is None


def test_get_scheme_ignores_case_and_names_the_choices() -> None:
    assert get_scheme(" ProjectVIC ").name == "projectvic"
    with pytest.raises(UsageError, match="projectvic-swapped"):
        get_scheme("vic")


def test_parse_category_map() -> None:
    assert parse_category_map("0=uncategorised, 5 = non-pertinent,") == {
        "0": "uncategorised",
        "5": "non-pertinent",
    }
    assert parse_category_map("A=category A = worst") == {"A": "category A = worst"}


@pytest.mark.parametrize("text", ["", " , ", "0", "=label", "0=", "0=a,0=b", "0:a"])
def test_a_bad_category_map_is_a_usage_error_with_an_example(text: str) -> None:
    with pytest.raises(UsageError, match="0=uncategorised,5=non-pertinent"):
        parse_category_map(text)


def test_overridden_labels_carry_their_meaning() -> None:
    vic = get_scheme("projectvic")

    relabelled = vic.with_labels(parse_category_map("0=uncategorised,5=Non-Pertinent"))

    swapped = get_scheme("projectvic-swapped")
    assert relabelled.ignorable == swapped.ignorable == frozenset({"5"})
    assert relabelled.illegal == frozenset({"1"})
    assert relabelled.label("5") == "Non-Pertinent"
    assert vic.labels["0"] == "non-pertinent"  # the registered scheme is untouched
    demoted = vic.with_labels({"1": "under review"})
    assert demoted.illegal == frozenset()


@pytest.mark.parametrize(
    ("format_name", "fields", "expected"),
    [
        ("vics", {"vics_version": "2.0", "flavour": "UK"}, "uk-caid"),
        ("vics", {"vics_version": "2.0", "flavour": "uk"}, "uk-caid"),
        ("vics", {"vics_version": "2.0", "flavour": "US"}, "projectvic"),
        ("vics", {"vics_version": "2.0", "flavour": "Default"}, "projectvic"),
        ("vics", {"vics_version": "1.3", "flavour": None}, "projectvic"),
        ("vics", {}, "projectvic"),
        ("icse", {}, "interpol-baseline"),
        ("nsrl", {"known_files": True}, "none"),
        ("text", {}, "none"),
        ("hashlist", {}, "none"),
        ("typed", {}, "none"),
    ],
)
def test_default_scheme_for(format_name: str, fields: dict[str, object], expected: str) -> None:
    assert default_scheme_for(format_name, dict(fields)) == expected
