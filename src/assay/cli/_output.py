"""How the ``assay`` command shows a string from a source, a file or a person: as data.

Such a string is never obeyed by whatever reads the output. Rich would read ``[/bold]`` as markup
(and raise on a closing tag that matches nothing) and ``:smile:`` as an emoji; a terminal would
obey ``ESC [2J``, an OSC 8 hyperlink, a carriage return, a backspace or a bidi override; a
spreadsheet would evaluate ``=HYPERLINK(…)`` in a CSV cell. Every table, line and file the
command writes is built here, so no caller has to remember:

- ``inert(value)`` (from ``_internal.text``): the string, with each character that could act
  written as its escape;
- ``text(*parts)``: a Rich ``Text`` of inert parts, each plain or ``(part, style)``, never markup;
- ``table(title, *columns)``, ``add_row(table, *cells)`` and ``show(renderable)``: Rich tables;
- ``say(line)``: one plain line on standard output;
- ``csv_text(columns, rows)``: CSV whose cells are inert and cannot start a formula;
- ``json_text(data)``: JSON, which escapes every control and non-ASCII character itself.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence

import typer
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from assay._internal.text import inert

__all__ = ["add_row", "csv_cell", "csv_text", "inert", "json_text", "say", "show", "table", "text"]

# OWASP's list for CSV injection: a cell starting with one of these is read as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text(*parts: object | tuple[object, str]) -> Text:
    """A Rich ``Text`` of ``parts``, each shown inert: a plain value, or ``(value, style)``."""
    line = Text()
    for part in parts:
        if isinstance(part, tuple):
            value, style = part
            line.append(inert(value), style=style)
        else:
            line.append(inert(part))
    return line


def table(title: str, *columns: str) -> Table:
    """A Rich table with this title and these column headings, shown as text, not markup."""
    made = Table(title=text(title))
    for column in columns:
        made.add_column(text(column))
    return made


def add_row(into: Table, *cells: object, style: str | None = None) -> None:
    """Add a row; each cell is shown inert (a ``Text`` from ``text()`` keeps its styles)."""
    into.add_row(*(cell if isinstance(cell, Text) else text(cell) for cell in cells), style=style)


def show(renderable: RenderableType, console: Console | None = None) -> None:
    """Print a table or a ``Text`` (never a ``str``, which Rich would read as markup)."""
    (console or Console()).print(renderable)


def say(line: object) -> None:
    """One line on standard output, inert (a newline in ``line`` is shown as ``\\n``)."""
    typer.echo(inert(line))


def csv_cell(value: object) -> str:
    """``value`` for a CSV cell: inert, and prefixed with ``'`` where a spreadsheet would read it
    as a formula (OWASP: a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return)."""
    cell = inert(value)
    return f"'{cell}" if cell.startswith(_FORMULA_START) else cell


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    """CSV with a header of ``columns`` and a line per row, every cell through ``csv_cell``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([csv_cell(row.get(column)) for column in columns] for row in rows)
    return out.getvalue()


def json_text(data: object) -> str:
    """``data`` as indented JSON. ``ensure_ascii`` (the default, kept on purpose) writes every
    control and non-ASCII character as ``\\uXXXX``, so the text is inert and a parser gets the
    original strings back."""
    return json.dumps(data, indent=2, ensure_ascii=True)
