"""What a writer resumes from: the subject heads each checkpoint signs, as a full map or as the
changes since the previous checkpoint, and lockers whose checkpoints use earlier formats."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.evidence.conftest import RETAIN, append_run, evidence_items

from assay.errors import AssayError, VerificationError
from assay.evidence.backends import Backend, LocalBackend
from assay.evidence.canonical import canonical_json
from assay.evidence.locker import CHANGES_BETWEEN_MAPS, CHECKPOINT_VERSION, Locker
from assay.evidence.signing import generate_key, load_key
from assay.evidence.statements import NewEvidence
from assay.evidence.verify import verify

GOLDEN = Path(__file__).parent / "golden"


def bodies(backend: Backend) -> list[dict[str, Any]]:
    return [
        json.loads(backend.get(name))
        for name in backend.names("checkpoints/")
        if name.endswith(".json")
    ]


def assert_each_statement_links_to_its_subjects_previous(locker: Locker) -> None:
    last: dict[str, str] = {}
    for identifier, statement in locker.statements():
        assert statement.previous == last.get(statement.chain), statement.chain
        last[statement.chain] = identifier


def test_checkpoints_sign_changes_until_they_would_outgrow_the_last_full_map(
    tmp_path: Path,
) -> None:
    key = generate_key(tmp_path / "key.pem")
    backend = LocalBackend(tmp_path / "locker")
    for run in range(5):  # the same five subjects every run
        append_run(backend, key, run)
    assert [body["heads_changes"] for body in bodies(backend)] == [
        False,  # the first checkpoint: every head
        True,  # five changes: no more than the five in the last map
        False,  # ten changes would outgrow it
        True,
        False,
    ]
    assert_each_statement_links_to_its_subjects_previous(Locker(backend))
    assert verify(backend, anchor=key.id).checkpoints == 5


def test_idle_checkpoints_sign_no_changes_and_a_full_map_now_and_then(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "key.pem")
    backend = LocalBackend(tmp_path / "locker")
    append_run(backend, key, 0)
    for _ in range(CHANGES_BETWEEN_MAPS + 1):  # a scheduler's hourly checkpoints, nothing new
        with Locker(backend).writer(key) as writer:
            writer.checkpoint()
    signed = bodies(backend)
    assert [body["heads_changes"] for body in signed] == (
        [False] + [True] * CHANGES_BETWEEN_MAPS + [False]
    )
    assert len({body["heads_sha256"] for body in signed[1:-1]}) == 1  # the empty changes
    assert backend.get(f"heads/{signed[1]['heads_sha256']}.json") == b"{}"
    append_run(backend, key, 1)  # resumes from the full map after the idle ones
    assert_each_statement_links_to_its_subjects_previous(Locker(backend))
    assert verify(backend, anchor=key.id).checkpoints == CHANGES_BETWEEN_MAPS + 3


@pytest.mark.parametrize(
    ("runs_before", "forge"),
    [(0, "heads"), (1, "changed")],
    ids=["full map", "changes"],
)
def test_a_checkpoint_signing_heads_the_log_does_not_have_fails(
    tmp_path: Path, runs_before: int, forge: str
) -> None:
    key = generate_key(tmp_path / "key.pem")
    backend = LocalBackend(tmp_path / "locker")
    for run in range(runs_before):
        append_run(backend, key, run)
    with Locker(backend).writer(key) as writer:
        writer.append(evidence_items(9), RETAIN)
        getattr(writer.head, forge)["payload/okta/users-0.json"] = "0" * 64  # a faulty writer
        writer.checkpoint()
    seq = runs_before + 1
    with pytest.raises(VerificationError) as failure:
        verify(backend, anchor=key.id)
    assert str(failure.value) == f"checkpoints/{seq:012d}.json: subject heads do not match the log"


@pytest.mark.parametrize("version", [1, 2])
def test_a_locker_with_earlier_checkpoints_verifies_and_grows(tmp_path: Path, version: int) -> None:
    shutil.copytree(GOLDEN / f"checkpoint-v{version}", tmp_path / "old")
    (tmp_path / "old" / "key.pem").chmod(0o600)
    key = load_key(tmp_path / "old" / "key.pem")
    backend = LocalBackend(tmp_path / "old" / "locker")
    report = verify(backend, anchor=key.id)
    assert (report.statements, report.checkpoints) == (4, 3)
    assert {body["v"] for body in bodies(backend)} == {version}
    again = NewEvidence("payload", "okta/users.json", b"users 3", datetime.now(UTC))
    for _ in range(2):  # the first checkpoint after the old ones, then one resuming from it
        with Locker(backend).writer(key) as writer:
            writer.append([again], RETAIN)
            writer.checkpoint()
    assert_each_statement_links_to_its_subjects_previous(Locker(backend))
    report = verify(backend, anchor=key.id)
    assert (report.statements, report.checkpoints) == (6, 5)
    assert [body["v"] for body in bodies(backend)][-2:] == [3, 3]


def test_a_checkpoint_format_newer_than_this_assay_is_refused(tmp_path: Path) -> None:
    """Read by older rules it could pass what should fail, and a writer resuming from it could
    append links it does not understand."""
    key = generate_key(tmp_path / "key.pem")
    backend = LocalBackend(tmp_path / "locker")
    append_run(backend, key, 0)
    name = "checkpoints/000000000001.json"
    body = {k: v for k, v in json.loads(backend.get(name)).items() if k != "signature"}
    body["v"] = CHECKPOINT_VERSION + 1
    (tmp_path / "locker" / name).write_bytes(canonical_json({**body, "signature": key.sign(body)}))
    expected = (
        f"{name}: checkpoint format {CHECKPOINT_VERSION + 1}, newer than this Assay reads "
        f"({CHECKPOINT_VERSION}); upgrade Assay"
    )
    for attempt in (lambda: verify(backend, anchor=key.id), lambda: append_run(backend, key, 1)):
        with pytest.raises(AssayError) as refused:
            attempt()
        assert not isinstance(refused.value, VerificationError)  # not tampering: exit 1
        assert str(refused.value) == expected
