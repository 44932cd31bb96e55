from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.conftest import DROP, altered
from tests.connectors.google_server import (
    ACCESS_TOKEN,
    GoogleServer,
    directory_user,
    oauth_token,
    tokens_body,
)

from assay.connectors import google_workspace, registry
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.connectors.google_workspace import GoogleWorkspaceConnector
from assay.errors import InputError
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Application,
    Credential,
    Tri,
)

MakeConfig = Callable[..., ConnectorConfig]

YES, NO, UNKNOWN = Tri.YES, Tri.NO, Tri.UNKNOWN
ACTIVE, INACTIVE = AccountStatus.ACTIVE, AccountStatus.INACTIVE
GMAIL = "https://mail.google.com/"
DRIVE = "https://www.googleapis.com/auth/drive"
DRIVE_READ = "https://www.googleapis.com/auth/drive.readonly"
OPENID = "openid"
DIRECTORY = "https://www.googleapis.com/auth/admin.directory.user"


def without(user: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in user.items() if key not in keys}


GOLDEN = [
    directory_user(
        1,
        primaryEmail="Ada.Lovelace@Example.COM",
        name={"fullName": "Ada Lovelace"},
        isAdmin=True,
        lastLoginTime="2024-06-01T12:00:00.000Z",
    ),
    directory_user(2, isDelegatedAdmin=True, isEnforcedIn2Sv=False),
    directory_user(3, isEnrolledIn2Sv=False, isEnforcedIn2Sv=False),
    directory_user(4, suspended=True, lastLoginTime="1970-01-01T00:00:00.000Z"),
    directory_user(5, archived=True),
    without(
        directory_user(6),
        "isEnrolledIn2Sv",
        "isEnforcedIn2Sv",
        "isAdmin",
        "isDelegatedAdmin",
        "lastLoginTime",
        "name",
    ),
    directory_user(7),  # active, but no tokens file
]
GOLDEN_TOKENS = {
    GOLDEN[0]["id"]: [
        oauth_token("111.apps.googleusercontent.com", "Mail Merge", GMAIL, OPENID),
        oauth_token("222.apps.googleusercontent.com", "Viewer", DRIVE_READ),
    ],
    GOLDEN[1]["id"]: [
        oauth_token("333.apps", "Sync", DRIVE, DIRECTORY),
        oauth_token("222.apps.googleusercontent.com", "Viewer", DRIVE_READ),
    ],
    GOLDEN[2]["id"]: [],
    GOLDEN[5]["id"]: [
        oauth_token("444.apps", "No scopes", scopes=None),
        oauth_token("555.apps", "", OPENID),
    ],
}


def write_export(
    directory: Path,
    users: list[dict[str, Any]],
    tokens: dict[str, list[dict[str, Any]]],
    **extra: Any,
) -> None:
    (directory / "tokens").mkdir(parents=True, exist_ok=True)
    body = {"kind": "admin#directory#users", "users": users, **extra}
    (directory / "users.json").write_text(json.dumps(body), encoding="utf-8")
    for user_id, items in tokens.items():
        (directory / "tokens" / f"{user_id}.json").write_text(json.dumps(tokens_body(items)))


def collect_export(
    make_config: MakeConfig,
    tmp_path: Path,
    users: list[dict[str, Any]],
    tokens: dict[str, list[dict[str, Any]]],
    **extra: Any,
) -> Collected:
    write_export(tmp_path / "gw", users, tokens, **extra)
    return GoogleWorkspaceConnector().collect(make_config(path="gw"))


def account(number: int, **fields: Any) -> Account:
    values: dict[str, Any] = {
        "system_id": "sys",
        "account_id": f"1{number:020d}",
        "username": f"User{number:04d}@Example.com",
        "email": f"user{number:04d}@example.com",
        "name": f"User {number:04d}",
        "employee_id": None,
        "kind": AccountKind.HUMAN,
        "status": ACTIVE,
        "mfa_registered": YES,
        "mfa_enforced": YES,
        "last_login": datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
        "last_login_source": "google:lastLoginTime",
        "privileged": NO,
    }
    values.update(fields)
    return Account(**values)


