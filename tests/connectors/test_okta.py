from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.conftest import local_where

from assay.connectors import okta, registry
from assay.connectors.base import ConnectorConfig
from assay.connectors.okta import OktaConnector
from assay.errors import InputError
from assay.inventory.records import Account, AccountKind, AccountStatus, Application, Tri

MakeConfig = Callable[..., ConnectorConfig]


def user(
    user_id: str,
    status: str,
    login: str,
    *,
    last_login: str | None = None,
    status_changed: str | None = "2023-01-02T03:04:05.000Z",
    **profile: Any,
) -> dict[str, Any]:
    """A user object shaped like Okta's ``GET /api/v1/users`` response."""
    return {
        "id": user_id,
        "status": status,
        "created": "2023-01-02T03:04:05.000Z",
        "activated": "2023-01-02T03:04:05.000Z",
        "statusChanged": status_changed,
        "lastLogin": last_login,
        "lastUpdated": "2024-06-01T00:00:00.000Z",
        "passwordChanged": "2023-01-02T03:04:05.000Z",
        "type": {"id": "oty1"},
        "profile": {"login": login, **profile},
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": f"https://example.okta.com/api/v1/users/{user_id}"}},
    }


def factor(factor_type: str, status: str) -> dict[str, Any]:
    return {
        "id": f"f-{factor_type}",
        "factorType": factor_type,
        "provider": "OKTA",
        "vendorName": "OKTA",
        "status": status,
        "created": "2023-01-02T03:04:05.000Z",
    }


def rule(name: str, status: str, access: str, require_factor: bool | None) -> dict[str, Any]:
    signon: dict[str, Any] = {"access": access}
    if require_factor is not None:
        signon["requireFactor"] = require_factor
    return {
        "id": f"r-{name}",
        "name": name,
        "status": status,
        "type": "SIGN_ON",
        "actions": {"signon": signon},
        "conditions": {"people": {"users": {"exclude": []}}},
    }


USERS = [
    user(
        "00u1",
        "ACTIVE",
        "ada@example.com",
        last_login="2024-05-01T14:00:00.000+02:00",
        email="Ada@Example.com",
        firstName="Ada",
        lastName="Lovelace",
        employeeNumber="E001",
    ),
    user("00u2", "SUSPENDED", "bob@example.com", email="bob@example.com", firstName="Bob"),
    user("00u3", "PROVISIONED", "carol@example.com", employeeNumber=1003),
    user(
        "00u4",
        "LOCKED_OUT",
        "dan@example.com",
        last_login="2024-04-30T08:15:00.000Z",
        lastName="Dan",
    ),
    user("00u5", "SOMETHING_NEW", "eve@example.com"),
]
FACTORS = {
    "00u1": [factor("push", "ACTIVE"), factor("question", "ACTIVE")],
    "00u2": [factor("question", "ACTIVE"), factor("sms", "PENDING_ACTIVATION")],
    # 00u3 has no factors file at all.
    "00u4": [factor("email", "ACTIVE")],
    "00u5": [],
}


def app(app_id: str, label: str, status: str, name: str = "bookmark") -> dict[str, Any]:
    """An application object shaped like Okta's ``GET /api/v1/apps`` response."""
    return {
        "id": app_id,
        "name": name,
        "label": label,
        "status": status,
        "signOnMode": "SAML_2_0",
        "created": "2023-01-02T03:04:05.000Z",
        "lastUpdated": "2024-06-01T00:00:00.000Z",
        "_links": {"self": {"href": f"https://example.okta.com/api/v1/apps/{app_id}"}},
    }


APPS = [
    app("0oa1", "Salesforce", "ACTIVE", "salesforce"),
    app("0oa2", "Old Wiki", "INACTIVE"),
    app("0oa3", "Payroll", "SOMETHING_NEW"),
]
RULES = [
    rule("Catch-all", "ACTIVE", "ALLOW", False),
    rule("Require MFA", "ACTIVE", "ALLOW", True),
    rule("Old", "INACTIVE", "ALLOW", True),
]


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2), encoding="utf-8")


def export(
    tmp_path: Path,
    users: Any = None,
    factors: dict[str, Any] | None = None,
    rules: Any = None,
    apps: Any = None,
) -> Path:
    directory = tmp_path / "okta"
    directory.mkdir()
    write_json(directory / "users.json", USERS if users is None else users)
    for user_id, body in (FACTORS if factors is None else factors).items():
        write_json(directory / "factors" / f"{user_id}.json", body)
    if rules is not None:
        write_json(directory / "sign-on-policy-rules.json", rules)
    if apps is not None:
        write_json(directory / "apps.json", apps)
    return directory


