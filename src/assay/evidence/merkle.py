"""RFC 9162 (Certificate Transparency v2) Merkle trees over SHA-256.

The evidence log commits to its statements with the same tree as CT, so any auditor can check
inclusion and append-only growth with an off-the-shelf verifier instead of trusting ours.

Every function below works on leaf *hashes* (``leaf_hash(data)``), never on raw entries: the
caller hashes once, and the proofs and roots are the RFC's byte for byte. A root does not
commit to the tree size, so a verifier must take the size from the same signed checkpoint as
the root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "Frontier",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "leaf_hashes",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

_sha256 = hashlib.sha256
_LEAF = b"\x00"
_NODE = b"\x01"

EMPTY_ROOT: bytes = _sha256(b"").digest()
"""MTH({}): the root of a tree with no leaves."""


def leaf_hash(data: bytes) -> bytes:
    """The leaf prefix keeps a leaf from ever being passed off as an interior node."""
    return _sha256(_LEAF + data).digest()


def leaf_hashes(entries: Iterable[bytes]) -> list[bytes]:
    """``leaf_hash`` of many entries: a verifier hashes whole batches. Copying a hash that has
    taken the prefix is cheaper than joining the prefix to every entry."""
    prefixed = _sha256(_LEAF)
    hashes = []
    for data in entries:
        leaf = prefixed.copy()
        leaf.update(data)
        hashes.append(leaf.digest())
    return hashes


def node_hash(left: bytes, right: bytes) -> bytes:
    """An interior node: the 0x01 prefix separates it from every leaf hash."""
    return _sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The RFC's k for n >= 2: the largest power of two strictly smaller than n."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_root(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]), a level at a time, so a million leaves cost one pass per level.

    Pairing left to right and carrying an odd last node up unchanged builds exactly the RFC's
    tree: every split point k is a power of two, so pairs never straddle it.
    """
    if lo == hi:
        return EMPTY_ROOT
    level = leaves[lo:hi]
    while len(level) > 1:
        pairs = zip(level[::2], level[1::2], strict=False)  # an odd last node is carried below
        paired = [_sha256(_NODE + a + b).digest() for a, b in pairs]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    return _subtree_root(leaves, 0, len(leaves))


class Frontier:
    """Incremental root: append leaf hashes one at a time in O(log n) memory; root at any size.

    It keeps the roots of the perfect subtrees that the binary digits of ``size`` describe,
    largest first, so an append merges like a carry in a binary counter.
    """

    __slots__ = ("_peaks", "_size")

    def __init__(self) -> None:
        self._peaks: list[bytes] = []
        self._size = 0

    @classmethod
    def from_nodes(cls, size: int, nodes: Sequence[bytes]) -> Frontier:
        """Resume from saved peaks (``nodes``), as a checkpoint records them."""
        if size < 0 or len(nodes) != size.bit_count() or any(len(n) != 32 for n in nodes):
            raise ValueError(f"{len(nodes)} peaks do not describe a tree of {size} leaves")
        frontier = cls()
        frontier._peaks = list(nodes)
        frontier._size = size
        return frontier

    @property
    def nodes(self) -> tuple[bytes, ...]:
        """The peaks: roots of the perfect subtrees, largest first."""
        return tuple(self._peaks)

    @property
    def size(self) -> int:
        """How many leaves have been appended."""
        return self._size

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash; amortised one node hash per append."""
        peaks = self._peaks
        carry = self._size
        while carry & 1:
            leaf = _sha256(_NODE + peaks.pop() + leaf).digest()
            carry >>= 1
        peaks.append(leaf)
        self._size += 1

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Add many leaf hashes a level at a time: the same tree as appending them one by one,
        with each level's node hashes made in one comprehension instead of a loop per leaf.

        At height h the new complete nodes start just after the old tree's; when the old size has
        bit h set, its peak of that height is their left neighbour and pairs with the first one.
        An odd last node is the new tree's peak of that height.
        """
        peaks = self._peaks
        size = self._size
        level = list(leaves)
        raised: list[bytes] = []  # new peaks, lowest first
        height = 0
        while level:
            if size >> height & 1:
                level.insert(0, peaks.pop())
            if len(level) % 2:
                raised.append(level.pop())
            pairs = zip(level[::2], level[1::2], strict=True)
            level = [_sha256(_NODE + left + right).digest() for left, right in pairs]
            height += 1
        peaks.extend(reversed(raised))
        self._size = size + len(leaves)

    def root(self) -> bytes:
        """The RFC's root splits off the largest perfect subtree first, so fold right to left."""
        peaks = self._peaks
        if not peaks:
            return EMPTY_ROOT
        result = peaks[-1]
        for peak in reversed(peaks[:-1]):
            result = _sha256(_NODE + peak + result).digest()
        return result


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]) (RFC 9162 §2.1.3.1): the sibling roots from the leaf up to the root."""
    size = len(leaves)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            path.append(_subtree_root(leaves, mid, hi))
            hi = mid
        else:
            path.append(_subtree_root(leaves, lo, mid))
            lo = mid
    path.reverse()
    return path


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``leaf`` sit at ``index`` in the tree of ``size`` with this root?"""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    result = leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == expected_root


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(old_size, D[n]) (RFC 9162 §2.1.4.1): shows the old tree is a prefix of the new one.

    Empty when there is nothing to prove: the old tree is empty or the same as the new one.
    """
    new_size = len(leaves)
    if not 0 <= old_size <= new_size:
        raise ValueError(f"old size {old_size} is not between 0 and the new size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    # SUBPROOF(m, D[lo:hi], whole_old_tree), unrolled: m counts old leaves from lo.
    lo, hi, m, whole_old_tree = 0, new_size, old_size, True
    while m != hi - lo:
        mid = lo + _split(hi - lo)
        if m <= mid - lo:
            proof.append(_subtree_root(leaves, mid, hi))
            hi = mid
        else:
            proof.append(_subtree_root(leaves, lo, mid))
            m -= mid - lo
            lo = mid
            whole_old_tree = False
    if not whole_old_tree:
        proof.append(_subtree_root(leaves, lo, hi))
    proof.reverse()
    return proof


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of ``old_size`` a prefix of the tree of ``new_size``?

    The trivial cases take the empty proof: equal sizes need equal roots, and every tree
    extends the empty one (whose root is fixed).
    """
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_result = new_result = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old_result = node_hash(node, old_result)
            new_result = node_hash(node, new_result)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            new_result = node_hash(new_result, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and old_result == old_root and new_result == new_root
