"""Database index of what the locker holds: the blobs themselves live in the locker."""

from __future__ import annotations

from django.db import models

from assay.monitor.models import Run


class EvidenceItem(models.Model):
    """A stored piece of evidence: a content-addressed blob plus its collection manifest."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=32)
    subject = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    manifest_sha256 = models.CharField(max_length=64)
    manifest = models.JSONField()
    collected_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} {self.sha256[:12]}"
