"""The server-drawn chart is kept per process by its numbers: the same numbers give the same
drawing, and any changed number or label draws anew."""

from __future__ import annotations

from assay.checks.base import Status
from assay.web import charts


def test_a_chart_is_drawn_anew_whenever_a_number_or_label_changes() -> None:
    labels = ["run 1", "run 2"]
    counts = [{Status.PASSING: 10, Status.FAILING: 2}, {Status.PASSING: 11, Status.FAILING: 1}]
    drawn = charts.status_over_runs(labels, counts)
    assert drawn.startswith("<svg")
    assert charts.status_over_runs(list(labels), [dict(c) for c in counts]) == drawn
    changed_count = [counts[0], {**counts[1], Status.NOT_TESTED: 1}]
    assert charts.status_over_runs(labels, changed_count) != drawn
    assert charts.status_over_runs(["run 1", "run 3"], counts) != drawn
