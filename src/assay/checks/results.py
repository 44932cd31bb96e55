"""The recorded results of a run, read back: its findings and what its checks could not judge.

The one reader of these rows for ``assay findings`` and the web, so both list the same thing for
the same filters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

from assay.catalog import load_catalog
from assay.checks.models import RecordedFinding, UnjudgedItem
from assay.errors import InputError
from assay.monitor.models import Run


@dataclass(frozen=True)
class FindingRow:
    """A recorded finding; the field names are the columns ``assay findings`` prints."""

    check: str
    rule: str
    system: str
    subject: str
    detail: str
    evidence_sha256: str


@dataclass(frozen=True)
class UnjudgedRow:
    """What a check could not judge: an item, or (``subject`` None) a whole system."""

    check: str
    system: str
    subject: str | None
    reason: str


def latest_completed_run() -> int | None:
    """The id of the newest completed run, or None before any."""
    return Run.objects.filter(status=Run.Status.COMPLETED).values_list("pk", flat=True).first()


def completed_run(run: int | None) -> int | None:
    """``run`` if it completed; without one, the latest completed run. None when there is none."""
    if run is None:
        return latest_completed_run()
    return run if Run.objects.filter(pk=run, status=Run.Status.COMPLETED).exists() else None


def _chosen(run: int | None) -> int:
    chosen = completed_run(run)
    if chosen is None:
        where = f"run {run}" if run is not None else "run"
        raise InputError(where, "no completed run; run 'assay run' first")
    return chosen


def _filters(
    run: int, check: str | None, system: str | None, control: str | None
) -> dict[str, Any]:
    """Row filters; a control stands for the checks that test it (none for a manual control)."""
    filters: dict[str, Any] = {"run_id": run}
    if check:
        filters["check_id"] = check
    if system:
        filters["system_id"] = system
    if control:
        filters["check_id__in"] = load_catalog().control(control).checks
    return filters


class Findings(Sequence[FindingRow]):
    """The findings a filter selects, read from the database only as far as asked: ``len()``
    counts them and a slice reads that page, so a list of thousands is paged in the database."""

    def __init__(self, filters: dict[str, Any]) -> None:
        self._rows = RecordedFinding.objects.filter(**filters).values_list(
            "check_id", "rule", "system_id", "subject", "detail", "evidence_sha256"
        )

    def __len__(self) -> int:
        return self._rows.count()

    @overload
    def __getitem__(self, index: int) -> FindingRow: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[FindingRow, ...]: ...

    def __getitem__(self, index: int | slice) -> FindingRow | tuple[FindingRow, ...]:
        if isinstance(index, slice):
            return tuple(FindingRow(*row) for row in self._rows[index])
        return FindingRow(*self._rows[index])


def findings_selected(
    run: int | None = None,
    *,
    check: str | None = None,
    system: str | None = None,
    rule: str | None = None,
    control: str | None = None,
) -> Findings:
    """The findings of a completed run (default the latest), ordered by check, system, subject.
    Raises ``InputError`` for a run that did not complete or an unknown control."""
    filters = _filters(_chosen(run), check, system, control)
    if rule:
        filters["rule"] = rule
    return Findings(filters)


def findings_of(
    run: int | None = None,
    *,
    check: str | None = None,
    system: str | None = None,
    rule: str | None = None,
    control: str | None = None,
) -> tuple[FindingRow, ...]:
    """Every finding ``findings_selected`` selects."""
    selected = findings_selected(run, check=check, system=system, rule=rule, control=control)
    return selected[:]


def unjudged_of(
    run: int | None = None,
    *,
    check: str | None = None,
    system: str | None = None,
    control: str | None = None,
) -> tuple[UnjudgedRow, ...]:
    """What the checks of a completed run (default the latest) could not judge, with why."""
    rows = UnjudgedItem.objects.filter(**_filters(_chosen(run), check, system, control))
    return tuple(
        UnjudgedRow(check_id, system_id, subject or None, reason)
        for check_id, system_id, subject, reason in rows.values_list(
            "check_id", "system_id", "subject", "reason"
        )
    )
