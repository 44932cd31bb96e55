"""A GitHub organisation's people, credentials and changes, from the REST API or saved responses.

Everything comes from the REST API, version 2022-11-28. Each list is kept under a name that is
also its export file's stem:

- ``members``: ``GET /orgs/{org}/members`` (required); ``members-2fa_disabled``:
  ``?filter=2fa_disabled``; ``members-admin``: ``?role=admin``, the organisation's owners;
- ``outside_collaborators`` and ``outside_collaborators-2fa_disabled``:
  ``GET /orgs/{org}/outside_collaborators`` without and with ``?filter=2fa_disabled``;
- ``personal-access-tokens``: ``GET /orgs/{org}/personal-access-tokens``, the fine-grained
  personal access tokens that can reach the organisation;
- ``installations``: ``GET /orgs/{org}/installations``, the GitHub Apps installed (a body
  ``{"total_count": n, "installations": [...]}``, the others are JSON arrays);
- ``repos``: ``GET /orgs/{org}/repos``, needed to find the per-repository lists below, limited
  by the setting ``repositories`` (names, optional; default every repository);
- ``deploy-keys/{repo}``: ``GET /repos/{org}/{repo}/keys``;
- ``branch-protection/{repo}``: ``GET /repos/{org}/{repo}/branches/{default branch}/protection``,
  one response; GitHub's 404 ``{"message": "Branch not protected"}`` is kept as the answer it is,
  and so is its 403 for a private repository whose plan has no branch protection ("Upgrade to
  GitHub Pro or make this repository public…"), whose rules are then not asked for;
- ``branch-rules/{repo}``: ``GET /repos/{org}/{repo}/rules/branches/{default branch}``, the active
  rules of every repository and organisation ruleset that applies to the default branch;
- ``pulls/{repo}``: ``GET /repos/{org}/{repo}/pulls?state=closed&base={default branch}``;
- ``reviews/{repo}/{number}``: ``GET /repos/{org}/{repo}/pulls/{number}/reviews`` for every
  pull request merged into the default branch (since the setting ``since``, a date or
  timestamp, when given).

The setting ``populations`` (optional; default all) names which of ``outside_collaborators``,
``deploy_keys``, ``personal_access_tokens``, ``installations`` and ``changes`` (branch
protection, pull requests and reviews) are read; members always are. ``Collected.parameters``
records each population as ``read``, ``partial`` (some of it missing or not read to the end),
``absent`` (nothing of it in the export) or ``skipped`` (not asked for).

Export mode (``mode: export``). Settings: ``path`` — the export directory; ``org``. It holds one
response body per list, ``members.json``, ``repos.json``, ``deploy-keys/api.json``,
``branch-protection/api.json``, ``reviews/api/42.json`` and so on, each holding every page of its
list. Only ``members.json`` is required: a population whose files are absent was not exported,
so it gives no records and a warning says so.

Live mode (``mode: live``). Settings: ``org``; ``base_url`` (optional, default
``https://api.github.com``; GitHub Enterprise Server: ``https://HOST/api/v3``); secret ``token``.
Least privilege, all read-only: a GitHub App installed on the organisation (its installation token),
with the organisation permissions *Members: read*, *Administration: read* (the app installations)
and *Personal access tokens: read* (GitHub lets only Apps list fine-grained tokens), and the
repository permissions *Administration: read* (deploy keys, branch protection), *Contents: read*,
*Pull requests: read* and *Metadata: read* (the rulesets that apply to a branch). A fine-grained or
classic token (``read:org``, ``repo``) can read everything but the fine-grained tokens: leave
``personal_access_tokens`` out of ``populations`` then. The ``2fa_disabled`` filter answers only an
organisation owner (anyone else gets 422 "Only owners can use this filter"). Each list is followed
by its ``Link`` header to the last page, 100 items a page, and every page is kept as its own
payload, ``members.page-001.json``, ``deploy-keys/api.page-001.json``, … with the URL as source.
When a page still fails after the retries, the pages already read are kept, the failure is kept as
``{list}.page-NNN.failed`` (the last error body, as received; a branch protection answer as
``branch-protection/{repo}.failed``) and the collection is marked incomplete. ``parse`` reads either
layout and gives the same records for the same data.

MFA: a member in the ``2fa_disabled`` list has no two-factor method; every other member has one,
and GitHub asks for it at every sign-in of a user who has it, so registration and enforcement
take the same value. When that list was not read to the end, only the members it names are
known (no); every other member is unknown, never "enabled". The admin list is read the same
way. Outside collaborators are human third-party accounts (a warning lists them), with MFA read
the same way from their own filtered list; their privilege is unknown, as repository roles are
not read. Logins are compared case-insensitively, as GitHub does.

Credentials: a deploy key belongs to its repository (``account_id`` is the full name), was
added by ``added_by``, never expires, and cannot be rotated in place, so its last rotation is its
creation. A fine-grained token belongs to its owner; ``token_expires_at`` null means it never
expires, and an expired token is not active. An app installation is a third-party grant; it is
active unless suspended. Scopes are the permissions as ``contents:write``, or
``repository:contents:write`` for a token's grouped permissions. A grant reaching every
repository (``repository_selection: all``) is broad.

Changes: each merged pull request into the default branch is a change: its author, merged by
``merge_commit_sha`` at ``merged_at``, reviewed by everyone who approved it before the merge
(not its author). A pull request whose reviews were not read is left out, with a warning, never
reported as unreviewed.

Branch protection: GitHub enforces a classic protection rule and every active ruleset together,
so the default branch's protection is both read as one. It is protected when either applies any
rule, and unprotected only when the classic answer is "Branch not protected" and no ruleset
applies; with either not read, "unprotected" is unknown. The approving reviews required are the
most any of them requires (a ruleset's ``pull_request`` rule); a new push dismisses approvals when
any of them says so. Whether administrators are held to it is the classic ``enforce_admins``, and
unknown when a ruleset protects the branch or asks for more than the classic rule (its bypass
list is not read).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol
from urllib.parse import quote

from pydantic import AfterValidator, PlainValidator, StrictStr

from assay.connectors import _api, _export, _pages
from assay.connectors._http import ApiClient, PageFailed
from assay.connectors._pages import StoredList
from assay.connectors.base import Collected, ConnectorConfig, RawPayload, SettingsModel
from assay.errors import InputError
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Application,
    BranchProtection,
    Change,
    Credential,
    Records,
    Tri,
)

MEMBERS_LIST = "members"
TWO_FACTOR_LIST = "members-2fa_disabled"
ADMIN_LIST = "members-admin"
COLLABORATORS_LIST = "outside_collaborators"
COLLABORATORS_2FA_LIST = "outside_collaborators-2fa_disabled"
REPOS_LIST = "repos"
TOKENS_LIST = "personal-access-tokens"
INSTALLATIONS_LIST = "installations"
DEPLOY_KEYS_DIR = "deploy-keys"
PROTECTION_DIR = "branch-protection"
RULES_DIR = "branch-rules"
PULLS_DIR = "pulls"
REVIEWS_DIR = "reviews"

ORG_LISTS: Mapping[str, tuple[str, Mapping[str, str]]] = {
    MEMBERS_LIST: ("members", {}),
    TWO_FACTOR_LIST: ("members", {"filter": "2fa_disabled"}),
    ADMIN_LIST: ("members", {"role": "admin"}),
    COLLABORATORS_LIST: ("outside_collaborators", {}),
    COLLABORATORS_2FA_LIST: ("outside_collaborators", {"filter": "2fa_disabled"}),
    TOKENS_LIST: ("personal-access-tokens", {}),
    INSTALLATIONS_LIST: ("installations", {}),
    REPOS_LIST: ("repos", {}),
}
"""Each organisation list: its endpoint under ``/orgs/{org}/`` and its query."""

MEMBERS = f"{MEMBERS_LIST}.json"

MEMBERS_POPULATION = "members"
OUTSIDE_COLLABORATORS = "outside_collaborators"
DEPLOY_KEYS = "deploy_keys"
PERSONAL_ACCESS_TOKENS = "personal_access_tokens"
INSTALLATIONS = "installations"
CHANGES = "changes"
POPULATIONS = (OUTSIDE_COLLABORATORS, DEPLOY_KEYS, PERSONAL_ACCESS_TOKENS, INSTALLATIONS, CHANGES)
"""The populations the ``populations`` setting may name; members are always read."""
POPULATION_LISTS: Mapping[str, tuple[str, ...]] = {
    OUTSIDE_COLLABORATORS: (COLLABORATORS_LIST, COLLABORATORS_2FA_LIST),
    PERSONAL_ACCESS_TOKENS: (TOKENS_LIST,),
    INSTALLATIONS: (INSTALLATIONS_LIST,),
    DEPLOY_KEYS: (REPOS_LIST,),
    CHANGES: (REPOS_LIST,),
}

PAGE_NAME = _pages.page_pattern(
    r"members(?:-2fa_disabled|-admin)?|outside_collaborators(?:-2fa_disabled)?|repos"
    r"|personal-access-tokens|installations|(?:deploy-keys|branch-rules|pulls)/[^/]+"
    r"|reviews/[^/]+/\d+"
)
NOT_PROTECTED = "Branch not protected"
PLAN_WITHOUT_PROTECTION = "Upgrade to GitHub Pro or make this repository public"
"""How GitHub's 403 begins for a private repository whose plan has no branch protection (nor
rulesets): a fact about the branch, that nothing can protect it."""

DEFAULT_BASE_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
PER_PAGE = 100

KIND_BY_TYPE = {"User": AccountKind.HUMAN, "Bot": AccountKind.SERVICE}
PAGE_SIZES = frozenset({30, 100})
"""GitHub's default and largest page sizes: a list this long may be one page of several."""
BREADTH = {"all": Tri.YES, "selected": Tri.NO, "subset": Tri.NO, "none": Tri.NO}
"""``repository_selection``: every repository of the organisation, or only some (or none)."""
WRITE = ("read", "write")
"""A deploy key that is not read-only can push as well as read."""
DEPLOY_KEY_USED = "github:last_used"
TOKEN_USED = "github:token_last_used_at"


