"""Checks on what people keep: named owners, the registers, owner evidence, and exceptions.

Each reads the registers as the run stored them (``ctx.registers``) and the programme file the
run stored, never the database, so its verdict replays. An empty register is not a pass: with
nothing recorded there is nothing to judge, and the check says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta

from assay.catalog import Catalog, load_catalog
from assay.checks.base import (
    CheckContext,
    Finding,
    Outcome,
    Status,
    Unjudged,
    normalise_name,
    not_tested,
    verdict,
)
from assay.checks.controls import Part, named_owner, relevant_controls
from assay.inventory.records import AccountStatus, EmploymentStatus, Person
from assay.programme.model import Programme
from assay.registers.kinds import (
    ControlException,
    IncidentStatus,
    PolicyStatus,
    ReportType,
    RiskStatus,
    Treatment,
    VendorStatus,
)
from assay.registers.windows import WindowState, WindowStatus, statuses

PROGRAMME = "programme"


def _months_before(day: date, months: int) -> date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _programme(ctx: CheckContext) -> Programme | None:
    return ctx.programme


def _roster_problem(ctx: CheckContext) -> str | None:
    if ctx.roster is None:
        return "the programme names no HR roster"
    return ctx.roster.problem(ctx.as_of)


def _people(ctx: CheckContext) -> dict[str, Person]:
    return {person.email.lower(): person for person in ctx.people}


def control_owners(ctx: CheckContext) -> Outcome:
    """Every control in scope has a named owner who is an active person on the roster."""
    programme = _programme(ctx)
    if programme is None:
        return not_tested("no programme file")
    evidence = [ctx.programme_sha256]
    if ctx.roster is not None:
        evidence.append(ctx.roster.sha256)
    if (problem := _roster_problem(ctx)) is not None:
        return not_tested(f"owners cannot be checked against the roster: {problem}", evidence)
    people = _people(ctx)
    findings = []
    controls = relevant_controls(load_catalog(), programme.categories)
    for control in controls:
        owner = named_owner(programme, control)
        if owner is None:
            findings.append(
                Finding(
                    "control_without_owner",
                    PROGRAMME,
                    control.id,
                    f"{control.id} has nobody named: give its role '{control.owner_role}' to "
                    "a person under owners: in assay.yaml, or name one for the control",
                    ctx.programme_sha256,
                )
            )
            continue
        person = people.get(owner.lower())
        if person is None:
            detail = f"{control.id} is owned by {owner}, who is not on the HR roster"
        elif person.status is EmploymentStatus.TERMINATED:
            left = f" on {person.end_date}" if person.end_date else ""
            detail = f"{control.id} is owned by {owner}, who left{left}"
        else:
            continue
        findings.append(
            Finding("owner_not_active", PROGRAMME, control.id, detail, ctx.programme_sha256)
        )
    return verdict(findings, (), len(controls), evidence, "control owner")


def _registers_evidence(ctx: CheckContext) -> list[str]:
    return [ctx.registers.sha256] if ctx.registers.sha256 else []


def risk_register(ctx: CheckContext) -> Outcome:
    """Open risks are reviewed within their cadence, and a high residual risk has a treatment,
    a plan (unless accepted) and an owner."""
    programme = _programme(ctx)
    evidence = _registers_evidence(ctx)
    risks = [r for r in ctx.registers.risks if r.status is RiskStatus.OPEN]
    if programme is None or not risks:
        return not_tested("no open risk is recorded in the risk register", evidence)
    today = ctx.as_of.date()
    threshold = programme.registers.high_risk_score
    sha = ctx.registers.sha256
    findings = []
    for risk in risks:
        due = _months_before(today, risk.review_every_months)
        if risk.last_reviewed is None or risk.last_reviewed < due:
            last = f"last reviewed {risk.last_reviewed}" if risk.last_reviewed else "never reviewed"
            findings.append(
                Finding(
                    "risk_review_overdue",
                    "risks",
                    risk.id,
                    f"{risk.title}: {last}; reviewed every {risk.review_every_months} month(s)",
                    sha,
                )
            )
        if risk.residual_score >= threshold:
            missing = []
            if risk.treatment is None:
                missing.append("a treatment")
            elif risk.treatment is not Treatment.ACCEPT and not risk.plan.strip():
                missing.append("a treatment plan")
            if risk.owner is None:
                missing.append("an owner")
            if missing:
                findings.append(
                    Finding(
                        "high_risk_untreated",
                        "risks",
                        risk.id,
                        f"{risk.title}: residual score {risk.residual_score} (at or above "
                        f"{threshold}) without {' or '.join(missing)}",
                        sha,
                    )
                )
    return verdict(findings, (), len(risks), evidence, "risk")


def vendor_assurance(ctx: CheckContext) -> Outcome:
    """Each vendor with customer data holds an assurance report whose period ended within the
    review window, read by someone within it; the exceptions its report noted and the controls
    it asks of us are answered."""
    programme = _programme(ctx)
    evidence = [ctx.programme_sha256, *_registers_evidence(ctx)]
    if programme is None:
        return not_tested("no programme file")
    today = ctx.as_of.date()
    months = programme.registers.vendor_review_months
    cutoff = _months_before(today, months)
    reviews = {review.vendor: review for review in ctx.registers.vendors}
    sha = ctx.registers.sha256 or ctx.programme_sha256
    findings = []
    tested = 0
    for vendor in programme.vendors:
        review = reviews.get(vendor.name)
        if not vendor.customer_data or (
            review is not None and review.status is VendorStatus.OFFBOARDED
        ):
            continue
        tested += 1
        if review is None or review.report is ReportType.NONE:
            findings.append(
                Finding(
                    "vendor_report_missing",
                    "vendors",
                    vendor.name,
                    f"{vendor.name} handles customer data but no assurance report is on file",
                    sha,
                )
            )
            continue
        end = review.report_period_end
        if end is not None and end < cutoff:
            findings.append(
                Finding(
                    "vendor_report_expired",
                    "vendors",
                    vendor.name,
                    f"{vendor.name} handles customer data; its {review.report.value} report's "
                    f"period ended {end}, more than {months} months ago",
                    sha,
                )
            )
        if review.reviewed_on is None or review.reviewed_on < cutoff:
            when = f"last read {review.reviewed_on}" if review.reviewed_on else "never read"
            findings.append(
                Finding(
                    "vendor_review_overdue",
                    "vendors",
                    vendor.name,
                    f"{vendor.name}'s assurance report was {when}; read it at least every "
                    f"{months} months",
                    sha,
                )
            )
    for noted in ctx.registers.report_exceptions:
        tested += 1
        if not noted.response.strip():
            findings.append(
                Finding(
                    "vendor_exception_unanswered",
                    "vendors",
                    noted.id,
                    f"{noted.vendor}'s report noted '{noted.noted}' and nobody has recorded "
                    "what it means for us",
                    sha,
                )
            )
    for asked in ctx.registers.user_entity_controls:
        tested += 1
        if not asked.answer.strip():
            findings.append(
                Finding(
                    "user_entity_control_unanswered",
                    "vendors",
                    asked.id,
                    f"{asked.vendor} asks of us: '{asked.description}'; {asked.control} is "
                    "linked but nobody has said how it meets it",
                    sha,
                )
            )
    if tested == 0:
        return not_tested("no vendor handles customer data and no report is recorded", evidence)
    return verdict(findings, (), tested, evidence, "vendor assurance")


def vendor_offboarding(ctx: CheckContext) -> Outcome:
    """An offboarded vendor keeps no access: the system it provides shows no active account or
    credential, and no snapshot listing apps (the identity provider's, the code host's) shows
    one by its name in use, each in a snapshot taken after the offboarding."""
    programme = _programme(ctx)
    evidence = _registers_evidence(ctx)
    if programme is None:
        return not_tested("no programme file")
    offboarded = [
        review
        for review in ctx.registers.vendors
        if review.status is VendorStatus.OFFBOARDED and review.offboarded_on is not None
    ]
    if not offboarded:
        return not_tested("no vendor has been offboarded", evidence)
    findings: list[Finding] = []
    unjudged: list[Unjudged] = []
    tested = 0
    for review in offboarded:
        assert review.offboarded_on is not None
        vendor = next((v for v in programme.vendors if v.name == review.vendor), None)
        if vendor is None:
            continue
        names = {normalise_name(n) for n in (vendor.name, *vendor.services)} - {""}
        for snapshot in ctx.snapshots:
            records = snapshot.collected.records
            provides = snapshot.system_id == vendor.system
            apps = [a for a in records.applications if normalise_name(a.name) in names]
            lists_apps = "applications" in snapshot.populations and (
                snapshot.holds("applications") or snapshot.problem(ctx.as_of) is not None
            )
            if not provides and not lists_apps:
                continue
            evidence.append(snapshot.sha256)
            if snapshot.collected.finished_at.date() < review.offboarded_on:
                unjudged.append(
                    Unjudged(
                        snapshot.system_id,
                        vendor.name,
                        f"no snapshot since {vendor.name} was offboarded on {review.offboarded_on}",
                    )
                )
                continue
            if (problem := snapshot.problem(ctx.as_of)) is not None:
                unjudged.append(Unjudged(snapshot.system_id, vendor.name, problem))
                continue
            tested += 1
            still = [f"app '{a.name}'" for a in apps if a.active]
            if provides:
                still += [
                    f"account {a.username}"
                    for a in records.accounts
                    if a.status is AccountStatus.ACTIVE
                ]
                unjudged += [
                    Unjudged(snapshot.system_id, a.username, "account status unknown")
                    for a in records.accounts
                    if a.status is AccountStatus.UNKNOWN
                ]
                still += [f"credential {c.credential_id}" for c in records.credentials if c.active]
            if still:
                findings.append(
                    Finding(
                        "offboarded_vendor_access",
                        snapshot.system_id,
                        vendor.name,
                        f"{vendor.name} was offboarded on {review.offboarded_on} but "
                        f"{snapshot.system_id} still shows "
                        + ", ".join(still[:5])
                        + (f" and {len(still) - 5} more" if len(still) > 5 else ""),
                        snapshot.sha256,
                    )
                )
    if tested == 0 and not unjudged:
        return not_tested(
            "no collected system shows what the offboarded vendors could reach", evidence
        )
    return verdict(findings, unjudged, tested, evidence, "offboarded vendor")


def policy_register(ctx: CheckContext) -> Outcome:
    """Every active policy is approved, and reviewed (approved again) within its cadence."""
    evidence = _registers_evidence(ctx)
    policies = [p for p in ctx.registers.policies if p.status is PolicyStatus.ACTIVE]
    if not policies:
        return not_tested("no active policy is recorded", evidence)
    today = ctx.as_of.date()
    sha = ctx.registers.sha256
    findings = []
    for policy in policies:
        if policy.approver is None or policy.approved_on is None:
            findings.append(
                Finding(
                    "policy_not_approved",
                    "policies",
                    policy.id,
                    f"{policy.title} version {policy.version} has not been approved",
                    sha,
                    controls=policy.controls,
                )
            )
        elif policy.approved_on < _months_before(today, policy.review_every_months):
            findings.append(
                Finding(
                    "policy_review_overdue",
                    "policies",
                    policy.id,
                    f"{policy.title} was last approved on {policy.approved_on}; review it at "
                    f"least every {policy.review_every_months} months",
                    sha,
                    controls=policy.controls,
                )
            )
    return verdict(findings, (), len(policies), evidence, "policy")


def policy_acknowledgement(ctx: CheckContext) -> Outcome:
    """Every active person acknowledges the current version of each approved, active policy:
    within the allowed days of the version's approval, or of their start if they joined later."""
    programme = _programme(ctx)
    evidence = _registers_evidence(ctx)
    if ctx.roster is not None:
        evidence.append(ctx.roster.sha256)
    if programme is None:
        return not_tested("no programme file")
    policies = [
        p
        for p in ctx.registers.policies
        if p.status is PolicyStatus.ACTIVE and p.approved_on is not None
    ]
    if not policies:
        return not_tested("no approved, active policy to acknowledge", evidence)
    if (problem := _roster_problem(ctx)) is not None:
        return not_tested(f"acknowledgements need the roster: {problem}", evidence)
    people = [p for p in ctx.people if p.status is EmploymentStatus.ACTIVE]
    if not people:
        return not_tested("the roster lists no active person", evidence)
    done = {(a.policy, a.version, a.person.lower()) for a in ctx.registers.acknowledgements}
    within = timedelta(days=programme.registers.acknowledge_within_days)
    today = ctx.as_of.date()
    sha = ctx.registers.sha256
    findings = []
    tested = 0
    for policy in policies:
        assert policy.approved_on is not None
        for person in people:
            deadline = max(policy.approved_on, person.start_date) + within
            if today <= deadline:
                continue
            tested += 1
            if (policy.id, policy.version, person.email.lower()) not in done:
                findings.append(
                    Finding(
                        "policy_not_acknowledged",
                        "policies",
                        f"{policy.id}:{person.email}",
                        f"{person.email} has not acknowledged {policy.title} version "
                        f"{policy.version} (due {deadline})",
                        sha,
                    )
                )
    if tested == 0:
        return not_tested("no acknowledgement is due yet", evidence)
    return verdict(findings, (), tested, evidence, "acknowledgement")


