"""The registers and the evidence requests: each register's current records, one record with its
history of statements, and every owner-evidence window with its state, as the pages show them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, P, PathEx, Query, Schema

from assay.errors import InputError
from assay.registers import owner_evidence, service
from assay.registers.kinds import KINDS, Kind
from assay.registers.models import Record
from assay.registers.state import SubmissionFact
from assay.registers.windows import WindowState, statuses
from assay.web.api._base import Name, Page, Paging, not_found, page_of, read
from assay.web.roles import PROGRAMME
from assay.web.views._common import programme
from assay.web.views.owner_evidence import filtered, today


class RecordOut(Schema):
    kind: str
    key: str
    version: int
    """1 when created; each change adds one."""
    statement_id: str
    """The statement in the locker of the change that made this version."""
    changed_at: datetime
    changed_by: str
    record: dict[str, Any]
    """The record's fields, as its register defines them (``assay register`` reads the same)."""


class RecordsPage(Page):
    kind: str
    items: list[RecordOut]


class ChangeOut(Schema):
    version: int
    action: str
    reason: str
    author: str
    at: datetime
    statement_id: str


class RecordDetail(RecordOut):
    history: list[ChangeOut]
    """Every change, oldest first."""


def _kind(name: str) -> Kind:
    found = KINDS.get(name)
    if found is None:
        raise not_found(f"register {name}")
    return found


def _record(row: Record) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "key": row.key,
        "version": row.version,
        "statement_id": row.statement_id,
        "changed_at": row.changed_at,
        "changed_by": row.changed_by,
        "record": row.document,
    }


@read(
    "/registers/{kind}", name="register", allowed=PROGRAMME, response=RecordsPage, tag="registers"
)
def register(request: HttpRequest, kind: Name, paging: Query[Paging]) -> dict[str, Any]:
    """A register's current records, in key order."""
    chosen = _kind(kind)
    fields, shown = page_of(Record.objects.filter(kind=chosen.name).order_by("key"), paging)
    return {**fields, "kind": chosen.name, "items": [_record(row) for row in shown]}


@read(
    "/registers/{kind}/{path:key}",
    name="register_record",
    allowed=PROGRAMME,
    response=RecordDetail,
    tag="registers",
)
def register_record(
    request: HttpRequest, kind: Name, key: PathEx[str, P(min_length=1, max_length=200)]
) -> dict[str, Any]:
    """One record with its history (a key may hold a slash: a vendor's name)."""
    chosen = _kind(kind)
    try:
        row = service.current_record(chosen, key)
    except InputError:
        raise not_found(f"record {key} of {chosen.name}") from None
    history = [
        {
            "version": change.version,
            "action": change.action,
            "reason": change.reason,
            "author": change.author,
            "at": change.at,
            "statement_id": change.statement_id,
        }
        for change in service.history(chosen, row.key)
    ]
    return {**_record(row), "history": history}


class SubmissionOut(Schema):
    state: str
    """pending, accepted or returned (sent back)."""
    submitted_by: str
    submitted_at: datetime
    decided_by: str
    decided_at: datetime | None
    statement_id: str


def _submission(fact: SubmissionFact) -> dict[str, Any]:
    return {
        "state": fact.state,
        "submitted_by": fact.submitted_by,
        "submitted_at": fact.submitted_at,
        "decided_by": fact.decided_by,
        "decided_at": fact.decided_at,
        "statement_id": fact.statement_id,
    }


class WindowOut(Schema):
    control: str
    window: str
    """The window's label: 2026-Q3, 2026-11, 2026-W45, a day, or an annual window's two days."""
    start: date
    end: date
    due: date
    state: WindowState
    owner: str | None
    """The control's named owner; None while the programme file names nobody."""
    late: bool
    """Accepted, but submitted after it was due."""
    submission: SubmissionOut | None
    """The submission that decides the state: the accepted one, else the latest."""


class WindowsPage(Page):
    items: list[WindowOut]


class WindowFilters(Paging):
    control: Name | None = None
    state: WindowState | None = None
    owner: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    """The owner's e-mail address (its length is the server's to bound: a request line of at
    most 4 KiB)."""


@read(
    "/evidence-requests",
    name="evidence_requests",
    allowed=PROGRAMME,
    response=WindowsPage,
    tag="registers",
)
def evidence_requests(request: HttpRequest, filters: Query[WindowFilters]) -> dict[str, Any]:
    """Every window of every control its owner evidences, in control and window order."""
    every = statuses(programme(), owner_evidence.submission_facts(), today())
    rows = filtered(
        every,
        control=filters.control or "",
        state=filters.state.value if filters.state else "",
        owner=filters.owner or "",
    )
    shown = rows[filters.offset : filters.offset + filters.limit]
    items = [
        {
            "control": s.control,
            "window": s.window.label,
            "start": s.window.start,
            "end": s.window.end,
            "due": s.window.due,
            "state": s.state,
            "owner": s.owner,
            "late": s.late,
            "submission": None if s.submission is None else _submission(s.submission),
        }
        for s in shown
    ]
    return {"total": len(rows), "limit": filters.limit, "offset": filters.offset, "items": items}