def grant(number: int, client_id: str, app: str, broad: Tri, *scopes: str) -> Credential:
    user_id = f"1{number:020d}"
    return Credential(
        system_id="sys",
        credential_id=f"{user_id}:{client_id}",
        kind="oauth_grant",
        account_id=user_id,
        active=True,
        created=None,
        last_rotated=None,
        last_used=None,
        last_used_source=None,
        expires_at=None,
        expiry=UNKNOWN,
        scopes=scopes,
        third_party=app,
        broad=broad,
    )


# Export mode


def test_golden_export(make_config: MakeConfig, tmp_path: Path) -> None:
    collected = collect_export(make_config, tmp_path, GOLDEN, GOLDEN_TOKENS)
    records = collected.records

    assert (collected.complete, collected.incomplete_reason) == (True, None)
    assert collected.parameters == {
        "path": str(tmp_path / "gw"),
        "files": ["users.json"],
        "users": 7,
        "token_files": 4,
        "applications": 5,
    }
    assert records.accounts == (
        account(
            1,
            username="Ada.Lovelace@Example.COM",
            email="ada.lovelace@example.com",
            name="Ada Lovelace",
            last_login=datetime(2024, 6, 1, 12, tzinfo=UTC),
            privileged=YES,
        ),
        account(2, mfa_enforced=NO, privileged=YES),
        account(3, mfa_registered=NO, mfa_enforced=NO),
        account(
            4,
            status=INACTIVE,
            last_login=None,
            last_login_source="google:lastLoginTime (never)",
        ),
        account(5, status=INACTIVE),
        account(
            6,
            name=None,
            mfa_registered=UNKNOWN,
            mfa_enforced=UNKNOWN,
            privileged=UNKNOWN,
            last_login=None,
            last_login_source=None,
        ),
        account(7),
    )
    viewer = "222.apps.googleusercontent.com"
    assert records.credentials == (
        grant(1, "111.apps.googleusercontent.com", "Mail Merge", YES, GMAIL, OPENID),
        grant(1, viewer, "Viewer", NO, DRIVE_READ),
        grant(2, "333.apps", "Sync", YES, DRIVE, DIRECTORY),
        grant(2, viewer, "Viewer", NO, DRIVE_READ),
        grant(6, "444.apps", "No scopes", NO),
        grant(6, "555.apps", "555.apps", NO, OPENID),  # no displayText: named by its client
    )
    assert records.applications == (  # once per client, however many users granted it
        Application("sys", "111.apps.googleusercontent.com", "Mail Merge"),
        Application("sys", viewer, "Viewer"),
        Application("sys", "333.apps", "Sync"),
        Application("sys", "444.apps", "No scopes"),
        Application("sys", "555.apps", "555.apps"),
    )
    # Suspended: inactive, with no suspension time, since Google gives none.
    assert {a.deactivated_at for a in records.accounts} == {None}
    assert records.warnings == (
        "1 active user(s) have no tokens/{userId}.json; their OAuth grants are not known",
    )
    replayed = registry.parser_for("google_workspace")(collected.payloads, make_config())
    assert replayed == records


def test_an_export_of_one_page_is_incomplete(make_config: MakeConfig, tmp_path: Path) -> None:
    collected = collect_export(make_config, tmp_path, GOLDEN, {}, nextPageToken="more")
    reason = "the last page read has a nextPageToken; later users were not read"
    assert (collected.complete, collected.incomplete_reason) == (False, reason)
    assert collected.records.warnings[0] == f"users.json: {reason}"


def test_no_export_files(make_config: MakeConfig, tmp_path: Path) -> None:
    (tmp_path / "gw").mkdir()
    with pytest.raises(InputError, match=r"holds neither users.json nor"):
        GoogleWorkspaceConnector().collect(make_config(path="gw"))


def test_unknown_mode(make_config: MakeConfig) -> None:
    with pytest.raises(InputError, match="use one of: export, live"):
        GoogleWorkspaceConnector().collect(make_config("api"))


def bad(field: str, value: Any) -> list[dict[str, Any]]:
    """GOLDEN's first three users with ``users[2]`` given ``value`` for ``field`` (dotted)."""
    return [*GOLDEN[:2], altered(GOLDEN[2], field, value)]


