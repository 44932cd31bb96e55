"""The locker end to end: append, checkpoint, prove, rotate keys, retain, timestamp, verify."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.evidence.conftest import ENDED, RETAIN, Built, append_run, build, evidence_items

from assay.errors import AssayError, VerificationError
from assay.evidence import merkle
from assay.evidence.backends import Backend, LocalBackend
from assay.evidence.locker import Locker, Timestamper
from assay.evidence.retention import prune
from assay.evidence.signing import generate_key
from assay.evidence.statements import Retention
from assay.evidence.verify import ExpectedCheckpoint, _end_to_end, verify


def test_a_fresh_locker_verifies_and_counts_everything(built: Built) -> None:
    report = verify(LocalBackend(built.root), anchor=built.key.id, expected=built.expected)
    assert (report.statements, report.checkpoints, report.blobs_verified) == (15, 3, 15)
    assert report.unchecked_tail == 0
    assert report.anchor == built.key.id
    assert [c.size for c in built.checkpoints] == [5, 10, 15]


def test_statements_chain_to_the_previous_statement_of_their_subject(built: Built) -> None:
    statements = list(built.locker().statements())
    manifests = [(i, s) for i, s in statements if s.kind == "snapshot"]
    assert manifests[0][1].previous is None
    assert manifests[1][1].previous == manifests[0][0]
    assert manifests[2][1].previous == manifests[1][0]


def test_every_statement_has_an_inclusion_proof_in_the_latest_checkpoint(built: Built) -> None:
    locker = built.locker()
    leaves = [bytes.fromhex(i) for i, _ in locker.statements()]
    root = bytes.fromhex(locker.checkpoint(locker.latest_checkpoint())["root"])
    for index, leaf in enumerate(leaves):
        proof = merkle.inclusion_proof(index, leaves)
        assert merkle.verify_inclusion(index, len(leaves), leaf, proof, root)


def test_every_pair_of_checkpoints_is_consistent(built: Built) -> None:
    locker = built.locker()
    leaves = [bytes.fromhex(i) for i, _ in locker.statements()]
    for old in built.checkpoints:
        for new in built.checkpoints[old.seq - 1 :]:
            proof = merkle.consistency_proof(old.size, leaves[: new.size])
            assert merkle.verify_consistency(
                old.size, new.size, bytes.fromhex(old.root), bytes.fromhex(new.root), proof
            )


def test_two_writers_at_once_append_in_turn_and_never_fork(built: Built) -> None:
    errors: list[BaseException] = []

    def write(run: int) -> None:
        try:
            append_run(LocalBackend(built.root), built.key, run)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(10 + n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = verify(LocalBackend(built.root), anchor=built.key.id)
    assert (report.statements, report.checkpoints) == (35, 7)


def test_an_interrupted_append_is_folded_in_by_the_next_writer(built: Built) -> None:
    backend = LocalBackend(built.root)
    with Locker(backend).writer(built.key) as writer:
        writer.append(evidence_items(7), RETAIN)  # crash before the checkpoint
    assert verify(backend, anchor=built.key.id).unchecked_tail == 5
    append_run(backend, built.key, 8)
    report = verify(backend, anchor=built.key.id)
    assert (report.statements, report.unchecked_tail) == (25, 0)


def test_rotated_keys_keep_old_checkpoints_verifiable(built: Built, tmp_path: Path) -> None:
    new = generate_key(tmp_path / "next.pem")
    built.locker().publish_rotation(built.key, new)
    append_run(LocalBackend(built.root), new, 5)
    report = verify(LocalBackend(built.root), anchor=built.key.id)
    assert report.checkpoints == 4


def test_a_key_nobody_endorsed_cannot_sign(built: Built, tmp_path: Path) -> None:
    stranger = generate_key(tmp_path / "stranger.pem")
    with pytest.raises(AssayError, match="not published"):
        append_run(LocalBackend(built.root), stranger, 9)


def test_pinning_another_anchor_fails(built: Built) -> None:
    with pytest.raises(VerificationError, match="not among the locker's keys"):
        verify(LocalBackend(built.root), anchor="0" * 32)


def test_retention_deletes_packs_with_tombstones_in_the_log(built: Built, tmp_path: Path) -> None:
    assert prune(built.locker(), built.key, RETAIN).deleted == ()  # kept until 2030
    ended = build(tmp_path / "ended", retention=ENDED)
    done = prune(ended.locker(), ended.key, RETAIN)
    assert len(done.deleted) == 3 and done.checkpoint is not None
    assert not list((ended.root / "packs").glob(f"{done.deleted[0]}.pack"))
    tombstones = [s for _, s in ended.locker().statements() if s.kind == "tombstone"]
    assert sorted(s.subject for s in tombstones) == sorted(done.deleted)
    expected = [*ended.expected, ExpectedCheckpoint(4, done.checkpoint.sha256)]
    report = verify(LocalBackend(ended.root), anchor=ended.key.id, expected=expected)
    assert (report.tombstoned, report.blobs_verified) == (15, 3)  # the tombstones' own blobs
    assert prune(ended.locker(), ended.key, RETAIN).deleted == ()  # tombstones are kept


def test_checkpoints_carry_a_verified_rfc3161_timestamp(tmp_path: Path) -> None:
    from tests.evidence.tsa import local_tsa

    (tmp_path / "tsa").mkdir()
    with local_tsa(tmp_path / "tsa") as authority:
        ca_pem = authority.root.cert_pem
        key = generate_key(tmp_path / "key.pem")
        backend = LocalBackend(tmp_path / "locker")
        stamper = Timestamper(authority.url(), ca_pem)
        with Locker(backend).writer(key, timestamper=stamper) as writer:
            writer.append(evidence_items(1), RETAIN)
            made = writer.checkpoint()
    token = backend.get("checkpoints/000000000001.tsr")
    assert token
    verify(backend, anchor=key.id, tsa_ca=ca_pem)
    verify(backend, anchor=key.id)  # the CA the locker carries
    flipped = bytearray(token)
    flipped[len(flipped) // 2] ^= 0x01
    (tmp_path / "locker/checkpoints/000000000001.tsr").write_bytes(bytes(flipped))
    with pytest.raises(VerificationError, match=r"000000000001\.tsr"):
        verify(backend, anchor=key.id, tsa_ca=ca_pem)
    assert made.sha256 == hashlib.sha256(backend.get("checkpoints/000000000001.json")).hexdigest()


def test_the_locker_works_the_same_on_s3(
    tmp_path: Path, s3_backend_factory: Callable[[], Backend]
) -> None:
    backend = s3_backend_factory()
    key = generate_key(tmp_path / "key.pem")
    for run in range(2):
        append_run(backend, key, run)
    report = verify(backend, anchor=key.id)
    assert (report.statements, report.checkpoints) == (10, 2)
    name = backend.names("packs/")[0]
    assert json.loads(backend.get(backend.names("checkpoints/")[-1]))["size"] == 10
    assert backend.get(name)


def test_each_kind_is_kept_for_its_own_period(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "key.pem")
    backend = LocalBackend(tmp_path / "locker")
    policy = Retention(RETAIN.default, {"payload": ENDED.default})
    with Locker(backend).writer(key) as writer:
        appended = writer.append(evidence_items(1), policy)
        writer.checkpoint()
    kept = {a.statement.kind: (a.statement.retain_until, a.statement.pack) for a in appended}
    assert kept["payload"][0] == appended[0].statement.recorded_at  # kept until recorded
    assert kept["snapshot"][0] == RETAIN.default
    assert kept["payload"][1] != kept["snapshot"][1]  # one pack per retention date
    done = prune(Locker(backend), key, RETAIN)
    assert done.deleted == (kept["payload"][1],)
    report = verify(backend, anchor=key.id)
    assert (report.tombstoned, report.blobs_verified) == (4, 2)


def test_an_empty_locker_names_the_checkpoint_someone_recorded(tmp_path: Path) -> None:
    pinned = ExpectedCheckpoint(2, "a" * 64, "--checkpoint")
    with pytest.raises(VerificationError) as failure:
        verify(LocalBackend(tmp_path / "empty"), expected=[pinned])
    assert (
        str(failure.value) == f"{tmp_path / 'empty'}: empty, but --checkpoint records checkpoint 2"
    )


@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 12)).map(lambda t: (t[0], t[0] + t[1])),
        max_size=8,
    ),
    st.randoms(use_true_random=False),
)
def test_which_bytes_of_a_pack_are_named_does_not_depend_on_statement_order(
    spans: list[tuple[int, int]], random: Random
) -> None:
    shuffled = list(spans)
    random.shuffle(shuffled)
    assert _end_to_end(shuffled) == _end_to_end(spans) == _end_to_end(sorted(set(spans)))
