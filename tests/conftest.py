"""Fixtures shared across the suite: the sample organisation, written once per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.evidence.moto_server import moto_server

from assay.evidence.service import create_signing_key
from assay.programme import load
from assay.sample import PlantedFinding, write_sample
from assay.sample.registers import load_registers

LOCKED_BUCKET = "assay-locker"
PLAIN_BUCKET = "assay-plain"


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials from the environment, as in production; nothing from this machine's files."""
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    """moto in server mode on 127.0.0.1, with a bucket that has Object Lock and one without."""
    import boto3

    with moto_server() as url:
        admin = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ).client("s3", endpoint_url=url)
        admin.create_bucket(Bucket=LOCKED_BUCKET, ObjectLockEnabledForBucket=True)
        admin.create_bucket(Bucket=PLAIN_BUCKET)
        yield url


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
def registered(sample: Path, db: None) -> Path:
    """The sample with its registers and owner-evidence history loaded into the test's database
    and locker, as ``assay init --sample`` loads them: without them, every owner-evidence window
    of the sample would be overdue."""
    load_registers(load(sample / "assay.yaml"))
    return sample


@pytest.fixture
def planted(
    sample_master: tuple[Path, tuple[PlantedFinding, ...]], registered: Path
) -> tuple[PlantedFinding, ...]:
    """What a run on the test's ``sample`` must find (its registers are loaded for it)."""
    return sample_master[1]
