"""JumpCloud users, their MFA state and sudo rights, and the organisation's SSO applications, from
the v1 API or saved responses.

Two lists are read, each a body ``{"totalCount": N, "results": [...]}`` — ``totalCount`` is
every item in the organisation, ``results`` one page of them: ``GET /api/systemusers`` and
``GET /api/applications``.

Export mode (``mode: export``). Setting ``path`` — the export directory, holding for each list
either ``<list>.json`` (one such body holding every item; JumpCloud serves at most 100 a page, so
a larger organisation's pages must be merged into its ``results``) or the live layout's
``<list>.page-001.json``, ``<list>.page-002.json``, … ``systemusers`` is required;
``applications`` is optional, so an export saved before applications were read still parses:
without it no applications are listed, and a warning and the ``optional_files_missing``
parameter say so.

Live mode (``mode: live``). Settings: ``base_url`` (optional, default
``https://console.jumpcloud.com``; the EU region is ``https://console.eu.jumpcloud.com``); secret
``token``, sent as the ``x-api-key`` header. Least privilege: JumpCloud has no scoped keys — an
API key belongs to an administrator and carries all of that administrator's rights — so create
a dedicated administrator with the *Read Only* role and use its key. JumpCloud pages with
``limit`` and ``skip`` (no ``Link`` header): 100 items a page are asked for, ``skip`` advancing
by the items received, until ``totalCount`` items are read or a page comes back empty (users
first, then applications). Each page is kept as ``<list>.page-NNN.json`` with its URL as source;
a page still failing after the retries is kept as ``<list>.page-NNN.failed`` (the last error
body, as received).

Either way a list is complete only when exactly ``totalCount`` items were read and every page
gave the same ``totalCount``; otherwise the collection is marked incomplete ("fetched 180
of 200 users") — which also catches an export saved from a single page. ``parse`` reads both
layouts and gives the same records for the same users.

Status: *active* for state ``ACTIVATED``; *inactive* when ``suspended`` is true or the state is
``SUSPENDED`` or ``STAGED`` (created, never activated: the user cannot sign in yet); any other or
missing state is *unknown*, with a warning. ``account_locked`` (too many failed passwords) stays
*active*, with a warning: a lockout is temporary and takes none of the user's access away.
The API gives no time a user was suspended, so ``deactivated_at`` stays unset.

MFA registration, from ``mfaEnrollment.overallStatus``: *yes* for ``ENROLLED``; *no* for
``NOT_ENROLLED``, ``DISABLED``, ``ENROLLMENT_EXPIRED`` and the unfinished ``PENDING_ACTIVATION``,
``IN_ENROLLMENT`` and ``PRE_ENROLLMENT`` (no factor the user can sign in with yet). Without it,
the older ``totp_enabled`` and ``mfa.configured`` decide (either true: *yes*; present and false:
*no*); with neither it is *unknown*. Enforcement: *no* while an ``mfa.exclusion`` is in force
(``exclusionUntil`` after the collection time, or no end date) — a recorded, expiring exception,
so a warning names the user and the date; an expired exclusion is ignored. Otherwise *yes* for a
registered user whose ``mfa.configured`` is true, *no* when either is no, else *unknown*.

Privilege: ``sudo`` and ``passwordless_sudo`` give administrator rights on every system the user
is bound to; each is an entitlement (``sudo``, ``passwordless_sudo``) with a grant per user
holding it, and either makes the account privileged. Sudo granted per system through v2
associations is not in this endpoint, so *no* means no global sudo. There is no last-login time
in this endpoint: ``created`` and the like are never used as one.

Applications: each SSO application (``_id``) is named by ``displayLabel``, the name the
administrator gave it, else its catalogue ``displayName``, else ``name``; it is inactive only when
``active`` is false, so an app lacking the flag is still compared with the programme's scope.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assay.connectors import _api, _export, _pages
from assay.connectors._http import ApiClient, PageFailed
from assay.connectors.base import Collected, ConnectorConfig, RawPayload, SettingsModel
from assay.errors import InputError
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Application,
    Entitlement,
    Grant,
    Records,
    Tri,
)

USERS = "systemusers"
APPS = "applications"
PATHS: Mapping[str, str] = {USERS: "/api/systemusers", APPS: "/api/applications"}
"""Each list's path; both page alike, by ``limit`` and ``skip`` with a ``totalCount``."""
NOUNS: Mapping[str, str] = {USERS: "users", APPS: "applications"}
"""What each list holds, for messages."""
PAGE_NAME = _pages.page_pattern("|".join(PATHS))

