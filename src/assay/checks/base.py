"""What a check is given and what it returns.

A check reads only stored snapshots (never a source), so its verdict can be replayed. When the
evidence it needs is missing, incomplete or holds values it cannot judge, it says "not tested" —
never "passing".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from assay.connectors.base import Collected
from assay.inventory.correlation import Link
from assay.inventory.records import Person
from assay.programme.model import Programme


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


def normalise_name(value: str) -> str:
    """Compare system and app names without case, spaces or punctuation."""
    return re.sub(r"[^a-z0-9]", "", value.lower())


@dataclass(frozen=True)
class Policy:
    """What the programme file tells the checks beyond the accounts themselves."""

    deprovision_within: timedelta = timedelta(hours=24)
    break_glass: frozenset[tuple[str, str]] = frozenset()
    """(system, account) pairs declared as emergency accounts."""
    declared_names: frozenset[str] = frozenset()
    """Normalised names of every declared system (id, name, ``seen_as``) and vendor service."""

    @classmethod
    def of(cls, programme: Programme) -> Policy:
        people = programme.people
        names: Iterable[str] = (
            *(n for s in programme.systems for n in (s.id, s.name, *s.seen_as)),
            *(n for v in programme.vendors for n in (v.name, *v.services)),
        )
        return cls(
            deprovision_within=timedelta(hours=people.deprovision_within_hours)
            if people
            else cls.deprovision_within,
            break_glass=frozenset((b.system, b.account) for b in people.break_glass)
            if people
            else frozenset(),
            declared_names=frozenset(normalise_name(n) for n in names) - {""},
        )


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
    policy: Policy = field(default_factory=Policy)

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
