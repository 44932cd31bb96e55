"""Hostile: an insider who holds the signing key deletes evidence inside its retention; a run fails
or is killed after its evidence reached the locker; the database beside the locker is emptied or
replaced. Each must show: exit 3 naming the pack, the run's outcome in the log, exit 2 at start."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from tests.evidence.test_crash import _assay, _environment

from assay.cli import main
from assay.evidence.backends import LocalBackend
from assay.evidence.canonical import canonical_json
from assay.evidence.locker import Locker, batch_name, checkpoint_name, pack_name
from assay.evidence.signing import SigningKey
from assay.evidence.statements import Statement

Capture = pytest.CaptureFixture[str]
FUTURE = datetime(2099, 1, 1, tzinfo=UTC)


def _locker(programme: Path) -> Path:
    return programme.parent / ".assay" / "locker"


def _key(programme: Path) -> SigningKey:
    from assay.evidence.service import signing_key
    from assay.programme import load

    return signing_key(load(programme))


def _first_pack(root: Path) -> Statement:
    """A statement of the first run's evidence: its pack is kept until after the audit period."""
    return next(s for _, s in Locker(LocalBackend(root)).statements() if s.kind == "payload")


def _forge_tombstone(
    root: Path, key: SigningKey, pack: str, deleted: datetime, *, signed_at: datetime | None
) -> None:
    """What an insider with the key can write by hand: a tombstone statement dated ``deleted``,
    a checkpoint over it (re-dated and re-signed to ``signed_at``, or none), then the deletion."""
    backend = LocalBackend(root)
    document = canonical_json({"kind": "tombstone", "subject": pack, "reason": "retention"})
    blob_pack = hashlib.sha256(document).hexdigest()
    backend.put(pack_name(blob_pack), document)
    with Locker(backend).writer(key) as writer:
        statement = Statement(
            kind="tombstone",
            subject=pack,
            sha256=blob_pack,
            size=len(document),
            pack=blob_pack,
            offset=0,
            collected_at=deleted,
            effective_at=deleted,
            expires_at=deleted + timedelta(days=30),
            retain_until=deleted,
            recorded_at=deleted,
            source=None,
            connector_version=None,
            parameters={"retain_until": deleted.isoformat(), "reason": "retention period ended"},
            previous=None,
        )
        data = statement.to_bytes()
        writer.head.add(data, statement)
        writer.head.batches += 1
        backend.put(batch_name(writer.head.batches), data + b"\n")
        if signed_at is not None:
            made = writer.checkpoint()
            path = root / checkpoint_name(made.seq)
            body = {k: v for k, v in json.loads(path.read_bytes()).items() if k != "signature"}
            body["time"] = max(signed_at, made.time).isoformat()
            path.write_bytes(canonical_json({**body, "signature": key.sign(body)}))
    (root / pack_name(pack)).unlink()


def _file_only_tombstone(root: Path, key: SigningKey, pack: str, deleted: datetime) -> None:
    """The tombstone an older Assay wrote, beside the log: signed, dated after retention."""
    body = {
        "pack": pack,
        "deleted_at": deleted.isoformat(),
        "retain_until": deleted.isoformat(),
        "reason": "retention period ended",
        "key_id": key.id,
    }
    LocalBackend(root).put(
        f"tombstones/{pack}.json", canonical_json({**body, "signature": key.sign(body)})
    )
    (root / pack_name(pack)).unlink()


Forgery = Callable[[Path, SigningKey, Statement], str]


def _future(root: Path, key: SigningKey, kept: Statement) -> str:
    _forge_tombstone(root, key, kept.pack, FUTURE, signed_at=FUTURE)
    return "after this verifier's clock"


def _early(root: Path, key: SigningKey, kept: Statement) -> str:
    _forge_tombstone(root, key, kept.pack, datetime.now(UTC), signed_at=datetime.now(UTC))
    return "before its retention ended"


def _back_dated(root: Path, key: SigningKey, kept: Statement) -> str:
    """Dated long ago (2020): before the checkpoints already written, and before retention."""
    _forge_tombstone(root, key, kept.pack, datetime(2020, 1, 1, tzinfo=UTC), signed_at=None)
    with Locker(LocalBackend(root)).writer(key) as writer:
        writer.checkpoint()
    return "recorded before the checkpoint that precedes it"


def _unsigned(root: Path, key: SigningKey, kept: Statement) -> str:
    _forge_tombstone(root, key, kept.pack, datetime.now(UTC), signed_at=None)
    return "not yet signed by a checkpoint"


def _not_in_log(root: Path, key: SigningKey, kept: Statement) -> str:
    """The reported attack: a signed tombstone file dated 2099, after any retention."""
    _file_only_tombstone(root, key, kept.pack, FUTURE)
    return "no tombstone in the log accounts for it"


