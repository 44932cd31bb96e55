"""What a check is given and what it returns.

A check reads only stored snapshots (never a source), so its verdict can be replayed. When the
evidence it needs is missing, incomplete or holds values it cannot judge, it says "not tested" —
never "passing".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from enum import StrEnum

from assay.connectors.base import Collected
from assay.inventory.correlation import Link
from assay.inventory.records import Person, Records
from assay.programme.model import Programme
from assay.registers.state import RegisterState


class Status(StrEnum):
    PASSING = "passing"
    FAILING = "failing"
    NOT_TESTED = "not_tested"
    EXCEPTED = "excepted"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


POPULATIONS: frozenset[str] = frozenset(f.name for f in fields(Records)) - {"warnings"}
"""The kinds of record a snapshot can hold: the fields of ``Records`` that hold records."""


@dataclass(frozen=True)
class Snapshot:
    """One stored collection from one system, with the address of its manifest in the locker."""

    system_id: str
    system_kind: str
    sha256: str
    collected: Collected
    expires_at: datetime
    """After this the snapshot is stale: checks that need it are not tested."""
    populations: frozenset[str] = POPULATIONS
    """What its connector reads when it can: an incomplete snapshot with no records still stands
    for these, so a check that needs one of them cannot pass without it."""

    def holds(self, population: str) -> bool:
        return bool(getattr(self.collected.records, population))

    def problem(self, as_of: datetime) -> str | None:
        """Why this snapshot cannot be judged at ``as_of``, or None when it can."""
        if not self.collected.complete:
            reason = self.collected.incomplete_reason or "population not read in full"
            return f"incomplete population ({reason})"
        if self.expires_at < as_of:
            return f"stale evidence (expired {self.expires_at:%Y-%m-%d})"
        return None


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
    programme: Programme | None = None
    """The programme file as the run stored it, for checks on named owners and the registers."""
    registers: RegisterState = field(default_factory=RegisterState)

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
    controls: tuple[str, ...] = ()
    """The controls it bears on, when narrower than every control its check tests (a policy
    finding bears on that policy's controls, an overdue window on its own control)."""
    excepted_by: str = ""
    """The exception in force that covers it (``registers.exceptions``); empty when none."""

    def bears_on(self, control_id: str) -> bool:
        return not self.controls or control_id in self.controls


@dataclass(frozen=True)
class Unjudged:
    """Something a check needed to judge and could not: one item on a system, or (``subject``
    None) a whole system, with the reason. Named, never dropped: it keeps the check from passing."""

    system_id: str
    subject: str | None
    reason: str


@dataclass(frozen=True)
class Outcome:
    status: Status
    summary: str
    findings: tuple[Finding, ...] = ()
    evidence: tuple[str, ...] = ()
    unjudged: tuple[Unjudged, ...] = ()


CheckFunction = Callable[[CheckContext], Outcome]


@dataclass(frozen=True)
class Systems:
    """The systems a check needs, split into those it can judge and those it cannot."""

    judged: Mapping[str, Snapshot]
    """Usable snapshots (complete and fresh), by system id."""
    unjudged: tuple[Unjudged, ...]
    """Each needed system whose snapshot is incomplete or stale, with why."""
    evidence: tuple[str, ...]
    """sha-256 of every snapshot the check read, judged or not."""

    def __contains__(self, system_id: object) -> bool:
        return system_id in self.judged

    def sha(self, system_id: str) -> str:
        return self.judged[system_id].sha256


def systems(
    ctx: CheckContext,
    *populations: str,
    kinds: frozenset[str] | None = None,
    roster: bool = False,
) -> Systems:
    """The systems a check reading ``populations`` needs: each snapshot holding such records,
    and each unusable snapshot whose connector reads them even when it holds none (a source that
    could not be reached leaves an empty, incomplete snapshot). ``kinds`` narrows to those
    system kinds. With ``roster``, every judgement depends on the HR roster too: when it cannot
    be used, no system is judged."""
    judged: dict[str, Snapshot] = {}
    unjudged: list[Unjudged] = []
    evidence: list[str] = []
    for snapshot in ctx.snapshots:
        if kinds is not None and snapshot.system_kind not in kinds:
            continue
        problem = snapshot.problem(ctx.as_of)
        holds = any(snapshot.holds(p) for p in populations)
        if not holds and (problem is None or snapshot.populations.isdisjoint(populations)):
            continue
        evidence.append(snapshot.sha256)
        if problem is None:
            judged[snapshot.system_id] = snapshot
        else:
            unjudged.append(Unjudged(snapshot.system_id, None, problem))
    if roster and ctx.roster is not None:
        evidence.insert(0, ctx.roster.sha256)
        if (problem := ctx.roster.problem(ctx.as_of)) is not None:
            unjudged.insert(0, Unjudged(ctx.roster.system_id, None, f"HR roster: {problem}"))
            judged.clear()
    return Systems(judged, tuple(unjudged), tuple(dict.fromkeys(evidence)))


def verdict(
    findings: list[Finding],
    unjudged: Iterable[Unjudged],
    tested: int,
    evidence: Iterable[str],
    what: str,
) -> Outcome:
    """The usual rule, judged system by system: any finding fails; otherwise anything that could
    not be judged (an item, or a whole system), or nothing to judge at all, is not tested. The
    summary names every system not judged."""
    unjudged = tuple(unjudged)
    items = sum(1 for u in unjudged if u.subject is not None)
    systems_not_judged = [
        f"not tested on {u.system_id}: {u.reason}" for u in unjudged if u.subject is None
    ]
    if findings:
        status = Status.FAILING
        parts = [f"{len(findings)} {what} problem(s) in {tested} item(s) tested"]
        if items:
            parts.append(f"{items} more could not be judged")
        parts += systems_not_judged
    elif items:
        status = Status.NOT_TESTED
        parts = [f"not tested: {items} of {tested + items} {what} item(s) could not be judged"]
        parts += systems_not_judged
    elif systems_not_judged:
        status = Status.NOT_TESTED
        parts = systems_not_judged
        if tested:
            parts.append(f"{tested} {what} item(s) tested on the other systems, no problems")
    elif tested == 0:
        status = Status.NOT_TESTED
        parts = [f"not tested: no {what} evidence collected"]
    else:
        status = Status.PASSING
        parts = [f"{tested} {what} item(s) tested, no problems"]
    return Outcome(
        status, "; ".join(parts), tuple(findings), tuple(dict.fromkeys(evidence)), unjudged
    )


def not_tested(reason: str, evidence: list[str] | None = None) -> Outcome:
    return Outcome(Status.NOT_TESTED, f"not tested: {reason}", (), tuple(evidence or ()))
