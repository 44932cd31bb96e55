"""``assay evidence reindex`` rebuilds the registers and owner evidence from the locker alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.registers.conftest import OWNER, SECURITY, statements

from assay.programme.model import Programme
from assay.registers import service
from assay.registers.kinds import KINDS
from assay.registers.models import Change, Record, Submission
from assay.registers.owner_evidence import PastSubmission, decide, record_history, submit
from assay.registers.rebuild import rebuild

pytestmark = [pytest.mark.db, pytest.mark.django_db]

AT = datetime(2026, 4, 3, 9, 0, tzinfo=UTC)


def _rows() -> tuple[list[Any], list[Any], list[Any]]:
    records = list(
        Record.objects.order_by("kind", "key").values_list(
            "kind", "key", "document", "version", "statement_id", "changed_by"
        )
    )
    changes = list(
        Change.objects.order_by("kind", "key", "version").values_list(
            "kind", "key", "version", "action", "author", "statement_id", "document"
        )
    )
    submissions = list(
        Submission.objects.order_by("control_id", "window", "submitted_at").values_list(
            "control_id",
            "window",
            "note",
            "files",
            "submitted_by",
            "statement_id",
            "state",
            "decided_by",
            "reason",
            "decision_statement_id",
        )
    )
    return records, changes, submissions


def test_the_registers_come_back_from_the_locker_as_they_were(programme: Programme) -> None:
    risks = KINDS["risks"]
    service.add(
        programme,
        risks,
        {"id": "R-1", "title": "Takeover", "likelihood": 4, "impact": 5, "owner": SECURITY},
        SECURITY,
    )
    service.edit(programme, risks, "R-1", {"last_reviewed": "2026-03-01"}, OWNER)
    kept = submit(
        programme,
        "GV-02",
        [("minutes.txt", b"minutes")],
        "Reviewed",
        OWNER,
        window="2026-Q1",
        at=AT,
    )
    returned = submit(
        programme,
        "VR-02",
        [("list.csv", b"vendors")],
        "Inventory",
        SECURITY,
        window="2026-Q1",
        at=AT,
    )
    decide(programme, kept.pk, True, SECURITY, may_decide=True, at=AT + timedelta(hours=1))
    decide(
        programme,
        returned.pk,
        False,
        OWNER,
        may_decide=True,
        reason="Lists no owners",
        at=AT + timedelta(hours=2),
    )
    # Sent back, then the same file again for the same window: each cites its own attachment.
    submit(
        programme,
        "VR-02",
        [("list.csv", b"vendors")],
        "Inventory, with owners",
        SECURITY,
        window="2026-Q1",
        at=AT + timedelta(hours=3),
    )
    record_history(
        programme,
        [
            PastSubmission(
                control="GV-02",
                window="2026-Q2",
                submitted_by=OWNER,
                submitted_at=AT + timedelta(days=90),
                note="Reviewed again",
                files=(("q2.txt", b"q2"),),
                decided_by=SECURITY,
                decided_at=AT + timedelta(days=91),
            )
        ],
        "migration",
    )
    before = _rows()
    assert len(before[2]) == 4

    Record.objects.all().delete()
    Change.objects.all().delete()
    Submission.objects.all().delete()
    from assay.evidence.service import open_locker

    logged = [(index, *numbered) for index, numbered in enumerate(statements(programme))]
    assert rebuild(open_locker(programme), logged) == (2, 4)
    assert _rows() == before
