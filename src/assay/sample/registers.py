"""The sample organisation's registers and owner-evidence history, with planted problems.

``write_registers`` writes one CSV per register under ``registers/`` (the files a programme
would import with ``assay register import``); ``load_registers`` imports them and records a
history of owner evidence, every due window answered and accepted but the planted one. What is
planted is listed in ``PLANTED_REGISTERS`` and joins ``planted-problems.json``.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from assay.checks.controls import named_owner
from assay.programme.model import Programme
from assay.registers.kinds import KINDS
from assay.registers.starter import starter_policies
from assay.registers.windows import evidenced_controls, windows_of

LIST_SEPARATOR = ";"

IMPORTED_BY = "sample organisation"
NEVER_ACKNOWLEDGED = (36, 47)
"""Indices into the roster of two people who never acknowledged POL-01."""
OVERDUE_CONTROL = "GV-02"
"""Leadership's quarterly review: its first window has no evidence."""
LEFT_OWNER_CONTROL = "HR-07"
"""Named for a person who has since left."""
OFFBOARDED_VENDOR = "Wikiworks"


def _csv(rows: list[dict[str, object]], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                c: LIST_SEPARATOR.join(map(str, v)) if isinstance(v, list | tuple) else v
                for c, v in row.items()
            }
        )
    return out.getvalue()


def write_registers(
    root: Path,
    today: date,
    period_start: date,
    people: dict[str, str],
    roster: list[tuple[int, str, str]],
) -> None:
    """Write the registers. ``people`` maps a part (owner, security, …) to an email; ``roster``
    lists (index, email, status) of everyone on the HR roster."""
    folder = root / "registers"
    folder.mkdir(parents=True, exist_ok=True)

    def ago(days: int) -> str:
        return (today - timedelta(days=days)).isoformat()

    def at(days: int, hours: int = 9) -> str:
        moment = datetime.combine(today - timedelta(days=days), time(hours), UTC)
        return moment.isoformat()

    files: dict[str, list[dict[str, object]]] = {
        "risks": [
            {
                "id": "R-01",
                "title": "Takeover of the production cloud account",
                "description": "Stolen credentials give an attacker control of production.",
                "likelihood": 4,
                "impact": 5,
                "residual_likelihood": 2,
                "residual_impact": 5,
                "treatment": "mitigate",
                "plan": "MFA everywhere, no long-lived keys, root locked away",
                "owner": people["security"],
                "controls": ["AC-03", "AC-08", "AC-09"],
                "review_every_months": 3,
                "last_reviewed": ago(40),
            },
            {
                "id": "R-02",
                "title": "Customer data exposed through a vendor",
                "likelihood": 3,
                "impact": 5,
                "residual_likelihood": 3,
                "residual_impact": 3,
                "treatment": "transfer",
                "plan": "Contract terms, assurance reports read each year, cyber insurance",
                "owner": people["security"],
                "controls": ["VR-03", "RA-08"],
                "review_every_months": 3,
                "last_reviewed": ago(20),
            },
            {
                "id": "R-03",
                "title": "Unreviewed change reaches production",
                "likelihood": 2,
                "impact": 4,
                "residual_likelihood": 1,
                "residual_impact": 4,
                "treatment": "mitigate",
                "plan": "Protected branches and required review",
                "owner": people["engineering"],
                "controls": ["CM-02", "CM-03"],
                "review_every_months": 3,
                "last_reviewed": ago(200),
            },
            {
                "id": "R-04",
                "title": "Ransomware on staff laptops",
                "likelihood": 3,
                "impact": 5,
                "residual_likelihood": 3,
                "residual_impact": 5,
                "owner": people["it"],
                "controls": ["EP-01", "EP-02"],
                "review_every_months": 3,
                "last_reviewed": ago(10),
            },
            {
                "id": "R-05",
                "title": "Key people leave at once",
                "likelihood": 3,
                "impact": 3,
                "treatment": "accept",
                "owner": people["owner"],
                "review_every_months": 6,
                "last_reviewed": ago(30),
            },
            {
                "id": "R-06",
                "title": "Hosting region unavailable",
                "likelihood": 2,
                "impact": 5,
                "residual_likelihood": 2,
                "residual_impact": 4,
                "treatment": "mitigate",
                "plan": "Run across three zones; restore tested each quarter",
                "owner": people["infrastructure"],
                "controls": ["BC-05", "BC-02"],
                "review_every_months": 3,
                "last_reviewed": ago(60),
            },
        ],
        "vendors": [
            {
                "vendor": "Amazon Web Services",
                "data_processed": "All production data",
                "report": "soc2_type2",
                "report_period_start": ago(485),
                "report_period_end": ago(120),
                "report_received": ago(100),
                "reviewed_by": people["security"],
                "reviewed_on": ago(90),
            },
            {
                "vendor": "Ticketdesk",
                "data_processed": "Customer support tickets, names and email addresses",
                "report": "soc2_type2",
                "report_period_start": ago(795),
                "report_period_end": ago(430),
                "report_received": ago(400),
                "reviewed_by": people["security"],
                "reviewed_on": ago(300),
            },
            {"vendor": "Mend Renovate", "data_processed": "Dependency manifests"},
            {"vendor": "CI Insights", "data_processed": "Build logs"},
            {
                "vendor": OFFBOARDED_VENDOR,
                "data_processed": "Internal wiki pages",
                "status": "offboarded",
                "offboarded_on": ago(60),
            },
        ],
        "report-exceptions": [
            {
                "id": "RE-01",
                "vendor": "Amazon Web Services",
                "noted": "One change to a network device was approved after it was made",
                "response": "No bearing on our use; we rely on none of the devices concerned",
                "responded_by": people["security"],
            },
            {
                "id": "RE-02",
                "vendor": "Amazon Web Services",
                "noted": "Access of two leavers was removed later than policy allows",
            },
        ],
        "user-entity-controls": [
            {
                "id": "UEC-01",
                "vendor": "Amazon Web Services",
                "description": "Customers require MFA for their own users of the console",
                "control": "AC-03",
                "answer": "mfa_enforced checks every IAM user on each run",
            },
            {
                "id": "UEC-02",
                "vendor": "Ticketdesk",
                "description": "Customers remove the accounts of their agents who leave",
                "control": "AC-05",
                "answer": "Agents sign in through Okta, which the leaver checks cover",
            },
        ],
        "incidents": [
            {
                "id": "INC-01",
                "title": "Phishing email reached the sales team",
                "severity": "medium",
                "status": "resolved",
                "detected_at": at(80),
                "contained_at": at(80, 11),
                "resolved_at": at(79),
                "customer_impact": "None",
                "root_cause": "A look-alike domain passed the mail filter",
                "postmortem": "## What happened\n\nTwo people clicked; neither entered a password.",
                "controls": ["IR-02", "IR-03"],
            },
            {
                "id": "INC-02",
                "title": "Public API unavailable for three hours",
                "severity": "high",
                "status": "resolved",
                "detected_at": at(30),
                "contained_at": at(30, 12),
                "resolved_at": at(30, 17),
                "customer_impact": "API requests failed for every customer for three hours",
                "root_cause": "An expired certificate on the load balancer",
                "controls": ["IR-02", "CR-04"],
            },
        ],
        "policies": [
            {
                "id": policy.id,
                "title": policy.title,
                "version": "1.0",
                "owner": people[PART_OF_ROLE[policy.owner_role]],
                "approver": people["owner"],
                "approved_on": (period_start + timedelta(days=10)).isoformat(),
                "review_every_months": policy.review_every_months,
                "controls": list(policy.controls),
                "body": policy.body,
            }
            for policy in starter_policies()
        ],
        "acknowledgements": [
            {
                "policy": policy.id,
                "version": "1.0",
                "person": email,
                "acknowledged_at": datetime.combine(
                    period_start + timedelta(days=12 + index % 9), time(10), UTC
                ).isoformat(),
            }
            for policy in starter_policies()
            for index, email, status in roster
            if status == "active" and not (policy.id == "POL-01" and index in NEVER_ACKNOWLEDGED)
        ],
        "exceptions": [
            {
                "id": "EX-01",
                "control": "AC-09",
                "systems": ["aws"],
                "subjects": ["ci-deploy:access_key_1"],
                "justification": "The deploy key is replaced with workload identity this quarter",
                "compensating_control": "The key may only deploy, from the CI runner's address",
                "approver": people["owner"],
                "approved_on": (period_start + timedelta(days=5)).isoformat(),
                "starts": (period_start + timedelta(days=5)).isoformat(),
                "expires": ago(10),
            }
        ],
    }
    for name, rows in files.items():
        (folder / f"{name}.csv").write_text(_csv(rows, KINDS[name].columns), encoding="utf-8")


