"""The HTTP API under /api/v1/: the same reads as the pages, described at /api/v1/openapi.json.

One module per section adds its operations with ``_base.read``, which also names who may call
each in ``roles.POLICY`` (``api:<name>``). A request signs in with a session or
``Authorization: Bearer <token>``; ``web.middleware.AccessPolicy`` decides before any operation
runs.
"""

from assay.web.api import (  # noqa: F401
    controls,
    evidence,
    findings,
    me,
    people,
    registers,
    runs,
    scope,
)
from assay.web.api._base import api, open_description

__all__ = ["api"]

open_description()
