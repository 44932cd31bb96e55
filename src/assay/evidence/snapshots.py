"""Turn a connector's output into evidence: payload blobs plus a collection manifest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from assay.connectors.base import Collected
from assay.evidence.store import EvidenceStore


def canonical_json(value: Any) -> bytes:
    """Stable bytes for a JSON value, so equal content always has the same sha-256."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class RecordedSnapshot:
    """A snapshot as kept: the manifest's sha-256 names the whole collection."""

    manifest_sha256: str
    manifest: dict[str, Any]
    size: int


def record_snapshot(store: EvidenceStore, collected: Collected) -> RecordedSnapshot:
    """Store every raw payload, then the manifest that lists them; return the manifest's address."""
    payloads = []
    for payload in collected.payloads:
        blob = store.put(payload.data)
        payloads.append(
            {
                "name": payload.name,
                "source": payload.source,
                "sha256": blob.sha256,
                "size": blob.size,
            }
        )
    manifest: dict[str, Any] = {
        "kind": "snapshot",
        "system": collected.system_id,
        "connector": collected.connector,
        "connector_version": collected.connector_version,
        "mode": collected.mode,
        "started_at": collected.started_at.isoformat(),
        "finished_at": collected.finished_at.isoformat(),
        "parameters": dict(collected.parameters),
        "complete": collected.complete,
        "incomplete_reason": collected.incomplete_reason,
        "row_count": collected.records.count(),
        "payloads": payloads,
    }
    stored = store.put(canonical_json(manifest))
    return RecordedSnapshot(stored.sha256, manifest, stored.size)
