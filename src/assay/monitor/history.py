"""The programme's operation over time, read from the database: runs in the audit period, control
status run by run, readiness per Trust Services category, and what changed since the run before.

What cannot be said is named rather than left empty: a run that failed has no results (its counts
are None, not zeros), a first run has nothing to compare with, and a finding that is gone from a
run that could not judge its system is not resolved.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q

from assay.catalog import Category, Control, Frequency, load_catalog
from assay.checks.base import Status
from assay.checks.controls import (
    ControlVerdict,
    frequency_of,
    owner_of,
    relevant_controls,
    summarise_categories,
)
from assay.checks.models import CheckResult, ControlResult, RecordedFinding, UnjudgedItem
from assay.checks.results import FindingRow, findings_of
from assay.errors import InputError
from assay.evidence.models import EvidenceItem
from assay.inventory.models import InventorySystem
from assay.monitor.models import Run
from assay.programme.model import Programme

_RUNS_PER_QUERY = 200
"""Runs whose rows one query asks for, so that a year of hourly runs stays within the database's
limit on query parameters."""


@dataclass(frozen=True)
class RunSummary:
    """A run that completed or failed; ``error`` is the first line of a failure's reason."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    """``completed`` or ``failed`` (``Run.Status``)."""
    error: str

    @property
    def failed(self) -> bool:
        return self.status == Run.Status.FAILED


_RUN_FIELDS = ("pk", "started_at", "finished_at", "status", "error")


def _summary(
    pk: int, started: datetime, finished: datetime | None, status: str, error: str
) -> RunSummary:
    return RunSummary(pk, started, finished, status, error.splitlines()[0] if error else "")


def _completed(run: int) -> RunSummary:
    row = Run.objects.filter(pk=run, status=Run.Status.COMPLETED).values_list(*_RUN_FIELDS).first()
    if row is None:
        raise InputError(f"run {run}", "no such completed run")
    return _summary(*row)


def _chunks(runs: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(runs), _RUNS_PER_QUERY):
        yield runs[start : start + _RUNS_PER_QUERY]


def runs_in_period(
    programme: Programme, start: date | None = None, end: date | None = None
) -> tuple[RunSummary, ...]:
    """Completed and failed runs that started (UTC date, both ends inclusive) within the audit
    period, oldest first. ``start`` and ``end`` narrow the period and never widen it, so a view
    limited to the period stays within it. A run still running (or stopped with no outcome) is
    left out: it has no results to show."""
    period = programme.audit.period
    first = max(start or period.start, period.start)
    last = min(end or period.end, period.end)
    rows = (
        Run.objects.filter(
            status__in=(Run.Status.COMPLETED, Run.Status.FAILED),
            started_at__gte=datetime.combine(first, time.min, tzinfo=UTC),
            started_at__lt=datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC),
        )
        .order_by("started_at", "pk")
        .values_list(*_RUN_FIELDS)
    )
    return tuple(_summary(*row) for row in rows)


@dataclass(frozen=True)
class RunStatusCounts:
    run: RunSummary
    counts: Mapping[Status, int] | None
    """Controls by status; None for a failed run, which recorded no results."""


def status_over_runs(runs: Sequence[RunSummary]) -> tuple[RunStatusCounts, ...]:
    """For each run, how many controls passed, failed, were not tested or excepted."""
    counted: dict[int, Counter[Status]] = defaultdict(Counter)
    for chunk in _chunks([run.id for run in runs if not run.failed]):
        rows = (
            ControlResult.objects.filter(run_id__in=chunk)
            .order_by()
            .values_list("run_id", "status")
            .annotate(n=Count("id"))
        )
        for run_id, status, n in rows:
            counted[run_id][Status(status)] = n
    return tuple(
        RunStatusCounts(
            run, None if run.failed else {status: counted[run.id][status] for status in Status}
        )
        for run in runs
    )


@dataclass(frozen=True)
class CategoryReadiness:
    category: Category
    counts: Mapping[Status, int]
    without_result: tuple[str, ...]
    """Controls of the category the run recorded no result for (the category or the control
    was chosen after it ran): not counted under any status."""


