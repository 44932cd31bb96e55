from __future__ import annotations

from pathlib import Path

import pytest

from assay.connectors.base import ConnectorConfig
from assay.connectors.registry import CONNECTOR_TYPES, connector_for
from assay.errors import InputError


def test_every_type_has_its_connector() -> None:
    assert set(CONNECTOR_TYPES) == {
        "hr_csv",
        "hr_xlsx",
        "okta",
        "aws_iam",
        "github",
        "git",
        "linux",
        "postgres",
        "jumpcloud",
        "google_workspace",
        "entra",
        "ldap",
    }


def test_every_type_a_programme_may_name_has_a_connector() -> None:
    from assay.programme.model import ConnectorType

    assert {t.value for t in ConnectorType} == set(CONNECTOR_TYPES)
    for connector_type in CONNECTOR_TYPES:
        connector = connector_for(connector_type)
        assert connector.type == connector_type
        assert connector.version
        assert type(connector).type == connector_type  # a class attribute, not per instance


def test_unknown_type() -> None:
    with pytest.raises(InputError) as caught:
        connector_for("salesforce")
    assert "'salesforce'" in caught.value.problem
    assert "okta" in caught.value.problem
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("connector_type", "mode"),
    [(connector_type, mode) for connector_type in CONNECTOR_TYPES for mode in ("", "EXPORT")],
)
def test_unsupported_modes_are_refused(tmp_path: Path, connector_type: str, mode: str) -> None:
    config = ConnectorConfig(
        system_id="s1",
        mode=mode,
        settings={"path": str(tmp_path), "org": "acme"},
        secrets={},
        base_dir=tmp_path,
    )
    with pytest.raises(InputError) as caught:
        connector_for(connector_type).collect(config)
    assert caught.value.where == "system s1"
    assert f"mode '{mode}'" in caught.value.problem


def test_every_connector_has_a_parser() -> None:
    from assay.connectors.registry import parser_for

    for connector_type in CONNECTOR_TYPES:
        assert callable(parser_for(connector_type))
    with pytest.raises(InputError, match="unknown connector type"):
        parser_for("nope")
