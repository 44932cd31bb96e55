"""Live mode of the AWS IAM connector against moto in server mode, boto3 unchanged but the endpoint.

Each scenario lives in its own moto account (chosen with moto's ``x-moto-account-id`` header when
setting up, and by the access key afterwards), so nothing here sees the session server's other
state. The connector runs as a user holding only the AWS managed ``SecurityAudit`` policy, with
moto enforcing IAM authorisation: that is the least privilege the module documents.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import moto.settings
import pytest

from assay.connectors import aws_iam
from assay.connectors.aws_iam import AwsIamConnector
from assay.connectors.base import Collected, ConnectorConfig
from assay.errors import InputError
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Credential,
    Entitlement,
    Grant,
    Tri,
)

ACCOUNT = "210987654321"
DENIED_ACCOUNT = "210987654322"
PAGED_ACCOUNT = "210987654323"
THIRD_PARTY = "999999999999"
SYSTEM = "aws"
TRAIL_BUCKET = "assay-live-cloudtrail"
POLICY = "arn:aws:iam::aws:policy/"

ADMIN = f"{POLICY}AdministratorAccess"
IAM_FULL = f"{POLICY}IAMFullAccess"
POWER_USER = f"{POLICY}PowerUserAccess"
READ_ONLY = f"{POLICY}ReadOnlyAccess"
SECURITY_AUDIT = f"{POLICY}SecurityAudit"


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _trust(principal: dict[str, Any]) -> str:
    return _document({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


ALLOW_S3 = _document({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})


def _admin_client(endpoint: str, service: str, account: str) -> Any:
    """A client that acts in ``account`` of the moto server, whatever its key."""
    client = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client(service, endpoint_url=endpoint)  # type: ignore[call-overload]

    def pin(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    client.meta.events.register("before-sign.*.*", pin)
    return client


def _use_credentials(monkeypatch: pytest.MonkeyPatch, key: dict[str, str]) -> None:
    """The standard chain finds exactly this key: environment variables, no files."""
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


def _enforce_iam(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto checks every request against the caller's IAM policies from now on."""
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)


def _config(endpoint: str, base_dir: Path, **settings: Any) -> ConnectorConfig:
    return ConnectorConfig(
        system_id=SYSTEM,
        mode="live",
        settings={"region": "us-east-1", "endpoint_url": endpoint, **settings},
        secrets={},
        base_dir=base_dir,
    )


@dataclass(frozen=True)
class Live:
    endpoint: str
    config: ConnectorConfig
    collected: Collected
    sleeps: list[float]
    before: datetime
    after: datetime


