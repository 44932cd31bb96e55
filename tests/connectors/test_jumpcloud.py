from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.conftest import DROP, altered, local_where
from tests.connectors.jumpcloud_server import API_KEY, JumpCloudServer, application, system_user

from assay.connectors import jumpcloud, registry
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.connectors.jumpcloud import JumpCloudConnector
from assay.errors import InputError
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Application,
    Entitlement,
    Grant,
    Tri,
)

MakeConfig = Callable[..., ConnectorConfig]

YES, NO, UNKNOWN = Tri.YES, Tri.NO, Tri.UNKNOWN
ACTIVE, INACTIVE = AccountStatus.ACTIVE, AccountStatus.INACTIVE


def enrolment(status: str) -> dict[str, str]:
    return {
        "overallStatus": status,
        "totpStatus": status,
        "webAuthnStatus": "NOT_ENROLLED",
        "pushStatus": "NOT_ENROLLED",
    }


def unenrolled(number: int, username: str, status: str) -> dict[str, Any]:
    """A user whose enrolment is not (or not yet) usable: no TOTP configured."""
    return system_user(
        number,
        username=username,
        totp_enabled=False,
        mfa={"configured": False, "exclusion": False},
        mfaEnrollment=enrolment(status),
    )


def without(user: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in user.items() if key not in keys}


GOLDEN = [
    system_user(
        1,
        username="ada",
        email="Ada.Lovelace@Example.COM",
        firstname="Ada",
        lastname="Lovelace",
        employeeIdentifier="E-001",
        sudo=True,
    ),
    unenrolled(2, "not-enrolled", "NOT_ENROLLED"),
    unenrolled(3, "disabled", "DISABLED"),
    unenrolled(4, "expired", "ENROLLMENT_EXPIRED"),
    unenrolled(5, "pending", "PENDING_ACTIVATION"),
    unenrolled(6, "in-enrollment", "IN_ENROLLMENT"),
    unenrolled(7, "pre-enrollment", "PRE_ENROLLMENT"),
    without(system_user(8, username="legacy-totp"), "mfaEnrollment"),
    without(
        system_user(9, username="bare"),
        "mfaEnrollment",
        "mfa",
        "totp_enabled",
        "sudo",
        "passwordless_sudo",
        "email",
        "firstname",
        "lastname",
        "employeeIdentifier",
    ),
    system_user(
        10,
        username="excluded",
        mfa={"configured": True, "exclusion": True, "exclusionUntil": "2999-06-30T00:00:00.000Z"},
    ),
    system_user(
        11,
        username="exclusion-over",
        mfa={"configured": True, "exclusion": True, "exclusionUntil": "2020-01-01T00:00:00.000Z"},
    ),
    system_user(12, username="excluded-open", mfa={"configured": True, "exclusion": True}),
    system_user(13, username="suspended", suspended=True),
    system_user(14, username="state-suspended", state="SUSPENDED"),
    system_user(15, username="staged", state="STAGED", activated=False),
    system_user(16, username="locked", account_locked=True),
    system_user(17, username="odd-state", state="PENDING_DELETE"),
    system_user(18, username="nopasswd", passwordless_sudo=True),
    without(system_user(19, username="plain-id", id="64b0c0ffee-plain"), "_id"),
    system_user(20, username="new-status", mfaEnrollment=enrolment("SOMETHING_NEW")),
    system_user(21, username="not-configured", mfa={"configured": False, "exclusion": False}),
    without(system_user(22, username="no-mfa-object"), "mfa"),
    system_user(23, username="root-ish", sudo=True, passwordless_sudo=True),
]

