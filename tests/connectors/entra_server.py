"""A local stand-in for Microsoft Graph v1.0, answering the lists the Entra connector reads: six
tenant-wide lists, ``servicePrincipals/{id}/owners`` and ``groups/{id}/transitiveMembers``.
With ``deny_policies`` the Conditional
Access list answers 403 as Graph does when ``Policy.Read.All`` is not granted.

Bodies are ``{"@odata.context": ..., "value": [...], "@odata.nextLink": ...}``, ``page_size``
items a page, the next link a full URL carrying an opaque ``$skiptoken``, as Graph's is. The
token is read from ``Authorization: Bearer``; a wrong one gets 401 with Graph's error JSON.
Faults can be planned by request number (a 429 with ``Retry-After``) or by (list, offset) (a
500; an owners list is named ``owners/{id}``), and ``next_host`` sends the first next link to
another host.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.connectors.json_api_server import JsonApiServer, Request

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.TestTokenThatMustNeverLeak.c2lnbmF0dXJl"
TENANT = "11111111-2222-3333-4444-555555555555"
LISTS = {
    "/v1.0/users": "users",
    "/v1.0/reports/authenticationMethods/userRegistrationDetails": "registration",
    "/v1.0/servicePrincipals": "servicePrincipals",
    "/v1.0/oauth2PermissionGrants": "oauth2PermissionGrants",
    "/v1.0/applications": "applications",
    "/v1.0/identity/conditionalAccess/policies": "conditionalAccessPolicies",
}
OWNERS_PATH = re.compile(r"/v1\.0/servicePrincipals/(?P<id>[^/]+)/owners")
MEMBERS_PATH = re.compile(r"/v1\.0/groups/(?P<id>[^/]+)/transitiveMembers")


def owner(number: int, **fields: Any) -> dict[str, Any]:
    """An owner as ``servicePrincipals/{id}/owners`` returns a user: a directory object with the
    user's default properties."""
    body: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.user",
        "id": f"00000000-0000-0000-0000-{number:012d}",
        "businessPhones": [],
        "displayName": f"User {number:03d}",
        "givenName": "User",
        "jobTitle": None,
        "mail": f"User{number:03d}@Contoso.Example",
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
        "surname": f"{number:03d}",
        "userPrincipalName": f"user{number:03d}@contoso.example",
    }
    body.update(fields)
    return body


def owning_principal(number: int) -> dict[str, Any]:
    """An owner that is itself a service principal: it names no person."""
    return {
        "@odata.type": "#microsoft.graph.servicePrincipal",
        "id": f"5b000000-0000-0000-0000-{number:012d}",
        "appId": f"a0000000-0000-0000-0000-{number:012d}",
        "displayName": f"App {number}",
        "servicePrincipalType": "Application",
    }


def user(number: int, **fields: Any) -> dict[str, Any]:
    """A user as ``GET /v1.0/users?$select=…`` returns it: an enabled member who signed in."""
    name = f"user{number:03d}"
    body: dict[str, Any] = {
        "id": f"00000000-0000-0000-0000-{number:012d}",
        "userPrincipalName": f"{name}@contoso.example",
        "mail": f"{name.capitalize()}@Contoso.Example",
        "displayName": f"User {number:03d}",
        "accountEnabled": True,
        "userType": "Member",
        "createdDateTime": "2023-01-02T03:04:05Z",
        "signInActivity": {
            "lastSignInDateTime": "2024-05-06T07:08:09Z",
            "lastSignInRequestId": f"req-{number}",
            "lastNonInteractiveSignInDateTime": "2024-05-07T07:08:09Z",
        },
        "employeeId": f"E{number:04d}",
    }
    body.update(fields)
    return body


def registration(number: int, **fields: Any) -> dict[str, Any]:
    """A ``userRegistrationDetails`` item: registered for MFA, not an administrator."""
    body: dict[str, Any] = {
        "id": f"00000000-0000-0000-0000-{number:012d}",
        "userPrincipalName": f"user{number:03d}@contoso.example",
        "userDisplayName": f"User {number:03d}",
        "userType": "member",
        "isAdmin": False,
        "isSsprRegistered": False,
        "isSsprEnabled": False,
        "isSsprCapable": False,
        "isMfaRegistered": True,
        "isMfaCapable": True,
        "isPasswordlessCapable": False,
        "methodsRegistered": ["microsoftAuthenticatorPush"],
        "defaultMfaMethod": "microsoftAuthenticatorPush",
        "lastUpdatedDateTime": "2024-05-01T00:00:00Z",
    }
    body.update(fields)
    return body


def service_principal(number: int, **fields: Any) -> dict[str, Any]:
    """A ``servicePrincipals`` item: the tenant's own enabled app with no credentials."""
    body: dict[str, Any] = {
        "id": f"5b000000-0000-0000-0000-{number:012d}",
        "appId": f"a0000000-0000-0000-0000-{number:012d}",
        "displayName": f"App {number}",
        "servicePrincipalType": "Application",
        "accountEnabled": True,
        "appOwnerOrganizationId": TENANT,
        "passwordCredentials": [],
        "keyCredentials": [],
    }
    body.update(fields)
    return body


def app_registration(number: int, **fields: Any) -> dict[str, Any]:
    """An ``applications`` item (with ``$select``): the registration of app ``number``."""
    body: dict[str, Any] = {
        "id": f"0a000000-0000-0000-0000-{number:012d}",
        "appId": f"a0000000-0000-0000-0000-{number:012d}",
        "displayName": f"App {number}",
        "passwordCredentials": [],
        "keyCredentials": [],
    }
    body.update(fields)
    return body


