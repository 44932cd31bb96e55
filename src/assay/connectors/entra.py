"""Microsoft Entra ID users, MFA registration, service principals and consents, from Graph v1.0.

Four lists are read, each a body ``{"value": [...], "@odata.nextLink": ...}``:

- ``users`` — ``GET /v1.0/users?$select=id,userPrincipalName,mail,displayName,accountEnabled,
  userType,createdDateTime,signInActivity,employeeId``;
- ``registration`` — ``GET /v1.0/reports/authenticationMethods/userRegistrationDetails``;
- ``servicePrincipals`` — ``GET /v1.0/servicePrincipals``;
- ``oauth2PermissionGrants`` — ``GET /v1.0/oauth2PermissionGrants``.

Export mode (``mode: export``). Setting ``path`` — the export directory, holding for each list
either ``<list>.json`` (one body holding every item, with no ``@odata.nextLink``) or the live
layout's ``<list>.page-001.json``, ``<list>.page-002.json``, …

Live mode (``mode: live``). Settings: ``base_url`` (optional, default
``https://graph.microsoft.com``); secret ``token``, a Bearer access token, which the connector
only sends: acquiring it (client credentials) is left outside. Least privilege: the application
permissions ``User.Read.All``, ``AuditLog.Read.All`` (``signInActivity`` and registration
details), ``Application.Read.All`` and ``Directory.Read.All`` (permission grants) — all
read-only. Graph pages by ``@odata.nextLink`` in the body, a full URL; it is followed only to the
host of ``base_url``, so the token is never sent elsewhere. Each page is kept as
``<list>.page-NNN.json`` with its URL as source; a page still failing after the retries is kept
as ``<list>.page-NNN.failed`` (the last error body) and that list stops there.

Either way a list is complete only when its last body has no ``@odata.nextLink`` and no page
failed; otherwise the collection is marked incomplete. Both modes need setting ``tenant_id``.

Users are human accounts; guests too, listed in a warning as third-party access. MFA
registration and privilege (``isAdmin``) come from the registration details; a user missing from
them is *unknown*. MFA enforcement is always *unknown*: registration is not enforcement, and
Conditional Access policies are not read yet. ``last_login`` is
``signInActivity.lastSignInDateTime``, never ``createdDateTime``.

Service principals are service accounts, with their ``passwordCredentials`` (``client_secret``)
and ``keyCredentials`` (``certificate``) as credentials; secrets held on the app registrations
(``/applications``) are not read yet. One whose ``appOwnerOrganizationId`` is neither the tenant
nor Microsoft is a third-party app, listed in a warning.

Each delegated permission grant gives an entitlement per (resource, scope); a grant for one user
(``consentType: Principal``) is a grant to that user, and tenant-wide consent (``AllPrincipals``)
is a warning naming the app and scopes. Scopes containing ``.ReadWrite.All`` or ``Directory.``
are privileged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from assay.connectors import _export, _pages
from assay.connectors._http import ApiClient, PageFailed
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.errors import InputError
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
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
PATHS: Mapping[str, str] = {
    USERS: f"/v1.0/users?$select={USER_FIELDS}",
    REGISTRATION: "/v1.0/reports/authenticationMethods/userRegistrationDetails",
    SERVICE_PRINCIPALS: "/v1.0/servicePrincipals",
    GRANTS: "/v1.0/oauth2PermissionGrants",
}
"""Each list's first request; later pages are Graph's own ``@odata.nextLink``."""
PAGE_NAME = _pages.page_pattern("|".join(PATHS))
NEXT_LINK = "@odata.nextLink"

LIVE_MODE = "live"
MODES = (_export.EXPORT_MODE, LIVE_MODE)
DEFAULT_BASE_URL = "https://graph.microsoft.com"

MICROSOFT_TENANTS = frozenset(
    {"f8cdef31-a31e-4b4a-93e4-5f571e91255a", "72f988bf-86f1-41af-91ab-2d7cd011db47"}
)
"""Tenants owning Microsoft's own apps (Graph, Office), in every tenant; not third-party."""

