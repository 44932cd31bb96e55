"""The checks on what people keep, on hand-built registers: each rule fires on its planted condition
and not on the one beside it; an empty register is not tested, never passing; exceptions in force
mark only the findings they cover; a narrow finding bears only on its own controls."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assay.catalog import load_catalog
from assay.checks.base import CheckContext, Finding, Outcome, Snapshot, Status, Unjudged
from assay.checks.controls import Part, check_part, combine, evaluate_controls
from assay.checks.registers import (
    control_owners,
    except_findings,
    exception_register,
    incident_register,
    owner_evidence,
    owner_evidence_parts,
    policy_acknowledgement,
    policy_register,
    risk_register,
    vendor_assurance,
    vendor_offboarding,
)
from assay.checks.registry import CHECKS
from assay.connectors.base import Collected
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Application,
    EmploymentStatus,
    EmploymentType,
    Person,
    Records,
    Tri,
)
from assay.programme.model import Programme
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
from assay.registers.state import RegisterState, SubmissionFact

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
TODAY = NOW.date()
CATALOG = load_catalog()
ROLES = sorted({control.owner_role for control in CATALOG.controls})


def person(email: str, start: date, status: EmploymentStatus = EmploymentStatus.ACTIVE) -> Person:
    return Person(
        email.split("@")[0],
        email,
        email.split("@")[0].title(),
        None,
        "Eng",
        "Engineer",
        EmploymentType.EMPLOYEE,
        status,
        start,
        date(2026, 10, 1) if status is EmploymentStatus.TERMINATED else None,
    )


JANE = person("jane@acme.example", date(2024, 1, 1))
GONE = person("gone@acme.example", date(2023, 1, 1), EmploymentStatus.TERMINATED)
AWAY = person("away@acme.example", date(2023, 1, 1), EmploymentStatus.LEAVE)


def make_programme(**changes: Any) -> Programme:
    data: dict[str, Any] = {
        "path": Path("assay.yaml"),
        "organisation": "Acme Cloud Ltd",
        "owner": {"name": "Jane", "email": JANE.email},
        "audit": {"type": 2, "period": {"start": date(2026, 6, 1), "end": date(2027, 5, 31)}},
        "categories": ["security"],
        "systems": [
            {"id": "okta", "name": "Okta", "kind": "idp", "in_scope": True, "reason": "Sign-in"},
            {"id": "wiki", "name": "Old Wiki", "kind": "saas", "in_scope": True, "reason": "Docs"},
        ],
        "vendors": [
            {"name": "Amazon Web Services", "customer_data": True, "criticality": "high"},
            {"name": "Ticketdesk", "customer_data": True, "criticality": "medium"},
            {"name": "Mend Renovate", "customer_data": False, "criticality": "low"},
            {
                "name": "Wikiworks",
                "services": ["Old Wiki"],
                "customer_data": False,
                "criticality": "low",
                "system": "wiki",
            },
        ],
        "owners": dict.fromkeys(ROLES, JANE.email),
    }
    data.update(changes)
    return Programme.model_validate(data)


PROGRAMME = make_programme()


def snapshot(
    system: str, records: Records, *, finished: datetime = NOW, complete: bool = True
) -> Snapshot:
    collected = Collected(
        system,
        "test",
        "1",
        "export",
        finished,
        finished,
        (),
        records,
        complete=complete,
        incomplete_reason=None if complete else "page 3 failed",
    )
    return Snapshot(system, "idp", f"sha-{system}", collected, NOW + timedelta(days=7))


def context(
    registers: RegisterState | None = None,
    *,
    programme: Programme | None = PROGRAMME,
    people: tuple[Person, ...] = (JANE, GONE, AWAY),
    snapshots: tuple[Snapshot, ...] = (),
    as_of: datetime = NOW,
) -> CheckContext:
    roster = snapshot("hr", Records(people=people))
    return CheckContext(
        as_of,
        date(2026, 6, 1),
        date(2027, 5, 31),
        (roster, *snapshots),
        roster,
        (),
        (),
        "sha-programme",
        programme=programme,
        registers=registers or RegisterState(sha256="sha-registers"),
    )


def found(outcome: Outcome) -> set[tuple[str, str, str]]:
    return {(f.rule, f.system_id, f.subject) for f in outcome.findings}


# --- empty registers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "check",
    [
        risk_register,
        vendor_offboarding,
        policy_register,
        policy_acknowledgement,
        incident_register,
        exception_register,
    ],
)
def test_an_empty_register_is_not_tested_never_passing(check: Any) -> None:
    outcome = check(context())
    assert outcome.status is Status.NOT_TESTED and not outcome.findings
    assert outcome.summary.startswith("not tested")


def test_vendor_assurance_with_no_customer_data_and_no_reports_is_not_tested() -> None:
    quiet = make_programme(
        vendors=[{"name": "Mend Renovate", "customer_data": False, "criticality": "low"}]
    )
    assert vendor_assurance(context(programme=quiet)).status is Status.NOT_TESTED


def test_register_checks_without_a_programme_are_not_tested() -> None:
    for check in (control_owners, risk_register, vendor_assurance, owner_evidence):
        assert check(context(programme=None)).status is Status.NOT_TESTED


# --- named owners ---------------------------------------------------------------------------


def test_every_control_owned_by_an_active_person_passes() -> None:
    outcome = control_owners(context())
    assert outcome.status is Status.PASSING, outcome.summary


def test_a_control_owned_by_a_leaver_or_a_stranger_or_nobody_is_a_finding() -> None:
    owners = dict.fromkeys(ROLES, JANE.email)
    del owners["Legal counsel"]
    programme = make_programme(
        owners=owners,
        controls={
            "GV-02": {"owner": GONE.email},
            "GV-03": {"owner": "stranger@acme.example"},
            "GV-05": {"owner": AWAY.email},  # on leave is still on the roster
        },
    )
    outcome = control_owners(context(programme=programme))
    legal = {c.id for c in CATALOG.controls if c.owner_role == "Legal counsel"}
    in_scope = {
        c.id
        for c in CATALOG.controls
        if any(m.target.startswith("CC") for m in c.tsc)  # security is always chosen
    }
    assert outcome.status is Status.FAILING
    assert found(outcome) == {
        ("owner_not_active", "programme", "GV-02"),
        ("owner_not_active", "programme", "GV-03"),
        *(("control_without_owner", "programme", c) for c in legal & in_scope),
    }
    details = {f.subject: f.detail for f in outcome.findings}
    assert "who left on 2026-10-01" in details["GV-02"]
    assert "not on the HR roster" in details["GV-03"]


def test_owners_are_not_judged_without_a_usable_roster() -> None:
    ctx = context()
    stale = replace(ctx.roster, expires_at=NOW - timedelta(days=1)) if ctx.roster else None
    outcome = control_owners(replace(ctx, roster=stale))
    assert outcome.status is Status.NOT_TESTED and "roster" in outcome.summary


# --- risks ----------------------------------------------------------------------------------


def risk(key: str, **fields: Any) -> Risk:
    values: dict[str, Any] = {
        "id": key,
        "title": f"Risk {key}",
        "likelihood": 2,
        "impact": 2,
        "owner": JANE.email,
        "last_reviewed": TODAY,
        **fields,
    }
    return Risk.model_validate(values)


def risks(*items: Risk, **programme: Any) -> Outcome:
    chosen = make_programme(**programme) if programme else PROGRAMME
    return risk_register(context(RegisterState("sha-registers", risks=items), programme=chosen))


def test_a_high_residual_risk_needs_a_treatment_from_the_threshold_up() -> None:
    at = risk("R-15", residual_likelihood=3, residual_impact=5)
    below = risk("R-12", residual_likelihood=3, residual_impact=4)
    outcome = risks(at, below)
    assert found(outcome) == {("high_risk_untreated", "risks", "R-15")}
    assert "residual score 15" in outcome.findings[0].detail
    lowered = risks(at, below, registers={"high_risk_score": 12})
    assert found(lowered) == {
        ("high_risk_untreated", "risks", "R-15"),
        ("high_risk_untreated", "risks", "R-12"),
    }


def test_the_inherent_score_counts_until_a_residual_is_assessed() -> None:
    unassessed = risk("R-1", likelihood=5, impact=3)
    treated = risk("R-2", likelihood=5, impact=5, residual_likelihood=2, residual_impact=2)
    assert found(risks(unassessed, treated)) == {("high_risk_untreated", "risks", "R-1")}


def test_a_high_risk_needs_a_plan_unless_accepted_and_an_owner() -> None:
    high = {"likelihood": 5, "impact": 5}
    outcome = risks(
        risk("R-1", **high, treatment="mitigate", plan="MFA"),
        risk("R-2", **high, treatment="accept"),
        risk("R-3", **high, treatment="mitigate"),
        risk("R-4", **high, treatment="transfer", plan="Insurance", owner=None),
        risk("R-5", **high, treatment="avoid", plan="  "),
    )
    assert found(outcome) == {
        ("high_risk_untreated", "risks", "R-3"),
        ("high_risk_untreated", "risks", "R-4"),
        ("high_risk_untreated", "risks", "R-5"),
    }
    details = {f.subject: f.detail for f in outcome.findings}
    assert details["R-3"].endswith("without a treatment plan")
    assert details["R-4"].endswith("without an owner")


def test_a_review_due_today_is_in_time_and_one_due_yesterday_is_overdue() -> None:
    due_today = risk("R-1", review_every_months=3, last_reviewed=date(2026, 8, 26))
    due_yesterday = risk("R-2", review_every_months=3, last_reviewed=date(2026, 8, 25))
    never = risk("R-3", last_reviewed=None)
    outcome = risks(due_today, due_yesterday, never)
    assert found(outcome) == {
        ("risk_review_overdue", "risks", "R-2"),
        ("risk_review_overdue", "risks", "R-3"),
    }
    assert outcome.status is Status.FAILING
    assert risks(due_today).status is Status.PASSING


def test_closed_risks_are_not_judged() -> None:
    closed = risk("R-1", last_reviewed=None, likelihood=5, impact=5, status="closed")
    assert risks(closed).status is Status.NOT_TESTED


# --- vendors --------------------------------------------------------------------------------

CUTOFF = date(2025, 11, 26)  # twelve months before TODAY


def review(vendor: str, **fields: Any) -> VendorReview:
    values: dict[str, Any] = {
        "vendor": vendor,
        "report": "soc2_type2",
        "report_period_end": CUTOFF,
        "reviewed_by": JANE.email,
        "reviewed_on": CUTOFF,
        **fields,
    }
    return VendorReview.model_validate(values)


def vendors(*reviews: VendorReview, **more: Any) -> Outcome:
    return vendor_assurance(context(RegisterState("sha-registers", vendors=reviews, **more)))


def test_a_report_ending_on_the_cutoff_stands_and_one_a_day_older_has_expired() -> None:
    outcome = vendors(
        review("Amazon Web Services"),
        review("Ticketdesk", report_period_end=CUTOFF - timedelta(days=1)),
    )
    assert found(outcome) == {("vendor_report_expired", "vendors", "Ticketdesk")}


def test_a_report_read_on_the_cutoff_stands_and_one_a_day_older_is_overdue() -> None:
    outcome = vendors(
        review("Amazon Web Services"),
        review("Ticketdesk", reviewed_on=CUTOFF - timedelta(days=1)),
    )
    assert found(outcome) == {("vendor_review_overdue", "vendors", "Ticketdesk")}
    never = vendors(review("Amazon Web Services"), review("Ticketdesk", reviewed_on=None))
    assert found(never) == {("vendor_review_overdue", "vendors", "Ticketdesk")}


def test_a_vendor_with_customer_data_and_no_report_is_a_finding_one_without_is_not() -> None:
    outcome = vendors(review("Amazon Web Services"), review("Mend Renovate", report="none"))
    assert found(outcome) == {("vendor_report_missing", "vendors", "Ticketdesk")}
    none = vendors(review("Amazon Web Services"), review("Ticketdesk", report="none"))
    assert found(none) == {("vendor_report_missing", "vendors", "Ticketdesk")}


def test_an_offboarded_vendor_needs_no_report() -> None:
    gone = review("Ticketdesk", report="none", status="offboarded", offboarded_on=TODAY)
    outcome = vendors(review("Amazon Web Services"), gone)
    assert outcome.status is Status.PASSING and not outcome.findings


def test_exceptions_and_user_entity_controls_a_report_notes_must_be_answered() -> None:
    noted = (
        ReportException(id="RE-1", vendor="Amazon Web Services", noted="Late", response="Fine"),
        ReportException(id="RE-2", vendor="Amazon Web Services", noted="Late", response="  "),
    )
    asked = (
        UserEntityControl(
            id="U-1", vendor="Ticketdesk", description="MFA", control="AC-03", answer="Okta"
        ),
        UserEntityControl(id="U-2", vendor="Ticketdesk", description="Leavers", control="AC-05"),
    )
    outcome = vendors(
        review("Amazon Web Services"),
        review("Ticketdesk"),
        report_exceptions=noted,
        user_entity_controls=asked,
    )
    assert found(outcome) == {
        ("vendor_exception_unanswered", "vendors", "RE-2"),
        ("user_entity_control_unanswered", "vendors", "U-2"),
    }


# --- offboarded vendors ---------------------------------------------------------------------

WIKIWORKS = review(
    "Wikiworks", report="none", status="offboarded", offboarded_on=TODAY - timedelta(days=60)
)


def offboarding(*snapshots: Snapshot) -> Outcome:
    return vendor_offboarding(
        context(RegisterState("sha-registers", vendors=(WIKIWORKS,)), snapshots=snapshots)
    )


def okta_apps(*apps: Application, finished: datetime = NOW) -> Snapshot:
    return snapshot("okta", Records(applications=apps), finished=finished)


def test_an_offboarded_vendor_with_an_active_app_is_a_finding() -> None:
    outcome = offboarding(okta_apps(Application("okta", "a1", "Old  WIKI", active=True)))
    assert found(outcome) == {("offboarded_vendor_access", "okta", "Wikiworks")}
    assert "app 'Old  WIKI'" in outcome.findings[0].detail


def test_an_offboarded_vendor_with_its_app_deactivated_passes() -> None:
    outcome = offboarding(okta_apps(Application("okta", "a1", "Old Wiki", active=False)))
    assert outcome.status is Status.PASSING and not outcome.findings


def test_a_snapshot_from_before_the_offboarding_cannot_judge_it() -> None:
    before = NOW - timedelta(days=61)
    outcome = offboarding(okta_apps(Application("okta", "a1", "Old Wiki"), finished=before))
    assert outcome.status is Status.NOT_TESTED and not outcome.findings
    assert outcome.unjudged[0].subject == "Wikiworks"


def test_the_system_an_offboarded_vendor_provides_must_show_no_active_account() -> None:
    def wiki(status: AccountStatus) -> Snapshot:
        account = Account(
            "wiki",
            "u1",
            "admin",
            None,
            None,
            None,
            AccountKind.HUMAN,
            status,
            Tri.YES,
            Tri.YES,
            None,
            None,
        )
        return snapshot("wiki", Records(accounts=(account,)))

    active = offboarding(wiki(AccountStatus.ACTIVE))
    assert found(active) == {("offboarded_vendor_access", "wiki", "Wikiworks")}
    assert "account admin" in active.findings[0].detail
    assert offboarding(wiki(AccountStatus.INACTIVE)).status is Status.PASSING


# --- policies -------------------------------------------------------------------------------


def policy(key: str = "POL-01", **fields: Any) -> Policy:
    values: dict[str, Any] = {
        "id": key,
        "title": f"Policy {key}",
        "version": "1.0",
        "approver": JANE.email,
        "approved_on": date(2026, 1, 10),
        "controls": ["AC-01"],
        **fields,
    }
    return Policy.model_validate(values)


def test_a_policy_approved_twelve_months_ago_today_stands_and_a_day_more_is_overdue() -> None:
    outcome = policy_register(
        context(
            RegisterState(
                "sha-registers",
                policies=(
                    policy("POL-01", approved_on=date(2025, 11, 26)),
                    policy("POL-02", approved_on=date(2025, 11, 25), controls=["CM-01"]),
                    policy("POL-03", approver=None, controls=["IR-01"]),
                    policy("POL-04", approved_on=None, status="draft"),
                    policy("POL-05", approved_on=date(2020, 1, 1), status="retired"),
                ),
            )
        )
    )
    assert found(outcome) == {
        ("policy_review_overdue", "policies", "POL-02"),
        ("policy_not_approved", "policies", "POL-03"),
    }
    assert {f.subject: f.controls for f in outcome.findings} == {
        "POL-02": ("CM-01",),
        "POL-03": ("IR-01",),
    }


def acknowledgements(
    policies: tuple[Policy, ...],
    acks: tuple[tuple[str, str, str], ...] = (),
    people: tuple[Person, ...] = (JANE, GONE, AWAY),
) -> Outcome:
    made = tuple(
        Acknowledgement(policy=p, version=v, person=who, acknowledged_at=NOW) for p, v, who in acks
    )
    state = RegisterState("sha-registers", policies=policies, acknowledgements=made)
    return policy_acknowledgement(context(state, people=people))


def test_a_new_hire_acknowledges_within_the_days_after_their_start() -> None:
    hired = {
        days: person(f"new{days}@acme.example", TODAY - timedelta(days=days))
        for days in (10, 30, 31)
    }
    outcome = acknowledgements(
        (policy(),), (("POL-01", "1.0", JANE.email),), (JANE, GONE, *hired.values())
    )
    assert found(outcome) == {("policy_not_acknowledged", "policies", "POL-01:new31@acme.example")}
    assert "due 2026-11-25" in outcome.findings[0].detail


def test_everyone_acknowledges_a_new_version_within_the_days_after_its_approval() -> None:
    fresh = policy(version="2.0", approved_on=TODAY - timedelta(days=30))
    assert acknowledgements((fresh,), (("POL-01", "1.0", JANE.email),)).status is (
        Status.NOT_TESTED
    )
    late = policy(version="2.0", approved_on=TODAY - timedelta(days=31))
    outcome = acknowledgements((late,), (("POL-01", "1.0", JANE.email),))
    assert found(outcome) == {("policy_not_acknowledged", "policies", f"POL-01:{JANE.email}")}
    done = acknowledgements((late,), (("POL-01", "2.0", "JANE@acme.example"),))
    assert done.status is Status.PASSING


def test_only_active_people_and_approved_active_policies_are_asked() -> None:
    outcome = acknowledgements(
        (policy(), policy("POL-02", approved_on=None), policy("POL-03", status="retired")),
        (("POL-01", "1.0", JANE.email),),
    )
    assert outcome.status is Status.PASSING and not outcome.findings


# --- incidents ------------------------------------------------------------------------------

DETECTED = datetime(2026, 9, 1, 9, tzinfo=UTC)


def incident(key: str, **fields: Any) -> Incident:
    values: dict[str, Any] = {
        "id": key,
        "title": f"Incident {key}",
        "severity": "high",
        "status": "resolved",
        "detected_at": DETECTED,
        "contained_at": DETECTED + timedelta(hours=1),
        "resolved_at": DETECTED + timedelta(hours=5),
        "postmortem": "## Cause",
        **fields,
    }
    return Incident.model_validate(values)


def incidents(*items: Incident) -> Outcome:
    return incident_register(context(RegisterState("sha-registers", incidents=items)))


def test_a_resolved_high_or_critical_incident_needs_a_postmortem() -> None:
    outcome = incidents(
        incident("INC-1", postmortem=""),
        incident("INC-2", severity="critical", postmortem="", postmortem_file="ab" * 32),
        incident("INC-3", severity="critical", postmortem=" "),
        incident("INC-4", severity="medium", postmortem=""),
        incident("INC-5", status="contained", resolved_at=None, postmortem=""),
    )
    assert found(outcome) == {
        ("postmortem_missing", "incidents", "INC-1"),
        ("postmortem_missing", "incidents", "INC-3"),
    }


def test_an_incident_records_the_times_its_status_implies() -> None:
    outcome = incidents(
        incident("INC-1", status="contained", contained_at=None, resolved_at=None),
        incident("INC-2", resolved_at=None),
        incident("INC-3", status="open", contained_at=None, resolved_at=None, postmortem=""),
    )
    assert found(outcome) == {
        ("incident_times_missing", "incidents", "INC-1"),
        ("incident_times_missing", "incidents", "INC-2"),
    }
    assert outcome.findings[0].detail.endswith("without contained_at")


def test_an_incident_resolved_before_the_period_is_not_judged_one_still_open_is() -> None:
    before = datetime(2026, 5, 1, tzinfo=UTC)
    old = incident("INC-1", detected_at=before, contained_at=None, resolved_at=None, postmortem="")
    assert incidents(old).status is Status.NOT_TESTED
    still_open = incident(
        "INC-2", detected_at=before, status="contained", contained_at=None, resolved_at=None
    )
    assert found(incidents(old, still_open)) == {("incident_times_missing", "incidents", "INC-2")}


# --- exceptions -----------------------------------------------------------------------------


def exception(key: str = "EX-1", **fields: Any) -> ControlException:
    values: dict[str, Any] = {
        "id": key,
        "control": "AC-09",
        "systems": ["aws"],
        "subjects": ["ci-deploy:key1"],
        "justification": "Replaced this quarter",
        "approver": JANE.email,
        "approved_on": date(2026, 6, 1),
        "starts": date(2026, 6, 1),
        "expires": TODAY,
        **fields,
    }
    return ControlException.model_validate(values)


def test_an_exception_expired_yesterday_is_a_finding_one_expiring_today_is_in_force() -> None:
    outcome = exception_register(
        context(
            RegisterState(
                "sha-registers",
                exceptions=(
                    exception("EX-1"),
                    exception("EX-2", expires=TODAY - timedelta(days=1)),
                    exception("EX-3", approver=None),
                    exception("EX-4", expires=TODAY - timedelta(days=9), status="closed"),
                ),
            )
        )
    )
    assert found(outcome) == {
        ("exception_expired", "exceptions", "EX-2"),
        ("exception_not_approved", "exceptions", "EX-3"),
    }


# --- owner evidence -------------------------------------------------------------------------

# A period starting on a Monday, no grace, and one control made daily: on the period's second
# day only that control's first window is past due.
DAILY = make_programme(
    audit={"type": 2, "period": {"start": date(2026, 1, 5), "end": date(2027, 1, 3)}},
    controls={"GV-02": {"frequency": "daily"}},
    registers={"grace_days": 0},
)
SECOND_DAY = datetime(2026, 1, 6, 12, tzinfo=UTC)


def submission(state: str, submitted: datetime) -> SubmissionFact:
    return SubmissionFact(
        "GV-02",
        "2026-01-05",
        state,
        JANE.email,
        submitted,
        "" if state == "pending" else "someone@acme.example",
        None if state == "pending" else submitted + timedelta(hours=1),
        f"statement-{state}",
    )


def evidence_context(*submissions: SubmissionFact, as_of: datetime = SECOND_DAY) -> CheckContext:
    return context(
        RegisterState("sha-registers", submissions=submissions), programme=DAILY, as_of=as_of
    )


def parts_of(ctx: CheckContext) -> dict[str, Part]:
    """Each owner-evidenced control's part, from the context's own owner_evidence outcome."""
    return owner_evidence_parts(ctx, owner_evidence(ctx))


def test_a_window_past_due_without_evidence_is_overdue_naming_only_its_control() -> None:
    outcome = owner_evidence(evidence_context())
    assert found(outcome) == {("evidence_overdue", "owner-evidence", "GV-02@2026-01-05")}
    [finding] = outcome.findings
    assert finding.controls == ("GV-02",)
    assert JANE.email in finding.detail


def test_a_window_awaiting_review_is_not_overdue() -> None:
    pending = submission("pending", datetime(2026, 1, 5, 17, tzinfo=UTC))
    outcome = owner_evidence(evidence_context(pending))
    assert not outcome.findings and outcome.status is Status.PASSING
    late = submission("pending", datetime(2026, 1, 6, 8, tzinfo=UTC))
    assert found(owner_evidence(evidence_context(late))) == {
        ("evidence_overdue", "owner-evidence", "GV-02@2026-01-05")
    }


def test_before_any_window_is_due_owner_evidence_is_not_tested() -> None:
    outcome = owner_evidence(evidence_context(as_of=datetime(2026, 1, 5, 12, tzinfo=UTC)))
    assert outcome.status is Status.NOT_TESTED and not outcome.findings


def test_owner_evidence_parts_fail_pass_or_wait_per_control() -> None:
    overdue = parts_of(evidence_context())
    assert overdue["GV-02"].status is Status.FAILING
    assert "2026-01-05" in overdue["GV-02"].reason
    assert {c for c, part in overdue.items() if part.status is Status.FAILING} == {"GV-02"}
    accepted = submission("accepted", datetime(2026, 1, 5, 17, tzinfo=UTC))
    assert parts_of(evidence_context(accepted))["GV-02"].status is Status.PASSING
    pending = submission("pending", datetime(2026, 1, 5, 17, tzinfo=UTC))
    waiting = parts_of(evidence_context(pending))["GV-02"]
    assert waiting.status is Status.NOT_TESTED and "awaiting review" in waiting.reason
    assert parts_of(evidence_context())["GV-03"].status is Status.NOT_TESTED


# --- exceptions mark the findings they cover ------------------------------------------------


def stale(system: str, subject: str) -> Finding:
    return Finding("stale_credential", system, subject, "old key", "sha-aws")


COVERED = stale("aws", "ci-deploy:key1")


def excepted(
    outcomes: dict[str, Outcome], *exceptions: ControlException, as_of: datetime = NOW
) -> dict[str, Outcome]:
    ctx = context(RegisterState("sha-registers", exceptions=exceptions), as_of=as_of)
    return except_findings(outcomes, ctx, CATALOG)


def failing(*findings: Finding, unjudged: tuple[Unjudged, ...] = ()) -> Outcome:
    return Outcome(Status.FAILING, "problems", findings, ("sha-aws",), unjudged)


def test_an_exception_marks_only_the_findings_of_its_system_subject_and_control() -> None:
    others = (stale("aws", "ci-deploy:key2"), stale("github", "ci-deploy:key1"))
    result = excepted({"stale_credentials": failing(COVERED, *others)}, exception())
    outcome = result["stale_credentials"]
    assert [f.excepted_by for f in outcome.findings] == ["EX-1", "", ""]
    assert outcome.status is Status.FAILING


def test_a_failing_check_wholly_covered_is_excepted() -> None:
    outcome = excepted({"stale_credentials": failing(COVERED)}, exception())["stale_credentials"]
    assert outcome.status is Status.EXCEPTED
    assert outcome.findings[0].excepted_by == "EX-1"
    everything = exception(systems=[], subjects=[])
    wide = excepted({"stale_credentials": failing(COVERED, stale("github", "x"))}, everything)
    assert wide["stale_credentials"].status is Status.EXCEPTED


def test_a_covered_check_with_something_unjudged_stays_failing() -> None:
    unjudged = (Unjudged("github", None, "stale evidence"),)
    outcome = excepted({"stale_credentials": failing(COVERED, unjudged=unjudged)}, exception())
    assert outcome["stale_credentials"].status is Status.FAILING
    assert outcome["stale_credentials"].findings[0].excepted_by == "EX-1"


def test_an_exception_covers_nothing_of_another_control_or_out_of_force() -> None:
    outcomes = {"stale_credentials": failing(COVERED), "mfa_enforced": failing(COVERED)}
    for exceptions in (
        (exception(control="AC-03", systems=["okta"]),),
        (exception(expires=TODAY - timedelta(days=1)),),
        (exception(approver=None),),
        (exception(starts=TODAY + timedelta(days=1), expires=TODAY + timedelta(days=9)),),
        (exception(status="closed"),),
    ):
        result = excepted(outcomes, *exceptions)
        assert result["stale_credentials"].status is Status.FAILING, exceptions
        assert not any(f.excepted_by for o in result.values() for f in o.findings), exceptions
    only_mfa = excepted(outcomes, exception(control="AC-03"))
    assert only_mfa["mfa_enforced"].status is Status.EXCEPTED
    assert only_mfa["stale_credentials"].status is Status.FAILING


def test_a_narrow_finding_is_covered_only_by_an_exception_to_its_own_controls() -> None:
    policy_finding = Finding(
        "policy_review_overdue", "policies", "POL-02", "old", "sha", controls=("AC-01",)
    )
    window = Finding(
        "evidence_overdue", "owner-evidence", "GV-02@2026-Q1", "late", "sha", controls=("GV-02",)
    )
    outcomes = {"policy_register": failing(policy_finding), "owner_evidence": failing(window)}
    neighbour = excepted(
        outcomes,
        exception(control="GV-01", systems=[], subjects=[]),
        exception("EX-2", control="GV-03", systems=[], subjects=[]),
    )
    assert not any(f.excepted_by for o in neighbour.values() for f in o.findings)
    own = excepted(
        outcomes,
        exception(control="AC-01", systems=["policies"], subjects=["POL-02"]),
        exception("EX-2", control="GV-02", systems=["owner-evidence"], subjects=[]),
    )
    assert own["policy_register"].status is Status.EXCEPTED
    assert own["owner_evidence"].findings[0].excepted_by == "EX-2"


# --- from outcomes to controls --------------------------------------------------------------


def all_passing(**changed: Outcome) -> dict[str, Outcome]:
    outcomes = {check: Outcome(Status.PASSING, "fine") for check in CHECKS}
    outcomes.update(changed)
    return outcomes


def verdicts(
    outcomes: dict[str, Outcome], parts: dict[str, Part] | None = None
) -> dict[str, Status]:
    return {
        v.control.id: v.status
        for v in evaluate_controls(CATALOG, PROGRAMME, outcomes, TODAY, parts)
    }


def test_a_policy_finding_fails_only_that_policys_controls() -> None:
    tested = set(CATALOG.controls_tested_by("policy_register"))
    assert {"AC-01", "GV-01", "CM-01"} <= tested
    finding = Finding("policy_review_overdue", "policies", "POL-02", "old", "sha", ("AC-01",))
    status = verdicts(all_passing(policy_register=failing(finding)))
    assert status["AC-01"] is Status.FAILING
    in_scope = tested & set(status)
    assert len(in_scope) > 3
    for other in in_scope - {"AC-01"}:
        assert status[other] is not Status.FAILING, other
    assert status["GV-01"] is Status.PASSING


def test_an_overdue_window_fails_only_its_control() -> None:
    parts = parts_of(evidence_context())
    status = {
        v.control.id: v.status
        for v in evaluate_controls(CATALOG, DAILY, all_passing(), SECOND_DAY.date(), parts)
    }
    assert {c for c, s in status.items() if s is Status.FAILING} == {"GV-02"}
    assert status["GV-03"] is Status.NOT_TESTED  # owner-evidenced, nothing due yet
    assert status["GV-01"] is Status.PASSING  # tested by a check alone


def test_a_wholly_excepted_check_makes_its_controls_excepted_not_failing() -> None:
    outcome = excepted({"stale_credentials": failing(COVERED)}, exception())["stale_credentials"]
    assert check_part("AC-09", "stale_credentials", outcome).status is Status.EXCEPTED
    assert verdicts(all_passing(stale_credentials=outcome))["AC-09"] is Status.EXCEPTED
    partly = excepted({"stale_credentials": failing(COVERED, stale("aws", "other"))}, exception())[
        "stale_credentials"
    ]
    assert check_part("AC-09", "stale_credentials", partly).status is Status.FAILING


def test_combine_orders_failing_then_not_tested_then_excepted_then_passing() -> None:
    def part(status: Status) -> Part:
        return Part(status, "")

    assert combine([part(Status.PASSING), part(Status.EXCEPTED)]) is Status.EXCEPTED
    assert combine([part(Status.EXCEPTED), part(Status.NOT_TESTED)]) is Status.NOT_TESTED
    assert combine([part(Status.NOT_TESTED), part(Status.FAILING)]) is Status.FAILING
    assert combine([part(Status.PASSING)]) is Status.PASSING
    assert combine([]) is Status.NOT_TESTED


def test_an_exception_to_an_owner_evidenced_control_excepts_its_overdue_window() -> None:
    ctx = evidence_context()
    allowed = exception(control="GV-02", systems=[], subjects=[], starts=date(2026, 1, 1))
    in_force = replace(ctx, registers=replace(ctx.registers, exceptions=(allowed,)))
    outcome = except_findings({"owner_evidence": owner_evidence(in_force)}, in_force, CATALOG)
    assert outcome["owner_evidence"].status is Status.EXCEPTED
    parts = owner_evidence_parts(in_force, outcome["owner_evidence"])
    assert parts["GV-02"].status is Status.EXCEPTED
    # Without the exception the same window fails its control.
    assert parts_of(ctx)["GV-02"].status is Status.FAILING
