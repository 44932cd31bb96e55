"""Changing a register: each change is a statement in the locker, chained per record; a change
that fails writes nothing; acknowledgements are kept once per version; the locker still verifies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.registers.conftest import OWNER, SECURITY, log_files, statements

from assay.cli import main
from assay.errors import InputError
from assay.evidence.service import open_locker
from assay.evidence.statements import Statement
from assay.programme.model import Programme
from assay.registers import service
from assay.registers.kinds import KINDS
from assay.registers.models import Change, Record

pytestmark = [pytest.mark.db, pytest.mark.django_db]

RISKS = KINDS["risks"]
POLICIES = KINDS["policies"]
RISK: dict[str, Any] = {
    "id": "R-1",
    "title": "Takeover of the production account",
    "likelihood": 4,
    "impact": 5,
    "owner": SECURITY,
    "controls": ["AC-03", "ac-09"],
    "last_reviewed": "2026-02-01",
}
POLICY: dict[str, Any] = {
    "id": "POL-01",
    "title": "Information security policy",
    "version": "1.0",
    "owner": SECURITY,
    "approver": OWNER,
    "approved_on": "2026-01-10",
    "controls": ["GV-01"],
}


def _register_statements(programme: Programme) -> list[tuple[str, Statement]]:
    return [(i, s) for i, s in statements(programme) if s.kind == service.STATEMENT_KIND]


def _blob(programme: Programme, statement: Statement) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(open_locker(programme).blob(statement))
    return document


def test_adding_a_record_appends_its_statement_and_keeps_it_as_current(
    programme: Programme,
) -> None:
    row = service.add(programme, RISKS, RISK, SECURITY)

    assert (row.kind, row.key, row.version, row.changed_by) == ("risks", "R-1", 1, SECURITY)
    assert row.document["controls"] == ["AC-03", "AC-09"]
    [(identifier, statement)] = _register_statements(programme)
    assert identifier == row.statement_id
    assert (statement.kind, statement.subject) == ("register", "risks/R-1")
    assert statement.previous is None
    assert dict(statement.parameters) == {
        "register": "risks",
        "key": "R-1",
        "action": "created",
        "version": 1,
        "author": SECURITY,
    }
    stored = _blob(programme, statement)
    assert stored["record"] == row.document
    assert (stored["author"], stored["version"], stored["action"]) == (SECURITY, 1, "created")
    [change] = Change.objects.all()
    assert (change.version, change.action, change.author, change.statement_id) == (
        1,
        "created",
        SECURITY,
        identifier,
    )
    assert service.records_of(RISKS) == [RISKS.parse(RISK)]


def test_an_edit_bumps_the_version_and_chains_to_the_previous_statement(
    programme: Programme,
) -> None:
    first = service.add(programme, RISKS, RISK, SECURITY)
    first_statement = first.statement_id

    changes = {"residual_likelihood": 2, "residual_impact": 5, "id": "R-9"}
    edited = service.edit(programme, RISKS, "R-1", changes, OWNER)

    assert (edited.key, edited.version, edited.changed_by) == ("R-1", 2, OWNER)
    assert Record.objects.get().document["residual_impact"] == 5
    assert not Record.objects.filter(key="R-9").exists()
    found = _register_statements(programme)
    assert [s.parameters["version"] for _, s in found] == [1, 2]
    (one, _), (two, second) = found
    assert one == first_statement and two == edited.statement_id
    assert second.previous == first_statement
    stored = _blob(programme, second)
    assert (stored["author"], stored["version"], stored["action"]) == (OWNER, 2, "edited")
    assert stored["record"]["residual_likelihood"] == 2
    assert stored["record"]["title"] == RISK["title"]
    assert [(c.version, c.action, c.author) for c in service.history(RISKS, "R-1")] == [
        (1, "created", SECURITY),
        (2, "edited", OWNER),
    ]


def test_statements_of_different_records_chain_separately(programme: Programme) -> None:
    service.add(programme, RISKS, RISK, SECURITY)
    other = service.add(programme, RISKS, {**RISK, "id": "R-2"}, SECURITY)
    [statement] = [s for i, s in _register_statements(programme) if i == other.statement_id]
    assert statement.previous is None


def test_a_rejected_record_writes_nothing_and_lists_every_problem(programme: Programme) -> None:
    service.add(programme, RISKS, RISK, SECURITY)
    before = log_files(programme)

    with pytest.raises(service.RecordsRejected) as rejected:
        service.add(
            programme,
            RISKS,
            {**RISK, "id": "R-2", "impact": 7, "owner": "nobody@acme.example"},
            SECURITY,
            where="form",
        )
    assert ("form", "impact") in [(p.where, p.field) for p in rejected.value.problems]

    with pytest.raises(service.RecordsRejected) as rejected:
        service.add(
            programme,
            RISKS,
            {**RISK, "id": "R-2", "owner": "nobody@acme.example", "controls": ["ZZ-01"]},
            SECURITY,
            where="form",
        )
    assert [(p.where, p.field, p.message) for p in rejected.value.problems] == [
        ("form", "owner", "unknown person 'nobody@acme.example'"),
        ("form", "controls", "unknown control 'ZZ-01'"),
    ]
    assert "2 problem(s), nothing written" in str(rejected.value)

    with pytest.raises(service.RecordsRejected, match="already has 'R-1'"):
        service.add(programme, RISKS, RISK, SECURITY)

    assert list(Record.objects.values_list("key", "version")) == [("R-1", 1)]
    assert Change.objects.count() == 1
    assert log_files(programme) == before


def test_a_rejected_edit_leaves_the_record_and_the_locker_as_they_were(
    programme: Programme,
) -> None:
    service.add(programme, RISKS, RISK, SECURITY)
    before = log_files(programme)

    with pytest.raises(service.RecordsRejected) as rejected:
        service.edit(programme, RISKS, "R-1", {"residual_likelihood": 2}, OWNER)
    assert "given together" in rejected.value.problems[0].message
    with pytest.raises(service.RecordsRejected):
        service.edit(programme, RISKS, "R-1", {"colour": "red"}, OWNER)
    with pytest.raises(InputError, match="no record 'R-7'"):
        service.edit(programme, RISKS, "R-7", {"impact": 1}, OWNER)

    row = Record.objects.get()
    assert (row.version, row.document) == (1, RISKS.parse(RISK).model_dump(mode="json"))
    assert Change.objects.count() == 1
    assert log_files(programme) == before


def test_an_acknowledgement_is_recorded_once_per_version(programme: Programme) -> None:
    service.add(programme, POLICIES, POLICY, SECURITY)

    first = service.acknowledge(programme, "POL-01", "Kim@Acme.example", "kim@acme.example")
    assert first.key == "POL-01@1.0:kim@acme.example"
    assert first.document["person"] == "kim@acme.example"
    count = len(statements(programme))
    again = service.acknowledge(programme, "POL-01", "kim@acme.example", "kim@acme.example")
    assert again.pk == first.pk and again.version == 1
    assert len(statements(programme)) == count
    [(_, statement)] = [
        (i, s)
        for i, s in _register_statements(programme)
        if s.subject.startswith("acknowledgements/")
    ]
    assert statement.parameters["action"] == "acknowledged"

    service.edit(programme, POLICIES, "POL-01", {"version": "2.0"}, SECURITY, action="approved")
    second = service.acknowledge(programme, "POL-01", "kim@acme.example", "kim@acme.example")
    assert second.key == "POL-01@2.0:kim@acme.example"
    assert sorted(Record.objects.filter(kind="acknowledgements").values_list("key", flat=True)) == [
        "POL-01@1.0:kim@acme.example",
        "POL-01@2.0:kim@acme.example",
    ]


def test_an_acknowledgement_is_never_edited(programme: Programme) -> None:
    service.add(programme, POLICIES, POLICY, SECURITY)
    made = service.acknowledge(programme, "POL-01", "kim@acme.example", "kim@acme.example")
    with pytest.raises(InputError, match="never edited"):
        service.edit(programme, KINDS["acknowledgements"], made.key, {"version": "9"}, OWNER)


@pytest.mark.parametrize("status", ["retired", "draft"])
def test_only_an_active_policy_is_acknowledged(programme: Programme, status: str) -> None:
    service.add(programme, POLICIES, {**POLICY, "status": status}, SECURITY)
    before = log_files(programme)
    with pytest.raises(InputError, match=f"POL-01 is {status}, not active"):
        service.acknowledge(programme, "POL-01", "kim@acme.example", "kim@acme.example")
    assert not Record.objects.filter(kind="acknowledgements").exists()
    assert log_files(programme) == before


def test_an_acknowledgement_names_a_known_person_and_policy(programme: Programme) -> None:
    service.add(programme, POLICIES, POLICY, SECURITY)
    before = log_files(programme)
    with pytest.raises(service.RecordsRejected, match=r"unknown person 'stranger@acme\.example'"):
        service.acknowledge(programme, "POL-01", "stranger@acme.example", OWNER)
    with pytest.raises(InputError, match="no record 'POL-02'"):
        service.acknowledge(programme, "POL-02", "kim@acme.example", OWNER)
    assert log_files(programme) == before


def test_the_state_a_run_records_holds_every_register_by_kind(programme: Programme) -> None:
    service.add(programme, RISKS, RISK, SECURITY)
    service.add(programme, POLICIES, POLICY, SECURITY)
    documents = service.state()
    assert set(documents) == set(KINDS)
    assert [d["id"] for d in documents["risks"]] == ["R-1"]
    assert [d["id"] for d in documents["policies"]] == ["POL-01"]
    assert documents["incidents"] == []


def test_verify_passes_after_register_changes(
    programme: Programme, capsys: pytest.CaptureFixture[str]
) -> None:
    service.add(programme, RISKS, RISK, SECURITY)
    service.edit(programme, RISKS, "R-1", {"impact": 3}, OWNER)
    service.add(programme, POLICIES, POLICY, SECURITY)
    service.acknowledge(programme, "POL-01", "kim@acme.example", "kim@acme.example")
    total = len(statements(programme))
    assert total == 4

    assert main(["verify", "--file", str(programme.path)]) == 0
    out = capsys.readouterr().out
    assert f"verified: {total} statements, 4 checkpoints" in out
