"""Identity checks on accounts: MFA, leavers and how fast they lost access, orphaned, dormant,
privileged, root and emergency, and shared accounts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta

from assay.checks.base import (
    CheckContext,
    Finding,
    Outcome,
    Snapshot,
    Unjudged,
    not_tested,
    systems,
    verdict,
)
from assay.inventory.correlation import Link
from assay.inventory.leavers import hours, is_leaver, leavers
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Credential,
    Tri,
)

MFA_SYSTEM_KINDS = frozenset({"idp", "code", "cloud"})
"""Systems where a human account without MFA is a finding: identity providers, code hosts, cloud."""


def _active_credentials(
    snapshots: Iterable[Snapshot],
) -> dict[tuple[str, str], list[Credential]]:
    """Each account's active credentials, by (system, account id)."""
    found: dict[tuple[str, str], list[Credential]] = {}
    for snapshot in snapshots:
        for credential in snapshot.collected.records.credentials:
            if credential.active:
                found.setdefault((credential.system_id, credential.account_id), []).append(
                    credential
                )
    return found


def _break_glass(account: Account, ctx: CheckContext) -> bool:
    """Declared as an emergency account, by the system's id for it or by its username."""
    declared = ctx.policy.break_glass
    return (account.system_id, account.account_id) in declared or (
        account.system_id,
        account.username,
    ) in declared


def _unknown(account: Account, reason: str) -> Unjudged:
    return Unjudged(account.system_id, account.username, reason)


def _who(link: Link) -> str:
    return f" ({link.person.name}, {link.person.email})" if link.person else ""


def mfa_enforced(ctx: CheckContext) -> Outcome:
    """Every active human account on an identity provider, code host or cloud requires MFA."""
    needed = systems(ctx, "accounts", kinds=MFA_SYSTEM_KINDS)
    findings: list[Finding] = []
    unjudged = list(needed.unjudged)
    tested = 0
    for link in ctx.links:
        account = link.account
        if account.system_id not in needed or link.service or account.kind != AccountKind.HUMAN:
            continue
        if account.status == AccountStatus.INACTIVE:
            continue
        if account.status == AccountStatus.UNKNOWN:
            unjudged.append(_unknown(account, "whether the account is active is unknown"))
            continue
        sha = needed.sha(account.system_id)
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
            unjudged.append(_unknown(account, "whether MFA is registered and required is unknown"))
            continue
        tested += 1
    return verdict(findings, unjudged, tested, needed.evidence, "MFA")


def leaver_access(ctx: CheckContext) -> Outcome:
    """Nobody HR records as gone still has an active account or credential anywhere."""
    if ctx.roster is None:
        return not_tested("no HR roster declared (people.source)")
    needed = systems(ctx, "accounts", roster=True)
    active_credentials = _active_credentials(needed.judged.values())
    findings: list[Finding] = []
    unjudged = list(needed.unjudged)
    tested = 0
    for link in ctx.links:
        account, person = link.account, link.person
        if link.service or account.system_id not in needed:
            continue  # a service account whose owner left: nonhuman_owners reports it
        if person is None or not is_leaver(person, ctx.as_of.date()):
            tested += 1
            continue
        left = f"{person.name} ({person.email}) left on {person.end_date or 'an unrecorded date'}"
        sha = needed.sha(account.system_id)
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
        elif keys := active_credentials.get((account.system_id, account.account_id)):
            findings.append(
                Finding(
                    "leaver_active_credential",
                    account.system_id,
                    keys[-1].credential_id,
                    f"{left} but this credential is still active",
                    sha,
                )
            )
        elif account.status == AccountStatus.UNKNOWN:
            unjudged.append(
                _unknown(account, f"{left}; whether this account is still active is unknown")
            )
            continue
        tested += 1
    return verdict(findings, unjudged, tested, needed.evidence, "leaver")


