"""Change management: every change that reached a protected branch was reviewed by someone else,
and the branch itself refuses unreviewed changes."""

from __future__ import annotations

from assay.checks.base import CheckContext, Finding, Outcome, Unjudged, systems, verdict
from assay.inventory.records import Tri


def change_review(ctx: CheckContext) -> Outcome:
    """Changes in the audit period, up to now, carry a review by someone other than an author."""
    needed = systems(ctx, "changes")
    findings: list[Finding] = []
    unjudged = list(needed.unjudged)
    tested = 0
    last_day = min(ctx.period_end, ctx.as_of.date())
    for snapshot in needed.judged.values():
        for change in snapshot.collected.records.changes:
            if not ctx.period_start <= change.committed_at.date() <= last_day:
                continue
            subject = f"{change.repository}@{change.commit[:12]}"
            if not change.authors:
                unjudged.append(Unjudged(change.system_id, subject, "its author is not recorded"))
                continue
            tested += 1
            independent = set(change.reviewers) - set(change.authors)
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
    return verdict(findings, unjudged, tested, needed.evidence, "change")


def branch_protection(ctx: CheckContext) -> Outcome:
    """The main branch of every collected repository refuses unreviewed changes: protection is
    on and at least one approving review is required. A rule the source does not state is not
    judged."""
    needed = systems(ctx, "branch_protections")
    findings: list[Finding] = []
    unjudged = list(needed.unjudged)
    tested = 0
    for snapshot in needed.judged.values():
        for rule in snapshot.collected.records.branch_protections:
            subject = f"{rule.repository}@{rule.branch}"
            if rule.protected == Tri.UNKNOWN or (
                rule.protected == Tri.YES and rule.required_approvals is None
            ):
                why = (
                    "whether it is protected was not read"
                    if rule.protected == Tri.UNKNOWN
                    else "how many approving reviews it requires was not read"
                )
                unjudged.append(Unjudged(rule.system_id, subject, why))
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
    return verdict(findings, unjudged, tested, needed.evidence, "branch rule")