EXPECTED = {
    # username: (status, mfa_registered, mfa_enforced, privileged)
    "ada": (ACTIVE, YES, YES, YES),
    "not-enrolled": (ACTIVE, NO, NO, NO),
    "disabled": (ACTIVE, NO, NO, NO),
    "expired": (ACTIVE, NO, NO, NO),
    "pending": (ACTIVE, NO, NO, NO),
    "in-enrollment": (ACTIVE, NO, NO, NO),
    "pre-enrollment": (ACTIVE, NO, NO, NO),
    "legacy-totp": (ACTIVE, YES, YES, NO),
    "bare": (ACTIVE, UNKNOWN, UNKNOWN, UNKNOWN),
    "excluded": (ACTIVE, YES, NO, NO),
    "exclusion-over": (ACTIVE, YES, YES, NO),
    "excluded-open": (ACTIVE, YES, NO, NO),
    "suspended": (INACTIVE, YES, YES, NO),
    "state-suspended": (INACTIVE, YES, YES, NO),
    "staged": (INACTIVE, YES, YES, NO),
    "locked": (ACTIVE, YES, YES, NO),
    "odd-state": (AccountStatus.UNKNOWN, YES, YES, NO),
    "nopasswd": (ACTIVE, YES, YES, YES),
    "plain-id": (ACTIVE, YES, YES, NO),
    "new-status": (ACTIVE, UNKNOWN, UNKNOWN, NO),
    "not-configured": (ACTIVE, YES, NO, NO),
    "no-mfa-object": (ACTIVE, YES, UNKNOWN, NO),
    "root-ish": (ACTIVE, YES, YES, YES),
}


GOLDEN_APPS = [
    application(1, displayLabel="Salesforce (prod)", displayName="Salesforce"),
    application(2, displayLabel="", displayName="Slack", active=False),
    without(application(3, name="github"), "displayLabel", "displayName", "active"),
]


def write_export(
    directory: Path,
    users: list[dict[str, Any]],
    total: int | None = None,
    apps: list[dict[str, Any]] | None = None,
) -> None:
    directory.mkdir(exist_ok=True)
    body = {"totalCount": len(users) if total is None else total, "results": users}
    (directory / "systemusers.json").write_text(json.dumps(body), encoding="utf-8")
    if apps is not None:
        apps_body = {"totalCount": len(apps), "results": apps}
        (directory / "applications.json").write_text(json.dumps(apps_body), encoding="utf-8")


def collect_export(
    make_config: MakeConfig,
    tmp_path: Path,
    users: list[dict[str, Any]],
    apps: list[dict[str, Any]] | None = None,
) -> Any:
    write_export(tmp_path / "jc", users, apps=apps)
    return JumpCloudConnector().collect(make_config(path="jc"))


NO_APPS = "applications.json not in the export; the organisation's SSO applications are not listed"


# Export mode


