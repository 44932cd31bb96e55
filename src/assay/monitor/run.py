"""``assay run``: collect, record, correlate, check, report.

Collection and judgement happen first and entirely in memory, so malformed input stops the run
before anything is written. The run's number is committed first, so no two runs share one. Then, in
one database transaction, the evidence is appended to the locker as one batch (opened by a
``run/<number> started`` statement) and the rows follow. A run either completes with all its
evidence and results, or is recorded as failed with none of them; either way, once its evidence is
in the locker, its outcome is appended too (``completed`` after the commit, or ``failed`` with a
one-line reason) and a signed checkpoint covers both. A run stopped between the two leaves evidence
with no outcome, which ``assay verify`` reports as such.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import orjson
from django.db import transaction

from assay._internal.rows import insert_rows
from assay.catalog import load_catalog
from assay.checks.base import CheckContext, Finding, Outcome, Policy, ScopeNote, Snapshot
from assay.checks.controls import (
    CategorySummary,
    ControlVerdict,
    evaluate_controls,
    summarise_categories,
)
from assay.checks.models import CheckResult, ControlResult, RecordedFinding, UnjudgedItem
from assay.checks.registers import except_findings, owner_evidence_parts
from assay.checks.registry import CHECKS
from assay.connectors.base import Collected, ConnectorConfig
from assay.connectors.registry import connector_for, populations_of
from assay.evidence import ledger, service
from assay.evidence.canonical import canonical_json
from assay.evidence.locker import Appended, Writer
from assay.evidence.models import Checkpoint, EvidenceItem
from assay.evidence.snapshots import snapshot_evidence
from assay.evidence.statements import TTL, NewEvidence, Retention
from assay.inventory.correlation import correlate_for
from assay.inventory.store import replace_current
from assay.monitor.models import Run
from assay.programme import resolve_secrets
from assay.programme.lint import lint
from assay.programme.model import Programme, System
from assay.registers import service as registers
from assay.registers import state
from assay.registers.owner_evidence import submission_facts
from assay.registers.state import RegisterState


@dataclass(frozen=True)
class RunOutcome:
    """What a completed run produced, for the summary and the report."""

    run_id: int
    programme: Programme
    as_of: datetime
    outcomes: dict[str, Outcome]
    controls: tuple[ControlVerdict, ...]
    categories: tuple[CategorySummary, ...]
    snapshots: tuple[Snapshot, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for outcome in self.outcomes.values() for f in outcome.findings)


Progress = Callable[[str], None]


def _systems_to_collect(programme: Programme) -> list[System]:
    """In-scope systems with a connector, and the roster's system wherever it stands."""
    roster = programme.people.source if programme.people else None
    return [
        system
        for system in programme.systems
        if system.connector is not None and (system.in_scope or system.id == roster)
    ]


def _collect(programme: Programme, system: System) -> Collected:
    spec = system.connector
    assert spec is not None
    config = ConnectorConfig(
        system_id=system.id,
        mode=spec.mode,
        settings=dict(spec.settings),
        secrets=resolve_secrets(spec, system.id),
        base_dir=programme.base_dir,
    )
    return connector_for(spec.type).collect(config)


def execute(
    programme: Programme, *, as_of: datetime | None = None, progress: Progress | None = None
) -> RunOutcome:
    """Run the main job once. Bad input raises ``InputError`` and the run is recorded as failed."""
    say = progress or (lambda _message: None)
    programme_bytes = programme.path.read_bytes()
    programme_sha = hashlib.sha256(programme_bytes).hexdigest()
    started = datetime.now(UTC)
    run = Run.objects.create(
        started_at=started,
        status=Run.Status.RUNNING,
        programme_sha256=programme_sha,
        organisation=programme.organisation,
    )
    try:
        key = service.signing_key(programme)
        collected = []
        for system in _systems_to_collect(programme):
            say(f"collecting {system.id}")
            collected.append(_collect(programme, system))
        locker = service.open_locker(programme)
        judged = _judge(run, programme, programme_bytes, collected, as_of or started)
        say("recording evidence")
        with locker.writer(key, timestamper=service.timestamper(programme)) as writer:
            _record_run(run, judged, writer, service.retention(programme), programme)
    except Exception as error:
        run.status = Run.Status.FAILED
        run.finished_at = datetime.now(UTC)
        run.error = str(error) or type(error).__name__
        run.save()
        raise
    say(f"run {run.pk} completed")
    return judged.outcome


def _record_run(
    run: Run, judged: _Judged, writer: Writer, retention: Retention, programme: Programme
) -> None:
    """Record the run in one transaction; then, if its evidence reached the locker, append its
    outcome and a checkpoint covering both. A failure's reason is one line, secrets masked."""
    batches = writer.head.batches
    try:
        with transaction.atomic():
            _record(run, judged, writer, retention)
            run.status = Run.Status.COMPLETED
            run.finished_at = datetime.now(UTC)
            run.save()
    except Exception as error:
        if writer.head.batches > batches:
            reason = f"{type(error).__name__}: {error}"
            for system in _systems_to_collect(programme):
                assert system.connector is not None
                for secret in resolve_secrets(system.connector, system.id).values():
                    reason = reason.replace(secret, "[secret]")
            # If the locker cannot take the outcome either, the run's evidence is left with
            # none, which verify reports; the run's own error is the one to raise.
            with contextlib.suppress(Exception):
                _close(run, writer, ledger.run_failed(run.pk, reason), retention)
        raise
    _close(run, writer, ledger.run_completed(run.pk), retention)


