"""Microsoft Entra ID users, MFA, service principals, app registrations and consents, from Graph.

Six lists are read (Graph v1.0), each a body ``{"value": [...], "@odata.nextLink": ...}``:

- ``users`` — ``GET /v1.0/users?$select=id,userPrincipalName,mail,displayName,accountEnabled,
  userType,createdDateTime,signInActivity,employeeId``;
- ``registration`` — ``GET /v1.0/reports/authenticationMethods/userRegistrationDetails``;
- ``servicePrincipals`` — ``GET /v1.0/servicePrincipals``;
- ``oauth2PermissionGrants`` — ``GET /v1.0/oauth2PermissionGrants``;
- ``applications`` — ``GET /v1.0/applications?$select=id,appId,displayName,
  passwordCredentials,keyCredentials``, the app registrations, where most client secrets live;
- ``conditionalAccessPolicies`` — ``GET /v1.0/identity/conditionalAccess/policies``;

and, paged the same way, for every service principal read its owners (``GET
/v1.0/servicePrincipals/{id}/owners``), and for every group that a policy requiring MFA includes
or excludes its members (``GET /v1.0/groups/{id}/transitiveMembers?$select=id``).

Export mode (``mode: export``). Setting ``path`` — the export directory, holding for each list
either ``<list>.json`` (one body holding every item, with no ``@odata.nextLink``) or the live
layout's ``<list>.page-001.json``, ``<list>.page-002.json``, …; owners likewise as
``owners/{servicePrincipalId}.json`` and members as ``groupMembers/{groupId}.json`` (or their
pages). Owners and members files, ``applications`` and ``conditionalAccessPolicies`` are optional,
so an export saved before they were read still parses: a service principal without an owners file
has no owner known, an export without ``applications`` gives no app registration secrets, one
without the policies leaves MFA enforcement unknown, and a warning and the
``optional_files_missing`` parameter name what is missing.

Live mode (``mode: live``). Settings: ``base_url`` (optional, default
``https://graph.microsoft.com``); secret ``token``, a Bearer access token, which the connector only
sends: acquiring it (client credentials) is left outside. Least privilege: the application
permissions ``User.Read.All``, ``AuditLog.Read.All`` (``signInActivity`` and registration details),
``Application.Read.All``, ``Directory.Read.All`` (permission grants) and ``Policy.Read.All``
(Conditional Access; refused with 403, it leaves MFA enforcement unknown and is kept as
``conditionalAccessPolicies.denied``) — all read-only. Graph pages by ``@odata.nextLink`` in the
body, a full URL; it is followed only to the host of ``base_url``, so the token is never sent
elsewhere. Each page is kept as ``<list>.page-NNN.json`` with its URL as source; a page still
failing after the retries is kept as ``<list>.page-NNN.failed`` (the last error body) and that list
stops there.

Either way a list is complete only when its last body has no ``@odata.nextLink`` and no page
failed; otherwise the collection is marked incomplete. Both modes need setting ``tenant_id``.

Users are human accounts; guests too, listed in a warning as third-party access. MFA registration
and privilege (``isAdmin``) come from the registration details; a user missing from them is
*unknown*. MFA enforcement (registration is not enforcement) is *yes* for a user that an enabled
Conditional Access policy certainly holds to MFA at every sign-in: the policy requires ``mfa`` or an
authentication strength (alone, or with every other control), covers all cloud apps and every client
app type with no narrowing condition (risk, platform, location, device, user action), and includes
the user — all users, every guest or external user, the user by id, or a group the user is in —
without excluding them (by id, by a group, or as a guest or external user when they are not
certainly an internal member) or excluding any role (whose members are not read). Only an
authentication strength that satisfies MFA counts as MFA, and an app filter narrows the apps. The
members of each group such a policy names are read from ``groups/{id}/transitiveMembers``; a group
whose members were not read to the end might hold anyone. Anything short of that leaves it
*unknown*, never *no*: per-user MFA and security defaults, which Graph v1.0 does not show, may still
hold the user to it. ``last_login`` is ``signInActivity.lastSignInDateTime``, never
``createdDateTime``.

Users whose ``accountEnabled`` is false are inactive; Graph gives no time they were disabled
(``users`` has none; only the audit log would), so ``deactivated_at`` stays unset.

Service principals are service accounts, with their ``passwordCredentials`` (``client_secret``)
and ``keyCredentials`` (``certificate``) as credentials. The secrets and certificates of an app
registration are credentials of the same kinds, held by the service principal of the same
``appId`` in this tenant and answered for by its owner; one whose app has no service principal
here belongs to no account, and its owner is unknown (app registration owners are not read). One
whose ``appOwnerOrganizationId`` is neither the tenant
nor Microsoft is a third-party app, listed in a warning. Microsoft's own service principals
(Graph, Exchange and the like, in every tenant) are system accounts, and not applications for
scope drift: they come with the tenant and nobody here owns them. The owner of a service
principal and of its credentials is the first user among its owners, by ``mail`` (else
``userPrincipalName``);
owners that are themselves service principals name no person and are passed over, and with no
user owner the owner stays unset. Every other service principal is also an ``Application``
(``appId``, ``displayName``), inactive only when ``accountEnabled`` is false.

Each delegated permission grant gives an entitlement per (resource, scope) and a credential
(``oauth_consent``, the grant's ``id``) naming the client app as the third party and its scopes:
a grant for one user (``consentType: Principal``) is also a grant to that user and belongs to
their account, with broad reach *no*; tenant-wide consent (``AllPrincipals``) reaches every user,
so its credential belongs to the client service principal with broad reach *yes*. Scopes
containing ``.ReadWrite.All`` or ``Directory.`` are privileged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import StrictStr

from assay.connectors import _api, _export, _pages
from assay.connectors._http import ApiClient, PageFailed
from assay.connectors.base import Collected, ConnectorConfig, RawPayload, SettingsModel
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

USER_FIELDS = (
    "id,userPrincipalName,mail,displayName,accountEnabled,userType,createdDateTime,"
    "signInActivity,employeeId"
)
USERS = "users"
REGISTRATION = "registration"
SERVICE_PRINCIPALS = "servicePrincipals"
GRANTS = "oauth2PermissionGrants"
APPLICATIONS = "applications"
CONDITIONAL_ACCESS = "conditionalAccessPolicies"
PATHS: Mapping[str, str] = {
    USERS: f"/v1.0/users?$select={USER_FIELDS}",
    REGISTRATION: "/v1.0/reports/authenticationMethods/userRegistrationDetails",
    SERVICE_PRINCIPALS: "/v1.0/servicePrincipals",
    GRANTS: "/v1.0/oauth2PermissionGrants",
    APPLICATIONS: "/v1.0/applications?$select=id,appId,displayName,passwordCredentials,"
    "keyCredentials",
    CONDITIONAL_ACCESS: "/v1.0/identity/conditionalAccess/policies",
}
"""Each list's first request; later pages are Graph's own ``@odata.nextLink``."""
OPTIONAL_LISTS: Mapping[str, str] = {
    APPLICATIONS: "the secrets of app registrations were not read",
    CONDITIONAL_ACCESS: "MFA enforcement stays unknown",
}
"""Lists an export may lack (saved before they were read), and what is not known without them:
a warning, not an error. Conditional Access needs ``Policy.Read.All``; a tenant that has not
granted it answers 403, kept as ``conditionalAccessPolicies.denied``, with the same effect."""
DENIED = ".denied"
OWNERS_DIR = "owners"
GROUPS_DIR = "groupMembers"
"""The members of each group a Conditional Access policy that requires MFA includes or
excludes: ``GET /v1.0/groups/{id}/transitiveMembers?$select=id``."""
PER_ITEM_DIRS = (OWNERS_DIR, GROUPS_DIR)
PAGE_NAME = _pages.page_pattern("|".join([*PATHS, *(f"{d}/[^/]+" for d in PER_ITEM_DIRS)]))
PER_ITEM_EXPORT = re.compile(rf"(?:{'|'.join(PER_ITEM_DIRS)})/[^/]+\.json")
NEXT_LINK = "@odata.nextLink"

DEFAULT_BASE_URL = "https://graph.microsoft.com"

MICROSOFT_TENANTS = frozenset(
    {"f8cdef31-a31e-4b4a-93e4-5f571e91255a", "72f988bf-86f1-41af-91ab-2d7cd011db47"}
)
"""Tenants owning Microsoft's own apps (Graph, Office), in every tenant; not third-party."""

