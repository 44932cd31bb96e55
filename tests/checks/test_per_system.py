"""Verdicts are judged system by system: a system whose snapshot cannot be used is named and keeps
its check from passing, without hiding what the other systems show; an item a check cannot
judge is listed by name."""

from __future__ import annotations

from dataclasses import replace

from tests.checks.test_checks import GONE, JANE, account, context, snapshot

from assay.checks.base import POPULATIONS, Policy, Snapshot, Status, Unjudged
from assay.checks.credentials import stale_credentials
from assay.checks.identity import leaver_access, mfa_enforced, orphan_accounts
from assay.checks.registry import CHECKS
from assay.checks.scope import scope_drift
from assay.inventory.records import AccountStatus, Application, Records, Tri

OKTA_READS = frozenset({"accounts", "applications"})


def unreachable(system: str = "okta", kind: str = "idp") -> Snapshot:
    """What a source that never answered leaves: no records, and the collection incomplete."""
    empty = snapshot(system, kind, Records(), complete=False)
    return replace(empty, populations=OKTA_READS)


def test_an_empty_incomplete_snapshot_is_not_a_pass() -> None:
    """Beside a clean system, a source that never answered used to be dropped: a pass."""
    clean = snapshot(
        "github",
        "code",
        Records(
            accounts=(account("jane@acme.example", system="github"),),
            applications=(Application("github", "app1", "Notion"),),
        ),
    )
    ctx = replace(
        context(clean, unreachable()), policy=Policy(declared_names=frozenset({"notion"}))
    )
    for check in (scope_drift, leaver_access, orphan_accounts, mfa_enforced):
        outcome = check(ctx)
        assert outcome.status == Status.NOT_TESTED, check.__name__
        assert outcome.summary.startswith(
            "not tested on okta: incomplete population (page 3 failed); 1 "
        ), outcome.summary
        assert Unjudged("okta", None, "incomplete population (page 3 failed)") in outcome.unjudged


def test_a_check_that_does_not_read_what_the_source_reads_is_not_held_back() -> None:
    idp = snapshot("idp", "idp", Records(accounts=(account("jane@acme.example"),)))
    outcome = stale_credentials(context(idp, unreachable()))
    assert "okta" not in outcome.summary  # Okta reads no credentials
    assert outcome.unjudged == ()


def test_findings_on_complete_systems_stand_beside_an_incomplete_one() -> None:
    good = snapshot(
        "idp", "idp", Records(accounts=(account("gone@acme.example"), account("x@acme.example")))
    )
    capped = snapshot(
        "ldap", "directory", Records(accounts=(account("other@acme.example", system="ldap"),))
    )
    capped = replace(
        capped,
        collected=replace(
            capped.collected, complete=False, incomplete_reason="size limit exceeded (4)"
        ),
    )
    for check, rule in ((leaver_access, "leaver_active_account"), (orphan_accounts, "orphan")):
        outcome = check(context(good, capped))
        assert outcome.status == Status.FAILING, check.__name__
        assert {f.system_id for f in outcome.findings} == {"idp"}
        assert all(f.rule.startswith(rule) for f in outcome.findings)
        assert "not tested on ldap: incomplete population (size limit exceeded (4))" in (
            outcome.summary
        )


def test_a_passing_system_beside_one_not_judged_is_not_a_pass() -> None:
    good = snapshot("idp", "idp", Records(accounts=(account("jane@acme.example"),)))
    stale = snapshot(
        "github", "code", Records(accounts=(account("a", mfa=Tri.NO, system="github"),)), stale=True
    )
    outcome = mfa_enforced(context(good, stale))
    assert outcome.status == Status.NOT_TESTED
    assert not outcome.findings  # a stale snapshot's facts are not today's
    assert outcome.summary.startswith("not tested on github: stale evidence (expired ")
    assert outcome.summary.endswith("; 1 MFA item(s) tested on the other systems, no problems")


def test_a_roster_that_cannot_be_used_leaves_every_system_unjudged() -> None:
    idp = snapshot("idp", "idp", Records(accounts=(account("gone@acme.example"),)))
    ctx = context(idp)
    assert ctx.roster is not None
    roster = replace(ctx.roster, collected=replace(ctx.roster.collected, complete=False))
    ctx = replace(ctx, roster=roster, snapshots=(roster, idp))
    outcome = leaver_access(ctx)
    assert outcome.status == Status.NOT_TESTED
    assert not outcome.findings
    assert outcome.unjudged[0].system_id == "hr"
    assert outcome.summary.startswith("not tested on hr: HR roster: incomplete population")


def test_unknown_status_leavers_and_orphans_are_named_not_dropped() -> None:
    idp = snapshot(
        "idp",
        "idp",
        Records(
            accounts=(
                account("gone@acme.example", status=AccountStatus.UNKNOWN),
                account("nobody@acme.example", status=AccountStatus.UNKNOWN),
                account("jane@acme.example"),
            )
        ),
    )
    ctx = context(idp, people=(JANE, GONE))
    leaver = leaver_access(ctx)
    assert leaver.status == Status.NOT_TESTED
    assert [(u.system_id, u.subject) for u in leaver.unjudged] == [("idp", "gone@acme.example")]
    assert "Gone Person (gone@acme.example) left on 2026-11-01" in leaver.unjudged[0].reason
    orphan = orphan_accounts(ctx)
    assert [(u.system_id, u.subject) for u in orphan.unjudged] == [("idp", "nobody@acme.example")]


def test_scope_drift_judges_each_identity_provider_on_its_own() -> None:
    seen = snapshot(
        "google", "idp", Records(applications=(Application("google", "a1", "Notion", True),))
    )
    outcome = scope_drift(context(seen, unreachable()))
    assert outcome.status == Status.FAILING
    assert [f.subject for f in outcome.findings] == ["Notion"]
    assert "not tested on okta" in outcome.summary


def test_every_check_refuses_to_pass_on_an_unreachable_source_of_what_it_reads() -> None:
    """For each check and each record kind it could read, a snapshot that stands for that kind
    and came back empty and incomplete never lets the check pass."""
    for check_id, check in CHECKS.items():
        if check_id == "scope_boundary":
            continue  # judges the programme file only
        for kind in ("idp", "code", "cloud", "directory"):
            empty = snapshot("src", kind, Records(), complete=False)
            empty = replace(empty, populations=POPULATIONS)
            outcome = check(context(empty))
            assert outcome.status != Status.PASSING, (check_id, kind)
