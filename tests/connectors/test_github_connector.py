from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.conftest import local_where
from tests.connectors.github_server import (
    NOT_PROTECTED,
    PLAN_WITHOUT_PROTECTION,
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
from assay.connectors.base import ConnectorConfig
from assay.connectors.github import GitHubConnector
from assay.errors import InputError
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Application,
    BranchProtection,
    Change,
    Credential,
    Records,
    Tri,
)

MakeConfig = Callable[..., ConnectorConfig]


MEMBERS = [
    simple_user("octocat", 1),
    simple_user("mona", 2),
    simple_user("deploy-bot", 3, "Bot"),
    simple_user("acme-corp", 4, "Organization"),
]
TWO_FACTOR_DISABLED = [simple_user("Mona", 2), simple_user("deploy-bot", 3, "Bot")]
ADMINS = [simple_user("OctoCat", 1)]


def export(
    tmp_path: Path,
    members: Any = MEMBERS,
    disabled: Any = TWO_FACTOR_DISABLED,
    admins: Any = ADMINS,
) -> Path:
    directory = tmp_path / "gh"
    directory.mkdir()
    for name, body in (
        ("members.json", members),
        ("members-2fa_disabled.json", disabled),
        ("members-admin.json", admins),
    ):
        if body is not None:
            (directory / name).write_text(json.dumps(body), encoding="utf-8")
    return directory


def collect(make_config: MakeConfig) -> Records:
    return GitHubConnector().collect(make_config(path="gh", org="acme")).records


def error_for(tmp_path: Path, make_config: MakeConfig, **files: Any) -> InputError:
    export(tmp_path, **files)
    with pytest.raises(InputError) as caught:
        collect(make_config)
    return caught.value


def test_accounts_field_by_field(tmp_path: Path, make_config: MakeConfig) -> None:
    export(tmp_path)
    records = collect(make_config)
    octocat, mona, bot, org = records.accounts

    assert octocat == Account(
        system_id="sys",
        account_id="octocat",
        username="octocat",
        email=None,
        name=None,
        employee_id=None,
        kind=AccountKind.HUMAN,
        status=AccountStatus.ACTIVE,
        mfa_registered=Tri.YES,
        mfa_enforced=Tri.YES,
        last_login=None,
        last_login_source=None,
        privileged=Tri.YES,  # listed as "OctoCat": logins compare case-insensitively
    )
    assert (mona.kind, mona.mfa_registered, mona.mfa_enforced, mona.privileged) == (
        AccountKind.HUMAN,
        Tri.NO,
        Tri.NO,
        Tri.NO,
    )
    assert (bot.kind, bot.mfa_registered, bot.mfa_enforced, bot.privileged) == (
        AccountKind.SERVICE,
        Tri.NO,
        Tri.NO,
        Tri.NO,
    )
    assert (org.kind, org.mfa_registered) == (AccountKind.UNKNOWN, Tri.YES)
    assert records.warnings == (
        "members.json: [3] (acme-corp): unrecognised type 'Organization'; account kind is unknown",
        "outside_collaborators.json not in the export; outside collaborators were not read",
        "personal-access-tokens.json not in the export; "
        "fine-grained personal access tokens were not read",
        "installations.json not in the export; GitHub App installations were not read",
        "repos.json not in the export; deploy keys and changes were not read",
    )
    assert (records.credentials, records.changes, records.branch_protections) == ((), (), ())


def test_without_two_factor_file_mfa_is_unknown(tmp_path: Path, make_config: MakeConfig) -> None:
    export(tmp_path, disabled=None)
    records = collect(make_config)
    assert {(a.mfa_registered, a.mfa_enforced) for a in records.accounts} == {
        (Tri.UNKNOWN, Tri.UNKNOWN)
    }
    assert [a.privileged for a in records.accounts] == [Tri.YES, Tri.NO, Tri.NO, Tri.NO]
    assert any("MFA is unknown" in w for w in records.warnings)


