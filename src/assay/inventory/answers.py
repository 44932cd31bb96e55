"""Answers about a run's identities as rows: the non-human identities with their owners, and each
leaver's accounts with their deprovisioning delay.

The one builder of these rows for ``assay identities`` and the web pages, so a terminal and a
browser show the same answer for the same run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from assay.checks.base import Policy
from assay.inventory.leavers import hours, leavers
from assay.inventory.nonhuman import NonHuman, OwnerNamedBy, nonhuman_identities
from assay.inventory.records import AccountStatus
from assay.inventory.replay import Inventory
from assay.programme.model import Programme


def started(inventory: Inventory) -> datetime:
    """When the inventory's run started: the moment its evidence describes."""
    from assay.monitor.models import Run

    return Run.objects.values_list("started_at", flat=True).get(pk=inventory.run_id)


@dataclass(frozen=True)
class NonHumanRow:
    """One service account or ownerless credential, as a row of ``assay identities nonhuman``."""

    system: str
    identity: str
    kind: str
    owner: str
    owner_named_by: str
    owner_status: str
    active_credentials: int


def _owner_status(item: NonHuman, today: date) -> str:
    if item.person is not None:
        if item.owner_left(today):
            return f"left on {item.person.end_date or 'an unrecorded date'}"
        return "here"
    if item.named_by == OwnerNamedBy.DECLARED:
        return "declared owner not on the roster"
    if item.owner is not None:
        return "not on the roster"
    return "unknown" if item.named_by == OwnerNamedBy.UNKNOWN else "no owner"


def nonhuman_rows(inventory: Inventory) -> tuple[NonHumanRow, ...]:
    """Every active service account and every credential that belongs to no account, with the
    owner who answers for it and whether that owner still works here."""
    credentials = [c for records in inventory.records.values() for c in records.credentials]
    today = started(inventory).date()
    return tuple(
        NonHumanRow(
            item.system_id,
            item.subject,
            item.kind,
            item.owner or "",
            item.named_by.value,
            _owner_status(item, today),
            item.active_credentials,
        )
        for item in nonhuman_identities(inventory.links, credentials, inventory.people)
    )


@dataclass(frozen=True)
class LeaverRow:
    """One account of one leaver, as a row of ``assay identities leavers``."""

    person: str
    last_day: str
    system: str
    account: str
    status: str
    closed: str
    delay_hours: int | None
    within_deadline: str


@dataclass(frozen=True)
class LeaversReport:
    run: int
    deadline_hours: int
    accounts: tuple[LeaverRow, ...]


def leaver_rows(programme: Programme, inventory: Inventory) -> LeaversReport:
    """Each leaver's accounts and how long after their last day each one closed, against the
    programme's deprovisioning deadline; a leaver with no account is a row that says so."""
    deadline = Policy.of(programme).deprovision_within
    rows = []
    for leaver in leavers(inventory.people, inventory.links, started(inventory)):
        person, last_day = leaver.person.email, str(leaver.person.end_date or "not recorded")
        if not leaver.accounts:
            rows.append(
                LeaverRow(person, last_day, "", "no account found", "", "", None, "unknown")
            )
        for item in leaver.accounts:
            account = item.link.account
            if account.status is AccountStatus.ACTIVE:
                closed = "still open"
            elif account.deactivated_at is not None:
                closed = f"{account.deactivated_at:%Y-%m-%d %H:%M} UTC"
            else:
                closed = "not recorded"
            rows.append(
                LeaverRow(
                    person,
                    last_day,
                    account.system_id,
                    account.username,
                    account.status.value,
                    closed,
                    None if item.delay is None else hours(item.delay),
                    item.on_time(deadline).value,
                )
            )
    return LeaversReport(inventory.run_id, hours(deadline), tuple(rows))
