"""A local stand-in for the Okta management API, answering as Okta documents.

It serves ``GET /api/v1/users`` and ``GET /api/v1/apps`` (paged by ``limit`` — at most 200,
by default 200 users or 20 apps — and an ``after`` cursor, with a ``Link`` header for ``self``
and one for ``next``, as Okta sends them), ``/api/v1/users/{id}/factors``,
``/api/v1/policies?type=…`` and ``/api/v1/policies/{id}/rules``. Every answer carries the
``X-Rate-Limit-*`` headers; errors are Okta's error objects. Faults are planned by key:
``("users", page)``, ``("apps", page)``, ``("factors", userId)``, ``("policies", 1)`` or
``("rules", policyId)``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.connectors.json_api_server import JsonApiServer, Request

TOKEN = "00TestOktaApiTokenThatMustNeverLeak-0123456789"
RATE_LIMIT = 1000
MAX_LIMIT = 200
DEFAULT_LIMITS = {"users": 200, "apps": 20}

Key = tuple[str, str | int]
Answer = tuple[int, list[tuple[str, str]], Any]


def okta_error(code: str, summary: str) -> dict[str, Any]:
    """An error body as Okta returns it."""
    return {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": "oaeTestErrorId0123",
        "errorCauses": [],
    }


class OktaServer(JsonApiServer):
    """An Okta org with the given users, factors, sign-on policies and rules, on 127.0.0.1."""

    content_type = "application/json"

    def __init__(
        self,
        users: Iterable[dict[str, Any]],
        factors: Mapping[str, list[dict[str, Any]]],
        policies: Iterable[dict[str, Any]],
        rules: Mapping[str, list[dict[str, Any]]],
        apps: Iterable[dict[str, Any]] = (),
    ) -> None:
        self.users = list(users)
        self.apps = list(apps)
        self.factors = factors
        self.policies = list(policies)
        self.rules = rules
        self.throttle: dict[Key, int] = {}
        """Key → seconds to the reset of a 429 answered the first time it is asked for."""
        self.fail_once: set[Key] = set()
        """Keys answered 500 the first time they are asked for."""
        self.fail_always: set[Key] = set()
        self.forbidden: set[str] = set()
        """Kinds (``users``, ``apps``, ``factors``, ``policies``, ``rules``) the token may not
        read: 403."""
        super().__init__()

    def answer(self, path: str, headers: Mapping[str, str]) -> Answer:
        """Status, headers and JSON body for one GET."""
        self.requests.append(Request(path, headers))
        if headers.get("authorization") != f"SSWS {TOKEN}":
            return 401, [], okta_error("E0000011", "Invalid token provided")
        split = urlsplit(path)
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        route = self._route(split.path, query)
        if route is None:
            return 404, self._rate(), okta_error("E0000022", "The endpoint does not support GET.")
        key, listed, links = route
        if key[0] in self.forbidden:
            summary = "You do not have permission to perform the requested action"
            return 403, self._rate(), okta_error("E0000006", summary)
        if key in self.throttle:
            reset_in = self.throttle.pop(key)
            summary = "API call exceeded rate limit due to too many requests."
            return 429, self._rate(0, reset_in), okta_error("E0000047", summary)
        if key in self.fail_always or key in self.fail_once:
            self.fail_once.discard(key)
            return 500, self._rate(), okta_error("E0000009", "Internal Server Error")
        if listed is None:
            return 404, self._rate(), okta_error("E0000007", "Not found: Resource not found")
        self_link = ("Link", f'<{self.url}{path}>; rel="self"')
        return 200, [*self._rate(), self_link, *links], listed

    def _route(
        self, path: str, query: Mapping[str, str]
    ) -> tuple[Key, Any, list[tuple[str, str]]] | None:
        """The fault key, the body (None when not found) and the ``next`` links of a path."""
        if path == "/api/v1/users":
            return self._page("users", self.users, query)
        if path == "/api/v1/apps":
            return self._page("apps", self.apps, query)
        if path == "/api/v1/policies":
            listed = [p for p in self.policies if p["type"] == query.get("type")]
            return ("policies", 1), listed, []
        match = re.fullmatch(r"/api/v1/users/([^/]+)/factors", path)
        if match:
            return ("factors", match[1]), self.factors.get(match[1]), []
        match = re.fullmatch(r"/api/v1/policies/([^/]+)/rules", path)
        if match:
            return ("rules", match[1]), self.rules.get(match[1]), []
        return None

    def _page(
        self, kind: str, items: list[dict[str, Any]], query: Mapping[str, str]
    ) -> tuple[Key, Any, list[tuple[str, str]]]:
        """One page of a list paged by an ``after`` cursor, the last item's id."""
        limit = min(int(query.get("limit", str(DEFAULT_LIMITS[kind]))), MAX_LIMIT)
        start = 0
        if "after" in query:
            start = 1 + next(i for i, item in enumerate(items) if item["id"] == query["after"])
        listed = items[start : start + limit]
        links = []
        if start + limit < len(items):
            cursor = urlencode({"after": listed[-1]["id"], "limit": limit})
            links.append(("Link", f'<{self.url}/api/v1/{kind}?{cursor}>; rel="next"'))
        return (kind, start // limit + 1), listed, links

    def _rate(self, remaining: int | None = None, reset_in: int = 60) -> list[tuple[str, str]]:
        used = len(self.requests)
        return [
            ("X-Rate-Limit-Limit", str(RATE_LIMIT)),
            ("X-Rate-Limit-Remaining", str(RATE_LIMIT - used if remaining is None else remaining)),
            ("X-Rate-Limit-Reset", str(int(time.time()) + reset_in)),
        ]
