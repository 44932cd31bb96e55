"""Database index of what the locker holds. The evidence itself lives in the locker; these rows
say which statement belongs to which run, and remember every checkpoint so that a checkpoint
deleted from the locker is noticed."""

from __future__ import annotations

from django.db import models

from assay.evidence import locker
from assay.monitor.models import Run


class EvidenceItem(models.Model):
    """One statement in the log: a piece of evidence a run stored."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=32)
    subject = models.TextField()
    """A payload's name within its snapshot, which may hold a source's identifiers of any length."""
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    statement_id = models.CharField(max_length=64, unique=True)
    leaf_index = models.BigIntegerField(unique=True)
    collected_at = models.DateTimeField()

    class Meta:
        ordering = ["leaf_index"]
        # A run's snapshots (about one in a thousand of its items) are read by the web pages
        # and the identity graph's replay without scanning the run's every payload; the
        # statement of a finding's evidence is looked up by run and sha-256.
        indexes = [
            models.Index(fields=["run", "kind"], name="evidence_run_kind"),
            models.Index(fields=["run", "sha256"], name="evidence_run_sha256"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} {self.sha256[:12]}"


class Checkpoint(models.Model):
    """A signed tree head, as written to the locker."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, null=True, related_name="checkpoints")
    seq = models.BigIntegerField(unique=True)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    root = models.CharField(max_length=64)
    time = models.DateTimeField()
    key_id = models.CharField(max_length=32)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint {self.seq} (size {self.size})"

    @classmethod
    def record(cls, made: locker.Checkpoint, run: Run | None = None) -> Checkpoint:
        """Remember a checkpoint the locker just wrote."""
        return cls.objects.create(
            run=run,
            seq=made.seq,
            sha256=made.sha256,
            size=made.size,
            root=made.root,
            time=made.time,
            key_id=made.key_id,
        )


class Verification(models.Model):
    """One ``assay verify`` of the locker, passed or failed: what the web app shows as the
    locker's last check, so nobody has to take a page's word that the evidence verifies."""

    at = models.DateTimeField()
    passed = models.BooleanField()
    summary = models.TextField()
    """The line verify printed: its counts when it passed, the first failure when it did not."""
    statements = models.BigIntegerField(null=True)
    """Statements and checkpoints checked; unknown (None) when verification stopped early."""
    checkpoints = models.BigIntegerField(null=True)
    latest_seq = models.BigIntegerField(null=True)
    latest_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"verify at {self.at:%Y-%m-%d %H:%M} ({'passed' if self.passed else 'failed'})"
