"""The navigation: only the pages the signed-in person's role may open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from assay.web import accounts, roles

SECTIONS = (
    ("dashboard", "Dashboard"),
    ("controls", "Controls"),
    ("scope", "Scope"),
    ("evidence", "Evidence"),
    ("identities", "Identities"),
    ("findings", "Findings"),
    ("evidence_requests", "Evidence requests"),
    ("registers", "Registers"),
    ("policies", "Policies"),
    ("users", "Users"),
)


def _sections(request: HttpRequest) -> list[tuple[str, str]]:
    user = getattr(request, "user", None)
    role = accounts.role_of(user)
    signed_in = bool(user is not None and user.is_authenticated)
    return [
        (name, label) for name, label in SECTIONS if roles.allows(name, role, signed_in=signed_in)
    ]


def home(request: HttpRequest) -> str:
    """Where a person starts: the first section they may open (an employee has no dashboard,
    only the policies), else their profile."""
    sections = _sections(request)
    return reverse(sections[0][0] if sections else "profile")


def context(request: HttpRequest) -> dict[str, Any]:
    role = accounts.role_of(getattr(request, "user", None))
    match = getattr(request, "resolver_match", None)
    here = match.url_name if match is not None else ""
    return {
        "role": role,
        "navigation": [
            {"name": name, "label": label, "current": here == name}
            for name, label in _sections(request)
        ],
    }
