"""Owner evidence in the web app: a control owner sees what is asked of them and answers a window
with files and a note; a programme owner (never the submitter) accepts it or sends it back with a
reason; the files come back from the locker byte for byte. The auditor reads every window and
changes nothing; employees see none of it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from tests.web import registers
from tests.web.conftest import make_person
from tests.web.test_hostile_pages import _assert_inert

from assay.catalog import Control, load_catalog
from assay.programme.model import Programme
from assay.registers import owner_evidence
from assay.registers.models import Submission
from assay.registers.windows import Window, WindowState, statuses
from assay.web.models import AuditEvent
from assay.web.roles import Role
from assay.web.views.owner_evidence import today

pytestmark = [pytest.mark.db, pytest.mark.django_db]
_BACKEND = "django.contrib.auth.backends.ModelBackend"
HOSTILE_NAME = "<img src=x onerror=alert(1)>.pdf"
NOTE = "Q4 access review: <b>every</b> admin confirmed by their manager."


def signed_in(email: str, role: Role) -> Client:
    client = Client()
    client.force_login(make_person(email, role).user, backend=_BACKEND)
    return client


@pytest.fixture
def programme(served: Path) -> Programme:
    return registers.name_owners(served)


@pytest.fixture
def owner() -> Client:
    """Yara, the Security lead, a control owner."""
    return signed_in(registers.SECURITY, Role.CONTROL_OWNER)


@pytest.fixture
def decider() -> Client:
    """Dana, the programme owner (and the Chief executive, who owns controls too)."""
    return signed_in(registers.CEO, Role.PROGRAMME_OWNER)


@pytest.fixture
def asked(programme: Programme) -> tuple[Control, Window]:
    control = registers.owned_control(programme, registers.SECURITY)
    return control, registers.window_now(programme, control)


def url(control: Control, window: Window, rest: str = "") -> str:
    return f"/evidence-requests/{control.id}/{window.label}/{rest}"


def upload(client: Client, control: Control, window: Window, note: str = NOTE) -> Submission:
    files = [
        SimpleUploadedFile("access-review.csv", b"account,manager,confirmed\nyara,dana,yes\n"),
        SimpleUploadedFile(HOSTILE_NAME, b"%PDF-1.4 not really"),
    ]
    response = client.post(url(control, window, "submit"), {"note": note, "files": files})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert response["Location"] == url(control, window)
    return Submission.objects.filter(control_id=control.id, window=window.label).latest("id")


def test_a_control_owner_sees_what_is_asked_of_them(
    programme: Programme, owner: Client, asked: tuple[Control, Window]
) -> None:
    control, window = asked
    page = owner.get("/evidence-requests/").content.decode()
    assert "Asked of you" in page
    assert f'href="{url(control, window)}"' in page
    ceo_control = registers.owned_control(programme, registers.CEO)
    assert f'href="/controls/{ceo_control.id}/"' not in page
    facts = owner_evidence.submission_facts()
    mine = [
        s
        for s in statuses(programme, facts, today())
        if s.owner == registers.SECURITY
        and s.state not in (WindowState.UPCOMING, WindowState.ACCEPTED)
    ]
    assert f"Asked of you ({len(mine)})" in page


def test_submit_then_the_programme_owner_accepts(
    programme: Programme, owner: Client, decider: Client, asked: tuple[Control, Window]
) -> None:
    control, window = asked
    page = owner.get(url(control, window)).content.decode()
    assert 'enctype="multipart/form-data"' in page and "Submit for review" in page
    made = upload(owner, control, window)
    assert made.state == Submission.State.PENDING and made.submitted_by == registers.SECURITY
    assert [f["name"] for f in made.files] == ["access-review.csv", HOSTILE_NAME]
    event = AuditEvent.objects.get(action="owner evidence submitted")
    assert event.target == f"{control.id}/{window.label}"

    page = owner.get(url(control, window)).content.decode()
    _assert_inert(url(control, window), page)
    assert "awaiting review" in page and "Accept</button>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page
    assert "Q4 access review: &lt;b&gt;every&lt;/b&gt;" in page

    listed = decider.get("/evidence-requests/").content.decode()
    waiting = listed.split("Awaiting your review")[1].split("<h2>")[0]
    assert f'href="{url(control, window)}"' in waiting
    page = decider.get(url(control, window)).content.decode()
    assert "Accept</button>" in page and "Send back</button>" in page
    response = decider.post(
        f"/evidence-requests/submissions/{made.pk}/decide", {"decision": "accept"}
    )
    assert response.status_code == 302 and response["Location"] == url(control, window)
    made.refresh_from_db()
    assert made.state == Submission.State.ACCEPTED and made.decided_by == registers.CEO
    assert made.decision_statement_id
    assert AuditEvent.objects.filter(action="owner evidence accepted").exists()
    page = owner.get(url(control, window)).content.decode()
    assert '<dd id="window-state"><span class="state-accepted">accepted</span>' in page
    assert "Submit for review" not in page  # an accepted window asks nothing more


def test_the_files_download_byte_for_byte_under_a_safe_name(
    programme: Programme, owner: Client, asked: tuple[Control, Window]
) -> None:
    control, window = asked
    made = upload(owner, control, window)
    auditor = signed_in("auditor@audit-firm.example", Role.AUDITOR)
    first = auditor.get(f"/evidence-requests/submissions/{made.pk}/files/0")
    assert first.status_code == 200
    assert first.content == b"account,manager,confirmed\nyara,dana,yes\n"
    assert hashlib.sha256(first.content).hexdigest() == made.files[0]["sha256"]
    assert first["Content-Disposition"] == 'attachment; filename="access-review.csv"'
    second = auditor.get(f"/evidence-requests/submissions/{made.pk}/files/1")
    assert second.content == b"%PDF-1.4 not really"
    assert second["Content-Disposition"] == 'attachment; filename="img src_x onerror_alert_1_.pdf"'
    downloads = AuditEvent.objects.filter(action="evidence downloaded")
    assert {e.target for e in downloads} == {f["statement_id"] for f in made.files}
    assert auditor.get(f"/evidence-requests/submissions/{made.pk}/files/2").status_code == 404
    assert auditor.get("/evidence-requests/submissions/999/files/0").status_code == 404


def test_sending_back_needs_a_reason_and_asks_the_owner_again(
    programme: Programme, owner: Client, decider: Client, asked: tuple[Control, Window]
) -> None:
    control, window = asked
    made = upload(owner, control, window)
    decide = f"/evidence-requests/submissions/{made.pk}/decide"
    response = decider.post(decide, {"decision": "send back", "reason": " "}, follow=True)
    assert "Not decided: say why the evidence is sent back" in response.content.decode()
    made.refresh_from_db()
    assert made.state == Submission.State.PENDING
    decider.post(decide, {"decision": "send back", "reason": "The export has no dates."})
    made.refresh_from_db()
    assert made.state == Submission.State.RETURNED and made.reason == "The export has no dates."
    page = owner.get(url(control, window)).content.decode()
    assert '<span class="state-sent-back">sent back</span>' in page
    assert "The export has no dates." in page and "Submit for review" in page
    listed = owner.get("/evidence-requests/").content.decode()
    assert f'href="{url(control, window)}"' in listed
    again = upload(owner, control, window, note="Now with dates.")
    assert again.pk != made.pk and again.state == Submission.State.PENDING


def test_nobody_accepts_their_own_submission(programme: Programme, decider: Client) -> None:
    control = registers.owned_control(programme, registers.CEO)
    window = registers.window_now(programme, control)
    made = upload(decider, control, window, note="Board minutes of the security review.")
    page = decider.get(url(control, window)).content.decode()
    assert "Accept</button>" not in page
    listed = decider.get("/evidence-requests/").content.decode()
    assert (
        f'href="{url(control, window)}"'
        not in listed.split("Awaiting your review")[1].split("<h2>")[0]
    )
    response = decider.post(
        f"/evidence-requests/submissions/{made.pk}/decide", {"decision": "accept"}, follow=True
    )
    assert "nobody accepts or sends back their own submission" in response.content.decode()
    made.refresh_from_db()
    assert made.state == Submission.State.PENDING
    admin = signed_in("admin.two@acme.example", Role.ADMIN)
    assert "Accept</button>" in admin.get(url(control, window)).content.decode()
    admin.post(f"/evidence-requests/submissions/{made.pk}/decide", {"decision": "accept"})
    made.refresh_from_db()
    assert made.state == Submission.State.ACCEPTED and made.decided_by == "admin.two@acme.example"


def test_only_the_named_owner_is_offered_the_upload(
    programme: Programme, asked: tuple[Control, Window]
) -> None:
    control, window = asked
    other = signed_in("tom.becker@acme.example", Role.CONTROL_OWNER)
    page = other.get(url(control, window)).content.decode()
    assert "Submit for review" not in page
    files = [SimpleUploadedFile("x.txt", b"x")]
    response = other.post(url(control, window, "submit"), {"note": "mine", "files": files})
    assert response.status_code == 400
    assert (
        f"only its owner ({registers.SECURITY}) submits evidence for it"
        in response.content.decode()
    )
    assert not Submission.objects.exists()


def test_an_upload_without_files_or_too_large_writes_nothing(
    programme: Programme,
    owner: Client,
    asked: tuple[Control, Window],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    control, window = asked
    response = owner.post(url(control, window, "submit"), {"note": "Kept note"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was submitted: give at least one file" in page
    assert "Kept note</textarea>" in page
    monkeypatch.setattr(owner_evidence, "FILE_LIMIT", 8)
    big = [SimpleUploadedFile("big.bin", b"x" * 9)]
    response = owner.post(url(control, window, "submit"), {"note": "n", "files": big})
    assert response.status_code == 400
    assert "big.bin: larger than the limit" in response.content.decode()
    assert not Submission.objects.exists()


def test_the_auditor_reads_every_window_and_changes_nothing(
    programme: Programme, owner: Client, asked: tuple[Control, Window]
) -> None:
    control, window = asked
    made = upload(owner, control, window)
    auditor = signed_in("auditor@audit-firm.example", Role.AUDITOR)
    every = statuses(programme, owner_evidence.submission_facts(), today())
    page = auditor.get("/evidence-requests/").content.decode()
    assert f"Every window ({len(every)})" in page
    assert 'rel="next"' in page  # more than a page of windows
    page = auditor.get(url(control, window)).content.decode()
    assert 'method="post"' not in page.split("<main>")[1]
    for path, data in (
        (url(control, window, "submit"), {"note": "x"}),
        (f"/evidence-requests/submissions/{made.pk}/decide", {"decision": "accept"}),
    ):
        assert auditor.post(path, data).status_code == 403
    made.refresh_from_db()
    assert made.state == Submission.State.PENDING


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.REVIEWER])
def test_employees_and_reviewers_see_no_evidence_request(
    programme: Programme,
    clients: dict[Role | None, Client],
    role: Role,
    asked: tuple[Control, Window],
) -> None:
    control, window = asked
    for path in ("/evidence-requests/", url(control, window)):
        assert clients[role].get(path).status_code == 403


def test_filters_list_matching_windows(
    programme: Programme, decider: Client, asked: tuple[Control, Window]
) -> None:
    control, _ = asked
    page = decider.get("/evidence-requests/", {"control": control.id.lower()}).content.decode()
    count = len([s for s in statuses(programme, (), today()) if s.control == control.id])
    assert f"Matching windows ({count})" in page
    overdue = decider.get(
        "/evidence-requests/", {"state": "overdue", "owner": registers.SECURITY}
    ).content.decode()
    assert "Matching windows" in overdue and "state-accepted" not in overdue.split("<h2>")[1]


def test_the_control_page_lists_its_owner_evidence_windows(
    programme: Programme, owner: Client, asked: tuple[Control, Window]
) -> None:
    control, window = asked
    page = owner.get(f"/controls/{control.id}/").content.decode()
    assert "<h2>Owner evidence</h2>" in page
    assert f'href="{url(control, window)}"' in page
    tested = next(c for c in load_catalog().controls if not c.owner_evidenced)
    assert "<h2>Owner evidence</h2>" not in owner.get(f"/controls/{tested.id}/").content.decode()


def test_unknown_controls_and_windows_are_not_found(
    programme: Programme, owner: Client, asked: tuple[Control, Window]
) -> None:
    control, _ = asked
    tested = next(c for c in load_catalog().controls if not c.owner_evidenced)
    for path in (
        "/evidence-requests/ZZ-99/2026-Q4/",
        f"/evidence-requests/{control.id}/1999-Q1/",
        f"/evidence-requests/{control.id.lower()}/2026-Q4/",
        f"/evidence-requests/{tested.id}/2026-Q4/",
    ):
        assert owner.get(path).status_code == 404, path
