"""Credential checks: stale and never-expiring secrets, owners of non-human identities, and
third-party grants that reach everything."""

from __future__ import annotations

from datetime import timedelta

from assay.checks.base import CheckContext, Finding, Outcome, Unjudged, systems, verdict
from assay.inventory.nonhuman import OwnerNamedBy, nonhuman_identities
from assay.inventory.records import Credential, Tri

KEY_MAX_AGE = timedelta(days=90)

EXPIRY_EXPECTED = frozenset({"fine_grained_pat", "client_secret", "api_token"})
"""Credential kinds the issuer lets you give an end date: one that never expires is a choice."""


def stale_credentials(ctx: CheckContext) -> Outcome:
    """Active keys and tokens are rotated and used within 90 days, and those that can be given an
    end date have one. Grants to third parties are judged by ``third_party_grants`` instead."""
    needed = systems(ctx, "credentials")
    findings: list[Finding] = []
    unjudged = list(needed.unjudged)
    tested = 0
    for snapshot in needed.judged.values():
        for key in snapshot.collected.records.credentials:
            if not key.active or key.third_party is not None:
                continue
            problems = _staleness(key, ctx)
            if problems is None:
                unjudged.append(
                    Unjudged(
                        key.system_id,
                        key.credential_id,
                        "the source does not say when it was created or rotated",
                    )
                )
                continue
            tested += 1
            findings.extend(
                Finding(rule, key.system_id, key.credential_id, detail, snapshot.sha256)
                for rule, detail in problems
            )
    return verdict(findings, unjudged, tested, needed.evidence, "credential")


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


def nonhuman_owners(ctx: CheckContext) -> Outcome:
    """Every service account, and every credential that belongs to no account (deploy keys, say),
    has an owner who still works here (``inventory.nonhuman`` says who answers for each). Where
    the source names owners but they were not collected, the item is not judged; a declared
    owner who is not on the roster is left to ``orphan_accounts``."""
    needed = systems(ctx, "accounts", "credentials", roster=True)
    credentials = [c for s in needed.judged.values() for c in s.collected.records.credentials]
    links = [link for link in ctx.links if link.account.system_id in needed]
    findings: list[Finding] = []
    unjudged = list(needed.unjudged)
    tested = 0
    for item in nonhuman_identities(links, credentials, ctx.people):
        if item.named_by == OwnerNamedBy.UNKNOWN:
            unjudged.append(
                Unjudged(item.system_id, item.subject, "the source's owners were not collected")
            )
            continue
        if item.named_by == OwnerNamedBy.DECLARED and item.person is None:
            continue
        tested += 1
        sha = needed.sha(item.system_id)
        if item.owner is None:
            detail = (
                f"{item.what} has no owner, neither named by the source nor declared in "
                "assay.yaml (people.service_accounts)"
            )
            findings.append(
                Finding("nonhuman_without_owner", item.system_id, item.subject, detail, sha)
            )
        elif item.person is not None and item.owner_left(ctx.as_of.date()):
            person = item.person
            detail = (
                f"{item.what} is owned by {person.name} ({person.email}), who left on "
                f"{person.end_date or 'an unrecorded date'}"
            )
            findings.append(
                Finding("nonhuman_owner_left", item.system_id, item.subject, detail, sha)
            )
    return verdict(findings, unjudged, tested, needed.evidence, "non-human identity")


def third_party_grants(ctx: CheckContext) -> Outcome:
    """Outside applications hold no grant that reaches everything (tenant-wide consent, every
    repository); a grant whose reach the source does not state is not judged."""
    needed = systems(ctx, "credentials")
    findings: list[Finding] = []
    unjudged = list(needed.unjudged)
    tested = 0
    for snapshot in needed.judged.values():
        for grant in snapshot.collected.records.credentials:
            if grant.third_party is None or not grant.active:
                continue
            if grant.broad == Tri.UNKNOWN:
                unjudged.append(
                    Unjudged(
                        grant.system_id,
                        grant.credential_id,
                        f"the source does not say how far {grant.third_party}'s grant reaches",
                    )
                )
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
    return verdict(findings, unjudged, tested, needed.evidence, "third-party grant")
