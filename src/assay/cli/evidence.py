"""``assay verify``, ``assay evidence …`` and ``assay audit export``."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from assay.errors import InputError, VerificationError
from assay.evidence import ledger, merkle
from assay.evidence.verify import ExpectedCheckpoint, Report
from assay.programme import load
from assay.programme.model import Programme

FileOption = Annotated[
    Path, typer.Option("--file", "-f", help="The programme file.", dir_okay=False)
]
TrustOption = Annotated[
    str | None,
    typer.Option("--trust", help="Fingerprint of the first signing key, obtained separately."),
]

CheckpointOption = Annotated[
    list[str] | None,
    typer.Option(
        "--checkpoint",
        metavar="SEQ:SHA256",
        help="A checkpoint recorded at an earlier look (verify prints the latest); it must still "
        "be there, unchanged. Repeatable.",
    ),
]

evidence_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode="markdown", help="Prove, checkpoint and manage evidence."
)
audit_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode="markdown", help="What the auditor receives."
)


def _programme(file: Path, *, check: bool = True) -> Programme:
    """Load the programme file and open its database (refused if it does not know the locker)."""
    from assay.evidence import service

    programme = load(file)
    service.open_database(programme, check=check)
    return programme


def _print_report(report: Report) -> None:
    typer.echo(
        f"verified: {report.statements} statements, {report.checkpoints} checkpoints, "
        f"{report.blobs_verified} blobs ({report.bytes_verified} bytes), "
        f"{report.tombstoned} deleted by retention policy"
    )
    if report.outside_window:
        typer.echo(f"  {report.outside_window} statements fall outside the package's window")
    if report.runs:
        counts = (_runs(outcome, runs) for outcome, runs in report.runs.items())
        typer.echo("runs: " + ", ".join(counts))
    if report.unchecked_tail:
        typer.echo(f"  warning: {report.unchecked_tail} statements after the last checkpoint")
    typer.echo(f"signing key (trust anchor): {report.anchor}")
    if report.latest is not None:
        latest = report.latest
        typer.echo(f"latest checkpoint: {latest.seq}:{latest.sha256} (pin it with --checkpoint)")


def _runs(outcome: str, runs: tuple[str, ...], shown: int = 10) -> str:
    """``2 failed (4, 7)``: how many runs have an outcome, naming them unless they completed."""
    if not runs or outcome == ledger.COMPLETED:
        return f"{len(runs)} {outcome}"
    named = ", ".join(runs[:shown]) + (", …" if len(runs) > shown else "")
    return f"{len(runs)} {outcome} (run {named})"


def _pinned(value: str) -> ExpectedCheckpoint:
    """``SEQ:SHA256`` as ``assay verify`` prints it, a checkpoint the auditor recorded."""
    seq, _, sha256 = value.partition(":")
    if (
        not re.fullmatch(r"[0-9]+", seq)
        or int(seq) < 1
        or not re.fullmatch(r"[0-9a-f]{64}", sha256)
    ):
        raise InputError("--checkpoint", f"expected SEQ:SHA256 (as verify prints), got {value!r}")
    return ExpectedCheckpoint(int(seq), sha256, "--checkpoint")


def verify(
    package: Annotated[
        Path | None, typer.Argument(help="An auditor's package; omit to verify the locker.")
    ] = None,
    file: FileOption = Path("assay.yaml"),
    trust: TrustOption = None,
    checkpoint: CheckpointOption = None,
) -> None:
    """Check every blob, statement and checkpoint; exit 3 on the first failure."""
    pinned = [_pinned(value) for value in checkpoint or ()]
    if package is not None:
        from assay.audit.package import MANIFEST, verify_package

        if not (package / MANIFEST).is_file():
            raise InputError(str(package), f"not an evidence package (no {MANIFEST})")
        _print_report(verify_package(package, trust, pinned))
        return
    programme = _programme(file)
    from assay.evidence import service
    from assay.evidence.models import Checkpoint
    from assay.evidence.verify import verify as verify_locker

    recorded = list(Checkpoint.objects.order_by("seq"))
    anchor = trust or (recorded[0].key_id if recorded else None)
    report = verify_locker(
        service.backend_for(programme),
        anchor=anchor,
        expected=[*(ExpectedCheckpoint(c.seq, c.sha256) for c in recorded), *pinned],
        tsa_ca=service.authority_certificate(programme),
    )
    _print_report(report)


@evidence_app.command()
def prove(
    item: Annotated[str, typer.Argument(help="A statement id, or a blob's sha-256.")],
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Print the inclusion proof of a statement in the latest checkpoint."""
    from assay.evidence import service
    from assay.evidence.proofs import inclusion_proof

    proof = inclusion_proof(service.open_locker(_programme(file)), item)
    typer.echo(json.dumps(asdict(proof), indent=2))