def collect(make_config: MakeConfig) -> tuple[Account, ...]:
    return OktaConnector().collect(make_config(path="okta")).records.accounts


def by_id(accounts: tuple[Account, ...]) -> dict[str, Account]:
    return {account.account_id: account for account in accounts}


def test_accounts_field_by_field(tmp_path: Path, make_config: MakeConfig) -> None:
    export(tmp_path, rules=RULES)
    accounts = collect(make_config)

    assert accounts[0] == Account(
        system_id="sys",
        account_id="00u1",
        username="ada@example.com",
        email="ada@example.com",
        name="Ada Lovelace",
        employee_id="E001",
        kind=AccountKind.HUMAN,
        status=AccountStatus.ACTIVE,
        mfa_registered=Tri.YES,
        mfa_enforced=Tri.YES,
        last_login=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        last_login_source="okta:lastLogin",
        privileged=Tri.UNKNOWN,
    )
    assert accounts[0].last_login is not None
    assert accounts[0].last_login.utcoffset() is not None
    assert accounts[0].last_login.tzinfo == UTC

    bob = accounts[1]
    assert (bob.status, bob.name, bob.email, bob.employee_id) == (
        AccountStatus.INACTIVE,
        "Bob",
        "bob@example.com",
        None,
    )
    assert bob.last_login is None
    assert bob.last_login_source == "okta:lastLogin"

    carol = accounts[2]
    assert (carol.status, carol.name, carol.email, carol.employee_id) == (
        AccountStatus.ACTIVE,
        None,
        None,
        "1003",
    )
    assert accounts[3].name == "Dan"
    assert accounts[3].last_login == datetime(2024, 4, 30, 8, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("ACTIVE", AccountStatus.ACTIVE),
        ("RECOVERY", AccountStatus.ACTIVE),
        ("PASSWORD_EXPIRED", AccountStatus.ACTIVE),
        ("LOCKED_OUT", AccountStatus.ACTIVE),
        ("PROVISIONED", AccountStatus.ACTIVE),
        ("STAGED", AccountStatus.INACTIVE),
        ("SUSPENDED", AccountStatus.INACTIVE),
        ("DEPROVISIONED", AccountStatus.INACTIVE),
        ("active", AccountStatus.UNKNOWN),
        ("ARCHIVED", AccountStatus.UNKNOWN),
    ],
)
def test_status_mapping(
    tmp_path: Path, make_config: MakeConfig, status: str, expected: AccountStatus
) -> None:
    export(tmp_path, users=[user("00u1", status, "a@example.com")], factors={})
    records = OktaConnector().collect(make_config(path="okta")).records
    assert records.accounts[0].status is expected
    flagged = any("unrecognised status" in warning for warning in records.warnings)
    assert flagged is (expected is AccountStatus.UNKNOWN)


def test_mfa_registration_and_enforcement(tmp_path: Path, make_config: MakeConfig) -> None:
    export(tmp_path, rules=RULES)
    records = OktaConnector().collect(make_config(path="okta")).records
    mfa = {a.account_id: (a.mfa_registered, a.mfa_enforced) for a in records.accounts}
    assert mfa == {
        "00u1": (Tri.YES, Tri.YES),  # push is active (the question is not counted)
        "00u2": (Tri.NO, Tri.NO),  # a question only, sms pending
        "00u3": (Tri.UNKNOWN, Tri.UNKNOWN),  # no factors file
        "00u4": (Tri.YES, Tri.YES),  # email: weak, but a factor
        "00u5": (Tri.NO, Tri.NO),  # empty list
    }
    assert "1 user(s) have no factors/{userId}.json file; their MFA registration is unknown" in (
        records.warnings
    )
    # The catch-all rule allowing sign-on without a factor is reported, not silently ignored.
    assert any("'Catch-all'" in w and "without a factor" in w for w in records.warnings)