def readiness_by_category(programme: Programme, run: int) -> tuple[CategoryReadiness, ...]:
    """Per category the programme chooses, its controls in completed run ``run`` by status, as
    ``assay run`` counted them."""
    _completed(run)
    catalog = load_catalog()
    controls = {control.id: control for control in catalog.controls}
    verdicts = [
        ControlVerdict(controls[control_id], owner, Status(status), reason)
        for control_id, owner, status, reason in ControlResult.objects.filter(
            run_id=run
        ).values_list("control_id", "owner", "status", "reason")
        if control_id in controls  # one the bundled catalog no longer has maps to no category
    ]
    recorded = {verdict.control.id for verdict in verdicts}
    return tuple(
        CategoryReadiness(
            summary.category,
            summary.counts,
            tuple(
                control.id
                for control in relevant_controls(catalog, [summary.category])
                if control.id not in recorded
            ),
        )
        for summary in summarise_categories(catalog, programme.categories, verdicts)
    )


@dataclass(frozen=True)
class FindingCounts:
    run_id: int
    total: int
    by_rule: tuple[tuple[str, int], ...]
    by_system: tuple[tuple[str, int], ...]
    """Both most first, then by name."""


def open_findings_by(run: int) -> FindingCounts:
    """How many findings completed run ``run`` recorded, by rule and by system."""
    _completed(run)
    findings = RecordedFinding.objects.filter(run_id=run).order_by()

    def grouped(column: str) -> tuple[tuple[str, int], ...]:
        rows = findings.values_list(column).annotate(n=Count("id"))
        return tuple(sorted(rows, key=lambda row: (-row[1], row[0])))

    by_rule = grouped("rule")
    return FindingCounts(run, sum(n for _, n in by_rule), by_rule, grouped("system_id"))


@dataclass(frozen=True)
class Collection:
    """How one system's population was read in a run."""

    system_id: str
    complete: bool
    incomplete_reason: str | None


def collections_of(programme: Programme, run: int) -> tuple[Collection, ...]:
    """Each system a run collected, by system id. The current inventory's rows answer for the
    run they came from; any earlier run is answered by its snapshot manifests in the locker."""
    rows = InventorySystem.objects.filter(run_id=run).values_list(
        "system_id", "complete", "incomplete_reason"
    )
    if rows:
        return tuple(Collection(*row) for row in rows)
    from assay.evidence import service

    snapshots = EvidenceItem.objects.filter(run_id=run, kind="snapshot").values_list(
        "sha256", flat=True
    )
    manifests = [
        json.loads(data) for data in service.open_locker(programme).blobs(set(snapshots)).values()
    ]
    return tuple(
        sorted(
            (Collection(m["system"], m["complete"], m["incomplete_reason"]) for m in manifests),
            key=lambda c: c.system_id,
        )
    )


@dataclass(frozen=True)
class NotConfirmed:
    """A finding of the previous run that this run did not report, but could not have: its
    system or item was not judged. Neither resolved nor known to stand."""

    finding: FindingRow
    reason: str


@dataclass(frozen=True)
class Changes:
    run: RunSummary
    previous: RunSummary | None
    """The completed run before ``run``; None when there is none to compare with."""
    new: tuple[FindingRow, ...] | None
    """Findings of ``run`` the previous run did not have; None without a previous run."""
    resolved: tuple[FindingRow, ...] | None
    """Findings of the previous run that ``run`` judged and did not find again."""
    not_confirmed: tuple[NotConfirmed, ...] | None
    incomplete: tuple[Collection, ...]
    """Systems whose collection in ``run`` was incomplete."""
    failed_between: tuple[RunSummary, ...]
    """Runs that failed after the previous completed run (or, without one, before ``run``)."""
    cannot_say: tuple[str, ...]
    """What this comparison cannot tell, in words."""


def _key(finding: FindingRow) -> tuple[str, str, str, str]:
    """A finding's identity across runs."""
    return (finding.check, finding.rule, finding.system, finding.subject)


