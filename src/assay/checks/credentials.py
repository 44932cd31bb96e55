"""Credential checks: stale and never-expiring secrets, owners of non-human identities, and
third-party grants that reach everything."""

from __future__ import annotations

from datetime import timedelta

from assay.checks.base import CheckContext, Finding, Outcome, Snapshot, unusable, verdict
from assay.inventory.correlation import Link
from assay.inventory.records import AccountKind, AccountStatus, Credential, EmploymentStatus, Tri

KEY_MAX_AGE = timedelta(days=90)

EXPIRY_EXPECTED = frozenset({"fine_grained_pat", "client_secret", "api_token"})
"""Credential kinds the issuer lets you give an end date: one that never expires is a choice."""


def _credential_snapshots(ctx: CheckContext) -> list[Snapshot]:
    return [s for s in ctx.snapshots if s.collected.records.credentials]


def stale_credentials(ctx: CheckContext) -> Outcome:
    """Active keys and tokens are rotated and used within 90 days, and those that can be given an
    end date have one. Grants to third parties are judged by ``third_party_grants`` instead."""
    snapshots = _credential_snapshots(ctx)
    if unusable_evidence := unusable(ctx, snapshots):
        return unusable_evidence
    findings: list[Finding] = []
    unknown = tested = 0
    for snapshot in snapshots:
        for key in snapshot.collected.records.credentials:
            if not key.active or key.third_party is not None:
                continue
            problems = _staleness(key, ctx)
            if problems is None:
                unknown += 1
                continue
            tested += 1
            findings.extend(
                Finding(rule, key.system_id, key.credential_id, detail, snapshot.sha256)
                for rule, detail in problems
            )
    return verdict(findings, unknown, tested, [s.sha256 for s in snapshots], "credential")


def _staleness(key: Credential, ctx: CheckContext) -> list[tuple[str, str]] | None:
    """The staleness findings of one active credential; None when its age cannot be told."""
    problems: list[tuple[str, str]] = []
    if key.expiry == Tri.NO and key.kind in EXPIRY_EXPECTED:
        problems.append(
            ("credential_never_expires", f"active {key.kind} of {key.account_id} never expires")
        )
    rotated = key.last_rotated or key.created
    if rotated is None:
        return problems or None
    age = ctx.as_of - rotated
    if age > KEY_MAX_AGE:
        problems.append(
            (
                "key_not_rotated",
                f"active key of {key.account_id} last rotated {age.days} days ago "
                f"({rotated.date()})",
            )
        )
    if key.last_used is None and key.last_used_source is None:
        return problems or None
    last_used = key.last_used or rotated
    if ctx.as_of - last_used > KEY_MAX_AGE:
        when = f"last used {key.last_used.date()}" if key.last_used else "never used"
        problems.append(
            (
                "key_unused",
                f"active key of {key.account_id} {when}, {(ctx.as_of - last_used).days} days idle",
            )
        )
    return problems


def _non_human(link: Link) -> bool:
    return link.service or link.account.kind == AccountKind.SERVICE


def nonhuman_owners(ctx: CheckContext) -> Outcome:
    """Every service account, and every credential that belongs to no account (deploy keys, say),
    has an owner who still works here. A declared owner takes precedence over the one the source
    names; an account's own keys are answered for by whoever answers for the account. Where the
    source names owners but they were not collected, the item is not judged."""
    snapshots = [
        s for s in ctx.snapshots if s.collected.records.accounts or s.collected.records.credentials
    ]
    needed = [ctx.roster, *snapshots] if ctx.roster is not None else snapshots
    if unusable_evidence := unusable(ctx, needed):
        return unusable_evidence
    shas = {s.system_id: s.sha256 for s in snapshots}
    by_email = {p.email.lower(): p for p in ctx.people}
    by_login = {
        (link.account.system_id, link.account.username.lower()): link.person
        for link in ctx.links
        if link.person is not None
    }
    accounts = {(link.account.system_id, link.account.account_id) for link in ctx.links}
    findings: list[Finding] = []
    unknown = tested = 0

    def judge(system_id: str, subject: str, what: str, owner: str | None, known: bool) -> None:
        nonlocal tested, unknown
        if owner is None and not known:
            unknown += 1  # the source names owners, but they were not collected
            return
        tested += 1
        sha = shas[system_id]
        if owner is None:
            findings.append(
                Finding(
                    "nonhuman_without_owner",
                    system_id,
                    subject,
                    f"{what} has no owner, neither named by the source nor declared in "
                    "assay.yaml (people.service_accounts)",
                    sha,
                )
            )
            return
        person = by_email.get(owner.lower()) or by_login.get((system_id, owner.lower()))
        if person is not None and (
            person.status == EmploymentStatus.TERMINATED
            or (person.end_date is not None and person.end_date < ctx.as_of.date())
        ):
            findings.append(
                Finding(
                    "nonhuman_owner_left",
                    system_id,
                    subject,
                    f"{what} is owned by {person.name} ({person.email}), who left on "
                    f"{person.end_date or 'an unrecorded date'}",
                    sha,
                )
            )

    for link in ctx.links:
        account = link.account
        if not _non_human(link) or account.status == AccountStatus.INACTIVE:
            continue
        if link.service:
            if link.person is None:
                continue  # a declared owner who is not on the roster: orphan_accounts says so
            owner: str | None = link.person.email
            known = True
        else:
            owner, known = account.owner, not account.owner_unknown
        what = f"service account {account.username}"
        judge(account.system_id, account.username, what, owner, known)

    for snapshot in snapshots:
        for credential in snapshot.collected.records.credentials:
            if not credential.active or credential.third_party is not None:
                continue
            if (credential.system_id, credential.account_id) in accounts:
                continue  # an account's own credential: whoever answers for the account does
            judge(
                credential.system_id,
                credential.credential_id,
                f"{credential.kind} {credential.credential_id}",
                credential.owner,
                not credential.owner_unknown,
            )
    evidence = ([ctx.roster.sha256] if ctx.roster else []) + list(shas.values())
    return verdict(findings, unknown, tested, evidence, "non-human identity")


def third_party_grants(ctx: CheckContext) -> Outcome:
    """Outside applications hold no grant that reaches everything (tenant-wide consent, every
    repository); a grant whose reach the source does not state is not judged."""
    snapshots = [
        s
        for s in _credential_snapshots(ctx)
        if any(c.third_party is not None for c in s.collected.records.credentials)
    ]
    if unusable_evidence := unusable(ctx, snapshots):
        return unusable_evidence
    findings: list[Finding] = []
    unknown = tested = 0
    for snapshot in snapshots:
        for grant in snapshot.collected.records.credentials:
            if grant.third_party is None or not grant.active:
                continue
            if grant.broad == Tri.UNKNOWN:
                unknown += 1
                continue
            tested += 1
            if grant.broad == Tri.YES:
                scopes = f" ({', '.join(grant.scopes)})" if grant.scopes else ""
                findings.append(
                    Finding(
                        "broad_third_party_grant",
                        grant.system_id,
                        grant.credential_id,
                        f"{grant.third_party} holds a {grant.kind} that reaches everything{scopes}",
                        snapshot.sha256,
                    )
                )
    return verdict(findings, unknown, tested, [s.sha256 for s in snapshots], "third-party grant")
