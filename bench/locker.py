"""Benchmark the evidence locker: append and verify 100,000 statements of about 1 KB.

Prints statements per second appended (in batches, as runs append) and verified, and the
verification rate as a fraction of plain ``hashlib.sha256`` over the same bytes (every blob and
every statement line, hashed one by one, in one process) on the same machine, plus peak memory.
Plain hashing and verification each run ``--repeat`` times, alternately, and the best of each
counts: the machine may be shared, and the best run is the one least disturbed.

    .venv/bin/python bench/locker.py [--statements 100000] [--batch 10000] [--repeat 3] [--dir DIR]
                                     [--one-process]

``--one-process`` verifies without worker processes, as for an object-store locker.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from assay.evidence import verify as verification
from assay.evidence.backends import LocalBackend
from assay.evidence.locker import Locker, batch_name, numbered
from assay.evidence.signing import generate_key
from assay.evidence.statements import NewEvidence, Retention
from assay.evidence.verify import verify

RETAIN = Retention(datetime(2030, 1, 1, tzinfo=UTC))


def items(start: int, count: int, collected: datetime) -> list[NewEvidence]:
    """Distinct ~1 KB payloads, each described by a statement of about 1 KB."""
    return [
        NewEvidence(
            kind="payload",
            subject=f"okta/users/page-{n:07d}.json",
            data=n.to_bytes(8, "big") + os.urandom(1016),
            collected_at=collected,
            source=f"https://acme.okta.com/api/v1/users?limit=200&after=00u{n:017d}",
            connector_version="okta 1",
            parameters={"page": n, "limit": 200, "filter": 'status eq "ACTIVE"', "note": "x" * 380},
        )
        for n in range(start, start + count)
    ]


def plain_hashing(backend: LocalBackend) -> tuple[float, int]:
    """Seconds to read the same bytes and hash them one by one with nothing else; bytes hashed."""
    began = time.perf_counter()
    hashed = 0
    for number in numbered(backend, "log/", ".jsonl"):
        for line in backend.get(batch_name(number)).splitlines():
            hashlib.sha256(line).digest()
            hashed += len(line)
    for name in backend.names("packs/"):
        pack = memoryview(backend.get(name))
        for start in range(0, len(pack), 1024):
            hashlib.sha256(pack[start : start + 1024]).digest()
        hashed += len(pack)
    return time.perf_counter() - began, hashed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument("--dir", type=Path, default=None, help="where to build the locker")
    parser.add_argument(
        "--one-process", action="store_true", help="verify without worker processes"
    )
    args = parser.parse_args()
    if args.one_process:
        verification.PARALLEL_FROM = args.statements + 1  # more batches than the locker holds
    work = Path(tempfile.mkdtemp(dir=args.dir))
    try:
        key = generate_key(work / "key.pem")
        backend = LocalBackend(work / "locker")
        collected = datetime.now(UTC)
        appending = 0.0
        for start in range(0, args.statements, args.batch):
            batch = items(start, min(args.batch, args.statements - start), collected)
            began = time.perf_counter()
            with Locker(backend).writer(key) as writer:
                writer.append(batch, RETAIN)
                writer.checkpoint()
            appending += time.perf_counter() - began
        del batch

        # Each plain hashing runs just before a verification, so both read a warm page cache.
        raw = verifying = float("inf")
        for _ in range(args.repeat):
            seconds, hashed = plain_hashing(backend)
            raw = min(raw, seconds)
            began = time.perf_counter()
            report = verify(backend, anchor=key.id)
            verifying = min(verifying, time.perf_counter() - began)
            assert report.statements == args.statements
        statement_bytes = sum(
            len(backend.get(batch_name(n))) for n in numbered(backend, "log/", ".jsonl")
        )

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"statements: {args.statements} (average {statement_bytes / args.statements:.0f} "
            f"bytes each, blobs 1024 bytes), batches of {args.batch}"
        )
        workers = "one process" if args.one_process else "worker processes for verify"
        print(f"cores: {len(os.sched_getaffinity(0))}, {workers}; best of {args.repeat} runs")
        print(f"append: {args.statements / appending:,.0f} statements/s ({appending:.2f} s)")
        print(
            f"verify: {args.statements / verifying:,.0f} statements/s ({verifying:.2f} s, "
            f"{report.bytes_verified + statement_bytes:,} bytes)"
        )
        print(
            f"plain sha-256 over the same {hashed:,} bytes, read from the same files: {raw:.2f} s"
        )
        print(f"verification speed / plain hashing speed: {raw / verifying:.0%}")
        print(f"peak memory: {peak:.0f} MiB (largest verify worker: {worker_peak:.0f} MiB)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
