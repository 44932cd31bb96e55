"""The current identity inventory: people, accounts and credentials as the latest completed run
saw them, with the evidence each came from.

Only the latest run's inventory is kept here, replaced whole by each run; every earlier one can
be rebuilt from the locker (``inventory.replay``). Entitlements and grants stay in the locker's
snapshots too: there can be millions of them, and the database holds what people browse and
review, not every edge of the graph.
"""

from __future__ import annotations

from django.db import models

from assay.monitor.models import Run


class InventorySystem(models.Model):
    """One collected system: how its population was read and how large it was."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    system_id = models.CharField(max_length=64, unique=True)
    connector = models.CharField(max_length=64)
    mode = models.CharField(max_length=16)
    complete = models.BooleanField()
    incomplete_reason = models.TextField(null=True)
    collected_at = models.DateTimeField()
    counts = models.JSONField(default=dict)
    """Records by kind: people, accounts, credentials, entitlements, grants, applications."""
    warnings = models.JSONField(default=list)
    evidence_sha256 = models.CharField(max_length=64)
    """The snapshot's manifest in the locker."""

    class Meta:
        ordering = ["system_id"]


class InventoryPerson(models.Model):
    """A row of the roster. Text a source supplies is stored at whatever length it came."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    employee_id = models.TextField(unique=True)
    email = models.TextField(db_index=True)
    name = models.TextField()
    manager_email = models.TextField(null=True)
    department = models.TextField()
    title = models.TextField()
    employment_type = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    start_date = models.DateField()
    end_date = models.DateField(null=True)

    class Meta:
        ordering = ["email"]


class InventoryAccount(models.Model):
    """An account, the person it was linked to (if any) and how."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    system_id = models.CharField(max_length=64)
    account_id = models.TextField()
    username = models.TextField()
    email = models.TextField(null=True)
    name = models.TextField(null=True)
    employee_id = models.TextField(null=True)
    kind = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    mfa_registered = models.CharField(max_length=8)
    mfa_enforced = models.CharField(max_length=8)
    privileged = models.CharField(max_length=8)
    last_login = models.DateTimeField(null=True)
    last_login_source = models.CharField(max_length=100, null=True)
    owner = models.TextField(null=True)
    owner_unknown = models.BooleanField(default=False)
    root = models.BooleanField(default=False)
    deactivated_at = models.DateTimeField(null=True)
    shared_by = models.JSONField(default=list)
    person_email = models.TextField(null=True, db_index=True)
    linked_by = models.TextField()
    """How it was linked: employee id, email, username rule, alias (with who and why), none."""
    service = models.BooleanField(default=False)
    """Declared a service account in the programme file."""
    evidence_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["system_id", "account_id"]
        constraints = [
            models.UniqueConstraint(fields=["system_id", "account_id"], name="one_account_row")
        ]


class InventoryCredential(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    system_id = models.CharField(max_length=64)
    credential_id = models.TextField()
    kind = models.CharField(max_length=64)
    account_id = models.TextField()
    active = models.BooleanField()
    created = models.DateTimeField(null=True)
    last_rotated = models.DateTimeField(null=True)
    last_used = models.DateTimeField(null=True)
    last_used_source = models.CharField(max_length=100, null=True)
    expires_at = models.DateTimeField(null=True)
    expiry = models.CharField(max_length=8)
    owner = models.TextField(null=True)
    owner_unknown = models.BooleanField(default=False)
    third_party = models.TextField(null=True)
    broad = models.CharField(max_length=8)
    scopes = models.JSONField(default=list)
    evidence_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["system_id", "credential_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["system_id", "credential_id"], name="one_credential_row"
            )
        ]
