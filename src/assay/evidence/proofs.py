"""Inclusion proofs: that a statement is in the log the latest signed checkpoint commits to.

One function for every caller (``assay evidence prove``, the web app's proof page), so the proof
an auditor fetches in a browser is the one the command line prints.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from assay.errors import InputError, VerificationError
from assay.evidence import merkle
from assay.evidence.locker import Locker, checkpoint_name


@dataclass(frozen=True)
class InclusionProof:
    """RFC 9162 inclusion of one leaf (a statement id) in the tree a checkpoint signs."""

    statement: str
    index: int
    tree_size: int
    root: str
    checkpoint: int
    checkpoint_sha256: str
    path: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``assay evidence prove`` prints (``proof``: the audit path, leaf upwards)."""
        return {
            "statement": self.statement,
            "index": self.index,
            "tree_size": self.tree_size,
            "root": self.root,
            "checkpoint": self.checkpoint,
            "checkpoint_sha256": self.checkpoint_sha256,
            "proof": list(self.path),
        }


def prove(locker: Locker, item: str) -> InclusionProof:
    """The proof for ``item`` (a statement id, or a blob's sha-256: its first statement) against
    the latest checkpoint; checked before it is returned."""
    seq = locker.latest_checkpoint()
    data = locker.backend.get(checkpoint_name(seq))
    checkpoint = json.loads(data)
    leaves: list[bytes] = []
    index: int | None = None
    for identifier, statement in locker.statements():
        if len(leaves) == checkpoint["size"]:
            break
        if index is None and item in (identifier, statement.sha256):
            index = len(leaves)
        leaves.append(bytes.fromhex(identifier))
    if index is None:
        raise InputError(item, "no such statement or blob in the checkpointed log")
    path = merkle.inclusion_proof(index, leaves)
    root = bytes.fromhex(checkpoint["root"])
    if not merkle.verify_inclusion(index, len(leaves), leaves[index], path, root):
        raise VerificationError(f"{item}: inclusion proof does not verify against the checkpoint")
    return InclusionProof(
        statement=leaves[index].hex(),
        index=index,
        tree_size=len(leaves),
        root=checkpoint["root"],
        checkpoint=checkpoint["seq"],
        checkpoint_sha256=hashlib.sha256(data).hexdigest(),
        path=tuple(node.hex() for node in path),
    )
