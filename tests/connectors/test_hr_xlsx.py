from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from tests.connectors.conftest import local_where

from assay.connectors import hr_xlsx
from assay.connectors.base import ConnectorConfig, RawPayload
from assay.connectors.hr_csv import HrCsvConnector
from assay.connectors.hr_xlsx import HrXlsxConnector
from assay.errors import InputError
from assay.inventory.records import EmploymentStatus, EmploymentType

MakeConfig = Callable[..., ConnectorConfig]
Row = Sequence[object]

# Out of the documented order, with an extra column; the cell references below follow it:
# A name, B employee_id, C email, D status, E employment_type, F start_date, G end_date,
# H manager_email, I department, J title, K cost_centre.
HEADER = (
    "name",
    "employee_id",
    "email",
    "status",
    "employment_type",
    "start_date",
    "end_date",
    "manager_email",
    "department",
    "title",
    "cost_centre",
)
GOOD: Row = ("Ada", "E001", "ada@example.com", "active", "employee", date(2020, 1, 6))
BOB: Row = ("Bob", "E002", "bob@example.com", "active", "employee", "2020-01-06", None, None)


def write_book(
    tmp_path: Path,
    sheets: dict[str, Sequence[Row]],
    *,
    iso_dates: bool = False,
    name: str = "roster.xlsx",
) -> Path:
    """A workbook with one worksheet per entry, in order, each holding the given rows."""
    workbook = Workbook(iso_dates=iso_dates)
    workbook.remove(workbook["Sheet"])
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    path = tmp_path / name
    workbook.save(path)
    return path


def rewrite(path: Path, member: str, old: str, new: str) -> None:
    """Edit one XML part of a saved workbook, for what openpyxl cannot write itself."""
    with zipfile.ZipFile(path) as archive:
        parts = {item: archive.read(item) for item in archive.namelist()}
    text = parts[member].decode()
    assert old in text
    parts[member] = text.replace(old, new).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for item, data in parts.items():
            archive.writestr(item, data)


def staff(tmp_path: Path, *rows: Row) -> Path:
    return write_book(tmp_path, {"Staff": [HEADER, *rows]})


def error_for(
    tmp_path: Path, make_config: MakeConfig, *rows: Row, **settings: object
) -> InputError:
    staff(tmp_path, *rows)
    with pytest.raises(InputError) as caught:
        HrXlsxConnector().collect(make_config(path="roster.xlsx", **settings))
    return caught.value


def bob(**changes: object) -> Row:
    """Bob's row with some cells changed, by column name."""
    row = list(BOB) + [None] * (len(HEADER) - len(BOB))
    for column, value in changes.items():
        row[HEADER.index(column)] = value
    return row


@pytest.mark.parametrize("iso_dates", [False, True], ids=["serial-dates", "iso-dates"])
def test_people_equal_those_of_the_same_roster_as_csv(
    tmp_path: Path, make_config: MakeConfig, iso_dates: bool
) -> None:
    # A blank first row, headers in any case with spaces, an extra column, a blank row between
    # people, real date and datetime cells next to text dates, and numeric employee ids.
    write_book(
        tmp_path,
        {
            "Staff": [
                (),
                (" Name ", "EMPLOYEE_ID", "Email", "status", "Employment_Type", "start_date",
                 "END_DATE", "manager_email", "department", "title", "Cost Centre"),
                ("Ada Lovelace", 1001, " Ada@Example.COM ", "active", "employee",
                 date(2020, 1, 6), None, None, "Engineering", "CTO", "CC1"),
                (),
                ("Hopper, Grace", "E002", "grace@example.com", "terminated", "Contractor",
                 "2021-03-01", datetime(2024, 2, 29), "ada@example.com", "Engineering",
                 "Engineer", 7),
                ("Alan Turing", 1003, "alan@example.com", "leave", "employee",
                 datetime(2022, 7, 15), "", "ADA@example.com", "Research", "Chief\nScientist"),
            ]
        },
        iso_dates=iso_dates,
    )  # fmt: skip
    with (tmp_path / "roster.csv").open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(
            [
                HEADER,
                ("Ada Lovelace", "1001", "ada@example.com", "active", "employee", "2020-01-06",
                 "", "", "Engineering", "CTO", "CC1"),
                ("Hopper, Grace", "E002", "grace@example.com", "terminated", "contractor",
                 "2021-03-01", "2024-02-29", "ada@example.com", "Engineering", "Engineer", "7"),
                ("Alan Turing", "1003", "alan@example.com", "leave", "employee", "2022-07-15",
                 "", "ada@example.com", "Research", "Chief\nScientist", ""),
            ]
        )  # fmt: skip

    from_xlsx = HrXlsxConnector().collect(make_config(path="roster.xlsx")).records
    from_csv = HrCsvConnector().collect(make_config(path="roster.csv")).records

    assert from_xlsx.people == from_csv.people
    assert [person.employee_id for person in from_xlsx.people] == ["1001", "E002", "1003"]
    ada, grace, alan = from_xlsx.people
    assert (ada.email, ada.start_date, ada.end_date) == ("ada@example.com", date(2020, 1, 6), None)
    assert (grace.employment_type, grace.status) == (
        EmploymentType.CONTRACTOR,
        EmploymentStatus.TERMINATED,
    )
    assert (grace.end_date, alan.start_date) == (date(2024, 2, 29), date(2022, 7, 15))
    assert alan.title == "Chief\nScientist"
    assert from_xlsx.warnings == from_csv.warnings == ()