FORGERIES = {
    "future-dated": _future,
    "inside-retention": _early,
    "back-dated": _back_dated,
    "not-signed": _unsigned,
    "not-in-the-log": _not_in_log,
}


@pytest.mark.db
@pytest.mark.django_db
@pytest.mark.parametrize("where", ["locker", "pinned", "package"])
@pytest.mark.parametrize("forgery", FORGERIES)
def test_an_insider_with_the_key_cannot_delete_a_pack_inside_its_retention(
    sample: Path, tmp_path: Path, capsys: Capture, forgery: str, where: str
) -> None:
    programme = sample / "assay.yaml"
    assert main(["run", "--file", str(programme)]) == 0
    assert main(["verify", "--file", str(programme)]) == 0
    pin = capsys.readouterr().out.splitlines()[-1].split()[2]
    root = _locker(programme)
    kept = _first_pack(root)
    expected = FORGERIES[forgery](root, _key(programme), kept)

    if where == "package":
        today = date.today().isoformat()
        package = tmp_path / "package"
        export = ["audit", "export", str(package), "--from", today, "--to", today]
        assert main([*export, "--file", str(programme)]) == 0
        command = ["verify", str(package)]
    else:
        command = ["verify", "--file", str(programme)]
    if where == "pinned":
        command += ["--checkpoint", pin]
    capsys.readouterr()
    assert main(command) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert pack_name(kept.pack) in err and expected in err, err


@pytest.mark.db
@pytest.mark.django_db
def test_a_tombstone_an_older_assay_wrote_is_recorded_in_the_log_once_retention_ended(
    tmp_path: Path,
) -> None:
    """An honest older prune (a file-only tombstone after retention) verifies again once prune
    records it in the log; one dated inside retention is never recorded."""
    from assay.evidence.retention import prune
    from assay.evidence.signing import generate_key
    from assay.evidence.statements import NewEvidence, Retention
    from assay.evidence.verify import verify

    key = generate_key(tmp_path / "key.pem")
    root = tmp_path / "locker"
    ended = Retention(datetime(2020, 1, 1, tzinfo=UTC))
    with Locker(LocalBackend(root)).writer(key) as writer:
        [appended] = writer.append(
            [NewEvidence("payload", "old", b"old", datetime.now(UTC))], ended
        )
        writer.checkpoint()
    pack = appended.statement.pack
    _file_only_tombstone(root, key, pack, datetime.now(UTC))
    with pytest.raises(Exception, match="file-only tombstone from an older Assay"):
        verify(LocalBackend(root), anchor=key.id)
    done = prune(Locker(LocalBackend(root)), key, ended)
    assert done.recorded == (pack,) and done.deleted == ()
    assert verify(LocalBackend(root), anchor=key.id).tombstoned == 1


# Run outcomes


@pytest.mark.db
@pytest.mark.django_db
def test_a_run_that_fails_after_appending_is_recorded_as_failed_in_the_log(
    sample: Path, capsys: Capture
) -> None:
    """A stale index row takes the leaf the next run's first statement gets: the database refuses
    the run's rows (a unique constraint) after its evidence is in the locker."""
    from django.db import IntegrityError

    from assay.evidence.models import Checkpoint, EvidenceItem
    from assay.monitor.models import Run
    from assay.monitor.run import execute
    from assay.programme import load

    programme = sample / "assay.yaml"
    assert main(["run", "--file", str(programme)]) == 0
    size = Checkpoint.objects.get().size
    EvidenceItem.objects.create(
        run=Run.objects.get(),
        kind="payload",
        subject="stale",
        sha256="0" * 64,
        size=0,
        statement_id="stale",
        leaf_index=size,
        collected_at=datetime.now(UTC),
    )
    with pytest.raises(IntegrityError):
        execute(load(programme))
    first = Run.objects.get(status=Run.Status.COMPLETED).pk
    failed = Run.objects.get(status=Run.Status.FAILED).pk
    assert failed > first
    outcome = [
        s for _, s in Locker(LocalBackend(_locker(programme))).statements() if s.kind == "run"
    ]
    assert [(s.subject, s.parameters["state"]) for s in outcome] == [
        (str(first), "started"),
        (str(first), "completed"),
        (str(failed), "started"),
        (str(failed), "failed"),
    ]
    assert outcome[-1].parameters["reason"].startswith("IntegrityError: ")
    assert "\n" not in outcome[-1].parameters["reason"]
    capsys.readouterr()
    assert main(["verify", "--file", str(programme)]) == 0
    out = capsys.readouterr().out
    assert f"runs: 1 completed, 1 failed (run {failed}), 0 no outcome recorded\n" in out
    assert "warning" not in out  # the failed run's evidence is signed, and said to be failed

    today = date.today().isoformat()
    package = sample.parent / "package"
    export = ["audit", "export", str(package), "--from", today, "--to", today]
    assert main([*export, "--file", str(programme)]) == 0
    manifest = json.loads((package / "manifest.json").read_bytes())
    assert [(r["run"], r["outcome"]) for r in manifest["runs"]] == [
        (str(first), "completed"),
        (str(failed), "failed"),
    ]
    readme = (package / "README.md").read_text()
    assert f"- run {first}: completed\n- run {failed}: failed (IntegrityError: " in readme
    capsys.readouterr()
    assert main(["verify", str(package)]) == 0
    assert f"1 failed (run {failed})" in capsys.readouterr().out


