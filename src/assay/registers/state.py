"""What the registers held when a run judged them: one document in the run's evidence.

A run stores the current records of every register and every owner-evidence submission as one
``registers`` statement, and its checks read them from that document alone, so their verdicts can
be replayed from the locker like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assay.registers.kinds import (
    Acknowledgement,
    ControlException,
    Incident,
    Policy,
    ReportException,
    Risk,
    UserEntityControl,
    VendorReview,
)

STATEMENT_KIND = "registers"


@dataclass(frozen=True)
class SubmissionFact:
    """A submission as a run records it (and as checks read it back)."""

    control: str
    window: str
    state: str
    submitted_by: str
    submitted_at: datetime
    decided_by: str
    decided_at: datetime | None
    statement_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "window": self.window,
            "state": self.state,
            "submitted_by": self.submitted_by,
            "submitted_at": self.submitted_at.isoformat(),
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "statement_id": self.statement_id,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SubmissionFact:
        decided = raw.get("decided_at")
        return cls(
            control=str(raw["control"]),
            window=str(raw["window"]),
            state=str(raw["state"]),
            submitted_by=str(raw["submitted_by"]),
            submitted_at=datetime.fromisoformat(raw["submitted_at"]),
            decided_by=str(raw.get("decided_by") or ""),
            decided_at=datetime.fromisoformat(decided) if decided else None,
            statement_id=str(raw["statement_id"]),
        )


@dataclass(frozen=True)
class RegisterState:
    """Every register as a run saw it, typed; ``sha256`` is the stored document's."""

    sha256: str = ""
    risks: tuple[Risk, ...] = ()
    vendors: tuple[VendorReview, ...] = ()
    report_exceptions: tuple[ReportException, ...] = ()
    user_entity_controls: tuple[UserEntityControl, ...] = ()
    incidents: tuple[Incident, ...] = ()
    policies: tuple[Policy, ...] = ()
    acknowledgements: tuple[Acknowledgement, ...] = ()
    exceptions: tuple[ControlException, ...] = ()
    submissions: tuple[SubmissionFact, ...] = field(default=())

    @classmethod
    def from_document(cls, document: Mapping[str, Any], sha256: str) -> RegisterState:
        registers = document.get("registers", {})

        def records(name: str, model: Any) -> tuple[Any, ...]:
            return tuple(model.model_validate(raw) for raw in registers.get(name, ()))

        return cls(
            sha256=sha256,
            risks=records("risks", Risk),
            vendors=records("vendors", VendorReview),
            report_exceptions=records("report-exceptions", ReportException),
            user_entity_controls=records("user-entity-controls", UserEntityControl),
            incidents=records("incidents", Incident),
            policies=records("policies", Policy),
            acknowledgements=records("acknowledgements", Acknowledgement),
            exceptions=records("exceptions", ControlException),
            submissions=tuple(
                SubmissionFact.from_dict(raw) for raw in document.get("owner_evidence", ())
            ),
        )


def document(
    registers: Mapping[str, list[dict[str, Any]]],
    submissions: tuple[SubmissionFact, ...],
    as_of: datetime,
) -> dict[str, Any]:
    return {
        "kind": STATEMENT_KIND,
        "as_of": as_of.isoformat(),
        "registers": dict(registers),
        "owner_evidence": [s.to_dict() for s in submissions],
    }
