from __future__ import annotations

from pathlib import Path

import pytest

from assay.connectors.base import ConnectorConfig
from assay.connectors.registry import CONNECTOR_TYPES, connector_for
from assay.errors import InputError


def test_every_type_has_its_connector() -> None:
    assert set(CONNECTOR_TYPES) == {"hr_csv", "okta", "aws_iam", "github", "git"}
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


@pytest.mark.parametrize("connector_type", CONNECTOR_TYPES)
@pytest.mark.parametrize("mode", ["live", "", "EXPORT"])
def test_only_export_mode_is_accepted(tmp_path: Path, connector_type: str, mode: str) -> None:
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
