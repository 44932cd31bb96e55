"""A local stand-in for JumpCloud's ``GET /api/systemusers`` and ``GET /api/applications`` (API
v1), answering as JumpCloud does.

Bodies are ``{"totalCount": N, "results": [...]}``, paged by ``limit`` (default 10, at most
100) and ``skip``, with no ``Link`` header; the API key is read from ``x-api-key``, and a wrong
one gets 401 with a ``{"message": ...}`` body. Faults can be planned by request number (a 429
with ``Retry-After``) or by (list, ``skip``) (a 500), and ``total_count`` can claim more users
than are served, so the last page comes up short.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.connectors.json_api_server import JsonApiServer, Request

API_KEY = "jca_TestKeyThatMustNeverLeak0123456789abcd"
DEFAULT_LIMIT = 10
MAX_LIMIT = 100


def application(number: int, **fields: Any) -> dict[str, Any]:
    """An SSO application as ``GET /api/applications`` returns it: active, labelled."""
    app: dict[str, Any] = {
        "_id": f"5f0ab0ca7{number:015d}",
        "name": "custom-saml-app",
        "displayName": "Custom SAML App",
        "displayLabel": f"App {number:03d}",
        "active": True,
        "beta": False,
        "color": "",
        "config": {},
        "created": "2023-01-02T03:04:05.000Z",
        "description": "",
        "organization": "5f0c0ffee0000000000000aa",
        "sso": {"beta": False, "idpCertExpirationAt": "2026-01-02T03:04:05.000Z", "jit": False},
        "ssoUrl": f"https://sso.jumpcloud.com/saml2/app{number}",
    }
    app.update(fields)
    return app


def system_user(number: int, **fields: Any) -> dict[str, Any]:
    """A user as ``GET /api/systemusers`` returns it: active, enrolled in MFA, no sudo."""
    username = f"user{number:03d}"
    user: dict[str, Any] = {
        "_id": f"64b0c0ffee{number:014d}",
        "username": username,
        "email": f"{username.capitalize()}@Example.com",
        "firstname": "User",
        "lastname": f"{number:03d}",
        "displayname": f"User {number:03d}",
        "employeeIdentifier": f"E{number:04d}",
        "manager": None,
        "state": "ACTIVATED",
        "activated": True,
        "suspended": False,
        "account_locked": False,
        "sudo": False,
        "passwordless_sudo": False,
        "totp_enabled": True,
        "enable_user_portal_multifactor": True,
        "mfa": {"configured": True, "exclusion": False},
        "mfaEnrollment": {
            "overallStatus": "ENROLLED",
            "totpStatus": "ENROLLED",
            "webAuthnStatus": "NOT_ENROLLED",
            "pushStatus": "NOT_ENROLLED",
        },
        "created": "2023-01-02T03:04:05.000Z",
        "password_expired": False,
        "password_expiration_date": "2025-01-02T03:04:05.000Z",
        "organization": "5f0c0ffee0000000000000aa",
    }
    user.update(fields)
    return user


class JumpCloudServer(JsonApiServer):
    """An organisation with the given users and applications, served on 127.0.0.1."""

    content_type = "application/json; charset=utf-8"

    def __init__(
        self,
        users: Iterable[dict[str, Any]],
        applications: Iterable[dict[str, Any]] = (),
        *,
        total_count: int | None = None,
    ) -> None:
        self.lists = {"systemusers": list(users), "applications": list(applications)}
        self.total_count = len(self.lists["systemusers"]) if total_count is None else total_count
        """The users' ``totalCount`` answered; more than the users makes the last page short."""
        self.retry_after: dict[int, str] = {}
        """Request number (from 1) → ``Retry-After`` value of a 429 answered to it."""
        self.fail_once: set[tuple[str, int]] = set()
        """(list, ``skip``) answered 500 the first time it is asked for."""
        self.fail_always: set[tuple[str, int]] = set()
        super().__init__()

    def answer(self, path: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], Any]:
        """Status, headers and JSON body for one GET."""
        self.requests.append(Request(path, headers))
        if headers.get("x-api-key") != API_KEY:
            return 401, {}, {"message": "Unauthorized"}
        if len(self.requests) in self.retry_after:
            wait = {"Retry-After": self.retry_after[len(self.requests)]}
            return 429, wait, {"message": "Too Many Requests"}
        split = urlsplit(path)
        name = split.path.removeprefix("/api/")
        if name not in self.lists:
            return 404, {}, {"message": "Not Found"}
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        limit = min(int(query.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
        skip = int(query.get("skip", "0"))
        if (name, skip) in self.fail_always or (name, skip) in self.fail_once:
            self.fail_once.discard((name, skip))
            return 500, {}, {"message": "Internal Server Error"}
        items = self.lists[name]
        total = self.total_count if name == "systemusers" else len(items)
        return 200, {}, {"totalCount": total, "results": items[skip : skip + limit]}
