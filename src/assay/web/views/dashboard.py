"""The dashboard pages (being built)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from assay.web.views._common import page


def dashboard(request: HttpRequest, **_: Any) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": "dashboard"})
