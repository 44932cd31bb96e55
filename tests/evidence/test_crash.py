"""Kill writers with SIGKILL at many moments: the locker must still verify every time, and the
next writer must complete. Writers are real processes: ``assay run`` on the sample organisation,
and a loop appending large batches so that kills land inside blob, batch and checkpoint writes.

Each kill waits for an event the writer makes visible (an object appearing in the locker, a line
the writer prints after an append), never for an amount of wall-clock time: on a busy machine a
writer may not have finished importing after a second, and a kill must still land where meant.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from assay.sample import PlantedFinding

RUNS = 12
SEED = 20261126
# How long an awaited event may take before the test fails; generous, it is never waited out.
EVENT_WITHIN = 300.0
# Where in the recording of ``assay run`` a kill lands: just after the run's pack, its batch of
# statements, or its checkpoint appears (the database commit and the report come after that).
STAGES = ("packs", "log", "checkpoints")


def _environment(sample: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ASSAY_DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["ASSAY_SQLITE_PATH"] = str(sample / ".assay" / "assay.sqlite3")
    return env


def _assay(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from assay.cli import main; sys.exit(main())", *args]


def _count(directory: Path) -> int:
    return sum(1 for _ in directory.iterdir()) if directory.is_dir() else 0


def _wait_for_more(directory: Path, than: int, process: subprocess.Popen[bytes]) -> None:
    """Return once ``directory`` holds more than ``than`` objects, or the process has exited."""
    deadline = time.monotonic() + EVENT_WITHIN
    while _count(directory) <= than and process.poll() is None:
        assert time.monotonic() < deadline, f"nothing new in {directory} in {EVENT_WITHIN} s"
        time.sleep(0.002)  # the interval between looks, not a guess at how long the writer takes


def test_a_run_killed_at_any_moment_leaves_a_verifiable_locker(
    tmp_path: Path, sample_master: tuple[Path, tuple[PlantedFinding, ...]]
) -> None:
    sample = tmp_path / "acme"
    env = _environment(sample)
    # As a user makes it: the files, the signing key, the registers in the sample's database.
    subprocess.run(
        _assay("init", "--sample", str(sample)), env=env, check=True, capture_output=True
    )
    planted = sample_master[1]
    programme = str(sample / "assay.yaml")
    locker = sample / ".assay" / "locker"
    subprocess.run(
        _assay("run", "--file", programme), env=env, check=True, capture_output=True, timeout=300
    )
    chance = random.Random(SEED)
    killed = 0
    for attempt in range(RUNS):
        stage = locker / chance.choice(STAGES)
        before = _count(stage)
        process = subprocess.Popen(
            _assay("run", "--file", programme),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_more(stage, before, process)
        process.send_signal(signal.SIGKILL)
        killed += process.wait(timeout=60) == -signal.SIGKILL
        verified = subprocess.run(
            _assay("verify", "--file", programme),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert verified.returncode == 0, f"kill {attempt}: {verified.stdout}{verified.stderr}"
    # The kills landed inside runs (a run that had finished before its kill tests nothing).
    assert killed > 0
    final = subprocess.run(
        _assay("run", "--file", programme), env=env, capture_output=True, text=True, timeout=300
    )
    assert final.returncode == 0, final.stderr
    assert f"{len(planted)} finding(s)" in final.stdout
    verified = subprocess.run(
        _assay("verify", "--file", programme), env=env, capture_output=True, text=True, timeout=300
    )
    assert verified.returncode == 0, verified.stderr
    assert "warning" not in verified.stdout


_WRITER = """
import sys
from pathlib import Path

from assay.sample import PlantedFinding
from assay.evidence.backends import LocalBackend
from assay.evidence.locker import Locker
from assay.evidence.signing import load_key
from tests.evidence.conftest import RETAIN, evidence_items

key = load_key(Path(sys.argv[1]))
run = int(sys.argv[3])
hold_after = int(sys.argv[4])
appended = 0
while True:
    with Locker(LocalBackend(Path(sys.argv[2]))).writer(key) as writer:
        writer.append(evidence_items(run, count=400), RETAIN)
        appended += 1
        print(appended, flush=True)
        if appended == hold_after:
            sys.stdin.readline()  # wait here, appended but not checkpointed, to be killed
        writer.checkpoint()
    run += 1
"""


def test_a_writer_killed_inside_an_append_leaves_a_verifiable_locker(tmp_path: Path) -> None:
    """Each writer is killed once it has said it finished an append: held before its checkpoint
    (every other attempt, so some kills certainly leave statements unchecked), or at once after
    its first to third append, when it is checkpointing or writing the next pack."""
    from assay.evidence.backends import LocalBackend
    from assay.evidence.locker import Locker
    from assay.evidence.signing import generate_key
    from assay.evidence.verify import verify

    key = generate_key(tmp_path / "key.pem")
    root = tmp_path / "locker"
    chance = random.Random(SEED)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()), *sys.path])}
    interrupted = 0
    for attempt in range(RUNS):
        appends = chance.randint(1, 3)
        hold = attempt % 2 == 0
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WRITER,
                str(tmp_path / "key.pem"),
                str(root),
                str(attempt * 1_000_000),
                str(appends if hold else 0),
            ],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stderr is not None
        for expected in range(1, appends + 1):
            line = process.stdout.readline()  # blocks until the writer has finished an append
            if line != f"{expected}\n":
                process.kill()
                raise AssertionError(f"writer {attempt} said {line!r}: {process.communicate()}")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        process.communicate()
        report = verify(LocalBackend(root), anchor=key.id)
        locker = Locker(LocalBackend(root))
        named = {f"packs/{statement.pack}.pack" for _, statement in locker.statements()}
        stored = set(locker.backend.names("packs/"))
        interrupted += bool(stored - named) or report.unchecked_tail > 0
    assert report.statements > 0
    # The kills must really land inside appends (a pack written but not yet named, or statements
    # not yet checkpointed), not only between them.
    assert interrupted > 0
    from tests.evidence.conftest import append_run

    append_run(LocalBackend(root), key, 999)
    assert verify(LocalBackend(root), anchor=key.id).unchecked_tail == 0
