"""The identity-governance checks: deprovisioning delay, root and break-glass accounts, shared
accounts, owners of non-human identities, broad third-party grants, never-expiring credentials
and scope drift."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from tests.checks.test_checks import GONE, JANE, NOW, account, context, rules, snapshot

from assay.checks.base import Policy, Status
from assay.checks.change import branch_protection
from assay.checks.credentials import nonhuman_owners, stale_credentials, third_party_grants
from assay.checks.identity import (
    deprovisioning_delay,
    orphan_accounts,
    root_accounts,
    shared_accounts,
)
from assay.checks.scope import scope_drift
from assay.errors import InputError
from assay.inventory.correlation import ServiceAccountOwner
from assay.inventory.records import (
    AccountKind,
    AccountStatus,
    Application,
    BranchProtection,
    Credential,
    Records,
    Tri,
)
from assay.programme.loader import load

LEFT = datetime(2026, 11, 2, tzinfo=UTC)
"""Midnight after GONE's last day (2026-11-01): the deprovisioning clock starts here."""


def credential(
    name: str,
    owner_account: str,
    *,
    kind: str = "deploy_key",
    owner: str | None = None,
    third_party: str | None = None,
    broad: Tri = Tri.UNKNOWN,
    expiry: Tri = Tri.UNKNOWN,
    days_old: int | None = 10,
    used_days: int | None = 1,
    active: bool = True,
    system: str = "code",
) -> Credential:
    return Credential(
        system,
        name,
        kind,
        owner_account,
        active,
        NOW - timedelta(days=days_old) if days_old is not None else None,
        None,
        NOW - timedelta(days=used_days) if used_days is not None else None,
        "test:last_used" if used_days is not None else None,
        expiry=expiry,
        owner=owner,
        third_party=third_party,
        broad=broad,
    )


def closed(name: str, hours_after_leaving: float | None, system: str = "idp") -> object:
    gone = account(name, status=AccountStatus.INACTIVE, system=system)
    deactivated = (
        None if hours_after_leaving is None else LEFT + timedelta(hours=hours_after_leaving)
    )
    return replace(gone, email=GONE.email, deactivated_at=deactivated)


def test_deprovisioning_delay_is_the_slowest_account_of_each_leaver() -> None:
    fast = snapshot("idp", "idp", Records(accounts=(closed("gone-idp", 3),)))  # type: ignore[arg-type]
    slow = snapshot("code", "code", Records(accounts=(closed("gone-code", 30, "code"),)))  # type: ignore[arg-type]
    outcome = deprovisioning_delay(context(fast, slow))
    assert rules(outcome) == [("late_deprovisioning", GONE.email)]
    assert outcome.findings[0].system_id == "code"
    assert "30 h after (policy: 24 h)" in outcome.findings[0].detail
    assert outcome.summary.endswith("slowest: 30 h")


def test_deprovisioning_within_the_deadline_passes_and_the_deadline_is_the_policy() -> None:
    on_time = snapshot("idp", "idp", Records(accounts=(closed("gone-idp", 20),)))  # type: ignore[arg-type]
    assert deprovisioning_delay(context(on_time)).status == Status.PASSING
    strict = replace(context(on_time), policy=Policy(deprovision_within=timedelta(hours=8)))
    assert rules(deprovisioning_delay(strict)) == [("late_deprovisioning", GONE.email)]


def test_deprovisioning_time_not_recorded_is_unknown_unless_another_account_overran() -> None:
    untimed = snapshot("idp", "idp", Records(accounts=(closed("gone-idp", None),)))  # type: ignore[arg-type]
    outcome = deprovisioning_delay(context(untimed))
    assert outcome.status == Status.NOT_TESTED
    still_open = snapshot(
        "code",
        "code",
        Records(accounts=(replace(account("gone-code", system="code"), email=GONE.email),)),
    )
    assert rules(deprovisioning_delay(context(untimed, still_open))) == [
        ("late_deprovisioning", GONE.email)
    ]


def test_leavers_before_the_audit_period_are_not_judged() -> None:
    earlier = replace(GONE, end_date=date(2026, 1, 1))
    late = snapshot("idp", "idp", Records(accounts=(closed("gone-idp", 24 * 300),)))  # type: ignore[arg-type]
    outcome = deprovisioning_delay(context(late, people=(JANE, earlier)))
    assert outcome.status == Status.NOT_TESTED and not outcome.findings