def _names(values: tuple[str, ...]) -> tuple[str, ...]:
    if not all(value.strip() for value in values):
        raise ValueError("must be a list of names")
    return tuple(value.strip() for value in values)


def _known_populations(names: tuple[str, ...]) -> tuple[str, ...]:
    """The populations named, in the order they are read; an unknown name is refused."""
    unknown = sorted(set(names) - set(POPULATIONS))
    if unknown:
        raise ValueError(f"unknown {', '.join(unknown)}; use any of: {', '.join(POPULATIONS)}")
    return tuple(p for p in POPULATIONS if p in names)


def _moment(value: object) -> datetime:
    """A timestamp, or a date meaning its midnight UTC, as a UTC time."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            return _export.parse_timestamp(value)
        except ValueError:
            pass
        try:
            day = _export.parse_date(value)
        except ValueError:
            pass
        else:
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
    raise ValueError(f"must be a date (YYYY-MM-DD) or a timestamp, got {value!r}")


class GitHubSettings(_api.ApiSettings):
    """As every API connector, and the organisation and what of it to read."""

    org: StrictStr | None = None
    repositories: Annotated[tuple[StrictStr, ...], AfterValidator(_names)] | None = None
    """Names or full names; default every repository."""
    populations: Annotated[tuple[StrictStr, ...], AfterValidator(_known_populations)] | None = None
    """Which of ``POPULATIONS`` to read; default all. Members always are."""
    since: Annotated[datetime, PlainValidator(_moment)] | None = None
    """Pull requests merged before it are not read."""


class GitHubConnector(_api.ApiConnector):
    """Reads a GitHub organisation live or from an export directory."""

    type: str = "github"
    version: str = "2"
    settings: SettingsModel = GitHubSettings

    def _collect_export(self, config: ConnectorConfig) -> Collected:
        org = _org(config)
        started_at = datetime.now(UTC)
        source = _ExportSource(_export.require_directory(config.path()))
        _gather(source, org, config)
        read = _read(source.payloads, config, started_at)
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            source.payloads,
            read.records,
            {
                "path": str(source.directory),
                "org": org,
                "members": read.members,
                "files": [payload.name for payload in source.payloads],
                "populations": read.populations,
                **_filters(config),
            },
        )

    def _collect_live(self, config: ConnectorConfig) -> Collected:
        org = _org(config)
        token = _api.token(
            config, self.type, "a GitHub token that can read the organisation's members"
        )
        base_url = _api.base_url(config, DEFAULT_BASE_URL)
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "Authorization": f"Bearer {token}",
        }
        started_at = datetime.now(UTC)
        with ApiClient(base_url, headers, sleep=self._sleep) as client:
            source = _LiveSource(client)
            _gather(source, org, config)
        read = _read(source.payloads, config, started_at)
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            source.payloads,
            read.records,
            {
                "org": org,
                "base_url": base_url,
                "per_page": PER_PAGE,
                "pages": source.pages,
                "members": read.members,
                "populations": read.populations,
                **_filters(config),
            },
            complete=not source.failures,
            incomplete_reason="; ".join(source.failures) or None,
        )


class _Source(Protocol):
    """Where the lists come from: saved files or the API; both keep what they read in order."""

    payloads: list[RawPayload]

    def read_list(
        self, list_name: str, path: str, params: Mapping[str, str]
    ) -> Sequence[RawPayload]: ...

    def read_one(self, name: str, path: str) -> Sequence[RawPayload]: ...


@dataclass
class _ExportSource:
    """The export directory: each list is one file, and only ``members.json`` must be there."""

    directory: Path
    payloads: list[RawPayload] = field(default_factory=list)

    def read_list(
        self, list_name: str, path: str, params: Mapping[str, str]
    ) -> Sequence[RawPayload]:
        return self.read_one(list_name, path)

    def read_one(self, name: str, path: str) -> Sequence[RawPayload]:
        file = self.directory / f"{name}.json"
        if name != MEMBERS_LIST and not file.exists():
            return ()
        self.payloads.append(_export.read_payload(self.directory, f"{name}.json"))
        return self.payloads[-1:]


@dataclass
class _LiveSource:
    """The API: lists page by page, and what could not be read in full."""

    client: ApiClient
    payloads: list[RawPayload] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)
    """Pages read of each organisation list."""
    failures: list[str] = field(default_factory=list)

    def read_list(
        self, list_name: str, path: str, params: Mapping[str, str]
    ) -> Sequence[RawPayload]:
        query: dict[str, str | int] = {**params, "per_page": PER_PAGE}
        read, failure = _pages.fetch_linked(self.client, list_name, path, query, self.payloads)
        if "/" not in list_name:
            self.pages[list_name] = len(read)
        if failure is not None:
            self.failures.append(failure)
        return read

    def read_one(self, name: str, path: str) -> Sequence[RawPayload]:
        """One answer; a 404 is kept only when it is GitHub's "Branch not protected", a 403 only
        when it says the repository's plan has no branch protection."""
        try:
            page = self.client.get_one(path, accept=(403, 404))
        except PageFailed as failure:
            self.payloads.append(RawPayload(f"{name}.failed", failure.url, failure.body))
            self.failures.append(f"{name} ({failure.url}): {failure.reason}")
            return ()
        payload = RawPayload(f"{name}.json", page.url, page.data)
        message = _message(payload)
        expected = {404: message == NOT_PROTECTED, 403: _plan_without_protection(message)}
        if not expected.get(page.status, True):
            status = f"HTTP {page.status} {'Not Found' if page.status == 404 else 'Forbidden'}"
            raise InputError(page.url, status + (f": {message}" if message else ""))
        self.payloads.append(payload)
        return self.payloads[-1:]