CREDENTIAL_KINDS = (("passwordCredentials", "client_secret"), ("keyCredentials", "certificate"))
CONSENT_KIND = "oauth_consent"
PRIVILEGED_SCOPE_PARTS = (".ReadWrite.All", "Directory.")


class EntraSettings(_api.ApiSettings):
    """As every API connector, and the tenant's id, to tell third-party apps from its own."""

    tenant_id: StrictStr | None = None


class EntraConnector(_api.ApiConnector):
    """Reads an Entra ID tenant live from Microsoft Graph or from an export directory."""

    type: str = "entra"
    version: str = "1"
    settings: SettingsModel = EntraSettings

    def _collect_export(self, config: ConnectorConfig) -> Collected:
        started_at = datetime.now(UTC)
        directory = _export.require_directory(config.path())
        names = _pages.export_names(directory, {f"{name}.json" for name in PATHS}, PAGE_NAME)
        per_item = sorted(
            name
            for folder in PER_ITEM_DIRS
            if (directory / folder).is_dir()
            for name in (f"{folder}/{file.name}" for file in (directory / folder).iterdir())
            if PER_ITEM_EXPORT.fullmatch(name) or PAGE_NAME.fullmatch(name)
        )
        payloads = [_export.read_payload(directory, name) for name in [*names, *per_item]]
        records, snapshot = _read(payloads, config, started_at)
        problems = snapshot.problems()
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            payloads,
            records,
            {
                "path": str(directory),
                "files": names,
                **snapshot.counts(config, records),
                "optional_files_missing": [
                    *(
                        f"{name}.json"
                        for name in sorted(OPTIONAL_LISTS.keys() - snapshot.lists.keys())
                    ),
                    *(f"{OWNERS_DIR}/{principal}.json" for principal in snapshot.without_owners),
                    *(f"{GROUPS_DIR}/{group}.json" for group in snapshot.without_members),
                ],
            },
            complete=not problems,
            incomplete_reason="; ".join(problems) or None,
        )

    def _collect_live(self, config: ConnectorConfig) -> Collected:
        token = _api.token(
            config, self.type, "a Graph access token with read-only application permissions"
        )
        base_url = _api.base_url(config, DEFAULT_BASE_URL)
        _tenant_id(config)  # refused before any request rather than after them all
        started_at = datetime.now(UTC)
        payloads: list[RawPayload] = []
        failures: dict[str, str] = {}
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
        with ApiClient(base_url, headers, sleep=self._sleep) as client:
            for name, path in PATHS.items():
                deniable = name == CONDITIONAL_ACCESS
                failure = _fetch_list(client, base_url, name, path, payloads, deniable=deniable)
                if failure is not None:
                    failures[name] = failure
            per_item = [
                *((owners_list(p), owners_path(p)) for p in _principal_ids(payloads)),
                *((members_list(g), members_path(g)) for g in _policy_groups(payloads)),
            ]
            for name, path in per_item:
                failure = _fetch_list(client, base_url, name, path, payloads)
                if failure is not None:
                    failures[name] = failure
        records, snapshot = _read(payloads, config, started_at)
        problems = snapshot.problems(failures)
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            payloads,
            records,
            {
                "base_url": base_url,
                "pages": {
                    **{p.list_name: p.pages for p in snapshot.lists.values()},
                    OWNERS_DIR: sum(p.pages for p in snapshot.owners),
                    GROUPS_DIR: sum(p.pages for p in snapshot.members),
                },
                **snapshot.counts(config, records),
            },
            complete=not problems,
            incomplete_reason="; ".join(problems) or None,
        )


