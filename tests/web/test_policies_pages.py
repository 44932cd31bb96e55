"""The policies as everyone reads them, and the acknowledgement: one button for the version in
force, recorded as a statement by the person themselves; the list then says when. Every role
opens them; the auditor reads without acknowledging; a person not on the roster is not asked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from tests.web import registers
from tests.web.conftest import PASSWORD, make_person
from tests.web.test_hostile_pages import _assert_inert

from assay.programme import load
from assay.programme.model import Programme
from assay.registers import service
from assay.registers.kinds import KINDS
from assay.registers.models import Change, Record
from assay.web.models import AuditEvent
from assay.web.roles import Role

pytestmark = [pytest.mark.db, pytest.mark.django_db]
Clients = dict[Role | None, Client]
ADA = "ada.lovelace@acme.example"
"""On the roster: a marketing manager, who signs in as an employee."""


@pytest.fixture
def programme(served: Path) -> Programme:
    served_programme = load(served)
    registers.add_starter_policies(served_programme)
    return served_programme


def signed_in(email: str, role: Role) -> Client:
    client = Client()
    client.force_login(make_person(email, role).user, backend=_BACKEND)
    return client


_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _you(page: str, policy: str) -> str:
    """The 'You' cell of a policy's row in the list."""
    row = page.split(f'<a href="/policies/{policy}/">{policy}</a>')[1].split("</tr>")[0]
    return re.sub(r"<[^>]+>", "", row.split("<td>")[-1]).strip()


def test_an_employee_acknowledges_a_policy_and_the_list_says_when(programme: Programme) -> None:
    client = signed_in(ADA, Role.EMPLOYEE)
    listed = client.get("/policies/").content.decode()
    assert "12 of 12 await your acknowledgement." in listed
    assert _you(listed, "POL-01") == "not acknowledged"
    page = client.get("/policies/POL-01/").content.decode()
    assert '<button type="submit">I have read and accept version 1.0</button>' in page
    response = client.post("/policies/POL-01/acknowledge", {"version": "1.0"})
    assert response.status_code == 302 and response["Location"] == "/policies/POL-01/"

    made = Record.objects.get(kind="acknowledgements")
    assert made.key == f"POL-01@1.0:{ADA}" and made.changed_by == ADA
    assert Change.objects.get(kind="acknowledgements").action == "acknowledged"
    event = AuditEvent.objects.get(action="policy acknowledged")
    assert (event.actor, event.target) == (ADA, "POL-01@1.0")
    day = made.changed_at.strftime("%Y-%m-%d")
    page = client.get("/policies/POL-01/").content.decode()
    assert "You acknowledged POL-01 version 1.0." in page
    assert "I have read and accept" not in page
    assert f"acknowledged version 1.0 on {day}" in page
    listed = client.get("/policies/").content.decode()
    assert _you(listed, "POL-01") == f"acknowledged {day}"
    assert _you(listed, "POL-02") == "not acknowledged"
    assert "11 of 12 await your acknowledgement." in listed

    # Twice is once; a new version asks again.
    client.post("/policies/POL-01/acknowledge", {"version": "1.0"})
    assert Record.objects.filter(kind="acknowledgements").count() == 1
    service.edit(programme, KINDS["policies"], "POL-01", {"version": "1.1"}, registers.AUTHOR)
    assert _you(client.get("/policies/").content.decode(), "POL-01") == "not acknowledged"


def test_a_button_for_an_older_version_records_nothing(programme: Programme) -> None:
    client = signed_in(ADA, Role.EMPLOYEE)
    service.edit(programme, KINDS["policies"], "POL-02", {"version": "2.0"}, registers.AUTHOR)
    response = client.post("/policies/POL-02/acknowledge", {"version": "1.0"}, follow=True)
    assert "POL-02 is now version 2.0: read it, then accept." in response.content.decode()
    assert not Record.objects.filter(kind="acknowledgements").exists()


def test_every_role_reads_the_policies_and_employees_see_only_them(
    programme: Programme, clients: Clients
) -> None:
    for role in Role:
        assert clients[role].get("/policies/").status_code == 200, role
        assert clients[role].get("/policies/POL-03/").status_code == 200, role
    assert clients[None].get("/policies/").status_code == 302
    page = signed_in(ADA, Role.EMPLOYEE).get("/policies/").content.decode()
    navigation = page.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert re.findall(r'<a href="([^"]+)"', navigation) == ["/policies/"]
    assert '<a class="brand" href="/policies/">' in page


def test_an_employee_signing_in_starts_at_the_policies(programme: Programme) -> None:
    make_person(ADA, Role.EMPLOYEE)
    response = Client().post("/accounts/login/", {"login": ADA, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/policies/"


def test_the_auditor_reads_but_is_offered_no_button(programme: Programme) -> None:
    client = signed_in("auditor@audit-firm.example", Role.AUDITOR)
    page = client.get("/policies/POL-01/").content.decode()
    assert "<form" not in page.split("<main>")[1].replace('<form method="get"', "")
    assert "Your role reads the policies; it does not acknowledge them." in page
    assert client.post("/policies/POL-01/acknowledge", {"version": "1.0"}).status_code == 403
    assert not Record.objects.filter(kind="acknowledgements").exists()


def test_a_person_not_on_the_roster_is_not_asked(programme: Programme, clients: Clients) -> None:
    client = clients[Role.EMPLOYEE]  # employee@acme.example: on no roster
    page = client.get("/policies/POL-01/").content.decode()
    assert "I have read and accept" not in page
    assert "on neither the roster nor the programme file" in page
    response = client.post("/policies/POL-01/acknowledge", {"version": "1.0"}, follow=True)
    assert "Not recorded:" in response.content.decode()
    assert not Record.objects.filter(kind="acknowledgements").exists()


def test_only_policies_in_force_are_shown(programme: Programme) -> None:
    service.edit(programme, KINDS["policies"], "POL-04", {"status": "draft"}, registers.AUTHOR)
    client = signed_in(ADA, Role.EMPLOYEE)
    assert "/policies/POL-04/" not in client.get("/policies/").content.decode()
    assert client.get("/policies/POL-04/").status_code == 404
    assert client.post("/policies/POL-04/acknowledge", {"version": "1.0"}).status_code == 404
    assert client.get("/policies/POL-99/").status_code == 404


HOSTILE_BODY = "\n\n".join(
    (
        "## Scope <script>alert('body')</script>",
        "<img src=x onerror=alert(1)> [click](javascript:alert(1))",
        "Signed: admin\u202egpj.exe",
    )
)


def test_a_hostile_policy_body_is_shown_inert(programme: Programme) -> None:
    service.edit(programme, KINDS["policies"], "POL-05", {"body": HOSTILE_BODY}, registers.AUTHOR)
    client = signed_in(ADA, Role.EMPLOYEE)
    admin = signed_in("reader@acme.example", Role.ADMIN)
    for reader, url in ((client, "/policies/POL-05/"), (admin, "/registers/policies/POL-05/")):
        page = reader.get(url).content.decode()
        _assert_inert(url, page)
        assert "<h2>Scope &lt;script&gt;alert('body')&lt;/script&gt;</h2>" in page
        assert "[click](javascript:alert(1))" in page
        assert "admin\\u202egpj.exe" in page and "\u202e" not in page