DEFAULT_BASE_URL = "https://console.jumpcloud.com"
LIMIT = 100
"""JumpCloud's largest page."""

INACTIVE_STATES = frozenset({"SUSPENDED", "STAGED"})
ACTIVE_STATE = "ACTIVATED"

REGISTERED_BY_ENROLLMENT: Mapping[str, Tri] = {
    "ENROLLED": Tri.YES,
    "NOT_ENROLLED": Tri.NO,
    "DISABLED": Tri.NO,
    "ENROLLMENT_EXPIRED": Tri.NO,
    "PENDING_ACTIVATION": Tri.NO,
    "IN_ENROLLMENT": Tri.NO,
    "PRE_ENROLLMENT": Tri.NO,
}
"""``mfaEnrollment.overallStatus`` to registration; anything else is unknown with a warning."""

PRIVILEGE_FIELDS = ("sudo", "passwordless_sudo")
"""The user fields giving sudo on bound systems; each is also the entitlement's id and name."""


class JumpCloudConnector(_api.ApiConnector):
    """Reads a JumpCloud organisation's users and SSO applications live or from an export."""

    type: str = "jumpcloud"
    version: str = "1"
    settings: SettingsModel = _api.ApiSettings

    def _collect_export(self, config: ConnectorConfig) -> Collected:
        started_at = datetime.now(UTC)
        directory = _export.require_directory(config.path())
        names = _pages.export_names(directory, {f"{name}.json" for name in PATHS}, PAGE_NAME)
        if not any(name.startswith(f"{USERS}.") for name in names):
            raise InputError(
                str(directory), f"holds neither {USERS}.json nor {USERS}.page-NNN.json files"
            )
        payloads = [_export.read_payload(directory, name) for name in names]
        records, snapshot = _read(payloads, config, started_at)
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
                **snapshot.counts(),
                "optional_files_missing": [] if snapshot.apps else [f"{APPS}.json"],
            },
            complete=not problems,
            incomplete_reason="; ".join(problems) or None,
        )

    def _collect_live(self, config: ConnectorConfig) -> Collected:
        token = _api.token(
            config, self.type, "the API key of a JumpCloud administrator with the Read Only role"
        )
        base_url = _api.base_url(config, DEFAULT_BASE_URL)
        started_at = datetime.now(UTC)
        payloads: list[RawPayload] = []
        failures: dict[str, str] = {}
        with ApiClient(
            base_url, {"Accept": "application/json", "x-api-key": token}, sleep=self._sleep
        ) as client:
            for list_name in PATHS:
                failure = _fetch(client, list_name, payloads)
                if failure is not None:
                    failures[list_name] = failure
        records, snapshot = _read(payloads, config, started_at)
        problems = snapshot.problems(failures)
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            payloads,
            records,
            {
                "base_url": base_url,
                "limit": LIMIT,
                "pages": {p.list_name: len(p.total_counts) for p in snapshot.lists()},
                **snapshot.counts(),
            },
            complete=not problems,
            incomplete_reason="; ".join(problems) or None,
        )


