"""Retention: packs past their retention date may be deleted, leaving a tombstone in the log.

Deletion is by policy only: a pack goes when every statement naming it is past its
``retain_until``. The statements (the Merkle leaves) stay, and a ``tombstone`` statement appended to
the log — dated by the clock that decided the deletion, and signed by the checkpoint written before
the pack is deleted — tells ``assay verify`` that the pack's absence is the policy's work, not a
loss. A tombstone only in ``tombstones/`` (written by Assay before the log recorded them) proves
nothing by itself; prune records each one whose pack's retention has ended in the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from assay.evidence import ledger
from assay.evidence.backends import Backend, MissingObject
from assay.evidence.locker import Checkpoint, Locker, pack_name, tombstone_name
from assay.evidence.signing import SigningKey
from assay.evidence.statements import Retention


@dataclass(frozen=True)
class Pruned:
    deleted: tuple[str, ...]
    kept: int
    recorded: tuple[str, ...] = ()
    """Packs deleted earlier under a file-only tombstone, now recorded in the log."""
    checkpoint: Checkpoint | None = None


def prune(locker: Locker, key: SigningKey, retention: Retention) -> Pruned:
    """Delete every pack whose retention has ended for all the statements that name it.

    ``retention`` is how long the tombstones themselves are kept; their packs are never pruned.
    """
    backend = locker.backend
    with locker.writer(key) as writer:
        now = datetime.now(UTC)
        retain: dict[str, datetime] = {}
        # The packs a tombstone in the log names, and the packs holding tombstones (kept).
        logged: set[str] = set()
        holding: set[str] = set()
        for _, statement in locker.statements():
            if statement.kind == ledger.TOMBSTONE:
                logged.add(statement.subject)
                holding.add(statement.pack)
            known = retain.get(statement.pack)
            if known is None or statement.retain_until > known:
                retain[statement.pack] = statement.retain_until
        ended = {
            pack: until
            for pack, until in sorted(retain.items())
            if until < now and pack not in holding
        }
        present = [pack for pack in ended if backend.exists(pack_name(pack))]
        adopted = [
            pack
            for pack in ended
            if pack not in present
            and pack not in logged
            and _older(backend, pack, ended[pack], now)
        ]
        if not present and not adopted:
            return Pruned((), len(retain))
        writer.append(
            [
                *(ledger.tombstone(p, ended[p], "retention period ended") for p in present),
                *(
                    ledger.tombstone(p, ended[p], f"recorded from {tombstone_name(p)}")
                    for p in adopted
                ),
            ],
            retention,
        )
        made = writer.checkpoint()
        for pack in present:
            backend.delete(pack_name(pack))
        return Pruned(tuple(present), len(retain) - len(present), tuple(adopted), made)


def _older(backend: Backend, pack: str, retain_until: datetime, now: datetime) -> bool:
    """Whether an older Assay left a file-only tombstone for ``pack`` that dates its deletion
    after its retention ended and not in the future: only such a one is recorded in the log."""
    try:
        recorded = json.loads(backend.get(tombstone_name(pack)))
        deleted = datetime.fromisoformat(recorded["deleted_at"])
    except (MissingObject, ValueError, KeyError, TypeError):
        return False
    return deleted.tzinfo is not None and retain_until <= deleted <= now
