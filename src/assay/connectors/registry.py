"""Which connector reads which type of system."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from assay.connectors.aws_iam import AwsIamConnector
from assay.connectors.base import Connector
from assay.connectors.git import GitConnector
from assay.connectors.github import GitHubConnector
from assay.connectors.hr_csv import HrCsvConnector
from assay.connectors.hr_xlsx import HrXlsxConnector
from assay.connectors.linux import LinuxConnector
from assay.connectors.okta import OktaConnector
from assay.connectors.postgres import PostgresConnector
from assay.errors import InputError

_FACTORIES: Mapping[str, Callable[[], Connector]] = {
    HrCsvConnector.type: HrCsvConnector,
    OktaConnector.type: OktaConnector,
    AwsIamConnector.type: AwsIamConnector,
    GitHubConnector.type: GitHubConnector,
    GitConnector.type: GitConnector,
    HrXlsxConnector.type: HrXlsxConnector,
    LinuxConnector.type: LinuxConnector,
    PostgresConnector.type: PostgresConnector,
}

CONNECTOR_TYPES: tuple[str, ...] = tuple(sorted(_FACTORIES))
"""Every connector type a programme file may name."""


def connector_for(type: str) -> Connector:
    """A new connector for ``type``; an unknown type is an ``InputError``."""
    factory = _FACTORIES.get(type)
    if factory is None:
        raise InputError(
            "connector type",
            f"unknown connector type {type!r}; known types: {', '.join(CONNECTOR_TYPES)}",
        )
    return factory()
