from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.conftest import local_where

from assay.connectors import github
from assay.connectors.base import ConnectorConfig
from assay.connectors.github import GitHubConnector
from assay.errors import InputError
from assay.inventory.records import Account, AccountKind, AccountStatus, Records, Tri

MakeConfig = Callable[..., ConnectorConfig]


def simple_user(login: str, user_id: int, user_type: str = "User") -> dict[str, Any]:
    """A simple-user object as ``GET /orgs/{org}/members`` returns it."""
    return {
        "login": login,
        "id": user_id,
        "node_id": f"MDQ6VXNlcj{user_id}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": user_type,
        "site_admin": False,
    }


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
    )


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
