"""Change management: every change that reached a protected branch was reviewed by someone else."""

from __future__ import annotations

from assay.checks.base import CheckContext, Finding, Outcome, unusable, verdict


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
