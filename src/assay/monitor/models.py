"""One row per execution of ``assay run``."""

from __future__ import annotations

from django.db import models


class Run(models.Model):
    """A run either completes with all its results, or is recorded as failed with none."""

    class Status(models.TextChoices):
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    error = models.TextField(blank=True)
    programme_sha256 = models.CharField(max_length=64)
    organisation = models.CharField(max_length=200)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"
