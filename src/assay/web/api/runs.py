"""Runs: each execution of ``assay run``, with its outcome and times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Schema

from assay.web.api._base import Page, Paging, page_of, read
from assay.web.roles import PROGRAMME
from assay.web.views._common import visible_runs


class RunOut(Schema):
    id: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    error: str
    """Why a failed run failed: one line, secrets masked when it was recorded."""


class RunsPage(Page):
    items: list[RunOut]


@read("/runs", name="runs", allowed=PROGRAMME, response=RunsPage, tag="runs")
def runs(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    """Runs newest first; the auditor's only within the audit period."""
    fields, shown = page_of(visible_runs(request), paging)
    return {**fields, "items": [_run(run) for run in shown]}


def _run(run: Any) -> dict[str, Any]:
    return {
        "id": run.pk,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "error": run.error,
    }
