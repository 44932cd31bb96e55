from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.github_server import (
    ORG,
    ORG_ID,
    TOKEN,
    GitHubServer,
    deploy_key,
    fine_grained_token,
    installation,
    protection,
    pull,
    repository,
    review,
    ruleset_rule,
    simple_user,
)

from assay.connectors import github, registry
from assay.connectors._http import ApiClient, PageFailed
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.connectors.github import GitHubConnector
from assay.errors import InputError
from assay.inventory.records import AccountKind, BranchProtection, Tri

MEMBERS = [
    simple_user(f"user{n:03d}", 1000 + n, "Bot" if n % 50 == 7 else "User") for n in range(250)
]
TWO_FACTOR_DISABLED = [member["login"] for member in MEMBERS[::2][:120]]  # two pages of 100
ADMINS = ["user000", "user123", "user249"]
COLLABORATORS = [simple_user("contractor-kim", 5001), simple_user("agency-lee", 5002)]
MERGED = "2025-03-01T12:00:00Z"
POPULATIONS_READ = {
    "members": "read",
    "outside_collaborators": "read",
    "deploy_keys": "read",
    "personal_access_tokens": "read",
    "installations": "read",
    "changes": "read",
}


@pytest.fixture
def server() -> Iterator[GitHubServer]:
    with GitHubServer(
        MEMBERS, two_factor_disabled=[*TWO_FACTOR_DISABLED, "agency-lee"], admins=ADMINS
    ) as running:
        running.collaborators = COLLABORATORS
        running.repos = [repository("api", 301), repository("web", 302, "trunk")]
        running.deploy_keys = {
            "api": [
                deploy_key(11, read_only=False, added_by="user001", last_used=MERGED),
                deploy_key(12, read_only=True, added_by=None, last_used=None),
            ]
        }
        running.tokens = [
            fine_grained_token(21, "user002", expires_at=None, selection="all"),
            fine_grained_token(22, "user003", expires_at="2020-01-01T00:00:00Z"),
        ]
        running.installations = [
            installation(31, "ci-bot", selection="all"),
            installation(32, "old-app", selection="selected", suspended_at=MERGED),
        ]
        running.protections = {"api": protection(2, enforce_admins=True, dismiss_stale=False)}
        running.rules = {"api": [ruleset_rule("pull_request", approvals=1, dismiss_stale=True)]}
        running.pulls = {
            "api": [
                *(pull(n, "user001", merged_at=MERGED) for n in range(1, 121)),
                pull(121, "user001", merged_at=None),
                pull(122, "user001", merged_at=MERGED, base="release"),
            ],
            "web": [pull(200, "user004", merged_at="2024-06-01T00:00:00Z", base="trunk")],
        }
        running.reviews = {
            ("api", 1): [
                review("user001", "APPROVED", "2025-03-01T10:00:00Z"),
                review("User005", "CHANGES_REQUESTED", "2025-03-01T10:00:00Z"),
                review("User005", "APPROVED", "2025-03-01T11:00:00Z"),
            ],
            ("web", 200): [review("user006", "APPROVED", "2024-06-02T00:00:00Z")],
        }
        yield running


def live_config(
    tmp_path: Path,
    server: GitHubServer,
    secrets: dict[str, str] | None = None,
    **settings: Any,
) -> ConnectorConfig:
    return ConnectorConfig(
        system_id="sys",
        mode="live",
        settings={"org": ORG, "base_url": server.url, **settings},
        secrets={"token": TOKEN} if secrets is None else secrets,
        base_dir=tmp_path,
    )


def collect_live(
    tmp_path: Path, server: GitHubServer, **settings: Any
) -> tuple[Collected, list[float]]:
    """Collect with a sleep that records each requested delay and returns at once."""
    delays: list[float] = []
    config = live_config(tmp_path, server, **settings)
    collected = GitHubConnector(sleep=delays.append).collect(config)
    return collected, delays


