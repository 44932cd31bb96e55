"""The evidence pages: browse statements, read one back from the locker, download its blob, prove
it is in the signed log, and see the checkpoints and ``assay verify``'s last result.

The auditor sees only the statements of runs inside the audit period; any other is a 404 for
them on every page, so a statement id found elsewhere opens nothing.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time
from typing import Any

import orjson
from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from assay.errors import AssayError, VerificationError
from assay.evidence import browse, service
from assay.evidence.backends import MissingObject
from assay.evidence.locker import Locker, pack_name
from assay.evidence.models import Checkpoint, EvidenceItem, Verification
from assay.evidence.proofs import prove
from assay.evidence.statements import Statement
from assay.web import audit
from assay.web.views._common import page, period_bounds, programme, visible_runs

PER_PAGE = 50
HISTORY = 20
"""How many earlier verifications and checkpoints the checkpoints page lists."""


class EvidenceFilter(forms.Form):
    """The browse page's filters, sent by GET so a filtered list is a link."""

    kind = forms.ChoiceField(required=False)
    system = forms.ChoiceField(required=False)
    start = forms.DateField(required=False, label="Collected from (UTC)")
    end = forms.DateField(required=False, label="Collected to (UTC)")
    run = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, data: Any, kinds: list[str], systems: list[str], runs: list[int]) -> None:
        super().__init__(data)
        any_ = [("", "any")]
        self.fields["kind"].choices = any_ + [(k, k) for k in kinds]  # type: ignore[attr-defined]
        self.fields["system"].choices = any_ + [(s, s) for s in systems]  # type: ignore[attr-defined]
        self.fields["run"].choices = any_ + [(str(r), str(r)) for r in runs]  # type: ignore[attr-defined]


def _day(value: Any, at: time) -> datetime | None:
    return None if value is None else datetime.combine(value, at, tzinfo=UTC)


@require_GET
def evidence(request: HttpRequest) -> HttpResponse:
    runs = visible_runs(request)
    form = EvidenceFilter(
        request.GET,
        browse.kinds(runs),
        [system.id for system in programme().systems],
        list(runs.values_list("pk", flat=True)),
    )
    # A filter that does not parse lists nothing (its error shows), rather than everything.
    found = EvidenceItem.objects.none()
    if form.is_valid():
        chosen = form.cleaned_data
        found = browse.items(
            runs,
            kind=chosen["kind"] or None,
            system=chosen["system"] or None,
            start=_day(chosen["start"], time.min),
            end=_day(chosen["end"], time.max),
            run=chosen["run"],
        )
    listed = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    return page(
        request,
        "web/evidence.html",
        {
            "title": "Evidence",
            "form": form,
            "items": [(item, browse.system_of(item.kind, item.subject)) for item in listed],
            "listed": listed,
        },
    )


def _item(request: HttpRequest, statement_id: str) -> EvidenceItem:
    """The indexed statement, if the viewer may see its run; else 404."""
    return get_object_or_404(
        EvidenceItem.objects.select_related("run"),
        statement_id=statement_id,
        run__in=visible_runs(request),
    )


def _read(item: EvidenceItem) -> tuple[Locker, Statement]:
    locker = service.open_locker(programme())
    return locker, locker.statement(item.statement_id, item.leaf_index)


def _manifest(
    locker: Locker, statement: Statement, item: EvidenceItem
) -> tuple[dict[str, Any] | None, list[tuple[dict[str, Any], EvidenceItem | None]]]:
    """A snapshot's manifest and each payload it lists with that payload's statement."""
    if item.kind != "snapshot":
        return None, []
    try:
        manifest: dict[str, Any] = orjson.loads(locker.blob(statement))
    except MissingObject:
        return None, []
    system = item.subject
    stored = {
        (i.subject, i.sha256): i
        for i in EvidenceItem.objects.filter(
            run=item.run, kind="payload", subject__startswith=f"{system}/"
        )
    }
    payloads = [
        (payload, stored.get((f"{system}/{payload.get('name')}", payload.get("sha256"))))
        for payload in manifest.get("payloads", [])
    ]
    return manifest, payloads


@require_GET
def statement(request: HttpRequest, statement_id: str) -> HttpResponse:
    item = _item(request, statement_id)
    locker, read = _read(item)
    manifest, payloads = _manifest(locker, read, item)
    return page(
        request,
        "web/statement.html",
        {
            "title": f"Statement {statement_id[:12]}",
            "item": item,
            "statement": read,
            "parameters": json.dumps(dict(read.parameters), indent=2, sort_keys=True),
            "manifest": manifest,
            "manifest_parameters": json.dumps(
                (manifest or {}).get("parameters", {}), indent=2, sort_keys=True
            ),
            "payloads": payloads,
            "system": browse.system_of(item.kind, item.subject),
            "blob_kept": locker.backend.exists(pack_name(read.pack)),
        },
    )


def _filename(item: EvidenceItem) -> str:
    """A name any file system and browser takes: the blob's hash, then the subject's letters."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", item.subject).strip("._")[:80]
    return f"{item.sha256[:12]}-{safe or item.kind}"


@require_GET
def statement_blob(request: HttpRequest, statement_id: str) -> HttpResponse:
    item = _item(request, statement_id)
    locker, read = _read(item)
    try:
        data = locker.blob(read)
    except MissingObject:
        raise Http404("the blob was deleted by the retention policy") from None
    audit.record_request(request, "evidence downloaded", statement_id)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, _filename(item))
    return response


@require_GET
def statement_proof(request: HttpRequest, statement_id: str) -> HttpResponse:
    item = _item(request, statement_id)
    try:
        proof = prove(service.open_locker(programme()), statement_id)
    except VerificationError as error:
        return _cannot_prove(request, item, f"the proof does not verify: {error}", 500)
    except AssayError:
        return _cannot_prove(request, item, "no checkpoint in the locker signs it yet", 409)
    if request.GET.get("format") == "json":
        response = HttpResponse(
            json.dumps(proof.to_dict(), indent=2), content_type="application/json"
        )
        response["Content-Disposition"] = content_disposition_header(
            True, f"proof-{statement_id[:16]}.json"
        )
        return response
    return page(
        request,
        "web/proof.html",
        {"title": f"Inclusion proof of {statement_id[:12]}", "item": item, "proof": proof},
    )


def _cannot_prove(request: HttpRequest, item: EvidenceItem, why: str, status: int) -> HttpResponse:
    response = page(
        request, "web/proof.html", {"title": "Inclusion proof", "item": item, "problem": why}
    )
    response.status_code = status
    return response


@require_GET
def checkpoints(request: HttpRequest) -> HttpResponse:
    start, end = period_bounds(request)
    signed = Checkpoint.objects.select_related("run").order_by("-seq")
    checks = Verification.objects.all()
    if start is not None and end is not None:
        signed = signed.filter(time__gte=start, time__lte=end)
        checks = checks.filter(at__gte=start, at__lte=end)
    history = list(checks[: HISTORY + 1])
    return page(
        request,
        "web/checkpoints.html",
        {
            "title": "Checkpoints",
            "latest": history[0] if history else None,
            "history": history[1:],
            "checkpoints": list(signed[:HISTORY]),
            "more": signed.count() > HISTORY,
        },
    )
