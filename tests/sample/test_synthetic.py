"""The synthetic organisation: a run on it reports exactly what was planted, and it is
reproducible from its seed."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from assay.checks.base import POPULATIONS
from assay.checks.models import RecordedFinding
from assay.errors import InputError
from assay.evidence.service import create_signing_key
from assay.monitor.run import execute
from assay.programme import load
from assay.sample import PlantedFinding
from assay.sample.synthetic import EXTRA_PLANTS, PERSON_PLANTS, generate

PEOPLE = 150


def _files(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.mark.db
@pytest.mark.django_db
def test_run_reports_exactly_the_planted_problems(tmp_path: Path) -> None:
    directory = tmp_path / "org"
    planted = generate(directory, people=PEOPLE, systems=20, seed=7)
    programme = load(directory / "assay.yaml")
    create_signing_key(programme)

    outcome = execute(programme)

    recorded = {
        PlantedFinding(f.check_id, f.rule, f.system_id, f.subject)
        for f in RecordedFinding.objects.all()
    }
    assert recorded == set(planted)
    assert len(outcome.findings) == len(planted)
    written = json.loads((directory / "planted-problems.json").read_text())
    assert written == [asdict(p) for p in planted]
    assert len(outcome.snapshots) == 20
    for snapshot in outcome.snapshots:  # each connector reads what it says it reads
        held = {population for population in POPULATIONS if snapshot.holds(population)}
        assert held and held <= snapshot.populations, snapshot.system_id
    rules = {p.rule for p in planted}
    assert rules >= {
        "mfa_not_registered",
        "mfa_not_enforced",
        "leaver_active_account",
        "leaver_active_credential",
        "orphan_account",
        "service_account_owner_unknown",
        "key_not_rotated",
        "key_unused",
        "dormant_account",
        "privileged_without_mfa",
        "late_deprovisioning",
        "undeclared_system",
        "shared_account",
        "root_has_keys",
    }


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", people=PEOPLE, seed=3)
    again = generate(tmp_path / "b", people=PEOPLE, seed=3)
    other = generate(tmp_path / "c", people=PEOPLE, seed=4)

    assert first == again
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a") != _files(tmp_path / "c")
    assert {p.subject for p in first} != {p.subject for p in other}


def test_every_plant_kind_is_planted(tmp_path: Path) -> None:
    planted = generate(tmp_path / "org", people=PEOPLE, systems=9)
    assert len(planted) >= len(PERSON_PLANTS) + len(EXTRA_PLANTS)
    systems = {p.system for p in planted}
    assert {"okta", "google", "github", "aws", "db-01", "host-01"} <= systems


def test_too_few_people_or_systems_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="people"):
        generate(tmp_path / "small", people=5)
    with pytest.raises(InputError, match="systems"):
        generate(tmp_path / "few", people=PEOPLE, systems=3)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "mine").write_text("keep")
    with pytest.raises(InputError, match="not empty"):
        generate(tmp_path / "used", people=PEOPLE)