def test_without_admin_file_privilege_is_unknown(tmp_path: Path, make_config: MakeConfig) -> None:
    export(tmp_path, admins=None)
    records = collect(make_config)
    assert {a.privileged for a in records.accounts} == {Tri.UNKNOWN}
    assert [a.mfa_registered for a in records.accounts] == [Tri.YES, Tri.NO, Tri.NO, Tri.YES]


def test_empty_two_factor_list_means_everyone_has_2fa(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    export(tmp_path, disabled=[])
    assert {a.mfa_registered for a in collect(make_config).accounts} == {Tri.YES}


def test_payloads_and_reparse(tmp_path: Path, make_config: MakeConfig) -> None:
    directory = export(tmp_path)
    config = make_config(path="gh", org="acme")
    collected = GitHubConnector().collect(config)
    assert [(p.name, p.source, p.data) for p in collected.payloads] == [
        (name, str(directory / name), (directory / name).read_bytes())
        for name in ("members.json", "members-2fa_disabled.json", "members-admin.json")
    ]
    assert github.parse(collected.payloads, config) == collected.records
    assert collected.parameters["org"] == "acme"
    assert collected.parameters["members"] == 4
    assert collected.parameters["populations"] == {
        "members": "read",
        "outside_collaborators": "absent",
        "deploy_keys": "absent",
        "personal_access_tokens": "absent",
        "installations": "absent",
        "changes": "absent",
    }


def test_a_full_page_is_flagged(tmp_path: Path, make_config: MakeConfig) -> None:
    export(
        tmp_path, members=[simple_user(f"user{n}", n) for n in range(30)], disabled=[], admins=[]
    )
    records = collect(make_config)
    assert len(records.accounts) == 30
    assert any("full page" in w for w in records.warnings)


def test_org_setting_is_required(tmp_path: Path, make_config: MakeConfig) -> None:
    export(tmp_path)
    with pytest.raises(InputError, match="'org' is required"):
        GitHubConnector().collect(make_config(path="gh"))


def test_only_export_mode(tmp_path: Path, make_config: MakeConfig) -> None:
    export(tmp_path)
    with pytest.raises(InputError, match="mode 'live'"):
        GitHubConnector().collect(make_config(mode="live", path="gh", org="acme"))


def test_missing_members_file(tmp_path: Path, make_config: MakeConfig) -> None:
    error = error_for(tmp_path, make_config, members=None)
    assert (error.where, error.problem) == (str(tmp_path / "gh" / "members.json"), "file not found")


def test_two_factor_login_missing_from_members_is_inconsistent(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    error = error_for(
        tmp_path, make_config, disabled=[simple_user("mona", 2), simple_user("ghost", 9)]
    )
    assert local_where(error.where) == "members-2fa_disabled.json"
    assert error.problem.startswith("[1].login: 'ghost' is not in members.json")


def test_admin_login_missing_from_members_is_inconsistent(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    error = error_for(tmp_path, make_config, admins=[simple_user("ghost", 9)])
    assert local_where(error.where) == "members-admin.json"
    assert error.problem.startswith("[0].login: 'ghost' is not in members.json")


@pytest.mark.parametrize(
    ("files", "where", "problem"),
    [
        (
            {"members": {"message": "Not Found"}},
            "members.json",
            "expected a JSON array of users, got an object",
        ),
        ({"members": [MEMBERS[0], {"id": 5}]}, "members.json", "[1].login: missing"),
        ({"members": [MEMBERS[0], None]}, "members.json", "[1]: expected an object, got null"),
        (
            {"members": [MEMBERS[0], simple_user("OCTOCAT", 7)]},
            "members.json",
            "[1].login: duplicate 'OCTOCAT' (also at [0])",
        ),
        ({"disabled": [{"id": 2}]}, "members-2fa_disabled.json", "[0].login: missing"),
        (
            {"admins": "octocat"},
            "members-admin.json",
            "expected a JSON array of users, got a string",
        ),
    ],
)
def test_malformed_files(
    tmp_path: Path, make_config: MakeConfig, files: dict[str, Any], where: str, problem: str
) -> None:
    error = error_for(tmp_path, make_config, **files)
    assert (local_where(error.where), error.problem) == (where, problem)


COLLABORATORS = [simple_user("contractor-kim", 51), simple_user("agency-lee", 52)]
KEY_USED = "2025-02-01T08:30:00Z"
MERGED = "2025-03-01T12:00:00Z"
FULL: dict[str, Any] = {
    "outside_collaborators.json": COLLABORATORS,
    "outside_collaborators-2fa_disabled.json": [COLLABORATORS[1]],
    "personal-access-tokens.json": [
        fine_grained_token(21, "mona", expires_at=None, selection="all", last_used=KEY_USED),
        fine_grained_token(22, "octocat", expires_at="2999-01-01T00:00:00Z", selection="none"),
        fine_grained_token(23, "octocat", expires_at="2020-01-01T00:00:00Z"),
    ],
    "installations.json": {
        "total_count": 2,
        "installations": [
            installation(31, "ci-bot", selection="all"),
            installation(32, "old-app", selection="selected", suspended_at=MERGED),
        ],
    },
    "repos.json": [repository("api", 301), repository("web", 302, "trunk")],
    "deploy-keys/api.json": [
        deploy_key(11, read_only=False, added_by="octocat", last_used=KEY_USED),
        deploy_key(12, read_only=True, added_by=None, last_used=None),
    ],
    "deploy-keys/web.json": [],
    "branch-protection/api.json": protection(2, enforce_admins=True, dismiss_stale=False),
    "branch-protection/web.json": NOT_PROTECTED,
    "branch-rules/api.json": [
        ruleset_rule("deletion"),
        ruleset_rule("pull_request", approvals=3, dismiss_stale=True),
    ],
    "branch-rules/web.json": [],
    "pulls/api.json": [
        pull(1, "mona", merged_at=MERGED),
        pull(2, "mona", merged_at=None),  # closed without merging
        pull(3, "mona", merged_at=MERGED, base="release"),  # not the default branch
        pull(4, "OctoCat", merged_at="2024-01-10T00:00:00Z"),
    ],
    "pulls/web.json": [],
    "reviews/api/1.json": [
        review("Mona", "APPROVED", "2025-03-01T09:00:00Z"),  # the author's own
        review("octocat", "CHANGES_REQUESTED", "2025-03-01T10:00:00Z"),
        review("OctoCat", "APPROVED", "2025-03-01T11:00:00Z"),
        review("deploy-bot", "APPROVED", "2025-03-02T11:00:00Z"),  # after the merge
    ],
    "reviews/api/4.json": [review("mona", "COMMENTED", "2024-01-09T00:00:00Z")],
}


def full_export(tmp_path: Path, **changes: Any) -> Path:
    """The members export and every other population; ``changes`` (file name → body) apply."""
    directory = export(tmp_path)
    for name, body in {**FULL, **changes}.items():
        if body is not None:
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            (directory / name).write_text(json.dumps(body), encoding="utf-8")
    return directory


def collect_full(tmp_path: Path, make_config: MakeConfig, **changes: Any) -> Any:
    full_export(tmp_path, **changes)
    return GitHubConnector().collect(make_config(path="gh", org="acme"))


def test_outside_collaborators_are_third_party_accounts(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    records = collect_full(tmp_path, make_config).records
    kim, lee = records.accounts[4:]
    assert kim == Account(
        system_id="sys",
        account_id="contractor-kim",
        username="contractor-kim",
        email=None,
        name=None,
        employee_id=None,
        kind=AccountKind.HUMAN,
        status=AccountStatus.ACTIVE,
        mfa_registered=Tri.YES,
        mfa_enforced=Tri.YES,
        last_login=None,
        last_login_source=None,
        privileged=Tri.UNKNOWN,
    )
    assert (lee.mfa_registered, lee.mfa_enforced) == (Tri.NO, Tri.NO)
    assert "outside collaborators (third-party access): contractor-kim, agency-lee" in (
        records.warnings
    )


def test_a_member_listed_as_outside_collaborator_is_inconsistent(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    with pytest.raises(InputError) as caught:
        collect_full(tmp_path, make_config, **{"outside_collaborators.json": [MEMBERS[1]]})
    assert local_where(caught.value.where) == "outside_collaborators.json"
    assert caught.value.problem == "[0].login: duplicate 'mona' (also at members.json[1])"


def test_credentials_field_by_field(tmp_path: Path, make_config: MakeConfig) -> None:
    records = collect_full(tmp_path, make_config).records
    by_id = {c.credential_id: c for c in records.credentials}
    used = datetime(2025, 2, 1, 8, 30, tzinfo=UTC)
    created = datetime(2024, 3, 1, 9, tzinfo=UTC)
    assert by_id["deploy_key:11"] == Credential(
        system_id="sys",
        credential_id="deploy_key:11",
        kind="deploy_key",
        account_id="acme/api",
        active=True,
        created=created,
        last_rotated=created,
        last_used=used,
        last_used_source="github:last_used",
        expiry=Tri.NO,
        scopes=("read", "write"),
        owner="octocat",
    )
    never_used = by_id["deploy_key:12"]
    assert (never_used.scopes, never_used.owner, never_used.last_used) == (("read",), None, None)
    assert by_id["fine_grained_pat:21"] == Credential(
        system_id="sys",
        credential_id="fine_grained_pat:21",
        kind="fine_grained_pat",
        account_id="mona",
        active=True,
        created=None,
        last_rotated=None,
        last_used=used,
        last_used_source="github:token_last_used_at",
        expires_at=None,
        expiry=Tri.NO,
        scopes=(
            "organization:members:read",
            "repository:contents:write",
            "repository:metadata:read",
        ),
        owner="mona",
        broad=Tri.YES,
    )
    expiring, expired = by_id["fine_grained_pat:22"], by_id["fine_grained_pat:23"]
    assert (expiring.active, expiring.expiry, expiring.broad) == (True, Tri.YES, Tri.NO)
    assert expiring.expires_at == datetime(2999, 1, 1, tzinfo=UTC)
    assert (expired.active, expired.expiry, expired.broad) == (False, Tri.YES, Tri.NO)
    assert by_id["app_installation:31"] == Credential(
        system_id="sys",
        credential_id="app_installation:31",
        kind="app_installation",
        account_id="ci-bot",
        active=True,
        created=datetime(2023, 1, 5, 12, tzinfo=UTC),
        last_rotated=None,
        last_used=None,
        last_used_source=None,
        expiry=Tri.NO,
        scopes=("contents:read", "metadata:read", "pull_requests:write"),
        third_party="ci-bot",
        broad=Tri.YES,
    )
    suspended = by_id["app_installation:32"]
    assert (suspended.active, suspended.broad) == (False, Tri.NO)
    assert records.applications == (
        Application("sys", "31", "ci-bot"),
        Application("sys", "32", "old-app", active=False),
    )


def test_changes_and_branch_protection(tmp_path: Path, make_config: MakeConfig) -> None:
    records = collect_full(tmp_path, make_config).records
    assert records.changes == (
        Change(
            system_id="sys",
            repository="acme/api",
            branch="main",
            commit=f"{1:040x}",
            subject="Change 1",
            committed_at=datetime(2025, 3, 1, 12, tzinfo=UTC),
            authors=("mona",),
            reviewers=("octocat",),
        ),
        Change(
            system_id="sys",
            repository="acme/api",
            branch="main",
            commit=f"{4:040x}",
            subject="Change 4",
            committed_at=datetime(2024, 1, 10, tzinfo=UTC),
            authors=("octocat",),
            reviewers=(),
        ),
    )
    assert records.branch_protections == (
        # the classic rule and an organisation ruleset together: the most reviews either asks;
        # admins are held to the classic rule, and to the ruleset's extra review only if its
        # bypass list (not read) leaves them out
        BranchProtection("sys", "acme/api", "main", Tri.YES, 3, Tri.UNKNOWN, Tri.YES),
        BranchProtection("sys", "acme/web", "trunk", Tri.NO, 0, Tri.NO, Tri.NO),
    )
    assert records.count() == 6 + 7 + 2 + 2 + 2


U = Tri.UNKNOWN


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (  # protected by a ruleset alone
            {
                "branch-rules/web.json": [
                    ruleset_rule("pull_request", approvals=1, dismiss_stale=True)
                ]
            },
            ("acme/web", Tri.YES, 1, U, Tri.YES),
        ),
        (  # a ruleset that asks for no review
            {"branch-rules/web.json": [ruleset_rule("non_fast_forward")]},
            ("acme/web", Tri.YES, 0, U, Tri.NO),
        ),
        (  # not protected by the classic rule, rulesets not exported: not known
            {"branch-rules/web.json": None},
            ("acme/web", U, None, U, U),
        ),
        (  # protected by the classic rule; rulesets not exported could only add to it
            {"branch-rules/api.json": None},
            ("acme/api", Tri.YES, 2, Tri.YES, U),
        ),
        (  # the classic rule not exported, a ruleset that asks for no review: maybe it does
            {"branch-protection/api.json": None, "branch-rules/api.json": [ruleset_rule("update")]},
            ("acme/api", Tri.YES, None, U, U),
        ),
        (  # neither exported
            {"branch-protection/api.json": None, "branch-rules/api.json": None},
            ("acme/api", U, None, U, U),
        ),
        (  # a ruleset that adds nothing to the classic rule's reviews: admins still held
            {"branch-rules/api.json": [ruleset_rule("deletion")]},
            ("acme/api", Tri.YES, 2, Tri.YES, Tri.NO),
        ),
        (  # a private repository on a plan without protection: nor rulesets, nothing to read
            {"branch-protection/web.json": PLAN_WITHOUT_PROTECTION, "branch-rules/web.json": None},
            ("acme/web", Tri.NO, 0, Tri.NO, Tri.NO),
        ),
    ],
    ids=[
        "ruleset only",
        "ruleset without reviews",
        "rulesets unread",
        "classic, rulesets unread",
        "classic unread",
        "nothing read",
        "ruleset adding nothing",
        "plan without protection",
    ],
)
def test_branch_protection_is_the_classic_rule_and_rulesets_together(
    tmp_path: Path,
    make_config: MakeConfig,
    files: dict[str, Any],
    expected: tuple[Any, ...],
) -> None:
    records = collect_full(tmp_path, make_config, **files).records
    found = {
        p.repository: (
            p.repository,
            p.protected,
            p.required_approvals,
            p.enforce_admins,
            p.dismiss_stale_reviews,
        )
        for p in records.branch_protections
    }
    assert found[expected[0]] == expected


def test_since_limits_the_changes_and_the_review_files_read(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    full_export(tmp_path)
    config = make_config(path="gh", org="acme", since="2025-01-01")
    collected = GitHubConnector().collect(config)
    assert [c.commit for c in collected.records.changes] == [f"{1:040x}"]
    assert "reviews/api/4.json" not in [p.name for p in collected.payloads]
    assert collected.parameters["since"] == "2025-01-01T00:00:00+00:00"


def test_every_population_read_and_replayed(tmp_path: Path, make_config: MakeConfig) -> None:
    collected = collect_full(tmp_path, make_config)
    assert collected.parameters["populations"] == dict.fromkeys(
        ("members", *github.POPULATIONS), "read"
    )
    assert collected.parameters["files"] == [
        "members.json",
        "members-2fa_disabled.json",
        "members-admin.json",
        "outside_collaborators.json",
        "outside_collaborators-2fa_disabled.json",
        "personal-access-tokens.json",
        "installations.json",
        "repos.json",
        "deploy-keys/api.json",
        "branch-protection/api.json",
        "branch-rules/api.json",
        "pulls/api.json",
        "reviews/api/1.json",
        "reviews/api/4.json",
        "deploy-keys/web.json",
        "branch-protection/web.json",
        "branch-rules/web.json",
        "pulls/web.json",
    ]
    config = make_config(path="gh", org="acme")
    assert registry.parser_for("github")(collected.payloads, config) == collected.records


def test_absent_per_repository_files_are_warned_and_give_no_records(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    collected = collect_full(
        tmp_path,
        make_config,
        **{
            "deploy-keys/api.json": None,
            "branch-protection/web.json": None,
            "reviews/api/1.json": None,
        },
    )
    records = collected.records
    assert [c.credential_id for c in records.credentials if c.kind == "deploy_key"] == []
    assert [(p.repository, p.protected) for p in records.branch_protections] == [
        ("acme/api", Tri.YES),
        ("acme/web", Tri.UNKNOWN),  # counted as not known, never left out
    ]
    assert [c.commit for c in records.changes] == [f"{4:040x}"]
    assert {
        "deploy keys of 1 repositories not in the export (deploy-keys/<repo>.json), "
        "so not read: api",
        "branch protection of 1 repositories not in the export "
        "(branch-protection/<repo>.json), so not read: web",
        "reviews of 1 merged pull request(s) not read in full, so they are left out: acme/api#1",
    } <= set(records.warnings)
    populations = collected.parameters["populations"]
    assert (populations["deploy_keys"], populations["changes"]) == ("partial", "partial")


def test_the_repositories_setting_limits_the_repositories(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    full_export(tmp_path)
    config = make_config(path="gh", org="acme", repositories=["acme/WEB", "gone"])
    records = GitHubConnector().collect(config).records
    assert [p.repository for p in records.branch_protections] == ["acme/web"]
    assert records.changes == ()
    assert "setting 'repositories' names repositories not read: gone" in records.warnings


@pytest.mark.parametrize(
    ("name", "body", "problem"),
    [
        (
            "personal-access-tokens.json",
            [{**fine_grained_token(21, "mona", expires_at=None), "token_expires_at": "soon"}],
            "[0].token_expires_at: not an ISO 8601 timestamp: 'soon'",
        ),
        (
            "installations.json",
            [installation(31, "ci-bot", selection="all")],
            "expected a JSON object with installations, got an array",
        ),
        (
            "installations.json",
            {"installations": [{"id": 31}]},
            "installations[0].app_slug: missing",
        ),
        (
            "deploy-keys/api.json",
            [{**deploy_key(11, read_only=True, added_by=None, last_used=None), "read_only": "y"}],
            "[0].read_only: expected a boolean, got a string",
        ),
        (
            "pulls/api.json",
            [{**pull(1, "mona", merged_at=MERGED), "base": None}],
            "[0].base: missing",
        ),
        (
            "branch-protection/api.json",
            {"message": "Not Found"},
            ".message: 'Not Found'; expected branch protection settings",
        ),
        (
            "branch-rules/api.json",
            [{"ruleset_id": 42}],
            "[0].type: missing",
        ),
        (
            "branch-rules/api.json",
            [
                {
                    **ruleset_rule("pull_request", approvals=1, dismiss_stale=False),
                    "parameters": {"required_approving_review_count": "2"},
                }
            ],
            "[0].parameters.required_approving_review_count: expected a number, got a string",
        ),
        (
            "repos.json",
            [{"name": "api", "full_name": "api"}],
            "[0].full_name: expected 'owner/name', got 'api'",
        ),
    ],
)
def test_bad_population_files_name_file_and_field(
    tmp_path: Path, make_config: MakeConfig, name: str, body: Any, problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        collect_full(tmp_path, make_config, **{name: body})
    assert caught.value.where == str(tmp_path / "gh" / name)
    assert caught.value.problem == problem


def test_invalid_json_in_a_review_file_names_its_line(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    directory = full_export(tmp_path)
    (directory / "reviews/api/1.json").write_text('[\n  {"state": "APPROVED",}\n]')
    with pytest.raises(InputError) as caught:
        GitHubConnector().collect(make_config(path="gh", org="acme"))
    assert caught.value.where == f"{directory / 'reviews/api/1.json'}:2"
    assert caught.value.problem.startswith("invalid JSON at column")


def test_unknown_population_setting(tmp_path: Path, make_config: MakeConfig) -> None:
    export(tmp_path)
    with pytest.raises(InputError, match="'populations': unknown tokens"):
        GitHubConnector().collect(make_config(path="gh", org="acme", populations=["tokens"]))