def test_golden_export(make_config: MakeConfig, tmp_path: Path) -> None:
    collected = collect_export(make_config, tmp_path, GOLDEN, GOLDEN_APPS)
    records = collected.records

    assert (collected.complete, collected.incomplete_reason) == (True, None)
    assert collected.parameters == {
        "path": str(tmp_path / "jc"),
        "files": ["applications.json", "systemusers.json"],
        "total_count": 23,
        "fetched": 23,
        "applications": {"total_count": 3, "fetched": 3},
        "optional_files_missing": [],
    }
    assert records.applications == (
        Application("sys", "5f0ab0ca7000000000000001", "Salesforce (prod)", active=True),
        Application("sys", "5f0ab0ca7000000000000002", "Slack", active=False),
        Application("sys", "5f0ab0ca7000000000000003", "github", active=True),
    )
    # Suspended users carry no deactivation time: the API gives none.
    assert {a.deactivated_at for a in records.accounts} == {None}
    assert registry.parser_for("jumpcloud")(collected.payloads, make_config()) == records
    by_name = {account.username: account for account in records.accounts}
    assert by_name["ada"] == Account(
        system_id="sys",
        account_id="64b0c0ffee00000000000001",
        username="ada",
        email="ada.lovelace@example.com",
        name="Ada Lovelace",
        employee_id="E-001",
        kind=AccountKind.HUMAN,
        status=ACTIVE,
        mfa_registered=YES,
        mfa_enforced=YES,
        last_login=None,
        last_login_source=None,
        privileged=YES,
    )
    bare = by_name["bare"]
    assert (bare.email, bare.name, bare.employee_id) == (None, None, None)
    assert by_name["plain-id"].account_id == "64b0c0ffee-plain"
    assert {
        name: (a.status, a.mfa_registered, a.mfa_enforced, a.privileged)
        for name, a in by_name.items()
    } == EXPECTED
    for account in records.accounts:  # created is never taken for a last login
        assert (account.kind, account.last_login, account.last_login_source) == (
            AccountKind.HUMAN,
            None,
            None,
        )

    assert records.entitlements == (
        Entitlement("sys", "sudo", "sudo", "permission", YES),
        Entitlement("sys", "passwordless_sudo", "passwordless_sudo", "permission", YES),
    )
    assert records.grants == (
        Grant("sys", "64b0c0ffee00000000000001", "sudo"),
        Grant("sys", "64b0c0ffee00000000000018", "passwordless_sudo"),
        Grant("sys", "64b0c0ffee00000000000023", "sudo"),
        Grant("sys", "64b0c0ffee00000000000023", "passwordless_sudo"),
    )
    assert records.warnings == (
        "user 'excluded': excluded from MFA (mfa.exclusion) until 2999-06-30T00:00:00+00:00; "
        "MFA is not enforced before then",
        "user 'excluded-open': excluded from MFA (mfa.exclusion) with no end date",
        "user 'locked': account locked (account_locked); counted as active, since a lockout "
        "is temporary and keeps the user's access",
        "user 'odd-state': unrecognised state 'PENDING_DELETE'; account status is unknown",
        "user 'new-status': unrecognised mfaEnrollment.overallStatus 'SOMETHING_NEW'; "
        "MFA registration is unknown",
    )


def test_exclusions_are_judged_at_the_given_time(make_config: MakeConfig) -> None:
    user = system_user(
        1, mfa={"configured": True, "exclusion": True, "exclusionUntil": "2024-07-01T00:00:00Z"}
    )
    body = json.dumps({"totalCount": 1, "results": [user]}).encode()
    payloads = [RawPayload("systemusers.json", "/x/systemusers.json", body)]
    config = make_config()
    during = jumpcloud.parse(
        payloads, replace(config, collected_at=datetime(2024, 6, 30, tzinfo=UTC))
    )
    after = jumpcloud.parse(
        payloads, replace(config, collected_at=datetime(2024, 7, 2, tzinfo=UTC))
    )
    assert (during.accounts[0].mfa_enforced, after.accounts[0].mfa_enforced) == (NO, YES)
    assert "until 2024-07-01T00:00:00+00:00" in during.warnings[0]
    assert after.warnings == (NO_APPS,)


def test_without_applications_file_none_are_listed(make_config: MakeConfig, tmp_path: Path) -> None:
    collected = collect_export(make_config, tmp_path, GOLDEN[:2])

    assert (collected.complete, collected.records.applications) == (True, ())
    assert len(collected.records.accounts) == 2
    assert collected.records.warnings[-1] == NO_APPS
    assert collected.parameters["optional_files_missing"] == ["applications.json"]
    assert collected.parameters["applications"] is None


def test_an_export_of_one_page_is_incomplete(make_config: MakeConfig, tmp_path: Path) -> None:
    write_export(tmp_path / "jc", GOLDEN[:10], total=250)  # saved without paging
    collected = JumpCloudConnector().collect(make_config(path="jc"))

    assert (collected.complete, collected.incomplete_reason) == (False, "fetched 10 of 250 users")
    assert collected.parameters["total_count"] == 250
    assert collected.records.warnings[0] == "systemusers.json: fetched 10 of 250 users"
    assert len(collected.records.accounts) == 10


