"""The local locker: content addressing, atomic batches, collection manifests."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assay.connectors.base import Collected, RawPayload
from assay.errors import AssayError
from assay.evidence.snapshots import record_snapshot
from assay.evidence.store import LocalLocker
from assay.inventory.records import Records


def test_put_returns_the_content_address_and_get_returns_the_bytes(tmp_path: Path) -> None:
    locker = LocalLocker(tmp_path)
    blob = locker.put(b"evidence")
    assert blob.sha256 == hashlib.sha256(b"evidence").hexdigest()
    assert blob.size == 8
    assert locker.get(blob.sha256) == b"evidence"
    assert locker.put(b"evidence") == blob


def test_get_of_an_unknown_address_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AssayError, match="not in the locker"):
        LocalLocker(tmp_path).get("0" * 64)


def test_a_batch_publishes_only_when_it_ends(tmp_path: Path) -> None:
    locker = LocalLocker(tmp_path)
    with locker.batch():
        blob = locker.put(b"one")
        assert not locker.contains(blob.sha256)
    assert locker.get(blob.sha256) == b"one"
    assert not any((tmp_path / "staging").iterdir())


def test_a_failed_batch_leaves_nothing(tmp_path: Path) -> None:
    locker = LocalLocker(tmp_path)
    with pytest.raises(RuntimeError), locker.batch():
        blob = locker.put(b"half")
        raise RuntimeError("collector died")
    assert not locker.contains(blob.sha256)
    assert not (tmp_path / "blobs").exists()


def test_snapshot_manifest_lists_every_payload_and_how_it_was_collected(tmp_path: Path) -> None:
    locker = LocalLocker(tmp_path)
    moment = datetime(2026, 11, 1, 12, tzinfo=UTC)
    collected = Collected(
        system_id="okta",
        connector="okta",
        connector_version="1.0",
        mode="export",
        started_at=moment,
        finished_at=moment,
        payloads=(RawPayload("users.json", "/exports/okta/users.json", b"[]"),),
        records=Records(),
        parameters={"path": "exports/okta"},
    )
    recorded = record_snapshot(locker, collected)
    manifest = json.loads(locker.get(recorded.manifest_sha256))
    assert manifest == recorded.manifest
    assert manifest["payloads"] == [
        {
            "name": "users.json",
            "source": "/exports/okta/users.json",
            "sha256": hashlib.sha256(b"[]").hexdigest(),
            "size": 2,
        }
    ]
    assert manifest["row_count"] == 0
    assert manifest["parameters"] == {"path": "exports/okta"}
    assert manifest["connector_version"] == "1.0"
    assert record_snapshot(locker, collected).manifest_sha256 == recorded.manifest_sha256
