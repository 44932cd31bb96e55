"""Owner evidence: the named owner submits files and a note for a window, someone else who may
decide accepts it or sends it back, every step a statement in the locker; a history is recorded
whole or not at all."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.registers.conftest import IT, OWNER, SECURITY, log_files, statements

from assay.cli import main
from assay.errors import InputError
from assay.evidence.service import open_locker
from assay.evidence.statements import Statement
from assay.programme.model import Programme
from assay.registers import owner_evidence
from assay.registers.models import Submission
from assay.registers.owner_evidence import PastSubmission, decide, record_history, submit
from assay.registers.windows import WindowState, evidenced_controls, statuses

pytestmark = [pytest.mark.db, pytest.mark.django_db]

CONTROL = "VR-02"  # quarterly, the Security lead's
AT = datetime(2026, 4, 3, 15, tzinfo=UTC)
FILES = [("review.pdf", b"%PDF-1.7 vendor review minutes"), ("list.csv", b"vendor,read\nAWS,yes\n")]


def _blob(programme: Programme, statement: Statement) -> bytes:
    return open_locker(programme).blob(statement)


def _document(programme: Programme, statement: Statement) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(_blob(programme, statement))
    return found


def _submitted(programme: Programme, **options: Any) -> Submission:
    arguments: dict[str, Any] = {"window": "2026-Q1", "at": AT, **options}
    return submit(programme, CONTROL, FILES, "Quarterly vendor review held", SECURITY, **arguments)


def test_the_named_owner_submits_files_and_a_note_into_the_locker(programme: Programme) -> None:
    made = _submitted(programme)

    assert (made.control_id, made.window, made.state) == (CONTROL, "2026-Q1", "pending")
    assert (made.submitted_by, made.submitted_at, made.note) == (
        SECURITY,
        AT,
        "Quarterly vendor review held",
    )
    by_id = dict(statements(programme))
    files = [by_id[f["statement_id"]] for f in made.files]
    assert [(s.kind, s.subject) for s in files] == [
        ("attachment", "owner-evidence/VR-02/2026-Q1/review.pdf"),
        ("attachment", "owner-evidence/VR-02/2026-Q1/list.csv"),
    ]
    assert [_blob(programme, s) for s in files] == [data for _, data in FILES]
    assert [f["sha256"] for f in made.files] == [hashlib.sha256(d).hexdigest() for _, d in FILES]
    statement = by_id[made.statement_id]
    assert (statement.kind, statement.subject) == ("owner-evidence", "VR-02/2026-Q1")
    assert dict(statement.parameters) == {
        "control": CONTROL,
        "window": "2026-Q1",
        "action": "submitted",
        "by": SECURITY,
    }
    document = _document(programme, statement)
    assert document["note"] == "Quarterly vendor review held"
    assert [f["name"] for f in document["files"]] == ["review.pdf", "list.csv"]


def test_without_a_window_the_one_due_is_answered(programme: Programme) -> None:
    made = submit(programme, CONTROL, FILES[:1], "Held", SECURITY, at=AT)
    assert made.window == "2026-Q1"  # ended on 31 March, due on 14 April
    later = submit(
        programme, CONTROL, FILES[:1], "Held", SECURITY, at=datetime(2026, 4, 20, tzinfo=UTC)
    )
    assert later.window == "2026-Q2"


def test_someone_other_than_the_owner_is_refused_and_nothing_is_written(
    programme: Programme,
) -> None:
    before = log_files(programme)
    with pytest.raises(InputError, match=r"only its owner \(sam@acme\.example\)"):
        submit(programme, CONTROL, FILES, "Mine", IT, window="2026-Q1", at=AT)
    assert not Submission.objects.exists()
    assert log_files(programme) == before


@pytest.mark.parametrize(
    ("control", "files", "note", "window", "message"),
    [
        ("AC-03", FILES, "Note", "2026-Q1", "not evidenced by its owner"),
        ("PI-03", FILES, "Note", "2026-Q1", "not evidenced by its owner"),  # not in scope
        (CONTROL, FILES, "Note", "2026-Q5", "no window '2026-Q5'"),
        (CONTROL, FILES, "  ", "2026-Q1", "say what the evidence shows"),
        (CONTROL, [], "Note", "2026-Q1", "at least one file"),
    ],
)
def test_a_submission_that_cannot_stand_writes_nothing(
    programme: Programme,
    control: str,
    files: list[tuple[str, bytes]],
    note: str,
    window: str,
    message: str,
) -> None:
    before = log_files(programme)
    with pytest.raises(InputError, match=message):
        submit(programme, control, files, note, SECURITY, window=window, at=AT)
    assert not Submission.objects.exists()
    assert log_files(programme) == before


def test_the_programme_owner_accepts_and_the_decision_is_a_statement(
    programme: Programme,
) -> None:
    made = _submitted(programme)
    decided_at = datetime(2026, 4, 6, 9, tzinfo=UTC)

    accepted = decide(programme, made.pk, True, OWNER, may_decide=True, at=decided_at)

    assert (accepted.state, accepted.decided_by, accepted.decided_at) == (
        "accepted",
        OWNER,
        decided_at,
    )
    statement = dict(statements(programme))[accepted.decision_statement_id]
    assert (statement.subject, statement.previous) == ("VR-02/2026-Q1", made.statement_id)
    assert dict(statement.parameters) == {
        "control": CONTROL,
        "window": "2026-Q1",
        "action": "accepted",
        "by": OWNER,
        "submission": made.statement_id,
    }
    judged = statuses(
        programme,
        owner_evidence.submission_facts(),
        datetime(2026, 5, 1).date(),
        [c for c in evidenced_controls(programme) if c.id == CONTROL],
    )
    assert [(w.window.label, w.state) for w in judged][:2] == [
        ("2026-Q1", WindowState.ACCEPTED),
        ("2026-Q2", WindowState.OPEN),
    ]


def test_nobody_decides_their_own_submission(programme: Programme) -> None:
    own = submit(programme, "GV-02", FILES[:1], "Leadership review", OWNER, window="2026-Q1", at=AT)
    for_sam = submit(
        programme, CONTROL, FILES[:1], "For Sam", OWNER, window="2026-Q1", at=AT, may_decide=True
    )
    assert for_sam.submitted_by == OWNER
    before = log_files(programme)
    for made in (own, for_sam):
        for accept in (True, False):
            with pytest.raises(InputError, match="their own submission"):
                decide(programme, made.pk, accept, OWNER, may_decide=True, reason="no")
    assert set(Submission.objects.values_list("state", flat=True)) == {"pending"}
    assert log_files(programme) == before


def test_someone_who_may_not_decide_is_refused(programme: Programme) -> None:
    made = _submitted(programme)
    before = log_files(programme)
    with pytest.raises(InputError, match="only the programme owner"):
        decide(programme, made.pk, True, IT, may_decide=False)
    assert Submission.objects.get().state == "pending"
    assert log_files(programme) == before


def test_sending_back_needs_a_reason_and_records_it(programme: Programme) -> None:
    made = _submitted(programme)
    before = log_files(programme)
    with pytest.raises(InputError, match="say why"):
        decide(programme, made.pk, False, OWNER, may_decide=True, reason="  ")
    assert log_files(programme) == before

    returned = decide(programme, made.pk, False, OWNER, may_decide=True, reason="Minutes unsigned")

    assert (returned.state, returned.reason) == ("returned", "Minutes unsigned")
    statement = dict(statements(programme))[returned.decision_statement_id]
    assert statement.parameters["action"] == "sent back"
    assert _document(programme, statement)["reason"] == "Minutes unsigned"


def test_a_decided_submission_is_not_decided_again(programme: Programme) -> None:
    made = _submitted(programme)
    decide(programme, made.pk, False, OWNER, may_decide=True, reason="Unsigned")
    before = log_files(programme)
    with pytest.raises(InputError, match="already sent back"):
        decide(programme, made.pk, True, OWNER, may_decide=True)
    with pytest.raises(InputError, match="no such submission"):
        decide(programme, made.pk + 100, True, OWNER, may_decide=True)
    assert Submission.objects.get().state == "returned"
    assert log_files(programme) == before


def _past(**fields: Any) -> PastSubmission:
    values: dict[str, Any] = {
        "control": CONTROL,
        "window": "2026-Q1",
        "submitted_by": SECURITY,
        "submitted_at": datetime(2026, 4, 2, 15, tzinfo=UTC),
        "note": "Held in March",
        "files": (("minutes.txt", b"minutes"),),
        "decided_by": OWNER,
        "decided_at": datetime(2026, 4, 3, 15, tzinfo=UTC),
        **fields,
    }
    return PastSubmission(**values)


def test_a_history_is_recorded_with_the_times_and_people_it_states(
    programme: Programme,
) -> None:
    made = record_history(
        programme,
        [_past(), _past(window="2026-Q2", accepted=False, reason="Late minutes", files=())],
        "migration",
    )

    assert [(s.window, s.state) for s in Submission.objects.all()] == [
        ("2026-Q1", "accepted"),
        ("2026-Q2", "returned"),
    ]
    first = made[0]
    by_id = dict(statements(programme))
    submitted, decided = by_id[first.statement_id], by_id[first.decision_statement_id]
    assert submitted.collected_at == datetime(2026, 4, 2, 15, tzinfo=UTC)
    assert decided.collected_at == datetime(2026, 4, 3, 15, tzinfo=UTC)
    assert submitted.parameters["imported_by"] == decided.parameters["imported_by"] == "migration"
    assert (submitted.parameters["by"], decided.parameters["by"]) == (SECURITY, OWNER)
    [attached] = first.files
    assert _blob(programme, by_id[attached["statement_id"]]) == b"minutes"


def test_a_history_with_a_bad_entry_is_rejected_whole(programme: Programme) -> None:
    before = log_files(programme)
    entries = [
        _past(),
        _past(decided_by=SECURITY),
        _past(window="2027-Q1"),
        _past(control="AC-03"),
        _past(accepted=False),
    ]
    with pytest.raises(InputError) as rejected:
        record_history(programme, entries, "migration")
    message = str(rejected.value)
    for expected in (
        "entry 2: decided by its own submitter",
        "entry 3: no window '2027-Q1' for VR-02",
        "entry 4: AC-03 is not evidenced by its owner",
        "entry 5: sent back without a reason",
    ):
        assert expected in message
    assert "entry 1" not in message
    assert not Submission.objects.exists()
    assert log_files(programme) == before


def test_verify_passes_after_owner_evidence(
    programme: Programme, capsys: pytest.CaptureFixture[str]
) -> None:
    made = _submitted(programme)
    decide(programme, made.pk, True, OWNER, may_decide=True)
    record_history(programme, [_past(window="2026-Q2")], "migration")
    assert main(["verify", "--file", str(programme.path)]) == 0
    assert "verified:" in capsys.readouterr().out
