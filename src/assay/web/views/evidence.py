"""The evidence pages (being built)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from assay.web.views._common import page


def evidence(request: HttpRequest, **_: Any) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": "evidence"})


def checkpoints(request: HttpRequest, **_: Any) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": "checkpoints"})


def statement(request: HttpRequest, **_: Any) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": "statement"})


def statement_blob(request: HttpRequest, **_: Any) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": "statement_blob"})


def statement_proof(request: HttpRequest, **_: Any) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": "statement_proof"})
