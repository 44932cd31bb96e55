"""Statements the locker makes about its own evidence: run outcomes, deletions, index rebuilds.

Each is an ordinary statement in the log — a Merkle leaf, signed by the next checkpoint and held by
any checkpoint an auditor pins — whose facts are in its ``parameters`` (part of the leaf), with the
same facts as its blob. Its ``recorded_at`` is when it happened, so the checkpoints on either side
bound that time.

- ``run/<number>``: ``started`` in the same append as the run's evidence (so every statement of that
  batch belongs to that run), then ``completed`` once the database has committed the run, or
  ``failed`` with a one-line reason. A run whose evidence has no outcome was interrupted between
  the two.
- ``tombstone/<pack sha-256>``: the pack was deleted once its retention ended; the deletion time
  is the statement's ``recorded_at``, which must fall after every ``retain_until`` naming the pack
  and not after the verifier's clock.
- ``index/database``: the database's index was rebuilt from the locker, by whom, up to which run.
- ``action/<actor>``: something a person did through the web app, the API or an admin command
  (signed in, failed to, changed a role, downloaded evidence): who, what, on what, from where.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from assay.evidence.canonical import canonical_json
from assay.evidence.statements import NewEvidence

RUN = "run"
TOMBSTONE = "tombstone"
INDEX = "index"
ACTION = "action"

STARTED = "started"
COMPLETED = "completed"
FAILED = "failed"
NO_OUTCOME = "no outcome recorded"
_STATES = (STARTED, COMPLETED, FAILED)

REASON_LENGTH = 200


def _record(kind: str, subject: str, facts: Mapping[str, Any]) -> NewEvidence:
    document = {"kind": kind, "subject": subject, **facts}
    return NewEvidence(
        kind, subject, canonical_json(document), datetime.now(UTC), parameters=dict(facts)
    )


def run_started(run: int) -> NewEvidence:
    return _record(RUN, str(run), {"state": STARTED})


def run_completed(run: int) -> NewEvidence:
    return _record(RUN, str(run), {"state": COMPLETED})


def run_failed(run: int, reason: str) -> NewEvidence:
    return _record(RUN, str(run), {"state": FAILED, "reason": one_line(reason)})


def tombstone(pack: str, retain_until: datetime, reason: str) -> NewEvidence:
    return _record(
        TOMBSTONE, pack, {"retain_until": retain_until.isoformat(), "reason": one_line(reason)}
    )


def index_rebuilt(by: str, runs: int, highest_run: int, checkpoints: int) -> NewEvidence:
    facts = {"rebuilt_by": by, "runs": runs, "highest_run": highest_run, "checkpoints": checkpoints}
    return _record(INDEX, "database", facts)


def user_action(
    actor: str, action: str, target: str, outcome: str, address: str, at: datetime
) -> NewEvidence:
    facts = {"action": action, "target": target, "outcome": outcome, "address": address}
    document = {"kind": ACTION, "subject": actor, "at": at.isoformat(), **facts}
    return NewEvidence(ACTION, actor, canonical_json(document), at, parameters=facts)


def one_line(text: str) -> str:
    """The first line of ``text``, cut to ``REASON_LENGTH`` characters: a reason, not a dump."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:REASON_LENGTH]


class MalformedRecord(ValueError):
    """A ledger statement whose parameters are not what its kind says."""


@dataclass(frozen=True)
class RunState:
    run: str
    state: str
    reason: str = ""

    @classmethod
    def of(cls, subject: str, parameters: Any) -> RunState:
        if not isinstance(parameters, dict) or parameters.get("state") not in _STATES:
            raise MalformedRecord(f"run {subject}: state is not one of {', '.join(_STATES)}")
        reason = parameters.get("reason", "")
        if not isinstance(reason, str) or not subject.isdigit():
            raise MalformedRecord(f"run {subject!r}: malformed run record")
        return cls(subject, parameters["state"], reason)


@dataclass
class Runs:
    """Each run's outcome as the log tells it, and which runs a statement's batch belongs to."""

    states: dict[str, RunState] = field(default_factory=dict)

    def add(self, state: RunState, where: str) -> None:
        known = self.states.get(state.run)
        if state.state == STARTED and known is not None:
            raise MalformedRecord(
                f"{where}: run {state.run} started a second time (was the database replaced?)"
            )
        if state.state != STARTED and (known is None or known.state != STARTED):
            raise MalformedRecord(f"{where}: outcome of run {state.run}, which did not start")
        self.states[state.run] = state

    def outcome(self, run: str) -> RunState:
        """The run's outcome; a run that only started has none recorded."""
        state = self.states[run]
        return RunState(run, NO_OUTCOME) if state.state == STARTED else state

    def by_outcome(self) -> dict[str, tuple[str, ...]]:
        """Run numbers, in order, under each outcome: completed, failed, no outcome recorded."""
        grouped: dict[str, list[str]] = {COMPLETED: [], FAILED: [], NO_OUTCOME: []}
        for run in sorted(self.states, key=int):
            grouped[self.outcome(run).state].append(run)
        return {state: tuple(runs) for state, runs in grouped.items()}
