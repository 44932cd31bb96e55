"""Owner evidence: for each control its owner evidences, a request per window of the audit period.

The owner answers a window with files and a note; someone who may decide (the programme owner,
never the submitter) accepts it or sends it back with a reason. The files, the submission and the
decision are statements in the locker (``owner-evidence/<control>/<window>``); the database keeps
the index (``Submission``). A window with accepted evidence passes; one past its due date without
evidence submitted in time is overdue; one not yet due never fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction

from assay.catalog import Control, load_catalog
from assay.checks.controls import named_owner
from assay.errors import InputError
from assay.evidence import service
from assay.evidence.canonical import canonical_json
from assay.evidence.statements import NewEvidence
from assay.programme.model import Programme
from assay.registers import service as registers
from assay.registers.models import Submission
from assay.registers.state import SubmissionFact
from assay.registers.windows import (
    current_window,
    evidenced_controls,
    window_named,
    windows_of,
)

STATEMENT_KIND = "owner-evidence"
NOTE_LENGTH = 10_000
FILE_LIMIT = 25 * 1024 * 1024


def submission_facts() -> tuple[SubmissionFact, ...]:
    return tuple(
        SubmissionFact(
            s.control_id,
            s.window,
            s.state,
            s.submitted_by,
            s.submitted_at,
            s.decided_by,
            s.decided_at,
            s.statement_id,
        )
        for s in Submission.objects.order_by("control_id", "window", "submitted_at", "id")
    )


def _control(programme: Programme, control_id: str) -> Control:
    control = load_catalog().control(control_id)
    if control not in evidenced_controls(programme):
        raise InputError(
            control.id,
            f"{control.id} is not evidenced by its owner in this programme "
            "(its checks test it, or its categories are not chosen)",
        )
    return control


def submit(
    programme: Programme,
    control_id: str,
    files: Sequence[tuple[str, bytes]],
    note: str,
    actor: str,
    *,
    window: str | None = None,
    may_decide: bool = False,
    at: datetime | None = None,
) -> Submission:
    """Submit evidence for one window of a control. Only its named owner may, or someone who
    may decide (who then still cannot accept it themselves)."""
    control = _control(programme, control_id)
    all_windows = windows_of(programme, control)
    now = at or datetime.now(UTC)
    chosen = (
        window_named(all_windows, window) if window else current_window(all_windows, now.date())
    )
    owner = named_owner(programme, control)
    if actor != owner and not may_decide:
        raise InputError(
            control.id, f"only its owner ({owner or 'nobody named'}) submits evidence for it"
        )
    note = note.strip()
    if not note:
        raise InputError("--note", "say what the evidence shows")
    if len(note) > NOTE_LENGTH:
        raise InputError("--note", f"longer than {NOTE_LENGTH} characters")
    if not files:
        raise InputError(control.id, "give at least one file")
    for name, data in files:
        if len(data) > FILE_LIMIT:
            raise InputError(name, f"larger than {FILE_LIMIT // (1024 * 1024)} MiB")
    subject = f"{control.id}/{chosen.label}"
    facts = {"control": control.id, "window": chosen.label, "action": "submitted", "by": actor}
    document = {**facts, "at": now.isoformat(), "note": note, "files": registers.cited(files)}
    *kept, made = service.append_now(
        programme,
        [
            *registers.attachments(files, f"{STATEMENT_KIND}/{subject}", now),
            NewEvidence(STATEMENT_KIND, subject, canonical_json(document), now, parameters=facts),
        ],
    )
    return Submission.objects.create(
        control_id=control.id,
        window=chosen.label,
        note=note,
        files=registers.stored(files, kept),
        submitted_by=actor,
        submitted_at=now,
        statement_id=made.id,
    )


def decide(
    programme: Programme,
    submission_id: int,
    accept: bool,
    actor: str,
    *,
    may_decide: bool,
    reason: str = "",
    at: datetime | None = None,
) -> Submission:
    """Accept a pending submission, or send it back with a reason."""
    if not may_decide:
        raise InputError(actor, "only the programme owner (or an admin) accepts owner evidence")
    reason = reason.strip()
    if not accept and not reason:
        raise InputError("--reason", "say why the evidence is sent back")
    now = at or datetime.now(UTC)
    with transaction.atomic():
        found = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if found is None:
            raise InputError(str(submission_id), "no such submission")
        if found.state != Submission.State.PENDING:
            raise InputError(str(submission_id), f"already {found.get_state_display()}")
        if found.submitted_by == actor:
            raise InputError(actor, "nobody accepts or sends back their own submission")
        facts = {
            "control": found.control_id,
            "window": found.window,
            "action": "accepted" if accept else "sent back",
            "by": actor,
            "submission": found.statement_id,
        }
        document = {**facts, "at": now.isoformat(), "reason": reason}
        subject = f"{found.control_id}/{found.window}"
        made = service.append_now(
            programme,
            [NewEvidence(STATEMENT_KIND, subject, canonical_json(document), now, parameters=facts)],
        )[0]
        found.state = Submission.State.ACCEPTED if accept else Submission.State.RETURNED
        found.decided_by = actor
        found.decided_at = now
        found.reason = reason
        found.decision_statement_id = made.id
        found.save()
    return found


def pending_for(programme: Programme, control_id: str, window: str | None) -> Submission:
    """The one submission awaiting review for a control (in ``window``, when given)."""
    control = load_catalog().control(control_id)
    waiting = Submission.objects.filter(control_id=control.id, state=Submission.State.PENDING)
    if window:
        waiting = waiting.filter(window=window.strip())
    found = list(waiting.order_by("submitted_at")[:2])
    if not found:
        raise InputError(
            control.id, "no submission awaits review" + (f" for {window}" if window else "")
        )
    if len(found) > 1:
        raise InputError(control.id, "more than one window awaits review; name one with --period")
    return found[0]


@dataclass(frozen=True)
class PastSubmission:
    """Evidence submitted and decided before Assay kept it (moved from another tool, or the
    sample organisation's history): recorded with the times and people it states."""

    control: str
    window: str
    submitted_by: str
    submitted_at: datetime
    note: str
    files: tuple[tuple[str, bytes], ...]
    decided_by: str
    decided_at: datetime
    accepted: bool = True
    reason: str = ""


def record_history(
    programme: Programme, past: Sequence[PastSubmission], actor: str
) -> list[Submission]:
    """Record past submissions and their decisions as one batch, each statement saying it was
    imported by ``actor`` and when it says it happened. Checked whole before anything is kept."""
    evidenced = {c.id: c for c in evidenced_controls(programme)}
    problems = []
    for number, entry in enumerate(past, start=1):
        control = evidenced.get(entry.control)
        if control is None:
            problems.append(f"entry {number}: {entry.control} is not evidenced by its owner")
        elif entry.window not in {w.label for w in windows_of(programme, control)}:
            problems.append(f"entry {number}: no window '{entry.window}' for {entry.control}")
        elif entry.submitted_by == entry.decided_by:
            problems.append(f"entry {number}: decided by its own submitter")
        elif not entry.accepted and not entry.reason.strip():
            problems.append(f"entry {number}: sent back without a reason")
    if problems:
        raise InputError("owner evidence history", "; ".join(problems))
    items: list[NewEvidence] = []
    for entry in past:
        subject = f"{entry.control}/{entry.window}"
        files = registers.cited(entry.files)
        items += registers.attachments(
            entry.files, f"{STATEMENT_KIND}/{subject}", entry.submitted_at
        )
        submitted = {"control": entry.control, "window": entry.window, "by": entry.submitted_by}
        decided = {"control": entry.control, "window": entry.window, "by": entry.decided_by}
        for facts, at, extra in (
            (
                {**submitted, "action": "submitted"},
                entry.submitted_at,
                {"note": entry.note, "files": files},
            ),
            (
                {**decided, "action": "accepted" if entry.accepted else "sent back"},
                entry.decided_at,
                {"reason": entry.reason},
            ),
        ):
            facts = {**facts, "imported_by": actor}
            document = {**facts, "at": at.isoformat(), **extra}
            items.append(
                NewEvidence(STATEMENT_KIND, subject, canonical_json(document), at, parameters=facts)
            )
    appended = iter(service.append_now(programme, items))
    made = []
    with transaction.atomic():
        for entry in past:
            attached = registers.stored(entry.files, [next(appended) for _ in entry.files])
            submitted_statement, decided_statement = next(appended), next(appended)
            made.append(
                Submission(
                    control_id=entry.control,
                    window=entry.window,
                    note=entry.note,
                    files=attached,
                    submitted_by=entry.submitted_by,
                    submitted_at=entry.submitted_at,
                    statement_id=submitted_statement.id,
                    state=Submission.State.ACCEPTED
                    if entry.accepted
                    else Submission.State.RETURNED,
                    decided_by=entry.decided_by,
                    decided_at=entry.decided_at,
                    reason=entry.reason,
                    decision_statement_id=decided_statement.id,
                )
            )
        Submission.objects.bulk_create(made)
    return made