def owners_list(principal_id: str) -> str:
    """The list name of a service principal's owners: ``owners/{id}``."""
    return f"{OWNERS_DIR}/{principal_id}"


def owners_path(principal_id: str) -> str:
    return f"{PATHS[SERVICE_PRINCIPALS]}/{quote(principal_id, safe='')}/owners"


def members_list(group_id: str) -> str:
    """The list name of a group's members: ``groupMembers/{id}``."""
    return f"{GROUPS_DIR}/{group_id}"


def members_path(group_id: str) -> str:
    return f"/v1.0/groups/{quote(group_id, safe='')}/transitiveMembers?$select=id"


def page_name(name: str, number: int, *, failed: bool = False) -> str:
    """A live page's payload name: ``users.page-001.json``, or ``….failed``."""
    return _pages.page_name(name, number, failed=failed)


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Records from the payloads of either layout; credentials are judged active at the moment
    they were collected (``config.moment()``)."""
    return _read(payloads, config, config.moment())[0]


def _fetch_list(
    client: ApiClient,
    base_url: str,
    name: str,
    path: str,
    payloads: list[RawPayload],
    *,
    deniable: bool = False,
) -> str | None:
    """Append one list's pages to ``payloads``; the failure, if a page kept failing.

    ``get_pages`` follows only ``Link`` headers, which Graph does not send: each call answers
    one request, and the next URL is read from the body. For a ``deniable`` list a 403 (the
    permission not granted) is kept as ``{name}.denied`` and ends the list.
    """
    url: str | None = path
    number = 0
    while url is not None:
        number += 1
        try:
            page = client.get_one(url, accept=(403,)) if deniable else next(client.get_pages(url))
        except PageFailed as failed:
            return _pages.record_failure(payloads, name, number, failed)
        if page.status == 403:
            payloads.append(RawPayload(f"{name}{DENIED}", page.url, page.data))
            return None
        payload = RawPayload(page_name(name, number), page.url, page.data)
        payloads.append(payload)
        url = _body(payload)[1]
        if url is not None and _origin(httpx.URL(url)) != _origin(httpx.URL(base_url)):
            target = httpx.URL(url)
            raise InputError(
                page.url,
                f"{NEXT_LINK} leads to another host ({target.scheme}://{target.host}); "
                "not followed",
            )
    return None


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


Entry = tuple[RawPayload, int, dict[str, Any]]
"""One item: the payload holding it, its index in ``value`` and the object."""


@dataclass(frozen=True)
class _Population:
    """One list as stored: one export body, or live pages in order."""

    list_name: str
    name: str
    """How messages name it: ``users.json`` or ``users.page-*.json``."""
    entries: tuple[Entry, ...]
    pages: int
    failed_page: int | None
    more: bool
    """The last body read still had an ``@odata.nextLink``: later pages are missing."""

    def problems(self, failure: str | None = None) -> list[str]:
        """Why the list is not known to be whole; ``failure`` is the live client's account."""
        if self.failed_page is not None:
            return [failure or f"{self.list_name} page {self.failed_page} failed"]
        if self.more:
            return [f"{self.name}: the last page has an {NEXT_LINK}; later pages were not read"]
        return []


