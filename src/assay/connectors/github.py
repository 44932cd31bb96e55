"""GitHub organisation members and their two-factor status, from the REST API or saved responses.

Three lists are read, all from ``GET /orgs/{org}/members`` (REST API version 2022-11-28):

- ``members``: every member (required);
- ``members-2fa_disabled``: ``?filter=2fa_disabled``, members without two-factor authentication
  (optional; without it MFA is unknown);
- ``members-admin``: ``?role=admin``, the organisation's owners (optional; without it
  privilege is unknown).

Export mode (``mode: export``). Settings: ``path`` — the export directory; ``org`` — the
organisation's login. The directory holds one response body per list, ``members.json``,
``members-2fa_disabled.json`` and ``members-admin.json``: each a JSON array of simple-user
objects, which for a larger organisation must hold every page in that one array.

Live mode (``mode: live``). Settings: ``org``; ``base_url`` (optional, default
``https://api.github.com``; GitHub Enterprise Server: ``https://HOST/api/v3``); secret ``token``.
Least privilege: a fine-grained token with the organisation permission *Members: read*, or a
classic token with only ``read:org``. GitHub gives the ``2fa_disabled`` filter to organisation
owners alone (anyone else gets 422 "Only owners can use this filter"), so the token must belong
to an owner; it needs no write scope. Each list is followed by its ``Link`` header to the last
page, 100 members a page, and every page is kept as its own payload,
``members.page-001.json``, ``members-2fa_disabled.page-001.json``, … with the URL as source.
When a page still fails after the retries, the pages already read are kept, the failure is kept
as ``{list}.page-NNN.failed`` (the last error body, as received) and the collection is marked
incomplete. ``parse`` reads either layout and gives the same accounts for the same members.

MFA: a member in the ``2fa_disabled`` list has no two-factor method; every other member has one,
and GitHub asks for it at every sign-in of a user who has it, so registration and enforcement
take the same value. When that list was not read to the end, only the members it names are
known (no); every other member is unknown, never "enabled". The admin list is read the same
way. Logins are compared case-insensitively, as GitHub does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from assay.connectors import _export, _pages
from assay.connectors._http import ApiClient
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.errors import InputError
from assay.inventory.records import Account, AccountKind, AccountStatus, Records, Tri

MEMBERS_LIST = "members"
TWO_FACTOR_LIST = "members-2fa_disabled"
ADMIN_LIST = "members-admin"
LIST_QUERIES: Mapping[str, Mapping[str, str]] = {
    MEMBERS_LIST: {},
    TWO_FACTOR_LIST: {"filter": "2fa_disabled"},
    ADMIN_LIST: {"role": "admin"},
}
"""Each list's query on ``/orgs/{org}/members``; its name is also its payloads' name stem."""

MEMBERS = f"{MEMBERS_LIST}.json"
TWO_FACTOR_DISABLED = f"{TWO_FACTOR_LIST}.json"
ADMINS = f"{ADMIN_LIST}.json"

PAGE_NAME = _pages.page_pattern(r"members(?:-2fa_disabled|-admin)?")

LIVE_MODE = "live"
MODES = (_export.EXPORT_MODE, LIVE_MODE)
DEFAULT_BASE_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
PER_PAGE = 100

KIND_BY_TYPE = {"User": AccountKind.HUMAN, "Bot": AccountKind.SERVICE}
PAGE_SIZES = frozenset({30, 100})
"""GitHub's default and largest page sizes: a list this long may be one page of several."""


class GitHubConnector:
    """Reads a GitHub organisation's members live or from an export directory."""

    type: str = "github"
    version: str = "1"

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        """How to wait between retries; tests record the delays instead of waiting."""

    def collect(self, config: ConnectorConfig) -> Collected:
        if config.mode == LIVE_MODE:
            return self._collect_live(config)
        if config.mode != _export.EXPORT_MODE:
            raise _export.unsupported_mode(config, self.type, MODES)
        org = _org(config)
        started_at = datetime.now(UTC)
        directory = _export.require_directory(config.path())
        payloads = [_export.read_payload(directory / MEMBERS, MEMBERS)]
        for name in (TWO_FACTOR_DISABLED, ADMINS):
            if (directory / name).exists():
                payloads.append(_export.read_payload(directory / name, name))
        records = parse(payloads, config)
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            payloads,
            records,
            {
                "path": str(directory),
                "org": org,
                "members": len(records.accounts),
                "files": [payload.name for payload in payloads],
            },
        )

    def _collect_live(self, config: ConnectorConfig) -> Collected:
        org = _org(config)
        token = config.secrets.get("token")
        if not token:
            raise InputError(
                f"system {config.system_id}",
                f"connector '{self.type}' in mode '{LIVE_MODE}' needs the secret 'token' "
                "(a GitHub token that can read the organisation's members)",
            )
        base_url = _base_url(config)
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "Authorization": f"Bearer {token}",
        }
        started_at = datetime.now(UTC)
        payloads: list[RawPayload] = []
        pages: dict[str, int] = {}
        failures: list[str] = []
        with ApiClient(base_url, headers, sleep=self._sleep) as client:
            for list_name, query in LIST_QUERIES.items():
                read, failure = _pages.fetch_linked(
                    client,
                    list_name,
                    f"/orgs/{quote(org, safe='')}/members",
                    {**query, "per_page": PER_PAGE},
                    payloads,
                )
                pages[list_name] = len(read)
                if failure is not None:
                    failures.append(failure)
        records = parse(payloads, config)
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            payloads,
            records,
            {
                "org": org,
                "base_url": base_url,
                "per_page": PER_PAGE,
                "pages": pages,
                "members": len(records.accounts),
            },
            complete=not failures,
            incomplete_reason="; ".join(failures) or None,
        )


