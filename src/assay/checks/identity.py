"""Identity checks: MFA, leavers, orphaned accounts, stale access keys."""

from __future__ import annotations

from datetime import timedelta

from assay.checks.base import (
    CheckContext,
    Finding,
    Outcome,
    Snapshot,
    not_tested,
    unusable,
    verdict,
)
from assay.inventory.correlation import Link
from assay.inventory.records import AccountKind, AccountStatus, EmploymentStatus, Person, Tri

MFA_SYSTEM_KINDS = frozenset({"idp", "code", "cloud"})
"""Systems where a human account without MFA is a finding: identity providers, code hosts, cloud."""

KEY_MAX_AGE = timedelta(days=90)


def _account_snapshots(ctx: CheckContext) -> list[Snapshot]:
    return [s for s in ctx.snapshots if s.collected.records.accounts]


def _who(link: Link) -> str:
    return f" ({link.person.name}, {link.person.email})" if link.person else ""


def mfa_enforced(ctx: CheckContext) -> Outcome:
    """Every active human account on an identity provider, code host or cloud requires MFA."""
    snapshots = [s for s in _account_snapshots(ctx) if s.system_kind in MFA_SYSTEM_KINDS]
    if unusable_evidence := unusable(ctx, snapshots):
        return unusable_evidence
    shas = {s.system_id: s.sha256 for s in snapshots}
    findings: list[Finding] = []
    unknown = tested = 0
    for link in ctx.links:
        account = link.account
        if account.system_id not in shas or link.service or account.kind != AccountKind.HUMAN:
            continue
        if account.status == AccountStatus.INACTIVE:
            continue
        if account.status == AccountStatus.UNKNOWN:
            unknown += 1
            continue
        sha = shas[account.system_id]
        if account.mfa_registered == Tri.NO:
            findings.append(
                Finding(
                    "mfa_not_registered",
                    account.system_id,
                    account.username,
                    f"active human account{_who(link)} has no MFA factor registered",
                    sha,
                )
            )
        elif account.mfa_enforced == Tri.NO:
            findings.append(
                Finding(
                    "mfa_not_enforced",
                    account.system_id,
                    account.username,
                    f"active human account{_who(link)} is not required to use MFA",
                    sha,
                )
            )
        elif Tri.UNKNOWN in (account.mfa_registered, account.mfa_enforced):
            unknown += 1
            continue
        tested += 1
    return verdict(findings, unknown, tested, list(shas.values()), "MFA")


def _leaver(person: Person, ctx: CheckContext) -> bool:
    ended = person.end_date is not None and person.end_date < ctx.as_of.date()
    return person.status == EmploymentStatus.TERMINATED or ended


def leaver_access(ctx: CheckContext) -> Outcome:
    """Nobody HR records as gone still has an active account or credential anywhere."""
    if ctx.roster is None:
        return not_tested("no HR roster declared (people.source)")
    snapshots = _account_snapshots(ctx)
    if unusable_evidence := unusable(ctx, [ctx.roster, *snapshots]):
        return unusable_evidence
    shas = {s.system_id: s.sha256 for s in snapshots}
    active_credentials = {
        (c.system_id, c.account_id): c.credential_id
        for s in snapshots
        for c in s.collected.records.credentials
        if c.active
    }
    findings: list[Finding] = []
    unknown = tested = 0
    for link in ctx.links:
        account, person = link.account, link.person
        tested += 1
        if person is None or not _leaver(person, ctx):
            continue
        left = f"{person.name} ({person.email}) left on {person.end_date or 'an unrecorded date'}"
        sha = shas[account.system_id]
        if account.status == AccountStatus.ACTIVE:
            findings.append(
                Finding(
                    "leaver_active_account",
                    account.system_id,
                    account.username,
                    f"{left} but this account is still active",
                    sha,
                )
            )
        elif (key := active_credentials.get((account.system_id, account.account_id))) is not None:
            findings.append(
                Finding(
                    "leaver_active_credential",
                    account.system_id,
                    key,
                    f"{left} but this credential is still active",
                    sha,
                )
            )
        elif account.status == AccountStatus.UNKNOWN:
            unknown += 1
    return verdict(findings, unknown, tested, [ctx.roster.sha256, *shas.values()], "leaver")


