"""The findings of a run the viewer may see, filtered, each linked to its subject, rule, controls
and evidence; and what the run's checks could not judge, grouped by check and system."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.views.decorators.http import require_GET

from assay.catalog import load_catalog
from assay.checks.results import FindingRow, UnjudgedRow, findings_selected, unjudged_of
from assay.errors import InputError
from assay.evidence.models import EvidenceItem
from assay.inventory.replay import of_run
from assay.monitor.models import Run
from assay.web.views._common import latest_run, no_run, page, paginated, programme, visible_runs


class FindingFilter(forms.Form):
    run = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Run %(value)s is not a completed run you may see."},
    )
    check = forms.CharField(required=False, max_length=200)
    rule = forms.CharField(required=False, max_length=200)
    system = forms.CharField(required=False, max_length=200)
    control = forms.CharField(required=False, max_length=64)
    show = forms.ChoiceField(
        required=False,
        choices=[("", "findings"), ("unjudged", "what could not be judged")],
        widget=forms.HiddenInput,
    )

    def __init__(self, data: QueryDict, runs: list[int]) -> None:
        super().__init__(data)
        self.fields["run"].choices = [("", "latest")] + [(r, f"run {r}") for r in runs]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Shown:
    """A finding with where its links go."""

    finding: FindingRow
    person: str | None
    """The roster e-mail of the person the subject is (or whose account it is)."""
    system_known: bool
    """The run holds a snapshot of the finding's system, so it has a population page."""
    controls: tuple[str, ...]
    statement: str | None
    """The statement id of the evidence the finding names, in the same run."""


@dataclass(frozen=True)
class Unjudged:
    """What one check could not judge on one system."""

    check: str
    system: str
    items: tuple[UnjudgedRow, ...]
    reasons: tuple[tuple[str, int], ...]
    """Each reason with how many items it covers, most frequent first."""


def _controls_by_check() -> dict[str, tuple[str, ...]]:
    by_check: dict[str, list[str]] = defaultdict(list)
    for control in load_catalog().controls:
        for check in control.checks:
            by_check[check].append(control.id)
    return {check: tuple(ids) for check, ids in by_check.items()}


def _shown(run: int, rows: list[FindingRow]) -> list[Shown]:
    """The links of the findings on one page (only those: a run may hold thousands)."""
    inventory = of_run(programme(), run)
    statements = dict(
        EvidenceItem.objects.filter(run_id=run, sha256__in={r.evidence_sha256 for r in rows})
        .order_by("-leaf_index")
        .values_list("sha256", "statement_id")
    )
    controls = _controls_by_check()
    shown = []
    for row in rows:
        found = inventory.person_named(row.subject) or inventory.person_of_account(
            row.system, row.subject
        )
        shown.append(
            Shown(
                row,
                found.email if found is not None else None,
                row.system in inventory.records,
                controls.get(row.check, ()),
                statements.get(row.evidence_sha256),
            )
        )
    return shown


def _grouped(rows: tuple[UnjudgedRow, ...]) -> list[Unjudged]:
    groups: dict[tuple[str, str], list[UnjudgedRow]] = defaultdict(list)
    for row in rows:
        groups[(row.check, row.system)].append(row)
    return [
        Unjudged(
            check,
            system,
            tuple(items),
            tuple(Counter(item.reason for item in items).most_common()),
        )
        for (check, system), items in sorted(groups.items())
    ]


@require_GET
def findings(request: HttpRequest) -> HttpResponse:
    runs = list(
        visible_runs(request).filter(status=Run.Status.COMPLETED).values_list("pk", flat=True)
    )
    form = FindingFilter(request.GET, runs)
    others = request.GET.copy()
    for key in ("show", "page"):
        others.pop(key, None)
    query = others.urlencode()
    values: dict[str, object] = {
        "title": "Findings",
        "form": form,
        "findings_tab": f"?{query}",
        "unjudged_tab": f"?{query}&show=unjudged" if query else "?show=unjudged",
    }
    if not form.is_valid():
        return page(request, "web/findings.html", values)
    chosen = form.cleaned_data
    run = chosen["run"] or latest_run(request)
    if run is None:
        return page(request, "web/findings.html", {**values, "problem": no_run(request)})
    filters = {k: chosen[k] or None for k in ("check", "system", "control")}
    values["run"] = run
    try:
        if chosen["show"] == "unjudged":
            groups = _grouped(unjudged_of(run, **filters))
            values["unjudged"] = groups
            values["unjudged_total"] = sum(len(g.items) for g in groups)
        else:
            selected = findings_selected(run, rule=chosen["rule"] or None, **filters)
            pager = paginated(request, selected)
            pager.page.object_list = _shown(run, list(pager.page.object_list))
            values["pager"] = pager
    except InputError as error:
        values["problem"] = str(error)
    return page(request, "web/findings.html", values)
