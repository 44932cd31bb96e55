from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.github_server import ORG, ORG_ID, TOKEN, GitHubServer, simple_user

from assay.connectors import github
from assay.connectors._http import ApiClient, PageFailed
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.connectors.github import GitHubConnector
from assay.errors import InputError
from assay.inventory.records import AccountKind, Tri

MEMBERS = [
    simple_user(f"user{n:03d}", 1000 + n, "Bot" if n % 50 == 7 else "User") for n in range(250)
]
TWO_FACTOR_DISABLED = [member["login"] for member in MEMBERS[::2][:120]]  # two pages of 100
ADMINS = ["user000", "user123", "user249"]


@pytest.fixture
def server() -> Iterator[GitHubServer]:
    with GitHubServer(MEMBERS, two_factor_disabled=TWO_FACTOR_DISABLED, admins=ADMINS) as running:
        yield running


def live_config(
    tmp_path: Path, server: GitHubServer, secrets: dict[str, str] | None = None
) -> ConnectorConfig:
    return ConnectorConfig(
        system_id="sys",
        mode="live",
        settings={"org": ORG, "base_url": server.url},
        secrets={"token": TOKEN} if secrets is None else secrets,
        base_dir=tmp_path,
    )


def collect_live(tmp_path: Path, server: GitHubServer) -> tuple[Collected, list[float]]:
    """Collect with a sleep that records each requested delay and returns at once."""
    delays: list[float] = []
    collected = GitHubConnector(sleep=delays.append).collect(live_config(tmp_path, server))
    return collected, delays


def export_records(tmp_path: Path) -> Any:
    """Export mode over the same organisation: the three lists each saved as one array."""
    directory = tmp_path / "gh"
    directory.mkdir()
    bodies = {
        "members.json": MEMBERS,
        "members-2fa_disabled.json": [m for m in MEMBERS if m["login"] in TWO_FACTOR_DISABLED],
        "members-admin.json": [m for m in MEMBERS if m["login"] in ADMINS],
    }
    for name, body in bodies.items():
        (directory / name).write_text(json.dumps(body), encoding="utf-8")
    config = ConnectorConfig("sys", "export", {"path": "gh", "org": ORG}, {}, tmp_path)
    return GitHubConnector().collect(config).records


def assert_no_token(collected: Collected) -> None:
    for payload in collected.payloads:
        assert TOKEN not in payload.source
        assert TOKEN.encode() not in payload.data
    assert TOKEN not in json.dumps(collected.parameters)
    assert TOKEN not in (collected.incomplete_reason or "")


def test_every_page_is_followed_and_matches_export_mode(
    tmp_path: Path, server: GitHubServer
) -> None:
    collected, delays = collect_live(tmp_path, server)

    assert delays == []
    assert (collected.mode, collected.complete, collected.incomplete_reason) == ("live", True, None)
    assert [p.name for p in collected.payloads] == [
        "members.page-001.json",
        "members.page-002.json",
        "members.page-003.json",
        "members-2fa_disabled.page-001.json",
        "members-2fa_disabled.page-002.json",
        "members-admin.page-001.json",
    ]
    next_page = f"{server.url}/organizations/{ORG_ID}/members"
    assert [p.source for p in collected.payloads[:4]] == [
        f"{server.url}/orgs/{ORG}/members?per_page=100",
        f"{next_page}?per_page=100&page=2",
        f"{next_page}?per_page=100&page=3",
        f"{server.url}/orgs/{ORG}/members?filter=2fa_disabled&per_page=100",
    ]
    assert [len(json.loads(p.data)) for p in collected.payloads] == [100, 100, 50, 100, 20, 3]
    assert collected.parameters == {
        "org": ORG,
        "base_url": server.url,
        "per_page": 100,
        "pages": {"members": 3, "members-2fa_disabled": 2, "members-admin": 1},
        "members": 250,
    }
    sent = server.requests[0].headers
    assert sent["accept"] == "application/vnd.github+json"
    assert sent["x-github-api-version"] == "2022-11-28"
    assert sent["authorization"] == f"Bearer {TOKEN}"

    records = collected.records
    assert records == export_records(tmp_path)
    assert github.parse(collected.payloads, live_config(tmp_path, server)) == records
    by_login = {account.account_id: account for account in records.accounts}
    assert len(by_login) == 250
    assert (by_login["user000"].mfa_registered, by_login["user000"].privileged) == (Tri.NO, Tri.YES)
    assert (by_login["user001"].mfa_enforced, by_login["user001"].privileged) == (Tri.YES, Tri.NO)
    assert by_login["user238"].mfa_registered is Tri.NO  # on the 2fa list's second page
    assert by_login["user240"].mfa_registered is Tri.YES  # past the 120 without 2FA
    assert by_login["user007"].kind is AccountKind.SERVICE
    assert_no_token(collected)


