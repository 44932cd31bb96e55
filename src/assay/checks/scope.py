"""The audit boundary itself: the scope lint's problems become findings of the run, and systems
seen in use but never declared are drift."""

from __future__ import annotations

from assay.checks.base import (
    CheckContext,
    Finding,
    Outcome,
    Status,
    normalise_name,
    systems,
    verdict,
)

SYSTEM_RULES = frozenset(
    {"system_without_owner", "system_without_connector", "customer_data_out_of_scope"}
)


JUDGED_ELSEWHERE = frozenset({"control_without_owner"})
"""Scope notes another check reports as its findings (``control_owners``), so not twice."""


def scope_boundary(ctx: CheckContext) -> Outcome:
    """Every in-scope system is owned and collected; customer data is inside the boundary; every
    criterion of the chosen categories is covered."""
    findings = tuple(
        Finding(
            note.rule,
            note.subject if note.rule in SYSTEM_RULES else "programme",
            note.subject,
            note.message,
            ctx.programme_sha256,
        )
        for note in ctx.scope_notes
        if note.rule not in JUDGED_ELSEWHERE
    )
    status = Status.FAILING if findings else Status.PASSING
    summary = f"{len(findings)} scope problem(s)" if findings else "scope declaration consistent"
    return Outcome(status, summary, findings, (ctx.programme_sha256,))


def scope_drift(ctx: CheckContext) -> Outcome:
    """Every app the identity provider or code host shows people reaching is a declared system or
    vendor service (by id, name or ``seen_as``): an undeclared one may sit outside the boundary
    while holding company data."""
    needed = systems(ctx, "applications")
    findings: list[Finding] = []
    tested = 0
    for snapshot in needed.judged.values():
        seen: set[str] = set()
        for app in snapshot.collected.records.applications:
            name = normalise_name(app.name)
            if not app.active or name in seen:
                continue
            seen.add(name)
            tested += 1
            if name not in ctx.policy.declared_names:
                findings.append(
                    Finding(
                        "undeclared_system",
                        app.system_id,
                        app.name,
                        f"'{app.name}' is in use through {app.system_id} but assay.yaml declares "
                        "no system or vendor service by that name (add it, or its name to a "
                        "system's seen_as)",
                        snapshot.sha256,
                    )
                )
    return verdict(findings, needed.unjudged, tested, needed.evidence, "application")
