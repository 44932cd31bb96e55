"""``assay findings``: the findings of a run, for people (table) and for scripts (JSON, CSV)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from assay.cli._output import add_row, csv_text, json_text, show, table
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
    from assay._internal import db
    from assay.programme import load

    db.setup(load(file).data_dir)
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
        typer.echo(json_text({"run": chosen.pk, "findings": records}))
    elif output is Format.CSV:
        typer.echo(csv_text(COLUMNS, records), nl=False)
    else:
        listed = table(f"run {chosen.pk}: {len(records)} finding(s)", *COLUMNS[:-1])
        for record in records:
            add_row(listed, *(record[c] for c in COLUMNS[:-1]))
        show(listed)