CREDENTIAL_KINDS = (("passwordCredentials", "client_secret"), ("keyCredentials", "certificate"))
PRIVILEGED_SCOPE_PARTS = (".ReadWrite.All", "Directory.")


class EntraConnector:
    """Reads an Entra ID tenant live from Microsoft Graph or from an export directory."""

    type: str = "entra"
    version: str = "1"

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        """How to wait between retries; tests record the delays instead of waiting."""

    def collect(self, config: ConnectorConfig) -> Collected:
        if config.mode == LIVE_MODE:
            return self._collect_live(config)
        if config.mode != _export.EXPORT_MODE:
            raise _export.unsupported_mode(config, self.type, MODES)
        started_at = datetime.now(UTC)
        directory = _export.require_directory(config.path())
        names = sorted(
            file.name
            for file in directory.iterdir()
            if file.name in {f"{name}.json" for name in PATHS} or PAGE_NAME.fullmatch(file.name)
        )
        payloads = [_export.read_payload(directory / name, name) for name in names]
        records, populations = _read(payloads, config, started_at)
        problems = [problem for p in populations for problem in p.problems()]
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            payloads,
            records,
            {"path": str(directory), "files": names, **_counts(config, populations)},
            complete=not problems,
            incomplete_reason="; ".join(problems) or None,
        )

    def _collect_live(self, config: ConnectorConfig) -> Collected:
        token = config.secrets.get("token")
        if not token:
            raise InputError(
                f"system {config.system_id}",
                f"connector '{self.type}' in mode '{LIVE_MODE}' needs the secret 'token' "
                "(a Graph access token with read-only application permissions)",
            )
        base_url = _base_url(config)
        _tenant_id(config)  # refused before any request rather than after them all
        started_at = datetime.now(UTC)
        payloads: list[RawPayload] = []
        failures: dict[str, str] = {}
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
        with ApiClient(base_url, headers, sleep=self._sleep) as client:
            for name, path in PATHS.items():
                failure = _fetch_list(client, base_url, name, path, payloads)
                if failure is not None:
                    failures[name] = failure
        records, populations = _read(payloads, config, started_at)
        problems = [
            problem for p in populations for problem in p.problems(failures.get(p.list_name))
        ]
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            payloads,
            records,
            {
                "base_url": base_url,
                "pages": {p.list_name: p.pages for p in populations},
                **_counts(config, populations),
            },
            complete=not problems,
            incomplete_reason="; ".join(problems) or None,
        )


def page_name(name: str, number: int, *, failed: bool = False) -> str:
    """A live page's payload name: ``users.page-001.json``, or ``….failed``."""
    return _pages.page_name(name, number, failed=failed)


def parse(
    payloads: Sequence[RawPayload], config: ConnectorConfig, as_of: datetime | None = None
) -> Records:
    """Records from the payloads of either layout; credentials are judged active at ``as_of``."""
    return _read(payloads, config, as_of or datetime.now(UTC))[0]


def _fetch_list(
    client: ApiClient, base_url: str, name: str, path: str, payloads: list[RawPayload]
) -> str | None:
    """Append one list's pages to ``payloads``; the failure, if a page kept failing.

    ``get_pages`` follows only ``Link`` headers, which Graph does not send: each call answers
    one request, and the next URL is read from the body.
    """
    url: str | None = path
    number = 0
    while url is not None:
        number += 1
        try:
            page = next(client.get_pages(url))
        except PageFailed as failed:
            return _pages.record_failure(payloads, name, number, failed)
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


def _counts(config: ConnectorConfig, populations: Sequence[_Population]) -> dict[str, Any]:
    return {
        "tenant_id": _tenant_id(config),
        "fetched": {p.list_name: len(p.entries) for p in populations},
    }


