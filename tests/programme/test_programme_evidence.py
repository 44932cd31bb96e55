"""The ``evidence`` section of the programme file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.errors import InputError
from assay.evidence.backends import LocalBackend
from assay.evidence.service import backend_for, key_path, retention
from assay.programme import load
from assay.programme.model import StorageKind
from assay.programme.starter import starter_text


def write(tmp_path: Path, evidence: str) -> Path:
    text = starter_text()
    text = text[: text.index("evidence:")] + evidence
    path = tmp_path / "assay.yaml"
    path.write_text(text)
    return path


def test_defaults_keep_the_locker_and_key_beside_the_file(tmp_path: Path) -> None:
    programme = load(write(tmp_path, "evidence: {}\n"))
    assert programme.evidence.storage is StorageKind.LOCAL
    backend = backend_for(programme)
    assert isinstance(backend, LocalBackend)
    assert backend.root == tmp_path / ".assay" / "locker"
    assert key_path(programme) == tmp_path / ".assay" / "keys" / "signing-key.pem"
    assert retention(programme).until("payload").date().year == programme.audit.period.end.year + 1


def test_s3_needs_a_bucket_and_the_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "evidence:\n  storage: s3\n")
    line = path.read_text().splitlines().index("evidence:") + 1  # the mapping missing it
    with pytest.raises(InputError, match=rf":{line}: evidence.bucket: storage s3 needs a bucket"):
        load(path)


def test_retention_can_differ_by_kind_of_evidence(tmp_path: Path) -> None:
    programme = load(write(tmp_path, "evidence:\n  retention_days_by_kind: {payload: 30}\n"))
    policy = retention(programme)
    assert (policy.until("snapshot") - policy.until("payload")).days == 365 - 30
    with pytest.raises(InputError, match="unknown kind of evidence 'payloads'"):
        load(write(tmp_path, "evidence:\n  retention_days_by_kind: {payloads: 30}\n"))


def test_unknown_evidence_keys_are_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown key 'retention'"):
        load(write(tmp_path, "evidence:\n  retention: 30\n"))
