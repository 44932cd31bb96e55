"""The bundled framework data: exact identifiers and counts, and the integrity of the mappings.

Expected identifiers are written out here from the reference tables, not derived from the data,
so a typo or an invented criterion in the YAML fails a test.
"""

from __future__ import annotations

from collections import Counter

import pytest

from assay.catalog import (
    KNOWN_CHECKS,
    REGISTER_CHECKS,
    SOURCE_CHECKS,
    Catalog,
    Category,
    Method,
    Relationship,
    load_catalog,
)

EXPECTED_CRITERIA = {
    Category.SECURITY: [
        "CC1.1", "CC1.2", "CC1.3", "CC1.4", "CC1.5",
        "CC2.1", "CC2.2", "CC2.3",
        "CC3.1", "CC3.2", "CC3.3", "CC3.4",
        "CC4.1", "CC4.2",
        "CC5.1", "CC5.2", "CC5.3",
        "CC6.1", "CC6.2", "CC6.3", "CC6.4", "CC6.5", "CC6.6", "CC6.7", "CC6.8",
        "CC7.1", "CC7.2", "CC7.3", "CC7.4", "CC7.5",
        "CC8.1",
        "CC9.1", "CC9.2",
    ],
    Category.AVAILABILITY: ["A1.1", "A1.2", "A1.3"],
    Category.CONFIDENTIALITY: ["C1.1", "C1.2"],
    Category.PROCESSING_INTEGRITY: ["PI1.1", "PI1.2", "PI1.3", "PI1.4", "PI1.5"],
    Category.PRIVACY: [
        "P1.1", "P2.1", "P3.1", "P3.2", "P4.1", "P4.2", "P4.3", "P5.1", "P5.2",
        "P6.1", "P6.2", "P6.3", "P6.4", "P6.5", "P6.6", "P6.7", "P7.1", "P8.1",
    ],
}  # fmt: skip

# The CSF 2.0 table: category -> subcategory numbers (gaps are real).
EXPECTED_CSF = {
    "GV.OC": "01 02 03 04 05",
    "GV.RM": "01 02 03 04 05 06 07",
    "GV.RR": "01 02 03 04",
    "GV.PO": "01 02",
    "GV.OV": "01 02 03",
    "GV.SC": "01 02 03 04 05 06 07 08 09 10",
    "ID.AM": "01 02 03 04 05 07 08",
    "ID.RA": "01 02 03 04 05 06 07 08 09 10",
    "ID.IM": "01 02 03 04",
    "PR.AA": "01 02 03 04 05 06",
    "PR.AT": "01 02",
    "PR.DS": "01 02 10 11",
    "PR.PS": "01 02 03 04 05 06",
    "PR.IR": "01 02 03 04",
    "DE.CM": "01 02 03 06 09",
    "DE.AE": "02 03 04 06 07 08",
    "RS.MA": "01 02 03 04 05",
    "RS.AN": "03 06 07 08",
    "RS.CO": "02 03",
    "RS.MI": "01 02",
    "RC.RP": "01 02 03 04 05 06",
    "RC.CO": "03 04",
}
EXPECTED_PER_CATEGORY = {
    "GV.OC": 5, "GV.RM": 7, "GV.RR": 4, "GV.PO": 2, "GV.OV": 3, "GV.SC": 10,
    "ID.AM": 7, "ID.RA": 10, "ID.IM": 4,
    "PR.AA": 6, "PR.AT": 2, "PR.DS": 4, "PR.PS": 6, "PR.IR": 4,
    "DE.CM": 5, "DE.AE": 6,
    "RS.MA": 5, "RS.AN": 4, "RS.CO": 2, "RS.MI": 2,
    "RC.RP": 6, "RC.CO": 2,
}  # fmt: skip
EXPECTED_PER_FUNCTION = {"GV": 31, "ID": 21, "PR": 22, "DE": 11, "RS": 13, "RC": 8}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# --- Trust Services Criteria -----------------------------------------------------------------


def test_sixty_one_criteria_with_exact_counts_per_category(catalog: Catalog) -> None:
    counts = Counter(criterion.category for criterion in catalog.criteria)
    assert counts == {
        Category.SECURITY: 33,
        Category.AVAILABILITY: 3,
        Category.CONFIDENTIALITY: 2,
        Category.PROCESSING_INTEGRITY: 5,
        Category.PRIVACY: 18,
    }
    assert len(catalog.criteria) == 61


@pytest.mark.parametrize("category", list(Category))
def test_criteria_identifiers_are_exact(catalog: Catalog, category: Category) -> None:
    found = [criterion.id for criterion in catalog.criteria_in([category])]
    assert found == EXPECTED_CRITERIA[category]


