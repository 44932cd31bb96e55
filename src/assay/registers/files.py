"""Registers in and out of spreadsheets: CSV and XLSX, one row per record, one column per field.

An import is checked whole before anything is kept: a wrong or missing column, a bad value, a
reference to nobody, or a key given twice rejects the file with every problem listed by row and
column, and nothing is written. A row equal to the current record changes nothing; the others are
appended as one batch. Exports write cells a spreadsheet will never read as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from assay.errors import InputError
from assay.programme.model import Programme
from assay.registers.kinds import LIST_SEPARATOR, Kind, _Record
from assay.registers.service import (
    Problem,
    Proposed,
    RecordsRejected,
    apply,
    parse,
    records_of,
    resolver,
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 100_000


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[object]]]]:
    """The header and the numbered rows of a CSV or XLSX file (XLSX: its first sheet)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(str(path), "no such file")
    if suffix == ".csv":
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InputError(str(path), f"not UTF-8 text (byte {error.start})") from None
        rows = list(csv.reader(io.StringIO(text, newline="")))
        if not rows:
            raise InputError(str(path), "the file is empty; the first row names the columns")
        return [h.strip() for h in rows[0]], (
            (number, list(row)) for number, row in enumerate(rows[1:], start=2)
        )
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a damaged file
            raise InputError(
                str(path), f"not a readable XLSX file ({type(error).__name__})"
            ) from None
        sheet = book.worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        book.close()
        if not values:
            raise InputError(str(path), "the first sheet is empty; its first row names the columns")
        header = ["" if h is None else str(h).strip() for h in values[0]]
        return header, ((n, list(row)) for n, row in enumerate(values[1:], start=2))
    raise InputError(str(path), "import reads .csv or .xlsx files")


def cell(kind: Kind, column: str, value: object) -> object:
    """A cell as the record's field takes it: empty is absent, lists are split."""
    if value is None:
        return None
    if isinstance(value, datetime) and kind.is_date(column):
        return value.date()
    if isinstance(value, int | float) and not isinstance(value, bool) and kind.is_text(column):
        # A spreadsheet stores an id like 101 or a version like 2 as a number.
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if kind.is_list(column):
            return [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]
    return value


def import_file(
    programme: Programme, kind: Kind, path: Path, actor: str, *, trusted: bool = False
) -> tuple[int, int]:
    """Import ``path`` into ``kind``; return (changed, unchanged) counts. With ``trusted`` (the
    sample organisation writing its own files) references are not looked up."""
    where = path.name
    header, rows = read_rows(path)
    problems: list[Problem] = []
    known = set(kind.columns)
    for index, name in enumerate(header, start=1):
        if name not in known:
            problems.append(
                Problem(
                    f"{where}:1",
                    name or f"column {index}",
                    f"unknown column (columns: {', '.join(kind.columns)})",
                )
            )
    if len(set(header)) != len(header):
        problems.append(Problem(f"{where}:1", "header", "a column is named twice"))
    missing = {name for name in kind.required if name not in header}
    problems += [
        Problem(f"{where}:1", name, "required column is missing")
        for name in kind.required
        if name in missing
    ]
    # The rows are checked too, on the columns that are known, so every problem is listed at once;
    # a missing column is reported once, on the header, not again on every row.
    exists = (lambda _ref, _value: True) if trusted else resolver(programme)
    current = {record.key: record for record in records_of(kind)}
    seen: dict[str, int] = {}
    proposed: list[Proposed] = []
    unchanged = 0
    for number, row in rows:
        if number > MAX_ROWS + 1:
            raise InputError(str(path), f"more than {MAX_ROWS} rows")
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        if len(row) > len(header):
            problems.append(Problem(f"{where}:{number}", "row", "more cells than columns"))
            continue
        data: dict[str, Any] = {}
        for name, value in zip(header, row, strict=False):
            if name not in known:
                continue
            value_read = cell(kind, name, value)
            if value_read is not None:
                data[name] = value_read
        record, found = parse(kind, data, f"{where}:{number}", exists)
        found = [p for p in found if p.field not in missing]
        problems += found
        key = record.key if record is not None else str(data.get(kind.record.key_field, ""))
        if key and key in seen:
            problems.append(
                Problem(
                    f"{where}:{number}",
                    kind.record.key_field if kind.record.key_field in kind.columns else "row",
                    f"'{key}' is also on row {seen[key]}",
                )
            )
            continue
        if key:
            seen[key] = number
        if record is None or found:
            continue
        if current.get(record.key) == record:
            unchanged += 1
        else:
            proposed.append(Proposed(record, "imported"))
    if problems:
        raise RecordsRejected(str(path), problems)
    if not seen:
        raise InputError(str(path), "no rows to import")
    apply(programme, kind, proposed, actor)
    return len(proposed), unchanged


def _text(kind: Kind, column: str, record: _Record) -> object:
    value = getattr(record, column)
    if value is None:
        return ""
    if isinstance(value, tuple):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value.value if hasattr(value, "value") else value)


def _safe(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def rows_of(kind: Kind, records: Sequence[_Record]) -> list[dict[str, object]]:
    return [{c: _text(kind, c, record) for c in kind.columns} for record in records]


def export_csv(kind: Kind, records: Sequence[_Record]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(kind.columns)
    for row in rows_of(kind, records):
        writer.writerow([_safe(row[c]) for c in kind.columns])
    return out.getvalue()


def export_xlsx(kind: Kind, records: Sequence[_Record], path: Path) -> None:
    """One sheet; every cell is stored as text, so none is ever evaluated as a formula."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = kind.name[:31]
    sheet.append(list(kind.columns))
    for row in rows_of(kind, records):
        sheet.append([str(row[c]) for c in kind.columns])
    for cells in sheet.iter_rows():
        for cell in cells:
            cell.data_type = "s"
    book.save(path)