def test_collect_keeps_the_raw_bytes_and_reparses_them(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    path = staff(tmp_path, GOOD, BOB)
    config = make_config(path="roster.xlsx", system_id="hr")
    collected = HrXlsxConnector().collect(config)

    assert (collected.system_id, collected.connector, collected.mode) == ("hr", "hr_xlsx", "export")
    assert collected.payloads == (
        RawPayload(name="roster.xlsx", source=str(path.absolute()), data=path.read_bytes()),
    )
    assert collected.parameters["rows"] == 2
    assert hr_xlsx.parse(collected.payloads, config) == collected.records


def test_parse_reads_only_the_payload_bytes(tmp_path: Path, make_config: MakeConfig) -> None:
    data = staff(tmp_path, GOOD).read_bytes()
    payload = RawPayload(name="roster.xlsx", source="/gone/roster.xlsx", data=data)
    records = hr_xlsx.parse([payload], make_config(path="/gone/roster.xlsx"))
    assert [person.employee_id for person in records.people] == ["E001"]


def test_a_snapshot_holds_exactly_one_file(make_config: MakeConfig) -> None:
    with pytest.raises(InputError, match="an hr_xlsx snapshot holds exactly one file, got 0"):
        hr_xlsx.parse([], make_config(path="roster.xlsx"))


def test_whole_numbers_stored_as_decimals_read_as_integers(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    path = staff(tmp_path, bob(employee_id=1001))
    rewrite(path, "xl/worksheets/sheet1.xml", "<v>1001</v>", "<v>1001.0</v>")
    people = HrXlsxConnector().collect(make_config(path="roster.xlsx")).records.people
    assert [person.employee_id for person in people] == ["1001"]


def test_the_sheet_setting_chooses_the_worksheet(tmp_path: Path, make_config: MakeConfig) -> None:
    write_book(tmp_path, {"Old": [HEADER, GOOD], "Staff": [HEADER, BOB]})

    def ids(**settings: object) -> list[str]:
        records = HrXlsxConnector().collect(make_config(path="roster.xlsx", **settings)).records
        return [person.employee_id for person in records.people]

    assert ids() == ["E001"]
    assert ids(sheet="Staff") == ["E002"]


def test_unknown_sheet_lists_the_worksheets(tmp_path: Path, make_config: MakeConfig) -> None:
    write_book(tmp_path, {"Old": [HEADER], "Staff": [HEADER]})
    with pytest.raises(InputError) as caught:
        HrXlsxConnector().collect(make_config(path="roster.xlsx", sheet="staff"))
    assert local_where(caught.value.where) == "roster.xlsx"
    assert caught.value.problem == "no worksheet named 'staff'; the workbook has: Old, Staff"


def test_sheet_setting_must_be_a_name(tmp_path: Path, make_config: MakeConfig) -> None:
    error = error_for(tmp_path, make_config, GOOD, sheet=2)
    assert (error.where, error.problem) == (
        "system sys",
        "connector setting 'sheet' must be a sheet name",
    )


def test_a_workbook_of_chart_sheets_only(tmp_path: Path, make_config: MakeConfig) -> None:
    workbook = Workbook()
    data = workbook["Sheet"]
    data.append([1])
    chart = BarChart()
    chart.add_data(Reference(data, min_col=1, min_row=1, max_row=1))
    workbook.create_chartsheet("Chart").add_chart(chart)
    path = tmp_path / "roster.xlsx"
    workbook.save(path)
    worksheet_entry = '<sheet name="Sheet" sheetId="1" state="visible" r:id="rId1" />'
    rewrite(path, "xl/workbook.xml", worksheet_entry, "")

    with pytest.raises(InputError) as caught:
        HrXlsxConnector().collect(make_config(path="roster.xlsx"))
    assert caught.value.problem == "the workbook has no worksheets"


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"name,employee_id\nAda,E001\n",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),  # an .xls: an OLE2 compound file
        zip_of({"readme.txt": "not a workbook"}),
        zip_of({"[Content_Types].xml": "<Types"}),
    ],
    ids=["empty", "csv", "xls", "other-zip", "broken-xml"],
)
def test_not_a_workbook(tmp_path: Path, make_config: MakeConfig, data: bytes) -> None:
    path = tmp_path / "roster.xlsx"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        HrXlsxConnector().collect(make_config(path="roster.xlsx"))
    assert (caught.value.where, caught.value.problem) == (
        str(path),
        "not an Excel workbook (.xlsx)",
    )