def test_errors_seen_in_public_tools_are_absent(catalog: Catalog) -> None:
    ids = {criterion.id for criterion in catalog.criteria}
    assert not any(identifier.startswith("PP") for identifier in ids)
    assert {"A1.4", "CC5.5", "CC8.2"}.isdisjoint(ids)
    assert "C1.2" in ids
    assert catalog.criterion("PI1.1").category is Category.PROCESSING_INTEGRITY


def test_groups_follow_identifiers(catalog: Catalog) -> None:
    for criterion in catalog.criteria:
        assert criterion.group == criterion.id.split(".")[0]
    assert catalog.criterion("CC9.2").group == "CC9"
    assert catalog.criterion("P6.7").group == "P6"


def test_every_criterion_has_a_title_and_description(catalog: Catalog) -> None:
    for criterion in catalog.criteria:
        assert criterion.title.strip() and criterion.description.strip(), criterion.id


# --- NIST CSF 2.0 ----------------------------------------------------------------------------


def test_csf_counts(catalog: Catalog) -> None:
    assert len(catalog.csf_functions) == 6
    assert len(catalog.csf_categories) == 22
    assert len(catalog.csf_subcategories) == 106
    per_function = Counter(sub.id.split(".")[0] for sub in catalog.csf_subcategories)
    assert per_function == EXPECTED_PER_FUNCTION
    per_category = Counter(sub.category for sub in catalog.csf_subcategories)
    assert per_category == EXPECTED_PER_CATEGORY


def test_csf_identifiers_are_exact(catalog: Catalog) -> None:
    expected = [
        f"{category}-{number}"
        for category, numbers in EXPECTED_CSF.items()
        for number in numbers.split()
    ]
    assert [sub.id for sub in catalog.csf_subcategories] == expected
    assert [category.id for category in catalog.csf_categories] == list(EXPECTED_CSF)
    assert [function.id for function in catalog.csf_functions] == list(EXPECTED_PER_FUNCTION)


def test_csf_hierarchy_is_consistent(catalog: Catalog) -> None:
    functions = {function.id for function in catalog.csf_functions}
    categories = {category.id for category in catalog.csf_categories}
    for category in catalog.csf_categories:
        assert category.function in functions
        assert category.id.startswith(category.function + ".")
    for subcategory in catalog.csf_subcategories:
        assert subcategory.category in categories
        assert subcategory.id.startswith(subcategory.category + "-")
        assert subcategory.title.strip()


def test_retired_csf11_categories_are_not_current(catalog: Catalog) -> None:
    categories = {category.id for category in catalog.csf_categories}
    assert {"PR.AC", "PR.IP", "PR.PT", "ID.BE", "RS.RP"}.isdisjoint(categories)


def test_csf11_successors_point_at_current_subcategories(catalog: Catalog) -> None:
    current = {sub.id for sub in catalog.csf_subcategories}
    assert len(catalog.csf11_successors) >= 40
    for legacy, successors in catalog.csf11_successors.items():
        assert successors, legacy
        assert set(successors) <= current, legacy


# --- controls and mappings -------------------------------------------------------------------


def test_at_least_eighty_controls_with_unique_ids(catalog: Catalog) -> None:
    ids = [control.id for control in catalog.controls]
    assert len(ids) >= 80
    assert len(ids) == len(set(ids))


def test_controls_are_complete(catalog: Catalog) -> None:
    for control in catalog.controls:
        assert control.title.strip() and control.description.strip(), control.id
        assert control.owner_role.strip(), control.id
        assert control.evidence, control.id
        assert control.tsc, control.id


def test_no_dangling_identifiers_in_mappings(catalog: Catalog) -> None:
    criteria = {criterion.id for criterion in catalog.criteria}
    subcategories = {sub.id for sub in catalog.csf_subcategories}
    for control in catalog.controls:
        assert {link.target for link in control.tsc} <= criteria, control.id
        assert {link.target for link in control.csf} <= subcategories, control.id


def test_relationships_are_olir_and_every_link_has_a_rationale(catalog: Catalog) -> None:
    vocabulary = {"equal", "subset-of", "superset-of", "intersects-with", "not-related"}
    links = [link for control in catalog.controls for link in (*control.tsc, *control.csf)]
    assert links
    for link in links:
        assert isinstance(link.relationship, Relationship)
        assert link.relationship.value in vocabulary
        assert link.rationale.strip()
        assert "\n" not in link.rationale


def test_every_criterion_of_every_category_is_covered(catalog: Catalog) -> None:
    gaps = [row.criterion.id for row in catalog.coverage(list(Category)) if not row.controls]
    assert gaps == []


