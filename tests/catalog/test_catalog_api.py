"""The catalog's service API: lookups, coverage, CSF 1.1 resolution and data validation."""

from __future__ import annotations

import pytest

from assay.catalog import Catalog, Category, Frequency, Relationship, _load, load_catalog
from assay.errors import AssayError, InputError


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_load_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()


def test_enum_values_and_labels() -> None:
    assert [category.label for category in Category] == [
        "Security",
        "Availability",
        "Confidentiality",
        "Processing Integrity",
        "Privacy",
    ]
    assert Category("processing_integrity") is Category.PROCESSING_INTEGRITY
    assert Frequency("per-event") is Frequency.PER_EVENT
    assert Relationship("intersects-with") is Relationship.INTERSECTS_WITH


# --- lookups ---------------------------------------------------------------------------------


def test_criterion_lookup_ignores_case(catalog: Catalog) -> None:
    assert catalog.criterion("cc6.1").id == "CC6.1"
    assert catalog.criterion("C1.2").category is Category.CONFIDENTIALITY


@pytest.mark.parametrize("unknown", ["CC5.5", "A1.4", "CC8.2", "PP1.1", ""])
def test_unknown_criterion_is_an_input_error(catalog: Catalog, unknown: str) -> None:
    with pytest.raises(InputError) as raised:
        catalog.criterion(unknown)
    assert raised.value.exit_code == 2
    assert raised.value.where == "criterion"
    assert f"'{unknown}'" in raised.value.problem


def test_control_lookup(catalog: Catalog) -> None:
    control = catalog.control("ac-03")
    assert control.id == "AC-03"
    assert control.checks == ("mfa_enforced",)
    assert control.frequency is Frequency.CONTINUOUS
    with pytest.raises(InputError, match="ZZ-99"):
        catalog.control("ZZ-99")


def test_criteria_in_keeps_catalog_order(catalog: Catalog) -> None:
    chosen = catalog.criteria_in([Category.PRIVACY, Category.AVAILABILITY])
    assert [criterion.id for criterion in chosen[:3]] == ["A1.1", "A1.2", "A1.3"]
    assert len(chosen) == 21
    assert catalog.criteria_in([]) == ()


def test_controls_for_criterion(catalog: Catalog) -> None:
    controls = catalog.controls_for_criterion("cc6.2")
    ids = [control.id for control in controls]
    assert {"AC-05", "AC-06", "AC-07"} <= set(ids)
    for control in controls:
        assert "CC6.2" in {link.target for link in control.tsc}
    with pytest.raises(InputError):
        catalog.controls_for_criterion("CC6.9")


def test_not_related_links_do_not_count_as_coverage(catalog: Catalog) -> None:
    control = catalog.control("AC-03")
    links = tuple(
        type(link)(link.target, Relationship.NOT_RELATED, link.rationale) for link in control.tsc
    )
    altered = Catalog(
        criteria=catalog.criteria,
        csf_functions=catalog.csf_functions,
        csf_categories=catalog.csf_categories,
        csf_subcategories=catalog.csf_subcategories,
        controls=(type(control)(**{**control.__dict__, "tsc": links}),),
    )
    assert altered.controls_for_criterion("CC6.1") == ()


# --- coverage --------------------------------------------------------------------------------


def test_coverage_rows_follow_the_chosen_categories(catalog: Catalog) -> None:
    rows = catalog.coverage([Category.SECURITY])
    assert len(rows) == 33
    assert [row.criterion.id for row in rows][:2] == ["CC1.1", "CC1.2"]
    assert all(row.controls and not row.gap for row in rows)


def test_excluding_every_covering_control_makes_a_gap(catalog: Catalog) -> None:
    covering = [control.id for control in catalog.controls_for_criterion("A1.3")]
    assert covering
    rows = {row.criterion.id: row for row in catalog.coverage([Category.AVAILABILITY], covering)}
    assert rows["A1.3"].controls == ()
    assert rows["A1.3"].gap
    partly = catalog.coverage([Category.AVAILABILITY], covering[:1])
    assert {row.criterion.id: row.controls for row in partly}["A1.3"] == tuple(covering[1:])


def test_excluding_an_unknown_control_is_an_input_error(catalog: Catalog) -> None:
    with pytest.raises(InputError, match="XX-01"):
        catalog.coverage([Category.SECURITY], ["XX-01"])


# --- CSF 1.1 to 2.0 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("legacy", "successors"),
    [
        ("PR.AC-4", ("PR.AA-05",)),
        ("PR.AC-1", ("PR.AA-01", "PR.AA-05")),
        ("PR.AC-7", ("PR.AA-03",)),
        ("DE.CM-1", ("DE.CM-01",)),
        ("DE.CM-7", ("DE.CM-01", "DE.CM-03", "DE.CM-06", "DE.CM-09")),
        ("DE.CM-8", ("ID.RA-01",)),
        ("PR.IP-1", ("PR.PS-01",)),
        ("PR.PT-1", ("PR.PS-04",)),
        ("ID.BE-1", ("GV.OC-05",)),
        ("RS.RP-1", ("RS.MA-01",)),
    ],
)
def test_published_csf11_correspondences(
    catalog: Catalog, legacy: str, successors: tuple[str, ...]
) -> None:
    resolution = catalog.resolve_csf(legacy)
    assert resolution.identifier == legacy
    assert not resolution.is_current
    assert resolution.successors == successors