@dataclass(frozen=True)
class _Snapshot:
    """Every list as stored, and which service principals have no owners list."""

    lists: Mapping[str, _Population]
    owners: tuple[_Population, ...]
    without_owners: tuple[str, ...]
    """Service principals whose owners the snapshot does not hold: their owners are unknown."""
    members: tuple[_Population, ...] = ()
    without_members: tuple[str, ...] = ()
    """Groups a policy names whose members the snapshot does not hold."""

    def problems(self, failures: Mapping[str, str] | None = None) -> list[str]:
        """Why the snapshot is not known to be whole; ``failures`` are the live client's."""
        return [
            problem
            for population in (*self.lists.values(), *self.owners, *self.members)
            for problem in population.problems((failures or {}).get(population.list_name))
        ]

    def counts(self, config: ConnectorConfig, records: Records) -> dict[str, Any]:
        return {
            "tenant_id": _tenant_id(config),
            "fetched": {name: len(p.entries) for name, p in self.lists.items()},
            "owners_read": len(self.owners),
            "group_members_read": len(self.members),
            "applications": len(records.applications),
        }


def _principal_ids(payloads: Sequence[RawPayload]) -> list[str]:
    """The ids of the service principals read so far, whose owners are read next."""
    principals = _read_so_far(payloads, SERVICE_PRINCIPALS)
    return [
        _export.required_string(payload, principal, path, "id")
        for payload, path, principal in (_items(principals) if principals else [])
    ]


def _policy_groups(payloads: Sequence[RawPayload]) -> list[str]:
    """The groups the MFA policies read so far include or exclude, whose members are read next."""
    policies = _read_so_far(payloads, CONDITIONAL_ACCESS)
    return sorted({g for p in (_mfa_policies(policies) if policies else []) for g in p.groups()})


def _read_so_far(payloads: Sequence[RawPayload], name: str) -> _Population | None:
    """One list from the pages a live collection has read so far."""
    index = _export.by_name(payloads)
    return _population(index, _pages.group(index, PAGE_NAME), name)


