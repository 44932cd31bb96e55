"""The HTML readiness report of one run."""

from __future__ import annotations

from pathlib import Path

from django.template.loader import render_to_string

from assay._internal.text import inert
from assay.checks.base import Status
from assay.monitor.run import RunOutcome

_STATUS_ORDER = {Status.FAILING: 0, Status.NOT_TESTED: 1, Status.EXCEPTED: 2, Status.PASSING: 3}


def render(outcome: RunOutcome) -> str:
    programme = outcome.programme
    controls = sorted(outcome.controls, key=lambda v: (_STATUS_ORDER[v.status], v.control.id))
    return render_to_string(
        "assay/readiness.html",
        {
            "programme": programme,
            "as_of": outcome.as_of,
            "run_id": outcome.run_id,
            "statuses": [status.label for status in Status],
            "categories": [
                {"label": c.category.label, "counts": [c.counts[s] for s in Status]}
                for c in outcome.categories
            ],
            "checks": sorted(outcome.outcomes.items()),
            "findings": outcome.findings,
            "unjudged": [
                (check_id, item)
                for check_id, result in sorted(outcome.outcomes.items())
                for item in result.unjudged
            ],
            "controls": controls,
            "snapshots": outcome.snapshots,
        },
    )


def write(outcome: RunOutcome, directory: Path) -> Path:
    """Write the report for this run and a stable ``readiness.html`` copy; return the latter."""
    directory.mkdir(parents=True, exist_ok=True)
    html = inert(render(outcome), keep="\n\t")  # Django escapes markup; this, bidi and controls
    (directory / f"readiness-run-{outcome.run_id}.html").write_text(html, encoding="utf-8")
    latest = directory / "readiness.html"
    latest.write_text(html, encoding="utf-8")
    return latest
