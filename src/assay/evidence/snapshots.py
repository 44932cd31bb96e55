"""Turn a connector's output into evidence: its raw payloads plus a collection manifest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from assay.connectors.base import Collected
from assay.evidence.canonical import canonical_json
from assay.evidence.statements import NewEvidence


@dataclass(frozen=True)
class SnapshotEvidence:
    """A snapshot ready for the locker: the manifest's sha-256 names the whole collection."""

    manifest_sha256: str
    manifest: dict[str, Any]
    items: tuple[NewEvidence, ...]


def snapshot_evidence(collected: Collected) -> SnapshotEvidence:
    """Every raw payload, then the manifest that lists them (source, mode, parameters, counts,
    times, connector version and each payload's sha-256)."""
    payloads = []
    items = []
    for payload in collected.payloads:
        payloads.append(
            {
                "name": payload.name,
                "source": payload.source,
                "sha256": hashlib.sha256(payload.data).hexdigest(),
                "size": len(payload.data),
            }
        )
        items.append(
            NewEvidence(
                kind="payload",
                subject=f"{collected.system_id}/{payload.name}",
                data=payload.data,
                collected_at=collected.finished_at,
                source=payload.source,
                connector_version=f"{collected.connector} {collected.connector_version}",
            )
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
    data = canonical_json(manifest)
    items.append(
        NewEvidence(
            kind="snapshot",
            subject=collected.system_id,
            data=data,
            collected_at=collected.finished_at,
            source=collected.mode,
            connector_version=f"{collected.connector} {collected.connector_version}",
            parameters=dict(collected.parameters),
        )
    )
    return SnapshotEvidence(hashlib.sha256(data).hexdigest(), manifest, tuple(items))
