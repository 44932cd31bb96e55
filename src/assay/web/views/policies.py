"""The policies as everyone reads them: each active policy with its version and approval, whether
you have acknowledged the version in force, and the one button that records that you have read
and accept it (a statement in the locker, like every change to a register)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from assay.errors import InputError
from assay.registers import service
from assay.registers.kinds import KINDS, Acknowledgement, Policy, PolicyStatus
from assay.web import audit
from assay.web.views._common import may_open, page, person, programme


def _acknowledged(person: str) -> dict[tuple[str, str], Acknowledgement]:
    """(policy, version) → the person's acknowledgement of it."""
    return {(ack.policy, ack.version): ack for ack in service.acknowledgements_of(person)}


def _active() -> list[Policy]:
    return [
        policy
        for policy in service.records_of(KINDS["policies"])
        if isinstance(policy, Policy) and policy.status is PolicyStatus.ACTIVE
    ]


@require_GET
def policies(request: HttpRequest) -> HttpResponse:
    mine = _acknowledged(person(request))
    rows = [(policy, mine.get((policy.id, policy.version))) for policy in _active()]
    return page(
        request,
        "web/policies.html",
        {"title": "Policies", "rows": rows, "outstanding": sum(ack is None for _, ack in rows)},
    )


def _policy(policy_id: str) -> Policy:
    """The active policy ``policy_id``; a draft or retired one is not for everyone's reading."""
    try:
        row = service.current_record(KINDS["policies"], policy_id)
    except InputError:
        raise Http404("no such policy") from None
    policy = Policy.model_validate(row.document)
    if policy.status is not PolicyStatus.ACTIVE:
        raise Http404("no such policy in force")
    return policy


def _may_acknowledge(request: HttpRequest) -> tuple[bool, str]:
    """Whether the viewer can acknowledge policies here, and why not."""
    if not may_open(request, "policy_acknowledge"):
        return False, "Your role reads the policies; it does not acknowledge them."
    if person(request) not in service.known_people(programme()):
        return False, (
            "Your address is on neither the roster nor the programme file, so no acknowledgement "
            "is asked of you."
        )
    return True, ""


@require_GET
def policy(request: HttpRequest, policy_id: str) -> HttpResponse:
    found = _policy(policy_id)
    ack = _acknowledged(person(request)).get((found.id, found.version))
    allowed, why_not = _may_acknowledge(request)
    values: dict[str, Any] = {
        "title": f"{found.id} {found.title}",
        "policy": found,
        "acknowledged": ack,
        "may_acknowledge": allowed and ack is None,
        "why_not": "" if ack is not None else why_not,
        "may_read_register": may_open(request, "register_record"),
    }
    return page(request, "web/policy.html", values)


@require_POST
def acknowledge(request: HttpRequest, policy_id: str) -> HttpResponse:
    found = _policy(policy_id)
    read = request.POST.get("version", "")
    if read != found.version:
        # The button named the version the person read; a newer one is read first.
        messages.error(request, f"{found.id} is now version {found.version}: read it, then accept.")
        return redirect("policy", policy_id=found.id)
    me = person(request)
    try:
        service.acknowledge(programme(), found.id, me, me)
    except InputError as refused:
        messages.error(request, f"Not recorded: {refused.problem}")
        return redirect("policy", policy_id=found.id)
    audit.record_request(request, "policy acknowledged", f"{found.id}@{found.version}")
    messages.success(request, f"You acknowledged {found.id} version {found.version}.")
    return redirect("policy", policy_id=found.id)