def orphan_accounts(ctx: CheckContext) -> Outcome:
    """Every active account belongs to a person on the roster, or is a declared service account."""
    if ctx.roster is None:
        return not_tested("no HR roster declared (people.source)")
    needed = systems(ctx, "accounts", roster=True)
    findings: list[Finding] = []
    unjudged = list(needed.unjudged)
    tested = 0
    for link in ctx.links:
        account = link.account
        if account.system_id not in needed:
            continue
        if account.kind == AccountKind.SYSTEM or account.status == AccountStatus.INACTIVE:
            continue
        if _break_glass(account, ctx):
            continue  # declared with its reason; root_accounts watches its use
        if account.kind == AccountKind.SERVICE and not link.service:
            continue  # whose it is, the source's owner or none: nonhuman_owners judges that
        if link.person is not None:
            tested += 1
            continue
        if account.status == AccountStatus.UNKNOWN:
            unjudged.append(
                _unknown(
                    account, "matches no person on the roster; whether it is active is unknown"
                )
            )
            continue
        tested += 1
        sha = needed.sha(account.system_id)
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
    return verdict(findings, unjudged, tested, needed.evidence, "account")


def privileged_mfa(ctx: CheckContext) -> Outcome:
    """Every active privileged account, human or not, requires MFA; the summary counts them so
    the privileged population itself is on record."""
    needed = systems(ctx, "accounts")
    findings: list[Finding] = []
    unjudged = list(needed.unjudged)
    tested = 0
    for link in ctx.links:
        account = link.account
        if account.system_id not in needed:
            continue
        if account.privileged != Tri.YES or account.status == AccountStatus.INACTIVE:
            if account.privileged == Tri.UNKNOWN and account.status == AccountStatus.ACTIVE:
                unjudged.append(_unknown(account, "whether the account is privileged is unknown"))
            continue
        if Tri.NO in (account.mfa_registered, account.mfa_enforced):
            tested += 1
            findings.append(
                Finding(
                    "privileged_without_mfa",
                    account.system_id,
                    account.username,
                    f"privileged account{_who(link)} can sign in without MFA",
                    needed.sha(account.system_id),
                )
            )
        elif Tri.UNKNOWN in (account.mfa_registered, account.mfa_enforced):
            unjudged.append(_unknown(account, "privileged; whether it requires MFA is unknown"))
        else:
            tested += 1
    outcome = verdict(findings, unjudged, tested, needed.evidence, "privileged account")
    return replace(outcome, summary=f"{outcome.summary} ({tested} privileged with known MFA)")


DORMANT_AFTER = timedelta(days=90)


def dormant_accounts(ctx: CheckContext) -> Outcome:
    """Active human accounts have signed in within 90 days. A system that does not say when an
    account last signed in leaves it unjudged: never read 'last updated' as 'last used'."""
    needed = systems(ctx, "accounts")
    findings: list[Finding] = []
    unjudged = list(needed.unjudged)
    tested = 0
    for link in ctx.links:
        account = link.account
        if account.system_id not in needed or link.service or account.kind != AccountKind.HUMAN:
            continue
        if _break_glass(account, ctx):
            continue  # an emergency account is meant to sit unused
        if account.status != AccountStatus.ACTIVE:
            if account.status == AccountStatus.UNKNOWN:
                unjudged.append(_unknown(account, "whether the account is active is unknown"))
            continue
        if account.last_login is None:
            unjudged.append(_unknown(account, "the source does not say when it last signed in"))
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
                    needed.sha(account.system_id),
                )
            )
    return verdict(findings, unjudged, tested, needed.evidence, "sign-in")


def deprovisioning_delay(ctx: CheckContext) -> Outcome:
    """Each leaver of the audit period lost every account within the policy deadline of their
    last day (see ``inventory.leavers`` for how the delay is measured). A leaver whose delay
    cannot be told (an account closed at an unrecorded time, or no account found at all) is
    not judged, unless an account already overran the deadline."""
    if ctx.roster is None:
        return not_tested("no HR roster declared (people.source)")
    needed = systems(ctx, "accounts", roster=True)
    deadline = ctx.policy.deprovision_within
    findings: list[Finding] = []
    unjudged = list(needed.unjudged)
    tested = 0
    slowest_delay: timedelta | None = None
    links = [link for link in ctx.links if link.account.system_id in needed]
    for leaver in leavers(ctx.people, links, ctx.as_of) if needed.judged else ():
        person = leaver.person
        if leaver.left is not None and leaver.left.date() <= ctx.period_start:
            continue
        slowest = leaver.slowest
        if (
            slowest is None
            or slowest.delay is None
            or (not leaver.complete and slowest.delay <= deadline)
        ):
            if leaver.accounts:
                why = "an account closed at a time no source recorded, or its status is unknown"
            elif needed.unjudged:
                why = "no account of theirs was found on the systems that could be judged"
            else:
                why = "no account of theirs was found"
            unjudged.append(Unjudged(ctx.roster.system_id, person.email, why))
            continue
        tested += 1
        delay = slowest.delay
        slowest_delay = delay if slowest_delay is None else max(slowest_delay, delay)
        if delay > deadline:
            account = slowest.link.account
            state = (
                "is still active"
                if account.status == AccountStatus.ACTIVE
                else f"was deactivated {account.deactivated_at:%Y-%m-%d %H:%M} UTC"
            )
            findings.append(
                Finding(
                    "late_deprovisioning",
                    account.system_id,
                    person.email,
                    f"{person.name} left on {person.end_date}; {account.system_id} account "
                    f"{account.username} {state}, {hours(delay)} h after (policy: "
                    f"{hours(deadline)} h)",
                    needed.sha(account.system_id),
                )
            )
    outcome = verdict(findings, unjudged, tested, needed.evidence, "leaver")
    if slowest_delay is None:
        return outcome
    return replace(outcome, summary=f"{outcome.summary}; slowest: {hours(slowest_delay)} h")


