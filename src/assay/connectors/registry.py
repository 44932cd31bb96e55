"""Which connector reads which type of system."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from assay.connectors import (
    aws_iam,
    entra,
    git,
    github,
    google_workspace,
    hr_csv,
    hr_xlsx,
    jumpcloud,
    ldap,
    linux,
    okta,
    postgres,
)
from assay.connectors._export import Parser
from assay.connectors.aws_iam import AwsIamConnector
from assay.connectors.base import Connector, SettingLoc, secrets_problem, settings_problem
from assay.connectors.entra import EntraConnector
from assay.connectors.git import GitConnector
from assay.connectors.github import GitHubConnector
from assay.connectors.google_workspace import GoogleWorkspaceConnector
from assay.connectors.hr_csv import HrCsvConnector
from assay.connectors.hr_xlsx import HrXlsxConnector
from assay.connectors.jumpcloud import JumpCloudConnector
from assay.connectors.ldap import LdapConnector
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
    JumpCloudConnector.type: JumpCloudConnector,
    GoogleWorkspaceConnector.type: GoogleWorkspaceConnector,
    EntraConnector.type: EntraConnector,
    LdapConnector.type: LdapConnector,
}

_PARSERS: Mapping[str, Parser] = {
    HrCsvConnector.type: hr_csv.parse,
    OktaConnector.type: okta.parse,
    AwsIamConnector.type: aws_iam.parse,
    GitHubConnector.type: github.parse,
    GitConnector.type: git.parse,
    HrXlsxConnector.type: hr_xlsx.parse,
    LinuxConnector.type: linux.parse,
    PostgresConnector.type: postgres.parse,
    JumpCloudConnector.type: jumpcloud.parse,
    GoogleWorkspaceConnector.type: google_workspace.parse,
    EntraConnector.type: entra.parse,
    LdapConnector.type: ldap.parse,
}
"""Each connector's parser: stored payloads back to records, with no source contacted."""

_POPULATIONS: Mapping[str, frozenset[str]] = {
    HrCsvConnector.type: frozenset({"people"}),
    HrXlsxConnector.type: frozenset({"people"}),
    OktaConnector.type: frozenset({"accounts", "applications"}),
    EntraConnector.type: frozenset(
        {"accounts", "credentials", "entitlements", "grants", "applications"}
    ),
    GoogleWorkspaceConnector.type: frozenset({"accounts", "credentials", "applications"}),
    JumpCloudConnector.type: frozenset({"accounts", "entitlements", "grants", "applications"}),
    AwsIamConnector.type: frozenset({"accounts", "credentials", "entitlements", "grants"}),
    GitHubConnector.type: frozenset(
        {"accounts", "credentials", "changes", "applications", "branch_protections"}
    ),
    GitConnector.type: frozenset({"changes"}),
    LdapConnector.type: frozenset({"accounts", "credentials", "entitlements", "grants"}),
    LinuxConnector.type: frozenset({"accounts", "credentials", "entitlements", "grants"}),
    PostgresConnector.type: frozenset({"accounts", "credentials", "entitlements", "grants"}),
}
"""What each connector reads when its source answers: a check that needs one of these cannot
pass on a snapshot of that type that came back incomplete, even an empty one."""

CONNECTOR_TYPES: tuple[str, ...] = tuple(sorted(_FACTORIES))
"""Every connector type a programme file may name."""


def populations_of(type: str) -> frozenset[str]:
    """The kinds of record a connector of ``type`` reads (``Records`` field names)."""
    connector_for(type)  # the same error for an unknown type
    return _POPULATIONS[type]


def parser_for(type: str) -> Parser:
    """The parser of ``type``, to replay a stored snapshot."""
    connector_for(type)  # the same error for an unknown type
    return _PARSERS[type]


def check_settings(
    type: str, settings: Mapping[str, Any], secrets: Collection[str]
) -> tuple[SettingLoc, str] | None:
    """The first problem of a connector's ``settings`` and ``secrets`` names as connector
    ``type`` declares them, located from the connector (``("settings", key)``, ``("secrets",
    name)``), or None: what the programme file is checked with when it loads."""
    model = connector_for(type).settings
    problem = settings_problem(model, settings, secrets)
    if problem is not None:
        return ("settings", *problem[0]), problem[1]
    unknown = secrets_problem(model, secrets)
    if unknown is not None:
        return ("secrets", unknown[0]), unknown[1]
    return None


def connector_for(type: str) -> Connector:
    """A new connector for ``type``; an unknown type is an ``InputError``."""
    factory = _FACTORIES.get(type)
    if factory is None:
        raise InputError(
            "connector type",
            f"unknown connector type {type!r}; known types: {', '.join(CONNECTOR_TYPES)}",
        )
    return factory()
