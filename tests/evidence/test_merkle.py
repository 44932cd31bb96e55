"""RFC 9162 Merkle trees: published vectors, a naive reference built from the RFC's
definitions, and properties that tampering with any part of a proof breaks it."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.evidence.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

Range = tuple[int, int]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# The reference: the RFC's recursive definitions transcribed as literally as possible, with
# list slices and no cleverness, so it shares nothing with the module's iterative code.


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = largest_power_of_two_below(len(leaves))
    return sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:]))


def ref_path(m: int, lo: int, hi: int) -> list[Range]:
    """PATH(m, D[lo:hi]) as the leaf ranges whose roots it lists (m is absolute)."""
    if hi - lo == 1:
        return []
    k = largest_power_of_two_below(hi - lo)
    if m < lo + k:
        return [*ref_path(m, lo, lo + k), (lo + k, hi)]
    return [*ref_path(m, lo + k, hi), (lo, lo + k)]


def ref_subproof(m: int, lo: int, hi: int, whole: bool) -> list[Range]:
    """SUBPROOF(m, D[lo:hi], b) as leaf ranges (m counts from lo)."""
    if m == hi - lo:
        return [] if whole else [(lo, hi)]
    k = largest_power_of_two_below(hi - lo)
    if m <= k:
        return [*ref_subproof(m, lo, lo + k, whole), (lo + k, hi)]
    return [*ref_subproof(m - k, lo + k, hi, False), (lo, lo + k)]


def ref_hashes(leaves: list[bytes], ranges: list[Range]) -> list[bytes]:
    return [ref_mth(leaves[a:b]) for a, b in ranges]


def is_power_of_two(n: int) -> bool:
    return n & (n - 1) == 0


# A root does not commit to the tree size, so a proof for one size also verifies at another
# whenever the two sizes put the same shape of tree around the proven nodes. These "shapes"
# say, from the reference alone, when that happens; with distinct leaves, any other claimed
# size must fail.


def inclusion_shape(index: int, size: int) -> tuple[bool, ...]:
    """For each sibling on the path, whether it lies to the right of the leaf."""
    return tuple(a > index for a, _ in ref_path(index, 0, size))


def consistency_shape(old_size: int, new_size: int) -> tuple[bool, tuple[bool, ...]]:
    """Whether the verifier prepends the old root, then for each later node whether it lies
    right of the first (so only the new root covers it)."""
    ranges = ref_subproof(old_size, 0, new_size, True)
    if is_power_of_two(old_size):
        ranges = [(0, old_size), *ranges]
    _, first_end = ranges[0]
    return is_power_of_two(old_size), tuple(a >= first_end for a, _ in ranges[1:])


def flipped(digest: bytes) -> bytes:
    return bytes([digest[0] ^ 1]) + digest[1:]


@st.composite
def trees(draw: st.DrawFn) -> list[bytes]:
    """Leaf hashes of distinct entries, so no two subtrees can share a root by accident."""
    size = draw(st.integers(1, 200))
    salt = draw(st.binary(max_size=4))
    return [leaf_hash(salt + j.to_bytes(2, "big")) for j in range(size)]


# The Certificate Transparency reference tree (RFC 6962 hashing, unchanged in RFC 9162), with
# the roots and proof nodes published alongside the CT and Trillian verifiers.
CT_ENTRIES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_LEAVES = [leaf_hash(entry) for entry in CT_ENTRIES]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAF_1 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
LEAF_4 = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
LEAF_6 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
NODE_2_4 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
NODE_4_6 = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
NODE_4_8 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"


def test_the_empty_tree_has_the_root_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]
    assert root([]) == EMPTY_ROOT
    assert Frontier().root() == EMPTY_ROOT
    assert Frontier().size == 0


def test_leaf_and_node_hashes_carry_their_domain_prefixes() -> None:
    assert leaf_hash(b"") == sha256(b"\x00")
    assert leaf_hash(b"").hex() == CT_ROOTS[1]
    assert root([leaf_hash(b"")]) == leaf_hash(b"")
    left, right = sha256(b"left"), sha256(b"right")
    assert node_hash(left, right) == sha256(b"\x01" + left + right)
    # SHA-256(0x01 || SHA-256(0x00) || SHA-256(0x00)), from sha256sum.
    twin = "fe43d66afa4a9a5c4f9c9da89f4ffb52635c8f342e7ffb731d68e36c5982072a"
    assert root([leaf_hash(b""), leaf_hash(b"")]).hex() == twin


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_published_reference_tree(size: int) -> None:
    assert root(CT_LEAVES[:size]).hex() == CT_ROOTS[size]
    frontier = Frontier()
    for leaf in CT_LEAVES[:size]:
        frontier.append(leaf)
    assert frontier.root().hex() == CT_ROOTS[size]


@pytest.mark.parametrize(
    ("index", "size", "expected"),
    [
        (0, 8, [LEAF_1, NODE_2_4, NODE_4_8]),
        (5, 8, [LEAF_4, LEAF_6, CT_ROOTS[4]]),
        (2, 3, [CT_ROOTS[2]]),
        (1, 5, [CT_ROOTS[1], NODE_2_4, LEAF_4]),
    ],
)
def test_inclusion_proofs_match_the_published_reference_tree(
    index: int, size: int, expected: list[str]
) -> None:
    proof = inclusion_proof(index, CT_LEAVES[:size])
    assert [node.hex() for node in proof] == expected
    assert verify_inclusion(index, size, CT_LEAVES[index], proof, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize(
    ("old_size", "new_size", "expected"),
    [
        (1, 1, []),
        (1, 8, [LEAF_1, NODE_2_4, NODE_4_8]),
        (6, 8, [NODE_4_6, LEAF_6, CT_ROOTS[4]]),
        (2, 5, [NODE_2_4, LEAF_4]),
    ],
)
def test_consistency_proofs_match_the_published_reference_tree(
    old_size: int, new_size: int, expected: list[str]
) -> None:
    proof = consistency_proof(old_size, CT_LEAVES[:new_size])
    assert [node.hex() for node in proof] == expected
    old_root, new_root = bytes.fromhex(CT_ROOTS[old_size]), bytes.fromhex(CT_ROOTS[new_size])
    assert verify_consistency(old_size, new_size, old_root, new_root, proof)


def test_root_agrees_with_the_naive_reference_for_every_size_up_to_300() -> None:
    leaves = [leaf_hash(j.to_bytes(2, "big")) for j in range(300)]
    for size in range(301):
        assert root(leaves[:size]) == ref_mth(leaves[:size]), size


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=16), max_size=200))
def test_frontier_root_equals_the_tree_root_at_every_size(entries: list[bytes]) -> None:
    leaves = [leaf_hash(entry) for entry in entries]
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for size, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.size == size
        assert frontier.root() == root(leaves[:size])


@settings(max_examples=60, deadline=None)
@given(trees(), st.data())
def test_every_inclusion_proof_verifies_and_any_change_breaks_it(
    leaves: list[bytes], data: st.DataObject
) -> None:
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    tree_root = root(leaves)
    leaf = leaves[index]
    proof = inclusion_proof(index, leaves)

    assert proof == ref_hashes(leaves, ref_path(index, 0, size))
    assert verify_inclusion(index, size, leaf, proof, tree_root)

    assert not verify_inclusion(index, size, flipped(leaf), proof, tree_root)
    assert not verify_inclusion(index, size, leaf, proof, flipped(tree_root))
    for other in range(size):
        if other != index:
            assert not verify_inclusion(other, size, leaf, proof, tree_root)
            assert not verify_inclusion(other, size, leaves[other], proof, tree_root)
    for position in range(len(proof)):
        tampered = [*proof]
        tampered[position] = flipped(tampered[position])
        assert not verify_inclusion(index, size, leaf, tampered, tree_root)
    for wrong_length in (proof[:-1], proof[1:], [*proof, leaf], [leaf, *proof]):
        if wrong_length != proof:
            assert not verify_inclusion(index, size, leaf, wrong_length, tree_root)
    for claimed in range(2 * size + 2):
        if claimed != size:
            same_shape = index < claimed and inclusion_shape(index, claimed) == (
                inclusion_shape(index, size)
            )
            assert verify_inclusion(index, claimed, leaf, proof, tree_root) is same_shape


@settings(max_examples=60, deadline=None)
@given(trees(), st.data())
def test_every_consistency_proof_verifies_and_any_change_breaks_it(
    leaves: list[bytes], data: st.DataObject
) -> None:
    new_size = len(leaves)
    old_size = data.draw(st.integers(0, new_size), label="old_size")
    old_root, new_root = root(leaves[:old_size]), root(leaves)
    proof = consistency_proof(old_size, leaves)

    if 0 < old_size < new_size:
        assert proof == ref_hashes(leaves, ref_subproof(old_size, 0, new_size, True))
    else:
        assert proof == []
    assert verify_consistency(old_size, new_size, old_root, new_root, proof)

    for extended in ([*proof, new_root], [old_root, *proof]):
        assert not verify_consistency(old_size, new_size, old_root, new_root, extended)
    assert not verify_consistency(old_size, new_size, flipped(old_root), new_root, proof)
    if old_size == 0:
        return  # Every tree extends the empty one: the new root has nothing to be checked against.

    assert not verify_consistency(old_size, new_size, old_root, flipped(new_root), proof)
    for position in range(len(proof)):
        tampered = [*proof]
        tampered[position] = flipped(tampered[position])
        assert not verify_consistency(old_size, new_size, old_root, new_root, tampered)
    if proof:
        for truncated in (proof[:-1], proof[1:]):
            assert not verify_consistency(old_size, new_size, old_root, new_root, truncated)

    def verifies_as(claimed_old: int, claimed_new: int) -> bool:
        return verify_consistency(claimed_old, claimed_new, old_root, new_root, proof)

    def same_shape(claimed_old: int, claimed_new: int) -> bool:
        if old_size == new_size or not 0 < claimed_old < claimed_new:
            return False
        return consistency_shape(claimed_old, claimed_new) == (
            consistency_shape(old_size, new_size)
        )

    for claimed_old in range(new_size + 2):
        if claimed_old != old_size:
            assert verifies_as(claimed_old, new_size) is same_shape(claimed_old, new_size)
    for claimed_new in range(2 * new_size + 2):
        if claimed_new != new_size:
            assert verifies_as(old_size, claimed_new) is same_shape(old_size, claimed_new)


def test_a_root_alone_does_not_fix_the_tree_size() -> None:
    """Why the size must come from the same signed checkpoint as the root: read as size 4,
    the size-3 tree's last leaf passes for the root of leaves 2..3."""
    leaves = CT_LEAVES[:3]
    proof = inclusion_proof(0, leaves)
    assert verify_inclusion(0, 4, leaves[0], proof, root(leaves))
    assert verify_consistency(1, 4, leaves[0], root(leaves), consistency_proof(1, leaves))


