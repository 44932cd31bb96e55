"""What changed in who-can-access-what between two runs: joiners, leavers, movers, accounts and
grants added or removed, and new privileged grants — the population an auditor samples for the
joiner, mover and leaver controls."""

from __future__ import annotations

from dataclasses import dataclass

from assay.inventory.records import EmploymentStatus, Person, Tri
from assay.inventory.replay import Inventory

_MOVER_FIELDS = ("department", "title", "manager_email", "employment_type")


@dataclass(frozen=True)
class Change:
    kind: str
    """joiner, leaver, mover, account_added, account_removed, account_status, grant_added,
    grant_removed or privileged_grant_added."""
    system: str
    subject: str
    detail: str


def diff(old: Inventory, new: Inventory) -> list[Change]:
    """Every change from ``old`` to ``new``, people first, then accounts, then grants."""
    return [*_people(old, new), *_accounts(old, new), *_grants(old, new)]


def _people(old: Inventory, new: Inventory) -> list[Change]:
    before = {p.employee_id: p for p in old.people}
    after = {p.employee_id: p for p in new.people}
    changes = []
    for employee_id, person in after.items():
        previous = before.get(employee_id)
        if previous is None:
            changes.append(Change("joiner", "hr", person.email, f"{person.name} joined"))
        elif _gone(person) and not _gone(previous):
            changes.append(
                Change(
                    "leaver",
                    "hr",
                    person.email,
                    f"{person.name} left on {person.end_date or 'an unknown date'}",
                )
            )
        else:
            moved = [
                f"{field}: {getattr(previous, field)} → {getattr(person, field)}"
                for field in _MOVER_FIELDS
                if getattr(previous, field) != getattr(person, field)
            ]
            if moved:
                changes.append(Change("mover", "hr", person.email, "; ".join(moved)))
    for employee_id, person in before.items():
        if employee_id not in after:
            changes.append(
                Change("leaver", "hr", person.email, f"{person.name} is no longer on the roster")
            )
    return changes


def _gone(person: Person) -> bool:
    return person.status == EmploymentStatus.TERMINATED


def _accounts(old: Inventory, new: Inventory) -> list[Change]:
    def index(inventory: Inventory) -> dict[tuple[str, str], tuple[str, str]]:
        return {
            (a.system_id, a.account_id): (a.username, a.status.value)
            for records in inventory.records.values()
            for a in records.accounts
        }

    before, after = index(old), index(new)
    changes = []
    for key, (username, status) in after.items():
        if key not in before:
            changes.append(Change("account_added", key[0], username, f"new account ({status})"))
        elif before[key][1] != status:
            changes.append(
                Change("account_status", key[0], username, f"{before[key][1]} → {status}")
            )
    for key, (username, _) in before.items():
        if key not in after:
            changes.append(Change("account_removed", key[0], username, "account gone"))
    return changes


def _grants(old: Inventory, new: Inventory) -> list[Change]:
    def index(inventory: Inventory) -> dict[tuple[str, str, str, str | None], tuple[str, Tri]]:
        found = {}
        for system, records in inventory.records.items():
            entitlements = {e.entitlement_id: e for e in records.entitlements}
            names = {a.account_id: a.username for a in records.accounts}
            for grant in records.grants:
                entitlement = entitlements.get(grant.entitlement_id)
                label = f"{names.get(grant.account_id, grant.account_id)} → " + (
                    entitlement.name if entitlement else grant.entitlement_id
                )
                if grant.via:
                    label += f" (via {grant.via})"
                privileged = entitlement.privileged if entitlement else Tri.UNKNOWN
                found[(system, grant.account_id, grant.entitlement_id, grant.via)] = (
                    label,
                    privileged,
                )
        return found

    before, after = index(old), index(new)
    changes = []
    for key, (label, privileged) in after.items():
        if key not in before:
            kind = "privileged_grant_added" if privileged == Tri.YES else "grant_added"
            changes.append(Change(kind, key[0], label, "granted"))
    for key, (label, _) in before.items():
        if key not in after:
            changes.append(Change("grant_removed", key[0], label, "revoked"))
    return changes