def _gather(source: _Source, org: str, config: ConnectorConfig) -> None:
    """Read every list the settings ask for, repositories before what is read per repository."""
    selected = _populations(config)
    wanted = {MEMBERS_LIST, TWO_FACTOR_LIST, ADMIN_LIST}
    wanted.update(name for population in selected for name in POPULATION_LISTS[population])
    repos: Sequence[RawPayload] = ()
    for list_name, (endpoint, query) in ORG_LISTS.items():
        if list_name in wanted:
            read = source.read_list(list_name, f"/orgs/{quote(org, safe='')}/{endpoint}", query)
            repos = read if list_name == REPOS_LIST else repos
    since = _since(config)
    for repo in _chosen(_repositories(repos), config):
        if DEPLOY_KEYS in selected:
            source.read_list(f"{DEPLOY_KEYS_DIR}/{repo.name}", f"{repo.path}/keys", {})
        if CHANGES not in selected or repo.default_branch is None:
            continue
        branch = quote(repo.default_branch, safe="")
        answer = source.read_one(
            f"{PROTECTION_DIR}/{repo.name}", f"{repo.path}/branches/{branch}/protection"
        )
        if not any(_plan_without_protection(_message(payload)) for payload in answer):
            rules = f"{repo.path}/rules/branches/{branch}"
            source.read_list(f"{RULES_DIR}/{repo.name}", rules, {})
        pulls = source.read_list(
            f"{PULLS_DIR}/{repo.name}",
            f"{repo.path}/pulls",
            {"state": "closed", "base": repo.default_branch},
        )
        for pull in _merged(pulls, repo, since):
            source.read_list(
                f"{REVIEWS_DIR}/{repo.name}/{pull.number}",
                f"{repo.path}/pulls/{pull.number}/reviews",
                {},
            )