@pytest.mark.parametrize(("index", "size"), [(-1, 3), (3, 3), (0, 0)])
def test_an_inclusion_proof_needs_a_leaf_inside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="outside a tree"):
        inclusion_proof(index, CT_LEAVES[:size])


@pytest.mark.parametrize("old_size", [-1, 4])
def test_a_consistency_proof_needs_an_old_size_within_the_new(old_size: int) -> None:
    with pytest.raises(ValueError, match="not between 0 and the new size"):
        consistency_proof(old_size, CT_LEAVES[:3])


@pytest.mark.parametrize(
    ("index", "size", "proof"),
    [
        (-1, 3, [CT_LEAVES[0]]),
        (3, 3, []),
        (0, 0, []),
        (0, -1, []),
        (0, 1, [CT_LEAVES[1]]),
        (0, 2, []),
        (0, 2, [b""]),
    ],
)
def test_inclusion_verification_rejects_malformed_claims(
    index: int, size: int, proof: list[bytes]
) -> None:
    assert not verify_inclusion(index, size, CT_LEAVES[0], proof, root(CT_LEAVES[:2]))


def test_consistency_verification_rejects_malformed_claims() -> None:
    one, two = root(CT_LEAVES[:1]), root(CT_LEAVES[:2])
    assert not verify_consistency(2, 1, two, one, [])
    assert not verify_consistency(-1, 2, EMPTY_ROOT, two, [])
    assert not verify_consistency(0, -1, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(2, 2, two, two, [two])
    assert not verify_consistency(0, 2, EMPTY_ROOT, two, [two])
    assert not verify_consistency(1, 2, one, two, [])
    assert not verify_consistency(1, 2, one, two, [b""])
    assert not verify_consistency(3, 5, one, two, [CT_LEAVES[1]])


def test_a_proof_longer_than_the_claimed_path_fails_even_when_it_reaches_the_root() -> None:
    """Extra nodes past the top of a smaller claimed tree could rebuild the real root."""
    two = root(CT_LEAVES[:2])
    assert verify_inclusion(1, 2, CT_LEAVES[1], [CT_LEAVES[0]], two)
    assert not verify_inclusion(0, 1, CT_LEAVES[1], [CT_LEAVES[0]], two)
    # 7 -> 8 is 3 -> 4 inside the right half, plus the left half's root on top.
    seven, eight = root(CT_LEAVES[:7]), root(CT_LEAVES)
    proof = consistency_proof(7, CT_LEAVES)
    assert verify_consistency(7, 8, seven, eight, proof)
    assert not verify_consistency(3, 4, seven, eight, proof)


def test_frontier_resumes_from_its_saved_peaks() -> None:
    leaves = [leaf_hash(bytes([n])) for n in range(23)]
    whole = Frontier()
    for leaf in leaves[:13]:
        whole.append(leaf)
    resumed = Frontier.from_nodes(whole.size, whole.nodes)
    for leaf in leaves[13:]:
        whole.append(leaf)
        resumed.append(leaf)
    assert resumed.root() == whole.root() == root(leaves)
    with pytest.raises(ValueError):
        Frontier.from_nodes(13, whole.nodes[:1])
