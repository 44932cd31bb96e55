"""The registers' current state; every change behind it is a statement in the locker."""

from __future__ import annotations

from django.db import models


class Record(models.Model):
    """The current version of one register record, and the statement that made it so."""

    kind = models.CharField(max_length=32)
    key = models.CharField(max_length=200)
    document = models.JSONField()
    """The record as its kind's model writes it (``model_dump(mode="json")``)."""
    version = models.PositiveIntegerField()
    """1 when created; each edit adds one."""
    statement_id = models.CharField(max_length=64)
    changed_at = models.DateTimeField()
    changed_by = models.CharField(max_length=254)

    class Meta:
        ordering = ["kind", "key"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="one_record_per_key")]


class Change(models.Model):
    """One change to a register record, as its statement in the locker records it."""

    kind = models.CharField(max_length=32)
    key = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    action = models.CharField(max_length=32)
    reason = models.TextField(blank=True)
    author = models.CharField(max_length=254)
    at = models.DateTimeField()
    statement_id = models.CharField(max_length=64)
    document = models.JSONField()

    class Meta:
        ordering = ["kind", "key", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key", "version"], name="one_change_per_version"
            )
        ]


class Submission(models.Model):
    """Evidence a control's owner submitted for one window, and the decision on it."""

    class State(models.TextChoices):
        PENDING = "pending", "awaiting review"
        ACCEPTED = "accepted", "accepted"
        RETURNED = "returned", "sent back"

    control_id = models.CharField(max_length=32)
    window = models.CharField(max_length=32)
    note = models.TextField()
    files = models.JSONField(default=list)
    """[{name, sha256, size, statement_id}] for each file, in the order given."""
    submitted_by = models.CharField(max_length=254)
    submitted_at = models.DateTimeField()
    statement_id = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    decided_by = models.CharField(max_length=254, blank=True)
    decided_at = models.DateTimeField(null=True)
    reason = models.TextField(blank=True)
    decision_statement_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["control_id", "window", "submitted_at", "id"]
        indexes = [models.Index(fields=["control_id", "window"], name="submission_window")]
