"""Shared helpers for connector tests: a config builder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.slapd import slapd  # noqa: F401  (the session's slapd, for test_ldap)

from assay.connectors.base import ConnectorConfig

MakeConfig = Callable[..., ConnectorConfig]


@pytest.fixture
def make_config(tmp_path: Path) -> MakeConfig:
    """A ``ConnectorConfig`` in export mode whose relative paths resolve against ``tmp_path``."""

    def make(mode: str = "export", system_id: str = "sys", **settings: Any) -> ConnectorConfig:
        return ConnectorConfig(
            system_id=system_id,
            mode=mode,
            settings=settings,
            secrets={},
            base_dir=tmp_path,
        )

    return make


def local_where(where: str) -> str:
    """An error location without the test's temporary directory: ``factors/00u4.json``."""
    parts = where.split("/")
    keep = 2 if len(parts) > 1 and parts[-2] == "factors" else 1
    return "/".join(parts[-keep:])
