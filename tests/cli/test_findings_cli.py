"""``assay findings`` in its three formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from assay.cli import main
from assay.sample import PlantedFinding

Capture = pytest.CaptureFixture[str]
pytestmark = [pytest.mark.db, pytest.mark.django_db]


def test_findings_before_any_run_is_a_clear_error(sample: Path, capsys: Capture) -> None:
    assert main(["findings", "--file", str(sample / "assay.yaml")]) == 2
    assert "no completed run" in capsys.readouterr().err


def test_findings_as_json_csv_and_table(
    sample: Path, planted: tuple[PlantedFinding, ...], capsys: Capture
) -> None:
    programme = str(sample / "assay.yaml")
    assert main(["run", "--file", programme]) == 0
    capsys.readouterr()

    assert main(["findings", "--file", programme, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["findings"]
    assert {
        PlantedFinding(f["check"], f["rule"], f["system"], f["subject"]) for f in listed
    } == set(planted)
    assert all(len(f["evidence_sha256"]) == 64 for f in listed)

    assert (
        main(["findings", "--file", programme, "--format", "csv", "--check", "mfa_enforced"]) == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == sum(1 for p in planted if p.check == "mfa_enforced")
    assert {row["rule"] for row in rows} == {"mfa_not_registered"}

    assert main(["findings", "--file", programme, "--system", "github"]) == 0
    table = capsys.readouterr().out
    assert "zed-builds" in table and "temp.admin" not in table

    assert main(["findings", "--file", programme, "--format", "xml"]) == 2