@pytest.mark.parametrize(
    ("users", "problem"),
    [
        (bad("id", DROP), "users[2].id: missing"),
        (bad("id", 7), "users[2].id: expected a string, got a number"),
        (bad("primaryEmail", " "), "users[2].primaryEmail: empty"),
        (
            bad("id", GOLDEN[0]["id"]),
            f"users[2].id: duplicate '{GOLDEN[0]['id']}' (also at users[0])",
        ),
        (bad("suspended", "no"), "users[2].suspended: expected a boolean, got a string"),
        (bad("isAdmin", 1), "users[2].isAdmin: expected a boolean, got a number"),
        (
            bad("isEnrolledIn2Sv", "true"),
            "users[2].isEnrolledIn2Sv: expected a boolean, got a string",
        ),
        (bad("name", "Ada"), "users[2].name: expected an object, got a string"),
        (bad("name.fullName", []), "users[2].name.fullName: expected a string, got an array"),
        (
            bad("lastLoginTime", "2024-05-01T09:30:00"),
            "users[2].lastLoginTime: timestamp has no time zone: '2024-05-01T09:30:00'",
        ),
        ([1], "users[0]: expected an object, got a number"),
    ],
)
def test_bad_users(
    make_config: MakeConfig, tmp_path: Path, users: list[dict[str, Any]], problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        collect_export(make_config, tmp_path, users, {})
    assert (Path(caught.value.where).name, caught.value.problem) == ("users.json", problem)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "expected a JSON object with 'items', got an array"),
        ({"items": {}}, "items: expected an array of tokens, got an object"),
        ({"items": [{"scopes": []}]}, "items[0].clientId: missing"),
        (
            {"items": [{"clientId": "a", "scopes": "openid"}]},
            "items[0].scopes: expected an array of strings",
        ),
        (
            {"items": [{"clientId": "a"}, {"clientId": "a"}]},
            "items[1].clientId: duplicate 'a' (also at items[0])",
        ),
        (
            {"items": [{"clientId": "a", "displayText": ["App"]}]},
            "items[0].displayText: expected a string, got an array",
        ),
    ],
)
def test_bad_tokens(make_config: MakeConfig, tmp_path: Path, body: Any, problem: str) -> None:
    write_export(tmp_path / "gw", GOLDEN[:1], {})
    user_id = GOLDEN[0]["id"]
    (tmp_path / "gw" / "tokens" / f"{user_id}.json").write_text(json.dumps(body))
    with pytest.raises(InputError) as caught:
        GoogleWorkspaceConnector().collect(make_config(path="gw"))
    assert caught.value.where.endswith(f"tokens/{user_id}.json")
    assert caught.value.problem == problem


# Live mode

USERS = [
    directory_user(
        n,
        suspended=n % 50 == 3,
        archived=n == 77,
        isAdmin=n % 300 == 0,
        isEnrolledIn2Sv=n % 7 != 0,
        isEnforcedIn2Sv=n % 7 != 0 and n % 11 != 0,
        lastLoginTime="1970-01-01T00:00:00.000Z" if n % 13 == 0 else "2024-05-01T09:30:00.000Z",
    )
    for n in range(1200)
]
TOKENS = {
    USERS[n]["id"]: [oauth_token(f"app{n}", f"App {n}", GMAIL if n % 200 == 0 else OPENID)]
    for n in range(0, 1200, 100)
}
ACTIVE_IDS = [user["id"] for user in USERS if not (user["suspended"] or user["archived"])]


@pytest.fixture
def server() -> Iterator[GoogleServer]:
    with GoogleServer(USERS, TOKENS) as running:
        yield running


def live_config(
    tmp_path: Path, server: GoogleServer, secrets: dict[str, str] | None = None
) -> ConnectorConfig:
    return ConnectorConfig(
        system_id="sys",
        mode="live",
        settings={"base_url": server.url},
        secrets={"token": ACCESS_TOKEN} if secrets is None else secrets,
        base_dir=tmp_path,
    )


