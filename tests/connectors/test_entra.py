from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.conftest import DROP, altered, local_where
from tests.connectors.entra_server import (
    TENANT,
    TOKEN,
    Directory,
    GraphServer,
    app_registration,
    ca_policy,
    owner,
    owning_principal,
    registration,
    service_principal,
    user,
)

from assay.connectors import entra, registry
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.connectors.entra import EntraConnector
from assay.errors import InputError
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Application,
    Credential,
    Entitlement,
    Grant,
    Records,
    Tri,
)

MakeConfig = Callable[..., ConnectorConfig]

YES, NO, UNKNOWN = Tri.YES, Tri.NO, Tri.UNKNOWN
ACTIVE, INACTIVE = AccountStatus.ACTIVE, AccountStatus.INACTIVE
GRAPH_ID = "5b000000-0000-0000-0000-000000000003"
ADA = "ada.lovelace@contoso.example"
ACME_TENANT = "99999999-0000-0000-0000-000000000000"


def without(item: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in keys}


def uid(number: int) -> str:
    return f"00000000-0000-0000-0000-{number:012d}"


def spid(number: int) -> str:
    return f"5b000000-0000-0000-0000-{number:012d}"


def golden() -> Directory:
    return Directory(
        users=[
            user(
                1,
                userPrincipalName="ada@contoso.example",
                mail="Ada.Lovelace@Contoso.Example",
                displayName="Ada Lovelace",
                employeeId="E-001",
            ),
            user(2, userType="Guest", userPrincipalName="bob_partner.example#EXT#@contoso.example"),
            user(3, accountEnabled=False),
            user(4),  # not in the registration details
            without(
                user(5),
                "mail",
                "displayName",
                "employeeId",
                "signInActivity",
                "accountEnabled",
                "userType",
            ),
            user(6, signInActivity={"lastSignInDateTime": None}),
        ],
        registration=[
            registration(1, isAdmin=True),
            registration(2, isMfaRegistered=False, isMfaCapable=False, methodsRegistered=[]),
            registration(3),
            without(registration(5), "isAdmin", "isMfaRegistered"),
            registration(6, isMfaRegistered=False),
        ],
        servicePrincipals=[
            service_principal(
                1,
                displayName="Payroll Sync",
                passwordCredentials=[
                    {
                        "keyId": "k-secret",
                        "displayName": "prod",
                        "startDateTime": "2024-01-01T00:00:00Z",
                        "endDateTime": "2999-01-01T00:00:00.1234567Z",
                        "hint": "abc",
                    }
                ],
                keyCredentials=[
                    {
                        "keyId": "k-cert",
                        "type": "AsymmetricX509Cert",
                        "usage": "Verify",
                        "startDateTime": "2019-01-01T00:00:00Z",
                        "endDateTime": "2020-01-01T00:00:00Z",
                    }
                ],
            ),
            service_principal(
                2, displayName="Acme CRM", appOwnerOrganizationId=ACME_TENANT, accountEnabled=False
            ),
            service_principal(
                3,
                displayName="Microsoft Graph",
                appId="00000003-0000-0000-c000-000000000000",
                appOwnerOrganizationId="f8cdef31-a31e-4b4a-93e4-5f571e91255a",
            ),
            without(
                service_principal(
                    4, displayName="vm-identity", servicePrincipalType="ManagedIdentity"
                ),
                "appOwnerOrganizationId",
                "passwordCredentials",
                "keyCredentials",
            ),
        ],
        oauth2PermissionGrants=[
            consent(1, "Principal", uid(1), "User.Read Files.ReadWrite.All"),
            consent(2, "AllPrincipals", None, " User.Read  Directory.Read.All "),
            consent(1, "Principal", uid(2), "User.Read"),
        ],
        applications=[
            # Payroll Sync's registration: its secret is held by its service principal.
            app_registration(
                1,
                displayName="Payroll Sync",
                passwordCredentials=[
                    {
                        "keyId": "r-secret",
                        "displayName": "ci",
                        "startDateTime": "2023-02-01T00:00:00Z",
                        "endDateTime": "2999-02-01T00:00:00Z",
                        "hint": "xyz",
                    }
                ],
            ),
            # Registered here, but with no service principal in this tenant.
            app_registration(
                7,
                displayName="Old Integration",
                keyCredentials=[
                    {
                        "keyId": "r-cert",
                        "type": "AsymmetricX509Cert",
                        "usage": "Verify",
                        "startDateTime": "2022-01-01T00:00:00Z",
                        "endDateTime": None,
                    }
                ],
            ),
        ],
        owners={
            # A service principal owning it names no person; the first user does.
            spid(1): [owning_principal(9), owner(1, mail="Ada.Lovelace@Contoso.Example"), owner(2)],
            spid(2): [],
            # Microsoft Graph (3): no owners file in the export.
            spid(4): [owner(6, mail=None)],
        },
    )


def consent(client: int, consent_type: str, principal: str | None, scope: str) -> dict[str, Any]:
    return {
        "id": f"grant-{client}-{principal}",
        "clientId": f"5b000000-0000-0000-0000-{client:012d}",
        "consentType": consent_type,
        "principalId": principal,
        "resourceId": GRAPH_ID,
        "scope": scope,
    }


def write_export(directory: Path, tenant: Directory, *, all_owners: bool = False) -> None:
    """The tenant's lists, and the owners of the principals ``tenant.owners`` holds (of every
    principal with ``all_owners``, as a live collection reads them)."""
    (directory / "owners").mkdir(parents=True, exist_ok=True)
    for name in entra.PATHS:
        body = {"value": getattr(tenant, name)}
        (directory / f"{name}.json").write_text(json.dumps(body), encoding="utf-8")
    principals = [p["id"] for p in tenant.servicePrincipals]
    for principal in principals if all_owners else tenant.owners:
        body = {"value": tenant.owners.get(principal, [])}
        (directory / "owners" / f"{principal}.json").write_text(json.dumps(body), "utf-8")
    for group, ids in tenant.group_members.items():
        (directory / "groupMembers").mkdir(exist_ok=True)
        body = {"value": [{"@odata.type": "#microsoft.graph.user", "id": i} for i in ids]}
        (directory / "groupMembers" / f"{group}.json").write_text(json.dumps(body), "utf-8")


