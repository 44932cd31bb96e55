"""The database as an index of the locker: checked whenever a command opens both, rebuilt on demand.

A database that does not know the locker beside it — emptied, replaced by a new one, or restored
from a backup older than the locker — would restart run numbers and drop the database's own record
of the checkpoints, which is what lets ``assay verify`` notice the newest ones deleted. So it is
refused: when the locker has checkpoints and the database records none, or when the locker records
a run (``run/<number>``) after the database's latest checkpoint that the database never numbered.
``assay evidence reindex`` rebuilds an empty database from a verified locker — runs, the evidence
index, checkpoints, and each completed run's check results, findings and unjudged items from the
check results it stored — and says so in the locker (``index/database``, by whom), after which run
numbers continue after the highest run the locker records. Control results and the current inventory
come back with the next run. The check reads the locker's checkpoint list, one checkpoint and the
batches after it: a writer stopped between signing a checkpoint and recording it leaves the locker
one checkpoint ahead, which is allowed (its run was numbered by the database before it appended).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from dataclasses import dataclass, replace
from typing import Any

import orjson
from django.db import connection, transaction

from assay._internal import db
from assay.errors import InputError
from assay.evidence import ledger
from assay.evidence.backends import Backend, MissingObject
from assay.evidence.locker import (
    Locker,
    batch_name,
    checkpoint_name,
    numbered,
    pack_name,
    split_statements,
)
from assay.evidence.signing import SigningKey
from assay.evidence.statements import Retention
from assay.evidence.verify import verify

REINDEX = "'assay evidence reindex'"


def check(backend: Backend) -> None:
    """Refuse a database that does not know the locker's checkpoints or runs (exit 2)."""
    from assay.evidence.models import Checkpoint
    from assay.monitor.models import Run

    seqs = numbered(backend, "checkpoints/", ".json")
    if not seqs:
        return
    known = Checkpoint.objects.order_by("-seq").first()
    if known is None:
        raise InputError(
            db.database_name(),
            f"records none of the {len(seqs)} checkpoints in {backend.location}: the database was "
            f"emptied or replaced; rebuild it from the locker with {REINDEX}",
        )
    try:
        data = backend.get(checkpoint_name(known.seq))
        batches = int(json.loads(data)["batches"])
    except (MissingObject, ValueError, KeyError, TypeError):
        return  # a missing or altered checkpoint: 'assay verify' says which (exit 3)
    if hashlib.sha256(data).hexdigest() != known.sha256:
        return
    highest = Run.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for number in reversed(numbered(backend, "log/", ".jsonl")):
        if number <= batches:
            break
        run = _highest_run(backend.get(batch_name(number)))
        if run > highest:
            raise InputError(
                db.database_name(),
                f"never numbered run {run}, which {batch_name(number)} in {backend.location} "
                "records: the database is older than the locker (restored from a backup?); move "
                f"it aside and rebuild it from the locker with {REINDEX}",
            )


def _highest_run(data: bytes) -> int:
    """The highest run number a batch's ``run`` statements name; 0 if none."""
    if b'"kind":"run"' not in data:
        return 0
    highest = 0
    for line in split_statements(data):
        raw = orjson.loads(line)
        subject = raw.get("subject")
        if raw.get("kind") == ledger.RUN and isinstance(subject, str) and subject.isdigit():
            highest = max(highest, int(subject))
    return highest


@dataclass(frozen=True)
class Reindexed:
    runs: int
    highest_run: int
    checkpoints: int
    statements: int
    of_no_run: int
    """Statements written before runs were recorded in the log, which name no run."""
    by: str


def rebuild(
    locker: Locker,
    key: SigningKey,
    retention: Retention,
    *,
    organisation: str,
    anchor: str | None = None,
    tsa_ca: bytes | None = None,
) -> Reindexed:
    """Rebuild an empty database's runs, evidence index and checkpoints from a verified locker,
    and record in the locker that it was done, by whom."""
    from assay.evidence.models import Checkpoint
    from assay.monitor.models import Run

    runs, checkpoints = Run.objects.count(), Checkpoint.objects.count()
    if runs or checkpoints:
        raise InputError(
            db.database_name(),
            f"already indexes {runs} runs and {checkpoints} checkpoints; reindex fills an empty "
            "database only (move this one aside, or point ASSAY_DATABASE_URL at an empty one)",
        )
    verify(locker.backend, anchor=anchor, tsa_ca=tsa_ca)
    by = _who()
    with locker.writer(key) as writer, transaction.atomic():
        done = _index(locker, organisation)
        record = ledger.index_rebuilt(by, done.runs, done.highest_run, done.checkpoints)
        writer.append([record], retention)
        Checkpoint.record(writer.checkpoint())
        _continue_numbering(Run)
    return replace(done, by=by)


