"""The identities pages (being built)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from assay.web.views._common import page


def identities(request: HttpRequest, **_: Any) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": "identities"})


def person(request: HttpRequest, **_: Any) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": "person"})


def system_population(request: HttpRequest, **_: Any) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": "system_population"})


def privileged(request: HttpRequest, **_: Any) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": "privileged"})


def nonhuman(request: HttpRequest, **_: Any) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": "nonhuman"})


def leavers(request: HttpRequest, **_: Any) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": "leavers"})