@pytest.mark.parametrize("http_date", [False, True])
def test_429_waits_as_retry_after_says(
    tmp_path: Path, server: GitHubServer, http_date: bool
) -> None:
    if http_date:
        server.retry_after[2] = format_datetime(datetime.now(UTC) + timedelta(seconds=30), True)
    else:
        server.retry_after[2] = "7"
    collected, delays = collect_live(tmp_path, server)

    assert len(delays) == 1
    if http_date:
        assert 28 <= delays[0] <= 30
    else:
        assert delays == [7.0]
    assert server.requests[1].path == server.requests[2].path
    assert collected.complete
    assert len(collected.records.accounts) == 250


def test_a_single_500_is_retried(tmp_path: Path, server: GitHubServer) -> None:
    server.fail_once.add(("all", 2))
    collected, delays = collect_live(tmp_path, server)

    assert len(delays) == 1 and 1 <= delays[0] <= 2
    assert collected.complete
    assert collected.records == export_records(tmp_path)


def test_exhausted_rate_limit_waits_for_the_reset(tmp_path: Path, server: GitHubServer) -> None:
    server.exhausted[3] = 42
    collected, delays = collect_live(tmp_path, server)

    assert len(delays) == 1 and 41 <= delays[0] <= 43.5  # until the reset, plus one second
    assert collected.complete
    assert collected.parameters["pages"] == {
        "members": 3,
        "members-2fa_disabled": 2,
        "members-admin": 1,
    }


def test_a_wait_longer_than_the_cap_is_given_up(tmp_path: Path, server: GitHubServer) -> None:
    server.retry_after[1] = "3600"
    collected, delays = collect_live(tmp_path, server)

    assert delays == []
    assert not collected.complete
    assert collected.incomplete_reason == (
        f"members page 1 ({server.url}/orgs/{ORG}/members?per_page=100): HTTP 429 Too Many "
        "Requests; asked to wait 3600 s, longer than the 900 s limit"
    )
    assert collected.records.accounts == ()


def test_a_failing_two_factor_page_leaves_mfa_unknown(tmp_path: Path, server: GitHubServer) -> None:
    server.fail_always.add(("2fa_disabled", 2))
    collected, delays = collect_live(tmp_path, server)

    assert [2**n <= delay <= 2**n + 1 for n, delay in enumerate(delays)] == [True] * 5
    assert not collected.complete
    url = f"{server.url}/organizations/{ORG_ID}/members?filter=2fa_disabled&per_page=100&page=2"
    assert collected.incomplete_reason == (
        f"members-2fa_disabled page 2 ({url}): HTTP 500 Internal Server Error (6 attempts)"
    )
    failed = collected.payloads[4]
    assert (failed.name, failed.source, json.loads(failed.data)) == (
        "members-2fa_disabled.page-002.failed",
        url,
        {"message": "Server Error"},
    )
    assert collected.parameters["pages"] == {
        "members": 3,
        "members-2fa_disabled": 1,
        "members-admin": 1,
    }

    records = collected.records
    assert github.parse(collected.payloads, live_config(tmp_path, server)) == records
    on_first_page = set(TWO_FACTOR_DISABLED[:100])
    for account in records.accounts:
        expected = Tri.NO if account.account_id in on_first_page else Tri.UNKNOWN
        assert (account.mfa_registered, account.mfa_enforced) == (expected, expected)
        assert account.privileged is (Tri.YES if account.account_id in ADMINS else Tri.NO)
    assert records.warnings == (
        "members-2fa_disabled.page-*.json: not read to the end; "
        "MFA is unknown for members not in it",
    )
    assert_no_token(collected)