def page_name(list_name: str, number: int, *, failed: bool = False) -> str:
    """A live page's payload name: ``members.page-001.json``, or ``….failed`` for a failure."""
    return _pages.page_name(list_name, number, failed=failed)


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Records from the payloads of either layout; tokens are judged expired at the moment
    they were collected (``config.moment()``)."""
    return _read(payloads, config, config.moment()).records


@dataclass(frozen=True)
class _Read:
    records: Records
    members: int
    populations: dict[str, str]


def _read(payloads: Sequence[RawPayload], config: ConnectorConfig, as_of: datetime) -> _Read:
    index = _export.by_name(payloads)
    grouped = _pages.group(index, PAGE_NAME)

    def stored(list_name: str) -> StoredList | None:
        return _pages.stored_list(index, grouped, list_name)

    selected = _populations(config)
    system = config.system_id
    warnings: list[str] = []
    seen: dict[str, tuple[RawPayload, int]] = {}
    members = _users(stored(MEMBERS_LIST))
    if members is None:
        raise InputError(MEMBERS, "missing from the export")
    accounts = _group_accounts(MEMBER_GROUP, members, stored, seen, system, warnings)
    member_count = len(accounts)
    states = {MEMBERS_POPULATION: _state([members.complete])}

    if OUTSIDE_COLLABORATORS in selected:
        collaborators = _users(stored(COLLABORATORS_LIST))
        states[OUTSIDE_COLLABORATORS] = _state([_complete(collaborators)])
        if collaborators is None:
            warnings.append(_absent(COLLABORATORS_LIST, "outside collaborators"))
        else:
            outside = _group_accounts(
                COLLABORATOR_GROUP, collaborators, stored, seen, system, warnings
            )
            if outside:
                warnings.append(
                    "outside collaborators (third-party access): "
                    + ", ".join(account.username for account in outside)
                )
            accounts += outside

    credentials: list[Credential] = []
    applications: list[Application] = []
    if PERSONAL_ACCESS_TOKENS in selected:
        tokens = stored(TOKENS_LIST)
        states[PERSONAL_ACCESS_TOKENS] = _state([_complete(tokens)])
        if tokens is None:
            warnings.append(_absent(TOKENS_LIST, "fine-grained personal access tokens"))
        else:
            _not_whole(tokens, "fine-grained personal access tokens", warnings)
            credentials += _tokens(tokens, system, as_of, warnings)
    if INSTALLATIONS in selected:
        installations = stored(INSTALLATIONS_LIST)
        states[INSTALLATIONS] = _state([_complete(installations)])
        if installations is None:
            warnings.append(_absent(INSTALLATIONS_LIST, "GitHub App installations"))
        else:
            _not_whole(installations, "GitHub App installations", warnings)
            for credential, application in _installations(installations, system, warnings):
                credentials.append(credential)
                applications.append(application)

    changes: list[Change] = []
    protections: list[BranchProtection] = []
    per_repo = [p for p in (DEPLOY_KEYS, CHANGES) if p in selected]
    repos_list = stored(REPOS_LIST) if per_repo else None
    if per_repo and repos_list is None:
        warnings.append(_absent(REPOS_LIST, "deploy keys and changes"))
        states.update(dict.fromkeys(per_repo, "absent"))
    elif repos_list is not None:
        _not_whole(repos_list, "repositories", warnings)
        repos = _chosen(_repositories(repos_list.payloads), config, warnings)
        since = _since(config)
        if DEPLOY_KEYS in selected:
            keys, parts = _deploy_keys(repos, stored, system, warnings)
            credentials += keys
            states[DEPLOY_KEYS] = _state([repos_list.complete, *parts])
        if CHANGES in selected:
            changes, protections, parts = _changes(repos, stored, index, since, system, warnings)
            states[CHANGES] = _state([repos_list.complete, *parts])
    states.update((p, "skipped") for p in POPULATIONS if p not in selected)

    records = Records(
        accounts=tuple(accounts),
        credentials=tuple(credentials),
        changes=tuple(changes),
        applications=tuple(applications),
        branch_protections=tuple(protections),
        warnings=tuple(warnings),
    )
    return _Read(records, member_count, {p: states[p] for p in (MEMBERS_POPULATION, *POPULATIONS)})


# --- accounts ---------------------------------------------------------------------------------


Entry = tuple[RawPayload, int, str, dict[str, Any]]
"""One user of a list: the payload holding it, its index there, its login and the object."""


@dataclass(frozen=True)
class _MemberList:
    """One list of users as stored: a single export file, or live pages concatenated in order."""

    name: str
    """How messages name it: ``members.json`` or ``members.page-*.json``."""
    entries: tuple[Entry, ...]
    paged: bool
    complete: bool
    """False when a page failed, so users beyond the pages read are not known."""


@dataclass(frozen=True)
class _Group:
    """Members or outside collaborators: their list, its filtered lists and how to name them."""

    one: str
    many: str
    users: str
    two_factor: str
    admins: str | None
    """The list of owners; None when the group cannot hold any, so privilege stays unknown."""


MEMBER_GROUP = _Group("member", "members", MEMBERS_LIST, TWO_FACTOR_LIST, ADMIN_LIST)
COLLABORATOR_GROUP = _Group(
    "outside collaborator",
    "outside collaborators",
    COLLABORATORS_LIST,
    COLLABORATORS_2FA_LIST,
    None,
)


@dataclass(frozen=True)
class _Subset:
    """Lower-cased logins of a filtered list, and whether the list was read to the end."""

    name: str
    logins: frozenset[str]
    complete: bool


def _group_accounts(
    group: _Group,
    users: _MemberList,
    stored: Callable[[str], StoredList | None],
    seen: dict[str, tuple[RawPayload, int]],
    system: str,
    warnings: list[str],
) -> list[Account]:
    """The group's accounts; a login seen before, in this group or another, is refused."""
    logins: set[str] = set()
    for payload, position, login, _ in users.entries:
        key = login.lower()
        if key in seen:
            other, other_position = seen[key]
            at = f"[{other_position}]" if other is payload else f"{other.name}[{other_position}]"
            raise InputError(
                payload.source, f"[{position}].login: duplicate '{login}' (also at {at})"
            )
        seen[key] = (payload, position)
        logins.add(key)
    if not users.paged and len(users.entries) in PAGE_SIZES:
        warnings.append(
            f"{users.name}: holds exactly {len(users.entries)} {group.many}, a full page; "
            "the export may be missing further pages"
        )
    if not users.complete:
        warnings.append(
            f"{users.name}: not read to the end; only the {group.many} on the pages read are listed"
        )

    disabled = _subset(_users(stored(group.two_factor)), users, logins)
    admins = None if group.admins is None else _subset(_users(stored(group.admins)), users, logins)
    filtered = [(disabled, group.two_factor, "MFA")]
    if group.admins is not None:
        filtered.append((admins, group.admins, "privilege"))
    for subset, list_name, fact in filtered:
        if subset is None:
            warnings.append(
                f"{list_name}.json not in the export; {fact} is unknown for every {group.one}"
            )
        elif not subset.complete:
            warnings.append(
                f"{subset.name}: not read to the end; {fact} is unknown for {group.many} not in it"
            )

    accounts: list[Account] = []
    for payload, position, login, user in users.entries:
        user_type = user.get("type")
        kind = KIND_BY_TYPE.get(user_type if isinstance(user_type, str) else "")
        if kind is None:
            kind = AccountKind.UNKNOWN
            warnings.append(
                f"{payload.name}: [{position}] ({login}): unrecognised type "
                f"{user_type!r}; account kind is unknown"
            )
        mfa = _listed(login, disabled, listed=Tri.NO, unlisted=Tri.YES)
        accounts.append(
            Account(
                system_id=system,
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
                privileged=(
                    Tri.UNKNOWN
                    if group.admins is None
                    else _listed(login, admins, listed=Tri.YES, unlisted=Tri.NO)
                ),
            )
        )
    return accounts


