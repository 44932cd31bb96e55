"""Scope lint: a programme that loads can still leave gaps an auditor would find.

These are judgements, not schema errors, so they are reported together rather than stopping at
the first one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from assay.catalog import Catalog
from assay.programme.model import Programme


@dataclass(frozen=True)
class ScopeProblem:
    """One gap in the declared scope: ``rule`` is stable, ``subject`` names what it is about."""

    rule: str
    subject: str
    message: str


def lint(programme: Programme, catalog: Catalog, today: date) -> tuple[ScopeProblem, ...]:
    """Every scope problem, in file order: systems, then vendors, then uncovered criteria."""
    return (
        *_systems(programme),
        *_vendors(programme, today),
        *_criteria(programme, catalog, today),
    )


def _systems(programme: Programme) -> list[ScopeProblem]:
    problems: list[ScopeProblem] = []
    for system in programme.systems:
        if system.in_scope and system.owner is None:
            problems.append(
                ScopeProblem(
                    "system_without_owner",
                    system.id,
                    "in scope but has no owner to answer for its controls",
                )
            )
        if system.in_scope and system.connector is None:
            problems.append(
                ScopeProblem(
                    "system_without_connector",
                    system.id,
                    "in scope but has no connector, so no evidence is collected from it",
                )
            )
        if not system.in_scope and system.customer_data:
            problems.append(
                ScopeProblem(
                    "customer_data_out_of_scope",
                    system.id,
                    "holds customer data but is out of scope; an auditor will ask why",
                )
            )
    return problems


def _vendors(programme: Programme, today: date) -> list[ScopeProblem]:
    cutoff = _year_before(today)
    problems: list[ScopeProblem] = []
    for vendor in programme.vendors:
        if not vendor.customer_data:
            continue
        report = vendor.soc2_report_date
        if report is None:
            message = "handles customer data but has no SOC 2 report on file"
        elif report < cutoff:
            message = f"handles customer data but its SOC 2 report ({report}) is over 12 months old"
        else:
            continue
        problems.append(ScopeProblem("vendor_soc2_missing", vendor.name, message))
    return problems


def _criteria(programme: Programme, catalog: Catalog, today: date) -> list[ScopeProblem]:
    excluded = sorted(
        control_id
        for control_id, override in programme.controls.items()
        if override.exclude is not None and override.exclude.expires >= today
    )
    return [
        ScopeProblem(
            "criterion_without_control",
            row.criterion.id,
            f"{row.criterion.category.label} criterion is covered by no control"
            + (" once exclusions are applied" if excluded else ""),
        )
        for row in catalog.coverage(programme.categories, excluded_controls=excluded)
        if not row.controls
    ]


def _year_before(today: date) -> date:
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)