def test_a_failing_members_page_keeps_the_pages_read(tmp_path: Path, server: GitHubServer) -> None:
    server.fail_always.add(("all", 3))
    collected, _ = collect_live(tmp_path, server)

    assert not collected.complete
    assert collected.incomplete_reason is not None
    assert collected.incomplete_reason.startswith("members page 3 (")
    accounts = collected.records.accounts
    assert [a.account_id for a in accounts] == [f"user{n:03d}" for n in range(200)]
    # The filtered lists were read in full: they still decide for the members read.
    assert accounts[0].mfa_registered is Tri.NO
    assert accounts[1].mfa_registered is Tri.YES
    assert [a.account_id for a in accounts if a.privileged is Tri.YES] == ["user000", "user123"]


def test_bad_token_is_an_input_error_without_the_token(
    tmp_path: Path, server: GitHubServer
) -> None:
    bad = "ghp_WrongTokenAlsoSecret999"
    config = live_config(tmp_path, server, secrets={"token": bad})
    with pytest.raises(InputError) as caught:
        GitHubConnector(sleep=lambda _: None).collect(config)

    error = caught.value
    assert error.where == f"{server.url}/orgs/{ORG}/members?per_page=100"
    assert error.problem == "HTTP 401 Unauthorized: Bad credentials"
    assert bad not in str(error) and bad not in repr(error.args)
    assert len(server.requests) == 1  # not retried


def test_live_mode_needs_the_token_secret(tmp_path: Path, server: GitHubServer) -> None:
    with pytest.raises(InputError) as caught:
        GitHubConnector().collect(live_config(tmp_path, server, secrets={}))
    assert caught.value.where == "system sys"
    assert "secret 'token'" in caught.value.problem
    assert server.requests == []


def test_unknown_mode(tmp_path: Path, server: GitHubServer) -> None:
    config = ConnectorConfig("sys", "api", {"org": ORG}, {"token": TOKEN}, tmp_path)
    with pytest.raises(InputError, match="use one of: export, live"):
        GitHubConnector().collect(config)


def test_a_redirect_is_not_followed(tmp_path: Path, server: GitHubServer) -> None:
    server.member_of_org = False  # GitHub redirects a non-member to the public members only
    with pytest.raises(InputError) as caught:
        collect_live(tmp_path, server)
    assert caught.value.problem == (
        f"HTTP 302 Found: redirected to {server.url}/orgs/{ORG}/public_members; not followed"
    )


def test_a_next_link_to_another_host_is_refused(tmp_path: Path, server: GitHubServer) -> None:
    server.link_base = "http://elsewhere.invalid:8080"
    with pytest.raises(InputError, match=r"another host \(http://elsewhere.invalid\)"):
        collect_live(tmp_path, server)
    assert len(server.requests) == 1


def test_connection_failures_are_retried_then_reported() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delays: list[float] = []
    with (
        ApiClient(f"http://127.0.0.1:{port}", {}, max_retries=2, sleep=delays.append) as client,
        pytest.raises(PageFailed) as caught,
    ):
        list(client.get_pages("/orgs/acme/members", {"per_page": 100}))

    failure = caught.value
    assert failure.url == f"http://127.0.0.1:{port}/orgs/acme/members?per_page=100"
    assert failure.pages_done == 0
    assert failure.reason.startswith("connection failed: ")
    assert failure.reason.endswith("(3 attempts)")
    assert len(delays) == 2


def test_paged_layout_must_be_whole(tmp_path: Path, server: GitHubServer) -> None:
    collected, _ = collect_live(tmp_path, server)
    config = live_config(tmp_path, server)
    without_page_two = [p for p in collected.payloads if p.name != "members.page-002.json"]
    with pytest.raises(InputError) as caught:
        github.parse(without_page_two, config)
    assert (caught.value.where, caught.value.problem) == (
        "members.page-*",
        "pages [1, 3] stored; pages must run from 1 without a gap",
    )

    both = [*collected.payloads, RawPayload("members.json", "/x/members.json", b"[]")]
    with pytest.raises(InputError, match="also holds pages of this list"):
        github.parse(both, config)
