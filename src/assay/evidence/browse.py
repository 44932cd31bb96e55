"""Finding statements in the evidence index: by kind, system, time and run.

A snapshot's subject is its system's id and each of its payloads is ``<system>/<name>``
(``evidence.snapshots``); system ids never hold a ``/``, so the system is the part before it.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from assay.evidence.models import EvidenceItem
from assay.monitor.models import Run

SYSTEM_KINDS = ("snapshot", "payload")
"""The kinds whose subject names a system."""


def system_of(kind: str, subject: str) -> str | None:
    """The system a statement was collected from, or None for a statement about no system."""
    if kind == "snapshot":
        return subject
    if kind == "payload":
        return subject.partition("/")[0]
    return None


def items(
    runs: QuerySet[Run],
    *,
    kind: str | None = None,
    system: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    run: int | None = None,
) -> QuerySet[EvidenceItem]:
    """Statements of ``runs`` matching every filter given, newest first."""
    found = EvidenceItem.objects.filter(run__in=runs).select_related("run")
    if kind:
        found = found.filter(kind=kind)
    if system:
        found = found.filter(
            Q(kind="snapshot", subject=system) | Q(kind="payload", subject__startswith=f"{system}/")
        )
    if start is not None:
        found = found.filter(collected_at__gte=start)
    if end is not None:
        found = found.filter(collected_at__lte=end)
    if run is not None:
        found = found.filter(run_id=run)
    return found.order_by("-collected_at", "-leaf_index")


def kinds(runs: QuerySet[Run]) -> list[str]:
    """The kinds of statement these runs stored, for a filter's choices."""
    return sorted(
        set(EvidenceItem.objects.filter(run__in=runs).values_list("kind", flat=True).distinct())
    )
