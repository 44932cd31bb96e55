"""The sample organisation with its registers loaded: a run finds exactly the planted problems,
every control has a named owner and a way to be evidenced, and the locker still verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from assay.catalog import load_catalog
from assay.checks.base import Status
from assay.checks.controls import named_owner, relevant_controls
from assay.checks.models import CheckResult, RecordedFinding
from assay.cli import main
from assay.evidence.models import EvidenceItem
from assay.evidence.service import open_locker
from assay.monitor.run import execute
from assay.programme import load
from assay.programme.model import Programme
from assay.registers.kinds import KINDS
from assay.registers.models import Record, Submission
from assay.registers.state import STATEMENT_KIND
from assay.sample import PlantedFinding
from assay.sample.registers import IMPORTED_BY, OVERDUE_CONTROL, load_registers

pytestmark = [pytest.mark.db, pytest.mark.django_db]

Key = tuple[str, str, str, str]


def _loaded(sample: Path) -> Programme:
    programme = load(sample / "assay.yaml")
    load_registers(programme)
    return programme


def _planted(sample: Path) -> set[Key]:
    written = json.loads((sample / "planted-problems.json").read_text(encoding="utf-8"))
    return {(p["check"], p["rule"], p["system"], p["subject"]) for p in written}


def _recorded() -> set[Key]:
    return {
        (f.check_id, f.rule, f.system_id, f.subject)
        for f in RecordedFinding.objects.filter(excepted_by="")
    }


def test_a_run_finds_exactly_the_planted_problems(
    sample: Path, planted: tuple[PlantedFinding, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    programme = _loaded(sample)
    planted_keys = _planted(sample)
    assert planted_keys == {(p.check, p.rule, p.system, p.subject) for p in planted}

    outcome = execute(programme)

    assert _recorded() == planted_keys
    assert RecordedFinding.objects.count() == len(planted_keys)
    assert {(f.rule, f.subject) for f in outcome.findings} == {(k[1], k[3]) for k in planted_keys}
    register_rules = {
        "owner_not_active",
        "risk_review_overdue",
        "high_risk_untreated",
        "vendor_report_expired",
        "vendor_exception_unanswered",
        "policy_not_acknowledged",
        "exception_expired",
        "postmortem_missing",
        "evidence_overdue",
    }
    assert register_rules <= {k[1] for k in planted_keys}
    overdue = [k for k in planted_keys if k[1] == "evidence_overdue"]
    assert len(overdue) == 1 and overdue[0][3].startswith(f"{OVERDUE_CONTROL}@")

    assert main(["verify", "--file", str(programme.path)]) == 0
    assert "verified:" in capsys.readouterr().out


def test_the_registers_are_loaded_into_the_locker_and_stored_with_the_run(sample: Path) -> None:
    programme = _loaded(sample)
    assert {kind for kind in Record.objects.values_list("kind", flat=True)} == set(KINDS)
    assert set(Record.objects.values_list("changed_by", flat=True)) == {IMPORTED_BY}
    assert Submission.objects.filter(state=Submission.State.ACCEPTED).exists()
    assert not Submission.objects.exclude(state=Submission.State.ACCEPTED).exists()
    midnight = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    latest = max(Submission.objects.values_list("decided_at", flat=True))
    assert latest is not None and latest < midnight, "no history is dated later than today began"

    outcome = execute(programme)

    [stored] = EvidenceItem.objects.filter(run_id=outcome.run_id, kind=STATEMENT_KIND)
    document = json.loads(open_locker(programme).get(stored.sha256))
    assert set(document["registers"]) == set(KINDS)
    assert len(document["owner_evidence"]) == Submission.objects.count()
    for check in ("risk_register", "policy_acknowledgement", "owner_evidence"):
        assert stored.sha256 in CheckResult.objects.get(check_id=check).evidence


def test_every_control_has_a_named_owner_and_a_way_to_be_evidenced(sample: Path) -> None:
    programme = _loaded(sample)
    catalog = load_catalog()
    for control in relevant_controls(catalog, programme.categories):
        assert named_owner(programme, control), control.id
        assert control.methods, control.id

    outcome = execute(programme)

    statuses = {v.control.id: v.status for v in outcome.controls}
    assert statuses[OVERDUE_CONTROL] is Status.FAILING
    assert statuses["GV-04"] is Status.FAILING  # HR-07's owner left
    owner_evidence = {c.id for c in catalog.controls if c.owner_evidenced}
    passing = {c for c, s in statuses.items() if s is Status.PASSING}
    assert passing & owner_evidence, "accepted owner evidence lets controls pass"
