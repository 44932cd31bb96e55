"""Google Workspace users, their 2-Step Verification and admin rights, and the OAuth grants they
gave third-party apps, from the Admin SDK Directory API (v1) or saved responses.

Two endpoints are read: ``GET admin/directory/v1/users?customer=my_customer``, whose body is
``{"users": [...], "nextPageToken": "…"}`` (``nextPageToken`` only while more pages follow), and
``GET admin/directory/v1/users/{userKey}/tokens``, whose body is ``{"items": [...]}``. Google
leaves out an empty array, so a missing ``users`` or ``items`` is read as none.

Export mode (``mode: export``). Setting ``path`` — the export directory, holding either
``users.json`` (one such body holding every user, merged if it was paged) or the live layout's
``users.page-001.json``, ``users.page-002.json``, …; and optionally ``tokens/{userId}.json``, one
tokens body per user, named by the user's ``id``.

Live mode (``mode: live``). Settings: ``base_url`` (optional, default
``https://admin.googleapis.com``); secret ``token``, an OAuth 2.0 access token sent as
``Authorization: Bearer``. Least privilege: the token needs only the scopes
``https://www.googleapis.com/auth/admin.directory.user.readonly`` (users) and
``https://www.googleapis.com/auth/admin.directory.user.security`` (tokens; Google has no
read-only scope for them, and this connector only reads). Obtaining the token — typically a
service account with domain-wide delegation impersonating an administrator — is outside the
connector, and an access token expires within an hour. Users are paged 500 at a time by
``nextPageToken``, sent back as ``pageToken``; each page is kept as ``users.page-NNN.json`` with
its URL as source. Then each *active* user's tokens are read, one call per user, kept as
``tokens/{userId}.json``: a suspended or archived user cannot sign in, so their grants are not
spent on Google's quota. A page or a user's tokens still failing after the retries is kept as a
``….failed`` payload (the last error body, as received) and the collection is incomplete.

Either way the user population is complete only when the last page read has no
``nextPageToken`` — which also catches an export saved from a single page. ``parse`` reads both
layouts and gives the same records for the same data.

Accounts: ``primaryEmail`` is the username; status is *inactive* when ``suspended`` or
``archived`` is true, else *active*. The Directory API gives no time a user was suspended, so
``deactivated_at`` stays unset rather than taken from some other date. MFA registration is
``isEnrolledIn2Sv`` and enforcement ``isEnforcedIn2Sv``; privileged is *yes* for ``isAdmin``
or ``isDelegatedAdmin``, *no* when both are false. A missing flag is *unknown*.
``lastLoginTime`` is the last login; Google reports ``1970-01-01T00:00:00.000Z`` for a user who
never signed in, which is kept as no login with the source ``google:lastLoginTime (never)``
rather than as a login in 1970.

Credentials: one ``oauth_grant`` per token, ``{userId}:{clientId}``, with the granted scopes,
granted to the third party named by the token's ``displayText`` (its ``clientId`` when it has
none). Google gives no dates for a grant, so created, rotated, last used and expiry stay unknown.
A grant is broad (*yes*) when a scope reaches all of Gmail, read-write Drive or the Admin
directory, else *no*.

Applications: each app a token was granted to, once per ``clientId`` (named as its first token
names it), since those are the systems people reach through their Google accounts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

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
    Records,
    Tri,
)

LIST = "users"
EXPORT = f"{LIST}.json"
PAGE_NAME = _pages.page_pattern(re.escape(LIST))
TOKENS_DIR = "tokens"
TOKENS_NAME = re.compile(rf"{TOKENS_DIR}/(?P<user>[^/]+)\.(?P<kind>json|failed)")
USERS_PATH = "/admin/directory/v1/users"

DEFAULT_BASE_URL = "https://admin.googleapis.com"
MAX_RESULTS = 500
"""Google's largest page of users."""

LAST_LOGIN = "lastLoginTime"
LAST_LOGIN_SOURCE = f"google:{LAST_LOGIN}"
NEVER = datetime(1970, 1, 1, tzinfo=UTC)
"""What Google reports as the last login of a user who never signed in."""

CREDENTIAL_KIND = "oauth_grant"
BROAD_SCOPES = ("https://mail.google.com/", "/auth/drive", "admin.directory")
"""Scope fragments giving an app all of a mailbox, of Drive, or of the directory.

``/auth/drive`` is broad only without ``.readonly``.
"""


