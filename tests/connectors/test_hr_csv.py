from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from tests.connectors.conftest import local_where

from assay.connectors import hr_csv
from assay.connectors.base import ConnectorConfig, RawPayload
from assay.connectors.hr_csv import HrCsvConnector
from assay.errors import InputError
from assay.inventory.records import EmploymentStatus, EmploymentType, Person

MakeConfig = Callable[..., ConnectorConfig]

# Columns deliberately out of the documented order, with an extra column the connector ignores.
HEADER = (
    "name,employee_id,email,status,employment_type,start_date,end_date,"
    "manager_email,department,title,cost_centre"
)
ROSTER = (
    "\ufeff" + HEADER + "\n"
    "Ada Lovelace,E001, Ada@Example.COM ,active,employee,2020-01-06,,,Engineering,CTO,CC1\n"
    "\n"
    '"Hopper, Grace",E002,grace@example.com,terminated,Contractor,2021-03-01,2024-02-29,'
    "ada@example.com,Engineering,Engineer,CC2\n"
    'Alan Turing,E003,alan@example.com,leave,employee,2022-07-15,,ADA@example.com,Research,"Chief\n'
    'Scientist",CC3\n'
)


def write(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def rows(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


GOOD = "Ada,E001,ada@example.com,active,employee,2020-01-06,,,Eng,CTO,CC1"


def error_for(tmp_path: Path, make_config: MakeConfig, text: str) -> InputError:
    write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        HrCsvConnector().collect(make_config(path="roster.csv"))
    return caught.value


def test_collect_parses_every_field_by_name(tmp_path: Path, make_config: MakeConfig) -> None:
    write(tmp_path, ROSTER)
    collected = HrCsvConnector().collect(make_config(path="roster.csv"))

    assert collected.records.people == (
        Person(
            employee_id="E001",
            email="ada@example.com",
            name="Ada Lovelace",
            manager_email=None,
            department="Engineering",
            title="CTO",
            employment_type=EmploymentType.EMPLOYEE,
            status=EmploymentStatus.ACTIVE,
            start_date=date(2020, 1, 6),
            end_date=None,
        ),
        Person(
            employee_id="E002",
            email="grace@example.com",
            name="Hopper, Grace",
            manager_email="ada@example.com",
            department="Engineering",
            title="Engineer",
            employment_type=EmploymentType.CONTRACTOR,
            status=EmploymentStatus.TERMINATED,
            start_date=date(2021, 3, 1),
            end_date=date(2024, 2, 29),
        ),
        Person(
            employee_id="E003",
            email="alan@example.com",
            name="Alan Turing",
            manager_email="ada@example.com",
            department="Research",
            title="Chief\nScientist",
            employment_type=EmploymentType.EMPLOYEE,
            status=EmploymentStatus.LEAVE,
            start_date=date(2022, 7, 15),
            end_date=None,
        ),
    )
    assert collected.records.warnings == ()


def test_collect_keeps_the_raw_bytes_and_reparses_them(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    path = write(tmp_path, ROSTER)
    config = make_config(path="roster.csv", system_id="hr")
    collected = HrCsvConnector().collect(config)

    assert collected.system_id == "hr"
    assert collected.connector == "hr_csv"
    assert collected.mode == "export"
    assert collected.started_at.tzinfo is not None
    assert collected.started_at <= collected.finished_at
    assert collected.payloads == (
        RawPayload(name="roster.csv", source=str(path.absolute()), data=path.read_bytes()),
    )
    assert hr_csv.parse(collected.payloads, config) == collected.records
    assert collected.parameters["rows"] == 3


def test_parse_reads_only_the_payload_bytes(make_config: MakeConfig) -> None:
    payload = RawPayload(name="roster.csv", source="/gone/roster.csv", data=rows(GOOD).encode())
    records = hr_csv.parse([payload], make_config(path="/gone/roster.csv"))
    assert [p.employee_id for p in records.people] == ["E001"]


def test_unknown_manager_and_self_management_are_warnings(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    write(
        tmp_path,
        rows(
            "Ada,E001,ada@example.com,active,employee,2020-01-06,,nobody@example.com,Eng,CTO,",
            "Bob,E002,bob@example.com,active,employee,2020-01-06,,bob@example.com,Eng,Dev,",
        ),
    )
    records = HrCsvConnector().collect(make_config(path="roster.csv")).records
    assert len(records.people) == 2
    assert records.warnings == (
        "roster.csv:2: manager_email 'nobody@example.com' of E001 is not in the roster",
        "roster.csv:3: E002 is recorded as their own manager",
    )


def test_other_modes_are_refused(tmp_path: Path, make_config: MakeConfig) -> None:
    write(tmp_path, ROSTER)
    with pytest.raises(InputError, match="does not support mode 'api'"):
        HrCsvConnector().collect(make_config(mode="api", path="roster.csv"))


def test_missing_file_is_named(tmp_path: Path, make_config: MakeConfig) -> None:
    with pytest.raises(InputError) as caught:
        HrCsvConnector().collect(make_config(path="absent.csv"))
    assert caught.value.where == str(tmp_path / "absent.csv")
    assert caught.value.problem == "file not found"


def test_missing_path_setting(make_config: MakeConfig) -> None:
    with pytest.raises(InputError, match="'path' is required"):
        HrCsvConnector().collect(make_config())


def test_missing_columns_are_named_at_line_1(tmp_path: Path, make_config: MakeConfig) -> None:
    header = HEADER.replace("department,title,", "")
    error = error_for(tmp_path, make_config, header + "\n")
    assert local_where(error.where) == "roster.csv:1"
    assert error.problem == "missing required columns: department, title"


def test_empty_file(tmp_path: Path, make_config: MakeConfig) -> None:
    error = error_for(tmp_path, make_config, "")
    assert local_where(error.where) == "roster.csv:1"


def test_header_only_yields_no_people(tmp_path: Path, make_config: MakeConfig) -> None:
    write(tmp_path, HEADER + "\n")
    assert HrCsvConnector().collect(make_config(path="roster.csv")).records.people == ()


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("Bob,E002,bob@example.com,active,employee,2020/01/06,,,Eng,Dev,", "start_date"),
        ("Bob,E002,bob@example.com,active,employee,2023-02-30,,,Eng,Dev,", "start_date"),
        ("Bob,E002,bob@example.com,active,employee,,,,Eng,Dev,", "start_date"),
        (
            "Bob,E002,bob@example.com,terminated,employee,2020-01-06,31.12.2023,,Eng,Dev,",
            "end_date",
        ),
        ("Bob,E002,bob@example.com,terminated,employee,2020-01-06,,,Eng,Dev,", "end_date"),
        ("Bob,E002,bob@example.com,active,employee,2020-01-06,2019-12-31,,Eng,Dev,", "end_date"),
        ("Bob,E002,bob@example.com,active,intern,2020-01-06,,,Eng,Dev,", "employment_type"),
        ("Bob,E002,bob@example.com,retired,employee,2020-01-06,,,Eng,Dev,", "status"),
        ("Bob,E002,bob-at-example.com,active,employee,2020-01-06,,,Eng,Dev,", "email"),
        ("Bob,E002,bob@example.com,active,employee,2020-01-06,,boss,Eng,Dev,", "manager_email"),
        ("Bob,,bob@example.com,active,employee,2020-01-06,,,Eng,Dev,", "employee_id"),
        (",E002,bob@example.com,active,employee,2020-01-06,,,Eng,Dev,", "name"),
    ],
)
def test_bad_values_name_line_and_column(
    tmp_path: Path, make_config: MakeConfig, line: str, column: str
) -> None:
    error = error_for(tmp_path, make_config, rows(GOOD, line))
    assert local_where(error.where) == "roster.csv:3"
    assert error.problem.startswith(f"{column}: ")


def test_bad_enum_lists_the_allowed_values(tmp_path: Path, make_config: MakeConfig) -> None:
    line = "Bob,E002,bob@example.com,retired,employee,2020-01-06,,,Eng,Dev,"
    error = error_for(tmp_path, make_config, rows(line))
    assert error.problem == "status: expected one of active|terminated|leave, got 'retired'"


def test_duplicate_employee_id_names_both_lines(tmp_path: Path, make_config: MakeConfig) -> None:
    error = error_for(
        tmp_path,
        make_config,
        rows(GOOD, "", "Bob,E001,bob@example.com,active,employee,2020-01-06,,,Eng,Dev,"),
    )
    assert local_where(error.where) == "roster.csv:4"
    assert error.problem == "employee_id: duplicate 'E001' (first on line 2)"


def test_duplicate_email_ignores_case(tmp_path: Path, make_config: MakeConfig) -> None:
    error = error_for(
        tmp_path,
        make_config,
        rows(GOOD, "Bob,E002,ADA@example.com,active,employee,2020-01-06,,,Eng,Dev,"),
    )
    assert local_where(error.where) == "roster.csv:3"
    assert error.problem == "email: duplicate 'ada@example.com' (first on line 2)"


def test_line_numbers_are_physical_after_multiline_fields(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    error = error_for(
        tmp_path,
        make_config,
        rows(
            'Ada,E001,ada@example.com,active,employee,2020-01-06,,,Eng,"Chief\nTechnology\nOfficer",',
            "Bob,E002,bob@example.com,active,employee,2020-13-01,,,Eng,Dev,",
        ),
    )
    assert local_where(error.where) == "roster.csv:5"


def test_an_error_in_a_multiline_row_names_its_first_line(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    error = error_for(
        tmp_path,
        make_config,
        rows(GOOD, 'Bob,E002,bob@example.com,active,employee,2020-01-06,soon,,Eng,"Dev\nOps",'),
    )
    assert (local_where(error.where), error.problem.split(":")[0]) == ("roster.csv:3", "end_date")


def test_row_with_wrong_field_count(tmp_path: Path, make_config: MakeConfig) -> None:
    error = error_for(tmp_path, make_config, rows(GOOD, "Bob,E002,bob@example.com"))
    assert local_where(error.where) == "roster.csv:3"
    assert "3 fields" in error.problem


def test_not_utf8(tmp_path: Path, make_config: MakeConfig) -> None:
    (tmp_path / "roster.csv").write_bytes(HEADER.encode() + b"\nJos\xe9,E1\n")
    with pytest.raises(InputError, match="UTF-8"):
        HrCsvConnector().collect(make_config(path="roster.csv"))
