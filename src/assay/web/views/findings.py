"""The findings of a run the viewer may see, filtered, each linked to its subject, rule, controls
and evidence; and what the run's checks could not judge, grouped by check and system."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
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
    """A finding with where its links go (None: nowhere to link)."""

    finding: FindingRow
    subject_url: str | None
    """The person's page when the subject is a roster person (or their account), else the
    system's population when the run holds a snapshot of it."""
    system_url: str | None
    controls: tuple[tuple[str, str], ...]
    """Each control the finding's check tests, with its page."""
    statement_url: str | None
    """The page of the evidence statement the finding names, in the same run."""


FINDINGS_PER_PAGE = 50
"""A finding's row carries five links and its detail: fewer per page than a plain list."""

_PARAMETER = {
    "person": "who",
    "system_population": "system_id",
    "control": "control_id",
    "statement": "statement_id",
}


class _Links:
    """Page addresses, each reversed once per value: a page of findings repeats systems,
    controls and evidence on many rows."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, str], str] = {}

    def __call__(self, name: str, value: str) -> str:
        key = (name, value)
        if key not in self._made:
            self._made[key] = reverse(name, kwargs={_PARAMETER[name]: value})
        return self._made[key]


@dataclass(frozen=True)
class Unjudged:
    """What one check could not judge on one system."""

    check: str
    system: str
    items: tuple[UnjudgedRow, ...]
    reasons: tuple[tuple[str, int], ...]
    """Each reason with how many items it covers, most frequent first."""


def _shown(run: int, rows: list[FindingRow]) -> list[Shown]:
    """The links of the findings on one page (only those: a run may hold thousands)."""
    inventory = of_run(programme(), run)
    statements = dict(
        EvidenceItem.objects.filter(run_id=run, sha256__in={r.evidence_sha256 for r in rows})
        .order_by("-leaf_index")
        .values_list("sha256", "statement_id")
    )
    catalog = load_catalog()
    link = _Links()
    shown = []
    for row in rows:
        found = inventory.person_named(row.subject) or inventory.person_of_account(
            row.system, row.subject
        )
        system_url = (
            link("system_population", row.system) if row.system in inventory.records else None
        )
        statement = statements.get(row.evidence_sha256)
        shown.append(
            Shown(
                row,
                link("person", found.email) if found is not None else system_url,
                system_url,
                tuple((c, link("control", c)) for c in catalog.controls_tested_by(row.check)),
                link("statement", statement) if statement else None,
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
            pager = paginated(request, selected, FINDINGS_PER_PAGE)
            pager.page.object_list = _shown(run, list(pager.page.object_list))
            values["pager"] = pager
    except InputError as error:
        values["problem"] = str(error)
    return page(request, "web/findings.html", values)
