"""The starter policies load, link only to real controls and roles, read as plain Markdown, and a
malformed policy file fails naming the file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assay.catalog import load_catalog
from assay.errors import InputError
from assay.registers.starter import StarterPolicy, _read_folder, _read_policy, starter_policies

TITLES = {
    "POL-01": "Information security policy",
    "POL-02": "Access control policy",
    "POL-03": "Acceptable use policy",
    "POL-04": "Change management policy",
    "POL-05": "Incident response policy",
    "POL-06": "Business continuity and disaster recovery policy",
    "POL-07": "Vendor management policy",
    "POL-08": "Data classification and retention policy",
    "POL-09": "Risk management policy",
    "POL-10": "Secure development policy",
    "POL-11": "Encryption and key management policy",
    "POL-12": "Human resources security policy",
}
# Each policy control of the catalog, and the starter policy that answers it.
POLICY_CONTROLS = {
    "POL-01": ["GV-01"],
    "POL-02": ["AC-01"],
    "POL-04": ["CM-01"],
    "POL-05": ["IR-01"],
    "POL-06": ["BC-03"],
    "POL-07": ["VR-01"],
    "POL-08": ["DC-01", "DC-02"],
    "POL-10": ["SD-01"],
}
SECTIONS = ("Purpose", "Scope", "Roles", "Policy statements", "Exceptions", "Review", "Enforcement")
CONTROL_ID = re.compile(r"\b[A-Z]{2}-\d{2}\b")
HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z!?]")

GOOD = """\
---
id: POL-99
title: Test policy
owner_role: Security lead
review_every_months: 12
controls: [AC-01, AC-03]
---

## Purpose

Words.
"""


def policies() -> tuple[StarterPolicy, ...]:
    return starter_policies()


def test_the_twelve_policies_in_id_order() -> None:
    assert [(policy.id, policy.title) for policy in policies()] == list(TITLES.items())


def test_the_set_is_read_once_per_process() -> None:
    assert starter_policies() is starter_policies()


def test_every_linked_control_is_in_the_catalog() -> None:
    catalog = load_catalog()
    for policy in policies():
        assert policy.controls, policy.id
        for control in policy.controls:
            assert catalog.control(control).id == control, (policy.id, control)


def test_every_owner_role_is_a_role_the_catalog_uses() -> None:
    roles = {control.owner_role for control in load_catalog().controls}
    assert {policy.owner_role for policy in policies()} <= roles


def test_each_policy_control_links_to_its_policy() -> None:
    by_id = {policy.id: policy for policy in policies()}
    for policy_id, controls in POLICY_CONTROLS.items():
        for control in controls:
            assert control in by_id[policy_id].controls, (policy_id, control)
            assert control in by_id[policy_id].body, (policy_id, control)


def test_the_controls_a_body_names_are_the_controls_it_links() -> None:
    for policy in policies():
        assert set(CONTROL_ID.findall(policy.body)) == set(policy.controls), policy.id


def test_policies_are_reviewed_at_least_yearly() -> None:
    assert all(1 <= policy.review_every_months <= 12 for policy in policies())


@pytest.mark.parametrize("policy_id", list(TITLES))
def test_each_body_is_plain_markdown_of_substance(policy_id: str) -> None:
    (policy,) = [policy for policy in policies() if policy.id == policy_id]
    words = len(policy.body.split())
    assert 300 <= words <= 800, words
    assert not HTML_TAG.search(policy.body)
    headings = re.findall(r"^(#+) (.+)$", policy.body, flags=re.MULTILINE)
    assert {level for level, _ in headings} == {"##"}
    assert [title for _, title in headings if title in SECTIONS] == list(SECTIONS)
    prose = " ".join(policy.body.split())
    assert "exceptions register" in prose
    assert "security lead approves" in prose
    assert "at least every 12 months" in prose


def test_a_good_file_reads() -> None:
    policy = _read_policy(GOOD, "pol-99.md")
    assert policy == StarterPolicy(
        id="POL-99",
        title="Test policy",
        owner_role="Security lead",
        review_every_months=12,
        controls=("AC-01", "AC-03"),
        body="## Purpose\n\nWords.",
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (GOOD.replace("owner_role: Security lead\n", ""), "missing owner_role"),
        (GOOD.replace("title:", "approver: Dana\ntitle:"), "unknown approver"),
        (GOOD.replace("review_every_months: 12", "review_every_months: twelve"), "whole number"),
        (GOOD.replace("review_every_months: 12", "review_every_months: true"), "whole number"),
        (GOOD.replace("review_every_months: 12", "review_every_months: 0"), "whole number"),
        (GOOD.replace("controls: [AC-01, AC-03]", "controls: AC-01"), "'controls'"),
        (GOOD.replace("controls: [AC-01, AC-03]", "controls: [AC-01, 7]"), "'7'"),
        (GOOD.replace("controls: [AC-01, AC-03]", "controls: [AC-01, AC-01]"), "twice"),
        (GOOD.replace("id: POL-99", "id: 99"), "'id' must be non-empty text"),
        (GOOD.replace("id: POL-99", "id: policy-one"), "not of the form"),
        (GOOD.replace("title: Test policy", "title: [Test]"), "'title'"),
        (GOOD.replace("title: Test policy", "title: ''"), "'title'"),
        (GOOD.removeprefix("---\n"), "must start with"),
        (GOOD.replace("---\n\n## Purpose", "\n## Purpose"), "no closing"),
        (GOOD.replace("title: Test policy", "title: [unclosed"), "not valid YAML"),
        ("---\n- a list\n---\nbody\n", "mapping"),
        (GOOD.split("## Purpose")[0], "no text"),
    ],
)
def test_a_malformed_file_raises_naming_it(text: str, problem: str) -> None:
    with pytest.raises(InputError) as raised:
        _read_policy(text, "policies/pol-99.md")
    assert raised.value.where.startswith("policies/pol-99.md")
    assert problem in raised.value.problem
    assert raised.value.exit_code == 2


def test_invalid_yaml_names_the_line() -> None:
    text = GOOD.replace("review_every_months: 12", "review_every_months: [12")
    with pytest.raises(InputError) as raised:
        _read_policy(text, "pol-99.md")
    assert re.fullmatch(r"pol-99\.md:\d+", raised.value.where)


def test_a_folder_with_a_malformed_file_fails_naming_that_file(tmp_path: Path) -> None:
    (tmp_path / "pol-99.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "pol-98.md").write_text(
        GOOD.replace("id: POL-99", "id: POL-98").replace("owner_role: Security lead\n", ""),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as raised:
        _read_folder(tmp_path, "policies")
    assert raised.value.where == "policies/pol-98.md"
    assert "owner_role" in str(raised.value)


def test_a_folder_reads_in_id_order_and_skips_other_files(tmp_path: Path) -> None:
    (tmp_path / "pol-99.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "pol-05.md").write_text(GOOD.replace("id: POL-99", "id: POL-05"), encoding="utf-8")
    (tmp_path / "README.txt").write_text("not a policy", encoding="utf-8")
    assert [policy.id for policy in _read_folder(tmp_path, "policies")] == ["POL-05", "POL-99"]


def test_a_file_named_for_another_id_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "pol-01.md").write_text(GOOD, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        _read_folder(tmp_path, "policies")
    assert raised.value.where == "policies/pol-01.md"
    assert "pol-99.md" in raised.value.problem


def test_a_file_that_is_not_utf8_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "pol-99.md").write_bytes(b"---\nid: \xff\n---\n")
    with pytest.raises(InputError) as raised:
        _read_folder(tmp_path, "policies")
    assert raised.value.where == "policies/pol-99.md"