def page_name(list_name: str, number: int, *, failed: bool = False) -> str:
    """A live page's payload name: ``members.page-001.json``, or ``….failed`` for a failure."""
    return _pages.page_name(list_name, number, failed=failed)


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Accounts from the payloads of either layout (named as ``collect`` names them)."""
    lists = _member_lists(payloads)
    members = lists.get(MEMBERS_LIST)
    if members is None:
        raise InputError(MEMBERS, "missing from the export")
    warnings: list[str] = []
    first_seen: dict[str, tuple[RawPayload, int]] = {}
    for payload, position, login, _ in members.entries:
        key = login.lower()
        if key in first_seen:
            other, other_position = first_seen[key]
            at = f"[{other_position}]" if other is payload else f"{other.name}[{other_position}]"
            raise InputError(
                payload.source, f"[{position}].login: duplicate '{login}' (also at {at})"
            )
        first_seen[key] = (payload, position)
    if not members.paged and len(members.entries) in PAGE_SIZES:
        warnings.append(
            f"{members.name}: holds exactly {len(members.entries)} members, a full page; "
            "the export may be missing further pages"
        )
    if not members.complete:
        warnings.append(
            f"{members.name}: not read to the end; only the members on the pages read are listed"
        )

    disabled = _subset(lists.get(TWO_FACTOR_LIST), members, first_seen)
    admins = _subset(lists.get(ADMIN_LIST), members, first_seen)
    for subset, name, fact in (
        (disabled, TWO_FACTOR_DISABLED, "MFA"),
        (admins, ADMINS, "privilege"),
    ):
        if subset is None:
            warnings.append(f"{name} not in the export; {fact} is unknown for every member")
        elif not subset.complete:
            warnings.append(
                f"{subset.name}: not read to the end; {fact} is unknown for members not in it"
            )

    accounts: list[Account] = []
    for payload, position, login, member in members.entries:
        member_type = member.get("type")
        kind = KIND_BY_TYPE.get(member_type if isinstance(member_type, str) else "")
        if kind is None:
            kind = AccountKind.UNKNOWN
        if kind is AccountKind.UNKNOWN:
            warnings.append(
                f"{payload.name}: [{position}] ({login}): unrecognised type "
                f"{member_type!r}; account kind is unknown"
            )
        mfa = _listed(login, disabled, listed=Tri.NO, unlisted=Tri.YES)
        privileged = _listed(login, admins, listed=Tri.YES, unlisted=Tri.NO)
        accounts.append(
            Account(
                system_id=config.system_id,
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
                privileged=privileged,
            )
        )
    return Records(accounts=tuple(accounts), warnings=tuple(warnings))


Entry = tuple[RawPayload, int, str, dict[str, Any]]
"""One user of a list: the payload holding it, its index there, its login and the object."""


@dataclass(frozen=True)
class _MemberList:
    """One list as stored: a single export file, or live pages concatenated in order."""

    name: str
    """How messages name it: ``members.json`` or ``members.page-*.json``."""
    entries: tuple[Entry, ...]
    paged: bool
    complete: bool
    """False when a page failed, so users beyond the pages read are not known."""


@dataclass(frozen=True)
class _Subset:
    """Lower-cased logins of a filtered list, and whether the list was read to the end."""

    name: str
    logins: frozenset[str]
    complete: bool


def _member_lists(payloads: Sequence[RawPayload]) -> dict[str, _MemberList]:
    index = _export.by_name(payloads)
    grouped = _pages.group(index, PAGE_NAME)
    lists: dict[str, _MemberList] = {}
    for list_name in LIST_QUERIES:
        stored = _pages.stored_list(index, grouped, list_name)
        if stored is not None:
            lists[list_name] = _MemberList(
                stored.name, _entries(stored.payloads), stored.paged, stored.complete
            )
    return lists


def _entries(payloads: Sequence[RawPayload]) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    for payload in payloads:
        users = _export.load_json_array_of_objects(payload, "users")
        for position, user in enumerate(users):
            login = _export.required_string(payload, user, f"[{position}]", "login")
            entries.append((payload, position, login, user))
    return tuple(entries)


def _subset(
    filtered: _MemberList | None, members: _MemberList, member_logins: Collection[str]
) -> _Subset | None:
    """A filtered list's logins, each of which must be a member when all members were read."""
    if filtered is None:
        return None
    logins: set[str] = set()
    for payload, position, login, _ in filtered.entries:
        if login.lower() not in member_logins:
            if not members.complete:
                continue
            raise InputError(
                payload.source,
                f"[{position}].login: '{login}' is not in {members.name}; the export is "
                "inconsistent (were the files fetched at different times?)",
            )
        logins.add(login.lower())
    return _Subset(filtered.name, frozenset(logins), filtered.complete)


def _listed(login: str, subset: _Subset | None, *, listed: Tri, unlisted: Tri) -> Tri:
    """``listed`` when the list names the login; ``unlisted`` only when it was read in full."""
    if subset is None:
        return Tri.UNKNOWN
    if login.lower() in subset.logins:
        return listed
    return unlisted if subset.complete else Tri.UNKNOWN


def _org(config: ConnectorConfig) -> str:
    org = config.settings.get("org")
    if not isinstance(org, str) or not org.strip():
        raise InputError(f"system {config.system_id}", "connector setting 'org' is required")
    return org.strip()


def _base_url(config: ConnectorConfig) -> str:
    value = config.settings.get("base_url", DEFAULT_BASE_URL)
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise InputError(
            f"system {config.system_id}",
            "connector setting 'base_url' must be an http(s) URL, e.g. " + DEFAULT_BASE_URL,
        )
    return value.rstrip("/")
