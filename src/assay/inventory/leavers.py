"""Leavers, and how long each one's access outlived them.

The clock starts at midnight (UTC) after the last day HR records and stops when the last of the
person's accounts closed, by the time its source gives for that. An account still open keeps the
clock running; an account closed at a time no source recorded leaves the delay unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from assay.inventory.correlation import Link
from assay.inventory.records import AccountStatus, EmploymentStatus, Person, Tri


def is_leaver(person: Person, today: date) -> bool:
    ended = person.end_date is not None and person.end_date < today
    return person.status == EmploymentStatus.TERMINATED or ended


def left_at(person: Person) -> datetime | None:
    """Midnight after the person's last day, UTC; None when HR recorded no last day."""
    if person.end_date is None:
        return None
    return datetime.combine(person.end_date + timedelta(days=1), time(), UTC)


def hours(delay: timedelta) -> int:
    return max(0, int(delay.total_seconds() // 3600))


@dataclass(frozen=True)
class LeaverAccount:
    """One account of a leaver, and how long after they left it closed."""

    link: Link
    delay: timedelta | None
    """Until it closed, or until now while it is open; None when that cannot be told."""

    def on_time(self, deadline: timedelta) -> Tri:
        """Whether it closed (or, still open, can still close) within ``deadline``."""
        if self.delay is None:
            return Tri.UNKNOWN
        return Tri.YES if self.delay <= deadline else Tri.NO


@dataclass(frozen=True)
class Leaver:
    person: Person
    left: datetime | None
    accounts: tuple[LeaverAccount, ...]

    @property
    def slowest(self) -> LeaverAccount | None:
        """The account that took longest among those whose delay is known."""
        known = [a for a in self.accounts if a.delay is not None]
        return max(known, key=lambda a: a.delay or timedelta(0)) if known else None

    @property
    def complete(self) -> bool:
        """Every account's delay is known (so the slowest is the leaver's delay)."""
        return bool(self.accounts) and all(a.delay is not None for a in self.accounts)


def leavers(people: Iterable[Person], links: Iterable[Link], now: datetime) -> list[Leaver]:
    """Every leaver on the roster with their personal accounts (declared service accounts they
    owned are not theirs to lose), in roster order."""
    gone = [person for person in people if is_leaver(person, now.date())]
    accounts: dict[str, list[Link]] = {person.email: [] for person in gone}
    for link in links:
        if link.person is not None and not link.service and link.person.email in accounts:
            accounts[link.person.email].append(link)
    result = []
    for person in gone:
        left = left_at(person)
        result.append(
            Leaver(
                person,
                left,
                tuple(
                    LeaverAccount(link, _closed_after(link, left, now))
                    for link in accounts[person.email]
                ),
            )
        )
    return result


def _closed_after(link: Link, left: datetime | None, now: datetime) -> timedelta | None:
    account = link.account
    if left is None or account.status == AccountStatus.UNKNOWN:
        return None
    if account.status == AccountStatus.ACTIVE:
        return now - left
    if account.deactivated_at is None:
        return None
    return max(account.deactivated_at - left, timedelta(0))
