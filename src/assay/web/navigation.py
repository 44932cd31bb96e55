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
    role = accounts.role_of(getattr(request, "user", None))
    match = getattr(request, "resolver_match", None)
    here = match.url_name if match is not None else ""
    return {
        "role": role,
        "navigation": [
            {"name": name, "label": label, "current": here == name}
            for name, label in SECTIONS
            if roles.allows(name, role)
        ],
        "signed_in": role is not None
        or (getattr(request, "user", None) is not None and request.user.is_authenticated),
    }