def incident_register(ctx: CheckContext) -> Outcome:
    """Incidents of the period record when they were contained and resolved, and a high or
    critical one that is resolved has a postmortem."""
    evidence = _registers_evidence(ctx)
    start = ctx.period_start
    incidents = [
        i
        for i in ctx.registers.incidents
        if i.detected_at.date() >= start or i.status is not IncidentStatus.RESOLVED
    ]
    if not incidents:
        return not_tested("no incident is recorded for the period", evidence)
    sha = ctx.registers.sha256
    findings = []
    for incident in incidents:
        missing = []
        if incident.status is not IncidentStatus.OPEN and incident.contained_at is None:
            missing.append("contained_at")
        if incident.status is IncidentStatus.RESOLVED and incident.resolved_at is None:
            missing.append("resolved_at")
        if missing:
            findings.append(
                Finding(
                    "incident_times_missing",
                    "incidents",
                    incident.id,
                    f"{incident.title} is {incident.status.value} without {', '.join(missing)}",
                    sha,
                )
            )
        if (
            incident.status is IncidentStatus.RESOLVED
            and incident.severity.needs_postmortem
            and not incident.has_postmortem
        ):
            findings.append(
                Finding(
                    "postmortem_missing",
                    "incidents",
                    incident.id,
                    f"{incident.title} ({incident.severity.value}) was resolved without a "
                    "postmortem",
                    sha,
                )
            )
    return verdict(findings, (), len(incidents), evidence, "incident")


