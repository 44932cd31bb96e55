"""Shared helpers for connector tests: a config builder, and vendor objects with one field
changed for the bad-input tests."""

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


DROP = object()
"""Given to ``altered`` as the value, removes the field."""


def altered(item: Any, field: str, value: Any) -> Any:
    """A copy of a vendor object with ``field`` (a dotted path, array positions as numbers:
    ``passwordCredentials.0.keyId``) set to ``value``, or removed for ``DROP``; the original and
    everything off the path are shared, not changed."""
    head, _, rest = field.partition(".")
    key: Any = int(head) if isinstance(item, list) else head
    copy: Any = list(item) if isinstance(item, list) else dict(item)
    if rest:
        copy[key] = altered(item[key], rest, value)
    elif value is DROP:
        del copy[key]
    else:
        copy[key] = value
    return copy
