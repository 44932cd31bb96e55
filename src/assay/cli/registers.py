"""``assay controls``, ``assay register …`` and owner evidence (``assay evidence submit`` …).

Every change names who makes it (``--as``, or ``ASSAY_AS``): the command line is trusted to say so,
as anyone who can run it can already write the database and the locker; the record of who it was
goes into the locker with the change.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from assay.cli._output import add_row, csv_text, json_text, say, show, table
from assay.errors import InputError
from assay.programme.model import Programme

FileOption = Annotated[Path, typer.Option("--file", "-f", help="The programme file.")]
AsOption = Annotated[
    str,
    typer.Option(
        "--as", envvar="ASSAY_AS", help="Your email: who makes this change (or ASSAY_AS)."
    ),
]

KindArgument = Annotated[str, typer.Argument(help="The register (assay register columns).")]
KeyArgument = Annotated[str, typer.Argument(help="The record's id (a vendor's name).")]

register_app = typer.Typer(
    help="The registers: risks, vendors, incidents, policies, acknowledgements, exceptions.",
    no_args_is_help=True,
)


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _programme(file: Path) -> Programme:
    from assay.evidence import service
    from assay.programme import load

    programme = load(file)
    service.open_database(programme)
    return programme


def _email(value: str) -> str:
    email = value.strip().lower()
    if "@" not in email or any(c.isspace() for c in email):
        raise InputError("--as", f"'{value}' is not an email address")
    return email


# --- controls ------------------------------------------------------------------------------


def controls(
    file: FileOption = Path("assay.yaml"),
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only this status now (e.g. failing).")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every control of the catalog, in scope or not.")
    ] = False,
    output: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.TABLE,
) -> None:
    """Every control in scope: its named owner, frequency, how it is evidenced, its status now
    and over the audit period's runs."""
    programme = _programme(file)
    from assay.catalog import load_catalog
    from assay.checks.controls import frequency_of, named_owner, relevant_controls
    from assay.checks.models import ControlResult
    from assay.checks.results import latest_completed_run
    from assay.monitor.history import runs_in_period

    catalog = load_catalog()
    in_scope = {c.id for c in relevant_controls(catalog, programme.categories)}
    latest = latest_completed_run()
    period_runs = [r.id for r in runs_in_period(programme) if not r.failed]
    over: dict[str, Counter[str]] = {}
    for control_id, recorded in ControlResult.objects.filter(run_id__in=period_runs).values_list(
        "control_id", "status"
    ):
        over.setdefault(control_id, Counter())[recorded] += 1
    now = dict(
        ControlResult.objects.filter(run_id=latest).values_list("control_id", "status")
        if latest is not None
        else ()
    )
    rows: list[dict[str, Any]] = []
    for control in catalog.controls:
        if not every and control.id not in in_scope:
            continue
        named = named_owner(programme, control)
        current = now.get(control.id) if control.id in in_scope else "out of scope"
        if owner is not None and (named or "") != owner.strip().lower():
            continue
        if status is not None and (current or "no run yet") != status.strip().lower():
            continue
        counts = over.get(control.id, Counter())
        rows.append(
            {
                "id": control.id,
                "title": control.title,
                "owner": named,
                "owner_role": control.owner_role,
                "frequency": frequency_of(programme, control).value,
                "evidenced_by": [m.value for m in control.methods],
                "checks": list(control.checks),
                "in_scope": control.id in in_scope,
                "status": current,
                "period": {s: counts[s] for s in sorted(counts)},
            }
        )
    if output is Format.JSON:
        typer.echo(json_text({"run": latest, "controls": rows}))
        return
    flat = [
        {
            **row,
            "owner": row["owner"] or f"nobody ({row['owner_role']})",
            "evidenced_by": ", ".join(row["evidenced_by"]),
            "status": row["status"] or "no run yet",
            "period": ", ".join(f"{n} {s}" for s, n in row["period"].items()) or "no runs",
        }
        for row in rows
    ]
    columns = ("id", "title", "owner", "frequency", "evidenced_by", "status", "period")
    if output is Format.CSV:
        typer.echo(csv_text(columns, flat), nl=False)
        return
    listed = table(f"{len(flat)} control(s)", *columns)
    for row in flat:
        add_row(listed, *(row[c] for c in columns))
    show(listed)


# --- registers -----------------------------------------------------------------------------


def _sets(kind: Any, values: list[str]) -> dict[str, Any]:
    """``--set field=value`` pairs, each value read as an import reads its cell (a list field
    splits on ';', an empty value clears the field)."""
    from assay.registers.files import cell

    changes: dict[str, Any] = {}
    for pair in values:
        field, equals, value = pair.partition("=")
        field = field.strip()
        if not equals or not field:
            raise InputError("--set", f"'{pair}' is not field=value")
        changes[field] = cell(kind, field, value) if field in kind.columns else value
    return changes


