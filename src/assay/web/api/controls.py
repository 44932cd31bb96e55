"""Controls: each control's status in a run, and one control where it lives — its mappings to
the Trust Services Criteria and CSF 2.0 with the rationale, and its results run by run."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Schema

from assay.catalog import Catalog, Category, Control, Mapping, load_catalog
from assay.checks.base import Status
from assay.checks.models import CheckResult, ControlResult
from assay.errors import InputError
from assay.web.api._base import RunId, completed_run, not_found, read
from assay.web.roles import PROGRAMME
from assay.web.views._common import programme, visible_runs


def categories_of(catalog: Catalog, control: Control) -> list[Category]:
    """The Trust Services categories of the criteria a control maps to, in the catalog's order."""
    mapped = {catalog.criterion(link.target).category for link in control.tsc}
    return [category for category in Category if category in mapped]


def _frequency(control: Control) -> str:
    override = programme().controls.get(control.id)
    return str(override.frequency if override and override.frequency else control.frequency)


class ControlRow(Schema):
    id: str
    title: str
    status: Status
    owner: str
    categories: list[Category]
    automated: bool
    frequency: str
    reason: str


class ControlsOut(Schema):
    run: int
    items: list[ControlRow]


class ControlFilters(Schema):
    run: RunId | None = None
    """Default: the latest completed run."""
    category: Category | None = None
    status: Status | None = None
    owner: str | None = None
    automated: bool | None = None


@read("/controls", name="controls", allowed=PROGRAMME, response=ControlsOut, tag="controls")
def controls(request: HttpRequest, filters: Query[ControlFilters]) -> dict[str, Any]:
    """Each control's status in a run, filtered by category, status, owner or automation."""
    catalog = load_catalog()
    run = completed_run(request, filters.run)
    rows = []
    for result in ControlResult.objects.filter(run=run):
        control = catalog.control(result.control_id)
        categories = categories_of(catalog, control)
        if not (
            (filters.category is None or filters.category in categories)
            and (filters.status is None or filters.status == result.status)
            and (filters.owner is None or filters.owner == result.owner)
            and (filters.automated is None or filters.automated != control.manual)
        ):
            continue
        rows.append(
            {
                "id": control.id,
                "title": control.title,
                "status": result.status,
                "owner": result.owner,
                "categories": categories,
                "automated": not control.manual,
                "frequency": _frequency(control),
                "reason": result.reason,
            }
        )
    return {"run": run.pk, "items": rows}


class MappingOut(Schema):
    target: str
    title: str
    relationship: str
    """NIST OLIR: the control is <relationship> the target."""
    rationale: str


class CheckOut(Schema):
    check: str
    status: Status
    summary: str
    evidence: list[str]
    """sha-256 of every snapshot the check read."""


class ResultOut(Schema):
    run: int
    started_at: datetime
    status: Status
    owner: str
    reason: str
    checks: list[CheckOut]


class Exclusion(Schema):
    justification: str
    expires: date


class ControlOut(Schema):
    id: str
    title: str
    description: str
    owner_role: str
    frequency: str
    categories: list[Category]
    automated: bool
    checks: list[str]
    evidence: list[str]
    """What the control needs as evidence."""
    tsc: list[MappingOut]
    csf: list[MappingOut]
    exclusion: Exclusion | None
    results: list[ResultOut]
    """Newest first, over the runs the viewer may see."""


def _mappings(links: tuple[Mapping, ...], titles: dict[str, str]) -> list[dict[str, str]]:
    return [
        {
            "target": link.target,
            "title": titles.get(link.target, ""),
            "relationship": link.relationship.value,
            "rationale": link.rationale,
        }
        for link in links
    ]


@read(
    "/controls/{control_id}", name="control", allowed=PROGRAMME, response=ControlOut, tag="controls"
)
def control(request: HttpRequest, control_id: str) -> dict[str, Any]:
    """One control: what it is, how it maps, and its results over the visible runs."""
    catalog = load_catalog()
    try:
        found = catalog.control(control_id)
    except InputError:
        raise not_found(f"control {control_id}") from None
    runs = visible_runs(request)
    checks: dict[int, list[dict[str, Any]]] = {}
    for check in CheckResult.objects.filter(run__in=runs, check_id__in=found.checks):
        checks.setdefault(check.run_id, []).append(
            {
                "check": check.check_id,
                "status": check.status,
                "summary": check.summary,
                "evidence": list(check.evidence),
            }
        )
    results = [
        {
            "run": result.run_id,
            "started_at": result.run.started_at,
            "status": result.status,
            "owner": result.owner,
            "reason": result.reason,
            "checks": checks.get(result.run_id, []),
        }
        for result in ControlResult.objects.filter(run__in=runs, control_id=found.id)
        .select_related("run")
        .order_by("-run__started_at", "-run_id")
    ]
    override = programme().controls.get(found.id)
    excluded = override.exclude if override is not None else None
    return {
        "id": found.id,
        "title": found.title,
        "description": found.description,
        "owner_role": found.owner_role,
        "frequency": _frequency(found),
        "categories": categories_of(catalog, found),
        "automated": not found.manual,
        "checks": list(found.checks),
        "evidence": list(found.evidence),
        "tsc": _mappings(found.tsc, {c.id: c.title for c in catalog.criteria}),
        "csf": _mappings(found.csf, {s.id: s.title for s in catalog.csf_subcategories}),
        "exclusion": None
        if excluded is None
        else {"justification": excluded.justification, "expires": excluded.expires},
        "results": results,
    }