ROOT_RECENT_USE = timedelta(days=30)
"""Use of a root or break-glass account this recent needs an explanation on record."""


def root_accounts(ctx: CheckContext) -> Outcome:
    """Root and declared break-glass accounts hold no standing keys and have not been used lately:
    they exist for emergencies, and each use should be traceable to one."""
    needed = systems(ctx, "accounts")
    credentials = _active_credentials(needed.judged.values())
    findings: list[Finding] = []
    unjudged = list(needed.unjudged)
    tested = 0
    for link in ctx.links:
        account = link.account
        if account.system_id not in needed:
            continue
        emergency = _break_glass(account, ctx)
        if not (account.root or emergency) or account.status == AccountStatus.INACTIVE:
            continue
        what = "root account" if account.root else "break-glass account"
        sha = needed.sha(account.system_id)
        keys = credentials.get((account.system_id, account.account_id), [])
        uses = [(account.last_login, account.last_login_source)] + [
            (key.last_used, key.last_used_source) for key in keys
        ]
        recent = [when for when, _ in uses if when and ctx.as_of - when <= ROOT_RECENT_USE]
        judged = all(when is not None or source is not None for when, source in uses)
        if keys and account.root:
            findings.append(
                Finding(
                    "root_has_keys",
                    account.system_id,
                    account.username,
                    f"{what} holds {len(keys)} active credential(s): "
                    + ", ".join(k.credential_id for k in keys),
                    sha,
                )
            )
        if recent:
            findings.append(
                Finding(
                    "root_recently_used",
                    account.system_id,
                    account.username,
                    f"{what} was used on {max(recent):%Y-%m-%d} "
                    f"(within {ROOT_RECENT_USE.days} days); record why",
                    sha,
                )
            )
        elif not judged and not keys:
            unjudged.append(_unknown(account, f"{what}; the source does not say when it was used"))
            continue
        tested += 1
    return verdict(findings, unjudged, tested, needed.evidence, "root or break-glass account")


def shared_accounts(ctx: CheckContext) -> Outcome:
    """Nobody shares an account: where a source shows who signs in as an account (the holders of
    its SSH keys, say), more than one person means nobody is individually accountable."""
    needed = systems(ctx, "accounts")
    credentials = _active_credentials(needed.judged.values())
    findings: list[Finding] = []
    tested = 0
    for link in ctx.links:
        account = link.account
        if account.system_id not in needed or account.status == AccountStatus.INACTIVE:
            continue
        keys = credentials.get((account.system_id, account.account_id), [])
        seen = {key.owner.lower() for key in keys if key.owner}
        seen |= {holder.lower() for holder in account.shared_by}
        if not seen:
            continue
        tested += 1
        if len(seen) > 1:
            findings.append(
                Finding(
                    "shared_account",
                    account.system_id,
                    account.username,
                    f"{len(seen)} different people sign in as this account: "
                    + ", ".join(sorted(seen)),
                    needed.sha(account.system_id),
                )
            )
    if not tested and not needed.unjudged:
        return not_tested("no source shows who signs in as which account", list(needed.evidence))
    return verdict(findings, needed.unjudged, tested, needed.evidence, "account holder")
