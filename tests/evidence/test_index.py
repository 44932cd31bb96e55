"""The database as an index of the locker: rebuilt from it, numbering continuing after it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from assay.checks.models import CheckResult, RecordedFinding, UnjudgedItem
from assay.checks.registry import CHECKS
from assay.cli import main
from assay.evidence.models import Checkpoint, EvidenceItem
from assay.monitor.models import Run

Capture = pytest.CaptureFixture[str]
pytestmark = [pytest.mark.db, pytest.mark.django_db(transaction=True)]


def _findings() -> list[tuple[object, ...]]:
    return sorted(
        RecordedFinding.objects.values_list(
            "run_id", "check_id", "rule", "system_id", "subject", "detail", "evidence_sha256"
        )
    )


def _unjudged() -> list[tuple[object, ...]]:
    return sorted(
        UnjudgedItem.objects.values_list("run_id", "check_id", "system_id", "subject", "reason")
    )


def test_reindex_restores_runs_evidence_and_checkpoints_and_numbering_goes_on(
    sample: Path, capsys: Capture
) -> None:
    programme = str(sample / "assay.yaml")
    assert main(["run", "--file", programme]) == 0
    assert main(["run", "--file", programme]) == 0
    runs = list(Run.objects.order_by("id").values_list("id", flat=True))
    before = list(EvidenceItem.objects.values_list("run_id", "statement_id", "leaf_index"))
    checkpoints = list(Checkpoint.objects.values_list("seq", "sha256"))
    findings = _findings()
    unjudged = _unjudged()
    assert findings and unjudged
    call_command("flush", interactive=False, verbosity=0)  # an empty database; sequences reset
    assert main(["run", "--file", programme]) == 2
    capsys.readouterr()

    assert main(["evidence", "reindex", "--file", programme]) == 0
    assert f"2 runs (the next is {runs[-1] + 1})" in capsys.readouterr().out
    assert list(EvidenceItem.objects.values_list("run_id", "statement_id", "leaf_index")) == before
    assert list(Checkpoint.objects.values_list("seq", "sha256"))[:2] == checkpoints
    assert _findings() == findings  # from the check results each run stored
    assert _unjudged() == unjudged
    assert CheckResult.objects.filter(run_id=runs[-1]).count() == len(CHECKS)
    assert list(Run.objects.order_by("id").values_list("id", "status")) == [
        (run, Run.Status.COMPLETED) for run in runs
    ]
    assert main(["run", "--file", programme]) == 0
    assert Run.objects.order_by("-id").values_list("id", flat=True)[0] == runs[-1] + 1
    assert main(["verify", "--file", programme]) == 0
    assert "runs: 3 completed" in capsys.readouterr().out
