"""``assay identities``: who can reach what, answered from a run's stored evidence."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from assay.cli.findings import Format
from assay.errors import InputError
from assay.inventory.replay import Inventory, Reach

app = typer.Typer(no_args_is_help=True, help="Who can reach what, from a run's evidence.")

FileOption = Annotated[Path, typer.Option("--file", "-f", help="The programme file.")]
FormatOption = Annotated[Format, typer.Option("--format", help="table or json.")]
RunOption = Annotated[int | None, typer.Option("--run", help="A run id; default the latest.")]


def _inventory(file: Path, run: int | None) -> Inventory:
    from assay._internal import db
    from assay.programme import load

    programme = load(file)
    db.setup(programme.data_dir)
    from assay.evidence import service
    from assay.evidence.models import EvidenceItem
    from assay.inventory.replay import rebuild
    from assay.monitor.models import Run

    completed = Run.objects.filter(status=Run.Status.COMPLETED)
    chosen = completed.filter(pk=run).first() if run is not None else completed.first()
    if chosen is None:
        raise InputError(f"run {run}" if run else str(file), "no completed run; run 'assay run'")
    snapshots = EvidenceItem.objects.filter(run=chosen, kind="snapshot").values_list(
        "sha256", flat=True
    )
    return rebuild(programme, service.open_locker(programme), chosen.pk, snapshots)


def _show(rows: list[Reach], title: str, output: Format) -> None:
    if output is Format.JSON:
        typer.echo(json.dumps([asdict(row) for row in rows], indent=2))
        return
    if output is Format.CSV:
        raise InputError("--format", "identities are shown as a table or JSON")
    table = Table(title=title)
    for column in (
        "person",
        "system",
        "account",
        "kind",
        "status",
        "privileged",
        "mfa",
        "how linked",
        "entitlements",
    ):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.person,
            row.system,
            row.account,
            row.kind,
            row.status,
            row.privileged,
            row.mfa,
            row.how_linked,
            ", ".join(row.entitlements),
        )
    Console().print(table)


@app.command()
def person(
    who: Annotated[str, typer.Argument(help="E-mail address or employee id.")],
    file: FileOption = Path("assay.yaml"),
    output: FormatOption = Format.TABLE,
    run: RunOption = None,
) -> None:
    """Everything this person can reach."""
    from assay.inventory.replay import person_reach

    inventory = _inventory(file, run)
    rows = person_reach(inventory, who)
    _show(rows, f"{who}: {len(rows)} account(s), run {inventory.run_id}", output)


@app.command()
def system(
    system_id: Annotated[str, typer.Argument(help="A system id from assay.yaml.")],
    file: FileOption = Path("assay.yaml"),
    output: FormatOption = Format.TABLE,
    run: RunOption = None,
) -> None:
    """Everyone who can reach this system."""
    from assay.inventory.replay import system_reach

    inventory = _inventory(file, run)
    rows = system_reach(inventory, system_id)
    _show(rows, f"{system_id}: {len(rows)} account(s), run {inventory.run_id}", output)
