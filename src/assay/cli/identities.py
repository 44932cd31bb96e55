"""``assay identities``: who can reach what, answered from a run's stored evidence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, astuple, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from assay.cli._output import add_row, json_text, show, table
from assay.cli.findings import Format
from assay.errors import InputError
from assay.inventory.records import AccountStatus
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


def _started(run: int) -> datetime:
    """When ``run`` started: the moment its evidence describes."""
    from assay.monitor.models import Run

    return Run.objects.get(pk=run).started_at


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


@dataclass(frozen=True)
class NonHumanRow:
    """One service account or ownerless credential, as a row of ``assay identities nonhuman``."""

    system: str
    identity: str
    kind: str
    owner: str
    owner_named_by: str
    owner_status: str
    active_credentials: int


@app.command("nonhuman")
def nonhuman_report(
    file: FileOption = Path("assay.yaml"),
    output: FormatOption = Format.TABLE,
    run: RunOption = None,
) -> None:
    """Every active service account and every credential that belongs to no account, with the
    owner who answers for it (declared in assay.yaml, or named by the source) and whether that
    owner still works here."""
    from assay.inventory.nonhuman import OwnerNamedBy, nonhuman_identities

    inventory = of_run(_open(file), run)
    today = _started(inventory.run_id).date()
    credentials = [c for records in inventory.records.values() for c in records.credentials]
    rows = []
    for item in nonhuman_identities(inventory.links, credentials, inventory.people):
        if item.person is not None:
            left = item.owner_left(today)
            status = f"left on {item.person.end_date or 'an unrecorded date'}" if left else "here"
        elif item.named_by == OwnerNamedBy.DECLARED:
            status = "declared owner not on the roster"
        elif item.owner is not None:
            status = "not on the roster"
        else:
            status = "unknown" if item.named_by == OwnerNamedBy.UNKNOWN else "no owner"
        rows.append(
            NonHumanRow(
                item.system_id,
                item.subject,
                item.kind,
                item.owner or "",
                item.named_by.value,
                status,
                item.active_credentials,
            )
        )
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


@dataclass(frozen=True)
class LeaverRow:
    """One account of one leaver, as a row of ``assay identities leavers``."""

    person: str
    last_day: str
    system: str
    account: str
    status: str
    closed: str
    delay_hours: int | None
    within_deadline: str


@app.command("leavers")
def leavers_report(
    file: FileOption = Path("assay.yaml"),
    output: FormatOption = Format.TABLE,
    run: RunOption = None,
) -> None:
    """Each leaver's accounts and how long after their last day each one closed, against the
    programme's deprovisioning deadline."""
    from assay.checks.base import Policy
    from assay.inventory.leavers import hours, leavers

    programme = _open(file)
    inventory = of_run(programme, run)
    as_of = _started(inventory.run_id)
    deadline = Policy.of(programme).deprovision_within
    rows = []
    for leaver in leavers(inventory.people, inventory.links, as_of):
        person, last_day = leaver.person.email, str(leaver.person.end_date or "not recorded")
        if not leaver.accounts:
            rows.append(
                LeaverRow(person, last_day, "", "no account found", "", "", None, "unknown")
            )
        for item in leaver.accounts:
            account = item.link.account
            if account.status is AccountStatus.ACTIVE:
                closed = "still open"
            elif account.deactivated_at is not None:
                closed = f"{account.deactivated_at:%Y-%m-%d %H:%M} UTC"
            else:
                closed = "not recorded"
            rows.append(
                LeaverRow(
                    person,
                    last_day,
                    account.system_id,
                    account.username,
                    account.status.value,
                    closed,
                    None if item.delay is None else hours(item.delay),
                    item.on_time(deadline).value,
                )
            )
    title = (
        f"leavers in run {inventory.run_id}: {len(rows)} account(s), "
        f"deadline {hours(deadline)} h after the last day"
    )
    if output is Format.JSON:
        document = {
            "run": inventory.run_id,
            "deadline_hours": hours(deadline),
            "accounts": [asdict(row) for row in rows],
        }
        typer.echo(json_text(document))
        return
    if output is Format.CSV:
        raise InputError("--format", "leavers are shown as a table or JSON")
    _print_rows(title, LeaverRow, rows)
