"""``assay scope``: check the programme file before anything is collected."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from assay.catalog import load_catalog
from assay.cli._output import add_row, show, table
from assay.programme import load
from assay.programme.lint import lint

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode="markdown",
    help="Check the audit scope declared in assay.yaml.",
)


@app.command()
def check(
    file: Annotated[Path, typer.Option("--file", "-f", help="The programme file.")] = Path(
        "assay.yaml"
    ),
) -> None:
    """Validate the programme file and report scope gaps; exit 1 if there are any."""
    problems = lint(load(file), load_catalog(), date.today())
    if not problems:
        typer.echo("scope: no problems")
        return
    listed = table(f"scope: {len(problems)} problem(s) in {file}", "rule", "subject", "problem")
    for problem in problems:
        add_row(listed, problem.rule, problem.subject, problem.message)
    show(listed)
    raise typer.Exit(1)