def _read(
    payloads: Sequence[RawPayload], config: ConnectorConfig, as_of: datetime
) -> tuple[Records, _Snapshot]:
    tenant = _tenant_id(config)
    index = _export.by_name(payloads)
    grouped = _pages.group(index, PAGE_NAME)
    populations: dict[str, _Population] = {}
    missing: list[str] = []
    for name in PATHS:
        population = _population(index, grouped, name)
        if population is not None:
            populations[name] = population
        elif name not in OPTIONAL_LISTS:
            raise InputError(f"{name}.json", "missing from the export")
        elif f"{name}{DENIED}" in index:
            missing.append(
                f"{name}: not permitted ({_denial(index[f'{name}{DENIED}'])}); "
                f"{OPTIONAL_LISTS[name]}"
            )
        else:
            missing.append(f"{name}.json not in the export; {OPTIONAL_LISTS[name]}")
    warnings = [problem for p in populations.values() for problem in p.problems()] + missing
    system = config.system_id
    registration = _registration(populations[REGISTRATION])
    conditional_access = populations.get(CONDITIONAL_ACCESS)
    mfa_policies = _mfa_policies(conditional_access) if conditional_access else []
    groups = sorted({g for policy in mfa_policies for g in policy.groups()})
    members, member_lists, without_members = _group_members(index, grouped, groups)
    warnings += [problem for p in member_lists for problem in p.problems()]
    if without_members:
        warnings.append(
            f"{len(without_members)} group(s) a Conditional Access policy names have no "
            f"{GROUPS_DIR}/{{id}}.json; whether their members are held to MFA is unknown"
        )
    accounts: list[Account] = []
    credentials: list[Credential] = []
    seen: dict[str, str] = {}
    guests: list[str] = []
    for payload, path, user in _items(populations[USERS]):
        account_id = _unique_id(payload, user, path, seen)
        username = _export.required_string(payload, user, path, "userPrincipalName")
        user_type = _export.json_str(payload, user, path, "userType")
        kind = AccountKind.HUMAN
        if user_type == "Guest":
            guests.append(username)
        elif user_type != "Member":
            kind = AccountKind.UNKNOWN
            warnings.append(f"user {username!r}: unrecognised userType {user_type!r}")
        mail = _export.optional_string(payload, user, path, "mail")
        who = _Who.of(account_id, username, user_type)
        registered, admin = registration.get(account_id, (None, None))
        sign_in = _export.json_object(payload, user, path, "signInActivity")
        last_login = (
            None
            if sign_in is None
            else _export.json_timestamp(
                payload, sign_in, f"{path}.signInActivity", "lastSignInDateTime"
            )
        )
        accounts.append(
            Account(
                system_id=system,
                account_id=account_id,
                username=username,
                email=mail.lower() if mail else None,
                name=_export.optional_string(payload, user, path, "displayName"),
                employee_id=_export.optional_string(payload, user, path, "employeeId"),
                kind=kind,
                status=_status(_export.json_bool(payload, user, path, "accountEnabled")),
                mfa_registered=_export.tri(registered),
                mfa_enforced=(
                    Tri.YES if any(p.holds(who, members) for p in mfa_policies) else Tri.UNKNOWN
                ),
                last_login=last_login,
                last_login_source=(
                    None if last_login is None else "entra:signInActivity.lastSignInDateTime"
                ),
                privileged=_export.tri(admin),
            )
        )
    app_names: dict[str, str] = {}
    applications: list[Application] = []
    third_party: list[str] = []
    owner_lists: list[_Population] = []
    without_owners: list[str] = []
    holders: dict[str, _Holder] = {}
    """By appId: the service principal that holds an app's credentials, and its owner."""
    for payload, path, principal in _items(populations[SERVICE_PRINCIPALS]):
        principal_id = _unique_id(payload, principal, path, seen)
        app_id = _export.required_string(payload, principal, path, "appId")
        name = _export.optional_string(payload, principal, path, "displayName") or app_id
        app_names[principal_id] = name
        owner_org = _export.json_str(payload, principal, path, "appOwnerOrganizationId")
        microsoft = owner_org in MICROSOFT_TENANTS
        if owner_org and owner_org != tenant and not microsoft:
            third_party.append(f"{name} ({app_id}, owned by tenant {owner_org})")
        owners = _population(index, grouped, owners_list(principal_id))
        if owners is None:
            without_owners.append(principal_id)
        else:
            owner_lists.append(owners)
        owner = None if owners is None else _owner(owners)
        enabled = _export.json_bool(payload, principal, path, "accountEnabled")
        if not microsoft:  # Microsoft's own services come with the tenant
            applications.append(Application(system, app_id, name, active=enabled is not False))
        account = Account(
            system_id=system,
            account_id=principal_id,
            username=name,
            email=None,
            name=name,
            employee_id=None,
            kind=AccountKind.SYSTEM if microsoft else AccountKind.SERVICE,
            status=_status(enabled),
            mfa_registered=Tri.UNKNOWN,
            mfa_enforced=Tri.UNKNOWN,
            last_login=None,
            last_login_source=None,
            owner=owner,
            owner_unknown=owners is None,
        )
        accounts.append(account)
        holders[app_id] = _Holder(system, principal_id, owner, owners is None)
        credentials.extend(_credentials(payload, principal, path, holders[app_id], app_id, as_of))
    if (registrations := populations.get(APPLICATIONS)) is not None:
        credentials.extend(_registration_credentials(registrations, system, holders, as_of))
    warnings += [problem for p in owner_lists for problem in p.problems()]
    if without_owners:
        warnings.append(
            f"{len(without_owners)} service principal(s) have no {OWNERS_DIR}/{{id}}.json; "
            "their owners are unknown"
        )
    stored_owners = {
        name.removeprefix(f"{OWNERS_DIR}/")
        for name in map(_list_name, index)
        if name.startswith(f"{OWNERS_DIR}/")
    }
    for principal_id in sorted(stored_owners - app_names.keys()):
        warnings.append(
            f"{owners_list(principal_id)}: no service principal with id '{principal_id}'; ignored"
        )
    entitlements, grants = _consents(populations[GRANTS], system, app_names, credentials)
    if guests:
        warnings.append(f"{len(guests)} guest account(s), third-party access: " + ", ".join(guests))
    if third_party:
        warnings.append(
            f"{len(third_party)} third-party app(s) in the tenant: " + "; ".join(third_party)
        )
    records = Records(
        accounts=tuple(accounts),
        credentials=tuple(credentials),
        entitlements=tuple(entitlements),
        grants=tuple(grants),
        applications=tuple(applications),
        warnings=tuple(warnings),
    )
    snapshot = _Snapshot(
        populations,
        tuple(owner_lists),
        tuple(without_owners),
        tuple(member_lists),
        tuple(without_members),
    )
    return records, snapshot