class GoogleWorkspaceConnector(_api.ApiConnector):
    """Reads a Google Workspace customer's users and OAuth grants live or from an export."""

    type: str = "google_workspace"
    version: str = "1"
    settings: SettingsModel = _api.ApiSettings

    def _collect_export(self, config: ConnectorConfig) -> Collected:
        started_at = datetime.now(UTC)
        directory = _export.require_directory(config.path())
        names = _pages.export_names(directory, {EXPORT}, PAGE_NAME)
        if not names:
            raise InputError(
                str(directory), f"holds neither {EXPORT} nor {LIST}.page-NNN.json files"
            )
        tokens_dir = directory / TOKENS_DIR
        token_names = (
            sorted(
                f"{TOKENS_DIR}/{file.name}"
                for file in tokens_dir.iterdir()
                if file.is_file() and TOKENS_NAME.fullmatch(f"{TOKENS_DIR}/{file.name}")
            )
            if tokens_dir.is_dir()
            else []
        )
        payloads = [_export.read_payload(directory, name) for name in [*names, *token_names]]
        records, snapshot = _read(payloads, config)
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
                "users": len(records.accounts),
                "token_files": len(token_names),
                "applications": len(records.applications),
            },
            complete=not problems,
            incomplete_reason="; ".join(problems) or None,
        )

    def _collect_live(self, config: ConnectorConfig) -> Collected:
        token = _api.token(
            config,
            self.type,
            "an OAuth access token with the admin.directory.user.readonly and "
            "admin.directory.user.security scopes",
        )
        base_url = _api.base_url(config, DEFAULT_BASE_URL)
        started_at = datetime.now(UTC)
        payloads: list[RawPayload] = []
        page_failure: str | None = None
        token_failure: str | None = None
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
        with ApiClient(base_url, headers, sleep=self._sleep) as client:
            params: dict[str, str | int] = {"customer": "my_customer", "maxResults": MAX_RESULTS}
            while True:
                number = len(payloads) + 1
                try:
                    # get_pages follows only Link headers, which Google does not send: its
                    # first page is this request's answer and no further request is made.
                    page = next(client.get_pages(USERS_PATH, params))
                except PageFailed as failed:
                    page_failure = _pages.record_failure(payloads, LIST, number, failed)
                    break
                payload = RawPayload(page_name(number), page.url, page.data)
                payloads.append(payload)
                next_token = _users_body(payload)[1]
                if next_token is None:
                    break
                params["pageToken"] = next_token
            pages = len(payloads) - (page_failure is not None)
            users = _read(payloads, config)[0].accounts
            active = [user.account_id for user in users if user.status is AccountStatus.ACTIVE]
            unread: list[str] = []
            for user_id in active:
                try:
                    got = next(client.get_pages(f"{USERS_PATH}/{quote(user_id, safe='')}/tokens"))
                except PageFailed as failed:
                    name = f"{TOKENS_DIR}/{user_id}.failed"
                    payloads.append(RawPayload(name, failed.url, failed.body))
                    unread.append(f"{user_id} ({failed.url}): {failed.reason}")
                else:
                    payloads.append(RawPayload(f"{TOKENS_DIR}/{user_id}.json", got.url, got.data))
            if unread:
                token_failure = f"tokens of {len(unread)} user(s) not read; first {unread[0]}"
        records, snapshot = _read(payloads, config)
        problems = snapshot.problems(page_failure, token_failure)
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            payloads,
            records,
            {
                "base_url": base_url,
                "max_results": MAX_RESULTS,
                "pages": pages,
                "users": len(records.accounts),
                "token_calls": len(active),
                "applications": len(records.applications),
            },
            complete=not problems,
            incomplete_reason="; ".join(problems) or None,
        )