PART_OF_ROLE = {
    "Chief executive": "owner",
    "Security lead": "security",
    "Engineering manager": "engineering",
    "Infrastructure lead": "infrastructure",
    "IT administrator": "it",
    "People operations": "people",
    "Legal counsel": "legal",
    "Privacy officer": "privacy",
    "Product manager": "product",
}


def load_registers(programme: Programme, today: date | None = None) -> None:
    """Import the sample's register files, then record its owner-evidence history: every window
    ended at least four days ago answered by its owner two days after it ended and accepted the
    next day by the programme owner (the Infrastructure lead, for the programme owner's own) —
    except the planted overdue one. (A window that ended three days ago would be accepted later
    today: a statement dated after it is recorded, which verify refuses.)"""
    from assay.registers.files import import_file
    from assay.registers.owner_evidence import PastSubmission, record_history

    folder = programme.base_dir / "registers"
    for name, kind in KINDS.items():
        import_file(programme, kind, folder / f"{name}.csv", IMPORTED_BY, trusted=True)
    today = today or datetime.now(UTC).date()
    decider = programme.owner.email
    second = programme.owners.get("Infrastructure lead", decider)
    past = []
    for control in evidenced_controls(programme):
        named = named_owner(programme, control)
        if named is None:
            continue
        every = windows_of(programme, control)
        for window in every:
            if window.end + timedelta(days=4) > today:
                continue  # its decision (three days after it ended) would not have happened yet
            if control.id == OVERDUE_CONTROL and window == every[0]:
                continue
            submitted = datetime.combine(window.end + timedelta(days=2), time(15), UTC)
            name = f"{control.id}-{window.label.replace('/', '_')}.txt"
            past.append(
                PastSubmission(
                    control=control.id,
                    window=window.label,
                    submitted_by=named,
                    submitted_at=submitted,
                    note=f"{control.title}: what was done in {window.label}",
                    files=((name, f"{control.id} {window.label}: {control.title}\n".encode()),),
                    decided_by=second if named == decider else decider,
                    decided_at=submitted + timedelta(days=1),
                )
            )
    record_history(programme, past, IMPORTED_BY)
