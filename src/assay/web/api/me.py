"""Who is calling: their role, and the token they call with, if any."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Schema

from assay.web import accounts
from assay.web.api._base import read
from assay.web.middleware import presented_token
from assay.web.roles import EVERYONE


class Health(Schema):
    status: str


@read("/health", name="health", allowed=EVERYONE, response=Health, tag="me", can_fail=False)
def health(request: HttpRequest) -> dict[str, Any]:
    return {"status": "ok"}


class TokenOut(Schema):
    prefix: str
    """The token's first characters, as ``assay tokens list`` shows them: never the token."""
    expires_at: datetime
    read_only: bool


class MeOut(Schema):
    email: str
    role: str
    token: TokenOut | None
    """The token this request was sent with; none for a signed-in session."""


@read("/me", name="me", allowed=EVERYONE, response=MeOut, tag="me", can_fail=False)
def me(request: HttpRequest) -> dict[str, Any]:
    token = presented_token(request)
    role = accounts.role_of(request.user)
    return {
        "email": str(getattr(request.user, "email", "")),
        "role": role.value if role is not None else "",
        "token": None
        if token is None
        else {"prefix": token.prefix, "expires_at": token.expires_at, "read_only": token.read_only},
    }
