"""Change management: every change that reached a protected branch was reviewed by someone else,
and the branch itself refuses unreviewed changes."""

from __future__ import annotations

from assay.checks.base import CheckContext, Finding, Outcome, unusable, verdict
from assay.inventory.records import Tri


def change_review(ctx: CheckContext) -> Outcome:
    """Changes in the audit period, up to now, carry a review by someone other than an author."""
    snapshots = [s for s in ctx.snapshots if s.collected.records.changes]
    if unusable_evidence := unusable(ctx, snapshots):
        return unusable_evidence
    findings: list[Finding] = []
    unknown = tested = 0
    last_day = min(ctx.period_end, ctx.as_of.date())
    for snapshot in snapshots:
        for change in snapshot.collected.records.changes:
            if not ctx.period_start <= change.committed_at.date() <= last_day:
                continue
            if not change.authors:
                unknown += 1
                continue
            tested += 1
            independent = set(change.reviewers) - set(change.authors)
            subject = f"{change.repository}@{change.commit[:12]}"
            if not change.reviewers:
                findings.append(
                    Finding(
                        "change_without_review",
                        change.system_id,
                        subject,
                        f"'{change.subject}' reached {change.branch} with no review",
                        snapshot.sha256,
                    )
                )
            elif not independent:
                findings.append(
                    Finding(
                        "change_self_reviewed",
                        change.system_id,
                        subject,
                        f"'{change.subject}' reached {change.branch} reviewed only "
                        f"by its author ({', '.join(change.authors)})",
                        snapshot.sha256,
                    )
                )
    return verdict(findings, unknown, tested, [s.sha256 for s in snapshots], "change")


def branch_protection(ctx: CheckContext) -> Outcome:
    """The main branch of every collected repository refuses unreviewed changes: protection is
    on and at least one approving review is required. A rule the source does not state is not
    judged."""
    snapshots = [s for s in ctx.snapshots if s.collected.records.branch_protections]
    if unusable_evidence := unusable(ctx, snapshots):
        return unusable_evidence
    findings: list[Finding] = []
    unknown = tested = 0
    for snapshot in snapshots:
        for rule in snapshot.collected.records.branch_protections:
            subject = f"{rule.repository}@{rule.branch}"
            if rule.protected == Tri.UNKNOWN or (
                rule.protected == Tri.YES and rule.required_approvals is None
            ):
                unknown += 1
                continue
            tested += 1
            if rule.protected == Tri.NO:
                findings.append(
                    Finding(
                        "branch_unprotected",
                        rule.system_id,
                        subject,
                        f"{rule.branch} of {rule.repository} is not protected: anyone with write "
                        "access can push to it directly",
                        snapshot.sha256,
                    )
                )
            elif rule.required_approvals == 0:
                findings.append(
                    Finding(
                        "branch_allows_unreviewed",
                        rule.system_id,
                        subject,
                        f"{rule.branch} of {rule.repository} is protected but needs no approving "
                        "review before a merge",
                        snapshot.sha256,
                    )
                )
    return verdict(findings, unknown, tested, [s.sha256 for s in snapshots], "branch rule")
