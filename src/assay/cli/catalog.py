"""``assay catalog``: browse the criteria, NIST CSF 2.0, the default controls and coverage.

Presentation only; lookups, CSF 1.1 resolution and coverage live in ``assay.catalog``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from assay.catalog import (
    Catalog,
    Category,
    Control,
    CsfCategory,
    CsfFunction,
    CsfResolution,
    CsfSubcategory,
    load_catalog,
)
from assay.cli._output import add_row, json_text, show, table, text
from assay.errors import InputError
from assay.programme import load

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Browse the Trust Services Criteria, NIST CSF 2.0, the default controls and coverage.",
    no_args_is_help=True,
)

_PROGRAMME_FILE = Path("assay.yaml")


class _Format(StrEnum):
    TABLE = "table"
    JSON = "json"


FormatOption = Annotated[str, typer.Option("--format", help="Output format: table or json.")]


def _format(value: str) -> _Format:
    try:
        return _Format(value.strip().lower())
    except ValueError:
        raise InputError("--format", f"expected 'table' or 'json', got '{value}'") from None


def _category(value: str) -> Category:
    """Accept ``processing_integrity``, ``processing-integrity`` or ``Processing Integrity``."""
    try:
        return Category(value.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        allowed = ", ".join(category.value for category in Category)
        raise InputError(
            "--category", f"unknown category '{value}'; use one of: {allowed}"
        ) from None


def _echo_json(data: object) -> None:
    typer.echo(json_text(data))


@app.command()
def tsc(
    category: Annotated[
        str | None, typer.Option("--category", help="Only this category, e.g. availability.")
    ] = None,
    output: FormatOption = "table",
) -> None:
    """List the 2017 Trust Services Criteria."""
    fmt = _format(output)
    catalog = load_catalog()
    criteria = catalog.criteria_in([_category(category)]) if category else catalog.criteria
    if fmt is _Format.JSON:
        _echo_json([asdict(criterion) for criterion in criteria])
        return
    listed = table(f"Trust Services Criteria ({len(criteria)})", "id", "category", "title")
    for criterion in criteria:
        add_row(listed, criterion.id, criterion.category.label, criterion.title)
    show(listed)


@app.command()
def csf(
    identifier: Annotated[
        str | None,
        typer.Argument(help="A CSF 2.0 or 1.1 identifier to resolve, e.g. PR.AC-4."),
    ] = None,
    output: FormatOption = "table",
) -> None:
    """List NIST CSF 2.0, or say what a CSF identifier (2.0 or 1.1) is in CSF 2.0."""
    fmt = _format(output)
    catalog = load_catalog()
    if identifier is not None:
        _show_resolution(catalog, catalog.resolve_csf(identifier), fmt)
        return
    if fmt is _Format.JSON:
        _echo_json(
            {
                "functions": [asdict(item) for item in catalog.csf_functions],
                "categories": [asdict(item) for item in catalog.csf_categories],
                "subcategories": [asdict(item) for item in catalog.csf_subcategories],
            }
        )
        return
    listed = table(f"NIST CSF 2.0 ({len(catalog.csf_subcategories)} subcategories)", "id", "title")
    for function in catalog.csf_functions:
        add_row(listed, function.id, function.title.upper(), style="bold")
        for category in catalog.csf_categories:
            if category.function != function.id:
                continue
            add_row(listed, category.id, category.title, style="cyan")
            for subcategory in catalog.csf_subcategories:
                if subcategory.category == category.id:
                    add_row(listed, subcategory.id, subcategory.title)
    show(listed)


def _show_resolution(catalog: Catalog, resolution: CsfResolution, fmt: _Format) -> None:
    items: tuple[CsfFunction | CsfCategory | CsfSubcategory, ...] = (
        *catalog.csf_functions,
        *catalog.csf_categories,
        *catalog.csf_subcategories,
    )
    titles = {item.id: item.title for item in items}
    if fmt is _Format.JSON:
        _echo_json(
            {
                "identifier": resolution.identifier,
                "version": "2.0" if resolution.is_current else "1.1",
                "is_current": resolution.is_current,
                "successors": [
                    {"id": successor, "title": titles[successor]}
                    for successor in resolution.successors
                ],
            }
        )
        return
    if resolution.is_current:
        typer.echo(
            f"{resolution.identifier} is a CSF 2.0 identifier: {titles[resolution.identifier]}"
        )
        return
    successors = resolution.successors
    verb = "it is" if len(successors) == 1 else "it maps to"
    typer.echo(
        f"{resolution.identifier} is a CSF 1.1 identifier; "
        f"in CSF 2.0 {verb} {', '.join(successors)}"
    )
    for successor in successors:
        typer.echo(f"  {successor}  {titles[successor]}")


def _control_json(control: Control) -> dict[str, object]:
    return {**asdict(control), "manual": control.manual}


@app.command()
def controls(
    criterion: Annotated[
        str | None, typer.Option("--criterion", help="Only controls covering this criterion.")
    ] = None,
    output: FormatOption = "table",
) -> None:
    """List the default control set with its owners, tests and mappings."""
    fmt = _format(output)
    catalog = load_catalog()
    chosen = catalog.controls_for_criterion(criterion) if criterion else catalog.controls
    if fmt is _Format.JSON:
        _echo_json([_control_json(control) for control in chosen])
        return
    title = f"Controls ({len(chosen)})"
    if criterion:
        title = f"Controls covering {catalog.criterion(criterion).id} ({len(chosen)})"
    listed = table(title, "id", "title", "owner", "frequency", "tested by", "TSC", "CSF")
    for control in chosen:
        add_row(
            listed,
            control.id,
            control.title,
            control.owner_role,
            control.frequency.value,
            ", ".join(control.checks) or "manual",
            ", ".join(link.target for link in control.tsc),
            ", ".join(link.target for link in control.csf),
        )
    show(listed)


@app.command()
def coverage(
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            help="A category to include (repeatable). Default: the programme's categories.",
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Programme file; default ./assay.yaml if present."),
    ] = None,
    output: FormatOption = "table",
) -> None:
    """Show, for each criterion in scope, the controls covering it, and the gaps."""
    fmt = _format(output)
    catalog = load_catalog()
    categories: tuple[Category, ...] = (Category.SECURITY,)
    excluded: tuple[str, ...] = ()
    if file is not None or _PROGRAMME_FILE.is_file():
        programme = load(file or _PROGRAMME_FILE)
        categories = programme.categories
        # An exclusion past its expiry no longer applies, as in ``assay scope check``.
        today = date.today()
        excluded = tuple(
            control_id
            for control_id, override in programme.controls.items()
            if override.exclude is not None and override.exclude.expires >= today
        )
    if category:
        categories = tuple(dict.fromkeys(_category(value) for value in category))
    rows = catalog.coverage(categories, excluded)
    gaps = sum(row.gap for row in rows)
    if fmt is _Format.JSON:
        _echo_json(
            {
                "categories": [str(value) for value in categories],
                "excluded_controls": list(excluded),
                "criteria": len(rows),
                "gaps": gaps,
                "rows": [
                    {
                        "criterion": row.criterion.id,
                        "category": row.criterion.category.value,
                        "title": row.criterion.title,
                        "controls": list(row.controls),
                        "gap": row.gap,
                    }
                    for row in rows
                ],
            }
        )
        return
    listed = table(
        f"Coverage: {len(rows) - gaps} of {len(rows)} criteria covered, {gaps} gap(s)",
        "criterion",
        "title",
        "controls",
    )
    for row in rows:
        covered_by = text(", ".join(row.controls)) if row.controls else text(("GAP", "bold red"))
        add_row(listed, row.criterion.id, row.criterion.title, covered_by)
    show(listed)