def _index(locker: Locker, organisation: str) -> Reindexed:
    from assay._internal.rows import insert_rows
    from assay.evidence.models import Checkpoint, EvidenceItem
    from assay.monitor.models import Run

    states = ledger.Runs()
    started: dict[str, Any] = {}
    finished: dict[str, Any] = {}
    programme: dict[str, str] = {}
    items: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []  # the check results still in the locker (not pruned)
    from assay.registers.rebuild import KINDS as people_kinds

    # Kinds that belong to no run by nature; any other outside a run was written before runs
    # were recorded in the log.
    outside_runs = {ledger.RUN, ledger.TOMBSTONE, ledger.INDEX, ledger.ACTION, *people_kinds}
    kept: list[tuple[int, str, Any]] = []  # what people recorded: registers, owner evidence
    index = of_no_run = 0
    for number, statements in locker.batches():
        owner = None
        for line, (identifier, statement) in enumerate(statements, 1):
            if statement.kind == ledger.RUN:
                state = ledger.RunState.of(statement.subject, statement.parameters)
                states.add(state, f"{batch_name(number)}:{line}")
                if state.state == ledger.STARTED:
                    owner = state.run
                    started[owner] = statement.recorded_at
                else:
                    finished[state.run] = statement.recorded_at
            if statement.kind in people_kinds:
                kept.append((index, identifier, statement))
            if owner is None:
                of_no_run += statement.kind not in outside_runs
            else:
                if statement.kind == "programme":
                    programme[owner] = statement.sha256
                items.append(
                    {
                        "run_id": int(owner),
                        "kind": statement.kind,
                        "subject": statement.subject,
                        "sha256": statement.sha256,
                        "size": statement.size,
                        "statement_id": identifier,
                        "leaf_index": index,
                        "collected_at": statement.collected_at,
                    }
                )
                if statement.kind == "check_result" and locker.backend.exists(
                    pack_name(statement.pack)
                ):
                    results.append(items[-1])
            index += 1
    from assay.registers.rebuild import rebuild as rebuild_registers

    rebuild_registers(locker, kept)
    status = {ledger.COMPLETED: Run.Status.COMPLETED, ledger.FAILED: Run.Status.FAILED}
    Run.objects.bulk_create(
        Run(
            pk=int(run),
            started_at=started[run],
            finished_at=finished.get(run),
            status=status.get(outcome.state, Run.Status.FAILED),
            error=outcome.reason
            or ("" if outcome.state == ledger.COMPLETED else "no outcome recorded in the locker"),
            programme_sha256=programme.get(run, ""),
            organisation=organisation,
        )
        for run in states.states
        for outcome in [states.outcome(run)]
    )
    insert_rows(EvidenceItem, items)
    completed = {run for run in states.states if states.outcome(run).state == ledger.COMPLETED}
    _results(locker, [i for i in results if str(i["run_id"]) in completed])
    seqs = numbered(locker.backend, "checkpoints/", ".json")
    for seq in seqs:
        data = locker.backend.get(checkpoint_name(seq))
        body = json.loads(data)
        Checkpoint.objects.create(
            seq=seq,
            sha256=hashlib.sha256(data).hexdigest(),
            size=body["size"],
            root=body["root"],
            time=body["time"],
            key_id=body["key_id"],
        )
    highest = max((int(run) for run in states.states), default=0)
    return Reindexed(len(states.states), highest, len(seqs), index, of_no_run, "")


def _results(locker: Locker, items: list[dict[str, Any]]) -> None:
    """Each completed run's check results, findings and unjudged items, from the check results
    it stored."""
    from assay.checks.models import CheckResult, RecordedFinding, UnjudgedItem

    blobs = locker.blobs({item["sha256"] for item in items}) if items else {}
    for item in items:
        document = json.loads(blobs[item["sha256"]])
        CheckResult.objects.create(
            run_id=item["run_id"],
            check_id=document["check"],
            status=document["status"],
            summary=document["summary"],
            evidence=list(document.get("evidence", ())),
        )
        RecordedFinding.objects.bulk_create(
            RecordedFinding(
                run_id=item["run_id"],
                check_id=document["check"],
                rule=finding["rule"],
                system_id=finding["system_id"],
                subject=finding["subject"],
                detail=finding["detail"],
                evidence_sha256=finding["evidence_sha256"],
                controls=list(finding.get("controls", ())),
                excepted_by=finding.get("excepted_by", ""),
            )
            for finding in document.get("findings", ())
        )
        UnjudgedItem.objects.bulk_create(
            UnjudgedItem(
                run_id=item["run_id"],
                check_id=document["check"],
                system_id=unjudged["system_id"],
                subject=unjudged["subject"] or "",
                reason=unjudged["reason"],
            )
            for unjudged in document.get("unjudged", ())
        )


def _continue_numbering(model: Any) -> None:
    """Make the next row's id follow the highest one inserted with an explicit id (PostgreSQL's
    sequences do not follow explicit ids by themselves; SQLite's do)."""
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)


def _who() -> str:
    """The operating-system user and host running the rebuild, for the locker's record."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()}"
