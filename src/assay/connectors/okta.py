"""Okta users, their enrolled factors, the sign-on policy and the org's applications, from the API
or saved responses.

Export mode (``mode: export``). Settings: ``path`` — the export directory, holding the raw
response bodies:

- ``users.json``: ``GET /api/v1/users`` — a JSON array of user objects (required);
- ``factors/{userId}.json``: ``GET /api/v1/users/{userId}/factors`` — a JSON array per user;
- ``sign-on-policy-rules.json``: ``GET /api/v1/policies/{policyId}/rules`` for the
  ``OKTA_SIGN_ON`` policy (optional);
- ``apps.json``: ``GET /api/v1/apps`` — a JSON array of application objects (optional: without
  it no applications are listed, and a warning and the ``optional_files_missing`` parameter say
  so, since an export made before applications were read must still parse).

Live mode (``mode: live``). Settings: ``base_url`` — the org URL, e.g. ``https://acme.okta.com``;
secret ``token``, an API token sent as ``Authorization: SSWS <token>``. Least privilege: a token
created by a Read-Only Administrator, since a token acts with its creator's rights and reading is
all this connector does. (An OAuth service app would need only the scopes ``okta.users.read``,
``okta.factors.read``, ``okta.policies.read`` and ``okta.apps.read``, but its access tokens
travel as ``Bearer``, which this connector does not send yet.) It reads:

- ``GET /api/v1/users?limit=200``, every page by its ``Link: rel="next"``, kept as
  ``users.page-001.json``, ``users.page-002.json``, …;
- ``GET /api/v1/users/{userId}/factors`` for every user read, kept as ``factors/{userId}.json``,
  the export's own name. One call per user spends Okta's rate limit, so a 429 is waited out
  until its ``X-Rate-Limit-Reset``;
- ``GET /api/v1/policies?type=OKTA_SIGN_ON`` (``policies.page-NNN.json``) and, for every sign-on
  policy, ``GET /api/v1/policies/{policyId}/rules`` (``sign-on-policy-rules/{policyId}.page-NNN
  .json``). Each policy's rules stay in their own payloads rather than one merged file, because a
  payload is a response byte for byte and the merge would be ours, not Okta's;
- ``GET /api/v1/apps?limit=200``, every page by its ``Link: rel="next"``, kept as
  ``apps.page-NNN.json``.

Every payload's source is the URL read. A page or a user's factors still failing after the
retries is kept as a ``….failed`` payload (the last error body, as received) beside whatever was
read, and the collection is marked incomplete. ``parse`` reads either layout and gives the same
accounts for the same data.

MFA registration (``mfa_registered``) is read from the user's factors: *yes* when any factor is
``ACTIVE``, whatever its type, except ``question`` — a security question is something the user
knows, just like the password, so it is no second factor. An ``email`` factor does count: it is
a weak factor (a mailbox is often reachable with the same password), but it is a second channel
and Okta treats it as one; weighing its strength is a check's job, not the connector's. With no
factors read for a user, whether absent from the export or failed live, their registration is
*unknown*, never *no*.

MFA enforcement (``mfa_enforced``) is read from the sign-on policy rules: when an ``ACTIVE`` rule
allows sign-on only with a factor (``actions.signon.access == "ALLOW"`` and
``actions.signon.requireFactor == true``) enforcement is taken to reach every user — rule
conditions (people, groups, network zones) and priorities are not evaluated yet, so a warning
says so when other active rules allow sign-on without a factor. Live, only the rules of
``ACTIVE`` policies count, and when the policies or an active policy's rules were not read in
full enforcement is *unknown*. An enforced rule only means something for a user who has a
factor: such a user is *yes*, a user with no factor is *no*, a user whose registration is unknown
stays *unknown*. Without any rules it is *unknown*.

A user whose ``status`` is ``SUSPENDED`` or ``DEPROVISIONED`` was deactivated at its
``statusChanged`` time (``deactivated_at``), which deprovisioning delay is measured by; any other
status leaves it unset, since ``statusChanged`` then records some other change.

Each app (``id``, ``label``, ``status``) is an ``Application`` named by its label, the name an
administrator gave it; it is inactive only when its status is ``INACTIVE``, so an app in a status
not understood is still compared with the programme's scope (with a warning).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

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
    Records,
    Tri,
)

USERS = "users.json"
FACTORS_DIR = "factors"
RULES = "sign-on-policy-rules.json"
APPS = "apps.json"

USERS_LIST = "users"
APPS_LIST = "apps"
POLICIES_LIST = "policies"
RULES_DIR = "sign-on-policy-rules"
PAGE_NAME = _pages.page_pattern(r"users|apps|policies|sign-on-policy-rules/.+")
FACTORS_NAME = re.compile(r"factors/(?P<user>.+)\.(?P<kind>json|failed)")

PAGE_LIMIT = 200
"""Items a page: the most ``GET /api/v1/users`` and ``GET /api/v1/apps`` give."""

LAST_LOGIN_SOURCE = "okta:lastLogin"

STATUS_MAP: Mapping[str, AccountStatus] = {
    "ACTIVE": AccountStatus.ACTIVE,
    "RECOVERY": AccountStatus.ACTIVE,
    "PASSWORD_EXPIRED": AccountStatus.ACTIVE,
    "LOCKED_OUT": AccountStatus.ACTIVE,
    "PROVISIONED": AccountStatus.ACTIVE,
    "STAGED": AccountStatus.INACTIVE,
    "SUSPENDED": AccountStatus.INACTIVE,
    "DEPROVISIONED": AccountStatus.INACTIVE,
}
"""Okta user status to account status; anything else is ``unknown`` with a warning."""

DEACTIVATED: frozenset[str] = frozenset({"SUSPENDED", "DEPROVISIONED"})
"""User statuses whose ``statusChanged`` is when the account was deactivated."""

APP_STATUSES: frozenset[str] = frozenset({"ACTIVE", "INACTIVE"})

NOT_A_SECOND_FACTOR: frozenset[str] = frozenset({"question"})
"""Factor types that are knowledge, like the password, and so are no second factor."""


class OktaConnector(_api.ApiConnector):
    """Reads an Okta org live or from an export directory."""

    type: str = "okta"
    version: str = "1"
    settings: SettingsModel = _api.ApiSettings

    def _collect_export(self, config: ConnectorConfig) -> Collected:
        started_at = datetime.now(UTC)
        directory = _export.require_directory(config.path())
        payloads = [_export.read_payload(directory, USERS)]
        factors_dir = directory / FACTORS_DIR
        if factors_dir.is_dir():
            for file in sorted(factors_dir.glob("*.json")):
                if file.is_file():
                    payloads.append(_export.read_payload(directory, f"{FACTORS_DIR}/{file.name}"))
        optional = [name for name in (RULES, APPS) if (directory / name).exists()]
        payloads.extend(_export.read_payload(directory, name) for name in optional)
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
                "users": len(records.accounts),
                "factor_files": sum(1 for p in payloads if p.name.startswith(f"{FACTORS_DIR}/")),
                "sign_on_policy_rules": RULES in optional,
                "applications": len(records.applications),
                "optional_files_missing": [n for n in (RULES, APPS) if n not in optional],
            },
        )

    def _collect_live(self, config: ConnectorConfig) -> Collected:
        base_url = _base_url(config, self.type)
        token = _api.token(config, self.type, "an Okta API token of a read-only administrator")
        headers = {"Accept": "application/json", "Authorization": f"SSWS {token}"}
        started_at = datetime.now(UTC)
        with ApiClient(base_url, headers, sleep=self._sleep) as client:
            read = _LiveRead(client)
            users = read.pages(USERS_LIST, "/api/v1/users", {"limit": PAGE_LIMIT})
            read.factors(_ids(users, "users"))
            policies = read.pages(POLICIES_LIST, "/api/v1/policies", {"type": "OKTA_SIGN_ON"})
            policy_ids = _ids(policies, "policies")
            for policy_id in policy_ids:
                read.pages(
                    f"{RULES_DIR}/{policy_id}", f"/api/v1/policies/{_quote(policy_id)}/rules"
                )
            read.pages(APPS_LIST, "/api/v1/apps", {"limit": PAGE_LIMIT})
        records = parse(read.payloads, config)
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            read.payloads,
            records,
            {
                "base_url": base_url,
                "limit": PAGE_LIMIT,
                "pages": read.page_counts,
                "users": len(records.accounts),
                "sign_on_policies": len(policy_ids),
                "applications": len(records.applications),
            },
            complete=not read.failures,
            incomplete_reason="; ".join(read.failures) or None,
        )


@dataclass
class _LiveRead:
    """The payloads one live collection has read so far, and what it could not read."""

    client: ApiClient
    payloads: list[RawPayload] = field(default_factory=list)
    page_counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    """Why the collection is incomplete, one entry a list that could not be read in full."""

    def pages(
        self, list_name: str, path: str, params: Mapping[str, str | int] | None = None
    ) -> list[RawPayload]:
        """Every page of a list as ``{list}.page-NNN.json``, up to a failed page if one fails."""
        read, failure = _pages.fetch_linked(self.client, list_name, path, params, self.payloads)
        if failure is not None:
            self.failures.append(failure)
        self.page_counts[list_name] = len(read)
        return read

    def factors(self, user_ids: Sequence[str]) -> None:
        """Each user's factors; the list is not paged, so one response is all of it."""
        unread: list[str] = []
        for user_id in user_ids:
            try:
                page = next(self.client.get_pages(f"/api/v1/users/{_quote(user_id)}/factors"))
            except PageFailed as failure:
                name = f"{FACTORS_DIR}/{user_id}.failed"
                self.payloads.append(RawPayload(name, failure.url, failure.body))
                unread.append(f"{user_id} ({failure.url}): {failure.reason}")
            else:
                self.payloads.append(
                    RawPayload(f"{FACTORS_DIR}/{user_id}.json", page.url, page.data)
                )
        if unread:
            self.failures.append(f"factors of {len(unread)} user(s) not read; first {unread[0]}")