def page_name(number: int, *, failed: bool = False) -> str:
    """A live page's payload name: ``users.page-001.json``, or ``….failed``."""
    return _pages.page_name(LIST, number, failed=failed)


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Records from the payloads of either layout (named as ``collect`` names them)."""
    return _read(payloads, config)[0]


Entry = tuple[RawPayload, int, dict[str, Any]]
"""One user: the payload holding it, its index in ``users`` and the object."""


@dataclass(frozen=True)
class _Snapshot:
    """The users as stored (one export body, or live pages in order) and the tokens bodies."""

    name: str
    """How messages name the users: ``users.json`` or ``users.page-*.json``."""
    entries: tuple[Entry, ...]
    failed_page: int | None
    more_pages: bool
    """The last page read has a ``nextPageToken``: users after it were not read."""
    tokens: Mapping[str, RawPayload]
    failed_tokens: Mapping[str, RawPayload]
    """Both by user id."""

    def problems(
        self, page_failure: str | None = None, token_failure: str | None = None
    ) -> list[str]:
        """Why the collection is not known to be whole; empty when it is.

        The failures are the live client's accounts, which say more than the marker files.
        """
        problems = []
        if self.failed_page is not None:
            problems.append(page_failure or f"{LIST} page {self.failed_page} failed")
        elif self.more_pages:
            problems.append("the last page read has a nextPageToken; later users were not read")
        if self.failed_tokens:
            problems.append(
                token_failure or f"tokens of {len(self.failed_tokens)} user(s) not read"
            )
        return problems


def _read(payloads: Sequence[RawPayload], config: ConnectorConfig) -> tuple[Records, _Snapshot]:
    snapshot = _snapshot(payloads)
    warnings = [f"{snapshot.name}: {problem}" for problem in snapshot.problems()]
    system = config.system_id
    accounts: list[Account] = []
    credentials: list[Credential] = []
    applications: dict[str, Application] = {}  # by client id: many users grant one app
    first_seen: dict[str, tuple[RawPayload, int]] = {}
    without_tokens = 0
    for payload, position, user in snapshot.entries:
        path = f"{LIST}[{position}]"
        user_id = _export.required_string(payload, user, path, "id")
        if user_id in first_seen:
            other, other_position = first_seen[user_id]
            at = f"{LIST}[{other_position}]"
            if other is not payload:
                at = f"{other.name} {at}"
            raise InputError(payload.source, f"{path}.id: duplicate '{user_id}' (also at {at})")
        first_seen[user_id] = (payload, position)
        email = _export.required_string(payload, user, path, "primaryEmail")
        name = _export.json_object(payload, user, path, "name")
        suspended = _export.json_bool(payload, user, path, "suspended")
        archived = _export.json_bool(payload, user, path, "archived")
        status = AccountStatus.INACTIVE if suspended or archived else AccountStatus.ACTIVE
        admin = [
            _export.json_bool(payload, user, path, key) for key in ("isAdmin", "isDelegatedAdmin")
        ]
        last_login, last_login_source = _last_login(payload, user, path)
        accounts.append(
            Account(
                system_id=system,
                account_id=user_id,
                username=email,
                email=email.lower(),
                name=None
                if name is None
                else _export.optional_string(payload, name, f"{path}.name", "fullName"),
                employee_id=None,
                kind=AccountKind.HUMAN,
                status=status,
                mfa_registered=_export.tri(
                    _export.json_bool(payload, user, path, "isEnrolledIn2Sv")
                ),
                mfa_enforced=_export.tri(_export.json_bool(payload, user, path, "isEnforcedIn2Sv")),
                last_login=last_login,
                last_login_source=last_login_source,
                privileged=Tri.YES if True in admin else Tri.NO if False in admin else Tri.UNKNOWN,
            )
        )
        tokens = snapshot.tokens.get(user_id)
        if tokens is not None:
            credentials.extend(_grants(tokens, system, user_id, applications))
        elif status is AccountStatus.ACTIVE and user_id not in snapshot.failed_tokens:
            without_tokens += 1
    if without_tokens:
        warnings.append(
            f"{without_tokens} active user(s) have no {TOKENS_DIR}/{{userId}}.json; "
            "their OAuth grants are not known"
        )
    stray = {**snapshot.failed_tokens, **snapshot.tokens}
    for user_id in sorted(set(stray) - set(first_seen)):
        warnings.append(f"{stray[user_id].name}: no user with id '{user_id}'; ignored")
    records = Records(
        accounts=tuple(accounts),
        credentials=tuple(credentials),
        applications=tuple(applications.values()),
        warnings=tuple(warnings),
    )
    return records, snapshot


def _snapshot(payloads: Sequence[RawPayload]) -> _Snapshot:
    """The one export body or pages 1…n (with at most a failure marker for page n + 1), and
    the tokens bodies and failure markers by user id."""
    index = _export.by_name(payloads)
    tokens: dict[str, RawPayload] = {}
    failed_tokens: dict[str, RawPayload] = {}
    for name, payload in index.items():
        token_match = TOKENS_NAME.fullmatch(name)
        if token_match is not None:
            kind = token_match["kind"]
            (tokens if kind == "json" else failed_tokens)[token_match["user"]] = payload
    for user_id in sorted(tokens.keys() & failed_tokens.keys()):
        raise InputError(failed_tokens[user_id].source, f"the snapshot also holds {user_id}.json")
    stored = _pages.stored_list(index, _pages.group(index, PAGE_NAME), LIST)
    if stored is None:
        raise InputError(EXPORT, "missing from the export")
    entries: list[Entry] = []
    next_token: str | None = None
    for payload in stored.payloads:
        users, next_token = _users_body(payload)
        entries.extend((payload, position, user) for position, user in enumerate(users))
    return _Snapshot(
        stored.name,
        tuple(entries),
        stored.failed_page,
        next_token is not None,
        tokens,
        failed_tokens,
    )


def _users_body(payload: RawPayload) -> tuple[list[dict[str, Any]], str | None]:
    """``users`` and ``nextPageToken`` of one response body."""
    document = _document(payload, "'users'")
    users = _objects(payload, document, LIST, "users")
    next_token = document.get("nextPageToken")
    if next_token is not None and not isinstance(next_token, str):
        raise InputError(
            payload.source, f"nextPageToken: expected a string, got {_export.json_kind(next_token)}"
        )
    return users, next_token or None


def _grants(
    payload: RawPayload, system: str, user_id: str, applications: dict[str, Application]
) -> list[Credential]:
    """One credential per app the user granted access; each app not seen yet is added."""
    items = _objects(payload, _document(payload, "'items'"), "items", "tokens")
    grants: list[Credential] = []
    seen: dict[str, int] = {}
    for position, item in enumerate(items):
        path = f"items[{position}]"
        client_id = _export.required_string(payload, item, path, "clientId")
        if client_id in seen:
            raise InputError(
                payload.source,
                f"{path}.clientId: duplicate '{client_id}' (also at items[{seen[client_id]}])",
            )
        seen[client_id] = position
        scopes = _export.json_strings(payload, item, path, "scopes")
        app = _export.optional_string(payload, item, path, "displayText") or client_id
        applications.setdefault(client_id, Application(system, client_id, app))
        grants.append(
            Credential(
                system_id=system,
                credential_id=f"{user_id}:{client_id}",
                kind=CREDENTIAL_KIND,
                account_id=user_id,
                active=True,
                created=None,
                last_rotated=None,
                last_used=None,
                last_used_source=None,
                scopes=scopes,
                third_party=app,
                broad=Tri.YES if any(_broad(scope) for scope in scopes) else Tri.NO,
            )
        )
    return grants


def _broad(scope: str) -> bool:
    return any(
        fragment in scope and not (fragment == "/auth/drive" and ".readonly" in scope)
        for fragment in BROAD_SCOPES
    )


def _document(payload: RawPayload, holding: str) -> Mapping[str, Any]:
    document = _export.load_json(payload)
    if not isinstance(document, dict):
        raise InputError(
            payload.source,
            f"expected a JSON object with {holding}, got {_export.json_kind(document)}",
        )
    return document


def _objects(
    payload: RawPayload, document: Mapping[str, Any], key: str, what: str
) -> list[dict[str, Any]]:
    """An array of objects; Google leaves an empty one out, so missing is empty."""
    items = document.get(key, [])
    if not isinstance(items, list):
        raise InputError(
            payload.source, f"{key}: expected an array of {what}, got {_export.json_kind(items)}"
        )
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(
                payload.source,
                f"{key}[{position}]: expected an object, got {_export.json_kind(item)}",
            )
    return items


def _last_login(
    payload: RawPayload, user: Mapping[str, Any], path: str
) -> tuple[datetime | None, str | None]:
    value = user.get(LAST_LOGIN)
    if value is None:
        return None, None
    if not isinstance(value, str):
        raise InputError(
            payload.source,
            f"{path}.{LAST_LOGIN}: expected a string, got {_export.json_kind(value)}",
        )
    try:
        when = _export.parse_timestamp(value)
    except ValueError as exc:
        raise InputError(payload.source, f"{path}.{LAST_LOGIN}: {exc}") from None
    if when == NEVER:
        return None, f"{LAST_LOGIN_SOURCE} (never)"
    return when, LAST_LOGIN_SOURCE