def _findings(run: int) -> dict[tuple[str, str, str, str], FindingRow]:
    found: dict[tuple[str, str, str, str], FindingRow] = {}
    for finding in findings_of(run):
        found.setdefault(_key(finding), finding)
    return found


def changes_since_previous(programme: Programme, run: int) -> Changes:
    """New and resolved findings of completed run ``run`` against the completed run before it,
    the systems it collected incompletely, and the runs that failed in between."""
    this = _completed(run)
    earlier = Q(started_at__lt=this.started_at) | Q(started_at=this.started_at, pk__lt=this.id)
    before = Run.objects.filter(earlier)
    previous_row = before.filter(status=Run.Status.COMPLETED).values_list(*_RUN_FIELDS).first()
    previous = None if previous_row is None else _summary(*previous_row)
    failed = before.filter(status=Run.Status.FAILED)
    if previous is not None:
        failed = failed.filter(
            Q(started_at__gt=previous.started_at)
            | Q(started_at=previous.started_at, pk__gt=previous.id)
        )
    failed_between = tuple(
        _summary(*row) for row in failed.order_by("started_at", "pk").values_list(*_RUN_FIELDS)
    )
    incomplete = tuple(c for c in collections_of(programme, run) if not c.complete)
    cannot_say = [
        f"{c.system_id} was collected incompletely in run {run} "
        f"({c.incomplete_reason or 'population not read in full'}): findings there may be missing"
        for c in incomplete
    ]
    if previous is None:
        cannot_say.insert(0, f"no completed run before run {run} to compare with")
        return Changes(this, None, None, None, None, incomplete, failed_between, tuple(cannot_say))

    now, then = _findings(run), _findings(previous.id)
    not_judged = {
        (check, system, subject): reason
        for check, system, subject, reason in UnjudgedItem.objects.filter(run_id=run).values_list(
            "check_id", "system_id", "subject", "reason"
        )
    }
    checks_run = set(CheckResult.objects.filter(run_id=run).values_list("check_id", flat=True))
    collected = defaultdict(set)
    for run_id, system in EvidenceItem.objects.filter(
        run_id__in=(run, previous.id), kind="snapshot"
    ).values_list("run_id", "subject"):
        collected[run_id].add(system)
    resolved, unconfirmed = [], []
    for key, finding in then.items():
        if key in now:
            continue
        check, _, system, subject = key
        reason = not_judged.get((check, system, "")) or not_judged.get((check, system, subject))
        if reason is None and check not in checks_run:
            reason = f"check {check} has no result in run {run}"
        if reason is None and system in collected[previous.id] - collected[run]:
            reason = f"{system} was not collected in run {run}"
        if reason is None:
            resolved.append(finding)
        else:
            unconfirmed.append(NotConfirmed(finding, reason))
    return Changes(
        this,
        previous,
        tuple(finding for key, finding in now.items() if key not in then),
        tuple(resolved),
        tuple(unconfirmed),
        incomplete,
        failed_between,
        tuple(cannot_say),
    )


@dataclass(frozen=True)
class EvidenceRef:
    """A piece of evidence a check read: its statement in the log and what it is."""

    statement_id: str
    sha256: str
    kind: str
    subject: str
    size: int
    collected_at: datetime
    leaf_index: int


_EVIDENCE_FIELDS = ("run_id", *(f.name for f in fields(EvidenceRef)))


@dataclass(frozen=True)
class CheckInRun:
    check_id: str
    status: Status | None
    """None: the run recorded no result for this check."""
    summary: str
    evidence: tuple[EvidenceRef, ...]
    unresolved: tuple[str, ...]
    """sha-256 the result names that the run's evidence index does not hold."""


@dataclass(frozen=True)
class ControlInRun:
    run: RunSummary
    status: Status | None
    """None: no result for the control in this run (it failed, or the control was not chosen)."""
    reason: str
    checks: tuple[CheckInRun, ...]


@dataclass(frozen=True)
class ControlTimeline:
    control: Control
    runs: tuple[ControlInRun, ...]


