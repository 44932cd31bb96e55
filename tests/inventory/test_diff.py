"""Grant changes between two identity graphs, with new privileged grants called out."""

from __future__ import annotations

from assay.inventory.diff import diff
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Entitlement,
    Grant,
    Records,
    Tri,
)
from assay.inventory.replay import Inventory


def graph(run: int, *grants: Grant) -> Inventory:
    accounts = (
        Account(
            "db",
            "alice",
            "alice",
            None,
            None,
            None,
            AccountKind.UNKNOWN,
            AccountStatus.ACTIVE,
            Tri.UNKNOWN,
            Tri.UNKNOWN,
            None,
            None,
        ),
    )
    entitlements = (
        Entitlement("db", "readers", "readers", "role", Tri.NO),
        Entitlement("db", "attribute:superuser", "superuser", "permission", Tri.YES),
    )
    return Inventory(
        run,
        (),
        (),
        {"db": Records(accounts=accounts, entitlements=entitlements, grants=tuple(grants))},
    )


def test_grants_added_removed_and_privileged() -> None:
    old = graph(1, Grant("db", "alice", "readers"))
    new = graph(2, Grant("db", "alice", "attribute:superuser", via="ops"))
    changes = [(c.kind, c.subject) for c in diff(old, new)]
    assert changes == [
        ("privileged_grant_added", "alice → superuser (via ops)"),
        ("grant_removed", "alice → readers"),
    ]
    assert diff(new, new) == []