def _read(
    payloads: Sequence[RawPayload], config: ConnectorConfig, as_of: datetime
) -> tuple[Records, list[_Population]]:
    tenant = _tenant_id(config)
    index = _export.by_name(payloads)
    populations = {name: _population(index, name) for name in PATHS}
    warnings = [problem for p in populations.values() for problem in p.problems()]
    system = config.system_id
    registration = _registration(populations[REGISTRATION])
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
                mfa_enforced=Tri.UNKNOWN,
                last_login=last_login,
                last_login_source=(
                    None if last_login is None else "entra:signInActivity.lastSignInDateTime"
                ),
                privileged=_export.tri(admin),
            )
        )
    app_names: dict[str, str] = {}
    third_party: list[str] = []
    for payload, path, principal in _items(populations[SERVICE_PRINCIPALS]):
        principal_id = _unique_id(payload, principal, path, seen)
        app_id = _export.required_string(payload, principal, path, "appId")
        name = _export.optional_string(payload, principal, path, "displayName") or app_id
        app_names[principal_id] = name
        owner = _export.json_str(payload, principal, path, "appOwnerOrganizationId")
        if owner and owner != tenant and owner not in MICROSOFT_TENANTS:
            third_party.append(f"{name} ({app_id}, owned by tenant {owner})")
        accounts.append(
            Account(
                system_id=system,
                account_id=principal_id,
                username=name,
                email=None,
                name=name,
                employee_id=None,
                kind=AccountKind.SERVICE,
                status=_status(_export.json_bool(payload, principal, path, "accountEnabled")),
                mfa_registered=Tri.UNKNOWN,
                mfa_enforced=Tri.UNKNOWN,
                last_login=None,
                last_login_source=None,
            )
        )
        credentials.extend(
            _credentials(payload, principal, path, system, principal_id, app_id, as_of)
        )
    entitlements, grants = _consents(populations[GRANTS], system, app_names, warnings)
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
        warnings=tuple(warnings),
    )
    return records, list(populations.values())


def _population(index: Mapping[str, RawPayload], name: str) -> _Population:
    """The one export body, or pages 1…n with at most a failure marker for page n + 1."""
    stored = _pages.stored_list(index, _pages.group(index, PAGE_NAME), name)
    if stored is None:
        raise InputError(f"{name}.json", "missing from the export")
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


def _credentials(
    payload: RawPayload,
    principal: Mapping[str, Any],
    path: str,
    system: str,
    principal_id: str,
    app_id: str,
    as_of: datetime,
) -> list[Credential]:
    credentials = []
    for key, kind in CREDENTIAL_KINDS:
        values = principal.get(key, [])
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
                    system_id=system,
                    credential_id=f"{app_id}:{key_id}",
                    kind=kind,
                    account_id=principal_id,
                    active=expires_at is None or expires_at > as_of,
                    created=_export.json_timestamp(payload, credential, at, "startDateTime"),
                    last_rotated=None,
                    last_used=None,
                    last_used_source=None,
                    expires_at=expires_at,
                    expiry=Tri.UNKNOWN if expires_at is None else Tri.YES,
                )
            )
    return credentials


def _consents(
    population: _Population, system: str, app_names: Mapping[str, str], warnings: list[str]
) -> tuple[list[Entitlement], list[Grant]]:
    """An entitlement per (resource, scope) and a grant per user holding one."""
    entitlements: dict[str, Entitlement] = {}
    grants: dict[Grant, None] = {}
    for payload, path, consent in _items(population):
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
            warnings.append(
                f"tenant-wide consent (AllPrincipals): app {app_names.get(client, client)!r} "
                f"holds {' '.join(scopes) or 'no scopes'} on {resource_name!r} for every user"
            )
        elif consent_type == "Principal" and principal is not None:
            grants.update(
                (Grant(system, principal, f"{resource}:{scope}"), None) for scope in scopes
            )
        else:
            raise InputError(
                payload.source,
                f"{path}.consentType: expected 'AllPrincipals', or 'Principal' with a "
                f"principalId, got {consent_type!r}",
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


def _base_url(config: ConnectorConfig) -> str:
    value = config.settings.get("base_url", DEFAULT_BASE_URL)
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise InputError(
            f"system {config.system_id}",
            "connector setting 'base_url' must be an http(s) URL, e.g. " + DEFAULT_BASE_URL,
        )
    return value.rstrip("/")
