"""``assay catalog``: output formats, filters, CSF resolution, coverage and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.catalog import Category, load_catalog
from assay.cli import main

Capture = pytest.CaptureFixture[str]


def _json(argv: list[str], capsys: Capture) -> Any:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(autouse=True)
def _no_programme_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each test in an empty directory, so a stray assay.yaml cannot change defaults."""
    monkeypatch.chdir(tmp_path)


# --- tsc -------------------------------------------------------------------------------------


def test_tsc_json_lists_all_61_criteria(capsys: Capture) -> None:
    criteria = _json(["catalog", "tsc", "--format", "json"], capsys)
    assert len(criteria) == 61
    assert criteria[0]["id"] == "CC1.1"
    assert criteria[-1]["id"] == "P8.1"
    assert set(criteria[0]) == {"id", "category", "group", "title", "description"}
    assert {item["category"] for item in criteria} == {category.value for category in Category}


@pytest.mark.parametrize(
    ("spelling", "count"),
    [
        ("availability", 3),
        ("processing-integrity", 5),
        ("Processing Integrity", 5),
        ("PRIVACY", 18),
    ],
)
def test_tsc_category_filter(capsys: Capture, spelling: str, count: int) -> None:
    criteria = _json(["catalog", "tsc", "--category", spelling, "--format", "json"], capsys)
    assert len(criteria) == count


def test_tsc_table(capsys: Capture) -> None:
    assert main(["catalog", "tsc", "--category", "confidentiality"]) == 0
    out = capsys.readouterr().out
    assert "C1.1" in out and "C1.2" in out
    assert "CC6.1" not in out