def ca_policy(name: str, **changes: Any) -> dict[str, Any]:
    """A Conditional Access policy as Graph lists it: enabled, requiring MFA of all users on all
    cloud apps from every client; ``changes`` replace top-level fields, or with a dotted key
    (``conditions.users``) one nested object."""
    policy: dict[str, Any] = {
        "id": f"ca-{name}",
        "displayName": name,
        "state": "enabled",
        "createdDateTime": "2024-01-01T00:00:00Z",
        "conditions": {
            "userRiskLevels": [],
            "signInRiskLevels": [],
            "clientAppTypes": ["all"],
            "platforms": None,
            "locations": None,
            "devices": None,
            "clientApplications": None,
            "applications": {
                "includeApplications": ["All"],
                "excludeApplications": [],
                "includeUserActions": [],
                "includeAuthenticationContextClassReferences": [],
            },
            "users": {
                "includeUsers": ["All"],
                "excludeUsers": [],
                "includeGroups": [],
                "excludeGroups": [],
                "includeRoles": [],
                "excludeRoles": [],
                "includeGuestsOrExternalUsers": None,
                "excludeGuestsOrExternalUsers": None,
            },
        },
        "grantControls": {
            "operator": "OR",
            "builtInControls": ["mfa"],
            "customAuthenticationFactors": [],
            "termsOfUse": [],
            "authenticationStrength": None,
        },
        "sessionControls": None,
    }
    for key, value in changes.items():
        *parents, last = key.split(".")
        target = policy
        for parent in parents:
            target = target[parent]
        target[last] = value
    return policy


@dataclass
class Directory:
    users: list[dict[str, Any]] = field(default_factory=list)
    registration: list[dict[str, Any]] = field(default_factory=list)
    servicePrincipals: list[dict[str, Any]] = field(default_factory=list)
    oauth2PermissionGrants: list[dict[str, Any]] = field(default_factory=list)
    applications: list[dict[str, Any]] = field(default_factory=list)
    conditionalAccessPolicies: list[dict[str, Any]] = field(default_factory=list)
    group_members: dict[str, list[str]] = field(default_factory=dict)
    """By group id: the ids of its members, nested groups' members included."""
    owners: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """By service principal id; a principal not listed has no owners."""


class GraphServer(JsonApiServer):
    """A tenant holding ``directory``, served on 127.0.0.1."""

    content_type = "application/json; charset=utf-8"

    def __init__(self, directory: Directory, *, page_size: int = 100) -> None:
        self.directory = directory
        self.page_size = page_size
        self.retry_after: dict[int, str] = {}
        """Request number (from 1) → ``Retry-After`` value of a 429 answered to it."""
        self.fail_once: set[tuple[str, int]] = set()
        """(list name, offset) answered 500 the first time it is asked for."""
        self.fail_always: set[tuple[str, int]] = set()
        self.deny_policies = False
        self.next_host: str | None = None
        """Another host's URL for the first next link, which must not be followed."""
        super().__init__()

    def answer(self, path: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], Any]:
        """Status, headers and JSON body for one GET."""
        self.requests.append(Request(path, headers))
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {}, _error("InvalidAuthenticationToken", "Access token is empty.")
        if len(self.requests) in self.retry_after:
            wait = {"Retry-After": self.retry_after[len(self.requests)]}
            return 429, wait, _error("TooManyRequests", "Too many requests.")
        split = urlsplit(path)
        items = self._items(split.path)
        if items is None:
            return 404, {}, _error("Request_ResourceNotFound", "Not found.")
        name, listed = items
        if name == "conditionalAccessPolicies" and self.deny_policies:
            message = "Insufficient privileges to complete the operation."
            return 403, {}, _error("Authorization_RequestDenied", message)
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        offset = int(query.pop("$skiptoken", "RFNwdA0").removeprefix("RFNwdA"))
        if (name, offset) in self.fail_always or (name, offset) in self.fail_once:
            self.fail_once.discard((name, offset))
            return 500, {}, _error("generalException", "An internal server error occurred.")
        body: dict[str, Any] = {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#{name}",
            "value": listed[offset : offset + self.page_size],
        }
        after = offset + self.page_size
        if after < len(listed):
            host = self.url
            if self.next_host is not None:
                host, self.next_host = self.next_host, None
            rest = "".join(f"{key}={value}&" for key, value in query.items())
            body["@odata.nextLink"] = f"{host}{split.path}?{rest}$skiptoken=RFNwdA{after}"
        return 200, {}, body

    def _items(self, path: str) -> tuple[str, list[dict[str, Any]]] | None:
        """The list a path names (its fault key) and its items; None when there is none."""
        name = LISTS.get(path)
        if name is not None:
            return name, getattr(self.directory, name)
        if members := MEMBERS_PATH.fullmatch(path):
            group = unquote(members["id"])
            if group not in self.directory.group_members:
                return None
            listed = [
                {"@odata.type": "#microsoft.graph.user", "id": member}
                for member in self.directory.group_members[group]
            ]
            return f"groupMembers/{group}", listed
        match = OWNERS_PATH.fullmatch(path)
        if match is None:
            return None
        principal = unquote(match["id"])
        if all(p["id"] != principal for p in self.directory.servicePrincipals):
            return None
        return f"owners/{principal}", self.directory.owners.get(principal, [])


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": "r-1"}}}
