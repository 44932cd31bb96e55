"""Okta users, their enrolled factors and the sign-on policy, from saved API responses.

Settings: ``path`` — the export directory, holding the raw response bodies:

- ``users.json``: ``GET /api/v1/users`` — a JSON array of user objects (required);
- ``factors/{userId}.json``: ``GET /api/v1/users/{userId}/factors`` — a JSON array per user;
- ``sign-on-policy-rules.json``: ``GET /api/v1/policies/{policyId}/rules`` for the
  ``OKTA_SIGN_ON`` policy (optional).

MFA registration (``mfa_registered``) is read from the user's factors: *yes* when any factor is
``ACTIVE``, whatever its type, except ``question`` — a security question is something the user
knows, just like the password, so it is no second factor. An ``email`` factor does count: it is
a weak factor (a mailbox is often reachable with the same password), but it is a second channel
and Okta treats it as one; weighing its strength is a check's job, not the connector's. With no
factors file for a user their registration is *unknown*, never *no*.

MFA enforcement (``mfa_enforced``) is read from the sign-on policy rules: when an ``ACTIVE`` rule
allows sign-on only with a factor (``actions.signon.access == "ALLOW"`` and
``actions.signon.requireFactor == true``) enforcement is taken to reach every user — rule
conditions (people, groups, network zones) and priorities are not evaluated yet, so a warning
says so when other active rules allow sign-on without a factor. An enforced rule only means
something for a user who has a factor: such a user is *yes*, a user with no factor is *no*, a
user whose registration is unknown stays *unknown*. Without the rules file it is *unknown*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from assay.connectors import _export
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.errors import InputError
from assay.inventory.records import Account, AccountKind, AccountStatus, Records, Tri

USERS = "users.json"
FACTORS_DIR = "factors"
RULES = "sign-on-policy-rules.json"

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

NOT_A_SECOND_FACTOR: frozenset[str] = frozenset({"question"})
"""Factor types that are knowledge, like the password, and so are no second factor."""


class OktaConnector:
    """Reads an Okta export directory named by the ``path`` setting."""

    type: str = "okta"
    version: str = "1"

    def collect(self, config: ConnectorConfig) -> Collected:
        _export.require_export_mode(config, self.type)
        started_at = datetime.now(UTC)
        directory = _export.require_directory(config.path())
        payloads = [_export.read_payload(directory / USERS, USERS)]
        factors_dir = directory / FACTORS_DIR
        if factors_dir.is_dir():
            for file in sorted(factors_dir.glob("*.json")):
                if file.is_file():
                    payloads.append(_export.read_payload(file, f"{FACTORS_DIR}/{file.name}"))
        if (directory / RULES).exists():
            payloads.append(_export.read_payload(directory / RULES, RULES))
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
                "sign_on_policy_rules": any(p.name == RULES for p in payloads),
            },
        )


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Accounts from an Okta export's payloads (named as ``collect`` names them)."""
    index = _export.by_name(payloads)
    users_payload = _export.require_payload(index, USERS)
    users = _export.load_json_array_of_objects(users_payload, "users")
    warnings: list[str] = []

    factor_payloads = {
        name[len(FACTORS_DIR) + 1 : -len(".json")]: payload
        for name, payload in index.items()
        if name.startswith(f"{FACTORS_DIR}/") and name.endswith(".json")
    }
    rules_payload = index.get(RULES)
    enforcement = _policy_requires_factor(rules_payload, warnings) if rules_payload else None

    accounts: list[Account] = []
    first_index_of_id: dict[str, int] = {}
    without_factors = 0
    for position, user in enumerate(users):
        path = f"[{position}]"
        user_id = _export.required_string(users_payload, user, path, "id")
        if user_id in first_index_of_id:
            raise InputError(
                users_payload.source,
                f"{path}.id: duplicate '{user_id}' (also at [{first_index_of_id[user_id]}])",
            )
        first_index_of_id[user_id] = position
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
        if factors is None:
            registered = Tri.UNKNOWN
            without_factors += 1
        else:
            registered = _has_second_factor(factors)

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
            )
        )

    if without_factors:
        warnings.append(
            f"{without_factors} user(s) have no {FACTORS_DIR}/{{userId}}.json file; "
            "their MFA registration is unknown"
        )
    for user_id in sorted(set(factor_payloads) - set(first_index_of_id)):
        warnings.append(
            f"{factor_payloads[user_id].name}: no user with id '{user_id}' in {USERS}; ignored"
        )
    if rules_payload is None:
        warnings.append(f"{RULES} not in the export; MFA enforcement is unknown")
    return Records(accounts=tuple(accounts), warnings=tuple(warnings))


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


def _policy_requires_factor(payload: RawPayload, warnings: list[str]) -> bool:
    """Whether an active sign-on rule allows access only with a factor.

    Rule shapes vary (not every rule has ``actions.signon``), so a rule lacking these fields
    simply does not match; only a body that is not an array of objects is an error.
    """
    rules = _export.load_json_array_of_objects(payload, "policy rules")
    requiring: list[str] = []
    allowing_without: list[str] = []
    for position, rule in enumerate(rules):
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
            f"{payload.name}: active rule(s) {', '.join(allowing_without)} allow sign-on without "
            f"a factor while {', '.join(requiring)} require one; rule conditions are not "
            "evaluated, so enforcement is taken to apply to every user"
        )
    return bool(requiring)


def _rule_label(rule: Mapping[str, Any], position: int) -> str:
    name = rule.get("name")
    return f"[{position}] {name!r}" if isinstance(name, str) and name else f"[{position}]"


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