@pytest.mark.parametrize(
    "argv",
    [
        ["catalog", "tsc", "--format", "yaml"],
        ["catalog", "csf", "--format", "xml"],
        ["catalog", "controls", "--format", "csv"],
        ["catalog", "coverage", "--format", "html"],
    ],
)
def test_bad_format_exits_2(capsys: Capture, argv: list[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "--format" in captured.err
    assert captured.out == ""


def test_unknown_category_exits_2(capsys: Capture) -> None:
    assert main(["catalog", "tsc", "--category", "speed"]) == 2
    assert "speed" in capsys.readouterr().err


# --- csf -------------------------------------------------------------------------------------


def test_csf_json_lists_the_framework(capsys: Capture) -> None:
    data = _json(["catalog", "csf", "--format", "json"], capsys)
    assert (len(data["functions"]), len(data["categories"]), len(data["subcategories"])) == (
        6,
        22,
        106,
    )


def test_csf_table_lists_subcategories(capsys: Capture) -> None:
    assert main(["catalog", "csf"]) == 0
    out = capsys.readouterr().out
    assert "PR.AA-05" in out and "RC.CO-04" in out


def test_csf_resolves_a_csf11_identifier(capsys: Capture) -> None:
    assert main(["catalog", "csf", "PR.AC-4"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "PR.AC-4 is a CSF 1.1 identifier; in CSF 2.0 it is PR.AA-05"


def test_csf_resolves_a_split_identifier_as_json(capsys: Capture) -> None:
    data = _json(["catalog", "csf", "de.cm-07", "--format", "json"], capsys)
    assert data["identifier"] == "DE.CM-7"
    assert data["version"] == "1.1"
    assert [item["id"] for item in data["successors"]] == [
        "DE.CM-01",
        "DE.CM-03",
        "DE.CM-06",
        "DE.CM-09",
    ]
    assert all(item["title"] for item in data["successors"])


def test_csf_current_identifier(capsys: Capture) -> None:
    assert main(["catalog", "csf", "pr.aa-05"]) == 0
    assert capsys.readouterr().out.startswith("PR.AA-05 is a CSF 2.0 identifier: ")


def test_csf_unknown_identifier_exits_2(capsys: Capture) -> None:
    assert main(["catalog", "csf", "PR.ZZ-1"]) == 2
    captured = capsys.readouterr()
    assert "PR.ZZ-1" in captured.err
    assert captured.out == ""


# --- controls --------------------------------------------------------------------------------


def test_controls_json(capsys: Capture) -> None:
    controls = _json(["catalog", "controls", "--format", "json"], capsys)
    assert len(controls) == len(load_catalog().controls)
    mfa = next(control for control in controls if control["id"] == "AC-03")
    assert mfa["checks"] == ["mfa_enforced"]
    assert mfa["manual"] is False
    assert {"target": "CC6.1", "relationship": "subset-of"}.items() <= mfa["tsc"][0].items()


def test_controls_filtered_by_criterion(capsys: Capture) -> None:
    controls = _json(["catalog", "controls", "--criterion", "cc6.3", "--format", "json"], capsys)
    assert "AC-07" in {control["id"] for control in controls}
    for control in controls:
        assert "CC6.3" in {link["target"] for link in control["tsc"]}


def test_controls_table(capsys: Capture) -> None:
    assert main(["catalog", "controls", "--criterion", "A1.3"]) == 0
    out = capsys.readouterr().out
    assert "Controls covering A1.3" in out
    assert "BC-04" in out
    assert "AC-03" not in out


def test_controls_unknown_criterion_exits_2(capsys: Capture) -> None:
    assert main(["catalog", "controls", "--criterion", "CC5.5"]) == 2
    assert "CC5.5" in capsys.readouterr().err


# --- coverage --------------------------------------------------------------------------------


def test_coverage_defaults_to_security_without_a_programme(capsys: Capture) -> None:
    data = _json(["catalog", "coverage", "--format", "json"], capsys)
    assert data["categories"] == ["security"]
    assert data["criteria"] == len(data["rows"]) == 33
    assert data["gaps"] == 0
    assert all(row["controls"] for row in data["rows"])


def test_coverage_repeatable_category(capsys: Capture) -> None:
    argv = ["catalog", "coverage", "--category", "privacy", "--category", "availability"]
    data = _json([*argv, "--format", "json"], capsys)
    assert data["categories"] == ["privacy", "availability"]
    assert [row["criterion"] for row in data["rows"]][:3] == ["A1.1", "A1.2", "A1.3"]
    assert data["criteria"] == 21


PROGRAMME = """\
organisation: Acme
owner: {{name: Dana, email: dana@example.com}}
audit: {{type: 1, period: {{start: 2026-03-01, end: 2026-03-01}}}}
categories: [availability]
systems:
  - id: app
    name: App
    kind: saas
    owner: sam@example.com
    in_scope: true
    reason: The product
    connector: {{type: git, settings: {{path: exports/app}}}}
controls:
{overrides}
"""


def _programme(excluded: list[str], expires: str = "2099-01-01") -> str:
    overrides = "".join(
        f"  {control_id}:\n    exclude: {{justification: Not used here, expires: {expires}}}\n"
        for control_id in excluded
    )
    return PROGRAMME.format(overrides=overrides)


def test_coverage_uses_the_programme_file_and_its_exclusions(
    tmp_path: Path, capsys: Capture
) -> None:
    covering = [control.id for control in load_catalog().controls_for_criterion("A1.3")]
    (tmp_path / "assay.yaml").write_text(_programme(covering), encoding="utf-8")

    data = _json(["catalog", "coverage", "--format", "json"], capsys)
    assert data["categories"] == ["security", "availability"]
    assert sorted(data["excluded_controls"]) == sorted(covering)
    rows = {row["criterion"]: row for row in data["rows"]}
    assert len(rows) == 36
    assert rows["A1.3"] == {
        "criterion": "A1.3",
        "category": "availability",
        "title": rows["A1.3"]["title"],
        "controls": [],
        "gap": True,
    }
    assert data["gaps"] == 1

    assert main(["catalog", "coverage"]) == 0
    out = capsys.readouterr().out
    assert "35 of 36 criteria covered, 1 gap(s)" in out
    assert "GAP" in out


def test_expired_exclusions_no_longer_apply(tmp_path: Path, capsys: Capture) -> None:
    covering = [control.id for control in load_catalog().controls_for_criterion("A1.3")]
    (tmp_path / "assay.yaml").write_text(_programme(covering, "2020-01-01"), encoding="utf-8")
    data = _json(["catalog", "coverage", "--format", "json"], capsys)
    assert data["excluded_controls"] == []
    assert data["gaps"] == 0


def test_coverage_with_an_explicit_missing_programme_file_exits_2(capsys: Capture) -> None:
    assert main(["catalog", "coverage", "--file", "missing.yaml"]) == 2
    assert "missing.yaml" in capsys.readouterr().err
