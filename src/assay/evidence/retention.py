"""Retention: packs past their retention date may be deleted, leaving a signed tombstone.

Deletion is by policy only: a pack goes when every statement naming it is past its
``retain_until``. The statements (the Merkle leaves) stay, and the tombstone, signed by the
locker's key, tells ``assay verify`` that the pack's absence is the policy's work, not a loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from assay.evidence.canonical import canonical_json
from assay.evidence.locker import Locker, pack_name, tombstone_name
from assay.evidence.signing import SigningKey


@dataclass(frozen=True)
class Pruned:
    deleted: tuple[str, ...]
    kept: int


def prune(locker: Locker, key: SigningKey, now: datetime) -> Pruned:
    """Delete every pack whose retention has ended for all the statements that name it."""
    backend = locker.backend
    with backend.lock():
        retain: dict[str, datetime] = {}
        for _, statement in locker.statements():
            known = retain.get(statement.pack)
            if known is None or statement.retain_until > known:
                retain[statement.pack] = statement.retain_until
        deleted = []
        for pack, until in sorted(retain.items()):
            if until >= now or not backend.exists(pack_name(pack)):
                continue
            body = {
                "pack": pack,
                "deleted_at": now.isoformat(),
                "retain_until": until.isoformat(),
                "reason": "retention period ended",
                "key_id": key.id,
            }
            tombstone = canonical_json({**body, "signature": key.sign(body)})
            backend.put(tombstone_name(pack), tombstone)
            backend.flush()
            backend.delete(pack_name(pack))
            deleted.append(pack)
        return Pruned(tuple(deleted), len(retain) - len(deleted))
