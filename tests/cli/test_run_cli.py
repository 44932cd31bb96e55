"""``assay init`` and ``assay run`` as a user meets them: exit codes, errors, the report."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connection

from assay.cli import main
from assay.monitor.models import Run
from assay.sample import PlantedFinding

Capture = pytest.CaptureFixture[str]


def test_init_writes_a_starter_that_passes_its_own_load(tmp_path: Path, capsys: Capture) -> None:
    target = tmp_path / "assay.yaml"
    assert main(["init", "--file", str(target)]) == 0
    assert target.read_text().lstrip().startswith("#")
    assert main(["scope", "check", "--file", str(target)]) in (0, 1)
    assert main(["init", "--file", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_init_sample_refuses_a_directory_that_is_not_empty(tmp_path: Path, capsys: Capture) -> None:
    (tmp_path / "something").write_text("mine")
    assert main(["init", "--sample", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not empty" in err
    assert (tmp_path / "something").read_text() == "mine"


@pytest.mark.db
@pytest.mark.django_db
def test_run_prints_the_summary_and_writes_the_report(
    sample: Path, planted: tuple[PlantedFinding, ...], capsys: Capture
) -> None:
    assert main(["run", "--file", str(sample / "assay.yaml")]) == 0
    out = capsys.readouterr().out
    assert "Security" in out and "Availability" in out and "Confidentiality" in out
    assert f"{len(planted)} finding(s)" in out
    report = sample / ".assay" / "reports" / "readiness.html"
    html = report.read_text()
    assert "SOC 2 readiness: Acme Cloud Ltd" in html
    assert "temp.admin@acme.example" in html
    assert Run.objects.get().status == Run.Status.COMPLETED


@pytest.mark.db
@pytest.mark.django_db
def test_run_with_malformed_yaml_exits_2_with_one_line_and_touches_nothing(
    sample: Path, capsys: Capture
) -> None:
    programme = sample / "assay.yaml"
    programme.write_text(programme.read_text().replace("organisation: Acme", "organisation: [Acme"))
    assert main(["run", "--file", str(programme)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"assay: {programme}:") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not Run.objects.exists()
    assert not (sample / ".assay" / "locker").exists()


@pytest.mark.db
@pytest.mark.django_db
def test_run_with_a_bad_export_exits_2_and_records_a_failed_run(
    sample: Path, capsys: Capture
) -> None:
    (sample / "exports/aws/credential-report.csv").write_text("user,arn\nx,y\n")
    assert main(["run", "--file", str(sample / "assay.yaml")]) == 2
    err = capsys.readouterr().err
    assert "credential-report.csv" in err and "missing required column" in err
    assert err.count("\n") == 1
    assert Run.objects.get().status == Run.Status.FAILED
    assert not (sample / ".assay" / "reports").exists()


@pytest.mark.db
@pytest.mark.django_db
def test_database_tests_run_on_the_configured_backend() -> None:
    expected = "postgresql" if os.environ.get("ASSAY_DATABASE_URL") else "sqlite"
    assert connection.vendor == expected