def _users(stored: StoredList | None) -> _MemberList | None:
    if stored is None:
        return None
    entries: list[Entry] = []
    for payload in stored.payloads:
        users = _export.load_json_array_of_objects(payload, "users")
        for position, user in enumerate(users):
            login = _export.required_string(payload, user, f"[{position}]", "login")
            entries.append((payload, position, login, user))
    return _MemberList(stored.name, tuple(entries), stored.paged, stored.complete)


def _subset(
    filtered: _MemberList | None, users: _MemberList, logins: Collection[str]
) -> _Subset | None:
    """A filtered list's logins, each of which must be in ``users`` when that was read in full."""
    if filtered is None:
        return None
    listed: set[str] = set()
    for payload, position, login, _ in filtered.entries:
        if login.lower() not in logins:
            if not users.complete:
                continue
            raise InputError(
                payload.source,
                f"[{position}].login: '{login}' is not in {users.name}; the export is "
                "inconsistent (were the files fetched at different times?)",
            )
        listed.add(login.lower())
    return _Subset(filtered.name, frozenset(listed), filtered.complete)


def _listed(login: str, subset: _Subset | None, *, listed: Tri, unlisted: Tri) -> Tri:
    """``listed`` when the list names the login; ``unlisted`` only when it was read in full."""
    if subset is None:
        return Tri.UNKNOWN
    if login.lower() in subset.logins:
        return listed
    return unlisted if subset.complete else Tri.UNKNOWN


# --- credentials ------------------------------------------------------------------------------


Item = tuple[RawPayload, str, Mapping[str, Any]]
"""One object of a list: the payload holding it, its path there (``[3]``) and the object."""


def _items(stored: StoredList, what: str, key: str | None = None) -> list[Item]:
    """The objects of every body of a list: the body itself, or the array at ``key`` in it."""
    items: list[Item] = []
    for payload in stored.payloads:
        found: Any = None
        if key is None:
            found = _export.load_json_array_of_objects(payload, what)
        else:
            document = _export.load_json(payload)
            if not isinstance(document, dict):
                raise InputError(
                    payload.source,
                    f"expected a JSON object with {key}, got {_export.json_kind(document)}",
                )
            found = document.get(key)
            if not isinstance(found, list):
                raise InputError(
                    payload.source,
                    f"{key}: expected an array of {what}, got {_export.json_kind(found)}",
                )
        for position, item in enumerate(found):
            path = f"{key or ''}[{position}]"
            if not isinstance(item, dict):
                raise InputError(
                    payload.source, f"{path}: expected an object, got {_export.json_kind(item)}"
                )
            items.append((payload, path, item))
    return items


def _tokens(
    stored: StoredList, system: str, as_of: datetime, warnings: list[str]
) -> list[Credential]:
    credentials = []
    for payload, path, token in _items(stored, "fine-grained personal access tokens"):
        token_id = _required_id(payload, token, path, "id")
        owner = _export.json_object(payload, token, path, "owner")
        if owner is None:
            raise InputError(payload.source, f"{path}.owner: missing")
        login = _export.required_string(payload, owner, f"{path}.owner", "login")
        expires_at = _export.json_timestamp(payload, token, path, "token_expires_at")
        expired = _export.json_bool(payload, token, path, "token_expired")
        if "token_expires_at" not in token:
            expiry = Tri.UNKNOWN
        else:
            expiry = Tri.NO if expires_at is None else Tri.YES
        credentials.append(
            Credential(
                system_id=system,
                credential_id=f"fine_grained_pat:{token_id}",
                kind="fine_grained_pat",
                account_id=login,
                active=not expired and (expires_at is None or expires_at > as_of),
                created=None,
                last_rotated=None,
                last_used=_export.json_timestamp(payload, token, path, "token_last_used_at"),
                last_used_source=TOKEN_USED if "token_last_used_at" in token else None,
                expires_at=expires_at,
                expiry=expiry,
                scopes=_scopes(payload, token, path),
                owner=login,
                broad=_breadth(payload, token, path, warnings),
            )
        )
    return credentials


def _installations(
    stored: StoredList, system: str, warnings: list[str]
) -> list[tuple[Credential, Application]]:
    """Each installation as a third-party grant, and as an application people reach."""
    installed = []
    for payload, path, installation in _items(stored, "installations", INSTALLATIONS_LIST):
        installation_id = _required_id(payload, installation, path, "id")
        slug = _export.required_string(payload, installation, path, "app_slug")
        active = _export.json_timestamp(payload, installation, path, "suspended_at") is None
        credential = Credential(
            system_id=system,
            credential_id=f"app_installation:{installation_id}",
            kind="app_installation",
            account_id=slug,
            active=active,
            created=_export.json_timestamp(payload, installation, path, "created_at"),
            last_rotated=None,
            last_used=None,
            last_used_source=None,
            expiry=Tri.NO,
            scopes=_scopes(payload, installation, path),
            third_party=slug,
            broad=_breadth(payload, installation, path, warnings),
        )
        installed.append((credential, Application(system, installation_id, slug, active)))
    return installed


