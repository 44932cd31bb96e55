"""AWS IAM users and access keys, from the IAM credential report.

Settings: ``path`` — the credential report CSV, i.e. the base64-decoded ``Content`` of
``GetCredentialReport``. Columns are found by name. Older reports have fewer columns, so only
``user, arn, user_creation_time, password_enabled, mfa_active`` are required; whatever a missing
column would have said is unknown. The values ``N/A``, ``not_supported`` and ``no_information``
mean "no value" and become ``None`` / unknown.

One account per row. ``<root_account>`` is the account's root user: a system account, and
privileged by nature. Other users are human when they have a console password; users with only
access keys may be people or services, so their kind is unknown until the programme file says.

MFA: ``mfa_active`` says whether an MFA device is assigned to the user. IAM asks for that
device's code at every console sign-in of a user who has one, so for the console an assigned
device is also an enforced one, and ``mfa_enforced`` takes the same value as ``mfa_registered``.
(Access-key calls are not challenged; requiring MFA for them takes IAM policy conditions this
report does not show.)

``last_login`` is ``password_last_used``; each access key's ``last_used`` is its
``access_key_{n}_last_used_date``. The ``*_source`` fields name the column read, and are
``None`` when the report has no such column.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from assay.connectors import _export
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.errors import InputError
from assay.inventory.records import Account, AccountKind, AccountStatus, Credential, Records, Tri

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


class AwsIamConnector:
    """Reads an IAM credential report CSV named by the ``path`` setting."""

    type: str = "aws_iam"
    version: str = "1"

    def collect(self, config: ConnectorConfig) -> Collected:
        return _export.collect_single_file(
            config,
            self.type,
            self.version,
            parse,
            lambda records: {
                "users": len(records.accounts),
                "access_keys": len(records.credentials),
            },
        )


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Accounts and access keys from the credential report (the snapshot's only payload)."""
    if len(payloads) != 1:
        raise InputError(
            f"system {config.system_id}",
            f"an aws_iam snapshot holds exactly one file, got {len(payloads)}",
        )
    payload = payloads[0]
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
        mfa = _tri(cells.boolean("mfa_active"))
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
            )
        )
    if ROOT_USER not in first_line_of_user:
        warnings.append(f"{payload.name}: no {ROOT_USER} row; the report may be incomplete")
    return Records(
        accounts=tuple(accounts), credentials=tuple(credentials), warnings=tuple(warnings)
    )


def _tri(value: bool | None) -> Tri:
    if value is None:
        return Tri.UNKNOWN
    return Tri.YES if value else Tri.NO


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