@pytest.mark.parametrize("spelling", ["PR.AC-4", "PR.AC-04", "pr.ac-4", " Pr.Ac-04 "])
def test_csf11_spellings_are_accepted(catalog: Catalog, spelling: str) -> None:
    resolution = catalog.resolve_csf(spelling)
    assert (resolution.identifier, resolution.successors) == ("PR.AC-4", ("PR.AA-05",))


def test_a_withdrawn_two_digit_number_resolves_through_csf11(catalog: Catalog) -> None:
    resolution = catalog.resolve_csf("DE.CM-04")
    assert not resolution.is_current
    assert resolution.successors == ("DE.CM-01", "DE.CM-09")


@pytest.mark.parametrize(
    ("identifier", "canonical"),
    [
        ("PR.AA-05", "PR.AA-05"),
        ("de.cm-01", "DE.CM-01"),
        ("GV.OC-1", "GV.OC-01"),
        ("PR.AA", "PR.AA"),
        ("gv", "GV"),
    ],
)
def test_current_identifiers_resolve_to_themselves(
    catalog: Catalog, identifier: str, canonical: str
) -> None:
    resolution = catalog.resolve_csf(identifier)
    assert resolution.is_current
    assert resolution.identifier == canonical
    assert resolution.successors == (canonical,)


@pytest.mark.parametrize(
    "unknown", ["PR.AC-9", "PR.AA-07", "ZZ.ZZ-01", "PR.AC", "CC6.1", "nonsense"]
)
def test_unknown_csf_identifier_is_an_input_error(catalog: Catalog, unknown: str) -> None:
    with pytest.raises(InputError) as raised:
        catalog.resolve_csf(unknown)
    assert f"'{unknown}'" in str(raised.value)


# --- validation of the data files ------------------------------------------------------------


def _broken(monkeypatch: pytest.MonkeyPatch, file: str, old: str, new: str) -> None:
    """Make the loader read ``file`` with ``old`` replaced by ``new`` (exactly once)."""
    original = _load._read(file)
    assert original.count(old) == 1, old
    real_read = _load._read
    monkeypatch.setattr(
        _load, "_read", lambda name: original.replace(old, new) if name == file else real_read(name)
    )


def test_bundled_data_reads_cleanly() -> None:
    assert len(_load.read_catalog().controls) == len(load_catalog().controls)


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "controls.yaml",
            '{id: CC7.2, relationship: subset-of, rationale: "Collected logs',
            '{id: CC7.9, relationship: subset-of, rationale: "Collected logs',
            "controls.yaml: controls[",
        ),
        ("controls.yaml", "  - id: AC-04\n", "  - id: AC-03\n", "duplicate id 'AC-03'"),
        ("controls.yaml", "checks: [mfa_enforced]", "checks: [mfa_everywhere]", "mfa_everywhere"),
        (
            "controls.yaml",
            "Chief executive\n    frequency: quarterly",
            "Chief executive\n    frequency: fortnightly",
            "fortnightly",
        ),
        (
            "controls.yaml",
            "{id: GV.PO-01, relationship: equal,",
            "{id: GV.PO-01, relationship: same-as,",
            "same-as",
        ),
        ("controls.yaml", 'rationale: "Collected logs', 'rationale: "", x: "', "unexpected x"),
        ("tsc.yaml", "  - id: PI1.1\n", "  - id: PP1.1\n", "PP1.1"),
        (
            "tsc.yaml",
            "category: availability\n    group: A1\n    title: Capacity",
            "category: security\n    group: A1\n    title: Capacity",
            "A1.1",
        ),
        ("csf.yaml", "PR.AC-4: [PR.AA-05]", "PR.AC-4: [PR.AC-05]", "PR.AC-4"),
        ("csf.yaml", '- {id: DE.CM-09, title: "', '- {id: DE.CM-9, title: "', "DE.CM-9"),
    ],
)
def test_broken_data_names_file_and_entry(
    monkeypatch: pytest.MonkeyPatch, file: str, old: str, new: str, message: str
) -> None:
    _broken(monkeypatch, file, old, new)
    with pytest.raises(AssayError) as raised:
        _load.read_catalog()
    assert not isinstance(raised.value, InputError)
    assert f"catalog data {file}" in str(raised.value)
    assert message in str(raised.value)


def test_dangling_criterion_error_names_the_control(monkeypatch: pytest.MonkeyPatch) -> None:
    old = '{id: CC7.2, relationship: subset-of, rationale: "Collected logs'
    _broken(monkeypatch, "controls.yaml", old, old.replace("CC7.2", "CC7.9"))
    with pytest.raises(AssayError, match=r"LM-01: tsc\[0\] CC7.9: unknown criterion"):
        _load.read_catalog()
