"""The identities pages: the same answers as ``assay identities`` — a person's access across
systems, a system's population, the privileged and non-human identities with their owners, and
the leavers with their deprovisioning delays — from the evidence of the run the viewer may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from assay.errors import InputError
from assay.inventory import answers
from assay.inventory.models import InventorySystem
from assay.inventory.replay import (
    Inventory,
    Reach,
    of_run,
    person_reach,
    privileged_reach,
    system_reach,
)
from assay.web.views._common import latest_run, no_run, not_found, page, paginated, programme


class PersonLookup(forms.Form):
    who = forms.CharField(label="E-mail or employee id", max_length=320)

    def clean_who(self) -> str:
        who: str = self.cleaned_data["who"]
        if "/" in who:  # a path segment: no e-mail or employee id has one
            raise forms.ValidationError("An e-mail address or employee id has no '/'.")
        return who


class PrivilegedFilter(forms.Form):
    include_unknown = forms.BooleanField(
        required=False, label="Also accounts whose privilege is unknown"
    )


@dataclass(frozen=True)
class Linked:
    """A row and whether the person it names is on the roster (so has a page to link to)."""

    row: Any
    person: str | None


def _inventory(request: HttpRequest) -> Inventory | None:
    run = latest_run(request)
    return of_run(programme(), run) if run is not None else None


def _linked(inventory: Inventory, rows: Iterable[Any], who: str) -> list[Linked]:
    """Each row with the roster e-mail its field ``who`` names, when it names one."""
    found = []
    for row in rows:
        person = inventory.person_named(getattr(row, who))
        found.append(Linked(row, person.email if person is not None else None))
    return found


def _empty(request: HttpRequest, title: str) -> HttpResponse:
    return page(request, "web/identities_none.html", {"title": title, "why": no_run(request)})


@require_GET
def identities(request: HttpRequest) -> HttpResponse:
    form = PersonLookup(request.GET or None)
    if form.is_valid():
        return redirect("person", who=form.cleaned_data["who"])
    inventory = _inventory(request)
    if inventory is None:
        return _empty(request, "Identities")
    stored = {s.system_id: s for s in InventorySystem.objects.filter(run_id=inventory.run_id)}
    systems = [
        (system_id, records, stored.get(system_id))
        for system_id, records in sorted(inventory.records.items())
    ]
    return page(
        request,
        "web/identities.html",
        {
            "title": "Identities",
            "form": form,
            "run": inventory.run_id,
            "systems": systems,
            "people": len(inventory.people),
        },
    )


@require_GET
def person(request: HttpRequest, who: str) -> HttpResponse:
    inventory = _inventory(request)
    if inventory is None:
        return _empty(request, "Person")
    found = inventory.person_named(who)
    if found is None:
        return not_found(request, f"nobody on run {inventory.run_id}'s roster is {who!r}")
    return page(
        request,
        "web/person.html",
        {
            "title": found.name,
            "person": found,
            "run": inventory.run_id,
            "rows": _linked(inventory, person_reach(inventory, found.email), "person"),
        },
    )


def _reach_page(
    request: HttpRequest,
    title: str,
    inventory: Inventory,
    rows: list[Reach],
    values: dict[str, Any],
) -> HttpResponse:
    return page(
        request,
        "web/reach.html",
        {
            "title": title,
            "run": inventory.run_id,
            "pager": paginated(request, _linked(inventory, rows, "person")),
            **values,
        },
    )


@require_GET
def system_population(request: HttpRequest, system_id: str) -> HttpResponse:
    inventory = _inventory(request)
    if inventory is None:
        return _empty(request, "System population")
    try:
        rows = system_reach(inventory, system_id)
    except InputError as error:
        return not_found(request, str(error))
    orphans = sum(1 for row in rows if row.person == "nobody (orphan)")
    return _reach_page(
        request,
        f"Who can reach {system_id}",
        inventory,
        rows,
        {"system": system_id, "orphans": orphans},
    )


@require_GET
def privileged(request: HttpRequest) -> HttpResponse:
    inventory = _inventory(request)
    if inventory is None:
        return _empty(request, "Privileged accounts")
    form = PrivilegedFilter(request.GET)
    unknown = form.is_valid() and form.cleaned_data["include_unknown"]
    rows = [r for r in privileged_reach(inventory) if unknown or r.privileged == "yes"]
    return _reach_page(
        request,
        "Privileged accounts",
        inventory,
        rows,
        {"form": form, "privileged": sum(1 for r in rows if r.privileged == "yes")},
    )


@require_GET
def nonhuman(request: HttpRequest) -> HttpResponse:
    inventory = _inventory(request)
    if inventory is None:
        return _empty(request, "Non-human identities")
    rows = answers.nonhuman_rows(inventory)
    return page(
        request,
        "web/nonhuman.html",
        {
            "title": "Non-human identities",
            "run": inventory.run_id,
            "pager": paginated(request, _linked(inventory, rows, "owner")),
            "unanswered": sum(1 for row in rows if row.owner_status != "here"),
        },
    )


@require_GET
def leavers(request: HttpRequest) -> HttpResponse:
    inventory = _inventory(request)
    if inventory is None:
        return _empty(request, "Leavers")
    report = answers.leaver_rows(programme(), inventory)
    return page(
        request,
        "web/leavers.html",
        {
            "title": "Leavers",
            "report": report,
            "late": sum(1 for row in report.accounts if row.within_deadline != "yes"),
            "pager": paginated(request, report.accounts),
        },
    )
