"""A statement's inclusion proof in the latest checkpoint: what ``assay evidence prove`` prints
and the web app hands out, computed in one place so both give the same, checked answer."""

from __future__ import annotations

from dataclasses import dataclass

from assay.errors import InputError, VerificationError
from assay.evidence import merkle
from assay.evidence.locker import Locker


@dataclass(frozen=True)
class InclusionProof:
    """RFC 9162 audit path of one leaf, against a signed checkpoint's root and size."""

    statement: str
    index: int
    tree_size: int
    root: str
    checkpoint: int
    proof: tuple[str, ...]


def inclusion_proof(locker: Locker, item: str) -> InclusionProof:
    """The proof of the statement whose id, or whose blob's sha-256, is ``item``.

    Raises ``InputError`` if no statement in the latest checkpoint matches, and
    ``VerificationError`` if the proof does not reproduce the checkpoint's root.
    """
    checkpoint = locker.checkpoint(locker.latest_checkpoint())
    leaves: list[bytes] = []
    index: int | None = None
    for identifier, statement in locker.statements():
        if len(leaves) == checkpoint["size"]:
            break
        if item in (identifier, statement.sha256):
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
        root=str(checkpoint["root"]),
        checkpoint=int(checkpoint["seq"]),
        proof=tuple(node.hex() for node in path),
    )
