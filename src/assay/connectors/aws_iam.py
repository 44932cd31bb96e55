"""AWS IAM users, access keys, groups, policies and roles, and CloudTrail trails.

Export mode (``mode: export``). Setting ``path``: either the credential report CSV alone (the
base64-decoded ``Content`` of ``GetCredentialReport``), or a directory in the live layout below,
e.g. a live snapshot's payloads written out. In a directory ``credential-report.csv`` is
required; the IAM listings are optional but go together (all of them or none); ``cloudtrail.json``
is optional.

Live mode (``mode: live``). Settings: ``region`` (default ``us-east-1``: where CloudTrail is
asked; IAM is global) and ``endpoint_url`` (optional, for tests against a local emulator only;
production uses AWS's own endpoints). Credentials come from the standard AWS chain (environment
variables, shared config or SSO profile, instance or task role), never from the programme file:
live mode takes no secrets and no other settings. boto3 is used as it is, retries included.

Least privilege: live mode only reads. It calls ``iam:GenerateCredentialReport`` (asks IAM to
build the report; it changes nothing in the account), ``iam:GetCredentialReport``,
``iam:ListUsers``, ``iam:ListGroups``, ``iam:ListGroupsForUser``, ``iam:ListAttachedUserPolicies``,
``iam:ListUserPolicies``, ``iam:ListAttachedGroupPolicies``, ``iam:ListGroupPolicies``,
``iam:ListRoles``, ``cloudtrail:DescribeTrails`` and ``cloudtrail:GetTrailStatus``. The AWS
managed policy ``SecurityAudit`` grants all of them and nothing that writes.

Layout (payload names; live mode keeps every listing page as received, minus boto3's
``ResponseMetadata``, with timestamps in ISO 8601 UTC):

- ``credential-report.csv``: the report, decoded. ``GenerateCredentialReport`` is repeated until
  the report is ``COMPLETE``, for at most ``REPORT_POLLS`` polls. AWS reuses a report younger
  than four hours, so users created since are missing from it (see below).
- ``list-users.json``, ``list-groups.json``, ``list-roles.json``: arrays of response pages, each
  listing read with boto3's paginator to the end.
- ``list-groups-for-user.json``, ``list-attached-user-policies.json``, ``list-user-policies.json``
  (per user of ``list-users.json``) and ``list-attached-group-policies.json``,
  ``list-group-policies.json`` (per group of ``list-groups.json`` and of any membership): objects
  mapping the user or group name to its array of pages, or to ``{"Error": {"Code", "Message"}}``
  when it was deleted while being read (``NoSuchEntity``).
- ``cloudtrail.json``: ``{"Region", "DescribeTrails": <response>, "GetTrailStatus": {<trail
  ARN>: <response> or {"Error": …}}}``; shadow trails (multi-region trails seen from another
  region) are asked by ARN, as AWS requires.

Credential report: columns are found by name. Older reports have fewer columns, so only
``user, arn, user_creation_time, password_enabled, mfa_active`` are required; whatever a missing
column would have said is unknown. The values ``N/A``, ``not_supported`` and ``no_information``
mean "no value" and become ``None`` / unknown. One account per row. ``<root_account>`` is the
account's root user: a system account, and privileged by nature. Other users are human when they
have a console password; users with only access keys may be people or services, so their kind is
unknown until the programme file says.

MFA: ``mfa_active`` says whether an MFA device is assigned to the user. IAM asks for that
device's code at every console sign-in of a user who has one, so for the console an assigned
device is also an enforced one, and ``mfa_enforced`` takes the same value as ``mfa_registered``.
(Access-key calls are not challenged; requiring MFA for them takes IAM policy conditions this
report does not show.) ``last_login`` is ``password_last_used``; each access key's ``last_used``
is its ``access_key_{n}_last_used_date``. The ``*_source`` fields name the column read, and are
``None`` when the report has no such column.

With the IAM listings, parse also gives entitlements and grants:

- each group is an entitlement of kind ``group`` (id ``group:NAME``); each managed policy
  attached to a user or group one of kind ``policy`` whose id is its ARN; each inline policy one
  of kind ``policy`` with id ``inline:user/USER/NAME`` or ``inline:group/GROUP/NAME``;
- grants: user → group, user → policy directly, and user → each policy of each of its groups
  with ``via`` the group's entitlement id;
- privilege: the AWS managed ``AdministratorAccess``, ``IAMFullAccess`` and ``PowerUserAccess``
  are privileged; every other policy is unknown (its document is not read). A group is
  privileged when one of its policies is, not privileged when it has no policy at all, and
  unknown otherwise. A user is privileged when any policy it holds, directly or through a group,
  is; not privileged when it holds none and no role's trust policy names it; unknown otherwise.
  Permission boundaries, SCPs and resource policies are not read. Without the listings (a CSV
  export) privilege stays unknown, except for the root user.
- users listed by ``ListUsers`` but absent from the (possibly older) report become accounts
  whose report facts are unknown, with a warning; report rows for users no longer listed are kept,
  with a warning.
- roles are accounts of kind ``service`` (``system`` for the roles AWS manages itself: paths
  ``/aws-service-role/`` and ``/aws-reserved/``), status ``active``, ``account_id`` the role
  name; their privilege is unknown (role policies are not read). A warning names every role
  whose trust policy lets in a principal of another AWS account, or anyone (``*``): third-party
  access.

CloudTrail is not an identity record: ``cloudtrail_summary`` turns ``cloudtrail.json`` into the
``cloudtrail`` entry of the collection's parameters (every trail with its home region, whether it
is multi-region, validates log files and is logging; and whether some multi-region trail is
logging, with and without log file validation, as yes / no / unknown).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import unquote

from pydantic import StrictStr

from assay._internal.strict_json import ParseProblem, parse_json
from assay.connectors import _api, _export
from assay.connectors.base import (
    Collected,
    ConnectorConfig,
    RawPayload,
    Settings,
    SettingsModel,
    Url,
)
from assay.errors import InputError
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Credential,
    Entitlement,
    Grant,
    Records,
    Tri,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_iam import IAMClient

REQUIRED_COLUMNS: tuple[str, ...] = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "mfa_active",
)
ROOT_USER = "<root_account>"
NO_VALUE: frozenset[str] = frozenset({"N/A", "not_supported", "no_information"})
"""Values the report uses where it has nothing to say."""
ACCESS_KEY_KIND = "aws_access_key"
LAST_LOGIN_SOURCE = "aws:password_last_used"

DEFAULT_REGION = "us-east-1"
LIVE_SETTINGS = ("region", "endpoint_url")
REPORT_POLLS = 60
REPORT_POLL_SECONDS = 2.0
"""``GenerateCredentialReport`` is asked again every two seconds, for at most two minutes."""

REPORT = "credential-report.csv"
USERS = "list-users.json"
GROUPS = "list-groups.json"
GROUPS_FOR_USER = "list-groups-for-user.json"
ATTACHED_USER_POLICIES = "list-attached-user-policies.json"
USER_POLICIES = "list-user-policies.json"
ATTACHED_GROUP_POLICIES = "list-attached-group-policies.json"
GROUP_POLICIES = "list-group-policies.json"
ROLES = "list-roles.json"
CLOUDTRAIL = "cloudtrail.json"
IAM_LISTINGS: tuple[str, ...] = (
    USERS,
    GROUPS,
    GROUPS_FOR_USER,
    ATTACHED_USER_POLICIES,
    USER_POLICIES,
    ATTACHED_GROUP_POLICIES,
    GROUP_POLICIES,
    ROLES,
)
LAYOUT: tuple[str, ...] = (REPORT, *IAM_LISTINGS, CLOUDTRAIL)
"""Every payload of a live snapshot, in the order it is collected."""

PRIVILEGED_POLICIES: frozenset[str] = frozenset(
    {"AdministratorAccess", "IAMFullAccess", "PowerUserAccess"}
)
"""AWS managed policies (``arn:PARTITION:iam::aws:policy/NAME``) that make a holder privileged."""
_AWS_MANAGED_POLICY = re.compile(r"arn:aws[a-z-]*:iam::aws:policy/(?P<name>[^/]+)")
_ACCOUNT_OF_ARN = re.compile(r"arn:aws[a-z-]*:(?:iam|sts)::(?P<account>\d{12}):")
_ACCOUNT_ID = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+")

ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403"}
)
LEAST_PRIVILEGE_HINT = (
    "live mode needs read-only IAM and CloudTrail access, e.g. the AWS managed policy SecurityAudit"
)
CREDENTIAL_CHAIN = (
    "credentials come from the standard AWS chain (environment variables, shared config or SSO "
    "profile, instance or task role)"
)
NO_CREDENTIALS = f"no AWS credentials found; in live mode {CREDENTIAL_CHAIN}"

_T = TypeVar("_T")


class AwsIamSettings(Settings):
    """The credential report or directory (export mode); the region and, for a local emulator
    only, the endpoint (live mode). Credentials come from the AWS environment, never from here."""

    path: StrictStr | None = None
    region: StrictStr | None = None
    endpoint_url: Url | None = None


class AwsIamConnector(_api.ApiConnector):
    """Reads an AWS account's IAM and CloudTrail live, or from a credential report / directory."""

    type: str = "aws_iam"
    version: str = "2"
    settings: SettingsModel = AwsIamSettings

    def _collect_export(self, config: ConnectorConfig) -> Collected:
        started_at = datetime.now(UTC)
        path = config.path()
        if not path.is_dir():
            payload = _export.read_payload(path.parent, path.name)
            parsed = _parse([payload], config)
            parameters: dict[str, Any] = {
                "path": payload.source,
                "users": parsed.users,
                "access_keys": len(parsed.records.credentials),
            }
            return _export.finish(
                config, self.type, self.version, started_at, [payload], parsed.records, parameters
            )
        directory = _export.require_directory(path)
        payloads = [_export.read_payload(directory, REPORT)]
        payloads += [
            _export.read_payload(directory, name)
            for name in LAYOUT[1:]
            if (directory / name).exists()
        ]
        parsed = _parse(payloads, config)
        parameters = {
            "path": str(directory),
            "files": [payload.name for payload in payloads],
            **_describe(parsed, payloads),
        }
        return _export.finish(
            config, self.type, self.version, started_at, payloads, parsed.records, parameters
        )

    def _collect_live(self, config: ConnectorConfig) -> Collected:
        region, endpoint_url = _live_settings(config)
        import boto3
        from botocore.exceptions import BotoCoreError

        started_at = datetime.now(UTC)
        try:
            session = boto3.session.Session(region_name=region)
            iam = session.client("iam", endpoint_url=endpoint_url)
            cloudtrail = session.client("cloudtrail", endpoint_url=endpoint_url)
        except BotoCoreError as exc:  # e.g. AWS_PROFILE names a profile that does not exist
            raise InputError(f"system {config.system_id}", _one_line(str(exc))) from None
        reader = _LiveReader(config.system_id, iam, cloudtrail, self._sleep)
        payloads, generated = reader.read()
        parsed = _parse(payloads, config)
        parameters: dict[str, Any] = {"region": region}
        if endpoint_url is not None:
            parameters["endpoint_url"] = endpoint_url
        parameters["credential_report_generated"] = generated
        parameters.update(_describe(parsed, payloads))
        parameters["pages"] = reader.pages
        return _export.finish(
            config, self.type, self.version, started_at, payloads, parsed.records, parameters
        )


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Records from a credential report alone, or from a snapshot in the live layout."""
    return _parse(payloads, config).records


def cloudtrail_summary(payload: RawPayload) -> dict[str, Any]:
    """The trails of ``cloudtrail.json`` and whether some multi-region trail is logging."""
    document = _export.load_json(payload)
    _expect_object(payload, document, "$")
    region = _export.required_string(payload, document, "$", "Region")
    described = document.get("DescribeTrails")
    _expect_object(payload, described, "$.DescribeTrails")
    trails = _expect_objects(payload, described.get("trailList"), "$.DescribeTrails.trailList")
    statuses = document.get("GetTrailStatus")
    _expect_object(payload, statuses, "$.GetTrailStatus")
    summary: list[dict[str, Any]] = []
    for index, trail in enumerate(trails):
        path = f"$.DescribeTrails.trailList[{index}]"
        arn = _export.required_string(payload, trail, path, "TrailARN")
        status = statuses.get(arn)
        logging: bool | None = None
        status_error: str | None = "no status"
        if status is not None:
            status_path = f"$.GetTrailStatus[{arn!r}]"
            _expect_object(payload, status, status_path)
            error = status.get("Error")
            if error is None:
                logging = _optional_bool(payload, status, status_path, "IsLogging")
                status_error = None
            else:
                _expect_object(payload, error, f"{status_path}.Error")
                status_error = f"{error.get('Code')}: {error.get('Message')}"
        summary.append(
            {
                "name": _export.required_string(payload, trail, path, "Name"),
                "arn": arn,
                "home_region": _export.optional_string(payload, trail, path, "HomeRegion"),
                "multi_region": _optional_bool(payload, trail, path, "IsMultiRegionTrail"),
                "organization": _optional_bool(payload, trail, path, "IsOrganizationTrail"),
                "log_file_validation": _optional_bool(
                    payload, trail, path, "LogFileValidationEnabled"
                ),
                "logging": logging,
                "status_error": status_error,
                "s3_bucket": _export.optional_string(payload, trail, path, "S3BucketName"),
            }
        )
    return {
        "region": region,
        "trails": summary,
        "multi_region_logging": _some_trail(summary, ("multi_region", "logging")).value,
        "multi_region_logging_validated": _some_trail(
            summary, ("multi_region", "logging", "log_file_validation")
        ).value,
    }


# --- live -----------------------------------------------------------------------------------


class _Gone(Exception):
    """A user or group was deleted between being listed and being read."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error = {"Code": code, "Message": message}


