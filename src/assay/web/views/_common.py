"""What every view needs: the programme served, the runs the viewer may see, rendering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assay.monitor.models import Run
from assay.programme.model import Programme
from assay.web import accounts, context, roles
from assay.web.roles import Role


def programme() -> Programme:
    return context.programme()


def role(request: HttpRequest) -> Role | None:
    return accounts.role_of(request.user)


def person(request: HttpRequest) -> str:
    """The signed-in person's address as every record of what they do spells it: lower case,
    as the programme file and the command line write addresses."""
    from assay.web import audit

    return audit.actor_of(request).lower()


def may_open(request: HttpRequest, url_name: str) -> bool:
    """Whether the viewer's role may open ``url_name``: a page offers only the links and forms
    that would work for them."""
    return roles.allows(url_name, role(request), signed_in=request.user.is_authenticated)


def period_bounds(request: HttpRequest) -> tuple[datetime | None, datetime | None]:
    """The auditor sees only the audit period (both days whole); everyone else sees it all."""
    if role(request) is not Role.AUDITOR:
        return None, None
    period = programme().audit.period
    from datetime import UTC

    return (
        datetime.combine(period.start, time.min, tzinfo=UTC),
        datetime.combine(period.end, time.max, tzinfo=UTC),
    )


def visible_runs(request: HttpRequest) -> QuerySet[Run]:
    """Runs the viewer may see, newest first."""
    start, end = period_bounds(request)
    runs = Run.objects.all()
    if start is not None and end is not None:
        runs = runs.filter(started_at__gte=start, started_at__lte=end)
    return runs


def latest_run(request: HttpRequest) -> int | None:
    """The newest completed run the viewer may see."""
    return (
        visible_runs(request)
        .filter(status=Run.Status.COMPLETED)
        .values_list("pk", flat=True)
        .first()
    )


def may_see_run(request: HttpRequest, run: int) -> bool:
    return visible_runs(request).filter(pk=run).exists()


def no_run(request: HttpRequest) -> str:
    """Why there is no run to answer from, for a viewer ``latest_run`` gave nothing."""
    if Run.objects.filter(status=Run.Status.COMPLETED).exists():
        return "no completed run falls inside the audit period, so there is nothing to show"
    return "no run has completed yet: run 'assay run' first"


def page(
    request: HttpRequest, template: str, values: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    return render(request, template, {"programme": programme(), **values}, status=status)


def not_found(request: HttpRequest, why: str) -> HttpResponse:
    """A 404 that says what was not found."""
    return page(request, "web/refused.html", {"status": 404, "why": why}, status=404)


PAGE_SIZE = 100
"""Rows per page of a long list: the benchmark organisation has 10,000 people."""


@dataclass(frozen=True)
class Pager:
    """One page of a long list, and the query string (without ``page``) its links keep."""

    page: Page[Any]
    prefix: str
    """``?`` plus the request's other parameters, ready for ``page=N``."""


def paginated(request: HttpRequest, rows: Sequence[Any], per_page: int = PAGE_SIZE) -> Pager:
    others = request.GET.copy()
    others.pop("page", None)
    query = others.urlencode()
    return Pager(
        Paginator(rows, per_page).get_page(request.GET.get("page")),
        f"?{query}&" if query else "?",
    )