def page_name(list_name: str, number: int, *, failed: bool = False) -> str:
    """A live page's payload name: ``users.page-001.json``, or ``….failed`` for a failure."""
    return _pages.page_name(list_name, number, failed=failed)


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Accounts from the payloads of either layout (named as ``collect`` names them)."""
    index = _export.by_name(payloads)
    grouped = _pages.group(index, PAGE_NAME)
    # Every paged list is checked, in name order, before any export file is looked at.
    lists = {name: _pages.in_order(name, grouped[name]) for name in sorted(grouped)}
    users = _pages.stored_list(index, grouped, USERS_LIST)
    if users is None:
        raise InputError(USERS, "missing from the export")
    warnings: list[str] = []
    if not users.complete:
        warnings.append(
            f"{users.name}: not read to the end; only the users on the pages read are listed"
        )
    factor_payloads, failed_factors = _factor_payloads(index)
    enforcement = _enforcement(index, lists, warnings)

    accounts: list[Account] = []
    first_seen: dict[str, tuple[RawPayload, int]] = {}
    without_factors = 0
    unread_factors = 0
    for users_payload, position, user in _objects(users.payloads, "users"):
        path = f"[{position}]"
        user_id = _unique_id(users_payload, position, user, first_seen)
        status_text = _export.required_string(users_payload, user, path, "status")
        profile = user.get("profile")
        if profile is None:
            raise InputError(users_payload.source, f"{path}.profile: missing")
        if not isinstance(profile, dict):
            raise InputError(
                users_payload.source,
                f"{path}.profile: expected an object, got {_export.json_kind(profile)}",
            )
        profile_path = f"{path}.profile"
        login = _export.required_string(users_payload, profile, profile_path, "login")

        status = STATUS_MAP.get(status_text, AccountStatus.UNKNOWN)
        if status is AccountStatus.UNKNOWN:
            warnings.append(
                f"{users_payload.name}: {path} ({login}): unrecognised status {status_text!r}; "
                "account status is unknown"
            )

        factors = factor_payloads.get(user_id)
        if factors is not None:
            registered = _has_second_factor(factors)
        else:
            registered = Tri.UNKNOWN
            if user_id in failed_factors:
                unread_factors += 1
            else:
                without_factors += 1

        if enforcement is None:
            enforced = Tri.UNKNOWN
        elif enforcement:
            enforced = registered
        else:
            enforced = Tri.NO

        email = _export.optional_string(users_payload, profile, profile_path, "email")
        first = _export.optional_string(users_payload, profile, profile_path, "firstName")
        last = _export.optional_string(users_payload, profile, profile_path, "lastName")
        name = " ".join(part for part in (first, last) if part) or None
        last_login = _timestamp(users_payload, user, path, "lastLogin")
        status_changed = _timestamp(users_payload, user, path, "statusChanged")
        accounts.append(
            Account(
                system_id=config.system_id,
                account_id=user_id,
                username=login,
                email=email.lower() if email else None,
                name=name,
                employee_id=_export.optional_string(
                    users_payload, profile, profile_path, "employeeNumber"
                ),
                kind=AccountKind.HUMAN,
                status=status,
                mfa_registered=registered,
                mfa_enforced=enforced,
                last_login=last_login,
                last_login_source=LAST_LOGIN_SOURCE if "lastLogin" in user else None,
                deactivated_at=status_changed if status_text in DEACTIVATED else None,
            )
        )

    if without_factors:
        warnings.append(
            f"{without_factors} user(s) have no {FACTORS_DIR}/{{userId}}.json file; "
            "their MFA registration is unknown"
        )
    if unread_factors:
        warnings.append(
            f"{unread_factors} user(s) have {FACTORS_DIR}/{{userId}}.failed: their factors "
            "could not be read, so their MFA registration is unknown"
        )
    stray = {**failed_factors, **factor_payloads}
    for user_id in sorted(set(stray) - set(first_seen)):
        warnings.append(
            f"{stray[user_id].name}: no user with id '{user_id}' in {users.name}; ignored"
        )
    applications = _applications(_pages.stored_list(index, grouped, APPS_LIST), config, warnings)
    return Records(
        accounts=tuple(accounts), applications=tuple(applications), warnings=tuple(warnings)
    )


def _applications(
    apps: StoredList | None, config: ConnectorConfig, warnings: list[str]
) -> list[Application]:
    """The org's apps; none, with a warning, when the export predates reading them."""
    if apps is None:
        warnings.append(f"{APPS} not in the export; the org's applications are not listed")
        return []
    if not apps.complete:
        warnings.append(
            f"{apps.name}: not read to the end; only the apps on the pages read are listed"
        )
    applications: list[Application] = []
    first_seen: dict[str, tuple[RawPayload, int]] = {}
    for payload, position, app in _objects(apps.payloads, "apps"):
        path = f"[{position}]"
        app_id = _unique_id(payload, position, app, first_seen)
        label = _export.required_string(payload, app, path, "label")
        status = _export.required_string(payload, app, path, "status")
        if status not in APP_STATUSES:
            warnings.append(
                f"app {label!r} ({app_id}): unrecognised status {status!r}; counted as active"
            )
        applications.append(Application(config.system_id, app_id, label, status != "INACTIVE"))
    return applications