def collect_export(
    make_config: MakeConfig, tmp_path: Path, tenant: Directory, *, all_owners: bool = False
) -> Collected:
    write_export(tmp_path / "entra", tenant, all_owners=all_owners)
    return EntraConnector().collect(make_config(path="entra", tenant_id=TENANT))


# Export mode


def test_golden_export(make_config: MakeConfig, tmp_path: Path) -> None:
    collected = collect_export(make_config, tmp_path, golden())
    records = collected.records

    assert (collected.complete, collected.incomplete_reason) == (True, None)
    assert collected.parameters == {
        "path": str(tmp_path / "entra"),
        "files": [
            "applications.json",
            "conditionalAccessPolicies.json",
            "oauth2PermissionGrants.json",
            "registration.json",
            "servicePrincipals.json",
            "users.json",
        ],
        "tenant_id": TENANT,
        "fetched": {
            "users": 6,
            "registration": 5,
            "servicePrincipals": 4,
            "oauth2PermissionGrants": 3,
            "applications": 2,
            "conditionalAccessPolicies": 0,
        },
        "owners_read": 3,
        "group_members_read": 0,
        "applications": 3,
        "optional_files_missing": [f"owners/{GRAPH_ID}.json"],
    }
    replayed = registry.parser_for("entra")(collected.payloads, make_config(tenant_id=TENANT))
    assert replayed == records
    by_id = {account.account_id: account for account in records.accounts}
    assert by_id[uid(1)] == Account(
        system_id="sys",
        account_id=uid(1),
        username="ada@contoso.example",
        email="ada.lovelace@contoso.example",
        name="Ada Lovelace",
        employee_id="E-001",
        kind=AccountKind.HUMAN,
        status=ACTIVE,
        mfa_registered=YES,
        mfa_enforced=UNKNOWN,
        last_login=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        last_login_source="entra:signInActivity.lastSignInDateTime",
        privileged=YES,
    )
    assert by_id[uid(5)] == Account(
        system_id="sys",
        account_id=uid(5),
        username="user005@contoso.example",
        email=None,
        name=None,
        employee_id=None,
        kind=AccountKind.UNKNOWN,
        status=AccountStatus.UNKNOWN,
        mfa_registered=UNKNOWN,
        mfa_enforced=UNKNOWN,
        last_login=None,
        last_login_source=None,
        privileged=UNKNOWN,
    )
    humans = {
        n: (a.kind, a.status, a.mfa_registered, a.privileged, a.last_login_source is None)
        for n, a in ((n, by_id[uid(n)]) for n in (2, 3, 4, 6))
    }
    assert humans == {
        2: (AccountKind.HUMAN, ACTIVE, NO, NO, False),
        3: (AccountKind.HUMAN, INACTIVE, YES, NO, False),
        4: (AccountKind.HUMAN, ACTIVE, UNKNOWN, UNKNOWN, False),
        6: (AccountKind.HUMAN, ACTIVE, NO, NO, True),
    }
    assert all(a.mfa_enforced is UNKNOWN for a in records.accounts)
    assert by_id[uid(3)].deactivated_at is None  # disabled, but Graph gives no time

    services = [a for a in records.accounts if a.kind is AccountKind.SERVICE]
    assert [(a.account_id, a.username, a.status, a.owner, a.owner_unknown) for a in services] == [
        (spid(1), "Payroll Sync", ACTIVE, ADA, False),
        (spid(2), "Acme CRM", INACTIVE, None, False),  # its owners file lists none
        (spid(4), "vm-identity", ACTIVE, "user006@contoso.example", False),  # by UPN
    ]
    graph = next(a for a in records.accounts if a.account_id == GRAPH_ID)
    # Microsoft's own service, whose owners the export does not hold: not known, rather than none
    assert (graph.kind, graph.owner, graph.owner_unknown) == (AccountKind.SYSTEM, None, True)
    assert services[0] == Account(
        system_id="sys",
        account_id="5b000000-0000-0000-0000-000000000001",
        username="Payroll Sync",
        email=None,
        name="Payroll Sync",
        employee_id=None,
        kind=AccountKind.SERVICE,
        status=ACTIVE,
        mfa_registered=UNKNOWN,
        mfa_enforced=UNKNOWN,
        last_login=None,
        last_login_source=None,
        privileged=UNKNOWN,
        owner=ADA,
    )
    assert records.applications == (
        Application("sys", "a0000000-0000-0000-0000-000000000001", "Payroll Sync", True),
        Application("sys", "a0000000-0000-0000-0000-000000000002", "Acme CRM", False),
        Application("sys", "a0000000-0000-0000-0000-000000000004", "vm-identity", True),
    )
    app = "a0000000-0000-0000-0000-000000000001"
    assert records.credentials == (
        Credential(
            system_id="sys",
            credential_id=f"{app}:k-secret",
            kind="client_secret",
            account_id="5b000000-0000-0000-0000-000000000001",
            active=True,
            created=datetime(2024, 1, 1, tzinfo=UTC),
            last_rotated=None,
            last_used=None,
            last_used_source=None,
            expires_at=datetime(2999, 1, 1, 0, 0, 0, 123456, tzinfo=UTC),
            expiry=YES,
            owner=ADA,
        ),
        Credential(
            system_id="sys",
            credential_id=f"{app}:k-cert",
            kind="certificate",
            account_id="5b000000-0000-0000-0000-000000000001",
            active=False,  # expired
            created=datetime(2019, 1, 1, tzinfo=UTC),
            last_rotated=None,
            last_used=None,
            last_used_source=None,
            expires_at=datetime(2020, 1, 1, tzinfo=UTC),
            expiry=YES,
            owner=ADA,
        ),
        # The registration's secret: held by the app's service principal, answered for by its owner
        Credential(
            system_id="sys",
            credential_id=f"{app}:r-secret",
            kind="client_secret",
            account_id="5b000000-0000-0000-0000-000000000001",
            active=True,
            created=datetime(2023, 2, 1, tzinfo=UTC),
            last_rotated=None,
            last_used=None,
            last_used_source=None,
            expires_at=datetime(2999, 2, 1, tzinfo=UTC),
            expiry=YES,
            owner=ADA,
        ),
        # No service principal here: no account holds it, and its owner was not read
        Credential(
            system_id="sys",
            credential_id="a0000000-0000-0000-0000-000000000007:r-cert",
            kind="certificate",
            account_id="application/0a000000-0000-0000-0000-000000000007",
            active=True,
            created=datetime(2022, 1, 1, tzinfo=UTC),
            last_rotated=None,
            last_used=None,
            last_used_source=None,
            expires_at=None,
            expiry=UNKNOWN,
            owner_unknown=True,
        ),
        consent_credential(
            1, uid(1), uid(1), "Payroll Sync", NO, "User.Read", "Files.ReadWrite.All"
        ),
        # Tenant-wide: it reaches every user, so it belongs to the app itself.
        consent_credential(2, None, spid(2), "Acme CRM", YES, "User.Read", "Directory.Read.All"),
        consent_credential(1, uid(2), uid(2), "Payroll Sync", NO, "User.Read"),
    )

    assert records.entitlements == (
        Entitlement("sys", f"{GRAPH_ID}:User.Read", "Microsoft Graph: User.Read", "permission"),
        Entitlement(
            "sys",
            f"{GRAPH_ID}:Files.ReadWrite.All",
            "Microsoft Graph: Files.ReadWrite.All",
            "permission",
            YES,
        ),
        Entitlement(
            "sys",
            f"{GRAPH_ID}:Directory.Read.All",
            "Microsoft Graph: Directory.Read.All",
            "permission",
            YES,
        ),
    )
    assert records.grants == (
        Grant("sys", uid(1), f"{GRAPH_ID}:User.Read"),
        Grant("sys", uid(1), f"{GRAPH_ID}:Files.ReadWrite.All"),
        Grant("sys", uid(2), f"{GRAPH_ID}:User.Read"),
    )
    assert records.warnings == (
        "user 'user005@contoso.example': unrecognised userType None",
        "1 service principal(s) have no owners/{id}.json; their owners are unknown",
        "1 guest account(s), third-party access: bob_partner.example#EXT#@contoso.example",
        "1 third-party app(s) in the tenant: Acme CRM "
        f"(a0000000-0000-0000-0000-000000000002, owned by tenant {ACME_TENANT})",
    )


