"""Scope: the systems with their in/out decision, their last collection and whether it was
complete; the vendors; the scope lint's notes. Connector settings and secrets are never shown:
only which connector collects a system, and in which mode."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Schema

from assay.catalog import load_catalog
from assay.errors import AssayError
from assay.evidence import service
from assay.evidence.models import EvidenceItem
from assay.programme.lint import lint
from assay.programme.model import Programme
from assay.web.api._base import read
from assay.web.roles import PROGRAMME
from assay.web.views._common import programme, visible_runs


class ConnectorOut(Schema):
    type: str
    mode: str


class CollectionOut(Schema):
    run: int
    collected_at: datetime
    manifest_sha256: str
    complete: bool | None
    """None: the manifest could not be read back from the locker, so completeness is unknown."""
    incomplete_reason: str | None


class SystemOut(Schema):
    id: str
    name: str
    kind: str
    owner: str | None
    in_scope: bool
    reason: str
    customer_data: bool
    connector: ConnectorOut | None
    last_collection: CollectionOut | None
    """The latest snapshot among the runs the viewer may see; None if there is none."""


class VendorOut(Schema):
    name: str
    services: list[str]
    customer_data: bool
    criticality: str
    owner: str | None


class NoteOut(Schema):
    rule: str
    subject: str
    message: str


class ScopeOut(Schema):
    systems: list[SystemOut]
    vendors: list[VendorOut]
    notes: list[NoteOut]


def _collections(request: HttpRequest, served: Programme) -> dict[str, dict[str, Any]]:
    """System id → its latest visible snapshot, with completeness read from its manifest."""
    wanted = {system.id for system in served.systems}
    latest: dict[str, EvidenceItem] = {}
    snapshots = EvidenceItem.objects.filter(kind="snapshot", run__in=visible_runs(request))
    for item in snapshots.filter(subject__in=wanted).order_by("-leaf_index").iterator():
        latest.setdefault(item.subject, item)
        if len(latest) == len(wanted):
            break
    try:
        blobs = service.open_locker(served).blobs({item.sha256 for item in latest.values()})
        manifests = {sha: json.loads(data) for sha, data in blobs.items()}
    except (AssayError, OSError, ValueError):
        manifests = {}
    found = {}
    for system_id, item in latest.items():
        manifest = manifests.get(item.sha256, {})
        found[system_id] = {
            "run": item.run_id,
            "collected_at": item.collected_at,
            "manifest_sha256": item.sha256,
            "complete": manifest.get("complete"),
            "incomplete_reason": manifest.get("incomplete_reason"),
        }
    return found


@read("/scope", name="scope", allowed=PROGRAMME, response=ScopeOut, tag="scope", can_fail=False)
def scope(request: HttpRequest) -> dict[str, Any]:
    served = programme()
    collections = _collections(request, served)
    systems = [
        {
            "id": system.id,
            "name": system.name,
            "kind": system.kind.value,
            "owner": system.owner,
            "in_scope": system.in_scope,
            "reason": system.reason,
            "customer_data": system.customer_data,
            "connector": None
            if system.connector is None
            else {"type": system.connector.type.value, "mode": system.connector.mode.value},
            "last_collection": collections.get(system.id),
        }
        for system in served.systems
    ]
    vendors = [
        {
            "name": vendor.name,
            "services": list(vendor.services),
            "customer_data": vendor.customer_data,
            "criticality": vendor.criticality.value,
            "owner": vendor.owner,
        }
        for vendor in served.vendors
    ]
    notes = [
        {"rule": note.rule, "subject": note.subject, "message": note.message}
        for note in lint(served, load_catalog(), date.today())
    ]
    return {"systems": systems, "vendors": vendors, "notes": notes}
