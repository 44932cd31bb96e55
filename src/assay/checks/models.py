"""Results of a run: per check, per control, and the findings behind them."""

from __future__ import annotations

from django.db import models

from assay.checks.base import Status
from assay.monitor.models import Run

STATUS_CHOICES = [(status.value, status.label) for status in Status]


class CheckResult(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="check_results")
    check_id = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES)
    summary = models.TextField()
    evidence = models.JSONField(default=list)
    """sha-256 of every snapshot the check read."""

    class Meta:
        ordering = ["check_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "check_id"], name="one_result_per_check")
        ]


class ControlResult(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="control_results")
    control_id = models.CharField(max_length=32)
    owner = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES)
    reason = models.TextField()

    class Meta:
        ordering = ["control_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "control_id"], name="one_result_per_control")
        ]


class RecordedFinding(models.Model):
    """A finding as recorded for a run."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="findings")
    check_id = models.CharField(max_length=64)
    rule = models.CharField(max_length=64)
    system_id = models.CharField(max_length=64)
    subject = models.TextField()
    """As the source names it: no length is imposed on what a source may send."""
    detail = models.TextField()
    evidence_sha256 = models.CharField(max_length=64)
    controls = models.JSONField(default=list)
    """The controls it bears on, when narrower than every control its check tests."""
    excepted_by = models.CharField(max_length=64, blank=True, default="")
    """The exception in force that covers it; empty when none does."""

    class Meta:
        ordering = ["check_id", "system_id", "subject"]


class UnjudgedItem(models.Model):
    """What a check needed and could not judge in a run: an item on a system, or (``subject``
    empty) the whole system, with why. Listed so that 'not tested' says what to fix."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="unjudged")
    check_id = models.CharField(max_length=64)
    system_id = models.CharField(max_length=64)
    subject = models.TextField(blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["check_id", "system_id", "subject"]
