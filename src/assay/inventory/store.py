"""Replace the current inventory in the database with what a run saw."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

from assay._internal.rows import insert_rows
from assay.connectors.base import Collected
from assay.inventory.correlation import Link
from assay.inventory.models import (
    InventoryAccount,
    InventoryCredential,
    InventoryPerson,
    InventorySystem,
)
from assay.inventory.records import Account, Credential, Person, Records
from assay.monitor.models import Run


def replace_current(
    run: Run,
    snapshots: Sequence[tuple[Collected, str]],
    people: Iterable[Person],
    links: Iterable[Link],
) -> None:
    """Delete the previous inventory and write this run's: each collection with the sha-256 of
    its manifest in the locker. The caller holds the transaction."""
    for model in (InventoryCredential, InventoryAccount, InventoryPerson, InventorySystem):
        model.objects.all().delete()
    shas = {collected.system_id: sha for collected, sha in snapshots}
    insert_rows(
        InventorySystem,
        (
            {
                "run_id": run.pk,
                "system_id": c.system_id,
                "connector": c.connector,
                "mode": c.mode,
                "complete": c.complete,
                "incomplete_reason": c.incomplete_reason,
                "collected_at": c.finished_at,
                "evidence_sha256": sha,
                "warnings": list(c.records.warnings),
                "counts": _counts(c.records),
            }
            for c, sha in snapshots
        ),
    )
    insert_rows(InventoryPerson, ({"run_id": run.pk, **_values(p)} for p in people))
    insert_rows(
        InventoryAccount,
        (
            {
                "run_id": run.pk,
                "evidence_sha256": shas[link.account.system_id],
                "person_email": link.person.email if link.person else None,
                "linked_by": link.method,
                "service": link.service,
                **_values(link.account),
            }
            for link in links
        ),
    )
    insert_rows(
        InventoryCredential,
        (
            {"run_id": run.pk, "evidence_sha256": sha, **_values(credential)}
            for c, sha in snapshots
            for credential in c.records.credentials
        ),
    )


def _counts(records: Records) -> dict[str, int]:
    return {
        "people": len(records.people),
        "accounts": len(records.accounts),
        "credentials": len(records.credentials),
        "entitlements": len(records.entitlements),
        "grants": len(records.grants),
        "applications": len(records.applications),
    }


def _values(record: Person | Account | Credential) -> dict[str, Any]:
    """A record's fields as column values: enums by their value, tuples as lists."""
    values: dict[str, Any] = {}
    for name in record.__slots__:
        value = getattr(record, name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Enum):
            value = value.value
        values[name] = value
    return values
