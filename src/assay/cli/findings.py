"""``assay findings``: the findings of a run, for people (table) and for scripts (JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from assay.errors import InputError

COLUMNS = ("check", "rule", "system", "subject", "detail", "evidence_sha256")


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def findings(
    file: Annotated[Path, typer.Option("--file", "-f", help="The programme file.")] = Path(
        "assay.yaml"
    ),
    output: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.TABLE,
    run: Annotated[int | None, typer.Option("--run", help="A run id; default the latest.")] = None,
    check: Annotated[str | None, typer.Option("--check", help="Only this check.")] = None,
    system: Annotated[str | None, typer.Option("--system", help="Only this system.")] = None,
) -> None:
    """List the findings of the latest completed run (or of --run)."""
    from assay.evidence import service
    from assay.programme import load

    service.open_database(load(file))
    from assay.checks.models import RecordedFinding
    from assay.monitor.models import Run

    completed = Run.objects.filter(status=Run.Status.COMPLETED)
    chosen = completed.filter(pk=run).first() if run is not None else completed.first()
    if chosen is None:
        where = f"run {run}" if run is not None else str(file)
        raise InputError(where, "no completed run; run 'assay run' first")
    rows = RecordedFinding.objects.filter(run=chosen)
    if check:
        rows = rows.filter(check_id=check)
    if system:
        rows = rows.filter(system_id=system)
    records = [
        dict(
            zip(
                COLUMNS,
                (f.check_id, f.rule, f.system_id, f.subject, f.detail, f.evidence_sha256),
                strict=True,
            )
        )
        for f in rows
    ]
    if output is Format.JSON:
        typer.echo(json.dumps({"run": chosen.pk, "findings": records}, indent=2))
    elif output is Format.CSV:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        typer.echo(out.getvalue(), nl=False)
    else:
        table = Table(title=f"run {chosen.pk}: {len(records)} finding(s)")
        for column in COLUMNS[:-1]:
            table.add_column(column)
        for record in records:
            table.add_row(*(record[c] for c in COLUMNS[:-1]))
        Console().print(table)
