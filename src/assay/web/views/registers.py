"""The registers: each with its count, a register's records as a table, one record with every
field and its history (each change a statement in the locker), and the form that adds or edits
a record. Admins and programme owners change the registers; control owners and auditors read.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from assay.errors import InputError
from assay.evidence.models import EvidenceItem
from assay.registers import service
from assay.registers.kinds import KINDS, Kind, RefKind, VendorReview, VendorStatus, _Record
from assay.registers.reach import offboarding_steps, reach_of
from assay.web import audit
from assay.web.record_form import Input, RecordForm, columns
from assay.web.views._common import (
    may_open,
    page,
    paginated,
    person,
    programme,
    visible_runs,
)

DERIVED = {"risks": ("inherent_score", "residual_score")}
"""What a record of a kind also shows beside its fields: scores worked out from them."""
MARKDOWN = frozenset({"body", "postmortem"})
"""Fields written in Markdown: shown rendered on a record's page."""


def _kind(name: str) -> Kind:
    found = KINDS.get(name)
    if found is None:
        raise Http404("no such register")
    return found


def _record(kind: Kind, key: str) -> tuple[Any, _Record]:
    try:
        row = service.current_record(kind, key)
    except InputError:
        raise Http404(f"no record '{key}' in {kind.label.lower()}") from None
    return row, kind.record.model_validate(row.document)


@require_GET
def registers(request: HttpRequest) -> HttpResponse:
    counted = service.counts()
    rows = [(kind, counted[name]) for name, kind in KINDS.items()]
    return page(request, "web/registers.html", {"title": "Registers", "rows": rows})


def _cells(kind: Kind, record: _Record) -> list[dict[str, Any]]:
    """A table row: each column but the key, lists joined, as text."""
    cells = []
    for column in columns(kind):
        if column.name == kind.record.key_field:
            continue
        value = getattr(record, column.name)
        if isinstance(value, tuple):
            value = ", ".join(str(item) for item in value)
        cells.append({"value": "" if value is None else getattr(value, "value", value)})
    return cells


@require_GET
def register(request: HttpRequest, kind: str) -> HttpResponse:
    chosen = _kind(kind)
    records = service.records_of(chosen)
    pager = paginated(request, records)
    return page(
        request,
        "web/register.html",
        {
            "title": chosen.label,
            "kind": chosen,
            "key_field": chosen.record.key_field,
            "headings": [c.name for c in columns(chosen) if c.name != chosen.record.key_field],
            "rows": [(record.key, _cells(chosen, record)) for record in pager.page.object_list],
            "pager": pager,
            "may_add": may_open(request, "register_new"),
        },
    )


def _fields(kind: Kind, record: _Record) -> list[dict[str, Any]]:
    """Every field of a record for its page: links to the controls and policies it names."""
    fields = []
    for column in columns(kind):
        value = getattr(record, column.name)
        items = value if isinstance(value, tuple) else (() if value is None else (value,))
        ref = kind.references.get(column.name)
        fields.append(
            {
                "name": column.name,
                "items": [str(getattr(item, "value", item)) for item in items],
                "control": ref is RefKind.CONTROL,
                "policy": ref is RefKind.POLICY,
                "markdown": column.name in MARKDOWN,
                "long": column.input is Input.LONG,
            }
        )
    for name in DERIVED.get(kind.name, ()):
        fields.append({"name": name, "items": [str(getattr(record, name))]})
    return fields


@require_GET
def record(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    chosen = _kind(kind)
    row, found = _record(chosen, key)
    changes = service.history(chosen, row.key)
    # A change appended outside a run has no page of its own; one a run indexed links to it.
    indexed = set(
        EvidenceItem.objects.filter(
            statement_id__in=[c.statement_id for c in changes], run__in=visible_runs(request)
        ).values_list("statement_id", flat=True)
    )
    return page(
        request,
        "web/register_record.html",
        {
            "title": f"{chosen.label}: {row.key}",
            "kind": chosen,
            "row": row,
            "fields": _fields(chosen, found),
            "changes": [(change, change.statement_id in indexed) for change in changes],
            "may_edit": chosen.name != "acknowledgements" and may_open(request, "register_edit"),
            **_vendor(found),
        },
    )


def _vendor(found: _Record) -> dict[str, Any]:
    """For a vendor review: what the vendor can reach, and its offboarding checklist."""
    if not isinstance(found, VendorReview):
        return {}
    offboarding = found.status is not VendorStatus.ACTIVE
    return {
        "reach": reach_of(programme(), found.vendor),
        "steps": offboarding_steps(found) if offboarding else (),
    }


def _form_page(
    request: HttpRequest, kind: Kind, form: RecordForm, key: str | None, status: int = 200
) -> HttpResponse:
    return page(
        request,
        "web/register_form.html",
        {
            "title": f"Edit {key}" if key else f"New record: {kind.label}",
            "kind": kind,
            "key": key,
            "form": form,
            "long": {c.name for c in form.columns if c.input is Input.LONG},
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def record_new(request: HttpRequest, kind: str) -> HttpResponse:
    chosen = _kind(kind)
    if request.method != "POST":
        return _form_page(request, chosen, RecordForm(chosen), None)
    form = RecordForm(chosen, request.POST)
    form.is_valid()  # every input is optional text: the service judges what was typed
    try:
        made = service.add(programme(), chosen, form.record_data(), person(request), "form")
    except service.RecordsRejected as rejected:
        form.show_problems(rejected.problems)
        return _form_page(request, chosen, form, None, status=400)
    audit.record_request(request, "register record added", f"{chosen.name}/{made.key}")
    messages.success(request, f"{made.key} added to {chosen.label.lower()}.")
    return redirect("register_record", kind=chosen.name, key=made.key)


@require_http_methods(["GET", "POST"])
def record_edit(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    chosen = _kind(kind)
    row, _ = _record(chosen, key)
    if request.method != "POST":
        return _form_page(
            request, chosen, RecordForm(chosen, document=row.document, key=row.key), row.key
        )
    form = RecordForm(chosen, request.POST, document=row.document, key=row.key)
    form.is_valid()
    try:
        made = service.edit(
            programme(), chosen, row.key, form.changes(), person(request), where="form"
        )
    except service.RecordsRejected as rejected:
        form.show_problems(rejected.problems)
        return _form_page(request, chosen, form, row.key, status=400)
    except InputError as refused:
        form.add_error(None, refused.problem)
        return _form_page(request, chosen, form, row.key, status=400)
    audit.record_request(request, "register record edited", f"{chosen.name}/{made.key}")
    messages.success(request, f"{made.key} saved as version {made.version}.")
    return redirect("register_record", kind=chosen.name, key=made.key)