def test_every_known_check_is_used_and_no_other(catalog: Catalog) -> None:
    assert sorted(REGISTER_CHECKS) == [
        "control_owners",
        "exception_register",
        "incident_register",
        "policy_acknowledgement",
        "policy_register",
        "risk_register",
        "vendor_assurance",
        "vendor_offboarding",
    ]
    assert KNOWN_CHECKS == SOURCE_CHECKS | REGISTER_CHECKS
    assert sorted(SOURCE_CHECKS) == [
        "branch_protection",
        "change_review",
        "deprovisioning_delay",
        "dormant_accounts",
        "leaver_access",
        "mfa_enforced",
        "nonhuman_owners",
        "orphan_accounts",
        "privileged_mfa",
        "root_accounts",
        "scope_boundary",
        "scope_drift",
        "shared_accounts",
        "stale_credentials",
        "third_party_grants",
    ]
    used = {check for control in catalog.controls for check in control.checks}
    assert used == KNOWN_CHECKS


def _tsc(catalog: Catalog, control_id: str) -> set[str]:
    return {link.target for link in catalog.control(control_id).tsc}


def _csf(catalog: Catalog, control_id: str) -> set[str]:
    return {link.target for link in catalog.control(control_id).csf}


def test_access_review_control_mapping(catalog: Catalog) -> None:
    assert "access review" in catalog.control("AC-07").title.lower()
    assert {"CC6.2", "CC6.3"} <= _tsc(catalog, "AC-07")
    assert "PR.AA-05" in _csf(catalog, "AC-07")


def test_centralised_logging_control_mapping(catalog: Catalog) -> None:
    assert "logging" in catalog.control("LM-01").title.lower()
    assert "CC7.2" in _tsc(catalog, "LM-01")
    assert "DE.CM-01" in _csf(catalog, "LM-01")


def test_risk_register_control_mapping(catalog: Catalog) -> None:
    assert "risk register" in catalog.control("RA-01").title.lower()
    assert {"CC3.1", "CC3.2"} <= _tsc(catalog, "RA-01")
    assert "GV.RM-01" in _csf(catalog, "RA-01")


@pytest.mark.parametrize(
    ("check", "criterion", "subcategory"),
    [
        ("mfa_enforced", "CC6.1", "PR.AA-03"),
        ("leaver_access", "CC6.2", "PR.AA-05"),
        ("orphan_accounts", "CC6.2", "PR.AA-01"),
        ("stale_credentials", "CC6.1", "PR.AA-01"),
        ("change_review", "CC8.1", "PR.PS-06"),
        ("scope_boundary", "CC2.1", "ID.AM-02"),
        ("vendor_assurance", "CC9.2", "GV.SC-07"),
        ("vendor_offboarding", "CC9.2", "GV.SC-10"),
        ("control_owners", "CC1.3", "GV.RR-02"),
        ("policy_register", "CC5.3", "GV.PO-01"),
        ("policy_acknowledgement", "CC2.2", "GV.PO-01"),
        ("risk_register", "CC3.1", "GV.RM-01"),
        ("exception_register", "CC5.3", "ID.RA-07"),
        ("incident_register", "CC7.4", "RS.MA-02"),
        ("deprovisioning_delay", "CC6.2", "PR.AA-05"),
        ("nonhuman_owners", "CC6.1", "PR.AA-01"),
        ("third_party_grants", "CC9.2", "DE.CM-06"),
        ("scope_drift", "CC2.1", "ID.AM-02"),
        ("root_accounts", "CC6.1", "PR.AA-05"),
        ("branch_protection", "CC8.1", "PR.PS-01"),
    ],
)
def test_checks_sit_on_controls_with_fitting_mappings(
    catalog: Catalog, check: str, criterion: str, subcategory: str
) -> None:
    tested = [control.id for control in catalog.controls if check in control.checks]
    assert any(criterion in _tsc(catalog, control_id) for control_id in tested)
    assert any(subcategory in _csf(catalog, control_id) for control_id in tested)


def test_controls_without_checks_are_manual(catalog: Catalog) -> None:
    assert not catalog.control("AC-03").manual
    assert catalog.control("AC-07").manual
    assert any(control.manual for control in catalog.controls)


def test_every_control_has_a_way_to_be_evidenced(catalog: Catalog) -> None:
    assert all(control.methods for control in catalog.controls)
    assert catalog.control("AC-03").methods == (Method.CHECK,)
    assert catalog.control("RA-01").methods == (Method.REGISTER,)
    assert catalog.control("GV-02").methods == (Method.OWNER_EVIDENCE,)
    # Partly tested: its checks, and its owner for the rest.
    assert catalog.control("AC-08").methods == (Method.CHECK, Method.OWNER_EVIDENCE)
    assert catalog.control("RA-02").methods == (Method.REGISTER, Method.OWNER_EVIDENCE)
