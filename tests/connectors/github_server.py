"""A local stand-in for GitHub's ``GET /orgs/{org}/members``, answering as GitHub documents.

Bodies are JSON arrays of simple-user objects, paged by ``per_page`` (default 30, at most 100)
and ``page`` with ``Link`` headers (``prev``, ``next``, ``last``, ``first``) that point at
``/organizations/{id}/members`` as GitHub's do; every answer carries the ``X-RateLimit-*``
headers. Faults can be planned by request number or by (list, page); a list is ``all``,
``2fa_disabled`` or ``admin``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.connectors.json_api_server import JsonApiServer, Request

ORG = "acme"
ORG_ID = 9919
TOKEN = "ghp_TestTokenThatMustNeverLeak0123456789"
RATE_LIMIT = 5000
DOCS = "https://docs.github.com/rest/orgs/members#list-organization-members"


def simple_user(login: str, user_id: int, user_type: str = "User") -> dict[str, Any]:
    """A simple-user object as ``GET /orgs/{org}/members`` returns it."""
    return {
        "login": login,
        "id": user_id,
        "node_id": f"MDQ6VXNlcj{user_id}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": user_type,
        "site_admin": False,
    }


class GitHubServer(JsonApiServer):
    """The organisation ``acme`` with the given members, served on 127.0.0.1."""

    content_type = "application/json; charset=utf-8"
    fixed_headers = (("X-GitHub-Api-Version-Selected", "2022-11-28"),)

    def __init__(
        self,
        members: Iterable[dict[str, Any]],
        *,
        two_factor_disabled: Iterable[str] = (),
        admins: Iterable[str] = (),
    ) -> None:
        self.members = list(members)
        self.two_factor_disabled = {login.lower() for login in two_factor_disabled}
        self.admins = {login.lower() for login in admins}
        self.retry_after: dict[int, str] = {}
        """Request number (from 1) → ``Retry-After`` value of a 429 answered to it."""
        self.exhausted: dict[int, int] = {}
        """Request number → seconds to the reset of the 403 'rate limit exceeded' answered."""
        self.fail_once: set[tuple[str, int]] = set()
        """(list, page) answered 500 the first time it is asked for."""
        self.fail_always: set[tuple[str, int]] = set()
        self.member_of_org = True
        """False: answer as GitHub does a non-member, with a redirect to the public members."""
        self.link_base: str | None = None
        """Where ``Link`` URLs point; None for this server."""
        self._used = 0
        super().__init__()

    def answer(self, path: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], Any]:
        """Status, headers and JSON body for one GET."""
        self.requests.append(Request(path, headers))
        number = len(self.requests)
        reset = int(time.time()) + 3600
        if number in self.exhausted:
            limit = self._rate_headers(0, int(time.time()) + self.exhausted[number])
            return 403, limit, _error("API rate limit exceeded for user ID 1.")
        if headers.get("authorization") not in (f"Bearer {TOKEN}", f"token {TOKEN}"):
            return 401, {}, {**_error("Bad credentials"), "status": "401"}
        self._used += 1
        limit = self._rate_headers(RATE_LIMIT - self._used, reset)
        if number in self.retry_after:
            body = _error("You have exceeded a secondary rate limit. Please wait a few minutes.")
            return 429, {**limit, "Retry-After": self.retry_after[number]}, body
        split = urlsplit(path)
        if split.path.lower() not in (f"/orgs/{ORG}/members", f"/organizations/{ORG_ID}/members"):
            return 404, limit, {**_error("Not Found"), "status": "404"}
        if not self.member_of_org:
            return 302, {**limit, "Location": f"{self.url}/orgs/{ORG}/public_members"}, None
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        listed = self._list(query)
        per_page = min(int(query.get("per_page", "30")), 100)
        page = int(query.get("page", "1"))
        key = (query.get("filter") or query.get("role") or "all", page)
        if key in self.fail_always or key in self.fail_once:
            self.fail_once.discard(key)
            return 500, limit, {"message": "Server Error"}
        last = max(1, -(-len(listed) // per_page))
        links = self._links(query, page, last)
        if links:
            limit["Link"] = links
        return 200, limit, listed[(page - 1) * per_page : page * per_page]

    def _list(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        listed = self.members
        if query.get("filter") == "2fa_disabled":
            listed = [m for m in listed if m["login"].lower() in self.two_factor_disabled]
        if query.get("role") == "admin":
            listed = [m for m in listed if m["login"].lower() in self.admins]
        return listed

    def _links(self, query: Mapping[str, str], page: int, last: int) -> str:
        base = self.link_base or self.url

        def link(number: int, rel: str) -> str:
            target = urlencode({**query, "page": number})
            return f'<{base}/organizations/{ORG_ID}/members?{target}>; rel="{rel}"'

        links = []
        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links.append(link(1, "first"))
        return ", ".join(links)

    def _rate_headers(self, remaining: int, reset: int) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Used": str(RATE_LIMIT - remaining),
            "X-RateLimit-Resource": "core",
        }


def _error(message: str) -> dict[str, str]:
    return {"message": message, "documentation_url": DOCS}
