from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.okta_server import TOKEN, OktaServer, Request, okta_error

from assay.connectors import okta, registry
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.connectors.okta import OktaConnector
from assay.errors import InputError
from assay.inventory.records import Application, Records, Tri

STATUSES = ("ACTIVE", "ACTIVE", "PROVISIONED", "SUSPENDED", "LOCKED_OUT", "DEPROVISIONED")


def okta_user(n: int) -> dict[str, Any]:
    """A user object as ``GET /api/v1/users`` returns it."""
    user_id = f"00u{n:04d}"
    return {
        "id": user_id,
        "status": STATUSES[n % len(STATUSES)],
        "created": "2023-01-02T03:04:05.000Z",
        "activated": "2023-01-02T03:04:05.000Z",
        "statusChanged": "2023-01-02T03:04:05.000Z",
        "lastLogin": None if n % 7 == 0 else f"2024-05-{n % 28 + 1:02d}T08:15:00.000Z",
        "lastUpdated": "2024-06-01T00:00:00.000Z",
        "passwordChanged": "2023-01-02T03:04:05.000Z",
        "type": {"id": "oty1"},
        "profile": {
            "login": f"user{n}@acme.example",
            "email": f"User{n}@Acme.example",
            "firstName": "User",
            "lastName": str(n),
            "employeeNumber": f"E{n:04d}",
        },
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": f"https://acme.okta.com/api/v1/users/{user_id}"}},
    }


def factor(factor_type: str, status: str) -> dict[str, Any]:
    return {
        "id": f"f-{factor_type}",
        "factorType": factor_type,
        "provider": "OKTA",
        "status": status,
    }


FACTOR_SETS: tuple[list[dict[str, Any]], ...] = (
    [factor("push", "ACTIVE"), factor("question", "ACTIVE")],
    [factor("question", "ACTIVE")],
    [factor("sms", "PENDING_ACTIVATION")],
    [factor("email", "ACTIVE")],
    [],
)


def policy(policy_id: str, status: str, priority: int) -> dict[str, Any]:
    return {
        "id": policy_id,
        "type": "OKTA_SIGN_ON",
        "name": policy_id,
        "status": status,
        "priority": priority,
        "system": policy_id == "00pDefault",
        "conditions": {"people": {"groups": {"include": ["00gEveryone"]}}},
    }


def rule(rule_id: str, status: str, require_factor: bool) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": rule_id,
        "status": status,
        "type": "SIGN_ON",
        "actions": {"signon": {"access": "ALLOW", "requireFactor": require_factor}},
    }


USERS = [okta_user(n) for n in range(450)]  # three pages of 200
FACTORS = {user["id"]: FACTOR_SETS[n % len(FACTOR_SETS)] for n, user in enumerate(USERS)}
POLICIES = [
    policy("00pMfa", "ACTIVE", 1),
    policy("00pOld", "INACTIVE", 2),  # its rule would allow sign-on without a factor
    policy("00pDefault", "ACTIVE", 3),
]
RULES = {
    "00pMfa": [rule("0prMfa", "ACTIVE", True), rule("0prOff", "INACTIVE", False)],
    "00pOld": [rule("0prLegacy", "ACTIVE", False)],
    "00pDefault": [rule("0prDefault", "ACTIVE", False)],
}
APPS = [
    {
        "id": f"0oa{n:04d}",
        "name": "bookmark",
        "label": f"App {n}",
        "status": "INACTIVE" if n % 10 == 3 else "ACTIVE",
        "signOnMode": "BOOKMARK",
        "_links": {"self": {"href": f"https://acme.okta.com/api/v1/apps/0oa{n:04d}"}},
    }
    for n in range(230)  # two pages of 200
]
FAILING_USER = "00u0007"


@pytest.fixture
def server() -> Iterator[OktaServer]:
    with OktaServer(USERS, FACTORS, POLICIES, RULES, APPS) as running:
        yield running


def live_config(
    tmp_path: Path, server: OktaServer, secrets: dict[str, str] | None = None
) -> ConnectorConfig:
    return ConnectorConfig(
        system_id="sys",
        mode="live",
        settings={"base_url": server.url + "/"},
        secrets={"token": TOKEN} if secrets is None else secrets,
        base_dir=tmp_path,
    )


