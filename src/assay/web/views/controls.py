"""The controls: a filterable, sortable list, and each control's own page — where it lives: owner,
frequency, mappings with their rationale, the checks that test it, its results run by run with the
evidence each read, and its exceptions and overrides."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from assay.catalog import Category, load_catalog
from assay.checks.base import Status
from assay.errors import InputError
from assay.monitor import history
from assay.registers import owner_evidence
from assay.registers.windows import evidenced_controls, statuses
from assay.web.views import owner_evidence as owner_evidence_views
from assay.web.views._common import latest_run, page, period_bounds, programme

SORTS = {
    "id": lambda row: row.control.id,
    "status": lambda row: (row.status.value if row.status else "~", row.control.id),
    "owner": lambda row: (row.owner, row.control.id),
    "category": lambda row: ([c.value for c in row.categories], row.control.id),
    "frequency": lambda row: (row.frequency.value, row.control.id),
}


class ControlFilter(forms.Form):
    category = forms.ChoiceField(
        required=False, choices=[("", "any")] + [(c.value, c.label) for c in Category]
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "any")] + [(s.value, s.label) for s in Status] + [("none", "no result")],
    )
    owner = forms.CharField(required=False, max_length=200)
    automated = forms.ChoiceField(
        required=False, choices=[("", "any"), ("yes", "automated"), ("no", "manual")]
    )
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS])


def _filtered(
    rows: tuple[history.ControlRow, ...], chosen: dict[str, str]
) -> list[history.ControlRow]:
    kept = list(rows)
    if chosen.get("category"):
        kept = [r for r in kept if Category(chosen["category"]) in r.categories]
    if status := chosen.get("status"):
        kept = [r for r in kept if (r.status.value if r.status else "none") == status]
    if owner := chosen.get("owner", "").strip().lower():
        kept = [r for r in kept if owner in r.owner.lower()]
    if automated := chosen.get("automated"):
        kept = [r for r in kept if r.automated == (automated == "yes")]
    return sorted(kept, key=SORTS[chosen.get("sort") or "id"])


@require_GET
def controls(request: HttpRequest) -> HttpResponse:
    form = ControlFilter(request.GET)
    chosen = form.cleaned_data if form.is_valid() else {}
    run = latest_run(request)
    rows = history.controls_in_run(programme(), run)
    return page(
        request,
        "web/controls.html",
        {
            "title": "Controls",
            "form": form,
            "rows": _filtered(rows, chosen),
            "total": len(rows),
            "run": run,
        },
    )


@require_GET
def control(request: HttpRequest, control_id: str) -> HttpResponse:
    served = programme()
    try:
        found = load_catalog().control(control_id)
    except InputError:
        raise Http404("no such control") from None
    if control_id != found.id:
        raise Http404("no such control")
    start, end = period_bounds(request)
    runs = history.runs_in_period(
        served, start.date() if start else None, end.date() if end else None
    )
    timeline = history.control_timeline(found.id, runs)
    windows = None
    if found in evidenced_controls(served):
        facts = [f for f in owner_evidence.submission_facts() if f.control == found.id]
        windows = statuses(served, facts, owner_evidence_views.today(), [found])
    current = next(iter(history.controls_in_run(served, latest_run(request), only=found.id)), None)
    catalog = load_catalog()
    return page(
        request,
        "web/control.html",
        {
            "title": f"{found.id} {found.title}",
            "control": found,
            "row": current,
            "override": served.controls.get(found.id),
            "tsc": [(m, catalog.criterion(m.target)) for m in found.tsc],
            "csf": found.csf,
            "timeline": list(reversed(timeline.runs)),
            "windows": windows,
        },
    )
