from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.connectors.conftest import local_where

from assay.connectors import aws_iam
from assay.connectors.aws_iam import AwsIamConnector
from assay.connectors.base import ConnectorConfig
from assay.errors import InputError
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Credential,
    Records,
    Tri,
)

MakeConfig = Callable[..., ConnectorConfig]

HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)
ROOT = (
    "<root_account>,arn:aws:iam::123456789012:root,2019-01-01T00:00:00+00:00,not_supported,"
    "2024-03-01T09:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,"
    "N/A,N/A,N/A,false,N/A,false,N/A"
)
ALICE = (
    "alice,arn:aws:iam::123456789012:user/alice,2021-05-05T10:00:00+00:00,true,"
    "2024-06-01T07:30:00+02:00,2024-01-01T00:00:00+00:00,N/A,true,true,"
    "2024-01-02T00:00:00+00:00,2024-06-02T10:00:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,"
    "false,N/A,false,N/A"
)
CI_BOT = (
    "ci-bot,arn:aws:iam::123456789012:user/ci-bot,2020-02-02T00:00:00+00:00,false,N/A,N/A,N/A,"
    "false,true,2022-02-02T00:00:00+00:00,N/A,N/A,N/A,false,2020-02-02T00:00:00+00:00,"
    "2021-12-31T23:59:59+00:00,us-east-1,sts,false,N/A,false,N/A"
)
OLD_USER = (
    "old-user,arn:aws:iam::123456789012:user/old-user,2018-01-01T00:00:00+00:00,false,"
    "no_information,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
)
REPORT = "\n".join([HEADER, ROOT, ALICE, CI_BOT, OLD_USER]) + "\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "credential-report.csv"
    path.write_text(text, encoding="utf-8")
    return path


def collect(tmp_path: Path, make_config: MakeConfig, text: str) -> Records:
    write(tmp_path, text)
    return AwsIamConnector().collect(make_config(path="credential-report.csv")).records


def error_for(tmp_path: Path, make_config: MakeConfig, text: str) -> InputError:
    write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        AwsIamConnector().collect(make_config(path="credential-report.csv"))
    return caught.value


def test_accounts_field_by_field(tmp_path: Path, make_config: MakeConfig) -> None:
    records = collect(tmp_path, make_config, REPORT)
    root, alice, ci_bot, old_user = records.accounts

    assert root == Account(
        system_id="sys",
        account_id="<root_account>",
        username="<root_account>",
        email=None,
        name=None,
        employee_id=None,
        kind=AccountKind.SYSTEM,
        status=AccountStatus.UNKNOWN,  # password "not_supported", no active key
        mfa_registered=Tri.YES,
        mfa_enforced=Tri.YES,
        last_login=datetime(2024, 3, 1, 9, 0, tzinfo=UTC),
        last_login_source="aws:password_last_used",
        privileged=Tri.YES,
        root=True,
    )
    assert alice == Account(
        system_id="sys",
        account_id="alice",
        username="alice",
        email=None,
        name=None,
        employee_id=None,
        kind=AccountKind.HUMAN,
        status=AccountStatus.ACTIVE,
        mfa_registered=Tri.YES,
        mfa_enforced=Tri.YES,
        last_login=datetime(2024, 6, 1, 5, 30, tzinfo=UTC),
        last_login_source="aws:password_last_used",
        privileged=Tri.UNKNOWN,
    )
    assert (ci_bot.kind, ci_bot.status, ci_bot.mfa_registered, ci_bot.mfa_enforced) == (
        AccountKind.UNKNOWN,
        AccountStatus.ACTIVE,
        Tri.NO,
        Tri.NO,
    )
    assert ci_bot.last_login is None
    assert (old_user.kind, old_user.status, old_user.last_login) == (
        AccountKind.UNKNOWN,
        AccountStatus.INACTIVE,
        None,
    )
    assert records.warnings == ()


def test_access_keys(tmp_path: Path, make_config: MakeConfig) -> None:
    records = collect(tmp_path, make_config, REPORT)
    assert records.credentials == (
        Credential(
            system_id="sys",
            credential_id="alice:access_key_1",
            kind="aws_access_key",
            account_id="alice",
            active=True,
            created=None,
            last_rotated=datetime(2024, 1, 2, tzinfo=UTC),
            last_used=datetime(2024, 6, 2, 10, 0, tzinfo=UTC),
            last_used_source="aws:access_key_1_last_used_date",
        ),
        Credential(
            system_id="sys",
            credential_id="ci-bot:access_key_1",
            kind="aws_access_key",
            account_id="ci-bot",
            active=True,
            created=None,
            last_rotated=datetime(2022, 2, 2, tzinfo=UTC),
            last_used=None,  # N/A: never used
            last_used_source="aws:access_key_1_last_used_date",
        ),
        Credential(
            system_id="sys",
            credential_id="ci-bot:access_key_2",
            kind="aws_access_key",
            account_id="ci-bot",
            active=False,  # deactivated, but it exists: it was rotated
            created=None,
            last_rotated=datetime(2020, 2, 2, tzinfo=UTC),
            last_used=datetime(2021, 12, 31, 23, 59, 59, tzinfo=UTC),
            last_used_source="aws:access_key_2_last_used_date",
        ),
    )