def _cli(sample: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _assay(*args, "--file", str(sample / "assay.yaml")),
        env=_environment(sample),
        capture_output=True,
        text=True,
        timeout=180,
    )


def _wait_for(happened: Callable[[], bool], what: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until ``happened`` (an observable event), or fail if the process ends first."""
    deadline = time.monotonic() + 120
    while not happened():
        assert process.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within two minutes"
        time.sleep(0.005)


def test_a_run_killed_between_its_evidence_and_its_commit_has_no_outcome(sample: Path) -> None:
    """The run's commit is held back by a lock on the database; it is killed once its evidence is
    in the locker. verify must say that run has no outcome, not count it as completed."""
    assert _cli(sample, "verify").returncode == 0  # creates the database
    database = sample / ".assay" / "assay.sqlite3"
    holder = sqlite3.connect(database, isolation_level=None)
    run = subprocess.Popen(
        _assay("run", "--file", str(sample / "assay.yaml")),
        env=_environment(sample),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def numbered() -> bool:
            return bool(holder.execute("SELECT count(*) FROM monitor_run").fetchone()[0])

        _wait_for(numbered, "the run was numbered", run)
        holder.execute("BEGIN IMMEDIATE")  # the run's rows now wait for this lock
        evidence = sample / ".assay" / "locker" / batch_name(1)
        _wait_for(evidence.exists, "the run's evidence", run)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
        holder.execute("ROLLBACK") if holder.in_transaction else None
        holder.close()
    verified = _cli(sample, "verify")
    assert verified.returncode == 0, verified.stderr
    assert "runs: 0 completed, 0 failed, 1 no outcome recorded (run 1)" in verified.stdout
    assert _cli(sample, "run").returncode == 0
    verified = _cli(sample, "verify")
    assert "runs: 1 completed, 0 failed, 1 no outcome recorded (run 1)" in verified.stdout


# A replaced database


def test_an_emptied_or_replaced_database_is_refused_until_rebuilt_from_the_locker(
    sample: Path,
) -> None:
    assert _cli(sample, "run").returncode == 0
    database = sample / ".assay" / "assay.sqlite3"
    older = sample / "older.sqlite3"
    shutil.copyfile(database, older)
    assert _cli(sample, "run").returncode == 0

    shutil.copyfile(older, database)  # a backup from before the second run
    for command in (("run",), ("verify",), ("findings",)):
        refused = _cli(sample, *command)
        assert refused.returncode == 2, (command, refused.stdout, refused.stderr)
        assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
        assert "never numbered run 2" in refused.stderr
        assert "assay evidence reindex" in refused.stderr

    database.write_bytes(b"")  # zero length
    for command in (("run",), ("verify",), ("findings",), ("identities", "privileged")):
        refused = _cli(sample, *command)
        assert refused.returncode == 2, (command, refused.stdout, refused.stderr)
        assert refused.stderr == (
            f"assay: {database}: records none of the 2 checkpoints in "
            f"{sample / '.assay' / 'locker'}: the database was emptied or replaced; rebuild it "
            "from the locker with 'assay evidence reindex'\n"
        )

    rebuilt = _cli(sample, "evidence", "reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "2 runs (the next is 3)" in rebuilt.stdout
    assert re.search(r"rebuilt by \S+@\S+", rebuilt.stdout)
    assert _cli(sample, "evidence", "reindex").returncode == 2  # only into an empty database
    assert _cli(sample, "run").returncode == 0
    findings = _cli(sample, "findings", "--format", "json")
    assert json.loads(findings.stdout)["run"] == 3
    verified = _cli(sample, "verify")
    assert verified.returncode == 0, verified.stderr
    assert "runs: 3 completed, 0 failed, 0 no outcome recorded" in verified.stdout
    records = [
        s
        for _, s in Locker(LocalBackend(sample / ".assay" / "locker")).statements()
        if s.kind == "index"
    ]
    assert [r.parameters["highest_run"] for r in records] == [2]