def exception_register(ctx: CheckContext) -> Outcome:
    """Every exception still marked active is approved and has not expired."""
    evidence = _registers_evidence(ctx)
    active = [e for e in ctx.registers.exceptions if e.status.value == "active"]
    if not active:
        return not_tested("no exception is recorded", evidence)
    today = ctx.as_of.date()
    sha = ctx.registers.sha256
    findings = []
    for exception in active:
        if exception.expires < today:
            findings.append(
                Finding(
                    "exception_expired",
                    "exceptions",
                    exception.id,
                    f"the exception to {exception.control} expired on {exception.expires}; "
                    "renew it with a new approval or close it",
                    sha,
                )
            )
        elif not exception.approved:
            findings.append(
                Finding(
                    "exception_not_approved",
                    "exceptions",
                    exception.id,
                    f"the exception to {exception.control} has no approver, so it covers nothing",
                    sha,
                )
            )
    return verdict(findings, (), len(active), evidence, "exception")


def owner_evidence(ctx: CheckContext) -> Outcome:
    """Every window of an owner-evidenced control that is past its due date has evidence that
    was accepted, or submitted in time and awaiting review."""
    programme = _programme(ctx)
    evidence = _registers_evidence(ctx)
    if programme is None:
        return not_tested("no programme file")
    today = ctx.as_of.date()
    windows = statuses(programme, ctx.registers.submissions, today)
    findings = [
        Finding(
            "evidence_overdue",
            "owner-evidence",
            f"{w.control}@{w.window.label}",
            f"{w.control}: no evidence accepted for {w.window.label} (due {w.window.due}); "
            f"owner {w.owner or 'not named'}",
            ctx.registers.sha256 or ctx.programme_sha256,
            controls=(w.control,),
        )
        for w in windows
        if w.state.failing
    ]
    judged = sum(1 for w in windows if w.window.due < today)
    if findings or judged:
        return verdict(findings, (), judged, evidence, "evidence window")
    return not_tested("no evidence window is due yet", evidence)