@evidence_app.command()
def consistency(
    old: Annotated[int, typer.Argument(help="The earlier checkpoint's number.")],
    new: Annotated[int, typer.Argument(help="The later checkpoint's number.")],
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Print the proof that checkpoint NEW extends checkpoint OLD without changing it."""
    from assay.evidence import service

    if old > new:
        raise InputError("OLD", f"checkpoint {old} is after checkpoint {new}")
    locker = service.open_locker(_programme(file))
    before, after = locker.checkpoint(old), locker.checkpoint(new)
    leaves = [bytes.fromhex(identifier) for identifier, _ in locker.statements()][: after["size"]]
    proof = merkle.consistency_proof(before["size"], leaves)
    if not merkle.verify_consistency(
        before["size"],
        after["size"],
        bytes.fromhex(before["root"]),
        bytes.fromhex(after["root"]),
        proof,
    ):
        raise VerificationError(f"checkpoints {old} and {new} are not consistent")
    typer.echo(
        json.dumps(
            {
                "old": {"checkpoint": old, "size": before["size"], "root": before["root"]},
                "new": {"checkpoint": new, "size": after["size"], "root": after["root"]},
                "proof": [node.hex() for node in proof],
            },
            indent=2,
        )
    )


@evidence_app.command()
def checkpoint(file: FileOption = Path("assay.yaml")) -> None:
    """Sign a checkpoint now, even with nothing new, so a gap in time shows."""
    from assay.evidence import service

    made = service.checkpoint(_programme(file))
    typer.echo(f"checkpoint {made.seq}: {made.size} statements, root {made.root}")


@evidence_app.command("rotate-key")
def rotate_key(file: FileOption = Path("assay.yaml")) -> None:
    """Make a new signing key, endorsed by the current one; old checkpoints stay verifiable."""
    from assay.evidence import service
    from assay.evidence.signing import generate_key

    programme = _programme(file)
    path = service.key_path(programme)
    old = service.signing_key(programme)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    retired = path.with_name(f"{path.stem}.retired-{stamp}{path.suffix}")
    new_path = path.with_name(f"{path.stem}.new{path.suffix}")
    new = generate_key(new_path)
    service.open_locker(programme).publish_rotation(old, new)
    path.rename(retired)
    new_path.rename(path)
    typer.echo(f"new signing key {new.id}, endorsed by {old.id}; old key kept at {retired}")


@evidence_app.command()
def prune(file: FileOption = Path("assay.yaml")) -> None:
    """Delete packs whose retention period has ended, recording a tombstone for each in the log."""
    from assay.evidence import service
    from assay.evidence.models import Checkpoint
    from assay.evidence.retention import prune as prune_locker

    programme = _programme(file)
    done = prune_locker(
        service.open_locker(programme), service.signing_key(programme), service.retention(programme)
    )
    if done.checkpoint is not None:
        Checkpoint.record(done.checkpoint)
    typer.echo(f"deleted {len(done.deleted)} pack(s) past retention; kept {done.kept}")
    if done.recorded:
        typer.echo(
            f"recorded in the log {len(done.recorded)} deletion(s) an older Assay left only in "
            "tombstones/"
        )


@evidence_app.command()
def reindex(file: FileOption = Path("assay.yaml"), trust: TrustOption = None) -> None:
    """Rebuild an empty database from the locker (runs, evidence index, checkpoints, check
    results and findings), after verifying it; the rebuild is recorded in the locker. Control
    results and the current inventory come back with the next 'assay run'."""
    from assay.evidence import index, service

    programme = _programme(file, check=False)
    done = index.rebuild(
        service.open_locker(programme),
        service.signing_key(programme),
        service.retention(programme),
        organisation=programme.organisation,
        anchor=trust,
        tsa_ca=service.authority_certificate(programme),
    )
    typer.echo(
        f"rebuilt the index from the locker: {done.runs} runs (the next is "
        f"{done.highest_run + 1}), {done.statements} statements, {done.checkpoints} checkpoints; "
        f"recorded in the locker as rebuilt by {done.by}"
    )
    if done.of_no_run:
        typer.echo(
            f"  {done.of_no_run} statements from before Assay recorded runs in the log name no "
            "run and are not indexed"
        )


@audit_app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="A new directory for the package.")],
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Write the auditor's package for a period; it verifies offline with 'assay verify OUT'."""
    from assay.audit.package import export_package
    from assay.evidence import service

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as error:
        raise InputError("--from/--to", f"expected YYYY-MM-DD ({error})") from None
    programme = _programme(file)
    made = export_package(
        service.open_locker(programme), service.signing_key(programme), out, first, last
    )
    typer.echo(
        f"wrote {made.path}: {made.files} files, {made.statements_in_window} statements "
        f"in the window; signing key {made.anchor}"
    )