def test_collect_keeps_bytes_and_reparses(tmp_path: Path, make_config: MakeConfig) -> None:
    path = write(tmp_path, REPORT)
    config = make_config(path=str(path))
    collected = AwsIamConnector().collect(config)
    (payload,) = collected.payloads
    assert (payload.name, payload.source, payload.data) == (
        "credential-report.csv",
        str(path),
        path.read_bytes(),
    )
    assert aws_iam.parse(collected.payloads, config) == collected.records
    assert collected.parameters["users"] == 4
    assert collected.parameters["access_keys"] == 3


def test_older_report_without_last_used_columns(tmp_path: Path, make_config: MakeConfig) -> None:
    header = (
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
        "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
        "access_key_2_active,access_key_2_last_rotated,cert_1_active,cert_1_last_rotated,"
        "cert_2_active,cert_2_last_rotated"
    )
    row = (
        "svc,arn:aws:iam::1:user/svc,2014-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,"
        "2014-02-01T00:00:00+00:00,false,N/A,false,N/A,false,N/A"
    )
    records = collect(tmp_path, make_config, f"{header}\n{row}\n")
    (key,) = records.credentials
    assert (key.credential_id, key.active, key.last_used, key.last_used_source) == (
        "svc:access_key_1",
        True,
        None,
        None,
    )
    assert records.accounts[0].status is AccountStatus.ACTIVE
    assert records.warnings == (
        "credential-report.csv: no <root_account> row; the report may be incomplete",
    )


def test_minimal_report_leaves_the_rest_unknown(tmp_path: Path, make_config: MakeConfig) -> None:
    text = (
        "mfa_active,user,password_enabled,arn,user_creation_time\n"
        "N/A,bob,false,arn:aws:iam::1:user/bob,2015-01-01T00:00:00+00:00\n"
        "true,carol,true,arn:aws:iam::1:user/carol,2015-01-01T00:00:00+00:00\n"
    )
    bob, carol = collect(tmp_path, make_config, text).accounts
    # No key columns: a user without a password might still have an active key.
    assert (bob.status, bob.kind, bob.mfa_registered, bob.mfa_enforced) == (
        AccountStatus.UNKNOWN,
        AccountKind.UNKNOWN,
        Tri.UNKNOWN,
        Tri.UNKNOWN,
    )
    assert (bob.last_login, bob.last_login_source) == (None, None)
    assert (carol.status, carol.kind, carol.mfa_registered) == (
        AccountStatus.ACTIVE,
        AccountKind.HUMAN,
        Tri.YES,
    )


def test_live_mode_refuses_an_export_path(tmp_path: Path, make_config: MakeConfig) -> None:
    write(tmp_path, REPORT)
    with pytest.raises(InputError, match="mode 'live'"):
        AwsIamConnector().collect(make_config(mode="live", path="credential-report.csv"))


def test_missing_file(tmp_path: Path, make_config: MakeConfig) -> None:
    with pytest.raises(InputError) as caught:
        AwsIamConnector().collect(make_config(path="credential-report.csv"))
    assert caught.value.where == str(tmp_path / "credential-report.csv")


def test_missing_required_column(tmp_path: Path, make_config: MakeConfig) -> None:
    header = HEADER.replace(",mfa_active,", ",")
    error = error_for(tmp_path, make_config, header + "\n")
    assert (local_where(error.where), error.problem) == (
        "credential-report.csv:1",
        "missing required column: mfa_active",
    )


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        (",true,true,2024-01-02", ",yes,true,2024-01-02", "mfa_active"),
        ("2021-05-05T10:00:00+00:00,true", "2021-05-05T10:00:00+00:00,1", "password_enabled"),
        ("2021-05-05T10:00:00+00:00", "05/05/2021", "user_creation_time"),
        ("2024-06-01T07:30:00+02:00", "2024-06-01T07:30:00", "password_last_used"),
        ("2024-01-02T00:00:00+00:00", "2024-13-02T00:00:00+00:00", "access_key_1_last_rotated"),
        ("2024-06-02T10:00:00+00:00", "last week", "access_key_1_last_used_date"),
    ],
)
def test_bad_values_name_line_and_column(
    tmp_path: Path, make_config: MakeConfig, old: str, new: str, column: str
) -> None:
    assert old in ALICE
    error = error_for(tmp_path, make_config, "\n".join([HEADER, ROOT, ALICE.replace(old, new, 1)]))
    assert local_where(error.where) == "credential-report.csv:3"
    assert error.problem.startswith(f"{column}: ")


def test_duplicate_user(tmp_path: Path, make_config: MakeConfig) -> None:
    error = error_for(tmp_path, make_config, "\n".join([HEADER, ALICE, ROOT, ALICE]))
    assert (local_where(error.where), error.problem) == (
        "credential-report.csv:4",
        "user: duplicate 'alice' (first on line 2)",
    )