def _unique_id(
    payload: RawPayload,
    position: int,
    item: Mapping[str, Any],
    first_seen: dict[str, tuple[RawPayload, int]],
) -> str:
    """The item's ``id``, refused when an earlier item of the same list has it too."""
    path = f"[{position}]"
    item_id = _export.required_string(payload, item, path, "id")
    if item_id in first_seen:
        other, other_position = first_seen[item_id]
        at = f"[{other_position}]" if other is payload else f"{other.name}[{other_position}]"
        raise InputError(payload.source, f"{path}.id: duplicate '{item_id}' (also at {at})")
    first_seen[item_id] = (payload, position)
    return item_id


Entry = tuple[RawPayload, int, dict[str, Any]]
"""One object of a list: the payload holding it, its index there and the object."""


def _objects(payloads: Sequence[RawPayload], what: str) -> list[Entry]:
    return [
        (payload, position, item)
        for payload in payloads
        for position, item in enumerate(_export.load_json_array_of_objects(payload, what))
    ]


def _ids(payloads: Sequence[RawPayload], what: str) -> list[str]:
    return [
        _export.required_string(payload, item, f"[{position}]", "id")
        for payload, position, item in _objects(payloads, what)
    ]


def _factor_payloads(
    index: Mapping[str, RawPayload],
) -> tuple[dict[str, RawPayload], dict[str, RawPayload]]:
    """Factor lists read and factor lists that failed, by user id."""
    read: dict[str, RawPayload] = {}
    failed: dict[str, RawPayload] = {}
    for name, payload in index.items():
        match = FACTORS_NAME.fullmatch(name)
        if match is not None:
            (read if match["kind"] == "json" else failed)[match["user"]] = payload
    for user_id in sorted(read.keys() & failed.keys()):
        raise InputError(failed[user_id].source, f"the snapshot also holds {read[user_id].name}")
    return read, failed