def consent_credential(
    client: int, principal: str | None, account: str, app: str, broad: Tri, *scopes: str
) -> Credential:
    """The credential the consent ``consent(client, _, principal, _)`` gives."""
    return Credential(
        system_id="sys",
        credential_id=f"grant-{client}-{principal}",
        kind="oauth_consent",
        account_id=account,
        active=True,
        created=None,
        last_rotated=None,
        last_used=None,
        last_used_source=None,
        scopes=scopes,
        third_party=app,
        broad=broad,
    )


def test_without_any_owners_files_owners_are_unknown(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    tenant = golden()
    tenant.owners = {}
    collected = collect_export(make_config, tmp_path, tenant)

    principals = [
        a for a in collected.records.accounts if a.kind in (AccountKind.SERVICE, AccountKind.SYSTEM)
    ]
    assert {a.owner for a in principals} == {None}
    assert {c.owner for c in collected.records.credentials} == {None}
    assert collected.complete
    assert collected.parameters["optional_files_missing"] == [
        f"owners/{a.account_id}.json" for a in principals
    ]
    assert "4 service principal(s) have no owners/{id}.json; their owners are unknown" in (
        collected.records.warnings
    )


def test_an_export_without_app_registrations_still_parses(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    write_export(tmp_path / "entra", golden())
    (tmp_path / "entra" / "applications.json").unlink()
    collected = EntraConnector().collect(make_config(path="entra", tenant_id=TENANT))
    assert collected.complete
    assert collected.parameters["optional_files_missing"][0] == "applications.json"
    assert (
        "applications.json not in the export; the secrets of app registrations were not read"
        in (collected.records.warnings)
    )
    keys = {c.credential_id.rpartition(":")[2] for c in collected.records.credentials}
    assert "k-secret" in keys and not keys & {"r-secret", "r-cert"}


ALL_GOOD = {1: YES, 2: YES, 3: YES}
NOT_KNOWN = {1: UNKNOWN, 2: UNKNOWN, 3: UNKNOWN}


@pytest.mark.parametrize(
    ("policies", "expected"),
    [
        ([ca_policy("everyone")], ALL_GOOD),
        (
            [ca_policy("everyone", **{"conditions.users.excludeUsers": [uid(3)]})],
            {**ALL_GOOD, 3: UNKNOWN},
        ),
        ([ca_policy("everyone", **{"conditions.users.excludeGroups": ["g-1"]})], NOT_KNOWN),
        (
            [ca_policy("everyone", **{"conditions.users.excludeUsers": ["GuestsOrExternalUsers"]})],
            {**ALL_GOOD, 2: UNKNOWN},
        ),
        ([ca_policy("one", **{"conditions.users.includeUsers": [uid(1)]})], {**NOT_KNOWN, 1: YES}),
        (
            [ca_policy("guests", **{"conditions.users.includeUsers": ["GuestsOrExternalUsers"]})],
            {**NOT_KNOWN, 2: YES},
        ),
        ([ca_policy("report only", state="enabledForReportingButNotEnforced")], NOT_KNOWN),
        ([ca_policy("off", state="disabled")], NOT_KNOWN),
        (
            [ca_policy("office", **{"conditions.applications.includeApplications": ["Office365"]})],
            NOT_KNOWN,
        ),
        ([ca_policy("browser", **{"conditions.clientAppTypes": ["browser"]})], NOT_KNOWN),
        ([ca_policy("risky", **{"conditions.signInRiskLevels": ["high"]})], NOT_KNOWN),
        (
            [
                ca_policy(
                    "offsite",
                    **{
                        "conditions.locations": {
                            "includeLocations": ["All"],
                            "excludeLocations": ["AllTrusted"],
                        }
                    },
                )
            ],
            NOT_KNOWN,
        ),
        (
            [
                ca_policy(
                    "or device", **{"grantControls.builtInControls": ["mfa", "compliantDevice"]}
                )
            ],
            NOT_KNOWN,
        ),
        (
            [
                ca_policy(
                    "and device",
                    **{
                        "grantControls.operator": "AND",
                        "grantControls.builtInControls": ["mfa", "compliantDevice"],
                    },
                )
            ],
            ALL_GOOD,
        ),
        (
            [
                ca_policy(
                    "strength",
                    **{
                        "grantControls.builtInControls": [],
                        "grantControls.authenticationStrength": {
                            "id": "00000000-0000-0000-0000-000000000002",
                            "displayName": "Multifactor authentication",
                            "requirementsSatisfied": "mfa",
                        },
                    },
                )
            ],
            ALL_GOOD,
        ),
        ([ca_policy("block", **{"grantControls.builtInControls": ["block"]})], NOT_KNOWN),
        (
            [
                ca_policy(
                    "password strength",
                    **{
                        "grantControls.builtInControls": [],
                        "grantControls.authenticationStrength": {
                            "id": "custom-1",
                            "displayName": "Password or passkey",
                            "requirementsSatisfied": "none",
                        },
                    },
                )
            ],
            NOT_KNOWN,
        ),
        (
            [
                ca_policy(
                    "filtered apps",
                    **{
                        "conditions.applications.applicationFilter": {
                            "mode": "exclude",
                            "rule": 'CustomSecurityAttribute.Team -eq "legacy"',
                        }
                    },
                )
            ],
            NOT_KNOWN,
        ),
        (  # two policies: one user is left out of the first, and held by the second
            [
                ca_policy("most", **{"conditions.users.excludeUsers": [uid(3)]}),
                ca_policy("the rest", **{"conditions.users.includeUsers": [uid(3)]}),
            ],
            ALL_GOOD,
        ),
        ([], NOT_KNOWN),  # no policy: per-user MFA or security defaults may still hold them
        (  # break-glass accounts left out by a group whose members were read
            [ca_policy("everyone", **{"conditions.users.excludeGroups": ["g-break"]})],
            {**ALL_GOOD, 3: UNKNOWN},
        ),
        (  # a group included: only its members
            [
                ca_policy(
                    "engineers",
                    **{
                        "conditions.users.includeUsers": [],
                        "conditions.users.includeGroups": ["g-eng"],
                    },
                )
            ],
            {**NOT_KNOWN, 1: YES},
        ),
        (  # a group whose members were not exported
            [ca_policy("everyone", **{"conditions.users.excludeGroups": ["g-unread"]})],
            NOT_KNOWN,
        ),
        ([ca_policy("everyone", **{"conditions.users.excludeRoles": ["role-1"]})], NOT_KNOWN),
    ],
    ids=[
        "all users",
        "one excluded",
        "a group excluded",
        "guests excluded",
        "one user",
        "guests",
        "report-only",
        "disabled",
        "some apps",
        "browser only",
        "risky sign-ins",
        "outside trusted places",
        "mfa or a device",
        "mfa and a device",
        "authentication strength",
        "block",
        "strength short of MFA",
        "app filter",
        "two policies",
        "none",
        "group excluded",
        "group included",
        "group not read",
        "role excluded",
    ],
)
def test_mfa_enforcement_from_conditional_access(
    make_config: MakeConfig,
    tmp_path: Path,
    policies: list[dict[str, Any]],
    expected: dict[int, Tri],
) -> None:
    tenant = Directory(
        users=[user(1), user(2, userType="Guest"), user(3)],
        registration=[registration(n) for n in (1, 2, 3)],
        conditionalAccessPolicies=policies,
        group_members={"g-break": [uid(3)], "g-eng": [uid(1)]},
    )
    records = collect_export(make_config, tmp_path, tenant).records
    enforced = {int(a.account_id[-3:]): a.mfa_enforced for a in records.accounts}
    assert enforced == expected


def test_external_members_are_not_held_by_a_policy_that_leaves_guests_out(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    partner = "eve_partner.example#EXT#@contoso.example"
    excluded = {"conditions.users.excludeUsers": ["GuestsOrExternalUsers"]}
    tenant = Directory(
        users=[user(1), user(4, userPrincipalName=partner), without(user(5), "userType")],
        registration=[registration(n) for n in (1, 4, 5)],
        conditionalAccessPolicies=[ca_policy("members", **excluded)],
    )
    records = collect_export(make_config, tmp_path, tenant).records
    enforced = {a.username: a.mfa_enforced for a in records.accounts}
    assert enforced == {
        "user001@contoso.example": YES,
        partner: UNKNOWN,  # a B2B member is external too
        "user005@contoso.example": UNKNOWN,  # unknown userType: not certainly internal
    }


def test_conditional_access_not_read_leaves_enforcement_unknown(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    tenant = Directory(users=[user(1)], registration=[registration(1)])
    tenant.conditionalAccessPolicies = [ca_policy("everyone")]
    write_export(tmp_path / "entra", tenant)
    (tmp_path / "entra" / "conditionalAccessPolicies.json").unlink()
    collected = EntraConnector().collect(make_config(path="entra", tenant_id=TENANT))
    assert [a.mfa_enforced for a in collected.records.accounts] == [UNKNOWN]
    assert "conditionalAccessPolicies.json not in the export; MFA enforcement stays unknown" in (
        collected.records.warnings
    )
    assert collected.complete


def test_a_malformed_conditional_access_policy_is_bad_input(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    broken = ca_policy("everyone", **{"grantControls.builtInControls": "mfa"})
    tenant = Directory(users=[user(1)], registration=[registration(1)])
    tenant.conditionalAccessPolicies = [broken]
    with pytest.raises(InputError) as caught:
        collect_export(make_config, tmp_path, tenant)
    assert caught.value.where == str(tmp_path / "entra" / "conditionalAccessPolicies.json")
    assert caught.value.problem == (
        "value[0].grantControls.builtInControls: expected an array of strings"
    )


def test_owners_of_no_service_principal_are_ignored(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    tenant = golden()
    tenant.owners["5b-gone"] = [owner(1)]
    records = collect_export(make_config, tmp_path, tenant).records
    assert "owners/5b-gone: no service principal with id '5b-gone'; ignored" in records.warnings


@pytest.mark.parametrize(
    ("owners", "problem"),
    [
        ([{"mail": "a@contoso.example"}], "value[0].id: missing"),
        ([owner(1, mail=["a@contoso.example"])], "value[0].mail: expected a string, got an array"),
        ({"x": 1}, "value: expected an array, missing"),
    ],
)
def test_bad_owners(make_config: MakeConfig, tmp_path: Path, owners: Any, problem: str) -> None:
    write_export(tmp_path / "entra", golden())
    body = owners if isinstance(owners, dict) else {"value": owners}
    (tmp_path / "entra" / "owners" / f"{spid(1)}.json").write_text(json.dumps(body), "utf-8")
    with pytest.raises(InputError) as caught:
        EntraConnector().collect(make_config(path="entra", tenant_id=TENANT))
    assert caught.value.where.endswith(f"owners/{spid(1)}.json")
    assert caught.value.problem == problem


def test_credentials_are_judged_at_the_given_time(make_config: MakeConfig, tmp_path: Path) -> None:
    collected = collect_export(make_config, tmp_path, golden())
    config = make_config(tenant_id=TENANT)
    then = entra.parse(
        collected.payloads, replace(config, collected_at=datetime(2019, 6, 1, tzinfo=UTC))
    )
    assert [c.active for c in then.credentials[:2]] == [True, True]


def test_an_export_of_one_page_is_incomplete(make_config: MakeConfig, tmp_path: Path) -> None:
    write_export(tmp_path / "entra", golden())
    users = tmp_path / "entra" / "users.json"
    users.write_text(
        json.dumps({"value": golden().users, "@odata.nextLink": "https://graph/next"}),
        encoding="utf-8",
    )
    collected = EntraConnector().collect(make_config(path="entra", tenant_id=TENANT))

    reason = "users.json: the last page has an @odata.nextLink; later pages were not read"
    assert (collected.complete, collected.incomplete_reason) == (False, reason)
    assert collected.records.warnings[0] == reason


def test_every_list_is_needed(make_config: MakeConfig, tmp_path: Path) -> None:
    write_export(tmp_path / "entra", golden())
    (tmp_path / "entra" / "registration.json").unlink()
    with pytest.raises(InputError) as caught:
        EntraConnector().collect(make_config(path="entra", tenant_id=TENANT))
    assert (caught.value.where, caught.value.problem) == (
        "registration.json",
        "missing from the export",
    )


def test_settings(make_config: MakeConfig, tmp_path: Path) -> None:
    write_export(tmp_path / "entra", golden())
    with pytest.raises(InputError, match="setting 'tenant_id' is required"):
        EntraConnector().collect(make_config(path="entra"))
    with pytest.raises(InputError, match="use one of: export, live"):
        EntraConnector().collect(make_config("api", tenant_id=TENANT))


def bad(name: str, position: int, field: str, value: Any) -> Directory:
    """The golden tenant given ``value`` for ``field`` of item ``position`` of list ``name``."""
    tenant = golden()
    items = getattr(tenant, name)
    items[position] = altered(items[position], field, value)
    return tenant


@pytest.mark.parametrize(
    ("tenant", "file", "problem"),
    [
        (bad("users", 2, "id", DROP), "users.json", "value[2].id: missing"),
        (bad("users", 2, "id", 7), "users.json", "value[2].id: expected a string, got a number"),
        (
            bad("users", 2, "id", uid(1)),
            "users.json",
            f"value[2].id: duplicate '{uid(1)}' (also at users.json value[0])",
        ),
        (
            bad("users", 2, "userPrincipalName", " "),
            "users.json",
            "value[2].userPrincipalName: empty",
        ),
        (
            bad("users", 2, "accountEnabled", "true"),
            "users.json",
            "value[2].accountEnabled: expected a boolean, got a string",
        ),
        (
            bad("users", 2, "signInActivity", "2024"),
            "users.json",
            "value[2].signInActivity: expected an object, got a string",
        ),
        (
            bad("users", 2, "signInActivity.lastSignInDateTime", "2024-05-06T07:08:09"),
            "users.json",
            "value[2].signInActivity.lastSignInDateTime: timestamp has no time zone: "
            "'2024-05-06T07:08:09'",
        ),
        (
            bad("registration", 1, "isMfaRegistered", "yes"),
            "registration.json",
            "value[1].isMfaRegistered: expected a boolean, got a string",
        ),
        (
            bad("servicePrincipals", 0, "appId", DROP),
            "servicePrincipals.json",
            "value[0].appId: missing",
        ),
        (
            bad("servicePrincipals", 0, "id", uid(1)),
            "servicePrincipals.json",
            f"value[0].id: duplicate '{uid(1)}' (also at users.json value[0])",
        ),
        (
            bad("servicePrincipals", 0, "keyCredentials", {}),
            "servicePrincipals.json",
            "value[0].keyCredentials: expected an array, got an object",
        ),
        (
            bad("servicePrincipals", 0, "passwordCredentials.0", "secret"),
            "servicePrincipals.json",
            "value[0].passwordCredentials[0]: expected an object, got a string",
        ),
        (
            bad("servicePrincipals", 0, "passwordCredentials.0.endDateTime", "soon"),
            "servicePrincipals.json",
            "value[0].passwordCredentials[0].endDateTime: not an ISO 8601 timestamp: 'soon'",
        ),
        (
            bad("oauth2PermissionGrants", 0, "clientId", DROP),
            "oauth2PermissionGrants.json",
            "value[0].clientId: missing",
        ),
        (
            bad("oauth2PermissionGrants", 1, "id", DROP),
            "oauth2PermissionGrants.json",
            "value[1].id: missing",
        ),
        (
            bad("oauth2PermissionGrants", 0, "principalId", None),
            "oauth2PermissionGrants.json",
            "value[0].consentType: expected 'AllPrincipals', or 'Principal' with a "
            "principalId, got 'Principal'",
        ),
    ],
)
def test_bad_items(
    make_config: MakeConfig, tmp_path: Path, tenant: Directory, file: str, problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        collect_export(make_config, tmp_path, tenant)
    assert (local_where(caught.value.where), caught.value.problem) == (file, problem)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "expected a JSON object with 'value', got an array"),
        ({}, "value: expected an array, missing"),
        ({"value": {}}, "value: expected an array, got an object"),
        ({"value": [1]}, "value[0]: expected an object, got a number"),
        ({"value": [], "@odata.nextLink": 3}, "@odata.nextLink: expected a URL, got a number"),
    ],
)
def test_bad_bodies(make_config: MakeConfig, tmp_path: Path, body: Any, problem: str) -> None:
    write_export(tmp_path / "entra", golden())
    (tmp_path / "entra" / "users.json").write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        EntraConnector().collect(make_config(path="entra", tenant_id=TENANT))
    assert (local_where(caught.value.where), caught.value.problem) == ("users.json", problem)


# Live mode


def live_tenant() -> Directory:
    return Directory(
        users=[
            user(
                n,
                userType="Guest" if n % 50 == 7 else "Member",
                accountEnabled=n % 30 != 4,
                **({"signInActivity": None} if n % 11 == 0 else {}),
            )
            for n in range(250)
        ],
        registration=[
            registration(n, isAdmin=n % 40 == 0, isMfaRegistered=n % 7 != 0)
            for n in range(250)
            if n % 60 != 59
        ],
        servicePrincipals=golden().servicePrincipals,
        oauth2PermissionGrants=[
            consent(1, "Principal", uid(10), "User.Read"),
            consent(2, "AllPrincipals", None, "Mail.Read"),
        ],
        applications=golden().applications,
        owners={
            spid(1): [owner(10), owner(11)],
            # More owners than a page holds; the only user is on the second page.
            spid(4): [*(owning_principal(n) for n in range(100, 220)), owner(12)],
        },
    )


@pytest.fixture
def server() -> Iterator[GraphServer]:
    with GraphServer(live_tenant()) as running:
        yield running


def live_config(
    tmp_path: Path, server: GraphServer, secrets: dict[str, str] | None = None
) -> ConnectorConfig:
    return ConnectorConfig(
        system_id="sys",
        mode="live",
        settings={"base_url": server.url, "tenant_id": TENANT},
        secrets={"token": TOKEN} if secrets is None else secrets,
        base_dir=tmp_path,
    )


def collect_live(tmp_path: Path, server: GraphServer) -> tuple[Collected, list[float]]:
    """Collect with a sleep that records each requested delay and returns at once."""
    delays: list[float] = []
    collected = EntraConnector(sleep=delays.append).collect(live_config(tmp_path, server))
    return collected, delays


def owners_url(server: GraphServer, principal: str) -> str:
    return f"{server.url}/v1.0/servicePrincipals/{principal}/owners"


def export_records(make_config: MakeConfig, tmp_path: Path) -> Records:
    return collect_export(make_config, tmp_path, live_tenant(), all_owners=True).records


def assert_no_token(collected: Collected) -> None:
    for payload in collected.payloads:
        assert TOKEN not in payload.source
        assert TOKEN.encode() not in payload.data
    assert TOKEN not in json.dumps(collected.parameters)
    assert TOKEN not in (collected.incomplete_reason or "")
    assert all(TOKEN not in warning for warning in collected.records.warnings)


def test_every_page_is_read_and_matches_export_mode(
    make_config: MakeConfig, tmp_path: Path, server: GraphServer
) -> None:
    collected, delays = collect_live(tmp_path, server)

    assert delays == []
    assert (collected.mode, collected.complete, collected.incomplete_reason) == ("live", True, None)
    users_path = f"{server.url}/v1.0/users?$select={entra.USER_FIELDS}"
    registration_path = f"{server.url}{entra.PATHS['registration']}"
    assert [(p.name, p.source) for p in collected.payloads] == [
        ("users.page-001.json", users_path),
        ("users.page-002.json", f"{users_path}&$skiptoken=RFNwdA100"),
        ("users.page-003.json", f"{users_path}&$skiptoken=RFNwdA200"),
        ("registration.page-001.json", registration_path),
        ("registration.page-002.json", f"{registration_path}?$skiptoken=RFNwdA100"),
        ("registration.page-003.json", f"{registration_path}?$skiptoken=RFNwdA200"),
        ("servicePrincipals.page-001.json", f"{server.url}/v1.0/servicePrincipals"),
        ("oauth2PermissionGrants.page-001.json", f"{server.url}/v1.0/oauth2PermissionGrants"),
        ("applications.page-001.json", f"{server.url}{entra.PATHS['applications']}"),
        (
            "conditionalAccessPolicies.page-001.json",
            f"{server.url}/v1.0/identity/conditionalAccess/policies",
        ),
        *(
            (f"owners/{principal}.page-001.json", owners_url(server, principal))
            for principal in (spid(1), spid(2), GRAPH_ID, spid(4))
        ),
        (
            f"owners/{spid(4)}.page-002.json",
            f"{owners_url(server, spid(4))}?$skiptoken=RFNwdA100",
        ),
    ]
    assert collected.parameters == {
        "base_url": server.url,
        "pages": {
            "users": 3,
            "registration": 3,
            "servicePrincipals": 1,
            "oauth2PermissionGrants": 1,
            "applications": 1,
            "conditionalAccessPolicies": 1,
            "owners": 5,
            "groupMembers": 0,
        },
        "tenant_id": TENANT,
        "fetched": {
            "users": 250,
            "registration": 246,
            "servicePrincipals": 4,
            "oauth2PermissionGrants": 2,
            "applications": 2,
            "conditionalAccessPolicies": 0,
        },
        "owners_read": 4,
        "group_members_read": 0,
        "applications": 3,
    }
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert server.requests[0].headers["accept"] == "application/json"

    records = collected.records
    assert records == export_records(make_config, tmp_path)
    assert entra.parse(collected.payloads, live_config(tmp_path, server)) == records
    replayed = registry.parser_for("entra")(collected.payloads, live_config(tmp_path, server))
    assert replayed == records
    by_id = {account.account_id: account for account in records.accounts}
    assert [by_id[spid(n)].owner for n in (1, 2, 4)] == [
        "user010@contoso.example",
        None,
        "user012@contoso.example",
    ]
    consents = [c for c in records.credentials if c.kind == "oauth_consent"]
    assert [(c.account_id, c.third_party, c.broad, c.scopes) for c in consents] == [
        (uid(10), "Payroll Sync", NO, ("User.Read",)),
        (spid(2), "Acme CRM", YES, ("Mail.Read",)),
    ]
    assert len(records.applications) == 3
    assert len(by_id) == 254
    assert (by_id[uid(4)].status, by_id[uid(5)].status) == (INACTIVE, ACTIVE)
    assert (by_id[uid(7)].mfa_registered, by_id[uid(8)].mfa_registered) == (NO, YES)
    assert (by_id[uid(59)].mfa_registered, by_id[uid(59)].privileged) == (UNKNOWN, UNKNOWN)
    assert (by_id[uid(22)].last_login, by_id[uid(22)].last_login_source) == (None, None)
    assert [a.account_id for a in records.accounts if a.privileged is YES] == [
        uid(n) for n in range(0, 250, 40)
    ]
    assert records.grants == (Grant("sys", uid(10), f"{GRAPH_ID}:User.Read"),)
    assert records.warnings[0].startswith("5 guest account(s), third-party access: user007@")
    assert_no_token(collected)

    # The live layout saved to disk is an export too.
    directory = tmp_path / "pages"
    (directory / "owners").mkdir(parents=True)
    for payload in collected.payloads:
        (directory / payload.name).write_bytes(payload.data)
    from_pages = EntraConnector().collect(make_config(path="pages", tenant_id=TENANT))
    assert (from_pages.complete, from_pages.records) == (True, records)


def test_429_waits_as_retry_after_says(tmp_path: Path, server: GraphServer) -> None:
    server.retry_after[2] = "7"
    collected, delays = collect_live(tmp_path, server)

    assert delays == [7.0]
    assert server.requests[1].path == server.requests[2].path
    assert server.requests[2].path.endswith("$skiptoken=RFNwdA100")
    assert collected.complete
    assert len(collected.records.accounts) == 254


def test_a_single_500_is_retried(
    make_config: MakeConfig, tmp_path: Path, server: GraphServer
) -> None:
    server.fail_once.add(("registration", 100))
    collected, delays = collect_live(tmp_path, server)

    assert len(delays) == 1 and 1 <= delays[0] <= 2
    assert len(server.requests) == 11 + 5  # the owners' five pages too
    assert collected.complete
    assert collected.records == export_records(make_config, tmp_path)


def test_failing_pages_leave_honest_unknowns(tmp_path: Path, server: GraphServer) -> None:
    server.fail_always.update({("users", 200), ("registration", 100)})
    collected, delays = collect_live(tmp_path, server)

    assert len(delays) == 10  # five retries of each failing page
    users_url = f"{server.url}/v1.0/users?$select={entra.USER_FIELDS}&$skiptoken=RFNwdA200"
    registration_url = f"{server.url}{entra.PATHS['registration']}?$skiptoken=RFNwdA100"
    assert not collected.complete
    assert collected.incomplete_reason == (
        f"users page 3 ({users_url}): HTTP 500 Internal Server Error (6 attempts); "
        f"registration page 2 ({registration_url}): HTTP 500 Internal Server Error (6 attempts)"
    )
    failed = [p for p in collected.payloads if p.name.endswith(".failed")]
    assert [(p.name, p.source, json.loads(p.data)["error"]["code"]) for p in failed] == [
        ("users.page-003.failed", users_url, "generalException"),
        ("registration.page-002.failed", registration_url, "generalException"),
    ]
    assert collected.parameters["pages"] == {
        "users": 2,
        "registration": 1,
        "servicePrincipals": 1,
        "oauth2PermissionGrants": 1,
        "applications": 1,
        "conditionalAccessPolicies": 1,
        "owners": 5,
        "groupMembers": 0,
    }
    records = collected.records
    humans = [a for a in records.accounts if a.kind is AccountKind.HUMAN]
    assert len(humans) == 200
    # Registration page 1 covers users 0 to 100 (59 has no details); the rest are unknown.
    assert (
        {a.mfa_registered for a in humans[101:]}
        == {a.privileged for a in humans[101:]}
        == {UNKNOWN}
    )
    assert humans[100].mfa_registered is YES
    assert records.warnings[:2] == ("users page 3 failed", "registration page 2 failed")
    assert entra.parse(collected.payloads, live_config(tmp_path, server)) == records
    assert_no_token(collected)


def test_a_failing_owners_list_leaves_that_owner_unknown(
    make_config: MakeConfig, tmp_path: Path, server: GraphServer
) -> None:
    server.fail_always.add((f"owners/{spid(4)}", 100))
    collected, _ = collect_live(tmp_path, server)

    url = f"{owners_url(server, spid(4))}?$skiptoken=RFNwdA100"
    assert not collected.complete
    assert collected.incomplete_reason == (
        f"owners/{spid(4)} page 2 ({url}): HTTP 500 Internal Server Error (6 attempts)"
    )
    records = collected.records
    by_id = {account.account_id: account for account in records.accounts}
    assert (by_id[spid(1)].owner, by_id[spid(4)].owner) == ("user010@contoso.example", None)
    assert f"owners/{spid(4)} page 2 failed" in records.warnings
    assert entra.parse(collected.payloads, live_config(tmp_path, server)) == records


def test_conditional_access_read_live_and_a_403_when_it_may_not_be(
    tmp_path: Path, server: GraphServer
) -> None:
    everyone = ca_policy("everyone", **{"conditions.users.excludeGroups": ["g-break"]})
    server.directory.conditionalAccessPolicies = [everyone]
    server.directory.group_members = {"g-break": [uid(10)]}
    collected, _ = collect_live(tmp_path, server)
    humans = {
        a.account_id: a.mfa_enforced
        for a in collected.records.accounts
        if a.kind is AccountKind.HUMAN
    }
    assert humans.pop(uid(10)) == UNKNOWN  # left out by the break-glass group
    assert set(humans.values()) == {YES}
    assert collected.parameters["pages"]["groupMembers"] == 1
    assert f"{server.url}/v1.0/groups/g-break/transitiveMembers?$select=id" in {
        p.source for p in collected.payloads
    }
    assert entra.parse(collected.payloads, live_config(tmp_path, server)) == collected.records

    server.deny_policies = True
    collected, _ = collect_live(tmp_path, server)
    assert collected.complete  # the rest was read; only enforcement stays unknown
    denied = [p for p in collected.payloads if p.name.endswith(".denied")]
    assert [p.name for p in denied] == ["conditionalAccessPolicies.denied"]
    records = collected.records
    assert {a.mfa_enforced for a in records.accounts if a.kind is AccountKind.HUMAN} == {UNKNOWN}
    assert (
        "conditionalAccessPolicies: not permitted (HTTP 403: Insufficient privileges to complete "
        "the operation.); MFA enforcement stays unknown"
    ) in records.warnings
    assert entra.parse(collected.payloads, live_config(tmp_path, server)) == records


def test_a_bad_token_is_an_input_error_without_the_token(
    tmp_path: Path, server: GraphServer
) -> None:
    wrong = "eyJ.WrongTokenAlsoSecret999"
    with pytest.raises(InputError) as caught:
        EntraConnector(sleep=lambda _: None).collect(
            live_config(tmp_path, server, secrets={"token": wrong})
        )

    error = caught.value
    assert error.where == f"{server.url}/v1.0/users?$select={entra.USER_FIELDS}"
    assert error.problem == "HTTP 401 Unauthorized: Access token is empty."
    assert wrong not in str(error) and wrong not in repr(error.args)
    assert len(server.requests) == 1  # not retried


def test_a_next_link_to_another_host_is_refused(tmp_path: Path, server: GraphServer) -> None:
    server.next_host = "http://graph.attacker.example"
    with pytest.raises(InputError) as caught:
        collect_live(tmp_path, server)

    assert caught.value.where == f"{server.url}/v1.0/users?$select={entra.USER_FIELDS}"
    assert caught.value.problem == (
        "@odata.nextLink leads to another host (http://graph.attacker.example); not followed"
    )
    assert len(server.requests) == 1


def test_live_mode_needs_the_token_secret(tmp_path: Path, server: GraphServer) -> None:
    with pytest.raises(InputError) as caught:
        EntraConnector().collect(live_config(tmp_path, server, secrets={}))
    assert caught.value.where == "system sys"
    assert "secret 'token'" in caught.value.problem
    assert server.requests == []


def test_paged_layout_must_be_whole(tmp_path: Path, server: GraphServer) -> None:
    collected, _ = collect_live(tmp_path, server)
    config = live_config(tmp_path, server)
    without_two = [p for p in collected.payloads if p.name != "users.page-002.json"]
    with pytest.raises(InputError) as caught:
        entra.parse(without_two, config)
    assert (caught.value.where, caught.value.problem) == (
        "users.page-*",
        "pages [1, 3] stored; pages must run from 1 without a gap",
    )

    both = [*collected.payloads, RawPayload("users.json", "/x/users.json", b"{}")]
    with pytest.raises(InputError, match="also holds pages of this list"):
        entra.parse(both, config)