def collect_live(tmp_path: Path, server: OktaServer) -> tuple[Collected, list[float]]:
    """Collect with a sleep that records each requested delay and returns at once."""
    delays: list[float] = []
    collected = OktaConnector(sleep=delays.append).collect(live_config(tmp_path, server))
    return collected, delays


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Records:
    """Export mode over the same org; the rules file holds the active policies' rules."""
    base_dir = tmp_path_factory.mktemp("export")
    directory = base_dir / "okta"
    (directory / "factors").mkdir(parents=True)
    (directory / "users.json").write_text(json.dumps(USERS), encoding="utf-8")
    for user_id, body in FACTORS.items():
        (directory / "factors" / f"{user_id}.json").write_text(json.dumps(body), encoding="utf-8")
    active_rules = [*RULES["00pMfa"], *RULES["00pDefault"]]
    (directory / "sign-on-policy-rules.json").write_text(json.dumps(active_rules), "utf-8")
    (directory / "apps.json").write_text(json.dumps(APPS), encoding="utf-8")
    config = ConnectorConfig("sys", "export", {"path": "okta"}, {}, base_dir)
    return OktaConnector().collect(config).records


@dataclass(frozen=True)
class Run:
    """A collection without faults, shared by the tests that only read it."""

    collected: Collected
    delays: list[float]
    url: str
    requests: list[Request]
    config: ConnectorConfig


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp_path = tmp_path_factory.mktemp("live")
    with OktaServer(USERS, FACTORS, POLICIES, RULES, APPS) as running:
        collected, delays = collect_live(tmp_path, running)
    return Run(collected, delays, running.url, running.requests, live_config(tmp_path, running))


def assert_no_token(collected: Collected) -> None:
    for payload in collected.payloads:
        assert TOKEN not in payload.source
        assert TOKEN.encode() not in payload.data
    assert TOKEN not in json.dumps(collected.parameters)
    assert TOKEN not in (collected.incomplete_reason or "")
    assert TOKEN not in " ".join(collected.records.warnings)


def test_everything_is_read_and_matches_export_mode(clean_run: Run, exported: Records) -> None:
    collected, delays = clean_run.collected, clean_run.delays

    assert delays == []
    assert (collected.mode, collected.complete, collected.incomplete_reason) == ("live", True, None)
    names = [p.name for p in collected.payloads]
    assert names[:4] == [
        "users.page-001.json",
        "users.page-002.json",
        "users.page-003.json",
        "factors/00u0000.json",
    ]
    assert names[453:] == [
        "policies.page-001.json",
        "sign-on-policy-rules/00pMfa.page-001.json",
        "sign-on-policy-rules/00pOld.page-001.json",
        "sign-on-policy-rules/00pDefault.page-001.json",
        "apps.page-001.json",
        "apps.page-002.json",
    ]
    assert [p.source for p in collected.payloads[:3]] == [
        f"{clean_run.url}/api/v1/users?limit=200",
        f"{clean_run.url}/api/v1/users?after=00u0199&limit=200",
        f"{clean_run.url}/api/v1/users?after=00u0399&limit=200",
    ]
    assert collected.payloads[3].source == f"{clean_run.url}/api/v1/users/00u0000/factors"
    assert collected.payloads[453].source == f"{clean_run.url}/api/v1/policies?type=OKTA_SIGN_ON"
    assert [p.source for p in collected.payloads[457:]] == [
        f"{clean_run.url}/api/v1/apps?limit=200",
        f"{clean_run.url}/api/v1/apps?after=0oa0199&limit=200",
    ]
    assert [len(json.loads(p.data)) for p in collected.payloads[:3]] == [200, 200, 50]
    assert len(clean_run.requests) == 3 + 450 + 1 + 3 + 2  # one factors call a user, no repeats
    assert collected.parameters == {
        "base_url": clean_run.url,
        "limit": 200,
        "pages": {
            "users": 3,
            "policies": 1,
            "sign-on-policy-rules/00pMfa": 1,
            "sign-on-policy-rules/00pOld": 1,
            "sign-on-policy-rules/00pDefault": 1,
            "apps": 2,
        },
        "users": 450,
        "sign_on_policies": 3,
        "applications": 230,
    }
    sent = clean_run.requests[0].headers
    assert (sent["authorization"], sent["accept"]) == (f"SSWS {TOKEN}", "application/json")

    records = collected.records
    assert records == exported
    assert okta.parse(collected.payloads, clean_run.config) == records
    assert registry.parser_for("okta")(collected.payloads, clean_run.config) == records
    assert records.applications[:4] == (
        Application("sys", "0oa0000", "App 0", active=True),
        Application("sys", "0oa0001", "App 1", active=True),
        Application("sys", "0oa0002", "App 2", active=True),
        Application("sys", "0oa0003", "App 3", active=False),
    )
    assert len(records.applications) == 230
    # Statuses in turn: ACTIVE, ACTIVE, PROVISIONED, SUSPENDED, LOCKED_OUT, DEPROVISIONED.
    deactivated = {a.account_id for a in records.accounts if a.deactivated_at is not None}
    assert deactivated == {u["id"] for u in USERS if u["status"] in ("SUSPENDED", "DEPROVISIONED")}
    # Factor sets in turn: push, a question only, sms pending, email, none.
    registered = [a.mfa_registered for a in records.accounts[:5]]
    assert registered == [Tri.YES, Tri.NO, Tri.NO, Tri.YES, Tri.NO]
    assert all(a.mfa_enforced is a.mfa_registered for a in records.accounts)
    # The inactive policy's rule is not counted; the default policy's rule is reported.
    assert records.warnings == (
        "sign-on policy: active rule(s) '0prDefault' (0prDefault) allow sign-on without a factor "
        "while '0prMfa' (0prMfa) require one; rule conditions are not evaluated, so enforcement "
        "is taken to apply to every user",
    )
    assert_no_token(collected)