def control_timeline(control_id: str, runs: Sequence[RunSummary]) -> ControlTimeline:
    """Run by run, the control's status and reason, and each check that tests it with its
    status, summary and the evidence it read, resolved to the statements in the log."""
    control = load_catalog().control(control_id)
    ids = [run.id for run in runs]
    controls: dict[int, tuple[str, str]] = {}
    results: dict[tuple[int, str], tuple[str, str, list[str]]] = {}
    evidence: dict[tuple[int, str], EvidenceRef] = {}
    for chunk in _chunks(ids):
        for run_id, status, reason in ControlResult.objects.filter(
            run_id__in=chunk, control_id=control.id
        ).values_list("run_id", "status", "reason"):
            controls[run_id] = (status, reason)
        for run_id, check_id, status, summary, shas in CheckResult.objects.filter(
            run_id__in=chunk, check_id__in=control.checks
        ).values_list("run_id", "check_id", "status", "summary", "evidence"):
            results[(run_id, check_id)] = (status, summary, shas)
        # A check's evidence is the manifests of the snapshots it read.
        items = EvidenceItem.objects.filter(run_id__in=chunk, kind="snapshot")
        for item in items.values(*_EVIDENCE_FIELDS):
            run_id = item.pop("run_id")
            evidence.setdefault((run_id, item["sha256"]), EvidenceRef(**item))
    timeline = []
    for run in runs:
        checks = []
        for check_id in control.checks:
            result = results.get((run.id, check_id))
            if result is None:
                checks.append(CheckInRun(check_id, None, "no result recorded", (), ()))
                continue
            status, summary, shas = result
            checks.append(
                CheckInRun(
                    check_id,
                    Status(status),
                    summary,
                    tuple(evidence[(run.id, s)] for s in shas if (run.id, s) in evidence),
                    tuple(s for s in shas if (run.id, s) not in evidence),
                )
            )
        if run.id in controls:
            status, reason = controls[run.id]
            timeline.append(ControlInRun(run, Status(status), reason, tuple(checks)))
        elif run.failed:
            timeline.append(ControlInRun(run, None, f"run failed: {run.error}", tuple(checks)))
        else:
            timeline.append(
                ControlInRun(run, None, "no result: the control was not chosen then", tuple(checks))
            )
    return ControlTimeline(control, tuple(timeline))


@dataclass(frozen=True)
class ControlRow:
    """A control of the programme as one run left it: who owns it, how often it operates, its
    status (None: the run recorded no result for it, or there is no run yet)."""

    control: Control
    categories: tuple[Category, ...]
    owner: str
    frequency: Frequency
    status: Status | None
    reason: str

    @property
    def automated(self) -> bool:
        return not self.control.manual


def controls_in_run(
    programme: Programme, run: int | None, only: str | None = None
) -> tuple[ControlRow, ...]:
    """Every control the programme's categories call for (or just the one whose id is ``only``,
    if they call for it), with its result in ``run``."""
    catalog = load_catalog()
    recorded: dict[str, tuple[str, str, str]] = {}
    if run is not None:
        results = ControlResult.objects.filter(run_id=run)
        if only is not None:
            results = results.filter(control_id=only)
        rows = results.values_list("control_id", "owner", "status", "reason")
        recorded = {
            control_id: (owner, status, reason) for control_id, owner, status, reason in rows
        }
    criteria = {criterion.id: criterion.category for criterion in catalog.criteria}
    made = []
    for control in relevant_controls(catalog, programme.categories):
        if only is not None and control.id != only:
            continue
        owner = owner_of(programme, control)
        frequency = frequency_of(programme, control)
        categories = tuple(
            dict.fromkeys(criteria[m.target] for m in control.tsc if m.target in criteria)
        )
        if control.id in recorded:
            owner, status, reason = recorded[control.id]
            made.append(ControlRow(control, categories, owner, frequency, Status(status), reason))
        else:
            made.append(ControlRow(control, categories, owner, frequency, None, ""))
    return tuple(made)
