"""Fixtures shared across the suite: the sample organisation, written once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assay.evidence.service import create_signing_key
from assay.programme import load
from assay.sample import PlantedFinding, write_sample


@pytest.fixture(scope="session")
def sample_master(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, tuple[PlantedFinding, ...]]:
    directory = tmp_path_factory.mktemp("sample") / "acme"
    planted = write_sample(directory)
    create_signing_key(load(directory / "assay.yaml"))
    return directory, planted


@pytest.fixture
def sample(sample_master: tuple[Path, tuple[PlantedFinding, ...]], tmp_path: Path) -> Path:
    """A private copy of the sample organisation that a test may change."""
    source, _ = sample_master
    target = tmp_path / "acme"
    shutil.copytree(source, target, symlinks=True)
    return target


@pytest.fixture
def planted(sample_master: tuple[Path, tuple[PlantedFinding, ...]]) -> tuple[PlantedFinding, ...]:
    return sample_master[1]
