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
    """Every scope problem, in file order: systems, then controls nobody is named for, then
    uncovered criteria. (Vendors' assurance is judged from the vendor register, by the
    ``vendor_assurance`` check; whether a named owner is still on the roster, by
    ``control_owners``.)"""
    return (
        *_systems(programme),
        *_unowned(programme, catalog),
        *_criteria(programme, catalog, today),
    )


def _unowned(programme: Programme, catalog: Catalog) -> list[ScopeProblem]:
    from assay.checks.controls import named_owner, relevant_controls

    return [
        ScopeProblem(
            "control_without_owner",
            control.id,
            f"in scope but nobody is named for it: give its role '{control.owner_role}' to a "
            "person under owners:, or name one under controls:",
        )
        for control in relevant_controls(catalog, programme.categories)
        if named_owner(programme, control) is None
    ]


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
