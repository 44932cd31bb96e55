"""The API's registers and evidence requests: records paged like every list, one record with its
history, every owner-evidence window filtered by control, state and owner; the same roles as the
pages (employees and reviewers none of it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from tests.web import registers
from tests.web.test_api import get

from assay.programme import load
from assay.programme.model import Programme
from assay.registers import owner_evidence
from assay.registers.models import Change, Record
from assay.registers.windows import statuses
from assay.web.roles import Role
from assay.web.views.owner_evidence import today

pytestmark = [pytest.mark.db, pytest.mark.django_db]
Clients = dict[Role | None, Client]


@pytest.fixture
def programme(served: Path) -> Programme:
    registers.name_owners(served)
    made = load(served)
    registers.add_records(made)
    registers.add_starter_policies(made)
    return made


def all_pages(client: Client, path: str, query: str = "") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = get(client, f"{path}?limit=5&offset={len(found)}{query}")
        assert page["limit"] == 5
        found += page["items"]
        if len(found) >= page["total"]:
            assert len(found) == page["total"]
            return found


def test_a_register_pages_its_current_records(programme: Programme, clients: Clients) -> None:
    client = clients[Role.AUDITOR]
    policies = all_pages(client, "/registers/policies")
    assert [p["key"] for p in policies] == [f"POL-{n:02d}" for n in range(1, 13)]
    first = policies[0]
    row = Record.objects.get(kind="policies", key="POL-01")
    assert first["record"] == row.document and first["version"] == 1
    assert first["statement_id"] == row.statement_id and first["changed_by"] == registers.AUTHOR
    assert get(client, "/registers/risks")["items"][0]["record"]["likelihood"] == 3
    assert get(client, "/registers/acknowledgements") == {
        "total": 0,
        "limit": 100,
        "offset": 0,
        "kind": "acknowledgements",
        "items": [],
    }
    get(client, "/registers/nothing", 404)
    get(client, "/registers/risks?limit=0", 422)
    get(client, "/registers/risks?sort=key", 422)


def test_a_record_with_its_history(programme: Programme, clients: Clients) -> None:
    client = clients[Role.CONTROL_OWNER]
    vendor = get(client, "/registers/vendors/Amazon%20Web%20Services")
    assert vendor["record"]["report"] == "soc2_type2"
    change = Change.objects.get(kind="vendors")
    [entry] = vendor["history"]
    assert entry.pop("at").startswith(change.at.strftime("%Y-%m-%dT%H:%M:%S."))
    assert entry == {
        "version": 1,
        "action": "created",
        "reason": "",
        "author": registers.AUTHOR,
        "statement_id": change.statement_id,
    }
    get(client, "/registers/risks/R-404", 404)
    get(client, "/registers/nothing/R-01", 404)


def test_evidence_requests_filtered_by_control_state_and_owner(
    programme: Programme, clients: Clients
) -> None:
    client = clients[Role.PROGRAMME_OWNER]
    every = statuses(programme, owner_evidence.submission_facts(), today())
    page = get(client, "/evidence-requests?limit=500")
    assert page["total"] == len(every)
    first = page["items"][0]
    assert set(first) == {
        "control",
        "window",
        "start",
        "end",
        "due",
        "state",
        "owner",
        "late",
        "submission",
    }
    control = registers.owned_control(programme, registers.SECURITY)
    mine = all_pages(client, "/evidence-requests", f"&control={control.id}")
    assert mine and {w["control"] for w in mine} == {control.id}
    assert [w["window"] for w in mine] == [s.window.label for s in every if s.control == control.id]
    overdue = all_pages(client, "/evidence-requests", f"&state=overdue&owner={registers.SECURITY}")
    assert overdue and {(w["state"], w["owner"]) for w in overdue} == {
        ("overdue", registers.SECURITY)
    }
    assert len(overdue) == len(
        [s for s in every if s.state.value == "overdue" and s.owner == registers.SECURITY]
    )
    get(client, "/evidence-requests?state=late", 422)
    get(client, "/evidence-requests?who=me", 422)


def test_a_submission_shows_in_its_window(programme: Programme, clients: Clients) -> None:
    control = registers.owned_control(programme, registers.SECURITY)
    window = registers.window_now(programme, control)
    made = owner_evidence.submit(
        programme, control.id, [("a.txt", b"a")], "note", registers.SECURITY, window=window.label
    )
    found = get(clients[Role.AUDITOR], f"/evidence-requests?control={control.id}")["items"]
    answered = next(w for w in found if w["window"] == window.label)
    assert answered["state"] == "awaiting review"
    assert answered["submission"]["submitted_by"] == registers.SECURITY
    assert answered["submission"]["statement_id"] == made.statement_id


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.REVIEWER, None])
def test_employees_reviewers_and_strangers_call_none_of_it(
    programme: Programme, clients: Clients, role: Role | None
) -> None:
    status = 401 if role is None else 403
    for path in ("/registers/risks", "/registers/risks/R-01", "/evidence-requests"):
        get(clients[role], path, status)