def export_records(tmp_path: Path, server: GitHubServer) -> Any:
    """Export mode over the same organisation: each list's whole body saved as one file."""
    directory = tmp_path / "gh"

    def save(name: str, body: Any) -> None:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(json.dumps(body), encoding="utf-8")

    without_2fa = server.two_factor_disabled
    save("members.json", MEMBERS)
    save("members-2fa_disabled.json", [m for m in MEMBERS if m["login"] in without_2fa])
    save("members-admin.json", [m for m in MEMBERS if m["login"] in ADMINS])
    save("outside_collaborators.json", server.collaborators)
    save(
        "outside_collaborators-2fa_disabled.json",
        [c for c in server.collaborators if c["login"] in without_2fa],
    )
    save("personal-access-tokens.json", server.tokens)
    save(
        "installations.json",
        {"total_count": len(server.installations), "installations": server.installations},
    )
    save("repos.json", server.repos)
    for repo in server.repos:
        name, branch = repo["name"], repo["default_branch"]
        save(f"deploy-keys/{name}.json", server.deploy_keys.get(name, []))
        save(
            f"branch-protection/{name}.json",
            server.protections.get(name, {"message": "Branch not protected"}),
        )
        save(f"branch-rules/{name}.json", server.rules.get(name, []))
        pulls = [p for p in server.pulls.get(name, []) if p["base"]["ref"] == branch]
        save(f"pulls/{name}.json", pulls)
        for merged in (p for p in pulls if p["merged_at"]):
            save(
                f"reviews/{name}/{merged['number']}.json",
                server.reviews.get((name, merged["number"]), []),
            )
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
    names = [p.name for p in collected.payloads]
    assert names[:15] == [
        "members.page-001.json",
        "members.page-002.json",
        "members.page-003.json",
        "members-2fa_disabled.page-001.json",
        "members-2fa_disabled.page-002.json",
        "members-admin.page-001.json",
        "outside_collaborators.page-001.json",
        "outside_collaborators-2fa_disabled.page-001.json",
        "personal-access-tokens.page-001.json",
        "installations.page-001.json",
        "repos.page-001.json",
        "deploy-keys/api.page-001.json",
        "branch-protection/api.json",
        "branch-rules/api.page-001.json",
        "pulls/api.page-001.json",
    ]
    assert names[15:18] == [
        "pulls/api.page-002.json",
        *(f"reviews/api/{n}.page-001.json" for n in (1, 2)),
    ]
    assert names[-6:] == [
        "reviews/api/120.page-001.json",
        "deploy-keys/web.page-001.json",
        "branch-protection/web.json",
        "branch-rules/web.page-001.json",
        "pulls/web.page-001.json",
        "reviews/web/200.page-001.json",
    ]
    next_page = f"{server.url}/organizations/{ORG_ID}/members"
    assert [p.source for p in collected.payloads[:4]] == [
        f"{server.url}/orgs/{ORG}/members?per_page=100",
        f"{next_page}?per_page=100&page=2",
        f"{next_page}?per_page=100&page=3",
        f"{server.url}/orgs/{ORG}/members?filter=2fa_disabled&per_page=100",
    ]
    sources = {p.name: p.source for p in collected.payloads}
    assert sources["pulls/api.page-002.json"] == (
        f"{server.url}/repositories/301/pulls?state=closed&base=main&per_page=100&page=2"
    )
    assert sources["branch-protection/web.json"] == (
        f"{server.url}/repos/{ORG}/web/branches/trunk/protection"
    )
    assert collected.parameters == {
        "org": ORG,
        "base_url": server.url,
        "per_page": 100,
        "pages": {
            "members": 3,
            "members-2fa_disabled": 2,
            "members-admin": 1,
            "outside_collaborators": 1,
            "outside_collaborators-2fa_disabled": 1,
            "personal-access-tokens": 1,
            "installations": 1,
            "repos": 1,
        },
        "members": 250,
        "populations": POPULATIONS_READ,
    }
    sent = server.requests[0].headers
    assert sent["accept"] == "application/vnd.github+json"
    assert sent["x-github-api-version"] == "2022-11-28"
    assert sent["authorization"] == f"Bearer {TOKEN}"

    records = collected.records
    assert records == export_records(tmp_path, server)
    assert registry.parser_for("github")(collected.payloads, live_config(tmp_path, server)) == (
        records
    )
    by_login = {account.account_id: account for account in records.accounts}
    assert len(by_login) == 252
    assert (by_login["user000"].mfa_registered, by_login["user000"].privileged) == (Tri.NO, Tri.YES)
    assert (by_login["user001"].mfa_enforced, by_login["user001"].privileged) == (Tri.YES, Tri.NO)
    assert by_login["user238"].mfa_registered is Tri.NO  # on the 2fa list's second page
    assert by_login["user240"].mfa_registered is Tri.YES  # past the 120 without 2FA
    assert by_login["user007"].kind is AccountKind.SERVICE
    assert (by_login["agency-lee"].mfa_registered, by_login["agency-lee"].privileged) == (
        Tri.NO,
        Tri.UNKNOWN,
    )
    assert by_login["contractor-kim"].mfa_enforced is Tri.YES
    assert "outside collaborators (third-party access): contractor-kim, agency-lee" in (
        records.warnings
    )
    assert [(c.kind, c.credential_id, c.active) for c in records.credentials] == [
        ("fine_grained_pat", "fine_grained_pat:21", True),
        ("fine_grained_pat", "fine_grained_pat:22", False),  # expired in 2020
        ("app_installation", "app_installation:31", True),
        ("app_installation", "app_installation:32", False),  # suspended
        ("deploy_key", "deploy_key:11", True),
        ("deploy_key", "deploy_key:12", True),
    ]
    assert [(a.app_id, a.name, a.active) for a in records.applications] == [
        ("31", "ci-bot", True),
        ("32", "old-app", False),
    ]
    assert records.branch_protections == (
        BranchProtection("sys", "acme/api", "main", Tri.YES, 2, Tri.UNKNOWN, Tri.YES),
        BranchProtection("sys", "acme/web", "trunk", Tri.NO, 0, Tri.NO, Tri.NO),
    )
    changes = records.changes
    assert len(changes) == 121  # 120 merged into api's main, one into web's trunk
    assert (changes[0].authors, changes[0].reviewers) == (("user001",), ("user005",))
    assert changes[1].reviewers == ()
    assert (changes[-1].repository, changes[-1].branch, changes[-1].reviewers) == (
        "acme/web",
        "trunk",
        (),  # approved only after the merge
    )
    assert_no_token(collected)


