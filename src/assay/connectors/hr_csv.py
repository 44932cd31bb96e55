"""The HR roster, exported from the HR system as a CSV file.

Settings: ``path`` — the CSV file. Columns are found by name (order does not matter, extra
columns are ignored): ``employee_id, email, name, manager_email, department, title,
employment_type, status, start_date, end_date``.

``employment_type`` is ``employee`` or ``contractor``; ``status`` is ``active``, ``terminated``
or ``leave``; dates are ``YYYY-MM-DD``. ``end_date`` may be empty except for terminated people.
E-mail addresses are stored lower-case. Any value outside these rules stops collection with the
line and column at fault: a roster is the population every access check leans on, so it is
never guessed at.

Live mode (``mode: live``): the HR system serves the same CSV as a report at the setting
``url`` (a Workday RaaS report with ``format=csv``, a BambooHR or HiBob custom report, say),
read with a report-only integration user: secret ``token`` (sent as a bearer token) or
``username`` and ``password`` (HTTP basic). The response is kept byte for byte as
``roster.csv``, its source the URL, and read exactly like an exported file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from pydantic import StrictStr

from assay.connectors import _export
from assay.connectors.base import (
    Collected,
    ConnectorConfig,
    RawPayload,
    Settings,
    SettingsModel,
    Url,
)
from assay.errors import InputError
from assay.inventory.records import EmploymentStatus, EmploymentType, Person, Records

COLUMNS: tuple[str, ...] = (
    "employee_id",
    "email",
    "name",
    "manager_email",
    "department",
    "title",
    "employment_type",
    "status",
    "start_date",
    "end_date",
)

_E = TypeVar("_E", EmploymentType, EmploymentStatus)


class HrCsvSettings(Settings):
    """The roster file (export mode), or the URL of the report that serves it (live mode)."""

    SECRETS = ("token", "username", "password")

    path: StrictStr | None = None
    url: Url | None = None


class HrCsvConnector:
    """Reads the HR roster CSV named by the ``path`` setting."""

    type: str = "hr_csv"
    version: str = "1"
    settings: SettingsModel = HrCsvSettings

    def collect(self, config: ConnectorConfig) -> Collected:
        return _export.collect_single_file(
            config,
            self.type,
            self.version,
            parse,
            lambda records: {"rows": len(records.people)},
            "roster.csv",
        )


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """People from the roster payload (the only payload of an ``hr_csv`` snapshot)."""
    return parse_roster(payloads, config, HrCsvConnector.type, _csv_rows)


@dataclass(frozen=True)
class RosterRow:
    """One roster row as text, whatever file format it came from.

    ``at`` places each column's value within the file (``3`` for a CSV line, ``Staff!H3`` for a
    cell) and ``label`` is how a later duplicate points back at the row (``line 3``), so every
    format applies these same rules yet reports in its own coordinates.
    """

    values: Mapping[str, str]
    at: Mapping[str, str]
    label: str


def parse_roster(
    payloads: Sequence[RawPayload],
    config: ConnectorConfig,
    connector_type: str,
    read_rows: Callable[[RawPayload], Sequence[RosterRow]],
) -> Records:
    """People from a one-file roster snapshot whose rows ``read_rows`` extracts."""
    if len(payloads) != 1:
        raise InputError(
            f"system {config.system_id}",
            f"an {connector_type} snapshot holds exactly one file, got {len(payloads)}",
        )
    payload = payloads[0]
    people: list[tuple[Person, RosterRow]] = []
    first_row_of_id: dict[str, RosterRow] = {}
    first_row_of_email: dict[str, RosterRow] = {}
    for row in read_rows(payload):
        person = _person(payload.source, row)
        if person.employee_id in first_row_of_id:
            raise InputError(
                f"{payload.source}:{row.at['employee_id']}",
                f"employee_id: duplicate '{person.employee_id}' "
                f"(first on {first_row_of_id[person.employee_id].label})",
            )
        if person.email in first_row_of_email:
            raise InputError(
                f"{payload.source}:{row.at['email']}",
                f"email: duplicate '{person.email}' "
                f"(first on {first_row_of_email[person.email].label})",
            )
        first_row_of_id[person.employee_id] = row
        first_row_of_email[person.email] = row
        people.append((person, row))

    warnings: list[str] = []
    for person, row in people:
        if person.manager_email is None:
            continue
        where = f"{payload.name}:{row.at['manager_email']}"
        if person.manager_email == person.email:
            warnings.append(f"{where}: {person.employee_id} is recorded as their own manager")
        elif person.manager_email not in first_row_of_email:
            warnings.append(
                f"{where}: manager_email '{person.manager_email}' of {person.employee_id} "
                "is not in the roster"
            )
    return Records(people=tuple(person for person, _ in people), warnings=tuple(warnings))


def _csv_rows(payload: RawPayload) -> list[RosterRow]:
    return [
        RosterRow(
            values=row.values, at=dict.fromkeys(COLUMNS, str(row.line)), label=f"line {row.line}"
        )
        for row in _export.read_csv(payload, COLUMNS).rows
    ]


def _person(file: str, row: RosterRow) -> Person:
    values = {key: value.strip() for key, value in row.values.items()}

    def where(column: str) -> str:
        return f"{file}:{row.at[column]}"

    def required(column: str) -> str:
        value = values[column]
        if not value:
            raise InputError(where(column), f"{column}: empty")
        return value

    def email(column: str, value: str) -> str:
        address = value.lower()
        local, at, domain = address.partition("@")
        if not at or not local or not domain or any(ch.isspace() for ch in address):
            raise InputError(where(column), f"{column}: not an e-mail address: {value!r}")
        return address

    def day(column: str, value: str) -> date:
        try:
            return _export.parse_date(value)
        except ValueError as exc:
            raise InputError(where(column), f"{column}: {exc}") from None

    employee_id = required("employee_id")
    address = email("email", required("email"))
    name = required("name")
    manager = values["manager_email"]
    manager_email = email("manager_email", manager) if manager else None
    employment_type = _enum(
        where("employment_type"), "employment_type", values["employment_type"], EmploymentType
    )
    status = _enum(where("status"), "status", values["status"], EmploymentStatus)
    start_date = day("start_date", required("start_date"))
    end_date = day("end_date", values["end_date"]) if values["end_date"] else None
    if status is EmploymentStatus.TERMINATED and end_date is None:
        raise InputError(where("end_date"), "end_date: required when status is 'terminated'")
    if end_date is not None and end_date < start_date:
        raise InputError(
            where("end_date"),
            f"end_date: {end_date.isoformat()} is before start_date {start_date.isoformat()}",
        )
    return Person(
        employee_id=employee_id,
        email=address,
        name=name,
        manager_email=manager_email,
        department=values["department"],
        title=values["title"],
        employment_type=employment_type,
        status=status,
        start_date=start_date,
        end_date=end_date,
    )


def _enum(where: str, column: str, value: str, enum: type[_E]) -> _E:
    try:
        return enum(value.lower())
    except ValueError:
        allowed = "|".join(member.value for member in enum)
        raise InputError(where, f"{column}: expected one of {allowed}, got {value!r}") from None