class _LiveReader:
    """The read-only calls of live mode, each turned into payloads or one-line errors."""

    def __init__(
        self,
        system_id: str,
        iam: IAMClient,
        cloudtrail: CloudTrailClient,
        sleep: Callable[[float], None],
    ) -> None:
        self._system_id = system_id
        self._iam = iam
        self._cloudtrail = cloudtrail
        self._sleep = sleep
        self.pages: dict[str, int] = {}
        """Pages read per operation, for the collection's parameters."""

    def read(self) -> tuple[list[RawPayload], str]:
        """Every payload of the layout, and when AWS generated the credential report."""
        iam = self._iam
        payloads: list[RawPayload] = []
        report, generated = self._credential_report()
        payloads.append(RawPayload(REPORT, self._source(iam, "GetCredentialReport"), report))

        users_pages = self._listing("ListUsers", lambda: iam.get_paginator("list_users").paginate())
        groups_pages = self._listing(
            "ListGroups", lambda: iam.get_paginator("list_groups").paginate()
        )
        users = [str(user["UserName"]) for page in users_pages for user in page.get("Users", [])]
        groups_for_user = self._per_name(
            "ListGroupsForUser",
            users,
            lambda name: iam.get_paginator("list_groups_for_user").paginate(UserName=name),
        )
        attached_user = self._per_name(
            "ListAttachedUserPolicies",
            users,
            lambda name: iam.get_paginator("list_attached_user_policies").paginate(UserName=name),
        )
        user_inline = self._per_name(
            "ListUserPolicies",
            users,
            lambda name: iam.get_paginator("list_user_policies").paginate(UserName=name),
        )
        groups = [str(group["GroupName"]) for page in groups_pages for group in page["Groups"]]
        for pages in groups_for_user.values():
            if isinstance(pages, list):
                groups += [str(group["GroupName"]) for page in pages for group in page["Groups"]]
        groups = list(dict.fromkeys(groups))
        attached_group = self._per_name(
            "ListAttachedGroupPolicies",
            groups,
            lambda name: iam.get_paginator("list_attached_group_policies").paginate(GroupName=name),
        )
        group_inline = self._per_name(
            "ListGroupPolicies",
            groups,
            lambda name: iam.get_paginator("list_group_policies").paginate(GroupName=name),
        )
        roles_pages = self._listing("ListRoles", lambda: iam.get_paginator("list_roles").paginate())
        for name, operation, document in (
            (USERS, "ListUsers", users_pages),
            (GROUPS, "ListGroups", groups_pages),
            (GROUPS_FOR_USER, "ListGroupsForUser", groups_for_user),
            (ATTACHED_USER_POLICIES, "ListAttachedUserPolicies", attached_user),
            (USER_POLICIES, "ListUserPolicies", user_inline),
            (ATTACHED_GROUP_POLICIES, "ListAttachedGroupPolicies", attached_group),
            (GROUP_POLICIES, "ListGroupPolicies", group_inline),
            (ROLES, "ListRoles", roles_pages),
        ):
            payloads.append(RawPayload(name, self._source(iam, operation), _json_bytes(document)))
        payloads.append(self._cloudtrail_payload())
        return payloads, generated

    def _credential_report(self) -> tuple[bytes, str]:
        iam = self._iam
        with self._call(iam, "GenerateCredentialReport"):
            for poll in range(REPORT_POLLS):
                if iam.generate_credential_report()["State"] == "COMPLETE":
                    break
                if poll + 1 < REPORT_POLLS:
                    self._sleep(REPORT_POLL_SECONDS)
            else:
                raise InputError(
                    self._source(iam, "GenerateCredentialReport"),
                    f"the credential report was not ready after {REPORT_POLLS} polls "
                    f"{REPORT_POLL_SECONDS:g} s apart; try again later",
                )
        with self._call(iam, "GetCredentialReport"):
            response = iam.get_credential_report()
        return response["Content"], _utc_text(response["GeneratedTime"])

    def _listing(
        self,
        operation: str,
        pages: Callable[[], Iterable[Mapping[str, Any]]],
        keep: frozenset[str] = frozenset(),
    ) -> list[dict[str, Any]]:
        with self._call(self._iam, operation, keep=keep):
            result = [_without_metadata(page) for page in pages()]
        self.pages[operation] = self.pages.get(operation, 0) + len(result)
        return result

    def _per_name(
        self,
        operation: str,
        names: Sequence[str],
        pages: Callable[[str], Iterable[Mapping[str, Any]]],
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name in names:
            try:
                result[name] = self._listing(
                    operation, functools.partial(pages, name), keep=_GONE_CODES
                )
            except _Gone as gone:
                result[name] = {"Error": gone.error}
        return result

    def _cloudtrail_payload(self) -> RawPayload:
        cloudtrail = self._cloudtrail
        with self._call(cloudtrail, "DescribeTrails"):
            described = _without_metadata(cloudtrail.describe_trails())
        statuses: dict[str, Any] = {}
        for trail in described.get("trailList", []):
            arn = trail.get("TrailARN")
            if not isinstance(arn, str):
                continue
            try:
                with self._call(cloudtrail, "GetTrailStatus", keep=None):
                    statuses[arn] = _without_metadata(cloudtrail.get_trail_status(Name=arn))
            except _Gone as gone:
                statuses[arn] = {"Error": gone.error}
        self.pages["DescribeTrails"] = 1
        self.pages["GetTrailStatus"] = len(statuses)
        document = {
            "Region": cloudtrail.meta.region_name,
            "DescribeTrails": described,
            "GetTrailStatus": statuses,
        }
        return RawPayload(
            CLOUDTRAIL,
            self._source(cloudtrail, "DescribeTrails+GetTrailStatus"),
            _json_bytes(document),
        )

    @staticmethod
    def _source(client: Any, operation: str) -> str:
        return f"{client.meta.endpoint_url}#{operation}"

    @contextmanager
    def _call(
        self, client: Any, operation: str, *, keep: frozenset[str] | None = frozenset()
    ) -> Iterator[None]:
        """Turn boto3's failures into one-line ``InputError`` naming endpoint and operation.

        An error whose code is in ``keep`` (any code when ``keep`` is None) is raised as
        ``_Gone`` instead, for the caller to keep in the payload.
        """
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        where = self._source(client, operation)
        try:
            yield
        except NoCredentialsError:
            raise InputError(f"system {self._system_id}", NO_CREDENTIALS) from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code") or "error")
            message = str(error.get("Message") or exc)
            code, message = _unwrap_xml_error(code, message)
            if keep is None or code in keep:
                raise _Gone(code, _one_line(message)) from None
            problem = f"{code}: {_one_line(message)}"
            if code in ACCESS_DENIED_CODES:
                problem += f"; {LEAST_PRIVILEGE_HINT}"
            raise InputError(where, problem) from None
        except BotoCoreError as exc:
            raise InputError(where, _one_line(str(exc))) from None


_GONE_CODES = frozenset({"NoSuchEntity"})
"""What a per-user or per-group call answers for a user or group deleted since it was listed."""


def _live_settings(config: ConnectorConfig) -> tuple[str, str | None]:
    where = f"system {config.system_id}"
    unknown = sorted(set(config.settings) - set(LIVE_SETTINGS))
    if unknown:
        listed = ", ".join(f"'{key}'" for key in unknown)
        hint = " ('path' is for export mode)" if "path" in unknown else ""
        raise InputError(
            where,
            f"connector 'aws_iam' in mode '{_export.LIVE_MODE}' does not take the setting"
            f"{'s' if len(unknown) > 1 else ''} {listed}{hint}; "
            f"its settings are: {', '.join(LIVE_SETTINGS)}",
        )
    if config.secrets:
        raise InputError(
            where,
            f"connector 'aws_iam' in mode '{_export.LIVE_MODE}' takes no secrets: "
            f"{CREDENTIAL_CHAIN}",
        )
    region = config.settings.get("region", DEFAULT_REGION)
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise InputError(
            where, f"connector setting 'region' must be an AWS region such as {DEFAULT_REGION}"
        )
    endpoint_url = config.settings.get("endpoint_url")
    if endpoint_url is not None and (
        not isinstance(endpoint_url, str) or not endpoint_url.startswith(("https://", "http://"))
    ):
        raise InputError(where, "connector setting 'endpoint_url' must be an http(s) URL")
    if endpoint_url is not None:
        config.url("endpoint_url", endpoint_url, sends_secret=False)  # signed, no secret sent
    return region, endpoint_url


def _without_metadata(response: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def _json_bytes(document: Any) -> bytes:
    text = json.dumps(document, indent=2, ensure_ascii=False, default=_json_default)
    return (text + "\n").encode("utf-8")


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return _utc_text(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def _utc_text(value: datetime) -> str:
    return (value.astimezone(UTC) if value.tzinfo else value).isoformat()


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines) or "no message"


def _unwrap_xml_error(code: str, message: str) -> tuple[str, str]:
    """An error body in XML where boto3 expected JSON: its own ``Code`` and ``Message``."""
    if not message.lstrip().startswith("<"):
        return code, message
    inner_code = re.search(r"<Code>([^<]*)</Code>", message)
    inner_message = re.search(r"<Message>([^<]*)</Message>", message)
    return (
        inner_code.group(1) if inner_code else code,
        inner_message.group(1) if inner_message else message,
    )


# --- parse ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parsed:
    records: Records
    users: int
    roles: int
    groups: int
    policies: int


def _describe(parsed: _Parsed, payloads: Sequence[RawPayload]) -> dict[str, Any]:
    described: dict[str, Any] = {
        "users": parsed.users,
        "access_keys": len(parsed.records.credentials),
        "groups": parsed.groups,
        "policies": parsed.policies,
        "roles": parsed.roles,
    }
    for payload in payloads:
        if payload.name == CLOUDTRAIL:
            described["cloudtrail"] = cloudtrail_summary(payload)
    return described


def _parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> _Parsed:
    if len(payloads) == 1 and payloads[0].name not in LAYOUT[1:]:
        # A credential report exported on its own, whatever its file name.
        accounts, credentials, warnings = _read_report(payloads[0], config)
        records = Records(
            accounts=tuple(accounts), credentials=tuple(credentials), warnings=tuple(warnings)
        )
        return _Parsed(records, users=len(accounts), roles=0, groups=0, policies=0)
    if not payloads:
        raise InputError(f"system {config.system_id}", "an aws_iam snapshot holds no file")
    index = _export.by_name(payloads)
    for payload in payloads:
        if payload.name not in LAYOUT:
            raise InputError(
                payload.source,
                f"not part of an aws_iam snapshot; expected files: {', '.join(LAYOUT)}",
            )
    report = _export.require_payload(index, REPORT)
    accounts, credentials, warnings = _read_report(report, config)
    if CLOUDTRAIL in index:
        cloudtrail_summary(index[CLOUDTRAIL])  # validated; it feeds parameters, not records
    present = [name for name in IAM_LISTINGS if name in index]
    if not present:
        records = Records(
            accounts=tuple(accounts), credentials=tuple(credentials), warnings=tuple(warnings)
        )
        return _Parsed(records, users=len(accounts), roles=0, groups=0, policies=0)
    missing = [name for name in IAM_LISTINGS if name not in index]
    if missing:
        raise InputError(
            index[present[0]].source,
            f"the IAM listings go together, but {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing",
        )
    return _IamSnapshot(index, config).records(accounts, credentials, warnings)


def _read_report(
    payload: RawPayload, config: ConnectorConfig
) -> tuple[list[Account], list[Credential], list[str]]:
    """Accounts and access keys from the credential report."""
    table = _export.read_csv(payload, REQUIRED_COLUMNS)
    columns = set(table.header)
    accounts: list[Account] = []
    credentials: list[Credential] = []
    warnings: list[str] = []
    first_line_of_user: dict[str, int] = {}
    for row in table.rows:
        cells = _Row(payload.source, row, columns)
        user = cells.text("user")
        if user is None:
            raise InputError(cells.where, "user: empty")
        if user in first_line_of_user:
            raise InputError(
                cells.where, f"user: duplicate '{user}' (first on line {first_line_of_user[user]})"
            )
        first_line_of_user[user] = row.line
        cells.timestamp("user_creation_time")  # validated; accounts carry no creation time

        password_enabled = cells.boolean("password_enabled")
        mfa = _export.tri(cells.boolean("mfa_active"))
        keys_active: list[bool | None] = []
        for n in (1, 2):
            active = cells.boolean(f"access_key_{n}_active")
            rotated = cells.timestamp(f"access_key_{n}_last_rotated")
            last_used = cells.timestamp(f"access_key_{n}_last_used_date")
            keys_active.append(active)
            if active is not True and rotated is None:
                continue
            if active is None:
                warnings.append(
                    f"{cells.where}: access_key_{n} of {user} was rotated but whether it is "
                    "active is not reported; recorded as inactive"
                )
            used_column = f"access_key_{n}_last_used_date"
            credentials.append(
                Credential(
                    system_id=config.system_id,
                    credential_id=f"{user}:access_key_{n}",
                    kind=ACCESS_KEY_KIND,
                    account_id=user,
                    active=active is True,
                    created=None,
                    last_rotated=rotated,
                    last_used=last_used,
                    last_used_source=f"aws:{used_column}" if used_column in columns else None,
                )
            )

        if user == ROOT_USER:
            kind = AccountKind.SYSTEM
        elif password_enabled is True:
            kind = AccountKind.HUMAN
        else:
            kind = AccountKind.UNKNOWN

        signals = [password_enabled, *keys_active]
        if any(signal is True for signal in signals):
            status = AccountStatus.ACTIVE
        elif all(signal is False for signal in signals):
            status = AccountStatus.INACTIVE
        else:
            status = AccountStatus.UNKNOWN

        accounts.append(
            Account(
                system_id=config.system_id,
                account_id=user,
                username=user,
                email=None,
                name=None,
                employee_id=None,
                kind=kind,
                status=status,
                mfa_registered=mfa,
                mfa_enforced=mfa,
                last_login=cells.timestamp("password_last_used"),
                last_login_source=(LAST_LOGIN_SOURCE if "password_last_used" in columns else None),
                privileged=Tri.YES if user == ROOT_USER else Tri.UNKNOWN,
                root=user == ROOT_USER,
            )
        )
    if ROOT_USER not in first_line_of_user:
        warnings.append(f"{payload.name}: no {ROOT_USER} row; the report may be incomplete")
    return accounts, credentials, warnings


@dataclass(frozen=True)
class _Policy:
    entitlement_id: str
    name: str
    privileged: Tri


@dataclass(frozen=True)
class _Role:
    name: str
    arn: str
    trusted: tuple[str, ...]
    """The AWS principals its trust policy allows, as written (ARNs, account ids or ``*``)."""


class _IamSnapshot:
    """The IAM listings of one snapshot, validated, and what they say about each user."""

    def __init__(self, index: Mapping[str, RawPayload], config: ConnectorConfig) -> None:
        self._config = config
        users_payload = index[USERS]
        self.users: list[tuple[str, str]] = []
        for path, user in _listed(users_payload, _pages_of(users_payload), "Users"):
            self.users.append(
                (
                    _export.required_string(users_payload, user, path, "UserName"),
                    _export.required_string(users_payload, user, path, "Arn"),
                )
            )
        user_names = [name for name, _ in self.users]
        groups_payload = index[GROUPS]
        groups = [
            _export.required_string(groups_payload, group, path, "GroupName")
            for path, group in _listed(groups_payload, _pages_of(groups_payload), "Groups")
        ]
        self.groups_of = _per_name(
            index[GROUPS_FOR_USER], user_names, "Groups", _named("GroupName")
        )
        for names in self.groups_of.values():
            groups += names or []
        self.groups = list(dict.fromkeys(groups))
        self.user_managed = _per_name(
            index[ATTACHED_USER_POLICIES], user_names, "AttachedPolicies", _managed
        )
        self.user_inline = _per_name(index[USER_POLICIES], user_names, "PolicyNames", _inline)
        self.group_managed = _per_name(
            index[ATTACHED_GROUP_POLICIES], self.groups, "AttachedPolicies", _managed
        )
        self.group_inline = _per_name(index[GROUP_POLICIES], self.groups, "PolicyNames", _inline)
        roles_payload = index[ROLES]
        self.roles = [
            _role(roles_payload, path, role)
            for path, role in _listed(roles_payload, _pages_of(roles_payload), "Roles")
        ]

    def records(
        self, accounts: list[Account], credentials: list[Credential], warnings: list[str]
    ) -> _Parsed:
        system_id = self._config.system_id
        entitlements: dict[str, Entitlement] = {}
        grants: list[Grant] = []

        def add(entitlement_id: str, name: str, kind: str, privileged: Tri) -> None:
            if entitlement_id not in entitlements:
                entitlements[entitlement_id] = Entitlement(
                    system_id, entitlement_id, name, kind, privileged
                )

        group_privilege: dict[str, Tri] = {}
        group_policies: dict[str, list[_Policy]] = {}
        for group in self.groups:
            managed = self.group_managed[group]
            inline = self.group_inline[group]
            policies = [
                *(managed or []),
                *(
                    _Policy(f"inline:group/{group}/{name}", name, Tri.UNKNOWN)
                    for name in inline or []
                ),
            ]
            group_policies[group] = policies
            if managed is None or inline is None:
                warnings.append(
                    f"group '{group}' was deleted while being read; its policies are unknown"
                )
                privilege = _any_privileged([p.privileged for p in policies], Tri.UNKNOWN)
            else:
                privilege = _any_privileged([p.privileged for p in policies], Tri.NO)
            group_privilege[group] = privilege
            add(f"group:{group}", group, "group", privilege)
            for policy in policies:
                add(policy.entitlement_id, policy.name, "policy", policy.privileged)

        trusted = {principal for role in self.roles for principal in role.trusted}
        privilege_of: dict[str, Tri] = {}
        for user, arn in self.users:
            groups = self.groups_of[user]
            managed = self.user_managed[user]
            inline = self.user_inline[user]
            direct = [
                *(managed or []),
                *(
                    _Policy(f"inline:user/{user}/{name}", name, Tri.UNKNOWN)
                    for name in inline or []
                ),
            ]
            for policy in direct:
                add(policy.entitlement_id, policy.name, "policy", policy.privileged)
                grants.append(Grant(system_id, user, policy.entitlement_id))
            for group in groups or []:
                group_id = f"group:{group}"
                grants.append(Grant(system_id, user, group_id))
                grants += [
                    Grant(system_id, user, policy.entitlement_id, via=group_id)
                    for policy in group_policies[group]
                ]
            held = [policy.privileged for policy in direct]
            held += [group_privilege[group] for group in groups or []]
            incomplete = groups is None or managed is None or inline is None
            if incomplete:
                warnings.append(
                    f"user '{user}' was deleted while being read; its groups and policies "
                    "are unknown"
                )
            privilege_of[user] = _any_privileged(
                held, Tri.UNKNOWN if incomplete or arn in trusted else Tri.NO
            )

        listed = {user for user, _ in self.users}
        reported = {account.account_id for account in accounts}
        users = [
            replace(account, privileged=privilege_of[account.account_id])
            if account.account_id in privilege_of
            else account
            for account in accounts
        ]
        for account in accounts:
            if account.account_id != ROOT_USER and account.account_id not in listed:
                warnings.append(
                    f"{REPORT}: user '{account.account_id}' is not listed by ListUsers; it may "
                    "have been deleted since the report was generated"
                )
        for user, _ in self.users:
            if user not in reported:
                warnings.append(
                    f"{REPORT}: user '{user}' is not in the credential report (AWS reuses a "
                    "report for four hours); its password, MFA and keys are unknown"
                )
                users.append(
                    Account(
                        system_id=system_id,
                        account_id=user,
                        username=user,
                        email=None,
                        name=None,
                        employee_id=None,
                        kind=AccountKind.UNKNOWN,
                        status=AccountStatus.UNKNOWN,
                        mfa_registered=Tri.UNKNOWN,
                        mfa_enforced=Tri.UNKNOWN,
                        last_login=None,
                        last_login_source=None,
                        privileged=privilege_of[user],
                    )
                )
        user_ids = {account.account_id for account in users}
        roles: list[Account] = []
        for role in self.roles:
            if role.name in user_ids:
                warnings.append(
                    f"{ROLES}: role '{role.name}' has the name of a user; both are accounts "
                    f"'{role.name}'"
                )
            roles.append(
                Account(
                    system_id=system_id,
                    account_id=role.name,
                    username=role.name,
                    email=None,
                    name=None,
                    employee_id=None,
                    kind=AccountKind.SYSTEM if _aws_managed(role.arn) else AccountKind.SERVICE,
                    status=AccountStatus.ACTIVE,
                    mfa_registered=Tri.UNKNOWN,
                    mfa_enforced=Tri.UNKNOWN,
                    last_login=None,
                    last_login_source=None,
                    privileged=Tri.UNKNOWN,
                )
            )
            warnings += _trust_warnings(role)
        records = Records(
            accounts=(*users, *roles),
            credentials=tuple(credentials),
            entitlements=tuple(entitlements.values()),
            grants=tuple(grants),
            warnings=tuple(warnings),
        )
        policy_count = sum(1 for e in entitlements.values() if e.kind == "policy")
        return _Parsed(
            records,
            users=len(users),
            roles=len(roles),
            groups=len(self.groups),
            policies=policy_count,
        )


AWS_MANAGED_ROLE_PATHS = (":role/aws-service-role/", ":role/aws-reserved/")
"""Roles AWS itself creates and manages: service-linked roles, and IAM Identity Center's
permission-set roles (whose users come from the identity provider). They are system accounts,
not service accounts someone here must own."""


def _aws_managed(arn: str) -> bool:
    return any(path in arn for path in AWS_MANAGED_ROLE_PATHS)


def _any_privileged(held: Sequence[Tri], otherwise: Tri) -> Tri:
    """YES if anything held is privileged; ``otherwise`` if nothing held can be; else unknown."""
    if Tri.YES in held:
        return Tri.YES
    if all(tri is Tri.NO for tri in held):
        return otherwise
    return Tri.UNKNOWN


def _trust_warnings(role: _Role) -> list[str]:
    own = _ACCOUNT_OF_ARN.match(role.arn)
    own_account = own.group("account") if own else None
    foreign: list[str] = []
    for principal in role.trusted:
        if principal == "*":
            foreign.append("any AWS principal ('*')")
            continue
        match = _ACCOUNT_OF_ARN.match(principal)
        account = match.group("account") if match else principal
        if not _ACCOUNT_ID.fullmatch(account):
            foreign.append(f"principal '{principal}' of an account that cannot be told")
        elif account != own_account:
            foreign.append(f"AWS account {account} ('{principal}')")
    if not foreign:
        return []
    return [
        f"{ROLES}: role '{role.name}' trusts {', '.join(dict.fromkeys(foreign))}, outside its "
        f"own account {own_account or '(unknown)'}: third-party access"
    ]


def _role(payload: RawPayload, path: str, role: Mapping[str, Any]) -> _Role:
    name = _export.required_string(payload, role, path, "RoleName")
    arn = _export.required_string(payload, role, path, "Arn")
    document: Any = role.get("AssumeRolePolicyDocument")
    if isinstance(document, str):
        try:
            document = parse_json(unquote(document))
        except ParseProblem as exc:
            raise InputError(
                payload.source, f"{path}.AssumeRolePolicyDocument: not a JSON policy: {exc}"
            ) from None
    if document is None:
        return _Role(name, arn, ())
    where = f"{path}.AssumeRolePolicyDocument"
    _expect_object(payload, document, where)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    statements = _expect_objects(payload, statements, f"{where}.Statement")
    trusted: list[str] = []
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if principal == "*":
            trusted.append("*")
        elif isinstance(principal, dict):
            aws = principal.get("AWS", [])
            trusted += [aws] if isinstance(aws, str) else [str(value) for value in aws]
    return _Role(name, arn, tuple(dict.fromkeys(trusted)))


def _pages_of(payload: RawPayload) -> list[dict[str, Any]]:
    """A listing's pages: a JSON array of response objects."""
    document = _export.load_json(payload)
    return _expect_objects(payload, document, "$")


def _listed(
    payload: RawPayload, pages: Sequence[Mapping[str, Any]], key: str, where: str = "$"
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object of ``key`` in every page, with its path for error messages."""
    for number, page in enumerate(pages):
        path = f"{where}[{number}].{key}"
        for index, item in enumerate(_expect_objects(payload, page.get(key), path)):
            yield f"{path}[{index}]", item


def _named(key: str) -> Callable[[RawPayload, str, Any], str]:
    def read(payload: RawPayload, path: str, item: Any) -> str:
        _expect_object(payload, item, path)
        return _export.required_string(payload, item, path, key)

    return read


def _managed(payload: RawPayload, path: str, item: Any) -> _Policy:
    _expect_object(payload, item, path)
    arn = _export.required_string(payload, item, path, "PolicyArn")
    name = _export.optional_string(payload, item, path, "PolicyName") or arn.rsplit("/", 1)[-1]
    aws_managed = _AWS_MANAGED_POLICY.fullmatch(arn)
    privileged = (
        Tri.YES if aws_managed and aws_managed.group("name") in PRIVILEGED_POLICIES else Tri.UNKNOWN
    )
    return _Policy(arn, name, privileged)


def _inline(payload: RawPayload, path: str, item: Any) -> str:
    if not isinstance(item, str) or not item.strip():
        raise InputError(payload.source, f"{path}: expected a policy name")
    return item


def _per_name(
    payload: RawPayload,
    names: Sequence[str],
    key: str,
    read: Callable[[RawPayload, str, Any], _T],
) -> dict[str, list[_T] | None]:
    """Per user or group, the items of its listing; ``None`` when it vanished while being read."""
    document = _export.load_json(payload)
    _expect_object(payload, document, "$")
    result: dict[str, list[_T] | None] = {}
    for name in names:
        path = f"$[{name!r}]"
        if name not in document:
            raise InputError(payload.source, f"{path}: missing")
        entry = document[name]
        if isinstance(entry, dict) and "Error" in entry:
            result[name] = None
            continue
        pages = _expect_objects(payload, entry, path)
        items: list[_T] = []
        for number, page in enumerate(pages):
            page_path = f"{path}[{number}].{key}"
            values = page.get(key)
            if not isinstance(values, list):
                raise InputError(
                    payload.source,
                    f"{page_path}: expected an array, got {_export.json_kind(values)}",
                )
            items += [read(payload, f"{page_path}[{i}]", value) for i, value in enumerate(values)]
        result[name] = items
    for name in document:
        if name not in result:
            raise InputError(payload.source, f"$[{name!r}]: not a listed user or group")
    return result


def _expect_object(payload: RawPayload, value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise InputError(
            payload.source, f"{path}: expected an object, got {_export.json_kind(value)}"
        )


def _expect_objects(payload: RawPayload, value: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InputError(
            payload.source, f"{path}: expected an array, got {_export.json_kind(value)}"
        )
    for index, item in enumerate(value):
        _expect_object(payload, item, f"{path}[{index}]")
    return cast(list[dict[str, Any]], value)


def _optional_bool(
    payload: RawPayload, item: Mapping[str, Any], path: str, key: str
) -> bool | None:
    value = item.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise InputError(
        payload.source, f"{path}.{key}: expected true or false, got {_export.json_kind(value)}"
    )


def _some_trail(trails: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> Tri:
    """YES when some trail has every key true; NO when every trail has one false; else unknown."""
    if any(all(trail[key] is True for key in keys) for trail in trails):
        return Tri.YES
    if all(any(trail[key] is False for key in keys) for trail in trails):
        return Tri.NO
    return Tri.UNKNOWN


class _Row:
    """Typed access to one report row; a column absent from the report reads as no value."""

    def __init__(self, file: str, row: _export.CsvRow, columns: set[str]) -> None:
        self.where = f"{file}:{row.line}"
        self._values = row.values
        self._columns = columns

    def text(self, column: str) -> str | None:
        if column not in self._columns:
            return None
        value = self._values[column].strip()
        if not value or value in NO_VALUE:
            return None
        return value

    def boolean(self, column: str) -> bool | None:
        value = self.text(column)
        if value is None:
            return None
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise InputError(self.where, f"{column}: expected true or false, got {value!r}")

    def timestamp(self, column: str) -> datetime | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            return _export.parse_timestamp(value)
        except ValueError as exc:
            raise InputError(self.where, f"{column}: {exc}") from None
