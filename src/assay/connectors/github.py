"""GitHub organisation members and their two-factor status, from saved API responses.

Settings: ``path`` — the export directory; ``org`` — the organisation's login. The directory
holds the raw response bodies (REST API version 2022-11-28):

- ``members.json``: ``GET /orgs/{org}/members`` (required);
- ``members-2fa_disabled.json``: ``GET /orgs/{org}/members?filter=2fa_disabled`` — needs an
  organisation owner's token (optional; without it MFA is unknown);
- ``members-admin.json``: ``GET /orgs/{org}/members?role=admin`` (optional; without it
  privilege is unknown).

Each file is one response body, a JSON array of simple-user objects; an export of a larger
organisation must hold every page in that one array.

MFA: a member in the ``2fa_disabled`` list has no two-factor method; every other member has one,
and GitHub asks for it at every sign-in of a user who has it, so registration and enforcement
take the same value. Logins are compared case-insensitively, as GitHub does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from assay.connectors import _export
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.errors import InputError
from assay.inventory.records import Account, AccountKind, AccountStatus, Records, Tri

MEMBERS = "members.json"
TWO_FACTOR_DISABLED = "members-2fa_disabled.json"
ADMINS = "members-admin.json"

KIND_BY_TYPE = {"User": AccountKind.HUMAN, "Bot": AccountKind.SERVICE}
PAGE_SIZES = frozenset({30, 100})
"""GitHub's default and largest page sizes: a list this long may be one page of several."""


class GitHubConnector:
    """Reads a GitHub organisation export directory named by the ``path`` setting."""

    type: str = "github"
    version: str = "1"

    def collect(self, config: ConnectorConfig) -> Collected:
        _export.require_export_mode(config, self.type)
        org = _org(config)
        started_at = datetime.now(UTC)
        directory = _export.require_directory(config.path())
        payloads = [_export.read_payload(directory / MEMBERS, MEMBERS)]
        for name in (TWO_FACTOR_DISABLED, ADMINS):
            if (directory / name).exists():
                payloads.append(_export.read_payload(directory / name, name))
        records = parse(payloads, config)
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            payloads,
            records,
            {
                "path": str(directory),
                "org": org,
                "members": len(records.accounts),
                "files": [payload.name for payload in payloads],
            },
        )


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Accounts from a GitHub export's payloads (named as ``collect`` names them)."""
    index = _export.by_name(payloads)
    members_payload = _export.require_payload(index, MEMBERS)
    members = _logins(members_payload)
    warnings: list[str] = []
    first_index: dict[str, int] = {}
    for position, (login, _) in enumerate(members):
        key = login.lower()
        if key in first_index:
            raise InputError(
                members_payload.source,
                f"[{position}].login: duplicate '{login}' (also at [{first_index[key]}])",
            )
        first_index[key] = position
    if len(members) in PAGE_SIZES:
        warnings.append(
            f"{members_payload.name}: holds exactly {len(members)} members, a full page; "
            "the export may be missing further pages"
        )

    disabled = _subset(index.get(TWO_FACTOR_DISABLED), first_index)
    admins = _subset(index.get(ADMINS), first_index)
    if disabled is None:
        warnings.append(f"{TWO_FACTOR_DISABLED} not in the export; MFA is unknown for every member")
    if admins is None:
        warnings.append(f"{ADMINS} not in the export; privilege is unknown for every member")

    accounts: list[Account] = []
    for position, (login, member) in enumerate(members):
        member_type = member.get("type")
        kind = KIND_BY_TYPE.get(member_type if isinstance(member_type, str) else "")
        if kind is None:
            kind = AccountKind.UNKNOWN
        if kind is AccountKind.UNKNOWN:
            warnings.append(
                f"{members_payload.name}: [{position}] ({login}): unrecognised type "
                f"{member_type!r}; account kind is unknown"
            )
        mfa = _listed(login, disabled, listed=Tri.NO, unlisted=Tri.YES)
        privileged = _listed(login, admins, listed=Tri.YES, unlisted=Tri.NO)
        accounts.append(
            Account(
                system_id=config.system_id,
                account_id=login,
                username=login,
                email=None,
                name=None,
                employee_id=None,
                kind=kind,
                status=AccountStatus.ACTIVE,
                mfa_registered=mfa,
                mfa_enforced=mfa,
                last_login=None,
                last_login_source=None,
                privileged=privileged,
            )
        )
    return Records(accounts=tuple(accounts), warnings=tuple(warnings))


def _listed(login: str, logins: set[str] | None, *, listed: Tri, unlisted: Tri) -> Tri:
    if logins is None:
        return Tri.UNKNOWN
    return listed if login.lower() in logins else unlisted


def _org(config: ConnectorConfig) -> str:
    org = config.settings.get("org")
    if not isinstance(org, str) or not org.strip():
        raise InputError(f"system {config.system_id}", "connector setting 'org' is required")
    return org.strip()


def _logins(payload: RawPayload) -> list[tuple[str, dict[str, Any]]]:
    users = _export.load_json_array_of_objects(payload, "users")
    return [
        (_export.required_string(payload, user, f"[{position}]", "login"), user)
        for position, user in enumerate(users)
    ]


def _subset(payload: RawPayload | None, members: dict[str, int]) -> set[str] | None:
    """Lower-cased logins of a filtered member list, each of which must be a member."""
    if payload is None:
        return None
    logins: set[str] = set()
    for position, (login, _) in enumerate(_logins(payload)):
        if login.lower() not in members:
            raise InputError(
                payload.source,
                f"[{position}].login: '{login}' is not in {MEMBERS}; the export is inconsistent "
                "(were the files fetched at different times?)",
            )
        logins.add(login.lower())
    return logins
