"""Benchmark: ``assay run`` on a synthetic organisation of N people.

Usage: ``.venv/bin/python bench/scale.py --people 10000 [--systems 20] [--seed 0] [--keep DIR]``

Generates the organisation into a temporary directory (or ``--keep DIR``, left in place), runs the
real ``assay run`` as a subprocess on a fresh SQLite database, and prints the run's wall time and
peak memory (the child's maximum RSS), then the population's size (parsed again afterwards, one
system at a time, outside the measurement) and whether the findings equal the planted ones.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assay.connectors.base import ConnectorConfig
from assay.connectors.registry import connector_for
from assay.programme import load
from assay.sample.synthetic import generate

TARGET_SECONDS = 60
TARGET_RSS_MIB = 1536


def assay(*args: str, cwd: Path, stdin: str | None = None) -> None:
    """The real ``assay`` command beside this Python, as a subprocess; stops on a failure."""
    command = [str(Path(sys.executable).with_name("assay")), *args]
    done = subprocess.run(
        command, cwd=cwd, input=stdin, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")


def _counts(directory: Path) -> dict[str, int]:
    """Accounts, grants and credentials of every system; each is parsed and dropped in turn."""
    programme = load(directory / "assay.yaml")
    totals = dict.fromkeys(("people", "accounts", "grants", "credentials"), 0)
    for system in programme.systems:
        spec = system.connector
        if spec is None:
            continue
        config = ConnectorConfig(system.id, spec.mode, dict(spec.settings), {}, directory)
        records = connector_for(spec.type).collect(config).records
        totals["people"] += len(records.people)
        totals["accounts"] += len(records.accounts)
        totals["grants"] += len(records.grants)
        totals["credentials"] += len(records.credentials)
    return totals


def _findings(directory: Path) -> set[tuple[str, ...]]:
    with sqlite3.connect(directory / ".assay" / "assay.sqlite3") as db:
        rows = db.execute("SELECT check_id, rule, system_id, subject FROM checks_recordedfinding")
        return {tuple(row) for row in rows}


def bench(directory: Path, people: int, systems: int, seed: int) -> None:
    started = time.perf_counter()
    planted = generate(directory, people=people, systems=systems, seed=seed)
    generated = time.perf_counter() - started
    size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    print(f"generated {people:,} people, {systems} systems in {generated:.1f} s ({size >> 20} MiB)")
    assay("init", "--key", "--file", "assay.yaml", cwd=directory)

    started = time.perf_counter()
    assay("run", "--file", "assay.yaml", cwd=directory)
    wall = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    expected = {(p.check, p.rule, p.system, p.subject) for p in planted}
    found = _findings(directory)
    counts = _counts(directory)
    print(f"assay run: {wall:.1f} s wall (target {TARGET_SECONDS} s), peak RSS {peak_mib:,.0f} MiB")
    print(f"  target {TARGET_RSS_MIB} MiB")
    print(
        "population: "
        + ", ".join(f"{name} {value:,}" for name, value in counts.items())
        + f"; grants + credentials {counts['grants'] + counts['credentials']:,}"
    )
    print(f"findings: {len(found):,}, planted: {len(expected):,}, equal: {found == expected}")
    if found != expected:
        print(
            json.dumps(
                {"missing": sorted(expected - found)[:20], "extra": sorted(found - expected)[:20]}
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, required=True)
    parser.add_argument("--systems", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="generate here and leave it (a new directory)")
    args = parser.parse_args()
    if args.keep is not None:
        bench(args.keep, args.people, args.systems, args.seed)
        return
    with tempfile.TemporaryDirectory(prefix="assay-scale-") as temporary:
        bench(Path(temporary) / "org", args.people, args.systems, args.seed)


if __name__ == "__main__":
    os.environ.pop("ASSAY_DATABASE_URL", None)  # SQLite, as the target says
    main()