SetOption = Annotated[
    list[str],
    typer.Option("--set", help="field=value (repeat; lists separated by ';')."),
]


@register_app.command("list")
def list_records(
    kind: KindArgument,
    file: FileOption = Path("assay.yaml"),
    output: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.TABLE,
) -> None:
    """Every record of a register."""
    _programme(file)
    from assay.registers import files, kinds, service

    chosen = kinds.kind_named(kind)
    records = service.records_of(chosen)
    if output is Format.JSON:
        typer.echo(json_text([r.model_dump(mode="json") for r in records]))
        return
    rows = files.rows_of(chosen, records)
    if output is Format.CSV:
        typer.echo(csv_text(chosen.columns, rows), nl=False)
        return
    shown = chosen.columns[:6]
    listed = table(f"{chosen.label}: {len(rows)}", *shown)
    for row in rows:
        add_row(listed, *(str(row[c])[:80] for c in shown))
    show(listed)


@register_app.command("show")
def show_record(
    kind: KindArgument,
    key: KeyArgument,
    file: FileOption = Path("assay.yaml"),
) -> None:
    """One record with its history (each change and the statement recording it); a vendor with
    what it can reach and its offboarding checklist."""
    programme = _programme(file)
    from assay.registers import kinds, service

    chosen = kinds.kind_named(kind)
    record = service.current_record(chosen, key)
    listed = table(f"{chosen.label}: {record.key} (version {record.version})", "field", "value")
    for column in chosen.columns:
        add_row(listed, column, record.document.get(column))
    show(listed)
    if chosen.name == "vendors":
        _show_vendor(programme, record.document)
    changes = table("history", "version", "action", "author", "at", "statement")
    for change in service.history(chosen, record.key):
        add_row(
            changes, change.version, change.action, change.author, change.at, change.statement_id
        )
    show(changes)


def _show_vendor(programme: Programme, document: dict[str, Any]) -> None:
    from assay.registers.kinds import VendorReview, VendorStatus
    from assay.registers.reach import offboarding_steps, reach_of

    review = VendorReview.model_validate(document)
    reach = reach_of(programme, review.vendor)
    held = table(f"what {review.vendor} can reach", "system", "account or credential", "what")
    for item in (*reach.admin_accounts, *reach.credentials):
        add_row(held, item.system_id, item.name, item.what)
    if not reach.collected:
        add_row(held, "-", "it provides no collected system", "")
    show(held)
    if review.status is VendorStatus.ACTIVE:
        return
    steps = table("offboarding", "step", "done", "how")
    for step in offboarding_steps(review):
        add_row(steps, step.name, "yes" if step.done else "no", step.how)
    show(steps)