@pytest.mark.parametrize(("column", "cell"), [("employee_id", "B3"), ("cost_centre", "K3")])
def test_formula_without_a_saved_value_names_its_cell(
    tmp_path: Path, make_config: MakeConfig, column: str, cell: str
) -> None:
    error = error_for(tmp_path, make_config, GOOD, bob(**{column: '=B2&"x"'}))
    assert local_where(error.where) == f"roster.xlsx:Staff!{cell}"
    assert error.problem == "formula without a saved value; open and save the file in Excel"


def test_formula_with_a_saved_value_reads_the_value(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    path = staff(tmp_path, GOOD, bob(employee_id='=B2&"x"'))
    rewrite(
        path,
        "xl/worksheets/sheet1.xml",
        '<c r="B3"><f>B2&amp;"x"</f><v /></c>',
        '<c r="B3" t="str"><f>B2&amp;"x"</f><v>E001x</v></c>',
    )
    people = HrXlsxConnector().collect(make_config(path="roster.xlsx")).records.people
    assert [person.employee_id for person in people] == ["E001", "E001x"]


def test_missing_columns_name_the_header_cells(tmp_path: Path, make_config: MakeConfig) -> None:
    header = [None, *(name for name in HEADER if name not in ("department", "title"))]
    write_book(tmp_path, {"Staff": [(), header, (None, *GOOD)]})
    with pytest.raises(InputError) as caught:
        HrXlsxConnector().collect(make_config(path="roster.xlsx"))
    assert local_where(caught.value.where) == "roster.xlsx:Staff!B2:J2"
    assert caught.value.problem == "missing required columns: department, title"


def test_a_column_named_twice_ignoring_case(tmp_path: Path, make_config: MakeConfig) -> None:
    write_book(tmp_path, {"Staff": [(*HEADER, " EMAIL ")]})
    with pytest.raises(InputError) as caught:
        HrXlsxConnector().collect(make_config(path="roster.xlsx"))
    assert local_where(caught.value.where) == "roster.xlsx:Staff!L1"
    assert caught.value.problem == "column 'EMAIL' appears twice"


@pytest.mark.parametrize("rows", [[], [(), ("  ", None)]], ids=["no-rows", "blank-rows"])
def test_empty_sheet(tmp_path: Path, make_config: MakeConfig, rows: list[Row]) -> None:
    write_book(tmp_path, {"Staff": rows})
    with pytest.raises(InputError) as caught:
        HrXlsxConnector().collect(make_config(path="roster.xlsx"))
    assert local_where(caught.value.where) == "roster.xlsx:Staff!A1"
    assert caught.value.problem == "empty sheet; expected a header row"


def test_header_only_yields_no_people(tmp_path: Path, make_config: MakeConfig) -> None:
    staff(tmp_path)
    assert HrXlsxConnector().collect(make_config(path="roster.xlsx")).records.people == ()


@pytest.mark.parametrize(
    ("changes", "cell", "problem"),
    [
        ({"start_date": "2020/01/06"}, "F3", "start_date: expected a date as YYYY-MM-DD"),
        ({"start_date": "2023-02-30"}, "F3", "start_date: "),
        ({"start_date": 43836}, "F3", "start_date: expected a date as YYYY-MM-DD, got '43836'"),
        ({"start_date": None}, "F3", "start_date: empty"),
        ({"status": "terminated", "end_date": "31.12.2023"}, "G3", "end_date: expected a date"),
        ({"status": "terminated"}, "G3", "end_date: required when status is 'terminated'"),
        ({"end_date": date(2019, 12, 31)}, "G3", "end_date: 2019-12-31 is before start_date"),
        ({"employment_type": "intern"}, "E3", "employment_type: expected one of"),
        ({"status": "retired"}, "D3", "status: expected one of active|terminated|leave"),
        ({"email": "bob-at-example.com"}, "C3", "email: not an e-mail address"),
        ({"manager_email": "boss"}, "H3", "manager_email: not an e-mail address: 'boss'"),
        ({"employee_id": None}, "B3", "employee_id: empty"),
        ({"name": "   "}, "A3", "name: empty"),
    ],
)
def test_bad_values_name_their_cell(
    tmp_path: Path,
    make_config: MakeConfig,
    changes: dict[str, object],
    cell: str,
    problem: str,
) -> None:
    error = error_for(tmp_path, make_config, GOOD, bob(**changes))
    assert local_where(error.where) == f"roster.xlsx:Staff!{cell}"
    assert error.problem.startswith(problem)


def test_a_datetime_with_a_time_is_not_a_date(tmp_path: Path, make_config: MakeConfig) -> None:
    error = error_for(tmp_path, make_config, bob(start_date=datetime(2020, 1, 6, 9, 30)))
    assert error.problem == "start_date: expected a date as YYYY-MM-DD, got '2020-01-06 09:30:00'"


def test_duplicate_employee_id_whether_number_or_text(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    error = error_for(
        tmp_path, make_config, bob(employee_id=1001), (), bob(employee_id="1001", email="x@y.z")
    )
    assert local_where(error.where) == "roster.xlsx:Staff!B4"
    assert error.problem == "employee_id: duplicate '1001' (first on row 2)"


def test_duplicate_email_ignores_case(tmp_path: Path, make_config: MakeConfig) -> None:
    error = error_for(tmp_path, make_config, GOOD, bob(email="ADA@example.com"))
    assert local_where(error.where) == "roster.xlsx:Staff!C3"
    assert error.problem == "email: duplicate 'ada@example.com' (first on row 2)"


def test_unknown_manager_and_self_management_are_warnings(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    staff(
        tmp_path,
        bob(employee_id="E001", email="ada@example.com", manager_email="nobody@example.com"),
        bob(manager_email="BOB@example.com"),
    )
    records = HrXlsxConnector().collect(make_config(path="roster.xlsx")).records
    assert len(records.people) == 2
    assert records.warnings == (
        "roster.xlsx:Staff!H2: manager_email 'nobody@example.com' of E001 is not in the roster",
        "roster.xlsx:Staff!H3: E002 is recorded as their own manager",
    )


def test_other_modes_are_refused(tmp_path: Path, make_config: MakeConfig) -> None:
    staff(tmp_path, GOOD)
    with pytest.raises(InputError, match="does not support mode 'api'"):
        HrXlsxConnector().collect(make_config(mode="api", path="roster.xlsx"))


def test_a_wrong_declared_sheet_size_hides_no_cells(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    path = staff(tmp_path, GOOD, BOB)
    rewrite(path, "xl/worksheets/sheet1.xml", '<dimension ref="A1:K3" />', '<dimension ref="A1" />')
    people = HrXlsxConnector().collect(make_config(path="roster.xlsx")).records.people
    assert [person.employee_id for person in people] == ["E001", "E002"]
