"""The HTTP API under /api/v1/: the same reads as the pages, described at /api/v1/openapi.json.

Who may call each operation is decided like every page, in ``roles.POLICY`` (``api:<name>``).
A request signs in with a session or ``Authorization: Bearer <token>`` (``web.middleware``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI, Schema

from assay.web import roles

api = NinjaAPI(
    title="Assay",
    version="1",
    urls_namespace="api",
    docs_url=None,
    openapi_url="/openapi.json",
    description="Read the programme: controls, scope, evidence, identities and findings.",
)
roles.POLICY["api:openapi-json"] = roles.PROGRAMME


class Health(Schema):
    status: str


@api.get("/health", response=Health, url_name="health", operation_id="health")
def health(request: HttpRequest) -> dict[str, Any]:
    return {"status": "ok"}


roles.POLICY["api:health"] = roles.EVERYONE