def _deploy_keys(
    repos: Sequence[_Repo],
    stored: Callable[[str], StoredList | None],
    system: str,
    warnings: list[str],
) -> tuple[list[Credential], list[bool | None]]:
    """Every repository's deploy keys, and for each whether its list was read in full."""
    credentials: list[Credential] = []
    parts: list[bool | None] = []
    missing: list[str] = []
    for repo in repos:
        keys = stored(f"{DEPLOY_KEYS_DIR}/{repo.name}")
        parts.append(_complete(keys))
        if keys is None:
            missing.append(repo.name)
            continue
        _not_whole(keys, f"deploy keys of {repo.full_name}", warnings)
        for payload, path, key in _items(keys, "deploy keys"):
            key_id = _required_id(payload, key, path, "id")
            created = _export.json_timestamp(payload, key, path, "created_at")
            read_only = _export.json_bool(payload, key, path, "read_only")
            credentials.append(
                Credential(
                    system_id=system,
                    credential_id=f"deploy_key:{key_id}",
                    kind="deploy_key",
                    account_id=repo.full_name,
                    active=_export.json_bool(payload, key, path, "enabled") is not False,
                    created=created,
                    last_rotated=created,
                    last_used=_export.json_timestamp(payload, key, path, "last_used"),
                    last_used_source=DEPLOY_KEY_USED if "last_used" in key else None,
                    expiry=Tri.NO,
                    scopes=() if read_only is None else ("read",) if read_only else WRITE,
                    owner=_export.optional_string(payload, key, path, "added_by"),
                )
            )
    if missing:
        warnings.append(_absent_per_repo("deploy keys", DEPLOY_KEYS_DIR, missing))
    return credentials, parts


def _scopes(payload: RawPayload, item: Mapping[str, Any], path: str) -> tuple[str, ...]:
    """``permissions`` as ``name:level``, or ``group:name:level`` where they are grouped."""
    permissions = _export.json_object(payload, item, path, "permissions") or {}
    scopes: list[str] = []
    for name, value in permissions.items():
        inner = value if isinstance(value, dict) else {"": value}
        for part, level in inner.items():
            if not isinstance(level, str):
                at = f"{path}.permissions.{name}" + (f".{part}" if part else "")
                raise InputError(
                    payload.source, f"{at}: expected a string, got {_export.json_kind(level)}"
                )
            scopes.append(":".join(p for p in (name, part, level) if p))
    return tuple(sorted(scopes))


def _breadth(payload: RawPayload, item: Mapping[str, Any], path: str, warnings: list[str]) -> Tri:
    selection = _export.json_str(payload, item, path, "repository_selection")
    broad = BREADTH.get(selection or "")
    if broad is None:
        warnings.append(
            f"{payload.name}: {path}: unrecognised repository_selection {selection!r}; "
            "breadth is unknown"
        )
        return Tri.UNKNOWN
    return broad


def _required_id(payload: RawPayload, item: Mapping[str, Any], path: str, key: str) -> str:
    """A required id, a number or a string, as text."""
    value = _export.optional_string(payload, item, path, key)
    if value is None:
        raise InputError(payload.source, f"{path}.{key}: missing")
    return value


# --- repositories and changes -----------------------------------------------------------------


@dataclass(frozen=True)
class _Repo:
    name: str
    full_name: str
    default_branch: str | None

    @property
    def path(self) -> str:
        """The repository's API path, ``/repos/{owner}/{name}``."""
        return "/repos/" + "/".join(quote(part, safe="") for part in self.full_name.split("/"))


@dataclass(frozen=True)
class _Pull:
    number: str
    title: str
    author: str | None
    """The login of who opened it, lower-cased; None when GitHub no longer knows them."""
    merged_at: datetime
    commit: str
    branch: str


def _repositories(payloads: Sequence[RawPayload]) -> list[_Repo]:
    repos = []
    for payload in payloads:
        for position, repo in enumerate(_export.load_json_array_of_objects(payload, "repos")):
            path = f"[{position}]"
            name = _export.required_string(payload, repo, path, "name")
            full_name = _export.required_string(payload, repo, path, "full_name")
            if full_name.count("/") != 1 or "/" in name:
                raise InputError(
                    payload.source, f"{path}.full_name: expected 'owner/name', got {full_name!r}"
                )
            branch = _export.json_str(payload, repo, path, "default_branch")
            repos.append(_Repo(name, full_name, branch or None))
    return repos


def _chosen(
    repos: Sequence[_Repo], config: ConnectorConfig, warnings: list[str] | None = None
) -> list[_Repo]:
    """The repositories the ``repositories`` setting names (by name or full name), or all."""
    names = config.typed(GitHubSettings).repositories
    if names is None:
        return list(repos)
    wanted = {name.lower() for name in names}
    chosen = [r for r in repos if r.name.lower() in wanted or r.full_name.lower() in wanted]
    found = {r.name.lower() for r in chosen} | {r.full_name.lower() for r in chosen}
    if warnings is not None and (unknown := sorted(wanted - found)):
        warnings.append(f"setting 'repositories' names repositories not read: {', '.join(unknown)}")
    return chosen


def _merged(payloads: Sequence[RawPayload], repo: _Repo, since: datetime | None) -> list[_Pull]:
    """Pull requests merged into the default branch (since ``since``), as listed."""
    pulls = []
    for payload in payloads:
        for position, pull in enumerate(_export.load_json_array_of_objects(payload, "pulls")):
            path = f"[{position}]"
            merged_at = _export.json_timestamp(payload, pull, path, "merged_at")
            if merged_at is None or (since is not None and merged_at < since):
                continue
            base = _export.json_object(payload, pull, path, "base")
            if base is None:
                raise InputError(payload.source, f"{path}.base: missing")
            branch = _export.required_string(payload, base, f"{path}.base", "ref")
            if branch != repo.default_branch:
                continue
            user = _export.json_object(payload, pull, path, "user")
            author = (
                None if user is None else _export.json_str(payload, user, f"{path}.user", "login")
            )
            pulls.append(
                _Pull(
                    number=_required_id(payload, pull, path, "number"),
                    title=_export.optional_string(payload, pull, path, "title") or "",
                    author=author.lower() if author else None,
                    merged_at=merged_at,
                    commit=_export.required_string(payload, pull, path, "merge_commit_sha"),
                    branch=branch,
                )
            )
    return pulls