def collect_live(tmp_path: Path, server: GoogleServer) -> tuple[Collected, list[float]]:
    """Collect with a sleep that records each requested delay and returns at once."""
    delays: list[float] = []
    collected = GoogleWorkspaceConnector(sleep=delays.append).collect(live_config(tmp_path, server))
    return collected, delays


def export_records(
    make_config: MakeConfig, tmp_path: Path, users: list[dict[str, Any]] = USERS
) -> Any:
    """The same users exported, with a tokens file for every active user, as live reads."""
    active = [user["id"] for user in users if not (user["suspended"] or user["archived"])]
    tokens = {user_id: TOKENS.get(user_id, []) for user_id in active}
    return collect_export(make_config, tmp_path, users, tokens).records


def assert_no_token(collected: Collected) -> None:
    for payload in collected.payloads:
        assert ACCESS_TOKEN not in payload.source
        assert ACCESS_TOKEN.encode() not in payload.data
    assert ACCESS_TOKEN not in json.dumps(collected.parameters)
    assert ACCESS_TOKEN not in (collected.incomplete_reason or "")
    assert all(ACCESS_TOKEN not in warning for warning in collected.records.warnings)


def users_url(server: GoogleServer, page_token: str | None = None) -> str:
    url = f"{server.url}/admin/directory/v1/users?customer=my_customer&maxResults=500"
    return url if page_token is None else f"{url}&pageToken={page_token}"


def test_every_page_and_token_list_is_read_and_matches_export_mode(
    make_config: MakeConfig, tmp_path: Path, server: GoogleServer
) -> None:
    collected, delays = collect_live(tmp_path, server)

    assert delays == []
    assert (collected.mode, collected.complete, collected.incomplete_reason) == ("live", True, None)
    pages = [p for p in collected.payloads if p.name.startswith("users.")]
    assert [(p.name, p.source) for p in pages] == [
        ("users.page-001.json", users_url(server)),
        ("users.page-002.json", users_url(server, "page-500")),
        ("users.page-003.json", users_url(server, "page-1000")),
    ]
    assert [len(json.loads(p.data)["users"]) for p in pages] == [500, 500, 200]
    token_payloads = collected.payloads[3:]
    assert [p.name for p in token_payloads] == [f"tokens/{i}.json" for i in ACTIVE_IDS]
    assert token_payloads[0].source == (
        f"{server.url}/admin/directory/v1/users/{ACTIVE_IDS[0]}/tokens"
    )
    assert collected.parameters == {
        "base_url": server.url,
        "max_results": 500,
        "pages": 3,
        "users": 1200,
        "token_calls": len(ACTIVE_IDS),
        "applications": 12,
    }
    assert server.requests[0].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"

    records = collected.records
    assert records == export_records(make_config, tmp_path)
    assert google_workspace.parse(collected.payloads, live_config(tmp_path, server)) == records
    by_number = {int(a.account_id[1:]): a for a in records.accounts}
    assert (by_number[3].status, by_number[77].status, by_number[4].status) == (
        INACTIVE,
        INACTIVE,
        ACTIVE,
    )
    assert (by_number[7].mfa_registered, by_number[11].mfa_enforced) == (NO, NO)
    assert (by_number[13].last_login, by_number[13].last_login_source) == (
        None,
        "google:lastLoginTime (never)",
    )
    assert [n for n, a in by_number.items() if a.privileged is YES] == [0, 300, 600, 900]
    assert (
        registry.parser_for("google_workspace")(collected.payloads, live_config(tmp_path, server))
        == records
    )
    assert [(c.third_party, c.broad) for c in records.credentials] == [
        (f"App {n}", YES if n % 200 == 0 else NO) for n in range(0, 1200, 100)
    ]
    assert records.applications == tuple(
        Application("sys", f"app{n}", f"App {n}") for n in range(0, 1200, 100)
    )
    assert records.warnings == ()
    assert_no_token(collected)

    # The live layout saved to disk is an export too.
    directory = tmp_path / "pages"
    (directory / "tokens").mkdir(parents=True)
    for payload in collected.payloads:
        (directory / payload.name).write_bytes(payload.data)
    from_pages = GoogleWorkspaceConnector().collect(make_config(path="pages"))
    assert (from_pages.complete, from_pages.records) == (True, records)


