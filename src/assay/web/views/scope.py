"""The scope page: the audit boundary as ``assay.yaml`` declares it, what the latest run read
from each system, the vendors, and the scope lint's notes.

Connector settings are shown to those who configure the programme (admin, programme owner),
never to the auditor: they hold no secrets, only the names of environment variables, but they
describe how Assay reaches each system.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from assay.catalog import load_catalog
from assay.inventory.models import InventorySystem
from assay.programme.lint import lint
from assay.programme.model import System
from assay.registers import service
from assay.registers.kinds import KINDS, VendorReview
from assay.web.roles import Role
from assay.web.views._common import page, programme, role, visible_runs

SEES_SETTINGS = frozenset({Role.ADMIN, Role.PROGRAMME_OWNER})


def _row(system: System, collected: InventorySystem | None) -> dict[str, Any]:
    """One system's line; mappings as lists, since a template would read a key named ``items``
    as the key, not the mapping's items."""
    connector = system.connector
    return {
        "system": system,
        "collected": collected,
        "counts": sorted(collected.counts.items()) if collected else [],
        "settings": sorted(connector.settings.items()) if connector else [],
        "secrets": sorted(connector.secrets.items()) if connector else [],
    }


@require_GET
def scope(request: HttpRequest) -> HttpResponse:
    served = programme()
    collected = {
        row.system_id: row
        for row in InventorySystem.objects.filter(run__in=visible_runs(request)).select_related(
            "run"
        )
    }
    # What we hold of each vendor's assurance report is kept in the vendor register.
    reviews = {
        review.vendor: review
        for review in service.records_of(KINDS["vendors"])
        if isinstance(review, VendorReview)
    }
    return page(
        request,
        "web/scope.html",
        {
            "title": "Scope",
            "systems": [_row(system, collected.get(system.id)) for system in served.systems],
            "vendors": [(vendor, reviews.get(vendor.name)) for vendor in served.vendors],
            "notes": lint(served, load_catalog(), date.today()),
            "settings_shown": role(request) in SEES_SETTINGS,
        },
    )
