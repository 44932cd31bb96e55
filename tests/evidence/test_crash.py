"""Kill writers with SIGKILL at random moments: the locker must still verify every time, and the
next writer must complete. Writers are real processes: ``assay run`` on the sample organisation,
and a loop appending large batches so that kills land inside blob, batch and checkpoint writes."""

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


def test_a_run_killed_at_any_moment_leaves_a_verifiable_locker(
    sample: Path, planted: tuple[PlantedFinding, ...]
) -> None:
    env = _environment(sample)
    programme = str(sample / "assay.yaml")
    started = time.monotonic()
    subprocess.run(
        _assay("run", "--file", programme), env=env, check=True, capture_output=True, timeout=120
    )
    duration = time.monotonic() - started
    chance = random.Random(SEED)
    for attempt in range(RUNS):
        process = subprocess.Popen(
            _assay("run", "--file", programme),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Most of a run is start-up and collection; aim the kills at the recording at its end.
        time.sleep(duration * chance.uniform(0.6, 1.05))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        verified = subprocess.run(
            _assay("verify", "--file", programme),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert verified.returncode == 0, f"kill {attempt}: {verified.stdout}{verified.stderr}"
    final = subprocess.run(
        _assay("run", "--file", programme), env=env, capture_output=True, text=True, timeout=120
    )
    assert final.returncode == 0, final.stderr
    assert f"{len(planted)} finding(s)" in final.stdout
    verified = subprocess.run(
        _assay("verify", "--file", programme), env=env, capture_output=True, text=True, timeout=120
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
while True:
    with Locker(LocalBackend(Path(sys.argv[2]))).writer(key) as writer:
        writer.append(evidence_items(run, count=400), RETAIN)
        writer.checkpoint()
    run += 1
"""


def test_a_writer_killed_inside_an_append_leaves_a_verifiable_locker(tmp_path: Path) -> None:
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
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WRITER,
                str(tmp_path / "key.pem"),
                str(root),
                str(attempt * 1_000_000),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(chance.uniform(0.3, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
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