def owner_evidence_parts(ctx: CheckContext, outcome: Outcome) -> dict[str, Part]:
    """Per owner-evidenced control: failing when a window is overdue (excepted when every
    overdue finding of ``outcome``, the run's ``owner_evidence`` outcome after exceptions, is
    covered); passing when every window due so far is accepted and at least one is; otherwise
    not tested, saying what it waits on."""
    programme = _programme(ctx)
    if programme is None:
        return {}
    today = ctx.as_of.date()
    by_control: dict[str, list[WindowStatus]] = {}
    for w in statuses(programme, ctx.registers.submissions, today):
        by_control.setdefault(w.control, []).append(w)
    parts = {control_id: _part(found, today) for control_id, found in by_control.items()}
    excepted: dict[str, bool] = {}
    for finding in outcome.findings:
        for control_id in finding.controls:
            excepted[control_id] = excepted.get(control_id, True) and bool(finding.excepted_by)
    for control_id, covered in excepted.items():
        if covered and control_id in parts:
            parts[control_id] = Part(Status.EXCEPTED, "owner evidence overdue, excepted")
    return parts


def _part(windows: list[WindowStatus], today: date) -> Part:
    overdue = [w.window.label for w in windows if w.state is WindowState.OVERDUE]
    if overdue:
        return Part(Status.FAILING, f"owner evidence overdue for {', '.join(overdue)}")
    accepted = [w for w in windows if w.state is WindowState.ACCEPTED]
    due = [w for w in windows if w.window.due < today]
    if accepted and all(w.state is WindowState.ACCEPTED for w in due):
        return Part(Status.PASSING, f"owner evidence accepted for {len(accepted)} window(s)")
    waiting = next((w for w in windows if w.state is not WindowState.ACCEPTED), None)
    if waiting is None:
        return Part(Status.NOT_TESTED, "owner evidence: no window in the audit period")
    not_due = (WindowState.OPEN, WindowState.UPCOMING, WindowState.DUE)
    state = "not yet due" if waiting.state in not_due else waiting.state.value
    return Part(
        Status.NOT_TESTED,
        f"owner evidence: {waiting.window.label} {state} (due {waiting.window.due})",
    )


