"""Text a source supplies is stored at the length it came: a 10,000-character name, title or
login neither fails a run on PostgreSQL nor is cut short anywhere it is kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.connectors.okta_server import TOKEN, OktaServer

from assay.checks.models import RecordedFinding
from assay.evidence.models import EvidenceItem
from assay.inventory.models import InventoryAccount, InventoryPerson
from assay.monitor.models import Run
from assay.monitor.run import execute
from assay.programme import load

pytestmark = [pytest.mark.db, pytest.mark.django_db]
LONG = "Ω" + "x" * 9_998 + "é"


def test_ten_thousand_character_names_and_logins_are_kept_whole(sample: Path) -> None:
    roster = sample / "exports" / "hr" / "roster.csv"
    roster.write_text(
        roster.read_text().replace("Dana Reyes,,Leadership,Executive", f"{LONG},,{LONG},{LONG}")
    )
    login = f"temp.admin.{LONG}@acme.example"
    users = sample / "exports" / "okta" / "users.json"
    users.write_text(users.read_text().replace("temp.admin@acme.example", login))

    execute(load(sample / "assay.yaml"))

    assert Run.objects.get().status == Run.Status.COMPLETED
    dana = InventoryPerson.objects.get(email="dana.reyes@acme.example")
    assert (dana.name, dana.department, dana.title) == (LONG, LONG, LONG)
    assert InventoryAccount.objects.filter(system_id="okta", username=login).exists()
    assert RecordedFinding.objects.filter(system_id="okta", subject=login).exists()


def test_a_source_identifier_of_any_length_is_kept_in_the_evidence_index(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Live payload names carry the source's ids (``factors/<user id>``): the index keeps them."""
    okta = sample / "exports" / "okta"
    users = json.loads((okta / "users.json").read_text())
    long_id = "00u" + "z" * 4_000
    factors = {
        user["id"]: json.loads((okta / "factors" / f"{user['id']}.json").read_text())
        for user in users
    }
    factors[long_id] = factors.pop(users[0]["id"])
    users[0]["id"] = long_id
    monkeypatch.setenv("ASSAY_TEST_OKTA_TOKEN", TOKEN)
    programme = sample / "assay.yaml"
    with OktaServer(users, factors, [], {}) as server:
        text = programme.read_text().replace(
            "connector: {type: okta, mode: export, settings: {path: exports/okta}}",
            f"connector: {{type: okta, mode: live, settings: {{base_url: '{server.url}'}}, "
            "secrets: {token: ASSAY_TEST_OKTA_TOKEN}}",
        )
        programme.write_text(text)
        execute(load(programme))

    assert Run.objects.get().status == Run.Status.COMPLETED
    assert EvidenceItem.objects.filter(subject=f"okta/factors/{long_id}.json").exists()
