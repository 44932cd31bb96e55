"""``assay findings``: the findings of a run, for people (table) and for scripts (JSON, CSV), and
with ``--unjudged`` what the checks could not judge, so that 'not tested' says what to fix."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from assay.cli._output import add_row, csv_text, json_text, show, table
from assay.errors import InputError

COLUMNS = ("check", "rule", "system", "subject", "detail", "evidence_sha256")
UNJUDGED_COLUMNS = ("check", "system", "subject", "reason")
WHOLE_SYSTEM = "(whole system)"
"""How a table or CSV shows a whole system not judged (JSON says null)."""


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
    unjudged: Annotated[
        bool,
        typer.Option(
            "--unjudged",
            help="List what the checks could not judge instead: whole systems (an incomplete "
            "or stale population) and single items, each with the reason.",
        ),
    ] = False,
) -> None:
    """List the findings of the latest completed run (or of --run).

    JSON output always carries both lists, `findings` and `unjudged`."""
    from assay.evidence import service
    from assay.programme import load

    service.open_database(load(file))
    from assay.checks.results import completed_run, findings_of, unjudged_of

    chosen = completed_run(run)
    if chosen is None:
        where = f"run {run}" if run is not None else str(file)
        raise InputError(where, "no completed run; run 'assay run' first")
    found = [asdict(f) for f in findings_of(chosen, check=check, system=system)]
    not_judged = [asdict(u) for u in unjudged_of(chosen, check=check, system=system)]
    if output is Format.JSON:
        typer.echo(json_text({"run": chosen, "findings": found, "unjudged": not_judged}))
        return
    columns: tuple[str, ...]
    records: list[dict[str, str]]
    if unjudged:
        columns = UNJUDGED_COLUMNS
        records = [{k: v or WHOLE_SYSTEM for k, v in u.items()} for u in not_judged]
    else:
        columns, records = COLUMNS, found
    if output is Format.CSV:
        typer.echo(csv_text(columns, records), nl=False)
    else:
        what = "item(s) not judged" if unjudged else "finding(s)"
        shown = columns if unjudged else columns[:-1]
        listed = table(f"run {chosen}: {len(records)} {what}", *shown)
        for record in records:
            add_row(listed, *(record[c] for c in shown))
        show(listed)