def _close(run: Run, writer: Writer, outcome: NewEvidence, retention: Retention) -> None:
    """Append a run's outcome and sign a checkpoint over it and the run's evidence."""
    writer.append([outcome], retention)
    Checkpoint.record(writer.checkpoint(), run)


@dataclass(frozen=True)
class _Judged:
    outcome: RunOutcome
    evidence: tuple[NewEvidence, ...]
    context: CheckContext


def _judge(
    run: Run,
    programme: Programme,
    programme_bytes: bytes,
    collected: list[Collected],
    as_of: datetime,
) -> _Judged:
    """Correlate, run every check, evaluate controls; return the results and the evidence."""
    catalog = load_catalog()
    programme_sha = hashlib.sha256(programme_bytes).hexdigest()
    evidence = [
        NewEvidence(
            "programme",
            programme.path.name,
            programme_bytes,
            run.started_at,
            source=str(programme.path),
        )
    ]
    kinds = {system.id: system.kind for system in programme.systems}
    snapshots = []
    for item in collected:
        stored = snapshot_evidence(item)
        evidence.extend(stored.items)
        snapshots.append(
            Snapshot(
                item.system_id,
                kinds[item.system_id],
                stored.manifest_sha256,
                item,
                item.finished_at + TTL["snapshot"],
                populations_of(item.connector),
            )
        )

    registers = _registers(as_of)
    evidence.append(registers[0])

    roster_id = programme.people.source if programme.people else None
    roster = next((s for s in snapshots if s.system_id == roster_id), None)
    others = [s.collected for s in snapshots if s.system_id != roster_id]
    context = CheckContext(
        as_of=as_of,
        period_start=programme.audit.period.start,
        period_end=programme.audit.period.end,
        snapshots=tuple(snapshots),
        roster=roster,
        links=tuple(
            correlate_for(
                programme.people,
                roster.collected.records.people if roster else (),
                (account for collected in others for account in collected.records.accounts),
            )
        ),
        scope_notes=tuple(
            ScopeNote(p.rule, p.subject, p.message) for p in lint(programme, catalog, as_of.date())
        ),
        programme_sha256=programme_sha,
        policy=Policy.of(programme),
        programme=programme,
        registers=registers[1],
    )
    outcomes = except_findings(
        {check_id: check(context) for check_id, check in CHECKS.items()}, context, catalog
    )
    for check_id, result in outcomes.items():
        document = {
            "kind": "check_result",
            "check": check_id,
            "run": run.pk,
            "as_of": as_of.isoformat(),
            **asdict(result),
        }
        evidence.append(NewEvidence("check_result", check_id, canonical_json(document), as_of))
    verdicts = evaluate_controls(
        catalog,
        programme,
        outcomes,
        as_of.date(),
        owner_evidence_parts(context, outcomes["owner_evidence"]),
    )
    outcome = RunOutcome(
        run_id=run.pk,
        programme=programme,
        as_of=as_of,
        outcomes=outcomes,
        controls=verdicts,
        categories=summarise_categories(catalog, programme.categories, verdicts),
        snapshots=tuple(snapshots),
    )
    return _Judged(outcome, tuple(evidence), context)


def _registers(as_of: datetime) -> tuple[NewEvidence, RegisterState]:
    """The registers and owner evidence as they stand, as the run stores them and its checks
    read them."""
    data = canonical_json(state.document(registers.state(), submission_facts(), as_of))
    sha = hashlib.sha256(data).hexdigest()
    stored = NewEvidence(state.STATEMENT_KIND, "registers", data, as_of)
    return stored, state.RegisterState.from_document(orjson.loads(data), sha)


def _record(run: Run, judged: _Judged, writer: Writer, retention: Retention) -> None:
    """Append the evidence, opened by the run's start, and index it all in the database."""
    appended: list[Appended] = writer.append(
        [ledger.run_started(run.pk), *judged.evidence], retention
    )
    insert_rows(
        EvidenceItem,
        (
            {
                "run_id": run.pk,
                "kind": a.statement.kind,
                "subject": a.statement.subject,
                "sha256": a.statement.sha256,
                "size": a.statement.size,
                "statement_id": a.id,
                "leaf_index": a.index,
                "collected_at": a.statement.collected_at,
            }
            for a in appended
        ),
    )
    for check_id, outcome in judged.outcome.outcomes.items():
        CheckResult.objects.create(
            run=run,
            check_id=check_id,
            status=outcome.status,
            summary=outcome.summary,
            evidence=list(outcome.evidence),
        )
        RecordedFinding.objects.bulk_create(
            RecordedFinding(
                run=run,
                check_id=check_id,
                rule=f.rule,
                system_id=f.system_id,
                subject=f.subject,
                detail=f.detail,
                evidence_sha256=f.evidence_sha256,
                controls=list(f.controls),
                excepted_by=f.excepted_by,
            )
            for f in outcome.findings
        )
        UnjudgedItem.objects.bulk_create(
            UnjudgedItem(
                run=run,
                check_id=check_id,
                system_id=u.system_id,
                subject=u.subject or "",
                reason=u.reason,
            )
            for u in outcome.unjudged
        )
    context = judged.context
    replace_current(
        run, [(s.collected, s.sha256) for s in context.snapshots], context.people, context.links
    )
    ControlResult.objects.bulk_create(
        ControlResult(
            run=run, control_id=v.control.id, owner=v.owner, status=v.status, reason=v.reason
        )
        for v in judged.outcome.controls
    )
