"""The scope page: the boundary assay.yaml declares, what the run read, vendors, the lint."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.test import Client
from django.utils.html import escape

from assay.catalog import load_catalog
from assay.inventory.models import InventorySystem
from assay.programme import load
from assay.programme.lint import lint
from assay.web.roles import Role

pytestmark = [pytest.mark.db, pytest.mark.django_db]


def test_every_system_shows_its_decision_reason_and_last_collection(
    served: Path, clients: dict[Role | None, Client]
) -> None:
    programme = load(served)
    response = clients[Role.PROGRAMME_OWNER].get("/scope/")
    assert response.status_code == 200
    html = response.content.decode()
    collected = {row.system_id: row for row in InventorySystem.objects.all()}
    assert collected, "the sample run collects systems"
    for system in programme.systems:
        row = html.split(f'id="system-{system.id}"', 1)[1].split("</tr>", 1)[0]
        assert escape(system.reason) in row
        assert ("<td>in</td>" if system.in_scope else "<td>out</td>") in row
        if system.connector is not None:
            assert f"{system.connector.type} ({system.connector.mode})" in row
        if system.id in collected:
            made = collected[system.id]
            assert made.collected_at.strftime("%Y-%m-%d %H:%M:%S") in row
            shown = ">complete</span>" if made.complete else ">incomplete</span>: "
            assert shown in row
            for kind, count in made.counts.items():
                assert f"{kind} {count}" in row
    for vendor in programme.vendors:
        assert escape(vendor.name) in html
    notes = lint(programme, load_catalog(), date.today())
    assert notes, "the sample plants scope gaps"
    for note in notes:
        assert escape(note.message) in html and note.rule in html


def test_connector_settings_are_shown_to_the_programme_owner_never_to_the_auditor(
    served: Path, clients: dict[Role | None, Client]
) -> None:
    programme = load(served)
    settings = [
        (key, str(value))
        for system in programme.systems
        if system.connector is not None
        for key, value in system.connector.settings.items()
    ]
    assert settings
    owner = clients[Role.PROGRAMME_OWNER].get("/scope/").content.decode()
    auditor_response = clients[Role.AUDITOR].get("/scope/")
    assert auditor_response.status_code == 200
    auditor = auditor_response.content.decode()
    assert "Connector settings" in owner and "Connector settings" not in auditor
    for key, value in settings:
        assert f"<dt>{escape(key)}</dt><dd><code>{escape(value)}</code></dd>" in owner
        assert f"<code>{escape(value)}</code>" not in auditor
    # The auditor still sees the decisions.
    assert escape(programme.systems[0].reason) in auditor


def test_the_auditor_sees_no_collection_from_outside_the_audit_period(
    served: Path, clients: dict[Role | None, Client]
) -> None:
    text = served.read_text()
    programme = load(served)
    period = programme.audit.period
    served.write_text(
        text.replace(
            f"period: {{start: {period.start}, end: {period.end}}}",
            "period: {start: 2020-01-01, end: 2020-12-31}",
        )
    )
    assert load(served).audit.period.start == date(2020, 1, 1)
    auditor = clients[Role.AUDITOR].get("/scope/").content.decode()
    owner = clients[Role.PROGRAMME_OWNER].get("/scope/").content.decode()
    assert "not collected by the latest run in view" in auditor
    assert "complete</span>" not in auditor
    assert ">complete</span>" in owner
