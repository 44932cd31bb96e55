"""Text a source supplies is stored at the length it came: a 10,000-character name, title or
login neither fails a run on PostgreSQL nor is cut short anywhere it is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.checks.models import RecordedFinding
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