def test_rules_without_an_active_factor_requirement_mean_not_enforced(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    export(
        tmp_path,
        rules=[
            rule("Old", "INACTIVE", "ALLOW", True),
            rule("Deny", "ACTIVE", "DENY", True),
            rule("Allow", "ACTIVE", "ALLOW", None),
            {"id": "r0", "status": "ACTIVE", "name": "no actions"},
        ],
    )
    mfa = {a.account_id: (a.mfa_registered, a.mfa_enforced) for a in collect(make_config)}
    assert mfa["00u1"] == (Tri.YES, Tri.NO)
    assert mfa["00u2"] == (Tri.NO, Tri.NO)
    assert mfa["00u3"] == (Tri.UNKNOWN, Tri.NO)


def test_without_rules_file_enforcement_is_unknown(tmp_path: Path, make_config: MakeConfig) -> None:
    export(tmp_path)
    records = OktaConnector().collect(make_config(path="okta")).records
    assert {a.mfa_enforced for a in records.accounts} == {Tri.UNKNOWN}
    assert by_id(records.accounts)["00u1"].mfa_registered is Tri.YES
    assert "sign-on-policy-rules.json not in the export; MFA enforcement is unknown" in (
        records.warnings
    )


def test_without_factors_directory_registration_is_unknown(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    export(tmp_path, factors={}, rules=RULES)
    assert {(a.mfa_registered, a.mfa_enforced) for a in collect(make_config)} == {
        (Tri.UNKNOWN, Tri.UNKNOWN)
    }


def test_suspended_and_deprovisioned_users_were_deactivated_at_their_status_change(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    changed = "2024-03-04T05:06:07.000Z"
    users = [
        user("00u1", "SUSPENDED", "a@example.com", status_changed=changed),
        user("00u2", "DEPROVISIONED", "b@example.com", status_changed=changed),
        user("00u3", "ACTIVE", "c@example.com", status_changed=changed),
        user("00u4", "STAGED", "d@example.com", status_changed=changed),
        user("00u5", "DEPROVISIONED", "e@example.com", status_changed=None),
    ]
    export(tmp_path, users=users, factors={})
    deactivated = [a.deactivated_at for a in collect(make_config)]
    when = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert deactivated == [when, when, None, None, None]


def test_apps_are_applications(tmp_path: Path, make_config: MakeConfig) -> None:
    export(tmp_path, apps=APPS)
    collected = OktaConnector().collect(make_config(path="okta"))

    assert collected.records.applications == (
        Application("sys", "0oa1", "Salesforce", active=True),
        Application("sys", "0oa2", "Old Wiki", active=False),
        Application("sys", "0oa3", "Payroll", active=True),
    )
    assert (
        "app 'Payroll' (0oa3): unrecognised status 'SOMETHING_NEW'; counted as active"
        in collected.records.warnings
    )
    assert collected.parameters["applications"] == 3
    assert collected.parameters["optional_files_missing"] == ["sign-on-policy-rules.json"]


def test_without_apps_file_no_applications_are_listed(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    export(tmp_path, rules=RULES)
    collected = OktaConnector().collect(make_config(path="okta"))

    assert collected.records.applications == ()
    assert len(collected.records.accounts) == len(USERS)
    assert "apps.json not in the export; the org's applications are not listed" in (
        collected.records.warnings
    )
    assert collected.parameters["optional_files_missing"] == ["apps.json"]
    assert collected.parameters["applications"] == 0


def test_payloads_are_the_files_and_reparse_identically(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    directory = export(tmp_path, factors={**FACTORS, "00uGHOST": []}, rules=RULES, apps=APPS)
    config = make_config(path="okta")
    collected = OktaConnector().collect(config)

    names = [p.name for p in collected.payloads]
    assert names == [
        "users.json",
        "factors/00u1.json",
        "factors/00u2.json",
        "factors/00u4.json",
        "factors/00u5.json",
        "factors/00uGHOST.json",
        "sign-on-policy-rules.json",
        "apps.json",
    ]
    for payload in collected.payloads:
        assert payload.source == str(directory / payload.name)
        assert payload.data == (directory / payload.name).read_bytes()
    assert okta.parse(collected.payloads, config) == collected.records
    assert registry.parser_for("okta")(collected.payloads, config) == collected.records
    assert "factors/00uGHOST.json: no user with id '00uGHOST' in users.json; ignored" in (
        collected.records.warnings
    )
    assert collected.parameters["users"] == 5
    assert collected.parameters["factor_files"] == 5


def test_live_mode_needs_the_org_url(tmp_path: Path, make_config: MakeConfig) -> None:
    export(tmp_path)
    with pytest.raises(InputError, match="mode 'live' needs the setting 'base_url'"):
        OktaConnector().collect(make_config(mode="live", path="okta"))


def test_missing_export_directory(tmp_path: Path, make_config: MakeConfig) -> None:
    with pytest.raises(InputError) as caught:
        OktaConnector().collect(make_config(path="okta"))
    assert caught.value.where == str(tmp_path / "okta")


def test_missing_users_file_is_named(tmp_path: Path, make_config: MakeConfig) -> None:
    (tmp_path / "okta").mkdir()
    with pytest.raises(InputError) as caught:
        OktaConnector().collect(make_config(path="okta"))
    assert caught.value.where == str(tmp_path / "okta" / "users.json")
    assert caught.value.problem == "file not found"


def error_for(tmp_path: Path, make_config: MakeConfig, **parts: Any) -> InputError:
    export(tmp_path, **parts)
    with pytest.raises(InputError) as caught:
        OktaConnector().collect(make_config(path="okta"))
    return caught.value


def without(mapping: dict[str, Any], *path: str) -> dict[str, Any]:
    copy = json.loads(json.dumps(mapping))
    target = copy
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return copy


@pytest.mark.parametrize(
    ("users", "where", "problem"),
    [
        ({"users": USERS}, "users.json", "expected a JSON array of users, got an object"),
        ([USERS[0], "00u2"], "users.json", "[1]: expected an object, got a string"),
        ([USERS[0], without(USERS[1], "id")], "users.json", "[1].id: missing"),
        ([without(USERS[0], "status")], "users.json", "[0].status: missing"),
        ([without(USERS[0], "profile")], "users.json", "[0].profile: missing"),
        (
            [USERS[0], USERS[1], USERS[2], without(USERS[3], "profile", "login")],
            "users.json",
            "[3].profile.login: missing",
        ),
        (
            [{**USERS[0], "profile": {**USERS[0]["profile"], "login": 42}}],
            "users.json",
            "[0].profile.login: expected a string, got a number",
        ),
        (
            [USERS[0], {**USERS[1], "id": "00u1"}],
            "users.json",
            "[1].id: duplicate '00u1' (also at [0])",
        ),
        (
            [{**USERS[0], "lastLogin": "yesterday"}],
            "users.json",
            "[0].lastLogin: not an ISO 8601 timestamp: 'yesterday'",
        ),
        (
            [{**USERS[0], "lastLogin": "2024-05-01T12:00:00"}],
            "users.json",
            "[0].lastLogin: timestamp has no time zone: '2024-05-01T12:00:00'",
        ),
        (
            [{**USERS[1], "statusChanged": "last week"}],
            "users.json",
            "[0].statusChanged: not an ISO 8601 timestamp: 'last week'",
        ),
    ],
)
def test_malformed_users(
    tmp_path: Path, make_config: MakeConfig, users: Any, where: str, problem: str
) -> None:
    error = error_for(tmp_path, make_config, users=users)
    assert (local_where(error.where), error.problem) == (where, problem)


def test_invalid_json_names_the_line(tmp_path: Path, make_config: MakeConfig) -> None:
    directory = export(tmp_path)
    (directory / "users.json").write_text('[\n  {"id": "00u1",\n]\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        OktaConnector().collect(make_config(path="okta"))
    assert local_where(caught.value.where) == "users.json:3"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"factors": []}, "expected a JSON array of factors, got an object"),
        ([factor("push", "ACTIVE"), {"factorType": "sms"}], "[1].status: missing"),
        ([{"status": "ACTIVE"}], "[0].factorType: missing"),
    ],
)
def test_malformed_factors(
    tmp_path: Path, make_config: MakeConfig, body: Any, problem: str
) -> None:
    error = error_for(tmp_path, make_config, factors={**FACTORS, "00u4": body})
    assert (local_where(error.where), error.problem) == ("factors/00u4.json", problem)


def test_rules_must_be_an_array(tmp_path: Path, make_config: MakeConfig) -> None:
    error = error_for(tmp_path, make_config, rules={"rules": RULES})
    assert local_where(error.where) == "sign-on-policy-rules.json"
    assert "JSON array" in error.problem


@pytest.mark.parametrize(
    ("apps", "problem"),
    [
        ({"apps": APPS}, "expected a JSON array of apps, got an object"),
        ([APPS[0], "0oa2"], "[1]: expected an object, got a string"),
        ([APPS[0], without(APPS[1], "id")], "[1].id: missing"),
        ([without(APPS[0], "label")], "[0].label: missing"),
        ([{**APPS[0], "label": 7}], "[0].label: expected a string, got a number"),
        ([without(APPS[0], "status")], "[0].status: missing"),
        ([APPS[0], {**APPS[1], "id": "0oa1"}], "[1].id: duplicate '0oa1' (also at [0])"),
    ],
)
def test_malformed_apps(tmp_path: Path, make_config: MakeConfig, apps: Any, problem: str) -> None:
    error = error_for(tmp_path, make_config, apps=apps)
    assert (local_where(error.where), error.problem) == ("apps.json", problem)