def _population(
    index: Mapping[str, RawPayload], grouped: Mapping[str, _pages.Pages], name: str
) -> _Population | None:
    """The one export body, or pages 1…n with at most a failure marker for page n + 1; None
    when the snapshot holds neither."""
    stored = _pages.stored_list(index, grouped, name)
    if stored is None:
        return None
    entries: list[Entry] = []
    next_link: str | None = None
    for payload in stored.payloads:
        values, next_link = _body(payload)
        entries.extend((payload, position, item) for position, item in enumerate(values))
    failed = stored.failed_page
    return _Population(
        name,
        stored.name,
        tuple(entries),
        len(stored.payloads),
        failed,
        failed is None and next_link is not None,
    )


def _list_name(payload_name: str) -> str:
    """The list a payload holds (some of): ``owners/{id}`` for ``owners/{id}.page-002.json``."""
    match = PAGE_NAME.fullmatch(payload_name)
    return match["list"] if match else payload_name.removesuffix(".json")


def _owner(owners: _Population) -> str | None:
    """The first user among the owners, by e-mail (else sign-in name); None when none is a user.

    Owners that are service principals have neither field and name no person.
    """
    logins = [
        _export.optional_string(payload, item, path, "mail")
        or _export.optional_string(payload, item, path, "userPrincipalName")
        for payload, path, item in _items(owners)
        if _export.required_string(payload, item, path, "id")
    ]
    return next((login.lower() for login in logins if login is not None), None)


def _body(payload: RawPayload) -> tuple[list[dict[str, Any]], str | None]:
    """``value`` and ``@odata.nextLink`` of one response body."""
    document = _export.load_json(payload)
    if not isinstance(document, dict):
        raise InputError(
            payload.source,
            f"expected a JSON object with 'value', got {_export.json_kind(document)}",
        )
    values = document.get("value")
    if not isinstance(values, list):
        problem = "missing" if values is None else f"got {_export.json_kind(values)}"
        raise InputError(payload.source, f"value: expected an array, {problem}")
    for position, item in enumerate(values):
        if not isinstance(item, dict):
            raise InputError(
                payload.source,
                f"value[{position}]: expected an object, got {_export.json_kind(item)}",
            )
    next_link = document.get(NEXT_LINK)
    if next_link is not None and not isinstance(next_link, str):
        raise InputError(
            payload.source, f"{NEXT_LINK}: expected a URL, got {_export.json_kind(next_link)}"
        )
    return values, next_link


def _items(population: _Population) -> list[tuple[RawPayload, str, dict[str, Any]]]:
    """Each item with the path messages name it by, ``value[3]``."""
    return [(payload, f"value[{position}]", item) for payload, position, item in population.entries]


def _unique_id(
    payload: RawPayload, item: Mapping[str, Any], path: str, seen: dict[str, str]
) -> str:
    """The object id, which users and service principals share one namespace for."""
    value = _export.required_string(payload, item, path, "id")
    where = f"{payload.name} {path}"
    if value in seen:
        raise InputError(payload.source, f"{path}.id: duplicate '{value}' (also at {seen[value]})")
    seen[value] = where
    return value


def _registration(population: _Population) -> dict[str, tuple[bool | None, bool | None]]:
    """User id → (``isMfaRegistered``, ``isAdmin``)."""
    details: dict[str, tuple[bool | None, bool | None]] = {}
    seen: dict[str, str] = {}
    for payload, path, item in _items(population):
        user_id = _unique_id(payload, item, path, seen)
        details[user_id] = (
            _export.json_bool(payload, item, path, "isMfaRegistered"),
            _export.json_bool(payload, item, path, "isAdmin"),
        )
    return details


@dataclass(frozen=True)
class _Holder:
    """The account a credential belongs to, and who answers for it."""

    system_id: str
    account_id: str
    owner: str | None
    owner_unknown: bool


@dataclass(frozen=True)
class _MfaPolicy:
    """An enabled Conditional Access policy that requires MFA at every sign-in to every app:
    whom it includes and excludes, as far as that can be told without group or role members."""

    all_users: bool
    """``All`` users, guests and other external users among them."""
    users: frozenset[str]
    guests: bool
    """``GuestsOrExternalUsers``: every guest and external user."""
    included_groups: frozenset[str]
    excluded: frozenset[str]
    excluded_groups: frozenset[str]
    excludes_guests: bool
    excludes_roles: bool
    """Role members are not read, so nobody is certainly held to the policy."""

    def groups(self) -> frozenset[str]:
        return self.included_groups | self.excluded_groups

    def holds(self, user: _Who, members: Mapping[str, frozenset[str]]) -> bool:
        """Whether the user is certainly held to the policy, given the members of the groups
        read to the end (a group not among them might hold anyone)."""
        if self.excludes_roles or user.id in self.excluded:
            return False
        if self.excludes_guests and not user.internal:
            return False
        if any(user.id in members.get(g, {user.id}) for g in self.excluded_groups):
            return False
        return (
            self.all_users
            or user.id in self.users
            or (self.guests and user.external)
            or any(user.id in members.get(g, ()) for g in self.included_groups)
        )


