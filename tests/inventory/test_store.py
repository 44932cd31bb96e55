"""The current inventory in the database: written by each completed run, replacing the last."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.inventory.models import (
    InventoryAccount,
    InventoryCredential,
    InventoryPerson,
    InventorySystem,
)
from assay.monitor.run import execute
from assay.programme import load

pytestmark = [pytest.mark.db, pytest.mark.django_db]


def test_a_run_writes_the_current_inventory_and_the_next_replaces_it(sample: Path) -> None:
    programme = load(sample / "assay.yaml")
    first = execute(programme)
    people = InventoryPerson.objects.count()
    accounts = InventoryAccount.objects.count()
    assert people == 60
    assert accounts == sum(len(s.collected.records.accounts) for s in first.snapshots[1:])
    assert {s.system_id for s in InventorySystem.objects.all()} == {
        s.system_id for s in first.snapshots
    }

    grace = InventoryAccount.objects.get(system_id="github", account_id="grace-lindqvist")
    assert (grace.person_email, grace.linked_by, grace.status) == (
        "grace.lindqvist@acme.example",
        "username rule",
        "active",
    )
    alias = InventoryAccount.objects.get(system_id="github", account_id="ohx-dev")
    assert alias.linked_by.startswith("alias by ")
    orphan = InventoryAccount.objects.get(system_id="okta", username="temp.admin@acme.example")
    assert (orphan.person_email, orphan.linked_by) == (None, "none")
    deploy = InventoryAccount.objects.get(system_id="bastion", account_id="deploy")
    assert deploy.service and len(deploy.shared_by) == 2
    root = InventoryAccount.objects.get(system_id="aws", account_id="<root_account>")
    assert root.root and root.privileged == "yes"

    token = InventoryCredential.objects.get(credential_id="fine_grained_pat:8002")
    assert (token.expiry, token.expires_at, token.active) == ("no", None, True)
    app = InventoryCredential.objects.get(credential_id="app_installation:9002")
    assert (app.third_party, app.broad) == ("ci-insights", "yes")
    github = InventorySystem.objects.get(system_id="github")
    assert github.evidence_sha256 == next(
        s.sha256 for s in first.snapshots if s.system_id == "github"
    )
    assert grace.evidence_sha256 == github.evidence_sha256
    assert github.counts["accounts"] == InventoryAccount.objects.filter(system_id="github").count()

    second = execute(programme)
    assert InventoryAccount.objects.count() == accounts
    assert InventoryPerson.objects.count() == people
    assert set(InventoryAccount.objects.values_list("run_id", flat=True)) == {second.run_id}
