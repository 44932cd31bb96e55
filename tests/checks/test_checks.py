"""Each check on hand-made snapshots: failing, passing, and 'not tested' when it cannot judge."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from assay.checks.base import CheckContext, ScopeNote, Snapshot, Status
from assay.checks.change import change_review
from assay.checks.credentials import stale_credentials
from assay.checks.identity import (
    dormant_accounts,
    leaver_access,
    mfa_enforced,
    orphan_accounts,
    privileged_mfa,
)
from assay.checks.scope import scope_boundary
from assay.connectors.base import Collected
from assay.inventory.correlation import ServiceAccountOwner, correlate
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Change,
    Credential,
    EmploymentStatus,
    EmploymentType,
    Person,
    Records,
    Tri,
)

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
JANE = Person(
    "E1",
    "jane@acme.example",
    "Jane Doe",
    None,
    "Eng",
    "Engineer",
    EmploymentType.EMPLOYEE,
    EmploymentStatus.ACTIVE,
    date(2024, 1, 1),
    None,
)
GONE = replace(
    JANE,
    employee_id="E2",
    email="gone@acme.example",
    name="Gone Person",
    status=EmploymentStatus.TERMINATED,
    end_date=date(2026, 11, 1),
)


def account(
    name: str,
    *,
    mfa: Tri = Tri.YES,
    enforced: Tri | None = None,
    status: AccountStatus = AccountStatus.ACTIVE,
    kind: AccountKind = AccountKind.HUMAN,
    system: str = "idp",
) -> Account:
    return Account(
        system,
        name,
        name,
        name if "@" in name else None,
        None,
        None,
        kind,
        status,
        mfa,
        mfa if enforced is None else enforced,
        None,
        None,
    )


def snapshot(
    system: str, kind: str, records: Records, *, complete: bool = True, stale: bool = False
) -> Snapshot:
    collected = Collected(
        system,
        "test",
        "1",
        "export",
        NOW,
        NOW,
        (),
        records,
        complete=complete,
        incomplete_reason=None if complete else "page 3 failed",
    )
    expires = NOW - timedelta(days=1) if stale else NOW + timedelta(days=7)
    return Snapshot(system, kind, f"sha-{system}", collected, expires)


def context(
    *snapshots: Snapshot,
    people: tuple[Person, ...] = (JANE, GONE),
    services: tuple[ServiceAccountOwner, ...] = (),
    notes: tuple[ScopeNote, ...] = (),
) -> CheckContext:
    roster = snapshot("hr", "hr", Records(people=people))
    accounts = [a for s in snapshots for a in s.collected.records.accounts]
    return CheckContext(
        NOW,
        date(2026, 6, 1),
        date(2027, 5, 31),
        (roster, *snapshots),
        roster,
        tuple(correlate(people, accounts, service_accounts=services)),
        notes,
        "sha-programme",
    )


def rules(outcome: object) -> list[tuple[str, str]]:
    return sorted((f.rule, f.subject) for f in outcome.findings)  # type: ignore[attr-defined]


def test_mfa_fails_on_missing_or_unenforced_mfa_and_names_the_evidence() -> None:
    idp = snapshot(
        "idp",
        "idp",
        Records(
            accounts=(
                account("jane@acme.example"),
                account("gone@acme.example", mfa=Tri.NO),
                account("x@acme.example", mfa=Tri.YES, enforced=Tri.NO),
            )
        ),
    )
    outcome = mfa_enforced(context(idp))
    assert outcome.status == Status.FAILING
    assert rules(outcome) == [
        ("mfa_not_enforced", "x@acme.example"),
        ("mfa_not_registered", "gone@acme.example"),
    ]
    assert {f.evidence_sha256 for f in outcome.findings} == {"sha-idp"}


def test_mfa_unknown_is_not_tested_never_passing() -> None:
    idp = snapshot(
        "idp",
        "idp",
        Records(
            accounts=(
                account("jane@acme.example"),
                account("gone@acme.example", mfa=Tri.UNKNOWN),
            )
        ),
    )
    outcome = mfa_enforced(context(idp))
    assert outcome.status == Status.NOT_TESTED
    assert "1 of 2" in outcome.summary


def test_mfa_ignores_inactive_service_and_non_mfa_systems() -> None:
    idp = snapshot(
        "idp",
        "idp",
        Records(
            accounts=(
                account("jane@acme.example"),
                account("old@acme.example", mfa=Tri.NO, status=AccountStatus.INACTIVE),
                account("bot", mfa=Tri.NO),
            )
        ),
    )
    crm = snapshot("crm", "saas", Records(accounts=(account("z", mfa=Tri.NO, system="crm"),)))
    outcome = mfa_enforced(
        context(idp, crm, services=(ServiceAccountOwner("idp", "bot", "jane@acme.example"),))
    )
    assert outcome.status == Status.PASSING


def test_incomplete_population_is_not_tested() -> None:
    idp = snapshot(
        "idp", "idp", Records(accounts=(account("gone@acme.example", mfa=Tri.NO),)), complete=False
    )
    for check in (mfa_enforced, leaver_access, orphan_accounts):
        outcome = check(context(idp))
        assert outcome.status == Status.NOT_TESTED
        assert "not tested on idp: incomplete population (page 3 failed)" in outcome.summary
        assert not outcome.findings


def test_stale_evidence_is_not_tested() -> None:
    idp = snapshot(
        "idp", "idp", Records(accounts=(account("gone@acme.example", mfa=Tri.NO),)), stale=True
    )
    repo = snapshot("repo", "code", Records(changes=(change("a" * 40, ("x@a",), ()),)), stale=True)
    for check, ctx in (
        (mfa_enforced, context(idp)),
        (leaver_access, context(idp)),
        (change_review, context(repo)),
    ):
        outcome = check(ctx)
        assert outcome.status == Status.NOT_TESTED
        assert "stale evidence" in outcome.summary
        assert not outcome.findings


def test_leavers_with_active_accounts_or_credentials_fail() -> None:
    idp = snapshot(
        "idp",
        "idp",
        Records(
            accounts=(
                account("jane@acme.example"),
                account("gone@acme.example"),
            )
        ),
    )
    cloud = snapshot(
        "cloud",
        "cloud",
        Records(
            accounts=(account("gone@acme.example", status=AccountStatus.INACTIVE, system="cloud"),),
            credentials=(
                Credential(
                    "cloud",
                    "gone:key1",
                    "aws_access_key",
                    "gone@acme.example",
                    True,
                    None,
                    NOW,
                    NOW,
                    "aws",
                ),
            ),
        ),
    )
    outcome = leaver_access(context(idp, cloud))
    assert outcome.status == Status.FAILING
    assert rules(outcome) == [
        ("leaver_active_account", "gone@acme.example"),
        ("leaver_active_credential", "gone:key1"),
    ]


def test_no_leavers_passes_but_no_roster_is_not_tested() -> None:
    idp = snapshot("idp", "idp", Records(accounts=(account("jane@acme.example"),)))
    assert leaver_access(context(idp)).status == Status.PASSING
    ctx = replace(context(idp), roster=None)
    assert leaver_access(ctx).status == Status.NOT_TESTED
    assert orphan_accounts(ctx).status == Status.NOT_TESTED


def test_orphans_exclude_people_declared_services_and_system_accounts() -> None:
    idp = snapshot(
        "idp",
        "idp",
        Records(
            accounts=(
                account("jane@acme.example"),
                account("ghost"),
                account("ci"),
                account("root", kind=AccountKind.SYSTEM),
                account("nobody", status=AccountStatus.INACTIVE),
                account("svc"),
            )
        ),
    )
    services = (
        ServiceAccountOwner("idp", "ci", "jane@acme.example"),
        ServiceAccountOwner("idp", "svc", "left-long-ago@acme.example"),
    )
    outcome = orphan_accounts(context(idp, services=services))
    assert rules(outcome) == [("orphan_account", "ghost"), ("service_account_owner_unknown", "svc")]


def key(
    name: str, rotated_days: int | None, used_days: int | None, active: bool = True
) -> Credential:
    return Credential(
        "cloud",
        name,
        "aws_access_key",
        "u",
        active,
        None,
        NOW - timedelta(days=rotated_days) if rotated_days is not None else None,
        NOW - timedelta(days=used_days) if used_days is not None else None,
        "aws",
    )


def test_stale_keys_by_rotation_and_use() -> None:
    cloud = snapshot(
        "cloud",
        "cloud",
        Records(
            credentials=(
                key("fresh", 10, 1),
                key("old", 120, 1),
                key("idle", 120, 100),
                key("never", 100, None),
                key("new-never-used", 5, None),
                key("inactive", 400, 400, active=False),
            )
        ),
    )
    outcome = stale_credentials(context(cloud))
    assert rules(outcome) == [
        ("key_not_rotated", "idle"),
        ("key_not_rotated", "never"),
        ("key_not_rotated", "old"),
        ("key_unused", "idle"),
        ("key_unused", "never"),
    ]


def test_key_without_rotation_date_is_not_tested() -> None:
    cloud = snapshot("cloud", "cloud", Records(credentials=(key("mystery", None, None),)))
    assert stale_credentials(context(cloud)).status == Status.NOT_TESTED


def change(
    commit: str,
    authors: tuple[str, ...],
    reviewers: tuple[str, ...],
    when: datetime = NOW - timedelta(days=10),
) -> Change:
    return Change("repo", "app", "main", commit, f"change {commit}", when, authors, reviewers)


def test_changes_need_a_reviewer_other_than_the_author_within_the_period() -> None:
    repo = snapshot(
        "repo",
        "code",
        Records(
            changes=(
                change("a" * 40, ("x@a",), ("y@a",)),
                change("b" * 40, ("x@a",), ()),
                change("c" * 40, ("x@a", "y@a"), ("y@a",)),
                change("d" * 40, ("x@a",), (), when=datetime(2026, 1, 1, tzinfo=UTC)),
            )
        ),
    )
    outcome = change_review(context(repo))
    assert rules(outcome) == [
        ("change_self_reviewed", f"app@{'c' * 12}"),
        ("change_without_review", f"app@{'b' * 12}"),
    ]
    assert "in 3 item(s)" in outcome.summary


def test_no_changes_is_not_tested() -> None:
    assert change_review(context()).status == Status.NOT_TESTED


def test_scope_notes_become_findings_on_the_programme_file() -> None:
    notes = (
        ScopeNote("customer_data_out_of_scope", "warehouse", "holds customer data"),
        ScopeNote("vendor_soc2_missing", "Ticketdesk", "report is 14 months old"),
    )
    outcome = scope_boundary(context(notes=notes))
    assert outcome.status == Status.FAILING
    assert [(f.system_id, f.evidence_sha256) for f in outcome.findings] == [
        ("warehouse", "sha-programme"),
        ("programme", "sha-programme"),
    ]
    assert scope_boundary(context()).status == Status.PASSING


def test_dormant_accounts_by_last_sign_in_and_unknown_when_not_reported() -> None:
    def signed_in(name: str, days: int | None, **kwargs: object) -> Account:
        base = account(name, **kwargs)  # type: ignore[arg-type]
        when = NOW - timedelta(days=days) if days is not None else None
        return replace(base, last_login=when, last_login_source="okta:lastLogin" if when else None)

    idp = snapshot(
        "idp",
        "idp",
        Records(
            accounts=(
                signed_in("jane@acme.example", 3),
                signed_in("gone@acme.example", 120),
                signed_in("old-robot", 400, kind=AccountKind.SERVICE),
                signed_in("left@acme.example", 300, status=AccountStatus.INACTIVE),
            )
        ),
    )
    outcome = dormant_accounts(context(idp))
    assert outcome.status == Status.FAILING
    assert rules(outcome) == [("dormant_account", "gone@acme.example")]
    assert "per okta:lastLogin" in outcome.findings[0].detail

    quiet = snapshot("idp", "idp", Records(accounts=(signed_in("jane@acme.example", None),)))
    assert dormant_accounts(context(quiet)).status == Status.NOT_TESTED


def test_the_registry_runs_exactly_the_checks_the_catalog_knows() -> None:
    from assay.catalog import KNOWN_CHECKS
    from assay.checks.registry import CHECKS

    # owner_evidence is named by no control: each owner-evidenced control is judged on its
    # own windows.
    assert set(CHECKS) == KNOWN_CHECKS | {"owner_evidence"}


def test_privileged_accounts_need_mfa_and_unknown_privilege_is_not_judged() -> None:
    idp = snapshot(
        "idp",
        "idp",
        Records(
            accounts=(
                replace(account("jane@acme.example"), privileged=Tri.YES),
                replace(
                    account("root-ish", mfa=Tri.NO, kind=AccountKind.SYSTEM), privileged=Tri.YES
                ),
                replace(account("gone@acme.example", mfa=Tri.NO), privileged=Tri.NO),
            )
        ),
    )
    outcome = privileged_mfa(context(idp))
    assert rules(outcome) == [("privileged_without_mfa", "root-ish")]
    assert "2 privileged with known MFA" in outcome.summary
    unknown = snapshot("idp", "idp", Records(accounts=(account("jane@acme.example"),)))
    assert privileged_mfa(context(unknown)).status == Status.NOT_TESTED