def page_name(number: int, *, failed: bool = False, list_name: str = USERS) -> str:
    """A live page's payload name: ``systemusers.page-001.json``, or ``….failed``."""
    return _pages.page_name(list_name, number, failed=failed)


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Records from the payloads of either layout; MFA exclusions are judged at the moment
    they were collected (``config.moment()``)."""
    return _read(payloads, config, config.moment())[0]


def _fetch(client: ApiClient, list_name: str, payloads: list[RawPayload]) -> str | None:
    """Append one list's pages to ``payloads``; the failure, if a page kept failing.

    ``get_pages`` goes on only by ``Link`` headers, which JumpCloud does not send: each call
    answers one request, and ``skip`` advances by the items received until ``totalCount`` of
    them are read or a page comes back empty.
    """
    fetched = 0
    total: int | None = None
    number = 0
    while total is None or fetched < total:
        number += 1
        params = {"limit": LIMIT, "skip": fetched}
        try:
            page = next(client.get_pages(PATHS[list_name], params))
        except PageFailed as failed:
            return _pages.record_failure(payloads, list_name, number, failed)
        payload = RawPayload(page_name(number, list_name=list_name), page.url, page.data)
        payloads.append(payload)
        total, results = _body(payload, list_name)
        if not results:
            break
        fetched += len(results)
    return None


Entry = tuple[RawPayload, int, dict[str, Any]]
"""One item: the payload holding it, its index in ``results`` and the object."""


@dataclass(frozen=True)
class _Population:
    """One list as stored: one export body, or live pages in order."""

    list_name: str
    name: str
    """How messages name it: ``systemusers.json`` or ``systemusers.page-*.json``."""
    entries: tuple[Entry, ...]
    total_counts: tuple[int, ...]
    """Each body's ``totalCount``, in page order."""
    failed_page: int | None

    def counts(self) -> dict[str, int | None]:
        """What the service said it holds against what was read, for the parameters."""
        expected = self.total_counts[0] if self.total_counts else None
        return {"total_count": expected, "fetched": len(self.entries)}

    def problems(self, failure: str | None = None) -> list[str]:
        """Why the list is not known to be whole; empty when it is.

        ``failure`` is the live client's account of the failed page, which says more than the
        marker file left for it.
        """
        noun = NOUNS[self.list_name]
        problems = []
        if self.failed_page is not None:
            problems.append(failure or f"{self.list_name} page {self.failed_page} failed")
        if len(set(self.total_counts)) > 1:
            problems.append(
                "totalCount changed while paging ("
                + ", ".join(str(count) for count in self.total_counts)
                + f"); {noun} may have been missed or repeated"
            )
        if self.total_counts:
            expected, fetched = self.total_counts[0], len(self.entries)
            if fetched < expected:
                problems.append(f"fetched {fetched} of {expected} {noun}")
            elif fetched > expected:
                problems.append(f"fetched {fetched} {noun}, more than the totalCount of {expected}")
        return problems


@dataclass(frozen=True)
class _Snapshot:
    users: _Population
    apps: _Population | None
    """None when an export was saved without applications."""

    def lists(self) -> list[_Population]:
        return [self.users] if self.apps is None else [self.users, self.apps]

    def counts(self) -> dict[str, Any]:
        """The users' counts, and the applications' beside them."""
        return {**self.users.counts(), APPS: None if self.apps is None else self.apps.counts()}

    def problems(self, failures: Mapping[str, str] | None = None) -> list[str]:
        return [
            problem
            for population in self.lists()
            for problem in population.problems((failures or {}).get(population.list_name))
        ]