def test_one_429_and_one_500_in_a_run_are_waited_out(tmp_path: Path, server: GitHubServer) -> None:
    server.retry_after[12] = "3"  # the first deploy-keys request
    server.fail_once.add(("pulls/api", 2))
    collected, delays = collect_live(tmp_path, server)

    assert delays[0] == 3.0 and 1 <= delays[1] <= 2
    assert len(delays) == 2
    assert (
        server.requests[11].path
        == server.requests[12].path
        == (f"/repos/{ORG}/api/keys?per_page=100")
    )
    assert collected.complete
    assert collected.records == export_records(tmp_path, server)


def test_a_failing_deploy_keys_page_makes_that_population_partial(
    tmp_path: Path, server: GitHubServer
) -> None:
    server.fail_always.add(("deploy-keys/api", 1))
    collected, delays = collect_live(tmp_path, server)

    assert len(delays) == 5
    assert not collected.complete
    url = f"{server.url}/repos/{ORG}/api/keys?per_page=100"
    assert collected.incomplete_reason == (
        f"deploy-keys/api page 1 ({url}): HTTP 500 Internal Server Error (6 attempts)"
    )
    assert collected.parameters["populations"] == {**POPULATIONS_READ, "deploy_keys": "partial"}
    records = collected.records
    assert not [c for c in records.credentials if c.kind == "deploy_key"]
    assert (
        "deploy-keys/api.page-*.json: not read to the end; "
        "only the deploy keys of acme/api read are listed" in records.warnings
    )
    assert github.parse(collected.payloads, live_config(tmp_path, server)) == records
    assert len(records.changes) == 121  # the other populations are whole