@register_app.command()
def add(
    kind: KindArgument,
    actor: AsOption,
    values: SetOption,
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Add a record from --set field=value pairs."""
    programme = _programme(file)
    from assay.registers import kinds, service

    chosen = kinds.kind_named(kind)
    made = service.add(programme, chosen, _sets(chosen, values), _email(actor), "--set")
    say(f"added {chosen.name} {made.key} (statement {made.statement_id[:16]})")


@register_app.command()
def edit(
    kind: KindArgument,
    key: KeyArgument,
    actor: AsOption,
    values: SetOption,
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Change fields of a record (--set field=value; an empty value clears it)."""
    programme = _programme(file)
    from assay.registers import kinds, service

    chosen = kinds.kind_named(kind)
    changes = _sets(chosen, values)
    made = service.edit(programme, chosen, key, changes, _email(actor), where="--set")
    say(f"{chosen.name} {made.key} is now version {made.version}")


@register_app.command()
def approve(
    kind: Annotated[str, typer.Argument(help="policies or exceptions.")],
    key: KeyArgument,
    actor: AsOption,
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Approve a policy or an exception as it stands, today, in your name."""
    programme = _programme(file)
    from assay.registers import kinds, service

    chosen = kinds.kind_named(kind)
    made = service.approve(programme, chosen, key, _email(actor))
    say(f"{chosen.name} {made.key} approved by {made.changed_by} (version {made.version})")


@register_app.command()
def attach(
    kind: Annotated[str, typer.Argument(help="The register (incidents: the postmortem).")],
    key: KeyArgument,
    path: Annotated[Path, typer.Argument(help="The file.")],
    actor: AsOption,
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Keep a file for a record in the evidence locker (an incident's postmortem)."""
    programme = _programme(file)
    from assay.registers import kinds, service

    if not path.is_file():
        raise InputError(str(path), "no such file")
    chosen = kinds.kind_named(kind)
    made = service.attach_file(programme, chosen, key, path.name, path.read_bytes(), _email(actor))
    say(f"{chosen.name} {made.key}: {path.name} kept in the locker (version {made.version})")


@register_app.command("import")
def import_records(
    kind: KindArgument,
    path: Annotated[Path, typer.Argument(help="A .csv or .xlsx file with a header row.")],
    actor: AsOption,
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Import a CSV or XLSX file: checked whole; any problem rejects it and nothing is written."""
    programme = _programme(file)
    from assay.registers import files, kinds

    chosen = kinds.kind_named(kind)
    changed, unchanged = files.import_file(programme, chosen, path, _email(actor))
    say(f"imported {changed} {chosen.name} record(s) from {path.name}; {unchanged} unchanged")


@register_app.command("export")
def export_records(
    kind: KindArgument,
    out: Annotated[Path, typer.Argument(help="A .csv or .xlsx file to write, or - for CSV.")],
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Export a register as CSV or XLSX (the columns import reads)."""
    _programme(file)
    from assay.registers import files, kinds, service

    chosen = kinds.kind_named(kind)
    records = service.records_of(chosen)
    if str(out) == "-":
        typer.echo(csv_text(chosen.columns, files.rows_of(chosen, records)), nl=False)
        return
    if out.exists():
        raise InputError(str(out), "already exists; not overwritten")
    if out.suffix.lower() == ".xlsx":
        files.export_xlsx(chosen, records, out)
    elif out.suffix.lower() == ".csv":
        out.write_text(files.export_csv(chosen, records), encoding="utf-8")
    else:
        raise InputError(str(out), "export writes .csv or .xlsx")
    say(f"wrote {len(records)} {chosen.name} record(s) to {out}")


@register_app.command()
def columns() -> None:
    """The columns of each register's files (* required)."""
    from assay.registers.kinds import columns_help

    typer.echo(columns_help())


# --- owner evidence ------------------------------------------------------------------------

PeriodOption = Annotated[
    str | None,
    typer.Option("--period", help="The window, e.g. 2026-Q3 (default: the one due now)."),
]


def submit(
    control: Annotated[str, typer.Argument(help="The control, e.g. GV-02.")],
    paths: Annotated[list[Path], typer.Argument(help="The evidence files.")],
    note: Annotated[str, typer.Option("--note", help="What the evidence shows.")],
    actor: AsOption,
    period: PeriodOption = None,
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Submit evidence for a control's window, as its named owner."""
    programme = _programme(file)
    from assay.registers import owner_evidence
    from assay.web.accounts import may_decide

    given = []
    for path in paths:
        if not path.is_file():
            raise InputError(str(path), "no such file")
        given.append((path.name, path.read_bytes()))
    email = _email(actor)
    made = owner_evidence.submit(
        programme,
        control,
        given,
        note,
        email,
        window=period,
        may_decide=may_decide(programme, email),
    )
    say(
        f"submitted {len(given)} file(s) for {made.control_id} {made.window}; "
        f"awaiting review (submission {made.pk})"
    )


def _decide(
    programme: Programme, control: str, period: str | None, actor: str, accept: bool, reason: str
) -> None:
    from assay.registers import owner_evidence
    from assay.web.accounts import may_decide

    email = _email(actor)
    waiting = owner_evidence.pending_for(programme, control, period)
    made = owner_evidence.decide(
        programme,
        waiting.pk,
        accept,
        email,
        may_decide=may_decide(programme, email),
        reason=reason,
    )
    say(f"{made.control_id} {made.window}: {made.get_state_display()}")


def accept(
    control: Annotated[str, typer.Argument(help="The control.")],
    actor: AsOption,
    period: PeriodOption = None,
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Accept the evidence awaiting review for a control (as the programme owner)."""
    _decide(_programme(file), control, period, actor, True, "")


def send_back(
    control: Annotated[str, typer.Argument(help="The control.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is sent back.")],
    actor: AsOption,
    period: PeriodOption = None,
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Send the evidence awaiting review back to its owner, with a reason."""
    _decide(_programme(file), control, period, actor, False, reason)


def requests(
    file: FileOption = Path("assay.yaml"),
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's.")] = None,
    state: Annotated[
        str | None, typer.Option("--state", help="Only this state (e.g. overdue).")
    ] = None,
    output: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.TABLE,
) -> None:
    """Every evidence window of the owner-evidenced controls, with its state today."""
    from datetime import UTC, datetime

    programme = _programme(file)
    from assay.registers.owner_evidence import submission_facts
    from assay.registers.windows import statuses

    today = datetime.now(UTC).date()
    rows = [
        {
            "control": w.control,
            "window": w.window.label,
            "owner": w.owner or "",
            "due": w.window.due.isoformat(),
            "state": w.state.value,
        }
        for w in statuses(programme, submission_facts(), today)
        if (owner is None or (w.owner or "") == owner.strip().lower())
        and (state is None or w.state.value == state.strip().lower())
    ]
    columns = ("control", "window", "owner", "due", "state")
    if output is Format.JSON:
        typer.echo(json_text(rows))
    elif output is Format.CSV:
        typer.echo(csv_text(columns, rows), nl=False)
    else:
        listed = table(f"{len(rows)} evidence window(s)", *columns)
        for row in rows:
            add_row(listed, *(row[c] for c in columns))
        show(listed)