def test_total_count_changing_between_pages(make_config: MakeConfig) -> None:
    def page(number: int, total: int, users: list[dict[str, Any]]) -> RawPayload:
        body = json.dumps({"totalCount": total, "results": users}).encode()
        return RawPayload(jumpcloud.page_name(number), f"https://jc/{number}", body)

    records = jumpcloud.parse(
        [page(1, 3, GOLDEN[:2]), page(2, 4, GOLDEN[2:3])], make_config("live")
    )
    assert records.warnings == (
        "systemusers.page-*.json: totalCount changed while paging (3, 4); "
        "users may have been missed or repeated",
        NO_APPS,
    )


def test_no_export_files(make_config: MakeConfig, tmp_path: Path) -> None:
    (tmp_path / "jc").mkdir()
    with pytest.raises(InputError, match=r"holds neither systemusers.json nor"):
        JumpCloudConnector().collect(make_config(path="jc"))


def test_unknown_mode(make_config: MakeConfig) -> None:
    with pytest.raises(InputError, match="use one of: export, live"):
        JumpCloudConnector().collect(make_config("api"))


def bad(field: str, value: Any) -> list[dict[str, Any]]:
    """GOLDEN with user 2 (``results[2]``) given ``value`` for ``field`` (a dotted path)."""
    return [*GOLDEN[:2], altered(GOLDEN[2], field, value)]


@pytest.mark.parametrize(
    ("users", "problem"),
    [
        (bad("_id", DROP), "results[2]._id: missing"),
        (bad("_id", 7), "results[2]._id: expected a string, got a number"),
        (bad("username", DROP), "results[2].username: missing"),
        (bad("username", " "), "results[2].username: empty"),
        (
            bad("_id", GOLDEN[0]["_id"]),
            "results[2]._id: duplicate '64b0c0ffee00000000000001' (also at results[0])",
        ),
        (bad("email", ["a@b"]), "results[2].email: expected a string, got an array"),
        (bad("state", 1), "results[2].state: expected a string, got a number"),
        (bad("suspended", "yes"), "results[2].suspended: expected a boolean, got a string"),
        (bad("sudo", 1), "results[2].sudo: expected a boolean, got a number"),
        (bad("mfa", True), "results[2].mfa: expected an object, got a boolean"),
        (
            bad("mfa.configured", "true"),
            "results[2].mfa.configured: expected a boolean, got a string",
        ),
        (
            bad("mfaEnrollment.overallStatus", 3),
            "results[2].mfaEnrollment.overallStatus: expected a string, got a number",
        ),
        (
            bad("mfa", {"exclusion": True, "exclusionUntil": "2999-01-01T00:00:00"}),
            "results[2].mfa.exclusionUntil: timestamp has no time zone: '2999-01-01T00:00:00'",
        ),
    ],
)
def test_bad_users(
    make_config: MakeConfig, tmp_path: Path, users: list[dict[str, Any]], problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        collect_export(make_config, tmp_path, users)
    assert (local_where(caught.value.where), caught.value.problem) == ("systemusers.json", problem)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "expected a JSON object with 'totalCount' and 'results', got an array"),
        ({"totalCount": 0}, "results: expected an array of users, missing"),
        ({"totalCount": 1, "results": {}}, "results: expected an array of users, got an object"),
        ({"totalCount": 1, "results": [1]}, "results[0]: expected an object, got a number"),
        ({"results": []}, "totalCount: expected a count of users, missing"),
        (
            {"totalCount": "3", "results": []},
            "totalCount: expected a count of users, got a string '3'",
        ),
    ],
)
def test_bad_users_bodies(make_config: MakeConfig, tmp_path: Path, body: Any, problem: str) -> None:
    (tmp_path / "jc").mkdir()
    (tmp_path / "jc" / "systemusers.json").write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        JumpCloudConnector().collect(make_config(path="jc"))
    assert (local_where(caught.value.where), caught.value.problem) == ("systemusers.json", problem)