def test_an_exhausted_rate_limit_waits_for_the_reset(
    tmp_path: Path, server: OktaServer, exported: Records
) -> None:
    server.throttle[("factors", "00u0300")] = 42
    collected, delays = collect_live(tmp_path, server)

    assert len(delays) == 1 and 41 <= delays[0] <= 43.5  # until the reset, plus one second
    factor_calls = [r.path for r in server.requests if r.path == "/api/v1/users/00u0300/factors"]
    assert len(factor_calls) == 2
    assert collected.complete
    assert collected.records == exported


def test_a_single_500_is_retried(tmp_path: Path, server: OktaServer, exported: Records) -> None:
    server.fail_once.add(("users", 2))
    collected, delays = collect_live(tmp_path, server)

    assert len(delays) == 1 and 1 <= delays[0] <= 2
    assert collected.complete
    assert collected.records == exported


def test_a_user_whose_factors_fail_has_unknown_mfa(
    tmp_path: Path, server: OktaServer, exported: Records
) -> None:
    server.fail_always.add(("factors", FAILING_USER))
    collected, delays = collect_live(tmp_path, server)

    assert [2**n <= delay <= 2**n + 1 for n, delay in enumerate(delays)] == [True] * 5
    url = f"{server.url}/api/v1/users/{FAILING_USER}/factors"
    assert not collected.complete
    assert collected.incomplete_reason == (
        f"factors of 1 user(s) not read; first {FAILING_USER} ({url}): "
        "HTTP 500 Internal Server Error (6 attempts)"
    )
    failed = next(p for p in collected.payloads if p.name.endswith(".failed"))
    assert (failed.name, failed.source, json.loads(failed.data)) == (
        f"factors/{FAILING_USER}.failed",
        url,
        okta_error("E0000009", "Internal Server Error"),
    )

    records = collected.records
    assert okta.parse(collected.payloads, live_config(tmp_path, server)) == records
    for account, expected in zip(records.accounts, exported.accounts, strict=True):
        if account.account_id == FAILING_USER:
            assert (account.mfa_registered, account.mfa_enforced) == (Tri.UNKNOWN, Tri.UNKNOWN)
            assert expected.mfa_registered is Tri.NO  # never reported as no MFA for lack of data
        else:
            assert account == expected
    assert records.warnings == (
        *exported.warnings,
        "1 user(s) have factors/{userId}.failed: their factors could not be read, "
        "so their MFA registration is unknown",
    )
    assert_no_token(collected)


def test_a_failing_users_page_keeps_the_pages_read(
    tmp_path: Path, server: OktaServer, exported: Records
) -> None:
    server.fail_always.add(("users", 3))
    collected, _ = collect_live(tmp_path, server)

    assert not collected.complete
    assert collected.incomplete_reason == (
        f"users page 3 ({server.url}/api/v1/users?after=00u0399&limit=200): "
        "HTTP 500 Internal Server Error (6 attempts)"
    )
    assert [p.name for p in collected.payloads[:4]] == [
        "users.page-001.json",
        "users.page-002.json",
        "users.page-003.failed",
        "factors/00u0000.json",
    ]
    assert collected.parameters["pages"]["users"] == 2
    accounts = collected.records.accounts
    assert accounts == exported.accounts[:400]
    assert collected.records.warnings[0] == (
        "users.page-*.json: not read to the end; only the users on the pages read are listed"
    )


def test_a_failing_apps_page_keeps_the_apps_read(
    tmp_path: Path, server: OktaServer, exported: Records
) -> None:
    server.fail_always.add(("apps", 2))
    collected, _ = collect_live(tmp_path, server)

    assert not collected.complete
    assert collected.incomplete_reason == (
        f"apps page 2 ({server.url}/api/v1/apps?after=0oa0199&limit=200): "
        "HTTP 500 Internal Server Error (6 attempts)"
    )
    assert collected.payloads[-1].name == "apps.page-002.failed"
    records = collected.records
    assert records.applications == exported.applications[:200]
    assert records.accounts == exported.accounts
    assert records.warnings[-1] == (
        "apps.page-*.json: not read to the end; only the apps on the pages read are listed"
    )
    assert okta.parse(collected.payloads, live_config(tmp_path, server)) == records


