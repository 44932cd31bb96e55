"""A register record's form, built from its kind's pydantic model: one input per column, drawn by
the field's type — a choice as a select, a date as a date picker, a time as a local date and time
(read as UTC), a list as comma-separated text, free text as a text area, a number as a number.

The form judges nothing itself: what was typed goes to the register service as typed, which
parses it and names every problem; the form then shows each beside its field and keeps the rest.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import Annotated, Any, Union, get_args, get_origin

from django import forms
from pydantic.fields import FieldInfo

from assay.registers.kinds import Kind
from assay.registers.service import Problem


class Input(StrEnum):
    TEXT = "text"
    LONG = "long"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    CHOICE = "choice"
    LIST = "list"


ONE_LINE = frozenset({"postmortem_file"})
"""Free-text fields that hold one short value (a sha-256), not prose."""
_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


@dataclass(frozen=True)
class Column:
    """How one field of a record is typed in."""

    name: str
    input: Input
    required: bool
    """No default: left empty, the service says it is missing."""
    default: Any
    choices: tuple[str, ...] = ()


def _unwrapped(annotation: Any) -> tuple[Any, bool]:
    """The type inside ``X | None`` and ``Annotated[X, ...]``, and whether any validator or
    constraint was found on the way (an e-mail address, a title: not free prose)."""
    constrained = False
    while True:
        origin = get_origin(annotation)
        if origin in (Union, types.UnionType):
            annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
        elif origin is Annotated:
            constrained = True
            annotation = get_args(annotation)[0]
        else:
            return annotation, constrained


def _column(name: str, info: FieldInfo) -> Column:
    shape, constrained = _unwrapped(info.annotation)
    required = info.is_required()
    default = None if required else info.get_default(call_default_factory=True)
    if get_origin(shape) is tuple:
        return Column(name, Input.LIST, required, default)
    if isinstance(shape, type) and issubclass(shape, Enum):
        return Column(name, Input.CHOICE, required, default, tuple(str(m.value) for m in shape))
    if shape is datetime:
        return Column(name, Input.DATETIME, required, default)
    if shape is date:
        return Column(name, Input.DATE, required, default)
    if shape is int:
        return Column(name, Input.NUMBER, required, default)
    prose = shape is str and not (constrained or info.metadata) and name not in ONE_LINE
    return Column(name, Input.LONG if prose else Input.TEXT, required, default)


def columns(kind: Kind) -> tuple[Column, ...]:
    """The form's inputs, in the kind's column order."""
    fields = kind.record.model_fields
    return tuple(_column(name, fields[name]) for name in kind.columns)


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _widget(column: Column) -> forms.Widget:
    if column.input is Input.LONG:
        return forms.Textarea(attrs={"rows": 6 if column.name in ("body", "postmortem") else 3})
    if column.input is Input.NUMBER:
        return forms.NumberInput()
    if column.input is Input.DATE:
        return forms.DateInput(attrs={"type": "date"})
    if column.input is Input.DATETIME:
        return forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"})
    if column.input is Input.CHOICE:
        blank = [] if column.default is not None else [("", "—")]
        return forms.Select(choices=blank + [(c, c.replace("_", " ")) for c in column.choices])
    return forms.TextInput()


def _help(column: Column) -> str:
    if column.input is Input.LIST:
        return "comma-separated"
    if column.input is Input.DATETIME:
        return "UTC"
    return "" if column.required or column.input is Input.CHOICE else "optional"


def _shown(column: Column, value: Any) -> str:
    """A stored value as its input shows it."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if column.input is Input.LIST:
        return ", ".join(str(item) for item in value)
    if column.input is Input.DATETIME:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    return str(value)


class RecordForm(forms.Form):
    """The form of one register; ``key`` given: an edit, where the key cannot change."""

    def __init__(
        self,
        kind: Kind,
        data: Mapping[str, Any] | None = None,
        *,
        document: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> None:
        self.kind = kind
        self.columns = columns(kind)
        shown = {
            c.name: _shown(c, document.get(c.name) if document is not None else c.default)
            for c in self.columns
        }
        super().__init__(data, initial=shown)
        for column in self.columns:
            field = forms.CharField(
                required=False,
                label=_label(column.name),
                widget=_widget(column),
                help_text=_help(column),
                strip=column.input is not Input.LONG,
            )
            if key is not None and column.name == kind.record.key_field:
                field.disabled = True
            self.fields[column.name] = field

    def record_data(self) -> dict[str, Any]:
        """What was typed, field by field, as the register service reads a record: an empty
        input is the field's default (None when it may be empty), or missing when required."""
        typed: dict[str, Any] = {}
        for column in self.columns:
            raw = str(self.cleaned_data.get(column.name) or "")
            if not raw.strip():
                if not column.required:
                    typed[column.name] = column.default
                continue
            if column.input is Input.LIST:
                typed[column.name] = [part.strip() for part in raw.split(",") if part.strip()]
            elif column.input is Input.DATETIME and _LOCAL_TIME.fullmatch(raw.strip()):
                typed[column.name] = f"{raw.strip()}+00:00"
            else:
                typed[column.name] = raw
        return typed

    def changes(self) -> dict[str, Any]:
        """An edit's fields: all but the key."""
        typed = self.record_data()
        typed.pop(self.kind.record.key_field, None)
        return typed

    def show_problems(self, problems: tuple[Problem, ...]) -> None:
        """Each problem the service found beside its field; one about the whole record (or a
        field not on the form) above the form."""
        for problem in problems:
            field = problem.field.split(".", 1)[0]
            if field in self.fields:
                self.add_error(field, problem.message)
            else:
                where = f"{_label(problem.field)}: " if problem.field != "record" else ""
                self.add_error(None, f"{where}{problem.message}")
