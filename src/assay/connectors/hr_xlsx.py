"""The HR roster, kept as an Excel workbook.

Settings: ``path`` — the ``.xlsx`` file; ``sheet`` — the worksheet to read (default: the first).
The header row is the first non-empty row; columns are found by name, ignoring case and
surrounding spaces, and extra columns are ignored. The rows then go through the same checks as
``hr_csv`` (same columns, values and messages), so a roster means the same whichever format HR
exports. Cells may hold real Excel dates or ``YYYY-MM-DD`` text; a number is read as Excel shows
it, so employee id ``1001`` is never ``1001.0``. Errors name the cell, ``roster.xlsx:Staff!H12``.

Cells are read as last saved: a formula with no saved value stops collection at its cell, since
its result is unknown until Excel computes it.

Live mode (``mode: live``): the HR system serves the same workbook as a report at the setting
``url`` (a Workday RaaS report with ``format=xlsx``, a BambooHR or HiBob custom report, say),
read with a report-only integration user: secret ``token`` (sent as a bearer token) or
``username`` and ``password`` (HTTP basic). The response is kept byte for byte as
``roster.xlsx``, its source the URL, and read exactly like an exported file.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import closing
from datetime import datetime, time
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import StrictStr

from assay.connectors import _export
from assay.connectors.base import Collected, ConnectorConfig, RawPayload, SettingsModel
from assay.connectors.hr_csv import COLUMNS, HrCsvSettings, RosterRow, parse_roster
from assay.errors import InputError
from assay.inventory.records import Records

_NOT_A_WORKBOOK = (BadZipFile, KeyError, OSError, SyntaxError)
"""What openpyxl raises for bytes that are no .xlsx package: not a zip, no workbook part, or
malformed XML (the XML parsers' errors are ``SyntaxError``s)."""


class HrXlsxSettings(HrCsvSettings):
    """As ``hr_csv``, and the sheet that holds the roster (default the first)."""

    sheet: StrictStr | None = None


class HrXlsxConnector:
    """Reads the HR roster workbook named by the ``path`` setting."""

    type: str = "hr_xlsx"
    version: str = "1"
    settings: SettingsModel = HrXlsxSettings

    def collect(self, config: ConnectorConfig) -> Collected:
        return _export.collect_single_file(
            config,
            self.type,
            self.version,
            parse,
            lambda records: {"rows": len(records.people)},
            "roster.xlsx",
        )


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """People from the workbook payload (the only payload of an ``hr_xlsx`` snapshot)."""
    sheet = config.settings.get("sheet")
    if sheet is not None and not isinstance(sheet, str):
        raise InputError(
            f"system {config.system_id}", "connector setting 'sheet' must be a sheet name"
        )
    return parse_roster(
        payloads, config, HrXlsxConnector.type, lambda payload: _roster_rows(payload, sheet)
    )


def _roster_rows(payload: RawPayload, sheet: str | None) -> list[RosterRow]:
    title, rows = _read_sheet(payload, sheet)
    filled = [(number, texts) for number, texts in enumerate(rows, 1) if any(map(str.strip, texts))]
    if not filled:
        raise InputError(f"{payload.source}:{title}!A1", "empty sheet; expected a header row")
    (header_row, header), data = filled[0], filled[1:]
    columns: dict[str, int] = {}
    for index, text in enumerate(header):
        name = text.strip().lower()
        if name in columns:
            raise InputError(
                f"{payload.source}:{_ref(title, index, header_row)}",
                f"column '{text.strip()}' appears twice",
            )
        if name:
            columns[name] = index
    missing = [name for name in COLUMNS if name not in columns]
    if missing:
        used = [index for index, text in enumerate(header) if text.strip()]
        raise InputError(
            f"{payload.source}:{_ref(title, used[0], header_row)}:"
            f"{get_column_letter(used[-1] + 1)}{header_row}",
            f"missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}",
        )
    return [
        RosterRow(
            values={name: _at(texts, columns[name]) for name in COLUMNS},
            at={name: _ref(title, columns[name], number) for name in COLUMNS},
            label=f"row {number}",
        )
        for number, texts in data
    ]


def _read_sheet(payload: RawPayload, sheet: str | None) -> tuple[str, list[list[str]]]:
    """The chosen worksheet's title and every row as text, from row 1 on.

    The workbook is opened twice because openpyxl gives either the saved values or the formulas,
    and only both together tell an empty cell from a formula that was never computed.
    """
    data = payload.data
    try:
        with (
            closing(load_workbook(io.BytesIO(data), read_only=True, data_only=True)) as values,
            closing(load_workbook(io.BytesIO(data), read_only=True)) as formulas,
        ):
            value_sheet = _worksheet(payload.source, values, sheet)
            title = value_sheet.title
            formula_rows = _worksheet(payload.source, formulas, title).iter_rows()
            rows: list[list[str]] = []
            for number, (row_values, row_cells) in enumerate(
                zip(value_sheet.iter_rows(values_only=True), formula_rows, strict=True), 1
            ):
                for index, (value, formula) in enumerate(zip(row_values, row_cells, strict=True)):
                    if value is None and formula.data_type == "f":
                        raise InputError(
                            f"{payload.source}:{_ref(title, index, number)}",
                            "formula without a saved value; open and save the file in Excel",
                        )
                rows.append([_text(value) for value in row_values])
            return title, rows
    except _NOT_A_WORKBOOK as exc:
        raise InputError(payload.source, "not an Excel workbook (.xlsx)") from exc


def _worksheet(source: str, workbook: Workbook, name: str | None) -> Worksheet:
    """The worksheet called ``name``, or the first; sized by its rows, not its declared size.

    Writers other than Excel often declare a wrong size, and openpyxl drops cells outside it.
    """
    sheets = workbook.worksheets
    if not sheets:
        raise InputError(source, "the workbook has no worksheets")
    matching = sheets[:1] if name is None else [sheet for sheet in sheets if sheet.title == name]
    if not matching:
        titles = ", ".join(sheet.title for sheet in sheets)
        raise InputError(source, f"no worksheet named {name!r}; the workbook has: {titles}")
    matching[0].reset_dimensions()
    return matching[0]


def _ref(title: str, index: int, row: int) -> str:
    """The Excel reference of a cell, ``Staff!H12``, from its 0-based column index."""
    return f"{title}!{get_column_letter(index + 1)}{row}"


def _at(texts: Sequence[str], index: int) -> str:
    """A row's text at ``index``; rows end at their last filled cell, so later ones are empty."""
    return texts[index] if index < len(texts) else ""


def _text(value: object) -> str:
    """A cell's value as the text a CSV export would hold: dates ISO, whole numbers bare."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.time() == time():
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