def _read(
    payloads: Sequence[RawPayload], config: ConnectorConfig, as_of: datetime
) -> tuple[Records, _Snapshot]:
    index = _export.by_name(payloads)
    grouped = _pages.group(index, PAGE_NAME)
    users = _population(index, grouped, USERS)
    if users is None:
        raise InputError(f"{USERS}.json", "missing from the export")
    snapshot = _Snapshot(users, _population(index, grouped, APPS))
    warnings = [
        f"{population.name}: {problem}"
        for population in snapshot.lists()
        for problem in population.problems()
    ]
    system = config.system_id
    accounts: list[Account] = []
    grants: list[Grant] = []
    first_seen: dict[str, tuple[RawPayload, int]] = {}
    for payload, position, user in users.entries:
        path = f"results[{position}]"
        id_key = "_id" if user.get("_id") is not None or "id" not in user else "id"
        account_id = _unique_id(payload, position, user, id_key, first_seen)
        username = _export.required_string(payload, user, path, "username")
        label = f"user {username!r}"  # not the file: both layouts give the same warnings
        mfa = _export.json_object(payload, user, path, "mfa")
        registered = _registered(payload, user, path, mfa, label, warnings)
        flags = {key: _export.json_bool(payload, user, path, key) for key in PRIVILEGE_FIELDS}
        held = [key for key, value in flags.items() if value]
        grants.extend(Grant(system, account_id, key) for key in held)
        email = _export.optional_string(payload, user, path, "email")
        first = _export.optional_string(payload, user, path, "firstname")
        last = _export.optional_string(payload, user, path, "lastname")
        accounts.append(
            Account(
                system_id=system,
                account_id=account_id,
                username=username,
                email=email.lower() if email else None,
                name=" ".join(part for part in (first, last) if part) or None,
                employee_id=_export.optional_string(payload, user, path, "employeeIdentifier"),
                kind=AccountKind.HUMAN,
                status=_status(payload, user, path, label, warnings),
                mfa_registered=registered,
                mfa_enforced=_enforced(payload, mfa, path, registered, as_of, label, warnings),
                last_login=None,
                last_login_source=None,
                privileged=_privileged(flags.values()),
            )
        )
    if snapshot.apps is None:
        warnings.append(
            f"{APPS}.json not in the export; the organisation's SSO applications are not listed"
        )
    entitlements = tuple(
        Entitlement(system, key, key, "permission", Tri.YES) for key in PRIVILEGE_FIELDS
    )
    records = Records(
        accounts=tuple(accounts),
        entitlements=entitlements,
        grants=tuple(grants),
        applications=tuple(_applications(snapshot.apps, system)),
        warnings=tuple(warnings),
    )
    return records, snapshot


def _applications(apps: _Population | None, system: str) -> list[Application]:
    """SSO applications, named as the administrator labelled them; active unless they say not."""
    if apps is None:
        return []
    applications: list[Application] = []
    first_seen: dict[str, tuple[RawPayload, int]] = {}
    for payload, position, app in apps.entries:
        path = f"results[{position}]"
        app_id = _unique_id(payload, position, app, "_id", first_seen)
        name = (
            _export.optional_string(payload, app, path, "displayLabel")
            or _export.optional_string(payload, app, path, "displayName")
            or _export.required_string(payload, app, path, "name")
        )
        active = _export.json_bool(payload, app, path, "active")
        applications.append(Application(system, app_id, name, active is not False))
    return applications


def _unique_id(
    payload: RawPayload,
    position: int,
    item: Mapping[str, Any],
    key: str,
    first_seen: dict[str, tuple[RawPayload, int]],
) -> str:
    """The item's id (``key``), refused when an earlier item of the same list has it too."""
    path = f"results[{position}]"
    item_id = _export.required_string(payload, item, path, key)
    if item_id in first_seen:
        other, other_position = first_seen[item_id]
        at = f"results[{other_position}]"
        if other is not payload:
            at = f"{other.name} {at}"
        raise InputError(payload.source, f"{path}.{key}: duplicate '{item_id}' (also at {at})")
    first_seen[item_id] = (payload, position)
    return item_id


def _population(
    index: Mapping[str, RawPayload], grouped: Mapping[str, _pages.Pages], list_name: str
) -> _Population | None:
    """The one export body, or pages 1…n with at most a failure marker for page n + 1; None
    when the snapshot holds neither."""
    stored = _pages.stored_list(index, grouped, list_name)
    if stored is None:
        return None
    entries: list[Entry] = []
    totals: list[int] = []
    for payload in stored.payloads:
        total, results = _body(payload, list_name)
        totals.append(total)
        entries.extend((payload, position, item) for position, item in enumerate(results))
    return _Population(list_name, stored.name, tuple(entries), tuple(totals), stored.failed_page)