def orphan_accounts(ctx: CheckContext) -> Outcome:
    """Every active account belongs to a person on the roster, or is a declared service account."""
    if ctx.roster is None:
        return not_tested("no HR roster declared (people.source)")
    snapshots = _account_snapshots(ctx)
    if unusable_evidence := unusable(ctx, [ctx.roster, *snapshots]):
        return unusable_evidence
    shas = {s.system_id: s.sha256 for s in snapshots}
    findings: list[Finding] = []
    unknown = tested = 0
    for link in ctx.links:
        account = link.account
        if account.kind == AccountKind.SYSTEM or account.status == AccountStatus.INACTIVE:
            continue
        if link.person is not None:
            tested += 1
            continue
        if account.status == AccountStatus.UNKNOWN:
            unknown += 1
            continue
        tested += 1
        sha = shas[account.system_id]
        if link.service:
            findings.append(
                Finding(
                    "service_account_owner_unknown",
                    account.system_id,
                    account.username,
                    "declared service account whose owner is not on the roster",
                    sha,
                )
            )
        else:
            findings.append(
                Finding(
                    "orphan_account",
                    account.system_id,
                    account.username,
                    "active account that matches no person on the roster",
                    sha,
                )
            )
    return verdict(findings, unknown, tested, [ctx.roster.sha256, *shas.values()], "account")


def privileged_mfa(ctx: CheckContext) -> Outcome:
    """Every active privileged account, human or not, requires MFA; the summary counts them so
    the privileged population itself is on record."""
    snapshots = _account_snapshots(ctx)
    if unusable_evidence := unusable(ctx, snapshots):
        return unusable_evidence
    shas = {s.system_id: s.sha256 for s in snapshots}
    findings: list[Finding] = []
    unknown = tested = 0
    for link in ctx.links:
        account = link.account
        if account.privileged != Tri.YES or account.status == AccountStatus.INACTIVE:
            unknown += account.privileged == Tri.UNKNOWN and account.status == AccountStatus.ACTIVE
            continue
        if Tri.NO in (account.mfa_registered, account.mfa_enforced):
            tested += 1
            findings.append(
                Finding(
                    "privileged_without_mfa",
                    account.system_id,
                    account.username,
                    f"privileged account{_who(link)} can sign in without MFA",
                    shas[account.system_id],
                )
            )
        elif Tri.UNKNOWN in (account.mfa_registered, account.mfa_enforced):
            unknown += 1
        else:
            tested += 1
    outcome = verdict(findings, unknown, tested, list(shas.values()), "privileged account")
    return Outcome(
        outcome.status,
        f"{outcome.summary} ({tested} privileged with known MFA)",
        outcome.findings,
        outcome.evidence,
    )


DORMANT_AFTER = timedelta(days=90)


def dormant_accounts(ctx: CheckContext) -> Outcome:
    """Active human accounts have signed in within 90 days. A system that does not say when an
    account last signed in leaves it unjudged: never read 'last updated' as 'last used'."""
    snapshots = _account_snapshots(ctx)
    if unusable_evidence := unusable(ctx, snapshots):
        return unusable_evidence
    shas = {s.system_id: s.sha256 for s in snapshots}
    findings: list[Finding] = []
    unknown = tested = 0
    for link in ctx.links:
        account = link.account
        if link.service or account.kind != AccountKind.HUMAN:
            continue
        if account.status != AccountStatus.ACTIVE:
            unknown += account.status == AccountStatus.UNKNOWN
            continue
        if account.last_login is None:
            unknown += 1
            continue
        tested += 1
        idle = ctx.as_of - account.last_login
        if idle > DORMANT_AFTER:
            findings.append(
                Finding(
                    "dormant_account",
                    account.system_id,
                    account.username,
                    f"active account{_who(link)} last signed in {account.last_login.date()} "
                    f"({idle.days} days ago, per {account.last_login_source})",
                    shas[account.system_id],
                )
            )
    return verdict(findings, unknown, tested, list(shas.values()), "sign-in")


def stale_access_keys(ctx: CheckContext) -> Outcome:
    """Active keys are rotated and used within 90 days; an idle or old key is an open door."""
    snapshots = [s for s in ctx.snapshots if s.collected.records.credentials]
    if unusable_evidence := unusable(ctx, snapshots):
        return unusable_evidence
    findings: list[Finding] = []
    unknown = tested = 0
    for snapshot in snapshots:
        for key in snapshot.collected.records.credentials:
            if not key.active:
                continue
            if key.last_rotated is None:
                unknown += 1
                continue
            tested += 1
            rotated_age = ctx.as_of - key.last_rotated
            if rotated_age > KEY_MAX_AGE:
                findings.append(
                    Finding(
                        "key_not_rotated",
                        key.system_id,
                        key.credential_id,
                        f"active key of {key.account_id} last rotated {rotated_age.days} days ago "
                        f"({key.last_rotated.date()})",
                        snapshot.sha256,
                    )
                )
            last_used = key.last_used or key.last_rotated
            if ctx.as_of - last_used > KEY_MAX_AGE:
                when = f"last used {key.last_used.date()}" if key.last_used else "never used"
                findings.append(
                    Finding(
                        "key_unused",
                        key.system_id,
                        key.credential_id,
                        f"active key of {key.account_id} {when}, "
                        f"{(ctx.as_of - last_used).days} days idle",
                        snapshot.sha256,
                    )
                )
    return verdict(findings, unknown, tested, [s.sha256 for s in snapshots], "access key")
