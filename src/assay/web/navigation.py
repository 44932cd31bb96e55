"""The navigation: only the pages the signed-in person's role may open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from assay.web import accounts, roles

SECTIONS = (
    ("dashboard", "Dashboard"),
    ("controls", "Controls"),
    ("scope", "Scope"),
    ("evidence", "Evidence"),
    ("identities", "Identities"),
    ("findings", "Findings"),
    ("users", "Users"),
)


def context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    role = accounts.role_of(user)
    signed_in = bool(user is not None and user.is_authenticated)
    match = getattr(request, "resolver_match", None)
    here = match.url_name if match is not None else ""
    return {
        "role": role,
        "navigation": [
            {"name": name, "label": label, "current": here == name}
            for name, label in SECTIONS
            if roles.allows(name, role, signed_in=signed_in)
        ],
    }