@dataclass(frozen=True)
class _Who:
    """A user as a Conditional Access policy tells users apart. A B2B member is external too
    (``#EXT#`` in the sign-in name); with an unknown ``userType`` neither is certain."""

    id: str
    internal: bool
    external: bool

    @classmethod
    def of(cls, user_id: str, username: str, user_type: str | None) -> _Who:
        invited = "#EXT#" in username.upper()
        return cls(user_id, user_type == "Member" and not invited, user_type == "Guest" or invited)


_UNNARROWED = ("signInRiskLevels", "userRiskLevels", "servicePrincipalRiskLevels")
"""Condition lists that, when not empty, limit a policy to some sign-ins."""
_NARROWING = (
    "platforms",
    "locations",
    "devices",
    "clientApplications",
    "authenticationFlows",
    "insiderRiskLevels",
)
"""Condition objects that, when set, limit a policy to some sign-ins (and, under
``applications``, an ``applicationFilter`` limits it to some apps)."""
_MFA_CONTROLS = frozenset({"mfa", "authenticationStrength"})


def _mfa_policies(policies: _Population) -> list[_MfaPolicy]:
    """The enabled policies that hold users to MFA at every sign-in (see the module's notes)."""
    found = (_mfa_policy(payload, path, policy) for payload, path, policy in _items(policies))
    return [policy for policy in found if policy is not None]


def _mfa_policy(payload: RawPayload, path: str, policy: Mapping[str, Any]) -> _MfaPolicy | None:
    if _export.json_str(payload, policy, path, "state") != "enabled":
        return None
    strings = partial(_export.json_strings, payload)
    objects = partial(_export.json_object, payload)
    conditions = objects(policy, path, "conditions") or {}
    grant = objects(policy, path, "grantControls") or {}
    at, granted = f"{path}.conditions", f"{path}.grantControls"
    apps = objects(conditions, at, "applications") or {}
    users = objects(conditions, at, "users") or {}
    controls = {
        *strings(grant, granted, "builtInControls"),
        *strings(grant, granted, "customAuthenticationFactors"),
        *strings(grant, granted, "termsOfUse"),
    }
    if strength := objects(grant, granted, "authenticationStrength"):
        # A custom strength may accept a password alone: only one that satisfies MFA counts.
        mfa_strength = strength.get("requirementsSatisfied") == "mfa"
        controls.add("authenticationStrength" if mfa_strength else "weaker authenticationStrength")
    requires_mfa = (
        bool(controls & _MFA_CONTROLS)
        and "block" not in controls
        and (grant.get("operator") == "AND" or controls <= _MFA_CONTROLS)
    )
    where = f"{at}.applications"
    every_sign_in = (
        "All" in strings(apps, where, "includeApplications")
        and not strings(apps, where, "excludeApplications")
        and not strings(apps, where, "includeUserActions")
        and not strings(apps, where, "includeAuthenticationContextClassReferences")
        and not apps.get("applicationFilter")
        and "all" in (strings(conditions, at, "clientAppTypes") or ("all",))
        and not any(strings(conditions, at, key) for key in _UNNARROWED)
        and not any(conditions.get(key) for key in _NARROWING)
    )
    if not requires_mfa or not every_sign_in:
        return None
    where = f"{at}.users"
    included = strings(users, where, "includeUsers")
    excluded = strings(users, where, "excludeUsers")
    return _MfaPolicy(
        all_users="All" in included,
        users=frozenset(included) - {"All", "None", "GuestsOrExternalUsers"},
        guests="GuestsOrExternalUsers" in included,
        included_groups=frozenset(strings(users, where, "includeGroups")),
        excluded=frozenset(excluded),
        excluded_groups=frozenset(strings(users, where, "excludeGroups")),
        excludes_guests=bool(
            "GuestsOrExternalUsers" in excluded or users.get("excludeGuestsOrExternalUsers")
        ),
        excludes_roles=bool(strings(users, where, "excludeRoles")),
    )


def _group_members(
    index: Mapping[str, RawPayload], grouped: Mapping[str, _pages.Pages], groups: Sequence[str]
) -> tuple[dict[str, frozenset[str]], list[_Population], list[str]]:
    """The member ids of each group read to the end; the lists as stored; the groups not stored."""
    members: dict[str, frozenset[str]] = {}
    stored: list[_Population] = []
    absent: list[str] = []
    for group in groups:
        listed = _population(index, grouped, members_list(group))
        if listed is None:
            absent.append(group)
            continue
        stored.append(listed)
        if not listed.problems():
            members[group] = frozenset(
                _export.required_string(payload, item, path, "id")
                for payload, path, item in _items(listed)
            )
    return members, stored, absent


def _denial(payload: RawPayload) -> str:
    """Graph's own words for a 403, or the status alone."""
    try:
        message = _export.load_json(payload)["error"]["message"]
    except (InputError, KeyError, TypeError):
        return "HTTP 403"
    return f"HTTP 403: {message}" if isinstance(message, str) else "HTTP 403"


