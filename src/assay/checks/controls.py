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


def owner_of(programme: Programme, control: Control) -> str:
    """Who answers for ``control``: the programme file's owner for it, else the catalog's role."""
    override = programme.controls.get(control.id)
    return (override.owner if override and override.owner else None) or control.owner_role


def frequency_of(programme: Programme, control: Control) -> Frequency:
    override = programme.controls.get(control.id)
    return (override.frequency if override and override.frequency else None) or control.frequency


def relevant_controls(catalog: Catalog, categories: Iterable[Category]) -> tuple[Control, ...]:
    """Controls that map to at least one criterion of the chosen categories."""
    chosen = {criterion.id for criterion in catalog.criteria_in(categories)}
    return tuple(c for c in catalog.controls if any(m.target in chosen for m in c.tsc))


def evaluate_controls(
    catalog: Catalog, programme: Programme, outcomes: Mapping[str, Outcome], today: date
) -> tuple[ControlVerdict, ...]:
    """A control fails if any of its checks fails, passes only if all of them pass."""
    verdicts = []
    for control in relevant_controls(catalog, programme.categories):
        owner = owner_of(programme, control)
        if (excepted := _exclusion(programme, control.id, today)) is not None:
            verdicts.append(ControlVerdict(control, owner, Status.EXCEPTED, excepted))
            continue
        if control.manual:
            verdicts.append(
                ControlVerdict(control, owner, Status.NOT_TESTED, "manual attestation required")
            )
            continue
        statuses = [outcomes[check].status for check in control.checks]
        if Status.FAILING in statuses:
            status = Status.FAILING
        elif Status.NOT_TESTED in statuses:
            status = Status.NOT_TESTED
        else:
            status = Status.PASSING
        reason = "; ".join(f"{check}: {outcomes[check].summary}" for check in control.checks)
        verdicts.append(ControlVerdict(control, owner, status, reason))
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
