"""Owner evidence: the evidence requests of the controls their owners evidence, one per window of
the audit period. A control owner sees what is asked of them; the programme owner what awaits
their review, then what is overdue; the auditor every window. A window's page shows each
submission with its files, takes the owner's upload and the decider's accept or send back.

The files are read back from the locker by their statements and are data throughout: a file's
name is shown escaped and never used as a path, here or when it is downloaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from assay.catalog import Control, load_catalog
from assay.errors import InputError, VerificationError
from assay.evidence import service
from assay.evidence.backends import MissingObject
from assay.registers import owner_evidence
from assay.registers.models import Submission
from assay.registers.windows import (
    Window,
    WindowState,
    WindowStatus,
    evidenced_controls,
    statuses,
    window_named,
    windows_of,
)
from assay.web import accounts, audit
from assay.web.roles import Role
from assay.web.views._common import may_open, page, paginated, person, programme, role

ASKED = frozenset(
    {
        WindowState.OPEN,
        WindowState.DUE,
        WindowState.OVERDUE,
        WindowState.SENT_BACK,
        WindowState.AWAITING_REVIEW,
    }
)
"""The states in which a window still asks something of its owner (or of its reviewer)."""


def today() -> date:
    return datetime.now(UTC).date()


def _may_decide(request: HttpRequest) -> bool:
    """A decider by the one rule (``accounts.may_decide``) whom the role table lets decide."""
    return may_open(request, "evidence_decide") and accounts.may_decide(
        programme(), person(request)
    )


class RequestFilter(forms.Form):
    """The list's filters, sent by GET so a filtered list is a link (the API's, too)."""

    control = forms.CharField(required=False, max_length=32)
    state = forms.ChoiceField(
        required=False, choices=[("", "any")] + [(s.value, s.value) for s in WindowState]
    )
    owner = forms.CharField(required=False, max_length=254)


def filtered(
    every: Iterable[WindowStatus], control: str = "", state: str = "", owner: str = ""
) -> list[WindowStatus]:
    """The windows of one control, in one state, of one owner (each optional)."""
    control, owner = control.strip().upper(), owner.strip().lower()
    return [
        s
        for s in every
        if (not control or s.control == control)
        and (not state or s.state.value == state)
        and (not owner or (s.owner or "").lower() == owner)
    ]


@require_GET
def evidence_requests(request: HttpRequest) -> HttpResponse:
    every = statuses(programme(), owner_evidence.submission_facts(), today())
    form = RequestFilter(request.GET)
    chosen = form.cleaned_data if form.is_valid() else {}
    me = person(request)
    sections: list[tuple[str, str, list[WindowStatus]]] = []
    if any(chosen.values()):
        sections.append(("Matching windows", "", filtered(every, **chosen)))
    elif role(request) is Role.CONTROL_OWNER:
        mine = [s for s in every if (s.owner or "").lower() == me and s.state in ASKED]
        sections.append(
            ("Asked of you", "The windows of the controls you own that still need you.", mine)
        )
    elif _may_decide(request):
        waiting = [
            s
            for s in every
            if s.state is WindowState.AWAITING_REVIEW
            and s.submission is not None
            and s.submission.submitted_by.lower() != me
        ]
        overdue = [s for s in every if s.state is WindowState.OVERDUE]
        sections.append(("Awaiting your review", "Submitted by someone else.", waiting))
        sections.append(("Overdue", "Past the due date without evidence in time.", overdue))
    else:
        sections.append(("Every window", "", list(every)))
    return page(
        request,
        "web/evidence_requests.html",
        {
            "title": "Evidence requests",
            "form": form,
            # Only the last (the longest) list is paged; the ones before it are short.
            "sections": [
                (heading, note, rows, paginated(request, rows) if n == len(sections) - 1 else None)
                for n, (heading, note, rows) in enumerate(sections)
            ],
            "counts": _counts(every),
        },
    )


def _counts(every: Iterable[WindowStatus]) -> list[tuple[WindowState, int]]:
    counted = {state: 0 for state in WindowState}
    for s in every:
        counted[s.state] += 1
    return [(state, n) for state, n in counted.items() if n]


def _control(control_id: str) -> Control:
    """An owner-evidenced control of this programme, or 404."""
    try:
        found = load_catalog().control(control_id)
    except InputError:
        raise Http404("no such control") from None
    if found.id != control_id or found not in evidenced_controls(programme()):
        raise Http404("no such control evidenced by its owner")
    return found


def _window(control: Control, label: str) -> Window:
    try:
        return window_named(windows_of(programme(), control), label)
    except InputError:
        raise Http404("no such window in the audit period") from None


class UploadForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=owner_evidence.NOTE_LENGTH,
        label="What the evidence shows",
    )


def _request_page(
    request: HttpRequest,
    control: Control,
    window: Window,
    *,
    note: str = "",
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    served = programme()
    facts = [f for f in owner_evidence.submission_facts() if f.control == control.id]
    state = next(
        s for s in statuses(served, facts, today(), [control]) if s.window.label == window.label
    )
    me = person(request)
    submissions = Submission.objects.filter(control_id=control.id, window=window.label)
    may_decide = _may_decide(request)
    shown = [
        (
            s,
            may_decide and s.state == Submission.State.PENDING and s.submitted_by.lower() != me,
            [(number, entry) for number, entry in enumerate(s.files)],
        )
        for s in submissions.order_by("submitted_at", "id")
    ]
    owner = (state.owner or "").lower()
    may_submit = (
        bool(owner)
        and owner == me
        and state.state is not WindowState.ACCEPTED
        and may_open(request, "evidence_submit")
    )
    return page(
        request,
        "web/evidence_request.html",
        {
            "title": f"{control.id} {window.label}",
            "control": control,
            "window": window,
            "status": state,
            "submissions": shown,
            "may_submit": may_submit,
            "upload": UploadForm(initial={"note": note}),
            "problem": problem,
            "file_limit_mib": owner_evidence.FILE_LIMIT // (1024 * 1024),
        },
        status=status,
    )


@require_GET
def evidence_request(request: HttpRequest, control_id: str, window: str) -> HttpResponse:
    control = _control(control_id)
    return _request_page(request, control, _window(control, window))


@require_POST
def submit(request: HttpRequest, control_id: str, window: str) -> HttpResponse:
    control = _control(control_id)
    chosen = _window(control, window)
    note = request.POST.get("note", "")
    uploads = request.FILES.getlist("files")
    # Checked before any is read into memory; the service checks again what it is given.
    too_large = [f.name for f in uploads if (f.size or 0) > owner_evidence.FILE_LIMIT]
    if too_large:
        problem = f"{', '.join(str(n) for n in too_large)}: larger than the limit"
        return _request_page(request, control, chosen, note=note, problem=problem, status=400)
    files = [(str(f.name), f.read()) for f in uploads]
    try:
        made = owner_evidence.submit(
            programme(),
            control.id,
            files,
            note,
            person(request),
            window=chosen.label,
            may_decide=_may_decide(request),
        )
    except InputError as refused:
        return _request_page(
            request, control, chosen, note=note, problem=refused.problem, status=400
        )
    audit.record_request(request, "owner evidence submitted", f"{made.control_id}/{made.window}")
    messages.success(request, f"Submitted for {made.window}: it awaits the programme owner.")
    return redirect("evidence_request", control_id=made.control_id, window=made.window)


@require_POST
def decide(request: HttpRequest, submission_id: int) -> HttpResponse:
    found = get_object_or_404(Submission, pk=submission_id)
    accept = request.POST.get("decision") == "accept"
    try:
        made = owner_evidence.decide(
            programme(),
            found.pk,
            accept,
            person(request),
            may_decide=_may_decide(request),
            reason=request.POST.get("reason", ""),
        )
    except InputError as refused:
        messages.error(request, f"Not decided: {refused.problem}")
    else:
        action = "accepted" if accept else "sent back"
        audit.record_request(
            request, f"owner evidence {action}", f"{made.control_id}/{made.window}"
        )
        messages.success(request, f"The evidence for {made.window} is {action}.")
    return redirect("evidence_request", control_id=found.control_id, window=found.window)


def download_name(name: str) -> str:
    """A file's name as a download offers it: letters, digits and ``._- `` kept, the rest ``_``
    (never a path, a quote or a control character)."""
    safe = re.sub(r"[^\w. -]+", "_", name).strip(" ._")[:120]
    return safe or "evidence"


@require_GET
def evidence_file(request: HttpRequest, submission_id: int, number: int) -> HttpResponse:
    found = get_object_or_404(Submission, pk=submission_id)
    if not 0 <= number < len(found.files):
        raise Http404("no such file in this submission")
    entry: dict[str, Any] = found.files[number]
    locker = service.open_locker(programme())
    try:
        read = locker.statement(str(entry["statement_id"]), int(entry["index"]))
        if read.sha256 != entry["sha256"]:
            raise VerificationError(f"statement {read.subject} names other bytes than its file")
        data = locker.blob(read)
    except MissingObject:
        raise Http404("the file was deleted by the retention policy") from None
    audit.record_request(request, "evidence downloaded", str(entry["statement_id"]))
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(
        True, download_name(str(entry["name"]))
    )
    return response