@pytest.mark.parametrize(
    ("apps", "problem"),
    [
        ([without(GOLDEN_APPS[0], "_id")], "results[0]._id: missing"),
        (
            [GOLDEN_APPS[0], GOLDEN_APPS[0]],
            "results[1]._id: duplicate '5f0ab0ca7000000000000001' (also at results[0])",
        ),
        (
            [without(GOLDEN_APPS[0], "displayLabel", "displayName", "name")],
            "results[0].name: missing",
        ),
        (
            [{**GOLDEN_APPS[0], "displayLabel": ["App"]}],
            "results[0].displayLabel: expected a string, got an array",
        ),
        (
            [{**GOLDEN_APPS[0], "active": "yes"}],
            "results[0].active: expected a boolean, got a string",
        ),
        ([3], "results[0]: expected an object, got a number"),
    ],
)
def test_bad_applications(
    make_config: MakeConfig, tmp_path: Path, apps: list[Any], problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        collect_export(make_config, tmp_path, GOLDEN[:1], apps)
    assert (local_where(caught.value.where), caught.value.problem) == ("applications.json", problem)


def test_bad_applications_body(make_config: MakeConfig, tmp_path: Path) -> None:
    write_export(tmp_path / "jc", GOLDEN[:1])
    body = json.dumps({"results": []})
    (tmp_path / "jc" / "applications.json").write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        JumpCloudConnector().collect(make_config(path="jc"))
    assert (local_where(caught.value.where), caught.value.problem) == (
        "applications.json",
        "totalCount: expected a count of applications, missing",
    )


# Live mode

USERS = [
    system_user(
        n,
        sudo=n % 40 == 0,
        suspended=n % 25 == 3,
        account_locked=n == 111,
        mfaEnrollment=enrolment("NOT_ENROLLED" if n % 7 == 0 else "ENROLLED"),
        mfa={
            "configured": n % 7 != 0,
            "exclusion": n == 205,
            "exclusionUntil": "2999-01-01T00:00:00Z",
        },
    )
    for n in range(250)
]
APPS = [application(n, active=n % 9 != 4) for n in range(130)]


@pytest.fixture
def server() -> Iterator[JumpCloudServer]:
    with JumpCloudServer(USERS, APPS) as running:
        yield running


def live_config(
    tmp_path: Path, server: JumpCloudServer, secrets: dict[str, str] | None = None
) -> ConnectorConfig:
    return ConnectorConfig(
        system_id="sys",
        mode="live",
        settings={"base_url": server.url},
        secrets={"token": API_KEY} if secrets is None else secrets,
        base_dir=tmp_path,
    )


def collect_live(tmp_path: Path, server: JumpCloudServer) -> tuple[Collected, list[float]]:
    """Collect with a sleep that records each requested delay and returns at once."""
    delays: list[float] = []
    collected = JumpCloudConnector(sleep=delays.append).collect(live_config(tmp_path, server))
    return collected, delays


def export_records(make_config: MakeConfig, tmp_path: Path) -> Any:
    return collect_export(make_config, tmp_path, USERS, APPS).records


def assert_no_key(collected: Collected) -> None:
    for payload in collected.payloads:
        assert API_KEY not in payload.source
        assert API_KEY.encode() not in payload.data
    assert API_KEY not in json.dumps(collected.parameters)
    assert API_KEY not in (collected.incomplete_reason or "")
    assert all(API_KEY not in warning for warning in collected.records.warnings)


def test_every_page_is_read_and_matches_export_mode(
    make_config: MakeConfig, tmp_path: Path, server: JumpCloudServer
) -> None:
    collected, delays = collect_live(tmp_path, server)

    assert delays == []
    assert (collected.mode, collected.complete, collected.incomplete_reason) == ("live", True, None)
    assert [(p.name, p.source) for p in collected.payloads] == [
        *(
            (
                f"systemusers.page-00{n + 1}.json",
                f"{server.url}/api/systemusers?limit=100&skip={skip}",
            )
            for n, skip in enumerate((0, 100, 200))
        ),
        ("applications.page-001.json", f"{server.url}/api/applications?limit=100&skip=0"),
        ("applications.page-002.json", f"{server.url}/api/applications?limit=100&skip=100"),
    ]
    assert [len(json.loads(p.data)["results"]) for p in collected.payloads] == [
        100,
        100,
        50,
        100,
        30,
    ]
    assert collected.parameters == {
        "base_url": server.url,
        "limit": 100,
        "pages": {"systemusers": 3, "applications": 2},
        "total_count": 250,
        "fetched": 250,
        "applications": {"total_count": 130, "fetched": 130},
    }
    assert server.requests[0].headers["x-api-key"] == API_KEY
    assert server.requests[0].headers["accept"] == "application/json"

    records = collected.records
    assert records == export_records(make_config, tmp_path)
    assert jumpcloud.parse(collected.payloads, live_config(tmp_path, server)) == records
    replay = registry.parser_for("jumpcloud")(collected.payloads, live_config(tmp_path, server))
    assert replay == records
    assert records.applications == tuple(
        Application("sys", app["_id"], f"App {n:03d}", active=n % 9 != 4)
        for n, app in enumerate(APPS)
    )
    by_name = {account.username: account for account in records.accounts}
    assert len(by_name) == 250
    assert (by_name["user003"].status, by_name["user111"].status) == (INACTIVE, ACTIVE)
    assert (by_name["user007"].mfa_registered, by_name["user007"].mfa_enforced) == (NO, NO)
    assert (by_name["user205"].mfa_registered, by_name["user205"].mfa_enforced) == (YES, NO)
    assert [a.username for a in records.accounts if a.privileged is YES] == [
        f"user{n:03d}" for n in range(0, 250, 40)
    ]
    assert len(records.grants) == 7
    assert len(records.warnings) == 2  # user111's lock, user205's exclusion
    assert_no_key(collected)

    # The live layout saved to disk is an export too.
    directory = tmp_path / "pages"
    directory.mkdir()
    for payload in collected.payloads:
        (directory / payload.name).write_bytes(payload.data)
    from_pages = JumpCloudConnector().collect(make_config(path="pages"))
    assert (from_pages.complete, from_pages.records) == (True, records)


def test_429_waits_as_retry_after_says(tmp_path: Path, server: JumpCloudServer) -> None:
    server.retry_after[2] = "7"
    collected, delays = collect_live(tmp_path, server)

    assert delays == [7.0]
    assert (
        server.requests[1].path == server.requests[2].path == "/api/systemusers?limit=100&skip=100"
    )
    assert collected.complete
    assert len(collected.records.accounts) == 250


def test_a_single_500_is_retried(
    make_config: MakeConfig, tmp_path: Path, server: JumpCloudServer
) -> None:
    server.fail_once.add(("systemusers", 200))
    collected, delays = collect_live(tmp_path, server)

    assert len(delays) == 1 and 1 <= delays[0] <= 2
    assert len(server.requests) == 6
    assert collected.complete
    assert collected.records == export_records(make_config, tmp_path)


def test_a_short_last_page_leaves_the_population_incomplete(tmp_path: Path) -> None:
    with JumpCloudServer(USERS[:180], total_count=200) as short:
        collected, _ = collect_live(tmp_path, short)

    assert [r.path.split("?")[1] for r in short.requests] == [
        "limit=100&skip=0",
        "limit=100&skip=100",
        "limit=100&skip=180",  # one more ask, which comes back empty
        "limit=100&skip=0",  # the applications: none
    ]
    assert (collected.complete, collected.incomplete_reason) == (False, "fetched 180 of 200 users")
    assert collected.parameters["total_count"] == 200
    assert collected.parameters["fetched"] == 180
    assert len(collected.records.accounts) == 180
    assert collected.records.warnings[0] == "systemusers.page-*.json: fetched 180 of 200 users"


def test_a_failing_page_keeps_the_pages_read(tmp_path: Path, server: JumpCloudServer) -> None:
    server.fail_always.add(("systemusers", 200))
    collected, delays = collect_live(tmp_path, server)

    assert [2**n <= delay <= 2**n + 1 for n, delay in enumerate(delays)] == [True] * 5
    url = f"{server.url}/api/systemusers?limit=100&skip=200"
    assert not collected.complete
    assert collected.incomplete_reason == (
        f"systemusers page 3 ({url}): HTTP 500 Internal Server Error (6 attempts); "
        "fetched 200 of 250 users"
    )
    failed = collected.payloads[2]
    assert (failed.name, failed.source, json.loads(failed.data)) == (
        "systemusers.page-003.failed",
        url,
        {"message": "Internal Server Error"},
    )
    assert collected.parameters["pages"] == {"systemusers": 2, "applications": 2}
    assert len(collected.records.accounts) == 200
    assert jumpcloud.parse(collected.payloads, live_config(tmp_path, server)) == collected.records
    assert collected.records.warnings[:2] == (
        "systemusers.page-*.json: systemusers page 3 failed",
        "systemusers.page-*.json: fetched 200 of 250 users",
    )
    assert_no_key(collected)


def test_a_failing_applications_page_keeps_the_applications_read(
    tmp_path: Path, server: JumpCloudServer
) -> None:
    server.fail_always.add(("applications", 100))
    collected, _ = collect_live(tmp_path, server)

    url = f"{server.url}/api/applications?limit=100&skip=100"
    assert not collected.complete
    assert collected.incomplete_reason == (
        f"applications page 2 ({url}): HTTP 500 Internal Server Error (6 attempts); "
        "fetched 100 of 130 applications"
    )
    assert collected.payloads[-1].name == "applications.page-002.failed"
    records = collected.records
    assert len(records.accounts) == 250
    assert [a.app_id for a in records.applications] == [app["_id"] for app in APPS[:100]]
    assert records.warnings[:2] == (
        "applications.page-*.json: applications page 2 failed",
        "applications.page-*.json: fetched 100 of 130 applications",
    )
    assert jumpcloud.parse(collected.payloads, live_config(tmp_path, server)) == records


def test_a_bad_key_is_an_input_error_without_the_key(
    tmp_path: Path, server: JumpCloudServer
) -> None:
    wrong = "jca_WrongKeyAlsoSecret999"
    with pytest.raises(InputError) as caught:
        JumpCloudConnector(sleep=lambda _: None).collect(
            live_config(tmp_path, server, secrets={"token": wrong})
        )

    error = caught.value
    assert error.where == f"{server.url}/api/systemusers?limit=100&skip=0"
    assert error.problem == "HTTP 401 Unauthorized: Unauthorized"
    assert wrong not in str(error) and wrong not in repr(error.args)
    assert len(server.requests) == 1  # not retried


def test_live_mode_needs_the_token_secret(tmp_path: Path, server: JumpCloudServer) -> None:
    with pytest.raises(InputError) as caught:
        JumpCloudConnector().collect(live_config(tmp_path, server, secrets={}))
    assert caught.value.where == "system sys"
    assert "secret 'token'" in caught.value.problem
    assert server.requests == []


def test_paged_layout_must_be_whole(tmp_path: Path, server: JumpCloudServer) -> None:
    collected, _ = collect_live(tmp_path, server)
    config = live_config(tmp_path, server)
    without_two = [p for p in collected.payloads if p.name != "systemusers.page-002.json"]
    with pytest.raises(InputError) as caught:
        jumpcloud.parse(without_two, config)
    assert (caught.value.where, caught.value.problem) == (
        "systemusers.page-*",
        "pages [1, 3] stored; pages must run from 1 without a gap",
    )

    both = [*collected.payloads, RawPayload("systemusers.json", "/x/systemusers.json", b"{}")]
    with pytest.raises(InputError, match="also holds pages of this list"):
        jumpcloud.parse(both, config)

    repeated = [
        collected.payloads[0],
        RawPayload("systemusers.page-002.json", "u2", collected.payloads[0].data),
    ]
    with pytest.raises(InputError) as caught:
        jumpcloud.parse(repeated, config)
    assert caught.value.problem == (
        "results[0]._id: duplicate '64b0c0ffee00000000000000' "
        "(also at systemusers.page-001.json results[0])"
    )
