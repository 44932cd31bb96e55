"""``assay init`` and ``assay run``."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from assay.checks.base import Status
from assay.cli._output import add_row, inert, show, table, text
from assay.errors import InputError

if TYPE_CHECKING:
    from assay.monitor.run import RunOutcome
    from assay.monitor.schedule import Schedule
    from assay.programme.model import Programme

FileOption = Annotated[
    Path, typer.Option("--file", "-f", help="The programme file.", dir_okay=False)
]
_STYLE = {
    Status.PASSING: "green",
    Status.FAILING: "red",
    Status.NOT_TESTED: "yellow",
    Status.EXCEPTED: "dim",
}


def init(
    sample: Annotated[
        Path | None,
        typer.Option("--sample", help="Write the sample organisation into this new directory."),
    ] = None,
    key: Annotated[
        bool, typer.Option("--key", help="Only create the signing key for an existing file.")
    ] = False,
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Write a commented starter assay.yaml (or the sample organisation) and a signing key."""
    from assay.evidence import service
    from assay.programme import load

    if sample is not None:
        from assay.sample import write_sample

        planted = write_sample(sample)
        file = sample / "assay.yaml"
        typer.echo(f"wrote the sample organisation to {sample} ({len(planted)} planted problems)")
    elif not key:
        from assay.programme.starter import starter_text

        if file.exists():
            raise InputError(str(file), "already exists; not overwritten")
        file.write_text(starter_text(), encoding="utf-8")
        typer.echo(f"wrote {file}; edit it, then check it: assay scope check --file {file}")
    programme = load(file)
    made = service.create_signing_key(programme)
    if made is not None:
        typer.echo(
            f"created signing key {made.id} at {service.key_path(programme)} (keep it private; "
            "give auditors this fingerprint)"
        )
    if sample is not None:
        from assay.sample.registers import load_registers

        service.open_database(programme)
        load_registers(programme)
        typer.echo("loaded its registers and owner-evidence history into the locker")
        typer.echo(f"next: assay run --file {file}")


def run(
    file: FileOption = Path("assay.yaml"),
    every: Annotated[
        str | None,
        typer.Option(
            "--every", help="Keep running: a full run this often (30m, 6h, 1d) until stopped."
        ),
    ] = None,
    checkpoint_every: Annotated[
        str,
        typer.Option(
            "--checkpoint-every", help="With --every: sign a checkpoint at least this often."
        ),
    ] = "1h",
    runs: Annotated[
        int | None, typer.Option("--runs", min=1, help="With --every: stop after this many runs.")
    ] = None,
) -> None:
    """Collect evidence, run the checks and write the report; with --every, on a schedule.

    Every in-scope system is collected; with --every the run repeats on that period, and the
    evidence log is checkpointed in between (--checkpoint-every)."""
    from assay.evidence import service
    from assay.monitor.schedule import Schedule, parse_duration
    from assay.programme import load

    schedule = None
    if every is not None:
        schedule = Schedule(
            parse_duration(every, "--every"),
            parse_duration(checkpoint_every, "--checkpoint-every"),
            runs,
        )
    programme = load(file)
    service.open_database(programme)
    if schedule is None:
        _run_once(programme)
    else:
        _follow(programme, schedule)


def _follow(programme: Programme, schedule: Schedule) -> None:
    """Runs on a schedule until SIGTERM or Ctrl-C; a run with bad input is reported and the
    schedule goes on (the failed run is on record)."""
    from assay.evidence import service
    from assay.monitor.schedule import Jobs, follow

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console = Console()

    def one_run() -> None:
        try:
            _run_once(programme)
        except InputError as error:
            show(text(("run failed:", "red"), f" {error}"), console)

    def one_checkpoint() -> None:
        made = service.checkpoint(programme)
        show(text(f"checkpoint {made.seq}: {made.size} statements"), console)

    try:
        done = follow(schedule, Jobs(one_run, one_checkpoint, stop.is_set, sleep=stop.wait))
    except KeyboardInterrupt:
        done = None
    show(text(f"stopped after {done} run(s)" if done is not None else "stopped"), console)


def _run_once(programme: Programme) -> None:
    """One run, then its summary. The report is written before anything built from source data
    is printed, and a summary that cannot be printed does not undo a committed run."""
    from assay.audit import readiness
    from assay.monitor.run import execute
    from assay.web import audit

    audit.flush(programme)  # people's actions the web app could not append yet go first
    console = Console()
    if console.is_terminal:
        with console.status("running") as status:
            outcome = execute(programme, progress=lambda message: status.update(text(message)))
    else:  # a file or a pipe gets the summary only, written once the run has committed
        outcome = execute(programme)
    report = readiness.write(outcome, programme.data_dir / "reports")
    try:
        _summarise(console, programme, outcome, report)
    except (OSError, UnicodeError) as error:
        typer.echo(
            inert(
                f"assay: run {outcome.run_id} completed and its report is at {report}, "
                f"but its summary could not be printed: {error}"
            ),
            err=True,
        )


def _summarise(console: Console, programme: Programme, outcome: RunOutcome, report: Path) -> None:
    summary_table = table(f"{programme.organisation}: controls by Trust Services category")
    summary_table.add_column("Category")
    for state in Status:
        summary_table.add_column(state.label, justify="right", style=_STYLE[state])
    for summary in outcome.categories:
        add_row(summary_table, summary.category.label, *(summary.counts[s] for s in Status))
    show(summary_table, console)

    findings = outcome.findings
    show(text((f"{len(findings)} finding(s)", "bold")), console)
    for finding in findings[:15]:
        show(
            text(
                "  ",
                (finding.rule, "red"),
                f" {finding.system_id}: {finding.subject} — {finding.detail}",
            ),
            console,
        )
    if len(findings) > 15:
        show(text(f"  … and {len(findings) - 15} more in the report"), console)
    unjudged = [u for result in outcome.outcomes.values() for u in result.unjudged]
    if unjudged:
        systems = sorted({u.system_id for u in unjudged if u.subject is None})
        whole = f", and systems not judged at all: {', '.join(systems)}" if systems else ""
        show(
            text(
                (f"{len(unjudged)} item(s) could not be judged", "yellow"),
                f"{whole} (assay findings --unjudged)",
            ),
            console,
        )
    show(text(f"report: {report}"), console)
