"""The register pages: the list with counts, a register's table, a record with its fields and its
history, and the form built from the record's model — every problem beside its field and nothing
written on a bad record; a record added or edited is a statement with its author. Admins and
programme owners change the registers; control owners and auditors read them; no one else."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from django.test import Client
from tests.web import registers

from assay.evidence.models import Checkpoint
from assay.programme import load
from assay.programme.model import Programme
from assay.registers.kinds import KINDS
from assay.registers.models import Change, Record
from assay.sample import PlantedFinding
from assay.web.models import AuditEvent
from assay.web.roles import Role

pytestmark = [pytest.mark.db, pytest.mark.django_db]
Clients = dict[Role | None, Client]
EDITORS = (Role.ADMIN, Role.PROGRAMME_OWNER)
READERS = (Role.CONTROL_OWNER, Role.AUDITOR)


@pytest.fixture
def programme(served: Path) -> Programme:
    served_programme = load(served)
    registers.add_records(served_programme)
    registers.add_starter_policies(served_programme)
    return served_programme


def html(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def test_the_registers_list_each_register_with_its_count(
    programme: Programme, clients: Clients
) -> None:
    page = html(clients[Role.AUDITOR], "/registers/")
    for kind in KINDS.values():
        count = Record.objects.filter(kind=kind.name).count()
        assert (
            f'<a href="/registers/{kind.name}/">{kind.label}</a></td>'
            f'<td class="number">{count}</td>'
        ) in page
    assert Record.objects.filter(kind="policies").count() == 12


def test_a_register_is_a_table_of_its_columns_each_row_linking_to_its_record(
    programme: Programme, clients: Clients
) -> None:
    page = html(clients[Role.CONTROL_OWNER], "/registers/risks/")
    headings = re.findall(r'<th scope="col">([^<]+)</th>', page)
    assert headings == list(KINDS["risks"].columns)
    assert '<a href="/registers/risks/R-01/">R-01</a>' in page
    # Long text is cut short in the table, whole on the record's page.
    description = str(registers.RISK["description"])
    assert description.strip() not in unescape(page)
    assert description[:40] in unescape(page)
    assert "Add a record" not in page
    vendors = html(clients[Role.AUDITOR], "/registers/vendors/")
    aws = "Amazon Web Services"
    assert f'<a href="/registers/vendors/{aws.replace(" ", "%20")}/">{aws}</a>' in vendors


def test_a_record_shows_every_field_and_its_history_of_statements(
    programme: Programme, clients: Clients
) -> None:
    page = html(clients[Role.AUDITOR], "/registers/risks/R-01/")
    text = unescape(page)
    for field in KINDS["risks"].columns:
        assert f"<dt>{field}</dt>" in page
    assert str(registers.RISK["description"]).strip() in text
    assert '<a href="/controls/AC-01/">AC-01</a>' in page
    assert "<dt>inherent_score</dt><dd>12</dd>" in page
    change = Change.objects.get(kind="risks", key="R-01")
    assert change.author == registers.AUTHOR
    assert f"<code>{change.statement_id}</code>" in page
    assert "created" in page and registers.AUTHOR in page
    assert "Edit</a>" not in page  # an auditor reads


def test_policy_and_postmortem_bodies_are_rendered_as_markdown(
    programme: Programme, clients: Clients
) -> None:
    incident = html(clients[Role.CONTROL_OWNER], "/registers/incidents/INC-7/")
    assert "<h2>What happened</h2>" in incident and "<em>looked</em>" in incident
    policy = html(clients[Role.CONTROL_OWNER], "/registers/policies/POL-01/")
    assert '<div class="markdown"><h1>' in policy or '<div class="markdown"><h2>' in policy


@pytest.mark.parametrize("role", EDITORS)
def test_admins_and_programme_owners_may_add_and_edit(
    programme: Programme, clients: Clients, role: Role
) -> None:
    client = clients[role]
    assert 'href="/registers/risks/new">Add a record</a>' in html(client, "/registers/risks/")
    assert 'href="/registers/risks/R-01/edit">Edit</a>' in html(client, "/registers/risks/R-01/")
    html(client, "/registers/risks/new")
    html(client, "/registers/risks/R-01/edit")


@pytest.mark.parametrize("role", READERS)
def test_control_owners_and_auditors_read_but_cannot_change(
    programme: Programme, clients: Clients, role: Role
) -> None:
    client = clients[role]
    assert "Add a record" not in html(client, "/registers/risks/")
    assert "/edit" not in html(client, "/registers/risks/R-01/")
    for url in ("/registers/risks/new", "/registers/risks/R-01/edit"):
        assert client.get(url).status_code == 403
        assert client.post(url, {"title": "x"}).status_code == 403
    assert Change.objects.filter(kind="risks").count() == 1


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.REVIEWER])
def test_employees_and_reviewers_open_no_register_page(
    programme: Programme, clients: Clients, role: Role
) -> None:
    for url in ("/registers/", "/registers/risks/", "/registers/risks/R-01/"):
        assert clients[role].get(url).status_code == 403
    assert clients[None].get("/registers/").status_code == 302


def test_the_form_draws_each_field_by_its_type(programme: Programme, clients: Clients) -> None:
    page = html(clients[Role.ADMIN], "/registers/incidents/new")
    assert re.search(r'<select name="severity" [^>]*>\s*<option value="" selected>', page)
    assert '<option value="critical">critical</option>' in page
    assert re.search(r'<input type="datetime-local" name="detected_at"[^>]*step="1"', page)
    assert re.search(r'<textarea name="postmortem"', page)
    assert re.search(r'<input type="text" name="controls"', page)
    risks = html(clients[Role.ADMIN], "/registers/risks/new")
    assert re.search(r'<input type="number" name="likelihood"', risks)
    assert re.search(r'<input type="date" name="last_reviewed"', risks)
    assert re.search(r'<input type="text" name="owner"', risks)  # an address, not prose
    assert '<option value="open" selected>open</option>' in risks  # the default status
    for kind in KINDS:
        html(clients[Role.PROGRAMME_OWNER], f"/registers/{kind}/new")


def _statements() -> int:
    latest = Checkpoint.objects.order_by("-seq").first()
    return latest.size if latest is not None else 0


def test_a_bad_date_and_an_unknown_owner_are_both_shown_and_nothing_is_written(
    programme: Programme, clients: Clients
) -> None:
    before = (Record.objects.count(), Change.objects.count(), _statements())
    typed = {
        "id": "R-02",
        "title": "Vendor outage <b>stops</b> sign-in",
        "likelihood": "2",
        "impact": "5",
        "owner": "nobody@acme.example",
        "last_reviewed": "2026-02-31",
        "controls": "AC-01, BC-01",
        "plan": "Keep a second provider warm.",
    }
    response = clients[Role.PROGRAMME_OWNER].post("/registers/risks/new", typed)
    assert response.status_code == 400
    page = response.content.decode()
    owner = page.split('name="owner"')[1].split("</div>")[0]
    assert "unknown person &#x27;nobody@acme.example&#x27;" in owner
    reviewed = page.split('name="last_reviewed"')[1].split("</div>")[0]
    assert 'class="problem"' in reviewed and "date" in reviewed
    assert "Nothing was saved: 2 fields to correct." in page
    # What was typed is kept, as typed (escaped).
    assert 'value="Vendor outage &lt;b&gt;stops&lt;/b&gt; sign-in"' in page
    assert 'value="2026-02-31"' in page and 'value="AC-01, BC-01"' in page
    assert "Keep a second provider warm.</textarea>" in page
    assert (Record.objects.count(), Change.objects.count(), _statements()) == before
    assert not AuditEvent.objects.filter(action="register record added").exists()


def test_a_record_added_by_the_form_is_a_statement_with_its_author(
    programme: Programme, clients: Clients, people: dict[Role, object]
) -> None:
    typed = {
        "id": "EX-1",
        "control": "ac-01",
        "systems": "okta, github",
        "justification": "Break-glass account cannot use SSO",
        "approver": registers.CEO,
        "approved_on": "2026-10-01",
        "starts": "2026-10-01",
        "expires": "2027-01-31",
        "status": "active",
    }
    response = clients[Role.PROGRAMME_OWNER].post("/registers/exceptions/new", typed)
    assert response.status_code == 302
    assert response["Location"] == "/registers/exceptions/EX-1/"
    made = Record.objects.get(kind="exceptions", key="EX-1")
    assert made.document["control"] == "AC-01"
    assert made.document["systems"] == ["okta", "github"]
    assert made.changed_by == "programme_owner@acme.example"
    change = Change.objects.get(kind="exceptions", key="EX-1")
    assert change.statement_id == made.statement_id and change.action == "created"
    event = AuditEvent.objects.get(action="register record added")
    assert event.target == "exceptions/EX-1" and event.actor == "programme_owner@acme.example"
    page = html(clients[Role.PROGRAMME_OWNER], "/registers/exceptions/EX-1/")
    assert "EX-1 added to exceptions." in page


def test_an_edit_keeps_the_key_and_adds_a_version(programme: Programme, clients: Clients) -> None:
    client = clients[Role.ADMIN]
    form = html(client, "/registers/incidents/INC-7/edit")
    assert re.search(r'<input type="text" name="id" value="INC-7"[^>]*disabled', form)
    assert 'value="2026-10-02T08:15:00"' in form  # the stored time, in UTC
    typed = {
        "id": "INC-CHANGED",
        "title": "Phishing mail reached support",
        "severity": "high",
        "status": "resolved",
        "detected_at": "2026-10-02T08:15:00",
        "contained_at": "2026-10-02T09:00:00",
        "resolved_at": "2026-10-03T17:30",
        "postmortem": "Written.",
    }
    response = client.post("/registers/incidents/INC-7/edit", typed)
    assert response.status_code == 302, response.content.decode()[:2000]
    made = Record.objects.get(kind="incidents", key="INC-7")
    assert made.version == 2 and made.document["status"] == "resolved"
    assert made.document["resolved_at"].startswith("2026-10-03T17:30:00")
    assert not Record.objects.filter(key="INC-CHANGED").exists()
    page = html(client, "/registers/incidents/INC-7/")
    assert [v for v in re.findall(r'<td class="number">(\d+)</td>', page)] == ["1", "2"]
    assert "edited" in page


def test_an_edit_that_breaks_the_record_writes_nothing(
    programme: Programme, clients: Clients
) -> None:
    typed = {
        "title": "Phishing mail reached support",
        "severity": "high",
        "detected_at": "2026-10-02T08:15:00",
        "contained_at": "2026-10-01T09:00:00",
    }
    response = clients[Role.ADMIN].post("/registers/incidents/INC-7/edit", typed)
    assert response.status_code == 400
    assert "contained_at is before detected_at" in response.content.decode()
    assert Record.objects.get(kind="incidents", key="INC-7").version == 1


def test_unknown_registers_and_records_are_not_found(
    programme: Programme, clients: Clients
) -> None:
    client = clients[Role.ADMIN]
    for url in ("/registers/nope/", "/registers/risks/R-404/", "/registers/risks/R-404/edit"):
        assert client.get(url).status_code == 404
    assert client.get("/registers/nope/new").status_code == 404


def test_a_vendor_shows_what_it_can_reach_and_its_offboarding(
    served: Path, planted: tuple[PlantedFinding, ...], clients: Clients
) -> None:
    """On the sample with its registers: AWS provides the aws system; Wikiworks was offboarded
    and the run found no app of its still in use."""
    client = clients[Role.AUDITOR]
    aws = html(client, "/registers/vendors/Amazon%20Web%20Services/")
    assert "What Amazon Web Services can reach" in aws
    assert "<td>ci-deploy:access_key_1</td>" in aws and "<td>&lt;root_account&gt;</td>" in aws
    assert "<h2>Offboarding</h2>" not in aws
    gone = html(client, "/registers/vendors/Wikiworks/")
    assert "It provides no system a run has collected" in gone
    steps = re.findall(r"<tr><td>([^<]+)</td><td>(yes|no)</td><td>([^<]+)</td></tr>", gone)
    assert [(name, done) for name, done, _ in steps] == [
        ("contract ended", "yes"),
        ("data returned or deleted", "no"),
        ("access removed", "yes"),
    ]
    assert steps[2][2] == "verified by the latest snapshot"
