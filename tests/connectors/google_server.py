"""A local stand-in for the Google Admin SDK Directory API (v1), answering as Google does.

It serves ``GET /admin/directory/v1/users?customer=my_customer`` — ``{"kind", "etag", "users",
"nextPageToken"}``, paged by ``maxResults`` (default 100, at most 500) and an opaque
``pageToken`` — and ``GET /admin/directory/v1/users/{userKey}/tokens`` — ``{"kind", "etag",
"items"}``. Like Google it leaves out empty arrays and the last page's ``nextPageToken``. The
access token is read from ``Authorization: Bearer``; a wrong one gets 401 with Google's error
body. Faults are planned by request number (a 429 with ``Retry-After``) or by what is asked for,
``page-N`` or a user id (a 500 once, or every time).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.connectors.json_api_server import JsonApiServer, Request

ACCESS_TOKEN = "ya29.a0TestAccessTokenThatMustNeverLeak0123456789"
DEFAULT_MAX_RESULTS = 100
MAX_RESULTS = 500
USERS_PATH = "/admin/directory/v1/users"

UNAUTHENTICATED = {
    "error": {
        "code": 401,
        "message": "Request had invalid authentication credentials. Expected OAuth 2 access "
        "token, login cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        "errors": [
            {
                "message": "Invalid Credentials",
                "domain": "global",
                "reason": "authError",
                "location": "Authorization",
                "locationType": "header",
            }
        ],
        "status": "UNAUTHENTICATED",
    }
}


def directory_user(number: int, **fields: Any) -> dict[str, Any]:
    """A user as the users list returns it: active, enrolled and enforced in 2SV, no admin."""
    user: dict[str, Any] = {
        "kind": "admin#directory#user",
        "id": f"1{number:020d}",
        "etag": f'"etag-{number}"',
        "primaryEmail": f"User{number:04d}@Example.com",
        "name": {
            "givenName": "User",
            "familyName": f"{number:04d}",
            "fullName": f"User {number:04d}",
        },
        "isAdmin": False,
        "isDelegatedAdmin": False,
        "lastLoginTime": "2024-05-01T09:30:00.000Z",
        "creationTime": "2022-01-02T03:04:05.000Z",
        "agreedToTerms": True,
        "suspended": False,
        "archived": False,
        "changePasswordAtNextLogin": False,
        "ipWhitelisted": False,
        "emails": [{"address": f"user{number:04d}@example.com", "primary": True}],
        "customerId": "C01abcdef",
        "orgUnitPath": "/",
        "isMailboxSetup": True,
        "isEnrolledIn2Sv": True,
        "isEnforcedIn2Sv": True,
        "includeInGlobalAddressList": True,
    }
    user.update(fields)
    return user


def oauth_token(client_id: str, display_text: str, *scopes: str, **fields: Any) -> dict[str, Any]:
    """One third-party grant as the tokens list returns it."""
    token: dict[str, Any] = {
        "kind": "admin#directory#token",
        "etag": f'"etag-{client_id}"',
        "clientId": client_id,
        "displayText": display_text,
        "anonymous": False,
        "nativeApp": False,
        "userKey": "ignored",
        "scopes": list(scopes),
    }
    token.update(fields)
    return token


def tokens_body(items: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "admin#directory#tokenList", "etag": '"tokens"'}
    if items:
        body["items"] = items
    return body


class GoogleServer(JsonApiServer):
    """A customer with the given users and, by user id, their tokens, served on 127.0.0.1."""

    content_type = "application/json; charset=UTF-8"

    def __init__(
        self,
        users: Iterable[dict[str, Any]],
        tokens: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.users = list(users)
        self.tokens = dict(tokens or {})
        self._ids = {user["id"] for user in self.users}
        self.retry_after: dict[int, str] = {}
        """Request number (from 1) → ``Retry-After`` value of a 429 answered to it."""
        self.fail_once: set[str] = set()
        """``page-N`` or user ids answered 500 the first time they are asked for."""
        self.fail_always: set[str] = set()
        self._lock = threading.Lock()
        super().__init__()

    def answer(self, path: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], Any]:
        """Status, headers and JSON body for one GET."""
        with self._lock:
            self.requests.append(Request(path, headers))
            number = len(self.requests)
        if headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return (
                401,
                {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
                (UNAUTHENTICATED),
            )
        if number in self.retry_after:
            wait = {"Retry-After": self.retry_after[number]}
            return 429, wait, _error(429, "Quota exceeded", "RESOURCE_EXHAUSTED")
        split = urlsplit(path)
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        if split.path == USERS_PATH:
            size = min(int(query.get("maxResults", DEFAULT_MAX_RESULTS)), MAX_RESULTS)
            start = int(query.get("pageToken", "page-0").removeprefix("page-"))
            if self._fails(f"page-{start // size + 1}"):
                return 500, {}, _error(500, "Internal error encountered.", "INTERNAL")
            body: dict[str, Any] = {"kind": "admin#directory#users", "etag": '"users"'}
            if self.users[start : start + size]:
                body["users"] = self.users[start : start + size]
            if start + size < len(self.users):
                body["nextPageToken"] = f"page-{start + size}"
            return 200, {}, body
        prefix, _, rest = split.path.partition(f"{USERS_PATH}/")
        user_key, _, tail = rest.partition("/")
        user_key = unquote(user_key)
        if prefix or tail != "tokens" or user_key not in self._ids:
            return 404, {}, _error(404, "Resource Not Found: userKey", "NOT_FOUND")
        if self._fails(user_key):
            return 500, {}, _error(500, "Internal error encountered.", "INTERNAL")
        return 200, {}, tokens_body(self.tokens.get(user_key, []))

    def _fails(self, key: str) -> bool:
        if key in self.fail_always:
            return True
        if key in self.fail_once:
            self.fail_once.discard(key)
            return True
        return False


def _error(code: int, message: str, status: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}
