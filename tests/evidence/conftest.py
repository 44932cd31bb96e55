"""A small locker written through the real writer, for the locker, mutation and export tests."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import LOCKED_BUCKET

from assay.evidence.backends import Backend, LocalBackend
from assay.evidence.locker import Checkpoint, Locker
from assay.evidence.signing import SigningKey, generate_key
from assay.evidence.statements import NewEvidence, Retention
from assay.evidence.verify import ExpectedCheckpoint

RETAIN = Retention(datetime(2030, 1, 1, tzinfo=UTC))
ENDED = Retention(datetime(2020, 1, 1, tzinfo=UTC))
"""Retention already over: the writer keeps each blob until it is recorded, and no longer."""


@pytest.fixture
def s3_backend_factory(endpoint: str) -> Callable[[], Backend]:
    """A fresh prefix in the Object Lock bucket: an empty locker on S3."""
    from assay.evidence.s3 import S3Backend

    prefix = f"locker/{uuid.uuid4().hex}"
    return lambda: S3Backend(LOCKED_BUCKET, prefix, endpoint_url=endpoint)


@dataclass
class Built:
    root: Path
    key: SigningKey
    checkpoints: list[Checkpoint]

    @property
    def expected(self) -> list[ExpectedCheckpoint]:
        return [ExpectedCheckpoint(c.seq, c.sha256) for c in self.checkpoints]

    def locker(self) -> Locker:
        return Locker(LocalBackend(self.root))


def evidence_items(run: int, count: int = 4) -> list[NewEvidence]:
    collected = datetime.now(UTC) - timedelta(minutes=5)
    items = [
        NewEvidence(
            "payload",
            f"okta/users-{n}.json",
            json.dumps({"run": run, "n": n}).encode(),
            collected,
            source=f"/exports/okta/users-{n}.json",
            connector_version="okta 1",
        )
        for n in range(count)
    ]
    items.append(
        NewEvidence(
            "snapshot",
            "okta",
            f"manifest {run}".encode(),
            collected,
            parameters={"path": "exports/okta"},
        )
    )
    return items


def append_run(
    backend: Backend, key: SigningKey, run: int, retention: Retention = RETAIN
) -> Checkpoint:
    with Locker(backend).writer(key) as writer:
        writer.append(evidence_items(run), retention)
        return writer.checkpoint()


def build(directory: Path, runs: int = 3, retention: Retention = RETAIN) -> Built:
    key = generate_key(directory / "keys" / "signing-key.pem")
    root = directory / "locker"
    checkpoints = [append_run(LocalBackend(root), key, run, retention) for run in range(runs)]
    return Built(root, key, checkpoints)


@pytest.fixture
def built(tmp_path: Path) -> Built:
    return build(tmp_path)
