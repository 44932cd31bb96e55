"""A local stand-in for the GitHub REST API an organisation audit reads, as GitHub documents it.

Organisation lists (``/orgs/{org}/members``, ``outside_collaborators``, ``repos``,
``personal-access-tokens``, ``installations``) and repository lists (``/repos/{org}/{repo}/keys``,
``pulls``, ``pulls/{n}/reviews``) are paged by ``per_page`` (default 30, at most 100) and
``page``, and so are the rules of a branch (``/repos/{org}/{repo}/rules/branches/{branch}``),
with ``Link`` headers (``prev``, ``next``, ``last``, ``first``) pointing at
``/organizations/{id}/…`` and ``/repositories/{id}/…`` as GitHub's do; installations come as
``{"total_count", "installations"}``. Branch protection answers one object, or 404 "Branch not
protected". Every answer carries the ``X-RateLimit-*`` headers. Faults are planned by request
number or by (list, page), a list named as the connector names it (``members-2fa_disabled``,
``deploy-keys/api``, ``branch-protection/api``). A private repository in ``free_private`` answers
branch protection and rulesets with GitHub's 403 "Upgrade to GitHub Pro …"; a list in
``forbidden`` answers any other 403.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.connectors.json_api_server import JsonApiServer, Request

ORG = "acme"
ORG_ID = 9919
TOKEN = "ghp_TestTokenThatMustNeverLeak0123456789"
RATE_LIMIT = 5000
DOCS = "https://docs.github.com/rest"
PLAN_WITHOUT_PROTECTION = {
    "message": "Upgrade to GitHub Pro or make this repository public to enable this feature.",
    "documentation_url": f"{DOCS}/branches/branch-protection#get-branch-protection",
    "status": "403",
}
NOT_PROTECTED = {
    "message": "Branch not protected",
    "documentation_url": f"{DOCS}/branches/branch-protection#get-branch-protection",
    "status": "404",
}

ORG_PATH = re.compile(rf"/(?:orgs/{ORG}|organizations/{ORG_ID})/(?P<rest>.+)", re.IGNORECASE)
REPO_PATH = re.compile(rf"/(?:repos/{ORG}/(?P<name>[^/]+)|repositories/(?P<id>\d+))/(?P<rest>.+)")
PROTECTION_PATH = re.compile(r"branches/(?P<branch>.+)/protection")
RULES_PATH = re.compile(r"rules/branches/(?P<branch>.+)")
REVIEWS_PATH = re.compile(r"pulls/(?P<number>\d+)/reviews")


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


def repository(name: str, repo_id: int, default_branch: str = "main") -> dict[str, Any]:
    """A repository as ``GET /orgs/{org}/repos`` lists it (the fields read, and a few more)."""
    return {
        "id": repo_id,
        "name": name,
        "full_name": f"{ORG}/{name}",
        "private": True,
        "owner": simple_user(ORG, ORG_ID, "Organization"),
        "archived": False,
        "default_branch": default_branch,
    }


def deploy_key(
    key_id: int, *, read_only: bool, added_by: str | None, last_used: str | None
) -> dict[str, Any]:
    """A deploy key as ``GET /repos/{o}/{r}/keys`` returns it."""
    return {
        "id": key_id,
        "key": f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{key_id:08d}",
        "url": f"https://api.github.com/repos/{ORG}/api/keys/{key_id}",
        "title": f"deploy {key_id}",
        "verified": True,
        "created_at": "2024-03-01T09:00:00Z",
        "read_only": read_only,
        "added_by": added_by,
        "last_used": last_used,
        "enabled": True,
    }


def fine_grained_token(
    grant_id: int,
    owner: str,
    *,
    expires_at: str | None,
    selection: str = "subset",
    last_used: str | None = None,
) -> dict[str, Any]:
    """A token as ``GET /orgs/{org}/personal-access-tokens`` returns it."""
    return {
        "id": grant_id,
        "owner": simple_user(owner, grant_id),
        "repository_selection": selection,
        "repositories_url": f"https://api.github.com/organizations/{ORG_ID}/pat/{grant_id}",
        "permissions": {
            "organization": {"members": "read"},
            "repository": {"contents": "write", "metadata": "read"},
        },
        "access_granted_at": "2024-05-01T10:00:00Z",
        "token_id": grant_id * 10,
        "token_name": f"token {grant_id}",
        "token_expired": False,
        "token_expires_at": expires_at,
        "token_last_used_at": last_used,
    }


def installation(
    installation_id: int, slug: str, *, selection: str, suspended_at: str | None = None
) -> dict[str, Any]:
    """An installation as ``GET /orgs/{org}/installations`` lists it."""
    return {
        "id": installation_id,
        "account": simple_user(ORG, ORG_ID, "Organization"),
        "repository_selection": selection,
        "app_id": installation_id + 100,
        "app_slug": slug,
        "target_id": ORG_ID,
        "target_type": "Organization",
        "permissions": {"contents": "read", "metadata": "read", "pull_requests": "write"},
        "events": ["push"],
        "created_at": "2023-01-05T12:00:00Z",
        "updated_at": "2024-01-05T12:00:00Z",
        "suspended_at": suspended_at,
        "suspended_by": None,
    }


def pull(number: int, author: str, *, merged_at: str | None, base: str = "main") -> dict[str, Any]:
    """A closed pull request as ``GET /repos/{o}/{r}/pulls?state=closed`` lists it."""
    return {
        "number": number,
        "state": "closed",
        "title": f"Change {number}",
        "user": simple_user(author, 50 + number),
        "created_at": "2025-01-01T08:00:00Z",
        "closed_at": merged_at or "2025-01-02T08:00:00Z",
        "merged_at": merged_at,
        "merge_commit_sha": f"{number:040x}" if merged_at else None,
        "base": {"ref": base, "sha": "0" * 40},
    }


def review(reviewer: str, state: str, submitted_at: str) -> dict[str, Any]:
    """A review as ``GET /repos/{o}/{r}/pulls/{n}/reviews`` returns it."""
    return {
        "id": sum(map(ord, reviewer + submitted_at)),
        "user": simple_user(reviewer, 77),
        "body": "",
        "state": state,
        "submitted_at": submitted_at,
        "commit_id": "1" * 40,
    }


def protection(approvals: int, *, enforce_admins: bool, dismiss_stale: bool) -> dict[str, Any]:
    """A branch protection object as GitHub answers it (the parts read)."""
    return {
        "url": f"https://api.github.com/repos/{ORG}/api/branches/main/protection",
        "required_status_checks": {"strict": True, "contexts": ["ci"]},
        "enforce_admins": {"url": "https://api.github.com/x", "enabled": enforce_admins},
        "required_pull_request_reviews": {
            "dismiss_stale_reviews": dismiss_stale,
            "require_code_owner_reviews": False,
            "required_approving_review_count": approvals,
        },
    }


def ruleset_rule(kind: str, ruleset_id: int = 42, **parameters: Any) -> dict[str, Any]:
    """A rule as ``GET /repos/{o}/{r}/rules/branches/{branch}`` lists it; a ``pull_request``
    rule takes ``approvals`` and ``dismiss_stale``."""
    rule: dict[str, Any] = {
        "type": kind,
        "ruleset_source_type": "Organization",
        "ruleset_source": ORG,
        "ruleset_id": ruleset_id,
    }
    if kind == "pull_request":
        rule["parameters"] = {
            "allowed_merge_methods": ["merge", "squash", "rebase"],
            "dismiss_stale_reviews_on_push": parameters["dismiss_stale"],
            "require_code_owner_review": False,
            "require_last_push_approval": False,
            "required_approving_review_count": parameters["approvals"],
            "required_review_thread_resolution": False,
        }
    return rule


class GitHubServer(JsonApiServer):
    """The organisation ``acme`` with the given members and, once set, the rest; on 127.0.0.1."""

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
        """Logins without 2FA, members and outside collaborators alike."""
        self.admins = {login.lower() for login in admins}
        self.collaborators: list[dict[str, Any]] = []
        self.repos: list[dict[str, Any]] = []
        self.deploy_keys: dict[str, list[dict[str, Any]]] = {}
        """Repository name → its deploy keys."""
        self.tokens: list[dict[str, Any]] = []
        self.installations: list[dict[str, Any]] = []
        self.protections: dict[str, dict[str, Any]] = {}
        """Repository name → its default branch's protection; absent is not protected."""
        self.rules: dict[str, list[dict[str, Any]]] = {}
        """Repository name → the active ruleset rules of its default branch."""
        self.free_private: set[str] = set()
        """Private repositories on a plan without branch protection or rulesets: both 403."""
        self.forbidden: dict[str, str] = {}
        """List name → the message of a 403 it is answered with."""
        self.pulls: dict[str, list[dict[str, Any]]] = {}
        self.reviews: dict[tuple[str, int], list[dict[str, Any]]] = {}
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
        if number in self.exhausted:
            limit = self._rate_headers(0, int(time.time()) + self.exhausted[number])
            return 403, limit, _error("API rate limit exceeded for user ID 1.")
        if headers.get("authorization") not in (f"Bearer {TOKEN}", f"token {TOKEN}"):
            return 401, {}, {**_error("Bad credentials"), "status": "401"}
        self._used += 1
        limit = self._rate_headers(RATE_LIMIT - self._used, int(time.time()) + 3600)
        if number in self.retry_after:
            body = _error("You have exceeded a secondary rate limit. Please wait a few minutes.")
            return 429, {**limit, "Retry-After": self.retry_after[number]}, body
        split = urlsplit(path)
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        page = int(query.get("page", "1"))
        route = self._route(unquote(split.path), query)
        if route is None:
            return 404, limit, {**_error("Not Found"), "status": "404"}
        key, link_path, listed = route
        protection = key.startswith(("branch-protection/", "branch-rules/"))
        if protection and key.partition("/")[2] in self.free_private:
            return 403, limit, PLAN_WITHOUT_PROTECTION
        if key in self.forbidden:
            return 403, limit, {**_error(self.forbidden[key]), "status": "403"}
        if (key, page) in self.fail_always or (key, page) in self.fail_once:
            self.fail_once.discard((key, page))
            return 500, limit, {"message": "Server Error"}
        if key.startswith("members") and not self.member_of_org:
            return 302, {**limit, "Location": f"{self.url}/orgs/{ORG}/public_members"}, None
        if not isinstance(listed, list):
            return (200, limit, listed) if listed is not None else (404, limit, NOT_PROTECTED)
        per_page = min(int(query.get("per_page", "30")), 100)
        last = max(1, -(-len(listed) // per_page))
        links = self._links(link_path, query, page, last)
        if links:
            limit["Link"] = links
        body: Any = listed[(page - 1) * per_page : page * per_page]
        if key == "installations":
            body = {"total_count": len(listed), "installations": body}
        return 200, limit, body

    def _route(
        self, path: str, query: Mapping[str, str]
    ) -> tuple[str, str, list[dict[str, Any]] | dict[str, Any] | None] | None:
        """(list name, path ``Link``s use, items or one object) for a path; None if unknown."""
        if match := ORG_PATH.fullmatch(path):
            rest = match["rest"]
            link_path = f"/organizations/{ORG_ID}/{rest}"
            users = {"members": self.members, "outside_collaborators": self.collaborators}
            if rest in users:
                listed = users[rest]
                key = rest
                if query.get("filter") == "2fa_disabled":
                    listed = [u for u in listed if u["login"].lower() in self.two_factor_disabled]
                    key += "-2fa_disabled"
                if query.get("role") == "admin":
                    listed = [u for u in listed if u["login"].lower() in self.admins]
                    key += "-admin"
                return key, link_path, listed
            lists = {
                "repos": self.repos,
                "personal-access-tokens": self.tokens,
                "installations": self.installations,
            }
            return (rest, link_path, lists[rest]) if rest in lists else None
        match = REPO_PATH.fullmatch(path)
        repo = None if match is None else self._repo(match["name"], match["id"])
        if match is None or repo is None:
            return None
        name, rest = repo["name"], match["rest"]
        link_path = f"/repositories/{repo['id']}/{rest}"
        if rest == "keys":
            return f"deploy-keys/{name}", link_path, self.deploy_keys.get(name, [])
        if rest == "pulls":
            listed = [
                p
                for p in self.pulls.get(name, [])
                if query.get("state") == "closed" and p["base"]["ref"] == query.get("base")
            ]
            return f"pulls/{name}", link_path, listed
        if reviews := REVIEWS_PATH.fullmatch(rest):
            number = int(reviews["number"])
            return f"reviews/{name}/{number}", link_path, self.reviews.get((name, number), [])
        if rules := RULES_PATH.fullmatch(rest):
            applies = rules["branch"] == repo["default_branch"]
            return f"branch-rules/{name}", link_path, self.rules.get(name, []) if applies else []
        branch = PROTECTION_PATH.fullmatch(rest)
        if branch is None or branch["branch"] != repo["default_branch"]:
            return None
        return f"branch-protection/{name}", link_path, self.protections.get(name)

    def _repo(self, name: str | None, repo_id: str | None) -> dict[str, Any] | None:
        for repo in self.repos:
            if repo["name"] == name or str(repo["id"]) == repo_id:
                return repo
        return None

    def _links(self, link_path: str, query: Mapping[str, str], page: int, last: int) -> str:
        base = self.link_base or self.url

        def link(number: int, rel: str) -> str:
            target = urlencode({**query, "page": number})
            return f'<{base}{link_path}?{target}>; rel="{rel}"'

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