def _enforcement(
    index: Mapping[str, RawPayload], lists: Mapping[str, StoredList], warnings: list[str]
) -> bool | None:
    """Whether sign-on requires a factor; None when the rules were not (all) read."""
    export = index.get(RULES)
    policies = lists.get(POLICIES_LIST)
    rules = {
        name[len(RULES_DIR) + 1 :]: rule_list
        for name, rule_list in lists.items()
        if name.startswith(f"{RULES_DIR}/")
    }
    if export is not None:
        if policies is not None or rules:
            raise InputError(export.source, "the snapshot also holds pages of sign-on policies")
        return _policy_requires_factor([export], warnings)
    if policies is None and not rules:
        warnings.append(f"{RULES} not in the export; MFA enforcement is unknown")
        return None

    entries = _objects(policies.payloads, "policies") if policies else []
    active: list[str] = []
    known: set[str] = set()
    for payload, position, policy in entries:
        policy_id = _export.required_string(payload, policy, f"[{position}]", "id")
        known.add(policy_id)
        if policy.get("status") == "ACTIVE":
            active.append(policy_id)
    for policy_id in sorted(rules.keys() - known):
        raise InputError(
            rules[policy_id].name,
            f"no sign-on policy with id '{policy_id}' in {POLICIES_LIST}.page-*.json",
        )
    unread = [] if policies is not None and policies.complete else [f"{POLICIES_LIST}.page-*.json"]
    unread += [
        f"{RULES_DIR}/{policy_id}.page-*.json"
        for policy_id in active
        if policy_id not in rules or not rules[policy_id].complete
    ]
    if unread:
        warnings.append(f"{', '.join(unread)}: not read in full; MFA enforcement is unknown")
        return None
    return _policy_requires_factor(
        [payload for policy_id in active for payload in rules[policy_id].payloads], warnings
    )


