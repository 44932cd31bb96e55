"""The audit boundary itself: the scope lint's problems become findings of the run."""

from __future__ import annotations

from assay.checks.base import CheckContext, Finding, Outcome, Status

SYSTEM_RULES = frozenset(
    {"system_without_owner", "system_without_connector", "customer_data_out_of_scope"}
)


def scope_boundary(ctx: CheckContext) -> Outcome:
    """Every in-scope system is owned and collected; customer data and vendors are accounted for."""
    findings = tuple(
        Finding(
            note.rule,
            note.subject if note.rule in SYSTEM_RULES else "programme",
            note.subject,
            note.message,
            ctx.programme_sha256,
        )
        for note in ctx.scope_notes
    )
    status = Status.FAILING if findings else Status.PASSING
    summary = f"{len(findings)} scope problem(s)" if findings else "scope declaration consistent"
    return Outcome(status, summary, findings, (ctx.programme_sha256,))
