"""The dashboard: readiness per category, control status over the audit period's runs, open
findings by rule and system, and what changed since the previous run."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from assay.checks.base import Status
from assay.monitor import history
from assay.web import charts
from assay.web.views._common import latest_run, page, period_bounds, programme

CHART_RUNS = 60
"""The chart and its table show the latest runs of the period, at most this many."""


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    served = programme()
    runs = history.runs_in_period(served)
    shown = history.status_over_runs(runs[-CHART_RUNS:])
    drawn = [point for point in shown if point.counts is not None]
    chart = (
        charts.status_over_runs(
            [f"run {point.run.id}" for point in drawn], [point.counts or {} for point in drawn]
        )
        if drawn
        else None
    )
    latest = latest_run(request)
    changes = history.changes_since_previous(served, latest) if latest is not None else None
    start, _ = period_bounds(request)
    previous_hidden = bool(
        changes is not None
        and changes.previous is not None
        and start is not None
        and changes.previous.started_at < start
    )
    return page(
        request,
        "web/dashboard.html",
        {
            "title": "Dashboard",
            "statuses": list(Status),
            "latest": latest,
            "readiness": history.readiness_by_category(served, latest) if latest else (),
            "chart": chart,
            "points": shown,
            "runs_in_period": len(runs),
            "findings": history.open_findings_by(latest) if latest else None,
            "changes": changes,
            "previous_hidden": previous_hidden,
        },
    )
