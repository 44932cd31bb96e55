"""Retention: blobs past their retention date may be deleted, leaving a signed tombstone.

Deletion is by policy only: a blob goes when every statement naming it is past its
``retain_until``. The statement (the Merkle leaf) stays, and the tombstone, signed by the locker's
key, tells ``assay verify`` that the blob's absence is the policy's work, not a loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from assay.evidence.canonical import canonical_json
from assay.evidence.locker import (
    Locker,
    batch_name,
    blob_name,
    numbered,
    split_statements,
    tombstone_name,
)
from assay.evidence.signing import SigningKey
from assay.evidence.statements import Statement


@dataclass(frozen=True)
class Pruned:
    deleted: tuple[str, ...]
    kept: int


def prune(locker: Locker, key: SigningKey, now: datetime) -> Pruned:
    """Delete every blob whose retention has ended for all the statements that name it."""
    backend = locker.backend
    with backend.lock():
        retain: dict[str, datetime] = {}
        for number in numbered(backend, "log/", ".jsonl"):
            name = batch_name(number)
            for line, data in enumerate(split_statements(backend.get(name)), 1):
                statement = Statement.from_bytes(data, f"{name}:{line}")
                known = retain.get(statement.sha256)
                if known is None or statement.retain_until > known:
                    retain[statement.sha256] = statement.retain_until
        deleted = []
        for sha256, until in sorted(retain.items()):
            if until >= now or not backend.exists(blob_name(sha256)):
                continue
            body = {
                "sha256": sha256,
                "deleted_at": now.isoformat(),
                "retain_until": until.isoformat(),
                "reason": "retention period ended",
                "key_id": key.id,
            }
            backend.put(
                tombstone_name(sha256), canonical_json({**body, "signature": key.sign(body)})
            )
            backend.flush()
            backend.delete(blob_name(sha256))
            deleted.append(sha256)
        return Pruned(tuple(deleted), len(retain) - len(deleted))