def _changes(
    repos: Sequence[_Repo],
    stored: Callable[[str], StoredList | None],
    index: Mapping[str, RawPayload],
    since: datetime | None,
    system: str,
    warnings: list[str],
) -> tuple[list[Change], list[BranchProtection], list[bool | None]]:
    """Merged pull requests with their reviews, and the default branches' protection."""
    changes: list[Change] = []
    protections: list[BranchProtection] = []
    parts: list[bool | None] = []
    missing: dict[str, list[str]] = {PROTECTION_DIR: [], RULES_DIR: [], PULLS_DIR: []}
    unprotectable: list[str] = []
    unreviewed: list[str] = []
    for repo in repos:
        if repo.default_branch is None:
            warnings.append(f"{repo.full_name}: no default branch listed; changes not read")
            continue
        protection = index.get(f"{PROTECTION_DIR}/{repo.name}.json")
        failed = f"{PROTECTION_DIR}/{repo.name}.failed" in index
        parts.append(False if failed else None if protection is None else True)
        if protection is None and not failed:
            missing[PROTECTION_DIR].append(repo.name)
        classic = None if protection is None else _protection(protection, repo, system)
        if protection is not None and _plan_without_protection(_message(protection)):
            unprotectable.append(repo.full_name)
            ruled: _RulesetRules | None = _RulesetRules(False, 0, Tri.NO)  # nor rulesets
        else:
            rules = stored(f"{RULES_DIR}/{repo.name}")
            parts.append(_complete(rules))
            if rules is None:
                missing[RULES_DIR].append(repo.name)
            ruled = None if rules is None or not rules.complete else _ruleset_rules(rules)
        protections.append(_combined(classic, ruled, repo, system))
        pulls = stored(f"{PULLS_DIR}/{repo.name}")
        parts.append(_complete(pulls))
        if pulls is None:
            missing[PULLS_DIR].append(repo.name)
            continue
        _not_whole(pulls, f"closed pull requests of {repo.full_name}", warnings)
        for pull in _merged(pulls.payloads, repo, since):
            reviews = stored(f"{REVIEWS_DIR}/{repo.name}/{pull.number}")
            parts.append(_complete(reviews))
            if reviews is None or not reviews.complete:
                unreviewed.append(f"{repo.full_name}#{pull.number}")
                continue
            changes.append(
                Change(
                    system_id=system,
                    repository=repo.full_name,
                    branch=pull.branch,
                    commit=pull.commit,
                    subject=pull.title,
                    committed_at=pull.merged_at,
                    authors=(pull.author,) if pull.author else (),
                    reviewers=_approvers(reviews, pull),
                )
            )
    for directory, what in (
        (PROTECTION_DIR, "branch protection"),
        (RULES_DIR, "branch rulesets"),
        (PULLS_DIR, "pull requests"),
    ):
        if missing[directory]:
            warnings.append(_absent_per_repo(what, directory, missing[directory]))
    if unprotectable:
        warnings.append(
            f"{len(unprotectable)} private repositories on a plan without branch protection or "
            f"rulesets (GitHub: '{PLAN_WITHOUT_PROTECTION}'): {', '.join(unprotectable)}"
        )
    if unreviewed:
        warnings.append(
            f"reviews of {len(unreviewed)} merged pull request(s) not read in full, so they are "
            f"left out: {', '.join(unreviewed)}"
        )
    return changes, protections, parts


@dataclass(frozen=True)
class _RulesetRules:
    """What the active rulesets of a branch require, all of them together."""

    protected: bool
    approvals: int
    dismiss_stale: Tri


def _ruleset_rules(rules: StoredList) -> _RulesetRules:
    """The rules GitHub lists for a branch: any rule protects it; ``pull_request`` rules say
    how many approving reviews a merge needs and whether a push dismisses them."""
    approvals = 0
    dismiss: list[bool | None] = []
    items = _items(rules, "branch rules")
    for payload, path, rule in items:
        if _export.required_string(payload, rule, path, "type") != "pull_request":
            continue
        parameters = _export.json_object(payload, rule, path, "parameters") or {}
        at = f"{path}.parameters"
        count = parameters.get("required_approving_review_count", 0)
        if isinstance(count, bool) or not isinstance(count, int):
            raise InputError(
                payload.source,
                f"{at}.required_approving_review_count: expected a number, "
                f"got {_export.json_kind(count)}",
            )
        approvals = max(approvals, count)
        dismiss.append(_export.json_bool(payload, parameters, at, "dismiss_stale_reviews_on_push"))
    dismiss_stale = Tri.YES if True in dismiss else Tri.UNKNOWN if None in dismiss else Tri.NO
    return _RulesetRules(bool(items), approvals, dismiss_stale)