def except_findings(
    outcomes: Mapping[str, Outcome], ctx: CheckContext, catalog: Catalog | None = None
) -> dict[str, Outcome]:
    """Mark each finding an exception in force covers; a failing check whose every finding is
    covered, with nothing left unjudged, is excepted."""
    catalog = catalog or load_catalog()
    today = ctx.as_of.date()
    in_force = [e for e in ctx.registers.exceptions if e.in_force(today)]
    if not in_force:
        return dict(outcomes)
    changed: dict[str, Outcome] = {}
    for check_id, outcome in outcomes.items():
        tested = set(catalog.controls_tested_by(check_id))
        findings = tuple(_excepted(finding, tested, in_force) for finding in outcome.findings)
        status = outcome.status
        if (
            findings
            and status is Status.FAILING
            and all(f.excepted_by for f in findings)
            and not outcome.unjudged
        ):
            status = Status.EXCEPTED
        changed[check_id] = replace(outcome, findings=findings, status=status)
    return changed


def _excepted(finding: Finding, tested: set[str], in_force: Iterable[ControlException]) -> Finding:
    for exception in in_force:
        control = exception.control
        covers = (control in tested and finding.bears_on(control)) or control in finding.controls
        if (
            covers
            and (not exception.systems or finding.system_id in exception.systems)
            and (not exception.subjects or finding.subject in exception.subjects)
        ):
            return replace(finding, excepted_by=exception.id)
    return finding
