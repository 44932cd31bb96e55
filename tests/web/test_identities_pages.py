"""The identities pages give the answers ``assay identities`` gives, for the run the viewer may
see, linked person to system and back."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client
from tests.web.conftest import CROWD

from assay.cli import main
from assay.monitor.models import Run
from assay.web.roles import Role

pytestmark = [pytest.mark.db, pytest.mark.django_db]
Capture = pytest.CaptureFixture[str]
Clients = dict[Role | None, Client]


def _text(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def _cli(capsys: Capture, *arguments: str) -> object:
    capsys.readouterr()
    assert main(["identities", *arguments, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_person_page_lists_the_accounts_the_cli_lists(
    served: Path, clients: Clients, capsys: Capture
) -> None:
    who = "grace.lindqvist@acme.example"
    rows = _cli(capsys, "person", who, "--file", str(served))
    assert isinstance(rows, list) and len(rows) == 3
    body = _text(clients[Role.PROGRAMME_OWNER], f"/identities/people/{who}/")
    assert '<dt>Status</dt><dd><span class="status-failing">terminated</span>' in body
    listed = re.findall(
        r'<td><a href="/identities/systems/([^/]+)/">[^<]+</a></td><td>([^<]+)</td>', body
    )
    assert sorted(listed) == sorted((r["system"], r["account"]) for r in rows)
    for row in rows:
        assert row["how_linked"] in body
    # The same person by employee id, and looked up with the index's form.
    by_id = _cli(capsys, "person", "E1006", "--file", str(served))
    assert isinstance(by_id, list)
    page = _text(clients[Role.AUDITOR], "/identities/people/E1006/")
    assert f"{len(by_id)} accounts in run" in page
    looked_up = clients[Role.AUDITOR].get("/identities/", {"who": " E1006 "})
    assert looked_up.status_code == 302 and looked_up["Location"] == "/identities/people/E1006/"


def test_an_unknown_person_or_system_is_a_404_that_says_so(clients: Clients) -> None:
    client = clients[Role.AUDITOR]
    body = _text(client, "/identities/people/nobody@acme.example/", 404)
    assert "roster is &#x27;nobody@acme.example&#x27;" in body
    assert "no snapshot of this system" in _text(client, "/identities/systems/crm/", 404)
    refused = _text(client, "/identities/?who=a/b")
    assert "has no &#x27;/&#x27;" in refused


def test_the_index_lists_every_system_with_its_population(clients: Clients) -> None:
    body = _text(clients[Role.AUDITOR], "/identities/")
    for system in ("okta", "github", "aws", "bastion"):
        assert f'<a href="/identities/systems/{system}/">{system}</a>' in body
    assert 'action="/identities/"' in body and 'name="who"' in body


def test_a_system_population_flags_orphans_and_links_owners(
    served: Path, clients: Clients, capsys: Capture
) -> None:
    rows = _cli(capsys, "system", "github", "--file", str(served))
    assert isinstance(rows, list)
    body = _text(clients[Role.AUDITOR], "/identities/systems/github/")
    assert f"{len(rows)} accounts in run" in body
    assert '<span class="status-failing">nobody (orphan)</span>' in body
    assert (
        '<a href="/identities/people/sam.okafor@acme.example/">sam.okafor@acme.example</a>' in body
    )


def test_the_privileged_population_as_the_cli_gives_it(
    served: Path, clients: Clients, capsys: Capture
) -> None:
    rows = _cli(capsys, "privileged", "--file", str(served))
    assert isinstance(rows, list)
    client = clients[Role.AUDITOR]
    body = _text(client, "/identities/privileged/")
    assert f"{len(rows)} accounts in run" in body and "tom-becker" in body
    everything = _cli(capsys, "privileged", "--include-unknown", "--file", str(served))
    assert isinstance(everything, list)
    wider = _text(client, "/identities/privileged/?include_unknown=on")
    assert f"{len(everything)} accounts in run" in wider


def test_nonhuman_identities_with_owners_who_left_flagged(
    served: Path, clients: Clients, capsys: Capture
) -> None:
    rows = _cli(capsys, "nonhuman", "--file", str(served))
    assert isinstance(rows, list)
    body = _text(clients[Role.AUDITOR], "/identities/non-human/")
    assert f"{len(rows)} service accounts" in body
    gone = [r for r in rows if r["owner_status"].startswith("left on")]
    assert gone
    for row in gone:
        assert f'<span class="status-failing">{row["owner_status"]}</span>' in body
        assert row["identity"] in body


def test_leavers_show_the_planted_late_deprovisioning(clients: Clients) -> None:
    body = _text(clients[Role.AUDITOR], "/identities/leavers/")
    assert "within 24 h" in body
    row = re.search(
        r"<tr><td><a href=\"/identities/people/tariq\.aziz@acme\.example/\">.*?</tr>", body, re.S
    )
    assert row is not None
    assert '<a href="/identities/systems/okta/">okta</a>' in row.group()
    assert '<td class="number">75</td>' in row.group()
    assert '<span class="status-failing">no</span>' in row.group()
    noah = re.search(r"noah\.mensah@acme\.example/\">.*?</tr>", body, re.S)
    assert noah is not None and '<td class="number">6</td>' in noah.group()


def test_a_long_population_is_paged(crowded: Path, clients: Clients) -> None:
    client = clients[Role.AUDITOR]
    row = '<td><a href="/identities/systems/github/">github</a></td>'
    first = _text(client, "/identities/systems/github/")
    assert first.count(row) == 100 and "Page 1 of 2" in first
    assert 'href="?page=2" rel="next"' in first
    second = _text(client, "/identities/systems/github/?page=2")
    total = int(re.search(r"(\d+) accounts in run", first).group(1))  # type: ignore[union-attr]
    assert total > CROWD and second.count(row) == total - 100


def test_the_auditor_sees_no_identities_from_a_run_outside_the_period(
    clients: Clients,
) -> None:
    Run.objects.update(started_at=datetime(2000, 1, 1, tzinfo=UTC))
    for url in ("/identities/", "/identities/leavers/", "/identities/people/E1006/"):
        body = _text(clients[Role.AUDITOR], url)
        assert "No data: no completed run falls inside the audit period" in body
        assert "tariq.aziz" not in body and "<table>" not in body
    assert "tariq.aziz" in _text(clients[Role.PROGRAMME_OWNER], "/identities/leavers/")