def test_a_failing_protection_and_reviews_leave_them_out(
    tmp_path: Path, server: GitHubServer
) -> None:
    server.fail_always.update({("branch-protection/api", 1), ("reviews/api/1", 1)})
    collected, _ = collect_live(tmp_path, server)

    assert not collected.complete
    assert collected.incomplete_reason is not None
    assert collected.incomplete_reason.startswith(
        f"branch-protection/api ({server.url}/repos/{ORG}/api/branches/main/protection): "
        "HTTP 500 Internal Server Error (6 attempts); reviews/api/1 page 1 ("
    )
    names = {p.name for p in collected.payloads}
    assert {"branch-protection/api.failed", "reviews/api/1.page-001.failed"} <= names
    records = collected.records
    assert records.branch_protections == (  # api's ruleset is known, its classic rule is not
        BranchProtection("sys", "acme/api", "main", Tri.YES, 1, Tri.UNKNOWN, Tri.YES),
        BranchProtection("sys", "acme/web", "trunk", Tri.NO, 0, Tri.NO, Tri.NO),
    )
    assert len(records.changes) == 120
    assert "acme/api#1" in " ".join(records.warnings)
    assert collected.parameters["populations"]["changes"] == "partial"
    assert github.parse(collected.payloads, live_config(tmp_path, server)) == records


def test_populations_repositories_and_since_narrow_what_is_read(
    tmp_path: Path, server: GitHubServer
) -> None:
    collected, _ = collect_live(
        tmp_path,
        server,
        populations=["changes"],
        repositories=["WEB"],
        since="2024-06-01",
    )

    paths = {request.path.split("?")[0] for request in server.requests}
    assert paths == {
        f"/orgs/{ORG}/members",
        f"/organizations/{ORG_ID}/members",
        f"/orgs/{ORG}/repos",
        f"/repos/{ORG}/web/branches/trunk/protection",
        f"/repos/{ORG}/web/rules/branches/trunk",
        f"/repos/{ORG}/web/pulls",
        f"/repos/{ORG}/web/pulls/200/reviews",
    }
    assert collected.parameters["populations"] == {
        "members": "read",
        "outside_collaborators": "skipped",
        "deploy_keys": "skipped",
        "personal_access_tokens": "skipped",
        "installations": "skipped",
        "changes": "read",
    }
    assert collected.parameters["repositories"] == ["WEB"]
    assert collected.parameters["since"] == "2024-06-01T00:00:00+00:00"
    records = collected.records
    assert records.credentials == records.applications == ()
    assert [c.commit for c in records.changes] == [f"{200:040x}"]

    later, _ = collect_live(tmp_path, server, populations=["changes"], since="2024-06-02")
    assert [c.repository for c in later.records.changes] == ["acme/api"] * 120


def test_a_private_repository_on_a_plan_without_protection_is_unprotected(
    tmp_path: Path, server: GitHubServer
) -> None:
    server.free_private.add("web")
    collected, _ = collect_live(tmp_path, server)
    assert collected.complete
    records = collected.records
    web = next(p for p in records.branch_protections if p.repository == "acme/web")
    assert (web.protected, web.required_approvals) == (Tri.NO, 0)
    paths = {request.path.split("?")[0] for request in server.requests}
    assert f"/repos/{ORG}/web/rules/branches/trunk" not in paths  # the plan has no rulesets
    assert (
        "1 private repositories on a plan without branch protection or rulesets (GitHub: "
        "'Upgrade to GitHub Pro or make this repository public'): acme/web"
    ) in records.warnings
    assert github.parse(collected.payloads, live_config(tmp_path, server)) == records


def test_another_403_on_protection_is_an_input_error(tmp_path: Path, server: GitHubServer) -> None:
    server.forbidden["branch-protection/api"] = "Resource not accessible by integration"
    with pytest.raises(InputError) as caught:
        collect_live(tmp_path, server, populations=["changes"], repositories=["api"])
    assert (caught.value.where, caught.value.problem) == (
        f"{server.url}/repos/{ORG}/api/branches/main/protection",
        "HTTP 403 Forbidden: Resource not accessible by integration",
    )


def test_a_404_other_than_not_protected_is_an_input_error(
    tmp_path: Path, server: GitHubServer
) -> None:
    server.repos.append({**repository("moved", 303), "full_name": "elsewhere/moved"})
    with pytest.raises(InputError) as caught:
        collect_live(tmp_path, server, populations=["changes"], repositories=["moved"])
    assert (caught.value.where, caught.value.problem) == (
        f"{server.url}/repos/elsewhere/moved/branches/main/protection",
        "HTTP 404 Not Found: Not Found",
    )


