"""The registers and owner evidence as the web tests need them on the sample organisation: a named
owner for every owner role, starter policies in the policy register, a few records of the other
registers, and the owner-evidenced control each owner answers for."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from assay.catalog import Control, load_catalog
from assay.programme import load
from assay.programme.model import Programme
from assay.registers import service
from assay.registers.kinds import KINDS
from assay.registers.starter import starter_policies
from assay.registers.windows import Window, current_window, evidenced_controls, windows_of

CEO = "dana.reyes@acme.example"
"""The programme owner of the sample, and the Chief executive: owns GV-02 (quarterly)."""
SECURITY = "yara.salem@acme.example"
"""The Security lead: a control owner."""
OWNERS = {
    "Chief executive": CEO,
    "Security lead": SECURITY,
    "Infrastructure lead": "sam.okafor@acme.example",
    "Engineering manager": "tom.becker@acme.example",
    "IT administrator": SECURITY,
    "Privacy officer": "priya.natarajan@acme.example",
    "People operations": "esme.hale@acme.example",
    "Legal counsel": "priya.natarajan@acme.example",
    "Product manager": "oscar.nilsson@acme.example",
}
AUTHOR = "dana.reyes@acme.example"


def name_owners(programme_file: Path) -> Programme:
    """Give every owner role of the catalog to a person on the sample's roster (unless the
    sample already names its owners)."""
    text = programme_file.read_text(encoding="utf-8")
    if "\nowners:" not in text:
        lines = "".join(f"  {role}: {email}\n" for role, email in OWNERS.items())
        programme_file.write_text(f"{text.rstrip()}\n\nowners:\n{lines}", encoding="utf-8")
    return load(programme_file)


def add_starter_policies(programme: Programme, approved: date | None = None) -> None:
    """The starter policies as version 1.0, active, approved by the programme owner."""
    kind = KINDS["policies"]
    made = [
        service.Proposed(
            kind.parse(
                {
                    "id": policy.id,
                    "title": policy.title,
                    "version": "1.0",
                    "owner": OWNERS.get(policy.owner_role, CEO),
                    "approver": CEO,
                    "approved_on": (approved or datetime.now(UTC).date()).isoformat(),
                    "review_every_months": policy.review_every_months,
                    "controls": list(policy.controls),
                    "body": policy.body,
                }
            ),
            "created",
        )
        for policy in starter_policies()
    ]
    service.apply(programme, kind, made, AUTHOR)


RISK: dict[str, Any] = {
    "id": "R-01",
    "title": "Stolen laptop exposes customer data",
    "description": "A laptop with a synced copy of a customer export is lost. " * 4,
    "likelihood": 3,
    "impact": 4,
    "treatment": "mitigate",
    "plan": "Full-disk encryption on every laptop; no exports to laptops.",
    "owner": SECURITY,
    "controls": ["AC-01"],
    "last_reviewed": "2026-10-01",
}


def add_records(programme: Programme) -> None:
    """One risk, one vendor review and one incident."""
    service.add(programme, KINDS["risks"], RISK, AUTHOR)
    service.add(
        programme,
        KINDS["vendors"],
        {
            "vendor": "Amazon Web Services",
            "data_processed": "customer data",
            "report": "soc2_type2",
            "report_period_start": "2025-10-01",
            "report_period_end": "2026-09-30",
            "report_received": "2026-11-02",
            "reviewed_by": SECURITY,
            "reviewed_on": "2026-11-05",
        },
        AUTHOR,
    )
    service.add(
        programme,
        KINDS["incidents"],
        {
            "id": "INC-7",
            "title": "Phishing mail reached support",
            "severity": "high",
            "detected_at": "2026-10-02T08:15:00+00:00",
            "contained_at": "2026-10-02T09:00:00+00:00",
            "postmortem": "## What happened\n\nA mail *looked* real.",
        },
        AUTHOR,
    )


def owned_control(programme: Programme, owner: str, frequency: str | None = None) -> Control:
    """The first owner-evidenced control in scope whose named owner is ``owner``."""
    from assay.checks.controls import named_owner

    for control in evidenced_controls(programme):
        if named_owner(programme, control) != owner:
            continue
        if frequency is None or str(control.frequency) == frequency:
            return control
    raise AssertionError(f"no owner-evidenced control of {owner}")


def window_now(programme: Programme, control: Control) -> Window:
    """The window a submission today answers by default."""
    return current_window(windows_of(programme, control), datetime.now(UTC).date())


def control_named(control_id: str) -> Control:
    return load_catalog().control(control_id)
