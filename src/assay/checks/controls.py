"""From check outcomes to control statuses, and from controls to each Trust Services category."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from assay.catalog import Catalog, Category, Control, Frequency
from assay.checks.base import Outcome, Status
from assay.programme.model import Programme


@dataclass(frozen=True)
class ControlVerdict:
    control: Control
    owner: str
    status: Status
    reason: str


def _exclusion(programme: Programme, control_id: str, today: date) -> str | None:
    override = programme.controls.get(control_id)
    if override is None or override.exclude is None or override.exclude.expires < today:
        return None
    return f"excepted until {override.exclude.expires}: {override.exclude.justification}"


def named_owner(programme: Programme, control: Control) -> str | None:
    """The person who answers for ``control``: named for it in the programme file, else the
    person the file gives its catalog role to; None when nobody is named."""
    override = programme.controls.get(control.id)
    if override is not None and override.owner:
        return override.owner
    return programme.owners.get(control.owner_role)


def owner_of(programme: Programme, control: Control) -> str:
    """The named owner of ``control``, else its catalog role (still to be given to someone)."""
    return named_owner(programme, control) or control.owner_role


def frequency_of(programme: Programme, control: Control) -> Frequency:
    override = programme.controls.get(control.id)
    return (override.frequency if override and override.frequency else None) or control.frequency


def relevant_controls(catalog: Catalog, categories: Iterable[Category]) -> tuple[Control, ...]:
    """Controls that map to at least one criterion of the chosen categories."""
    chosen = {criterion.id for criterion in catalog.criteria_in(categories)}
    return tuple(c for c in catalog.controls if any(m.target in chosen for m in c.tsc))


@dataclass(frozen=True)
class Part:
    """One way a control was judged in a run: a check's outcome as it bears on the control, or
    the owner's evidence over its windows."""

    status: Status
    reason: str


def check_part(control_id: str, check_id: str, outcome: Outcome) -> Part:
    """What a check says about one control: only the findings that bear on it count, and a
    finding an exception covers makes it excepted, not failing."""
    bearing = [f for f in outcome.findings if f.bears_on(control_id)]
    open_findings = [f for f in bearing if not f.excepted_by]
    if open_findings:
        return Part(Status.FAILING, f"{check_id}: {outcome.summary}")
    if outcome.status is Status.NOT_TESTED or outcome.unjudged:
        return Part(Status.NOT_TESTED, f"{check_id}: {outcome.summary}")
    if bearing:
        return Part(Status.EXCEPTED, f"{check_id}: {len(bearing)} finding(s) excepted")
    if outcome.status is Status.FAILING:
        return Part(Status.PASSING, f"{check_id}: no problems bear on {control_id}")
    return Part(outcome.status, f"{check_id}: {outcome.summary}")


def combine(parts: Iterable[Part]) -> Status:
    """Failing beats not tested, which beats excepted, which beats passing."""
    statuses = {part.status for part in parts}
    for status in (Status.FAILING, Status.NOT_TESTED, Status.EXCEPTED):
        if status in statuses:
            return status
    return Status.PASSING if statuses else Status.NOT_TESTED


def evaluate_controls(
    catalog: Catalog,
    programme: Programme,
    outcomes: Mapping[str, Outcome],
    today: date,
    evidenced: Mapping[str, Part] | None = None,
) -> tuple[ControlVerdict, ...]:
    """A control fails if any way it is judged fails, and passes only if every way passes: its
    checks (as they bear on it) and, for a control its owner evidences, its windows
    (``evidenced``, by control id; a control missing from it is not tested)."""
    owner_parts = evidenced or {}
    verdicts = []
    for control in relevant_controls(catalog, programme.categories):
        owner = owner_of(programme, control)
        if (excepted := _exclusion(programme, control.id, today)) is not None:
            verdicts.append(ControlVerdict(control, owner, Status.EXCEPTED, excepted))
            continue
        parts = [check_part(control.id, check, outcomes[check]) for check in control.checks]
        if control.owner_evidenced:
            parts.append(
                owner_parts.get(control.id, Part(Status.NOT_TESTED, "owner evidence not judged"))
            )
        reason = "; ".join(part.reason for part in parts)
        verdicts.append(ControlVerdict(control, owner, combine(parts), reason))
    return tuple(verdicts)


@dataclass(frozen=True)
class CategorySummary:
    category: Category
    counts: Mapping[Status, int]


def summarise_categories(
    catalog: Catalog, categories: Iterable[Category], verdicts: Iterable[ControlVerdict]
) -> tuple[CategorySummary, ...]:
    """Per chosen category: how many mapped controls pass, fail, are untested or excepted."""
    verdicts = list(verdicts)
    summaries = []
    for category in categories:
        ids = {criterion.id for criterion in catalog.criteria_in([category])}
        counts = Counter(v.status for v in verdicts if any(m.target in ids for m in v.control.tsc))
        summaries.append(CategorySummary(category, {status: counts[status] for status in Status}))
    return tuple(summaries)
