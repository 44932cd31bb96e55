"""``assay verify``, ``assay evidence …`` and ``assay audit export`` as a user meets them."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from assay.cli import main
from assay.evidence.models import Checkpoint, EvidenceItem

Capture = pytest.CaptureFixture[str]
pytestmark = [pytest.mark.db, pytest.mark.django_db]


@pytest.fixture
def ran(sample: Path, capsys: Capture) -> Path:
    """The sample organisation after two runs."""
    programme = sample / "assay.yaml"
    assert main(["run", "--file", str(programme)]) == 0
    assert main(["run", "--file", str(programme)]) == 0
    capsys.readouterr()
    return programme


def test_a_run_fills_the_locker_and_verify_passes(ran: Path, capsys: Capture) -> None:
    items = EvidenceItem.objects.count()
    assert items > 0
    assert Checkpoint.objects.count() == 2
    assert main(["verify", "--file", str(ran)]) == 0
    out = capsys.readouterr().out
    statements = items + 2  # and each run's outcome, appended once its rows are committed
    assert f"verified: {statements} statements, 2 checkpoints, {statements} blobs" in out
    assert "runs: 2 completed, 0 failed, 0 no outcome recorded\n" in out


def test_verify_exits_3_naming_the_broken_item(ran: Path, capsys: Capture) -> None:
    batch = ran.parent / ".assay/locker/log/000000000003.jsonl"  # the second run's evidence
    lines = batch.read_bytes().splitlines()
    batch.write_bytes(b"\n".join(lines[:-1]) + b"\n")
    assert main(["verify", "--file", str(ran)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("assay: packs/") and "holds bytes no statement names" in err
    assert err.count("\n") == 1


def test_a_deleted_last_checkpoint_is_noticed_through_the_database(
    ran: Path, capsys: Capture
) -> None:
    (ran.parent / ".assay/locker/checkpoints/000000000002.json").unlink()
    assert main(["verify", "--file", str(ran)]) == 3
    assert "recorded by the database but missing" in capsys.readouterr().err


def test_prove_and_consistency_print_checkable_proofs(ran: Path, capsys: Capture) -> None:
    from assay.evidence import merkle

    item = EvidenceItem.objects.filter(kind="snapshot", subject="okta").first()
    assert item is not None
    assert main(["evidence", "prove", item.statement_id, "--file", str(ran)]) == 0
    proof = json.loads(capsys.readouterr().out)
    assert proof["index"] == item.leaf_index
    assert merkle.verify_inclusion(
        proof["index"],
        proof["tree_size"],
        bytes.fromhex(proof["statement"]),
        [bytes.fromhex(p) for p in proof["proof"]],
        bytes.fromhex(proof["root"]),
    )
    assert main(["evidence", "consistency", "1", "2", "--file", str(ran)]) == 0
    consistency = json.loads(capsys.readouterr().out)
    assert merkle.verify_consistency(
        consistency["old"]["size"],
        consistency["new"]["size"],
        bytes.fromhex(consistency["old"]["root"]),
        bytes.fromhex(consistency["new"]["root"]),
        [bytes.fromhex(p) for p in consistency["proof"]],
    )
    assert main(["evidence", "prove", "f" * 64, "--file", str(ran)]) == 2


def test_checkpoint_rotate_key_and_verify(ran: Path, capsys: Capture) -> None:
    assert main(["evidence", "checkpoint", "--file", str(ran)]) == 0
    assert main(["evidence", "rotate-key", "--file", str(ran)]) == 0
    assert main(["run", "--file", str(ran)]) == 0
    assert main(["verify", "--file", str(ran)]) == 0
    assert "4 checkpoints" in capsys.readouterr().out


def test_the_auditor_package_verifies_offline(ran: Path, tmp_path: Path, capsys: Capture) -> None:
    package = tmp_path / "package"
    today = date.today().isoformat()
    assert (
        main(["audit", "export", str(package), "--from", today, "--to", today, "--file", str(ran)])
        == 0
    )
    assert (package / "README.md").read_text().startswith("# Evidence package")
    anchor = Checkpoint.objects.get(seq=1).key_id
    offline = tmp_path / "elsewhere"
    shutil.copytree(package, offline)
    shutil.rmtree(ran.parent / ".assay")  # no database, no locker: the package stands alone
    capsys.readouterr()
    assert main(["verify", str(offline), "--trust", anchor]) == 0
    assert f"trust anchor): {anchor}" in capsys.readouterr().out
    pack = next((offline / "packs").iterdir())
    pack.write_bytes(b"tampered")
    assert main(["verify", str(offline)]) == 3
    assert f"packs/{pack.name}: content does not match the manifest" in capsys.readouterr().err


def test_a_package_must_hold_the_checkpoint_an_auditor_pinned_earlier(
    ran: Path, tmp_path: Path, capsys: Capture
) -> None:
    """The auditor records the latest checkpoint at one look; a later package cut back before it
    fails, one that grew past it verifies."""
    today = date.today().isoformat()
    export = ["audit", "export", "--from", today, "--to", today, "--file", str(ran)]
    assert main([*export, str(tmp_path / "first")]) == 0
    assert main(["verify", str(tmp_path / "first")]) == 0
    printed = capsys.readouterr().out.splitlines()[-1]
    second = Checkpoint.objects.get(seq=2)
    assert printed == f"latest checkpoint: 2:{second.sha256} (pin it with --checkpoint)"
    pin = printed.split()[2]

    assert main(["run", "--file", str(ran)]) == 0
    assert main([*export, str(tmp_path / "later")]) == 0
    assert main(["verify", str(tmp_path / "later"), "--checkpoint", pin]) == 0
    assert "3 checkpoints" in capsys.readouterr().out

    assert main(["verify", str(tmp_path / "first"), "--checkpoint", f"3:{second.sha256}"]) == 3
    assert capsys.readouterr().err == (
        "assay: checkpoints/000000000003.json: recorded by --checkpoint but missing\n"
    )
    assert main(["verify", str(tmp_path / "first"), "--checkpoint", f"1:{second.sha256}"]) == 3
    assert "000000000001.json: differs from the one recorded by --checkpoint" in (
        capsys.readouterr().err
    )
    assert main(["verify", "--file", str(ran), "--checkpoint", "2"]) == 2
    assert capsys.readouterr().err == (
        "assay: --checkpoint: expected SEQ:SHA256 (as verify prints), got '2'\n"
    )
    assert main(["verify", "--file", str(ran), "--checkpoint", f"²:{second.sha256}"]) == 2
    assert "--checkpoint: expected SEQ:SHA256" in capsys.readouterr().err


def test_a_package_window_leaves_out_other_blobs(
    ran: Path, tmp_path: Path, capsys: Capture
) -> None:
    package = tmp_path / "old"
    assert (
        main(
            [
                "audit",
                "export",
                str(package),
                "--from",
                "2020-01-01",
                "--to",
                "2020-12-31",
                "--file",
                str(ran),
            ]
        )
        == 0
    )
    assert not (package / "packs").exists()
    assert main(["verify", str(package)]) == 0
    assert "fall outside the package's window" in capsys.readouterr().out


def test_export_refuses_bad_dates_and_a_used_directory(ran: Path, tmp_path: Path) -> None:
    assert (
        main(
            [
                "audit",
                "export",
                str(tmp_path),
                "--from",
                "2026-13-01",
                "--to",
                "2026-12-31",
                "--file",
                str(ran),
            ]
        )
        == 2
    )
    (tmp_path / "x").write_text("mine")
    assert (
        main(
            [
                "audit",
                "export",
                str(tmp_path),
                "--from",
                "2026-01-01",
                "--to",
                "2026-12-31",
                "--file",
                str(ran),
            ]
        )
        == 2
    )
    assert main(["verify", str(tmp_path)]) == 2


def test_a_team_locker_on_s3_is_filled_by_runs_and_verifies(
    sample: Path, endpoint: str, capsys: Capture
) -> None:
    from tests.conftest import LOCKED_BUCKET

    programme = sample / "assay.yaml"
    programme.write_text(
        programme.read_text()
        + f"\nevidence:\n  storage: s3\n  bucket: {LOCKED_BUCKET}\n"
        + f"  prefix: team-{sample.parent.name}\n  endpoint_url: {endpoint}\n"
    )
    assert main(["run", "--file", str(programme)]) == 0
    assert main(["run", "--file", str(programme)]) == 0
    assert not (sample / ".assay" / "locker").exists()
    capsys.readouterr()
    assert main(["verify", "--file", str(programme)]) == 0
    statements = EvidenceItem.objects.count() + 2  # and the two runs' outcomes
    assert f"verified: {statements} statements, 2 checkpoints" in capsys.readouterr().out