def test_an_unknown_population_is_refused(tmp_path: Path, server: GitHubServer) -> None:
    with pytest.raises(InputError, match="unknown secrets; use any of"):
        collect_live(tmp_path, server, populations=["secrets"])
    assert server.requests == []


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
    assert len(collected.records.accounts) == 252


def test_a_single_500_is_retried(tmp_path: Path, server: GitHubServer) -> None:
    server.fail_once.add(("members", 2))
    collected, delays = collect_live(tmp_path, server)

    assert len(delays) == 1 and 1 <= delays[0] <= 2
    assert collected.complete
    assert collected.records == export_records(tmp_path, server)


def test_exhausted_rate_limit_waits_for_the_reset(tmp_path: Path, server: GitHubServer) -> None:
    server.exhausted[3] = 42
    collected, delays = collect_live(tmp_path, server)

    assert len(delays) == 1 and 41 <= delays[0] <= 43.5  # until the reset, plus one second
    assert collected.complete
    assert collected.parameters["populations"] == POPULATIONS_READ
    assert collected.parameters["pages"]["members"] == 3


def test_a_rate_limit_on_branch_protection_is_waited_out_too(
    tmp_path: Path, server: GitHubServer
) -> None:
    """Branch protection accepts some 403s as facts; GitHub's throttling 403 is not one."""
    collect_live(tmp_path, server)
    first_run = [request.path for request in server.requests]
    protection = first_run.index(f"/repos/{ORG}/api/branches/main/protection") + 1
    server.exhausted[len(first_run) + protection] = 5
    collected, delays = collect_live(tmp_path, server)
    assert len(delays) == 1 and 4 <= delays[0] <= 6.5
    assert collected.complete
    second_run = [request.path for request in server.requests[len(first_run) :]]
    assert second_run.count(first_run[protection - 1]) == 2  # asked again after the wait


def test_a_wait_longer_than_the_cap_is_given_up(tmp_path: Path, server: GitHubServer) -> None:
    server.retry_after[1] = "3600"
    collected, delays = collect_live(tmp_path, server)

    assert delays == []
    assert not collected.complete
    assert collected.incomplete_reason == (
        f"members page 1 ({server.url}/orgs/{ORG}/members?per_page=100): HTTP 429 Too Many "
        "Requests; asked to wait 3600 s, longer than the 900 s limit"
    )
    accounts = collected.records.accounts
    assert [a.account_id for a in accounts] == ["contractor-kim", "agency-lee"]  # no member
    assert collected.parameters["populations"]["members"] == "partial"


def test_a_failing_two_factor_page_leaves_mfa_unknown(tmp_path: Path, server: GitHubServer) -> None:
    server.fail_always.add(("members-2fa_disabled", 2))
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
    pages = collected.parameters["pages"]
    assert (pages["members"], pages["members-2fa_disabled"], pages["members-admin"]) == (3, 1, 1)

    records = collected.records
    assert github.parse(collected.payloads, live_config(tmp_path, server)) == records
    on_first_page = set(TWO_FACTOR_DISABLED[:100])
    for account in records.accounts[:250]:
        expected = Tri.NO if account.account_id in on_first_page else Tri.UNKNOWN
        assert (account.mfa_registered, account.mfa_enforced) == (expected, expected)
        assert account.privileged is (Tri.YES if account.account_id in ADMINS else Tri.NO)
    assert records.warnings[0] == (
        "members-2fa_disabled.page-*.json: not read to the end; "
        "MFA is unknown for members not in it"
    )
    assert_no_token(collected)


def test_a_failing_members_page_keeps_the_pages_read(tmp_path: Path, server: GitHubServer) -> None:
    server.fail_always.add(("members", 3))
    collected, _ = collect_live(tmp_path, server)

    assert not collected.complete
    assert collected.incomplete_reason is not None
    assert collected.incomplete_reason.startswith("members page 3 (")
    accounts = collected.records.accounts[:200]
    assert len(collected.records.accounts) == 202  # and the two outside collaborators
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
