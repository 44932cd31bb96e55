"""The programme's operation over time, read back from the runs ``assay run`` recorded on the
sample organisation: one run, one that failed, then one after a problem was fixed and another
planted."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from assay.catalog import load_catalog
from assay.checks.base import Status
from assay.checks.models import CheckResult, ControlResult
from assay.checks.results import FindingRow, findings_of
from assay.cli import main
from assay.errors import InputError
from assay.evidence.models import EvidenceItem
from assay.evidence.service import open_locker
from assay.monitor.history import (
    changes_since_previous,
    collections_of,
    control_timeline,
    controls_in_run,
    open_findings_by,
    readiness_by_category,
    runs_in_period,
    status_over_runs,
)
from assay.monitor.models import Run
from assay.programme import load
from assay.programme.model import Programme

Capture = pytest.CaptureFixture[str]
pytestmark = [pytest.mark.db, pytest.mark.django_db]

FIXED = ("orphan_accounts", "orphan_account", "github", "zed-builds")
PLANTED = ("mfa_enforced", "mfa_not_registered", "okta", "malik.bello@acme.example")


@dataclass(frozen=True)
class History:
    programme: Programme
    first: int
    failed: int
    second: int
    printed: dict[int, dict[str, list[int]]]
    """What each completed run printed: per category label, the counts in status order."""


def _printed_categories(out: str) -> dict[str, list[int]]:
    """The rows of the category table ``assay run`` prints."""
    rows = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if len(cells) == 1 + len(Status) and all(c.isdigit() for c in cells[1:]):
            rows[cells[0]] = [int(c) for c in cells[1:]]
    return rows


def _run(file: Path, capsys: Capture, expected: int = 0) -> tuple[int, str]:
    assert main(["run", "--file", str(file)]) == expected
    out = capsys.readouterr().out
    return Run.objects.values_list("pk", flat=True).first() or 0, out


@pytest.fixture
def history(sample: Path, capsys: Capture) -> History:
    file = sample / "assay.yaml"
    first, out_first = _run(file, capsys)

    members = sample / "exports/github/members.json"
    listed = members.read_text()
    members.write_text("{not json")
    failed, _ = _run(file, capsys, expected=2)

    members.write_text(json.dumps([m for m in json.loads(listed) if m["login"] != "zed-builds"]))
    users = json.loads((sample / "exports/okta/users.json").read_text())
    user = next(u for u in users if u["profile"]["email"] == PLANTED[3])
    (sample / f"exports/okta/factors/{user['id']}.json").write_text("[]")  # no factor any more
    second, out_second = _run(file, capsys)
    printed = {first: _printed_categories(out_first), second: _printed_categories(out_second)}
    return History(load(file), first, failed, second, printed)


def _key(finding: FindingRow) -> tuple[str, str, str, str]:
    return (finding.check, finding.rule, finding.system, finding.subject)


def test_runs_in_the_period_oldest_first_with_the_failure_flagged(history: History) -> None:
    runs = runs_in_period(history.programme)
    assert [r.id for r in runs] == [history.first, history.failed, history.second]
    assert [r.failed for r in runs] == [False, True, False]
    failure = runs[1]
    assert failure.status == "failed" and "members.json" in failure.error
    assert "\n" not in failure.error

    today = runs[0].started_at.date()
    period = history.programme.audit.period
    assert runs_in_period(history.programme, today, today) == runs
    wider = runs_in_period(history.programme, period.start - timedelta(days=400))
    assert wider == runs  # bounds narrow the period, never widen it
    assert runs_in_period(history.programme, end=today - timedelta(days=1)) == ()
    assert runs_in_period(history.programme, start=today + timedelta(days=1)) == ()


def test_status_counts_per_run_and_none_for_a_failed_run(history: History) -> None:
    counted = status_over_runs(runs_in_period(history.programme))
    assert [c.run.id for c in counted] == [history.first, history.failed, history.second]
    assert counted[1].counts is None
    for entry in (counted[0], counted[2]):
        assert entry.counts is not None
        recorded = ControlResult.objects.filter(run_id=entry.run.id)
        assert entry.counts == {s: recorded.filter(status=s).count() for s in Status}
        assert sum(entry.counts.values()) == recorded.count() > 0


def test_readiness_by_category_is_what_the_run_printed(history: History) -> None:
    for run in (history.first, history.second):
        readiness = readiness_by_category(history.programme, run)
        assert {
            r.category.label: [r.counts[s] for s in Status] for r in readiness
        } == history.printed[run]
        assert all(r.without_result == () for r in readiness)
    with pytest.raises(InputError, match="no such completed run"):
        readiness_by_category(history.programme, history.failed)


def test_findings_counted_by_rule_and_by_system(history: History) -> None:
    counts = open_findings_by(history.second)
    findings = findings_of(history.second)
    assert counts.total == len(findings) > 0
    for column, grouped in (("rule", counts.by_rule), ("system", counts.by_system)):
        expected: dict[str, int] = {}
        for finding in findings:
            expected[getattr(finding, column)] = expected.get(getattr(finding, column), 0) + 1
        assert dict(grouped) == expected
        assert [n for _, n in grouped] == sorted(expected.values(), reverse=True)


def test_new_and_resolved_findings_since_the_previous_completed_run(history: History) -> None:
    changes = changes_since_previous(history.programme, history.second)
    assert changes.previous is not None and changes.previous.id == history.first
    assert changes.new is not None and changes.resolved is not None
    assert [_key(f) for f in changes.new] == [PLANTED]
    assert [_key(f) for f in changes.resolved] == [FIXED]
    assert changes.not_confirmed == ()
    assert changes.incomplete == () and changes.cannot_say == ()
    assert [r.id for r in changes.failed_between] == [history.failed]
    assert "members.json" in changes.failed_between[0].error


def test_a_first_run_says_it_has_nothing_to_compare_with(history: History) -> None:
    changes = changes_since_previous(history.programme, history.first)
    assert changes.previous is None
    assert (changes.new, changes.resolved, changes.not_confirmed) == (None, None, None)
    assert changes.cannot_say == (f"no completed run before run {history.first} to compare with",)
    assert changes.failed_between == ()


def test_a_control_run_by_run_with_the_evidence_its_checks_read(history: History) -> None:
    control = next(c for c in load_catalog().controls if "mfa_enforced" in c.checks)
    runs = runs_in_period(history.programme)
    timeline = control_timeline(control.id.lower(), runs)
    assert timeline.control == control
    first, failed, second = timeline.runs
    assert (failed.status, failed.reason) == (None, f"run failed: {runs[1].error}")
    assert all(check.status is None for check in failed.checks)
    locker = open_locker(history.programme)
    for entry in (first, second):
        recorded = ControlResult.objects.get(run_id=entry.run.id, control_id=control.id)
        assert (entry.status, entry.reason) == (Status(recorded.status), recorded.reason)
        assert [c.check_id for c in entry.checks] == list(control.checks)
        mfa = next(c for c in entry.checks if c.check_id == "mfa_enforced")
        assert mfa.status is Status.FAILING and mfa.unresolved == ()
        stored = CheckResult.objects.get(run_id=entry.run.id, check_id="mfa_enforced").evidence
        assert [e.sha256 for e in mfa.evidence] == stored
        assert {e.subject for e in mfa.evidence} >= {"okta", "github", "aws"}
        for ref in mfa.evidence:
            item = EvidenceItem.objects.get(statement_id=ref.statement_id)
            assert (item.run_id, item.sha256, item.kind, item.leaf_index) == (
                entry.run.id,
                ref.sha256,
                "snapshot",
                ref.leaf_index,
            )
            data = locker.get(ref.sha256)
            assert hashlib.sha256(data).hexdigest() == ref.sha256 and len(data) == ref.size
    # each run read its own snapshot of okta
    first_okta = next(e for c in first.checks for e in c.evidence if e.subject == "okta")
    second_okta = next(e for c in second.checks for e in c.evidence if e.subject == "okta")
    assert first_okta.sha256 != second_okta.sha256
    with pytest.raises(InputError, match="unknown control"):
        control_timeline("XX-99", runs)


def test_one_control_of_a_run_is_its_row_of_the_whole_list(history: History) -> None:
    rows = controls_in_run(history.programme, history.second)
    assert len(rows) > 1 and any(row.status is Status.FAILING for row in rows)
    for row in rows:
        assert controls_in_run(history.programme, history.second, only=row.control.id) == (row,)
    listed = {row.control.id for row in rows}
    not_called_for = next(c.id for c in load_catalog().controls if c.id not in listed)
    assert controls_in_run(history.programme, history.second, only=not_called_for) == ()
    assert controls_in_run(history.programme, None, only=rows[0].control.id)[0].status is None


def test_findings_gone_from_an_incomplete_collection_are_not_resolved(
    sample: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Okta read live the second time, with one user's factors refused: the collection is
    incomplete, so none of the okta findings the first run had counts as resolved."""
    from tests.connectors.okta_server import TOKEN, OktaServer

    file = sample / "assay.yaml"
    first, _ = _run(file, capsys)
    exported = sample / "exports/okta"
    users = json.loads((exported / "users.json").read_text())
    factors = {
        u["id"]: json.loads((exported / f"factors/{u['id']}.json").read_text()) for u in users
    }
    policy = {
        "id": "00pDefault",
        "type": "OKTA_SIGN_ON",
        "name": "Default",
        "status": "ACTIVE",
        "priority": 1,
        "system": True,
        "conditions": {"people": {"groups": {"include": ["00gEveryone"]}}},
    }
    rules = json.loads((exported / "sign-on-policy-rules.json").read_text())
    apps = json.loads((exported / "apps.json").read_text())
    monkeypatch.setenv("ASSAY_TEST_OKTA_TOKEN", TOKEN)
    with OktaServer(users, factors, [policy], {"00pDefault": rules}, apps) as server:
        server.throttle[("factors", users[0]["id"])] = 10**6  # asked to wait far too long
        exported_text = file.read_text()
        text = exported_text.replace(
            "connector: {type: okta, mode: export, settings: {path: exports/okta}}",
            f"connector: {{type: okta, mode: live, settings: {{base_url: '{server.url}'}}, "
            "secrets: {token: ASSAY_TEST_OKTA_TOKEN}}",
        )
        file.write_text(text)
        second, _ = _run(file, capsys)

    programme = load(file)
    changes = changes_since_previous(programme, second)
    assert changes.previous is not None and changes.previous.id == first
    assert [c.system_id for c in changes.incomplete] == ["okta"]
    reason = changes.incomplete[0].incomplete_reason
    assert reason is not None and users[0]["id"] in reason
    assert changes.cannot_say == (
        f"okta was collected incompletely in run {second} ({reason}): findings there may be "
        "missing",
    )
    assert changes.resolved is not None and changes.not_confirmed is not None
    gone = {_key(f) for f in findings_of(first)} - {_key(f) for f in findings_of(second)}
    okta = {key for key in gone if key[2] == "okta"}
    assert okta and {_key(n.finding) for n in changes.not_confirmed} >= okta
    assert not any(f.system == "okta" for f in changes.resolved)
    assert all("incomplete population" in n.reason for n in changes.not_confirmed)

    # Once a later run replaces the current inventory, the run's manifests in the locker say the
    # same about how each system was collected.
    read_from_inventory = collections_of(programme, second)
    file.write_text(exported_text)
    _run(file, capsys)
    assert collections_of(load(file), second) == read_from_inventory
    assert [c.system_id for c in read_from_inventory if not c.complete] == ["okta"]