def _registration_credentials(
    registrations: _Population, system: str, holders: Mapping[str, _Holder], as_of: datetime
) -> list[Credential]:
    """The secrets and certificates of the app registrations: held by the service principal of
    the same app, or, with none in this tenant, by no account and with an unknown owner."""
    credentials: list[Credential] = []
    for payload, path, registration in _items(registrations):
        object_id = _export.required_string(payload, registration, path, "id")
        app_id = _export.required_string(payload, registration, path, "appId")
        holder = holders.get(app_id) or _Holder(system, f"application/{object_id}", None, True)
        credentials.extend(_credentials(payload, registration, path, holder, app_id, as_of))
    return credentials


def _credentials(
    payload: RawPayload,
    item: Mapping[str, Any],
    path: str,
    holder: _Holder,
    app_id: str,
    as_of: datetime,
) -> list[Credential]:
    """The secrets and certificates of a service principal or an app registration, held by
    ``holder``."""
    credentials = []
    for key, kind in CREDENTIAL_KINDS:
        values = item.get(key, [])
        if values is None:
            values = []
        if not isinstance(values, list):
            raise InputError(
                payload.source, f"{path}.{key}: expected an array, got {_export.json_kind(values)}"
            )
        for position, credential in enumerate(values):
            at = f"{path}.{key}[{position}]"
            if not isinstance(credential, dict):
                raise InputError(
                    payload.source, f"{at}: expected an object, got {_export.json_kind(credential)}"
                )
            key_id = _export.required_string(payload, credential, at, "keyId")
            expires_at = _export.json_timestamp(payload, credential, at, "endDateTime")
            credentials.append(
                Credential(
                    system_id=holder.system_id,
                    credential_id=f"{app_id}:{key_id}",
                    kind=kind,
                    account_id=holder.account_id,
                    active=expires_at is None or expires_at > as_of,
                    created=_export.json_timestamp(payload, credential, at, "startDateTime"),
                    last_rotated=None,
                    last_used=None,
                    last_used_source=None,
                    expires_at=expires_at,
                    expiry=Tri.UNKNOWN if expires_at is None else Tri.YES,
                    owner=holder.owner,
                    owner_unknown=holder.owner_unknown,
                )
            )
    return credentials


def _consents(
    population: _Population,
    system: str,
    app_names: Mapping[str, str],
    credentials: list[Credential],
) -> tuple[list[Entitlement], list[Grant]]:
    """An entitlement per (resource, scope), a grant per user holding one, and a credential per
    consent (appended to ``credentials``)."""
    entitlements: dict[str, Entitlement] = {}
    grants: dict[Grant, None] = {}
    for payload, path, consent in _items(population):
        consent_id = _export.required_string(payload, consent, path, "id")
        client = _export.required_string(payload, consent, path, "clientId")
        consent_type = _export.required_string(payload, consent, path, "consentType")
        resource = _export.required_string(payload, consent, path, "resourceId")
        principal = _export.optional_string(payload, consent, path, "principalId")
        scopes = (_export.optional_string(payload, consent, path, "scope") or "").split()
        resource_name = app_names.get(resource, resource)
        for scope in scopes:
            entitlement_id = f"{resource}:{scope}"
            entitlements.setdefault(
                entitlement_id,
                Entitlement(
                    system,
                    entitlement_id,
                    f"{resource_name}: {scope}",
                    "permission",
                    Tri.YES if any(p in scope for p in PRIVILEGED_SCOPE_PARTS) else Tri.UNKNOWN,
                ),
            )
        if consent_type == "AllPrincipals":
            holder, broad = client, Tri.YES
        elif consent_type == "Principal" and principal is not None:
            holder, broad = principal, Tri.NO
            grants.update(
                (Grant(system, principal, f"{resource}:{scope}"), None) for scope in scopes
            )
        else:
            raise InputError(
                payload.source,
                f"{path}.consentType: expected 'AllPrincipals', or 'Principal' with a "
                f"principalId, got {consent_type!r}",
            )
        credentials.append(
            Credential(
                system_id=system,
                credential_id=consent_id,
                kind=CONSENT_KIND,
                account_id=holder,
                active=True,
                created=None,
                last_rotated=None,
                last_used=None,
                last_used_source=None,
                scopes=tuple(scopes),
                third_party=app_names.get(client, client),
                broad=broad,
            )
        )
    return list(entitlements.values()), list(grants)


def _status(enabled: bool | None) -> AccountStatus:
    if enabled is None:
        return AccountStatus.UNKNOWN
    return AccountStatus.ACTIVE if enabled else AccountStatus.INACTIVE


def _tenant_id(config: ConnectorConfig) -> str:
    value = config.settings.get("tenant_id")
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            f"system {config.system_id}",
            "connector setting 'tenant_id' is required (the directory's tenant id, to tell "
            "third-party apps from the tenant's own)",
        )
    return value.strip()