def test_root_with_keys_or_recent_use_and_break_glass_use() -> None:
    root = replace(
        account("<root_account>", kind=AccountKind.SYSTEM, system="cloud"),
        root=True,
        last_login=NOW - timedelta(days=3),
        last_login_source="aws:password_last_used",
    )
    quiet_root = replace(root, system_id="cloud2", last_login=None)
    emergency = replace(
        account("breakglass", system="idp"),
        last_login=NOW - timedelta(days=2),
        last_login_source="okta:lastLogin",
    )
    key = replace(
        credential("root:access_key_1", "<root_account>", kind="aws_access_key", used_days=60),
        system_id="cloud2",
    )
    outcome = root_accounts(
        replace(
            context(
                snapshot("cloud", "cloud", Records(accounts=(root,))),
                snapshot("cloud2", "cloud", Records(accounts=(quiet_root,), credentials=(key,))),
                snapshot("idp", "idp", Records(accounts=(emergency,))),
            ),
            policy=Policy(break_glass=frozenset({("idp", "breakglass")})),
        )
    )
    assert rules(outcome) == [
        ("root_has_keys", "<root_account>"),
        ("root_recently_used", "<root_account>"),
        ("root_recently_used", "breakglass"),
    ]


def test_root_whose_use_no_source_reports_is_not_tested() -> None:
    root = replace(account("root", kind=AccountKind.SYSTEM, system="host"), root=True)
    outcome = root_accounts(context(snapshot("host", "host", Records(accounts=(root,)))))
    assert outcome.status == Status.NOT_TESTED


def test_an_account_several_people_hold_keys_to_is_shared() -> None:
    deploy = account("deploy", kind=AccountKind.UNKNOWN, system="host")
    solo = account("jane", system="host")
    keys = (
        credential("deploy:k1", "deploy", kind="ssh_key", owner="jane@acme.example", system="host"),
        credential("deploy:k2", "deploy", kind="ssh_key", owner="bob@acme.example", system="host"),
        credential("jane:k", "jane", kind="ssh_key", owner="jane@acme.example", system="host"),
    )
    host = snapshot("host", "host", Records(accounts=(deploy, solo), credentials=keys))
    outcome = shared_accounts(context(host))
    assert rules(outcome) == [("shared_account", "deploy")]
    assert "bob@acme.example, jane@acme.example" in outcome.findings[0].detail


def test_shared_accounts_without_holder_evidence_is_not_tested() -> None:
    idp = snapshot("idp", "idp", Records(accounts=(account("jane@acme.example"),)))
    assert shared_accounts(context(idp)).status == Status.NOT_TESTED


def test_service_accounts_and_keys_need_an_owner_still_here() -> None:
    declared = account("ci", kind=AccountKind.SERVICE, system="code")
    stated = replace(account("bot", kind=AccountKind.SERVICE, system="code"), owner=GONE.email)
    nobody = account("robot", kind=AccountKind.SERVICE, system="code")
    keys = (
        credential("app:deploy-1", "acme/app", owner="jane@acme.example"),
        credential("app:deploy-2", "acme/app"),
        credential("jane:own-token", "jane@acme.example", kind="fine_grained_pat"),
    )
    code = snapshot(
        "code",
        "code",
        Records(
            accounts=(declared, stated, nobody, account("jane@acme.example", system="code")),
            credentials=keys,
        ),
    )
    services = (ServiceAccountOwner("code", "ci", GONE.email),)
    outcome = nonhuman_owners(context(code, services=services))
    assert rules(outcome) == [
        ("nonhuman_owner_left", "bot"),
        ("nonhuman_owner_left", "ci"),
        ("nonhuman_without_owner", "app:deploy-2"),
        ("nonhuman_without_owner", "robot"),
    ]


def test_service_accounts_whose_owners_were_not_collected_are_not_judged() -> None:
    unread = replace(account("sync", kind=AccountKind.SERVICE, system="idp"), owner_unknown=True)
    outcome = nonhuman_owners(context(snapshot("idp", "idp", Records(accounts=(unread,)))))
    assert outcome.status == Status.NOT_TESTED
    assert outcome.summary == "not tested: 1 of 1 non-human identity item(s) could not be judged"
    nobody = account("robot", kind=AccountKind.SERVICE, system="idp")
    both = snapshot("idp", "idp", Records(accounts=(unread, nobody)))
    outcome = nonhuman_owners(context(both))
    assert rules(outcome) == [("nonhuman_without_owner", "robot")]
    assert outcome.summary.endswith("; 1 more could not be judged")
    declared = (ServiceAccountOwner("idp", "sync", "jane@acme.example"),)  # on the roster
    outcome = nonhuman_owners(context(both, services=declared))
    assert rules(outcome) == [("nonhuman_without_owner", "robot")]
    assert outcome.summary == "1 non-human identity problem(s) in 2 item(s) tested"


def test_broad_third_party_grants_fail_and_unstated_reach_is_unknown() -> None:
    grants = (
        credential(
            "app-all", "everyone", kind="app_installation", third_party="Bot", broad=Tri.YES
        ),
        credential("app-some", "some", kind="app_installation", third_party="Lint", broad=Tri.NO),
        credential(
            "old", "x", kind="app_installation", third_party="Old", broad=Tri.YES, active=False
        ),
    )
    outcome = third_party_grants(context(snapshot("code", "code", Records(credentials=grants))))
    assert rules(outcome) == [("broad_third_party_grant", "app-all")]
    unclear = credential("token", "u", kind="oauth_grant", third_party="Maps")
    idp = snapshot("idp", "idp", Records(credentials=(unclear,)))
    assert third_party_grants(context(idp)).status == Status.NOT_TESTED
    assert stale_credentials(context(idp)).status == Status.NOT_TESTED  # grants are not keys