def _combined(
    classic: BranchProtection | None, ruled: _RulesetRules | None, repo: _Repo, system: str
) -> BranchProtection:
    """The classic rule and the rulesets as GitHub enforces them, together. What one of them
    did not say, because it was not read, stays unknown; with neither read, so does all of it."""
    branch = repo.default_branch or ""
    if ruled is not None and ruled.protected and (classic is None or classic.protected != Tri.YES):
        known = classic is not None  # and protecting nothing more
        return BranchProtection(
            system,
            repo.full_name,
            branch,
            Tri.YES,
            ruled.approvals if ruled.approvals or known else None,
            Tri.UNKNOWN,  # the rulesets' bypass lists are not read
            ruled.dismiss_stale if ruled.dismiss_stale == Tri.YES or known else Tri.UNKNOWN,
        )
    if classic is None or (ruled is None and classic.protected != Tri.YES):
        unknown = Tri.UNKNOWN
        return BranchProtection(system, repo.full_name, branch, unknown, None, unknown, unknown)
    if ruled is None:  # the classic rule protects; rulesets not read could only add to it
        return replace(
            classic,
            required_approvals=classic.required_approvals or None,
            dismiss_stale_reviews=(
                Tri.YES if classic.dismiss_stale_reviews == Tri.YES else Tri.UNKNOWN
            ),
        )
    if not ruled.protected:
        return classic
    approvals = max(classic.required_approvals or 0, ruled.approvals)
    pair = (classic.dismiss_stale_reviews, ruled.dismiss_stale)
    # Admins are held to the classic rule; to what a ruleset adds on top, only if its bypass
    # list (not read) leaves them out.
    adds = ruled.approvals > (classic.required_approvals or 0) or (
        ruled.dismiss_stale == Tri.YES and classic.dismiss_stale_reviews != Tri.YES
    )
    held = classic.enforce_admins == Tri.YES and not adds
    return replace(
        classic,
        required_approvals=approvals if approvals or classic.required_approvals == 0 else None,
        enforce_admins=Tri.YES if held else Tri.UNKNOWN,
        dismiss_stale_reviews=(
            Tri.YES if Tri.YES in pair else Tri.NO if pair == (Tri.NO, Tri.NO) else Tri.UNKNOWN
        ),
    )


def _approvers(reviews: StoredList, pull: _Pull) -> tuple[str, ...]:
    """Lower-cased logins that approved before the merge, the author aside."""
    approvers: set[str] = set()
    for payload, path, review in _items(reviews, "reviews"):
        if _export.json_str(payload, review, path, "state") != "APPROVED":
            continue
        user = _export.json_object(payload, review, path, "user")
        login = None if user is None else _export.json_str(payload, user, f"{path}.user", "login")
        submitted = _export.json_timestamp(payload, review, path, "submitted_at")
        if (
            login
            and login.lower() != pull.author
            and (submitted is None or submitted <= pull.merged_at)
        ):
            approvers.add(login.lower())
    return tuple(sorted(approvers))


def _protection(payload: RawPayload, repo: _Repo, system: str) -> BranchProtection:
    """The classic protection rule of the default branch, or the fact that it has none."""
    branch = repo.default_branch or ""
    document = _export.load_json(payload)
    if not isinstance(document, dict):
        raise InputError(
            payload.source, f"expected a JSON object, got {_export.json_kind(document)}"
        )
    message = _export.json_str(payload, document, "", "message")
    if message == NOT_PROTECTED or _plan_without_protection(message):
        return BranchProtection(system, repo.full_name, branch, Tri.NO, 0, Tri.NO, Tri.NO)
    if message is not None:
        raise InputError(
            payload.source, f".message: {message!r}; expected branch protection settings"
        )
    enforce = _export.json_object(payload, document, "", "enforce_admins")
    reviews = _export.json_object(payload, document, "", "required_pull_request_reviews")
    approvals: int | None = 0
    dismiss = Tri.NO
    if reviews is not None:
        count = reviews.get("required_approving_review_count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise InputError(
                payload.source,
                ".required_pull_request_reviews.required_approving_review_count: expected a "
                f"number, got {_export.json_kind(count)}",
            )
        approvals = count
        dismiss = _export.tri(
            _export.json_bool(
                payload, reviews, ".required_pull_request_reviews", "dismiss_stale_reviews"
            )
        )
    return BranchProtection(
        system_id=system,
        repository=repo.full_name,
        branch=branch,
        protected=Tri.YES,
        required_approvals=approvals,
        enforce_admins=(
            Tri.NO
            if enforce is None
            else _export.tri(_export.json_bool(payload, enforce, ".enforce_admins", "enabled"))
        ),
        dismiss_stale_reviews=dismiss,
    )


# --- shared -----------------------------------------------------------------------------------


def _complete(stored: StoredList | _MemberList | None) -> bool | None:
    """None when the list is absent; else whether it was read to the end."""
    return None if stored is None else stored.complete


def _state(parts: Sequence[bool | None]) -> str:
    """``absent`` when nothing was read, ``read`` when everything was, ``partial`` otherwise."""
    if all(part is None for part in parts):
        return "absent"
    return "read" if all(part is True for part in parts) else "partial"


def _absent(list_name: str, what: str) -> str:
    return f"{list_name}.json not in the export; {what} were not read"


def _absent_per_repo(what: str, directory: str, repos: Sequence[str]) -> str:
    return (
        f"{what} of {len(repos)} repositories not in the export ({directory}/<repo>.json), "
        f"so not read: {', '.join(repos)}"
    )


def _not_whole(stored: StoredList, what: str, warnings: list[str]) -> None:
    if not stored.complete:
        warnings.append(f"{stored.name}: not read to the end; only the {what} read are listed")


def _plan_without_protection(message: str | None) -> bool:
    return message is not None and message.startswith(PLAN_WITHOUT_PROTECTION)


def _message(payload: RawPayload) -> str | None:
    """GitHub's error ``message``, if the body is an error object."""
    try:
        document = _export.load_json(payload)
    except InputError:
        return None
    message = document.get("message") if isinstance(document, dict) else None
    return message if isinstance(message, str) else None


def _populations(config: ConnectorConfig) -> tuple[str, ...]:
    chosen = config.typed(GitHubSettings).populations
    return POPULATIONS if chosen is None else chosen


def _since(config: ConnectorConfig) -> datetime | None:
    return config.typed(GitHubSettings).since


def _filters(config: ConnectorConfig) -> dict[str, Any]:
    """The settings that narrow what was read, for the manifest."""
    filters: dict[str, Any] = {}
    if (names := config.typed(GitHubSettings).repositories) is not None:
        filters["repositories"] = list(names)
    if (since := _since(config)) is not None:
        filters["since"] = since.isoformat()
    return filters


def _org(config: ConnectorConfig) -> str:
    org = config.settings.get("org")
    if not isinstance(org, str) or not org.strip():
        raise InputError(f"system {config.system_id}", "connector setting 'org' is required")
    return org.strip()