def _body(payload: RawPayload, list_name: str) -> tuple[int, list[dict[str, Any]]]:
    """``totalCount`` and ``results`` of one response body."""
    noun = NOUNS[list_name]
    document = _export.load_json(payload)
    if not isinstance(document, dict):
        raise InputError(
            payload.source,
            "expected a JSON object with 'totalCount' and 'results', "
            f"got {_export.json_kind(document)}",
        )
    results = document.get("results")
    if not isinstance(results, list):
        problem = "missing" if results is None else f"got {_export.json_kind(results)}"
        raise InputError(payload.source, f"results: expected an array of {noun}, {problem}")
    for position, item in enumerate(results):
        if not isinstance(item, dict):
            raise InputError(
                payload.source,
                f"results[{position}]: expected an object, got {_export.json_kind(item)}",
            )
    total = document.get("totalCount")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        problem = "missing" if total is None else f"got {_export.json_kind(total)} {total!r}"
        raise InputError(payload.source, f"totalCount: expected a count of {noun}, {problem}")
    return total, results


def _status(
    payload: RawPayload, user: Mapping[str, Any], path: str, label: str, warnings: list[str]
) -> AccountStatus:
    state = _export.json_str(payload, user, path, "state")
    suspended = _export.json_bool(payload, user, path, "suspended")
    locked = _export.json_bool(payload, user, path, "account_locked")
    if suspended or state in INACTIVE_STATES:
        return AccountStatus.INACTIVE
    if state == ACTIVE_STATE:
        if locked:
            warnings.append(
                f"{label}: account locked (account_locked); counted as active, since a "
                "lockout is temporary and keeps the user's access"
            )
        return AccountStatus.ACTIVE
    warnings.append(f"{label}: unrecognised state {state!r}; account status is unknown")
    return AccountStatus.UNKNOWN


def _registered(
    payload: RawPayload,
    user: Mapping[str, Any],
    path: str,
    mfa: Mapping[str, Any] | None,
    label: str,
    warnings: list[str],
) -> Tri:
    enrollment = _export.json_object(payload, user, path, "mfaEnrollment")
    overall = (
        None
        if enrollment is None
        else _export.json_str(payload, enrollment, f"{path}.mfaEnrollment", "overallStatus")
    )
    if overall is not None:
        registered = REGISTERED_BY_ENROLLMENT.get(overall, Tri.UNKNOWN)
        if registered is Tri.UNKNOWN:
            warnings.append(
                f"{label}: unrecognised mfaEnrollment.overallStatus {overall!r}; "
                "MFA registration is unknown"
            )
        return registered
    # Responses from before mfaEnrollment existed: the TOTP flags are all there is.
    flags = [
        _export.json_bool(payload, user, path, "totp_enabled"),
        None if mfa is None else _export.json_bool(payload, mfa, f"{path}.mfa", "configured"),
    ]
    if True in flags:
        return Tri.YES
    return Tri.NO if False in flags else Tri.UNKNOWN


def _enforced(
    payload: RawPayload,
    mfa: Mapping[str, Any] | None,
    path: str,
    registered: Tri,
    as_of: datetime,
    label: str,
    warnings: list[str],
) -> Tri:
    mfa_path = f"{path}.mfa"
    if mfa is not None and _export.json_bool(payload, mfa, mfa_path, "exclusion"):
        until = _export.json_timestamp(payload, mfa, mfa_path, "exclusionUntil")
        if until is None:
            warnings.append(f"{label}: excluded from MFA (mfa.exclusion) with no end date")
            return Tri.NO
        if until > as_of:
            warnings.append(
                f"{label}: excluded from MFA (mfa.exclusion) until {until.isoformat()}; "
                "MFA is not enforced before then"
            )
            return Tri.NO
    configured = None if mfa is None else _export.json_bool(payload, mfa, mfa_path, "configured")
    if registered is Tri.NO or configured is False:
        return Tri.NO
    if registered is Tri.YES and configured:
        return Tri.YES
    return Tri.UNKNOWN


def _privileged(flags: Collection[bool | None]) -> Tri:
    """Yes when any sudo flag is set; unknown when the response has none of them."""
    if True in flags:
        return Tri.YES
    return Tri.NO if False in flags else Tri.UNKNOWN