@pytest.mark.parametrize(("policy_id", "enforcement_known"), [("00pMfa", False), ("00pOld", True)])
def test_failing_rules_of_an_active_policy_leave_enforcement_unknown(
    tmp_path: Path, server: OktaServer, exported: Records, policy_id: str, enforcement_known: bool
) -> None:
    server.fail_always.add(("rules", policy_id))
    collected, _ = collect_live(tmp_path, server)

    assert not collected.complete
    assert collected.incomplete_reason is not None
    assert collected.incomplete_reason.startswith(f"sign-on-policy-rules/{policy_id} page 1 (")
    registered = [a.mfa_registered for a in collected.records.accounts]
    assert registered == [a.mfa_registered for a in exported.accounts]
    enforced = [a.mfa_enforced for a in collected.records.accounts]
    if enforcement_known:
        assert enforced == [a.mfa_enforced for a in exported.accounts]
    else:
        assert set(enforced) == {Tri.UNKNOWN}
        assert (
            "sign-on-policy-rules/00pMfa.page-*.json: not read in full; MFA enforcement is unknown"
        ) in collected.records.warnings


def test_a_bad_token_is_an_input_error_without_the_token(
    tmp_path: Path, server: OktaServer
) -> None:
    bad = "00WrongTokenAlsoSecret999"
    config = live_config(tmp_path, server, secrets={"token": bad})
    with pytest.raises(InputError) as caught:
        OktaConnector(sleep=lambda _: None).collect(config)

    error = caught.value
    assert error.where == f"{server.url}/api/v1/users?limit=200"
    assert error.problem == "HTTP 401 Unauthorized: Invalid token provided"
    assert bad not in str(error) and bad not in repr(error.args)
    assert len(server.requests) == 1  # not retried


def test_a_token_without_permission_is_an_input_error(tmp_path: Path, server: OktaServer) -> None:
    server.forbidden.add("factors")
    with pytest.raises(InputError) as caught:
        collect_live(tmp_path, server)
    assert caught.value.where == f"{server.url}/api/v1/users/00u0000/factors"
    assert caught.value.problem == (
        "HTTP 403 Forbidden: You do not have permission to perform the requested action"
    )
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "secrets", "needs"),
    [
        ({}, {"token": TOKEN}, "the setting 'base_url'"),
        ({"base_url": "acme.okta.com"}, {"token": TOKEN}, "the setting 'base_url'"),
        ({"base_url": "https://acme.okta.com"}, {}, "the secret 'token'"),
    ],
)
def test_live_mode_needs_its_settings(
    tmp_path: Path, settings: dict[str, str], secrets: dict[str, str], needs: str
) -> None:
    config = ConnectorConfig("sys", "live", settings, secrets, tmp_path)
    with pytest.raises(InputError) as caught:
        OktaConnector().collect(config)
    assert caught.value.where == "system sys"
    assert f"connector 'okta' in mode 'live' needs {needs}" in caught.value.problem


def test_unknown_mode(tmp_path: Path) -> None:
    config = ConnectorConfig("sys", "api", {}, {"token": TOKEN}, tmp_path)
    with pytest.raises(InputError, match="use one of: export, live"):
        OktaConnector().collect(config)


def test_layouts_must_be_whole_and_not_mixed(clean_run: Run) -> None:
    config = clean_run.config
    payloads = list(clean_run.collected.payloads)

    without_page_two = [p for p in payloads if p.name != "users.page-002.json"]
    with pytest.raises(InputError) as caught:
        okta.parse(without_page_two, config)
    assert (caught.value.where, caught.value.problem) == (
        "users.page-*",
        "pages [1, 3] stored; pages must run from 1 without a gap",
    )

    users_file = RawPayload("users.json", "/x/users.json", b"[]")
    with pytest.raises(InputError, match="also holds pages of this list"):
        okta.parse([*payloads, users_file], config)

    rules_file = RawPayload("sign-on-policy-rules.json", "/x/rules.json", b"[]")
    with pytest.raises(InputError, match="also holds pages of sign-on policies"):
        okta.parse([*payloads, rules_file], config)

    without_policies = [p for p in payloads if p.name != "policies.page-001.json"]
    with pytest.raises(InputError) as caught:
        okta.parse(without_policies, config)
    assert caught.value.problem == "no sign-on policy with id '00pDefault' in policies.page-*.json"

    failed_too = RawPayload("factors/00u0001.failed", "/x", b"")
    with pytest.raises(InputError, match=r"also holds factors/00u0001\.json"):
        okta.parse([*payloads, failed_too], config)
