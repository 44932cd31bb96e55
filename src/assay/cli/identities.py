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
from assay.programme.model import Programme

app = typer.Typer(no_args_is_help=True, help="Who can reach what, from a run's evidence.")

FileOption = Annotated[Path, typer.Option("--file", "-f", help="The programme file.")]
FormatOption = Annotated[Format, typer.Option("--format", help="table or json.")]
RunOption = Annotated[int | None, typer.Option("--run", help="A run id; default the latest.")]


def _open(file: Path) -> Programme:
    from assay._internal import db
    from assay.programme import load

    programme = load(file)
    db.setup(programme.data_dir)
    return programme


def _completed_runs() -> list[int]:
    """Completed runs, newest first."""
    from assay.monitor.models import Run

    return list(Run.objects.filter(status=Run.Status.COMPLETED).values_list("pk", flat=True))


def _inventory(programme: Programme, run: int | None, *, back: int = 0) -> Inventory:
    """The identity graph of ``run``; without one, of the latest completed run (``back`` runs
    before it)."""
    from assay.evidence import service
    from assay.evidence.models import EvidenceItem
    from assay.inventory.replay import rebuild

    completed = _completed_runs()
    if run is None:
        if len(completed) <= back:
            raise InputError(str(programme.path), f"needs {back + 1} completed run(s)")
        run = completed[back]
    elif run not in completed:
        raise InputError(f"run {run}", "no such completed run")
    snapshots = EvidenceItem.objects.filter(run_id=run, kind="snapshot").values_list(
        "sha256", flat=True
    )
    return rebuild(programme, service.open_locker(programme), run, snapshots)


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

    inventory = _inventory(_open(file), run)
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

    inventory = _inventory(_open(file), run)
    rows = system_reach(inventory, system_id)
    _show(rows, f"{system_id}: {len(rows)} account(s), run {inventory.run_id}", output)


@app.command("diff")
def diff_runs(
    old: Annotated[
        int | None, typer.Argument(help="Earlier run id; default the one before.")
    ] = None,
    new: Annotated[int | None, typer.Argument(help="Later run id; default the latest.")] = None,
    file: FileOption = Path("assay.yaml"),
    output: FormatOption = Format.TABLE,
) -> None:
    """Joiners, leavers, movers, accounts and grants added or removed between two runs."""
    from assay.inventory.diff import diff

    programme = _open(file)
    after = _inventory(programme, new)
    before = _inventory(programme, old, back=1)
    changes = diff(before, after)
    if output is Format.JSON:
        typer.echo(
            json.dumps(
                {
                    "old": before.run_id,
                    "new": after.run_id,
                    "changes": [asdict(c) for c in changes],
                },
                indent=2,
            )
        )
        return
    if output is Format.CSV:
        raise InputError("--format", "identity changes are shown as a table or JSON")
    table = Table(title=f"run {before.run_id} → run {after.run_id}: {len(changes)} change(s)")
    for column in ("change", "system", "subject", "detail"):
        table.add_column(column)
    for change in changes:
        table.add_row(change.kind, change.system, change.subject, change.detail)
    Console().print(table)