def test_tokens_that_could_expire_but_never_do() -> None:
    tokens = (
        credential("pat-forever", "jane", kind="fine_grained_pat", expiry=Tri.NO),
        credential("pat-dated", "jane", kind="fine_grained_pat", expiry=Tri.YES),
        credential("deploy", "acme/app", kind="deploy_key", expiry=Tri.NO),
    )
    outcome = stale_credentials(context(snapshot("code", "code", Records(credentials=tokens))))
    assert rules(outcome) == [("credential_never_expires", "pat-forever")]


def test_undeclared_apps_are_scope_drift() -> None:
    apps = (
        Application("idp", "0oa1", "Salesforce"),
        Application("idp", "0oa2", "GitHub Enterprise"),
        Application("idp", "0oa3", "Figma"),
        Application("idp", "0oa4", "figma"),
        Application("idp", "0oa5", "Retired Tool", active=False),
    )
    ctx = replace(
        context(snapshot("idp", "idp", Records(applications=apps))),
        policy=Policy(declared_names=frozenset({"salesforce", "githubenterprise"})),
    )
    outcome = scope_drift(ctx)
    assert rules(outcome) == [("undeclared_system", "Figma")]
    assert "in 3 item(s) tested" in outcome.summary


def test_no_applications_collected_is_not_tested() -> None:
    assert scope_drift(context()).status == Status.NOT_TESTED


def test_the_policy_comes_from_the_programme_file(tmp_path: Path) -> None:
    (tmp_path / "assay.yaml").write_text(
        """
organisation: Acme
owner: {name: Ann Owner, email: ann@acme.example}
audit: {type: 2, period: {start: 2026-06-01, end: 2027-05-31}}
systems:
  - {id: hr, name: HR roster, kind: hr, in_scope: false, reason: roster only}
  - id: crm
    name: Sales CRM
    kind: saas
    in_scope: true
    reason: holds customer contacts
    owner: ann@acme.example
    seen_as: [Salesforce.com]
vendors:
  - {name: Figma, services: [FigJam], customer_data: false, criticality: low}
people:
  source: hr
  deprovision_within_hours: 8
  break_glass:
    - {system: crm, account: emergency-admin, reason: locked-out recovery}
"""
    )
    policy = Policy.of(load(tmp_path / "assay.yaml"))
    assert policy.deprovision_within == timedelta(hours=8)
    assert policy.break_glass == {("crm", "emergency-admin")}
    assert {"crm", "salescrm", "salesforcecom", "figma", "figjam", "hr"} <= policy.declared_names


def test_break_glass_must_name_a_declared_system(tmp_path: Path) -> None:
    (tmp_path / "assay.yaml").write_text(
        """
organisation: Acme
owner: {name: Ann Owner, email: ann@acme.example}
audit: {type: 2, period: {start: 2026-06-01, end: 2027-05-31}}
systems:
  - {id: hr, name: HR roster, kind: hr, in_scope: false, reason: roster only}
people:
  source: hr
  break_glass:
    - {system: nowhere, account: root, reason: emergencies}
"""
    )
    with pytest.raises(InputError) as raised:
        load(tmp_path / "assay.yaml")
    assert str(raised.value).endswith(
        "assay.yaml:10: people.break_glass[0].system: no system with id 'nowhere'"
    )


def test_main_branches_must_be_protected_and_need_an_approval() -> None:
    rules_seen = (
        BranchProtection("code", "acme/app", "main", Tri.YES, 1, Tri.YES, Tri.YES),
        BranchProtection("code", "acme/web", "main", Tri.NO, None, Tri.UNKNOWN, Tri.UNKNOWN),
        BranchProtection("code", "acme/ops", "main", Tri.YES, 0, Tri.NO, Tri.NO),
        BranchProtection("code", "acme/lab", "main", Tri.YES, None, Tri.UNKNOWN, Tri.UNKNOWN),
    )
    code = snapshot("code", "code", Records(branch_protections=rules_seen))
    outcome = branch_protection(context(code))
    assert rules(outcome) == [
        ("branch_allows_unreviewed", "acme/ops@main"),
        ("branch_unprotected", "acme/web@main"),
    ]
    assert "1 more could not be judged" in outcome.summary


def test_an_undeclared_service_account_is_an_ownership_question_not_an_orphan() -> None:
    robot = replace(account("robot", kind=AccountKind.SERVICE, system="code"), owner=JANE.email)
    stray = account("stray", system="code")
    code = snapshot("code", "code", Records(accounts=(robot, stray)))
    assert rules(orphan_accounts(context(code))) == [("orphan_account", "stray")]
    assert nonhuman_owners(context(code)).status == Status.PASSING  # its owner is still here
