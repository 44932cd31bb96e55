"""``assay identities``: who can reach what, answered from a run's stored evidence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, astuple, fields
from pathlib import Path
from typing import Annotated, Any

import typer

from assay.cli._output import add_row, json_text, show, table
from assay.cli.findings import Format
from assay.errors import InputError
from assay.inventory.replay import Reach, of_run
from assay.programme.model import Programme

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode="markdown",
    help="Who can reach what, from a run's evidence.",
)

FileOption = Annotated[Path, typer.Option("--file", "-f", help="The programme file.")]
FormatOption = Annotated[Format, typer.Option("--format", help="table or json.")]
RunOption = Annotated[int | None, typer.Option("--run", help="A run id; default the latest.")]


def _open(file: Path) -> Programme:
    from assay.evidence import service
    from assay.programme import load

    programme = load(file)
    service.open_database(programme)
    return programme


def _show(rows: list[Reach], title: str, output: Format) -> None:
    if output is Format.JSON:
        typer.echo(json_text([asdict(row) for row in rows]))
        return
    if output is Format.CSV:
        raise InputError("--format", "identities are shown as a table or JSON")
    reach = table(
        title,
        "person",
        "system",
        "account",
        "kind",
        "status",
        "privileged",
        "mfa",
        "how linked",
        "entitlements",
    )
    for row in rows:
        add_row(
            reach,
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
    show(reach)


@app.command()
def person(
    who: Annotated[str, typer.Argument(help="E-mail address or employee id.")],
    file: FileOption = Path("assay.yaml"),
    output: FormatOption = Format.TABLE,
    run: RunOption = None,
) -> None:
    """Everything this person can reach."""
    from assay.inventory.replay import person_reach

    inventory = of_run(_open(file), run)
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

    inventory = of_run(_open(file), run)
    rows = system_reach(inventory, system_id)
    _show(rows, f"{system_id}: {len(rows)} account(s), run {inventory.run_id}", output)


@app.command()
def privileged(
    file: FileOption = Path("assay.yaml"),
    output: FormatOption = Format.TABLE,
    run: RunOption = None,
    include_unknown: Annotated[
        bool,
        typer.Option("--include-unknown", help="Also list accounts whose privilege is unknown."),
    ] = False,
) -> None:
    """Every privileged account on every system, with its MFA and whose it is."""
    from assay.inventory.replay import privileged_reach

    inventory = of_run(_open(file), run)
    rows = [r for r in privileged_reach(inventory) if include_unknown or r.privileged == "yes"]
    count = sum(1 for r in rows if r.privileged == "yes")
    _show(rows, f"{count} privileged account(s), run {inventory.run_id}", output)


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
    after = of_run(programme, new)
    before = of_run(programme, old, back=1)
    changes = diff(before, after)
    if output is Format.JSON:
        typer.echo(
            json_text(
                {"old": before.run_id, "new": after.run_id, "changes": [asdict(c) for c in changes]}
            )
        )
        return
    if output is Format.CSV:
        raise InputError("--format", "identity changes are shown as a table or JSON")
    listed = table(
        f"run {before.run_id} → run {after.run_id}: {len(changes)} change(s)",
        *("change", "system", "subject", "detail"),
    )
    for change in changes:
        add_row(listed, change.kind, change.system, change.subject, change.detail)
    show(listed)


@app.command("nonhuman")
def nonhuman_report(
    file: FileOption = Path("assay.yaml"),
    output: FormatOption = Format.TABLE,
    run: RunOption = None,
) -> None:
    """Every active service account and every credential that belongs to no account, with the
    owner who answers for it (declared in assay.yaml, or named by the source) and whether that
    owner still works here."""
    from assay.inventory.answers import NonHumanRow, nonhuman_rows

    inventory = of_run(_open(file), run)
    rows = nonhuman_rows(inventory)
    if output is Format.JSON:
        typer.echo(json_text([asdict(row) for row in rows]))
        return
    if output is Format.CSV:
        raise InputError("--format", "non-human identities are shown as a table or JSON")
    _print_rows(f"{len(rows)} non-human identities, run {inventory.run_id}", NonHumanRow, rows)


def _print_rows(title: str, columns: type[Any], rows: Sequence[Any]) -> None:
    """A table whose columns are the fields of the dataclass ``columns``, a row per instance."""
    listed = table(title, *(column.name.replace("_", " ") for column in fields(columns)))
    for row in rows:
        add_row(listed, *astuple(row))
    show(listed)


@app.command("leavers")
def leavers_report(
    file: FileOption = Path("assay.yaml"),
    output: FormatOption = Format.TABLE,
    run: RunOption = None,
) -> None:
    """Each leaver's accounts and how long after their last day each one closed, against the
    programme's deprovisioning deadline."""
    from assay.inventory.answers import LeaverRow, leaver_rows

    programme = _open(file)
    report = leaver_rows(programme, of_run(programme, run))
    if output is Format.JSON:
        typer.echo(json_text(asdict(report)))
        return
    if output is Format.CSV:
        raise InputError("--format", "leavers are shown as a table or JSON")
    title = (
        f"leavers in run {report.run}: {len(report.accounts)} account(s), "
        f"deadline {report.deadline_hours} h after the last day"
    )
    _print_rows(title, LeaverRow, report.accounts)
