"""The recorded findings and unjudged items of a run, as `assay findings` and the web read them."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from assay.catalog import load_catalog
from assay.checks.results import (
    FindingRow,
    UnjudgedRow,
    completed_run,
    findings_of,
    latest_completed_run,
    unjudged_of,
)
from assay.cli import main
from assay.cli.findings import COLUMNS, UNJUDGED_COLUMNS
from assay.errors import InputError
from assay.sample import PlantedFinding

Capture = pytest.CaptureFixture[str]
pytestmark = [pytest.mark.db, pytest.mark.django_db]


def _planted(rows: tuple[FindingRow, ...]) -> set[PlantedFinding]:
    return {PlantedFinding(r.check, r.rule, r.system, r.subject) for r in rows}


def test_before_any_run_there_is_no_completed_run(sample: Path) -> None:
    assert latest_completed_run() is None and completed_run(None) is None
    with pytest.raises(InputError, match="no completed run"):
        findings_of()


def test_findings_of_the_latest_run_by_each_filter(
    sample: Path, planted: tuple[PlantedFinding, ...], capsys: Capture
) -> None:
    assert main(["run", "--file", str(sample / "assay.yaml")]) == 0
    capsys.readouterr()
    run = latest_completed_run()
    assert run is not None and completed_run(run) == run and completed_run(run + 1) is None

    everything = findings_of()
    assert findings_of(run) == everything and _planted(everything) == set(planted)
    assert all(len(row.evidence_sha256) == 64 for row in everything)
    assert _planted(findings_of(check="mfa_enforced", system="okta")) == {
        p for p in planted if (p.check, p.system) == ("mfa_enforced", "okta")
    }
    assert _planted(findings_of(rule="orphan_account")) == {
        p for p in planted if p.rule == "orphan_account"
    }
    control = next(c for c in load_catalog().controls if "leaver_access" in c.checks)
    assert _planted(findings_of(control=control.id.lower())) == {
        p for p in planted if p.check in control.checks
    }
    other = next(c for c in ("mfa_enforced", "change_review") if c not in control.checks)
    assert findings_of(check=other) and findings_of(control=control.id, check=other) == ()
    manual = next(c for c in load_catalog().controls if c.manual)
    assert findings_of(control=manual.id) == ()
    with pytest.raises(InputError, match="unknown control"):
        findings_of(control="XX-99")
    with pytest.raises(InputError, match=f"run {run + 1}"):
        findings_of(run + 1)


def test_unjudged_items_name_whole_systems_as_none(sample: Path, capsys: Capture) -> None:
    assert main(["run", "--file", str(sample / "assay.yaml")]) == 0
    capsys.readouterr()
    items = unjudged_of()
    assert items and all(isinstance(item, UnjudgedRow) for item in items)
    assert all(item.subject is None or item.subject for item in items)
    first = items[0]
    assert first in unjudged_of(check=first.check, system=first.system)
    assert unjudged_of(system="no-such-system") == ()


def test_rows_carry_the_columns_the_command_prints() -> None:
    assert tuple(f.name for f in fields(FindingRow)) == COLUMNS
    assert tuple(f.name for f in fields(UnjudgedRow)) == UNJUDGED_COLUMNS