def _has_second_factor(payload: RawPayload) -> Tri:
    """YES when any factor is ACTIVE and not knowledge-based, else NO (the list was read)."""
    factors = _export.load_json_array_of_objects(payload, "factors")
    found = False
    for position, factor in enumerate(factors):
        path = f"[{position}]"
        factor_type = _export.required_string(payload, factor, path, "factorType")
        status = _export.required_string(payload, factor, path, "status")
        if status == "ACTIVE" and factor_type not in NOT_A_SECOND_FACTOR:
            found = True
    return Tri.YES if found else Tri.NO


def _policy_requires_factor(payloads: Sequence[RawPayload], warnings: list[str]) -> bool:
    """Whether an active sign-on rule allows access only with a factor.

    Rule shapes vary (not every rule has ``actions.signon``), so a rule lacking these fields
    simply does not match; only a body that is not an array of objects is an error. Rules are
    named by name and id, not by file, so both layouts warn alike.
    """
    requiring: list[str] = []
    allowing_without: list[str] = []
    for _, position, rule in _objects(payloads, "policy rules"):
        if rule.get("status") != "ACTIVE":
            continue
        actions = rule.get("actions")
        signon = actions.get("signon") if isinstance(actions, dict) else None
        if not isinstance(signon, dict) or signon.get("access") != "ALLOW":
            continue
        label = _rule_label(rule, position)
        if signon.get("requireFactor") is True:
            requiring.append(label)
        else:
            allowing_without.append(label)
    if requiring and allowing_without:
        warnings.append(
            f"sign-on policy: active rule(s) {', '.join(allowing_without)} allow sign-on without "
            f"a factor while {', '.join(requiring)} require one; rule conditions are not "
            "evaluated, so enforcement is taken to apply to every user"
        )
    return bool(requiring)


def _rule_label(rule: Mapping[str, Any], position: int) -> str:
    name = rule.get("name")
    rule_id = rule.get("id")
    label = repr(name) if isinstance(name, str) and name else f"[{position}]"
    return f"{label} ({rule_id})" if isinstance(rule_id, str) and rule_id else label


def _base_url(config: ConnectorConfig, connector_type: str) -> str:
    value = config.settings.get("base_url")
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise InputError(
            f"system {config.system_id}",
            f"connector '{connector_type}' in mode '{_export.LIVE_MODE}' needs the setting "
            "'base_url', the org's URL, e.g. https://acme.okta.com",
        )
    return config.url("base_url", value, sends_secret=True).rstrip("/")


def _quote(okta_id: str) -> str:
    return quote(okta_id, safe="")


def _timestamp(
    payload: RawPayload, item: Mapping[str, Any], path: str, key: str
) -> datetime | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(
            payload.source, f"{path}.{key}: expected a timestamp, got {_export.json_kind(value)}"
        )
    try:
        return _export.parse_timestamp(value)
    except ValueError as exc:
        raise InputError(payload.source, f"{path}.{key}: {exc}") from None
