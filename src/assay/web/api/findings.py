"""Findings of a run, and what its checks could not judge (so 'not tested' says what to fix)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Schema

from assay.catalog import load_catalog
from assay.checks.models import RecordedFinding, UnjudgedItem
from assay.web.api._base import Name, Page, Paging, RunId, completed_run, filtered, page_of, read
from assay.web.roles import PROGRAMME


class FindingOut(Schema):
    id: int
    run: int
    check: str
    rule: str
    system: str
    subject: str
    detail: str
    evidence_sha256: str
    controls: list[str]
    """The controls the finding's check tests."""


class FindingsPage(Page):
    run: int
    items: list[FindingOut]


class FindingFilters(Paging):
    run: RunId | None = None
    """Default: the latest completed run."""
    check: Name | None = None
    rule: Name | None = None
    system: Name | None = None


@read("/findings", name="findings", allowed=PROGRAMME, response=FindingsPage, tag="findings")
def findings(request: HttpRequest, filters: Query[FindingFilters]) -> dict[str, Any]:
    run = completed_run(request, filters.run)
    rows = filtered(
        RecordedFinding.objects.filter(run=run),
        check_id=filters.check,
        rule=filters.rule,
        system_id=filters.system,
    )
    fields, shown = page_of(rows, filters)
    items = [
        {
            "id": row.pk,
            "run": run.pk,
            "check": row.check_id,
            "rule": row.rule,
            "system": row.system_id,
            "subject": row.subject,
            "detail": row.detail,
            "evidence_sha256": row.evidence_sha256,
            "controls": list(load_catalog().controls_tested_by(row.check_id)),
        }
        for row in shown
    ]
    return {**fields, "run": run.pk, "items": items}


class UnjudgedOut(Schema):
    id: int
    run: int
    check: str
    system: str
    subject: str | None
    """None: the whole system could not be judged (an incomplete or stale population)."""
    reason: str


class UnjudgedPage(Page):
    run: int
    items: list[UnjudgedOut]


class UnjudgedFilters(Paging):
    run: RunId | None = None
    check: Name | None = None
    system: Name | None = None


@read("/unjudged", name="unjudged", allowed=PROGRAMME, response=UnjudgedPage, tag="findings")
def unjudged(request: HttpRequest, filters: Query[UnjudgedFilters]) -> dict[str, Any]:
    run = completed_run(request, filters.run)
    rows = filtered(
        UnjudgedItem.objects.filter(run=run), check_id=filters.check, system_id=filters.system
    )
    fields, shown = page_of(rows, filters)
    items = [
        {
            "id": row.pk,
            "run": run.pk,
            "check": row.check_id,
            "system": row.system_id,
            "subject": row.subject or None,
            "reason": row.reason,
        }
        for row in shown
    ]
    return {**fields, "run": run.pk, "items": items}
