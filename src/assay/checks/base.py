"""What a check is given and what it returns.

A check reads only stored snapshots (never a source), so its verdict can be replayed. When the
evidence it needs is missing, incomplete or holds values it cannot judge, it says "not tested" —
never "passing".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from assay.connectors.base import Collected
from assay.inventory.correlation import Link
from assay.inventory.records import Person


class Status(StrEnum):
    PASSING = "passing"
    FAILING = "failing"
    NOT_TESTED = "not_tested"
    EXCEPTED = "excepted"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class Snapshot:
    """One stored collection from one system, with the address of its manifest in the locker."""

    system_id: str
    system_kind: str
    sha256: str
    collected: Collected
    expires_at: datetime
    """After this the snapshot is stale: checks that need it are not tested."""


@dataclass(frozen=True)
class ScopeNote:
    """A problem with the declared audit boundary, as the scope lint reported it."""

    rule: str
    subject: str
    message: str


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may read."""

    as_of: datetime
    period_start: date
    period_end: date
    snapshots: tuple[Snapshot, ...]
    roster: Snapshot | None
    """The HR snapshot the people come from; None when the programme names no roster."""
    links: tuple[Link, ...]
    """Every account of every non-HR snapshot, correlated to a person or not."""
    scope_notes: tuple[ScopeNote, ...]
    programme_sha256: str

    @property
    def people(self) -> tuple[Person, ...]:
        return self.roster.collected.records.people if self.roster else ()

    def snapshot(self, system_id: str) -> Snapshot:
        return next(s for s in self.snapshots if s.system_id == system_id)


@dataclass(frozen=True)
class Finding:
    """One problem: who or what, on which system, under which rule, from which evidence."""

    rule: str
    system_id: str
    subject: str
    detail: str
    evidence_sha256: str


@dataclass(frozen=True)
class Outcome:
    status: Status
    summary: str
    findings: tuple[Finding, ...] = ()
    evidence: tuple[str, ...] = ()


CheckFunction = Callable[[CheckContext], Outcome]


def verdict(
    findings: list[Finding], unknown: int, tested: int, evidence: list[str], what: str
) -> Outcome:
    """The usual rule: any finding fails; anything unjudgeable or nothing to judge is not tested."""
    if findings:
        status = Status.FAILING
        summary = f"{len(findings)} {what} problem(s) in {tested} item(s) tested"
    elif unknown:
        status = Status.NOT_TESTED
        summary = f"not tested: {unknown} of {tested + unknown} {what} item(s) could not be judged"
    elif tested == 0:
        status = Status.NOT_TESTED
        summary = f"not tested: no {what} evidence collected"
    else:
        status = Status.PASSING
        summary = f"{tested} {what} item(s) tested, no problems"
    if findings and unknown:
        summary += f"; {unknown} more could not be judged"
    return Outcome(status, summary, tuple(findings), tuple(dict.fromkeys(evidence)))


def not_tested(reason: str, evidence: list[str] | None = None) -> Outcome:
    return Outcome(Status.NOT_TESTED, f"not tested: {reason}", (), tuple(evidence or ()))


def unusable(ctx: CheckContext, snapshots: list[Snapshot]) -> Outcome | None:
    """'Not tested' when any snapshot a check needs is incomplete or stale; else None."""
    for snapshot in snapshots:
        if not snapshot.collected.complete:
            reason = snapshot.collected.incomplete_reason or "population not read in full"
            return not_tested(f"incomplete population on {snapshot.system_id} ({reason})")
        if snapshot.expires_at < ctx.as_of:
            return not_tested(
                f"stale evidence from {snapshot.system_id} (expired {snapshot.expires_at:%Y-%m-%d})"
            )
    return None