def test_429_then_success_and_a_500_once_are_retried(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    with GoogleServer(USERS[:600], TOKENS) as server:  # two pages are enough, and quicker
        server.retry_after[2] = "7"
        server.fail_once.add("page-2")
        server.fail_once.add(ACTIVE_IDS[5])
        collected, delays = collect_live(tmp_path, server)

    # 429 on page 2, waited as asked; then its 500 (second retry) and the tokens' 500 (first).
    assert delays[0] == 7.0 and 2 <= delays[1] <= 3 and 1 <= delays[2] <= 2
    assert len(delays) == 3
    assert server.requests[1].path == server.requests[2].path == server.requests[3].path
    assert collected.complete
    assert collected.records == export_records(make_config, tmp_path, USERS[:600])


def test_a_failing_page_and_token_list_leave_the_collection_incomplete(
    tmp_path: Path, server: GoogleServer
) -> None:
    server.fail_always.update({"page-2", ACTIVE_IDS[0]})
    collected, delays = collect_live(tmp_path, server)

    assert len(delays) == 10  # five retries for each
    url = users_url(server, "page-500")
    tokens_url = f"{server.url}/admin/directory/v1/users/{ACTIVE_IDS[0]}/tokens"
    assert not collected.complete
    assert collected.incomplete_reason == (
        f"users page 2 ({url}): HTTP 500 Internal Server Error (6 attempts); "
        f"tokens of 1 user(s) not read; first {ACTIVE_IDS[0]} ({tokens_url}): "
        "HTTP 500 Internal Server Error (6 attempts)"
    )
    failed = collected.payloads[1]
    assert (failed.name, failed.source, json.loads(failed.data)["error"]["code"]) == (
        "users.page-002.failed",
        url,
        500,
    )
    assert collected.parameters["pages"] == 1
    records = collected.records
    assert len(records.accounts) == 500
    assert google_workspace.parse(collected.payloads, live_config(tmp_path, server)) == records
    assert records.warnings[:2] == (
        "users.page-*.json: users page 2 failed",
        "users.page-*.json: tokens of 1 user(s) not read",
    )
    # User 0's grant was not read: no credential, and no claim there is none.
    assert records.credentials[0].account_id != ACTIVE_IDS[0]
    assert_no_token(collected)


def test_a_bad_token_is_an_input_error_without_the_token(
    tmp_path: Path, server: GoogleServer
) -> None:
    wrong = "ya29.WrongTokenAlsoSecret999"
    with pytest.raises(InputError) as caught:
        GoogleWorkspaceConnector(sleep=lambda _: None).collect(
            live_config(tmp_path, server, secrets={"token": wrong})
        )

    error = caught.value
    assert error.where == users_url(server)
    assert error.problem.startswith(
        "HTTP 401 Unauthorized: Request had invalid authentication credentials."
    )
    assert wrong not in str(error) and wrong not in repr(error.args)
    assert len(server.requests) == 1  # not retried


def test_live_mode_needs_the_token_secret(tmp_path: Path, server: GoogleServer) -> None:
    with pytest.raises(InputError) as caught:
        GoogleWorkspaceConnector().collect(live_config(tmp_path, server, secrets={}))
    assert caught.value.where == "system sys"
    assert "secret 'token'" in caught.value.problem
    assert server.requests == []


def test_paged_layout_must_be_whole(make_config: MakeConfig) -> None:
    def page(number: int, users: list[dict[str, Any]]) -> RawPayload:
        body = json.dumps({"users": users}).encode()
        return RawPayload(google_workspace.page_name(number), f"https://g/{number}", body)

    with pytest.raises(InputError) as caught:
        google_workspace.parse([page(1, GOLDEN[:1]), page(3, GOLDEN[1:2])], make_config())
    assert (caught.value.where, caught.value.problem) == (
        "users.page-*",
        "pages [1, 3] stored; pages must run from 1 without a gap",
    )
    with pytest.raises(InputError) as caught:
        google_workspace.parse([page(1, GOLDEN[:1]), page(2, GOLDEN[:1])], make_config())
    assert caught.value.problem == (
        f"users[0].id: duplicate '{GOLDEN[0]['id']}' (also at users.page-001.json users[0])"
    )