@pytest.fixture(scope="module")
def live(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One account with users, groups, policies, roles and trails, collected once."""
    before = datetime.now(UTC).replace(microsecond=0)
    with pytest.MonkeyPatch.context() as monkeypatch:
        # Read when moto creates the account's IAM: AWS managed policies exist only with it.
        monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        iam = _admin_client(endpoint, "iam", ACCOUNT)
        for user in ("alice", "auditor", "bob", "ci-bot", "dave", "erin"):
            iam.create_user(UserName=user)
        iam.create_login_profile(UserName="alice", Password="Correct-Horse-9")
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
        iam.enable_mfa_device(
            UserName="alice",
            SerialNumber=device["SerialNumber"],
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        )
        iam.create_login_profile(UserName="bob", Password="Battery-Staple-7")
        auditor_key = iam.create_access_key(UserName="auditor")["AccessKey"]
        iam.attach_user_policy(UserName="auditor", PolicyArn=SECURITY_AUDIT)
        iam.create_access_key(UserName="ci-bot")
        second = iam.create_access_key(UserName="ci-bot")["AccessKey"]
        iam.update_access_key(
            UserName="ci-bot", AccessKeyId=second["AccessKeyId"], Status="Inactive"
        )
        iam.attach_user_policy(UserName="ci-bot", PolicyArn=POWER_USER)
        iam.put_user_policy(UserName="bob", PolicyName="scratch", PolicyDocument=ALLOW_S3)

        for group in ("admins", "auditors", "developers", "iam-admins"):
            iam.create_group(GroupName=group)
        iam.attach_group_policy(GroupName="admins", PolicyArn=ADMIN)
        iam.attach_group_policy(GroupName="developers", PolicyArn=READ_ONLY)
        iam.put_group_policy(GroupName="developers", PolicyName="deploy", PolicyDocument=ALLOW_S3)
        iam.attach_group_policy(GroupName="iam-admins", PolicyArn=IAM_FULL)
        iam.add_user_to_group(GroupName="admins", UserName="alice")
        iam.add_user_to_group(GroupName="developers", UserName="bob")

        iam.create_role(
            RoleName="app-server", AssumeRolePolicyDocument=_trust({"Service": "ec2.amazonaws.com"})
        )
        iam.create_role(
            RoleName="break-glass",
            AssumeRolePolicyDocument=_trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/erin"}),
        )
        iam.create_role(
            RoleName="AWSServiceRoleForSupport",
            Path="/aws-service-role/support.amazonaws.com/",
            AssumeRolePolicyDocument=_trust({"Service": "support.amazonaws.com"}),
        )
        iam.create_role(
            RoleName="vendor-audit",
            AssumeRolePolicyDocument=_trust({"AWS": f"arn:aws:iam::{THIRD_PARTY}:root"}),
        )

        _admin_client(endpoint, "s3", ACCOUNT).create_bucket(Bucket=TRAIL_BUCKET)
        cloudtrail = _admin_client(endpoint, "cloudtrail", ACCOUNT)
        cloudtrail.create_trail(
            Name="audit",
            S3BucketName=TRAIL_BUCKET,
            IsMultiRegionTrail=True,
            EnableLogFileValidation=True,
        )
        cloudtrail.start_logging(Name="audit")
        cloudtrail.create_trail(Name="local", S3BucketName=TRAIL_BUCKET)

        _use_credentials(monkeypatch, auditor_key)
        _enforce_iam(monkeypatch)
        config = _config(endpoint, tmp_path_factory.mktemp("aws"))
        sleeps: list[float] = []
        collected = AwsIamConnector(sleep=sleeps.append).collect(config)
    after = datetime.now(UTC)
    yield Live(endpoint, config, collected, sleeps, before, after)


def _within(live: Live, value: datetime | None) -> bool:
    return value is not None and live.before <= value <= live.after


def _user(account_id: str, kind: AccountKind, status: AccountStatus, **fields: Any) -> Account:
    values: dict[str, Any] = {
        "system_id": SYSTEM,
        "account_id": account_id,
        "username": account_id,
        "email": None,
        "name": None,
        "employee_id": None,
        "kind": kind,
        "status": status,
        "mfa_registered": Tri.NO,
        "mfa_enforced": Tri.NO,
        "last_login": None,
        "last_login_source": "aws:password_last_used",
        "privileged": Tri.UNKNOWN,
    }
    values.update(fields)
    return Account(**values)


def _role(name: str, kind: AccountKind = AccountKind.SERVICE) -> Account:
    return _user(
        name,
        kind,
        AccountStatus.ACTIVE,
        mfa_registered=Tri.UNKNOWN,
        mfa_enforced=Tri.UNKNOWN,
        last_login_source=None,
    )


def test_accounts_field_by_field(live: Live) -> None:
    unknown, active, inactive = AccountKind.UNKNOWN, AccountStatus.ACTIVE, AccountStatus.INACTIVE
    accounts = live.collected.records.accounts
    # moto lists roles in the order of their random ids; the connector keeps the API's order.
    users, roles = accounts[:6], sorted(accounts[6:], key=lambda account: account.account_id)
    assert (*users, *roles) == (
        # Console password and an enabled virtual MFA device; administrator through 'admins'.
        # moto reports password_last_used as no_information: never signed in.
        _user(
            "alice",
            AccountKind.HUMAN,
            active,
            mfa_registered=Tri.YES,
            mfa_enforced=Tri.YES,
            privileged=Tri.YES,
        ),
        # SecurityAudit only: not one of the privileged policies, and its document is not read.
        _user("auditor", unknown, active),
        _user("bob", AccountKind.HUMAN, active),  # ReadOnlyAccess and inline policies: unknown
        _user("ci-bot", unknown, active, privileged=Tri.YES),  # PowerUserAccess, directly
        _user("dave", unknown, inactive, privileged=Tri.NO),  # holds no policy at all
        _user("erin", unknown, inactive),  # no policy, but the role break-glass trusts her
        _role("AWSServiceRoleForSupport", AccountKind.SYSTEM),  # AWS manages it: no owner here
        _role("app-server"),
        _role("break-glass"),
        _role("vendor-audit"),
    )
    assert live.collected.complete


def test_access_keys_as_moto_reports_them(live: Live) -> None:
    auditor, ci_bot_1, ci_bot_2 = live.collected.records.credentials
    source = "aws:access_key_1_last_used_date"
    assert (auditor.credential_id, auditor.account_id, auditor.kind, auditor.active) == (
        "auditor:access_key_1",
        "auditor",
        "aws_access_key",
        True,
    )
    # moto marks a key used by every request made with it: the collection's own calls.
    assert _within(live, auditor.last_rotated)
    assert _within(live, auditor.last_used)
    assert (auditor.last_used_source, auditor.created, auditor.expiry) == (
        source,
        None,
        Tri.UNKNOWN,
    )
    assert ci_bot_1 == Credential(
        system_id=SYSTEM,
        credential_id="ci-bot:access_key_1",
        kind="aws_access_key",
        account_id="ci-bot",
        active=True,
        created=None,
        last_rotated=ci_bot_1.last_rotated,
        last_used=None,  # N/A: never used
        last_used_source=source,
    )
    assert _within(live, ci_bot_1.last_rotated)
    # The deactivated key is still reported, with the date it was created.
    assert (ci_bot_2.credential_id, ci_bot_2.active, ci_bot_2.last_used) == (
        "ci-bot:access_key_2",
        False,
        None,
    )
    assert _within(live, ci_bot_2.last_rotated)


def test_entitlements(live: Live) -> None:
    def entitlement(entitlement_id: str, name: str, kind: str, privileged: Tri) -> Entitlement:
        return Entitlement(SYSTEM, entitlement_id, name, kind, privileged)

    assert live.collected.records.entitlements == (
        entitlement("group:admins", "admins", "group", Tri.YES),
        entitlement(ADMIN, "AdministratorAccess", "policy", Tri.YES),
        entitlement("group:auditors", "auditors", "group", Tri.NO),  # no policy, no member
        entitlement("group:developers", "developers", "group", Tri.UNKNOWN),
        entitlement(READ_ONLY, "ReadOnlyAccess", "policy", Tri.UNKNOWN),
        entitlement("inline:group/developers/deploy", "deploy", "policy", Tri.UNKNOWN),
        entitlement("group:iam-admins", "iam-admins", "group", Tri.YES),
        entitlement(IAM_FULL, "IAMFullAccess", "policy", Tri.YES),
        entitlement(SECURITY_AUDIT, "SecurityAudit", "policy", Tri.UNKNOWN),
        entitlement("inline:user/bob/scratch", "scratch", "policy", Tri.UNKNOWN),
        entitlement(POWER_USER, "PowerUserAccess", "policy", Tri.YES),
    )


def test_grants_direct_and_via_groups(live: Live) -> None:
    assert live.collected.records.grants == (
        Grant(SYSTEM, "alice", "group:admins"),
        Grant(SYSTEM, "alice", ADMIN, via="group:admins"),
        Grant(SYSTEM, "auditor", SECURITY_AUDIT),
        Grant(SYSTEM, "bob", "inline:user/bob/scratch"),
        Grant(SYSTEM, "bob", "group:developers"),
        Grant(SYSTEM, "bob", READ_ONLY, via="group:developers"),
        Grant(SYSTEM, "bob", "inline:group/developers/deploy", via="group:developers"),
        Grant(SYSTEM, "ci-bot", POWER_USER),
    )


def test_warnings(live: Live) -> None:
    assert live.collected.records.warnings == (
        # moto's report has no root row.
        "credential-report.csv: no <root_account> row; the report may be incomplete",
        f"list-roles.json: role 'vendor-audit' trusts AWS account {THIRD_PARTY} "
        f"('arn:aws:iam::{THIRD_PARTY}:root'), outside its own account {ACCOUNT}: "
        "third-party access",
    )


def test_parameters_and_cloudtrail(live: Live) -> None:
    parameters = dict(live.collected.parameters)
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/"
    assert parameters == {
        "region": "us-east-1",
        "endpoint_url": live.endpoint,
        "credential_report_generated": "2015-02-02T20:02:02+00:00",  # moto's fixed value
        "users": 6,
        "access_keys": 3,
        "groups": 4,
        "policies": 7,
        "roles": 4,
        "cloudtrail": {
            "region": "us-east-1",
            "trails": [
                {
                    "name": "audit",
                    "arn": f"{trail_arn}audit",
                    "home_region": "us-east-1",
                    "multi_region": True,
                    "organization": False,
                    "log_file_validation": True,
                    "logging": True,
                    "status_error": None,
                    "s3_bucket": TRAIL_BUCKET,
                },
                {
                    "name": "local",
                    "arn": f"{trail_arn}local",
                    "home_region": "us-east-1",
                    "multi_region": False,
                    "organization": False,
                    "log_file_validation": False,
                    "logging": False,
                    "status_error": None,
                    "s3_bucket": TRAIL_BUCKET,
                },
            ],
            "multi_region_logging": "yes",
            "multi_region_logging_validated": "yes",
        },
        "pages": {
            "ListUsers": 1,
            "ListGroups": 1,
            "ListGroupsForUser": 6,
            "ListAttachedUserPolicies": 6,
            "ListUserPolicies": 6,
            "ListAttachedGroupPolicies": 4,
            "ListGroupPolicies": 4,
            "ListRoles": 1,
            "DescribeTrails": 1,
            "GetTrailStatus": 2,
        },
    }
    json.dumps(parameters)  # it goes into the snapshot manifest as it is
    # moto answers STARTED to the first GenerateCredentialReport, COMPLETE to the next.
    assert live.sleeps == [aws_iam.REPORT_POLL_SECONDS]
    assert (live.collected.connector, live.collected.mode) == ("aws_iam", "live")


def test_payloads_are_the_raw_responses(live: Live) -> None:
    payloads = {payload.name: payload for payload in live.collected.payloads}
    assert list(payloads) == list(aws_iam.LAYOUT)
    report = payloads["credential-report.csv"]
    assert report.source == f"{live.endpoint}#GetCredentialReport"
    assert report.data.decode().startswith("user,arn,user_creation_time,password_enabled,")
    users = payloads["list-users.json"]
    assert users.source == f"{live.endpoint}#ListUsers"
    (page,) = json.loads(users.data)
    assert "ResponseMetadata" not in page
    assert page["IsTruncated"] is False
    assert [user["UserName"] for user in page["Users"]][:2] == ["alice", "auditor"]
    assert page["Users"][0]["CreateDate"].endswith("+00:00")
    groups_of = json.loads(payloads["list-groups-for-user.json"].data)
    assert [group["GroupName"] for group in groups_of["alice"][0]["Groups"]] == ["admins"]
    cloudtrail = json.loads(payloads["cloudtrail.json"].data)
    assert cloudtrail["Region"] == "us-east-1"
    assert [trail["Name"] for trail in cloudtrail["DescribeTrails"]["trailList"]] == [
        "audit",
        "local",
    ]


def test_reparsing_the_payloads_gives_the_same_records(live: Live) -> None:
    assert aws_iam.parse(live.collected.payloads, live.config) == live.collected.records


def test_export_mode_reads_the_live_layout(live: Live, tmp_path: Path) -> None:
    for payload in live.collected.payloads:
        (tmp_path / payload.name).write_bytes(payload.data)
    config = ConnectorConfig(SYSTEM, "export", {"path": str(tmp_path)}, {}, tmp_path)
    exported = AwsIamConnector().collect(config)
    assert exported.records == live.collected.records
    assert exported.parameters["cloudtrail"] == live.collected.parameters["cloudtrail"]
    assert exported.parameters["files"] == list(aws_iam.LAYOUT)
    assert exported.payloads[0].source == str(tmp_path / "credential-report.csv")

    # The report alone in a directory: the export of old, privilege unknown but for root.
    for name in aws_iam.LAYOUT[1:]:
        (tmp_path / name).unlink()
    alone = AwsIamConnector().collect(config).records
    assert [account.account_id for account in alone.accounts] == [
        "alice",
        "auditor",
        "bob",
        "ci-bot",
        "dave",
        "erin",
    ]
    assert {account.privileged for account in alone.accounts} == {Tri.UNKNOWN}
    assert (alone.entitlements, alone.grants) == ((), ())


def test_export_directory_needs_every_iam_listing(live: Live, tmp_path: Path) -> None:
    for payload in live.collected.payloads[:2]:
        (tmp_path / payload.name).write_bytes(payload.data)
    config = ConnectorConfig(SYSTEM, "export", {"path": str(tmp_path)}, {}, tmp_path)
    with pytest.raises(InputError) as caught:
        AwsIamConnector().collect(config)
    assert caught.value.where == str(tmp_path / "list-users.json")
    assert caught.value.problem == (
        "the IAM listings go together, but list-groups.json, list-groups-for-user.json, "
        "list-attached-user-policies.json, list-user-policies.json, "
        "list-attached-group-policies.json, list-group-policies.json, list-roles.json "
        "are missing"
    )


@pytest.fixture(scope="module")
def denied_keys(endpoint: str) -> dict[str, dict[str, str]]:
    """Users of another account: one holding nothing, one that may read IAM but not CloudTrail."""
    iam = _admin_client(endpoint, "iam", DENIED_ACCOUNT)
    keys: dict[str, dict[str, str]] = {}
    for user in ("nobody", "iam-reader"):
        iam.create_user(UserName=user)
        keys[user] = iam.create_access_key(UserName=user)["AccessKey"]
    iam.put_user_policy(
        UserName="iam-reader",
        PolicyName="read-iam",
        PolicyDocument=_document(
            {
                "Effect": "Allow",
                "Action": ["iam:GenerateCredentialReport", "iam:GetCredentialReport", "iam:List*"],
                "Resource": "*",
            }
        ),
    )
    return keys


@pytest.mark.parametrize(
    ("user", "operation", "action"),
    [
        ("nobody", "GenerateCredentialReport", "iam:GenerateCredentialReport"),
        # moto answers CloudTrail's JSON protocol with an XML error body; its code still shows.
        ("iam-reader", "DescribeTrails", "cloudtrail:DescribeTrails"),
    ],
)
def test_access_denied_is_one_line_naming_the_call(
    endpoint: str,
    denied_keys: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    user: str,
    operation: str,
    action: str,
) -> None:
    _use_credentials(monkeypatch, denied_keys[user])
    _enforce_iam(monkeypatch)
    with pytest.raises(InputError) as caught:
        AwsIamConnector(sleep=lambda _: None).collect(_config(endpoint, tmp_path))
    assert caught.value.where.endswith(f"#{operation}")
    assert caught.value.problem == (
        f"AccessDenied: User: arn:aws:iam::{DENIED_ACCOUNT}:user/{user} is not authorized to "
        f"perform: {action}; live mode needs read-only IAM and CloudTrail access, e.g. the AWS "
        "managed policy SecurityAudit"
    )
    assert "\n" not in str(caught.value)


def test_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the standard chain's own setting: no retries
    with pytest.raises(InputError) as caught:
        AwsIamConnector().collect(_config(url, tmp_path))
    assert caught.value.where == f"{url}#GenerateCredentialReport"
    assert caught.value.problem == f'Could not connect to the endpoint URL: "{url}/"'


def test_no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(InputError) as caught:
        AwsIamConnector().collect(_config("http://127.0.0.1:9", tmp_path))
    assert (caught.value.where, caught.value.problem) == (
        f"system {SYSTEM}",
        aws_iam.NO_CREDENTIALS,
    )


@pytest.mark.parametrize(
    ("settings", "secrets", "problem"),
    [
        (
            {"path": "exports/aws"},
            {},
            "connector 'aws_iam' in mode 'live' does not take the setting 'path' ('path' is for "
            "export mode); its settings are: region, endpoint_url",
        ),
        (
            {"region": "Mars"},
            {},
            "connector setting 'region' must be an AWS region such as us-east-1",
        ),
        (
            {"endpoint_url": "localhost:4566"},
            {},
            "connector setting 'endpoint_url' must be an http(s) URL",
        ),
        (
            {},
            {"secret_key": "x"},
            "connector 'aws_iam' in mode 'live' takes no secrets: credentials come from the "
            "standard AWS chain (environment variables, shared config or SSO profile, instance or "
            "task role)",
        ),
    ],
)
def test_live_settings_are_checked_before_any_call(
    tmp_path: Path, settings: dict[str, Any], secrets: dict[str, str], problem: str
) -> None:
    config = ConnectorConfig(SYSTEM, "live", settings, secrets, tmp_path)
    with pytest.raises(InputError) as caught:
        AwsIamConnector().collect(config)
    assert (caught.value.where, caught.value.problem) == (f"system {SYSTEM}", problem)


def test_credential_report_wait_is_bounded() -> None:
    class Meta:
        endpoint_url = "https://iam.amazonaws.com"

    class NeverReady:
        meta = Meta()

        def generate_credential_report(self) -> dict[str, str]:
            return {"State": "INPROGRESS"}

    sleeps: list[float] = []
    reader = aws_iam._LiveReader(SYSTEM, NeverReady(), NeverReady(), sleeps.append)  # type: ignore[arg-type]
    with pytest.raises(InputError) as caught:
        reader.read()
    assert caught.value.where == "https://iam.amazonaws.com#GenerateCredentialReport"
    assert caught.value.problem == (
        "the credential report was not ready after 60 polls 2 s apart; try again later"
    )
    assert sleeps == [aws_iam.REPORT_POLL_SECONDS] * (aws_iam.REPORT_POLLS - 1)


def test_listings_are_read_to_the_last_page(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    iam = _admin_client(endpoint, "iam", PAGED_ACCOUNT)
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    names = [f"service-{number:03d}" for number in range(101)]  # moto pages roles by 100
    for name in names:
        iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=_trust({"Service": "ec2.amazonaws.com"})
        )
    _use_credentials(monkeypatch, key)
    collected = AwsIamConnector(sleep=lambda _: None).collect(_config(endpoint, tmp_path))
    assert collected.parameters["pages"]["ListRoles"] == 2
    roles = [a.account_id for a in collected.records.accounts if a.kind is AccountKind.SERVICE]
    assert sorted(roles) == names
    assert collected.records.warnings == (
        "credential-report.csv: no <root_account> row; the report may be incomplete",
    )
