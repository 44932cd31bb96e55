"""Non-human identities and who answers for each.

A service account (so marked by its source, or declared in ``people.service_accounts``) and an
active credential that belongs to no account (a deploy key, an organisation token) each need an
owner who still works here: the person declared for it, else the one its source names. An
account's own keys are answered for by whoever answers for the account; a grant to an outside
party belongs to that party and is judged as a third-party grant instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from assay.inventory.correlation import Link
from assay.inventory.leavers import is_leaver
from assay.inventory.records import AccountKind, AccountStatus, Credential, Person


class OwnerNamedBy(StrEnum):
    """Where an owner comes from, or why there is none."""

    DECLARED = "declared"
    """``people.service_accounts`` in the programme file: it takes precedence."""
    SOURCE = "source"
    NOBODY = "nobody"
    """Neither the source nor the programme names anyone."""
    UNKNOWN = "unknown"
    """The source names owners, but they were not collected."""


@dataclass(frozen=True)
class NonHuman:
    """A non-human identity, its owner and that owner's place on the roster."""

    system_id: str
    subject: str
    """The account's login, or the credential's id."""
    kind: str
    """``service account``, or the credential's kind (``deploy_key``, …)."""
    owner: str | None
    named_by: OwnerNamedBy
    person: Person | None
    """The owner found on the HR roster (by e-mail, or by their login on the same system)."""
    active_credentials: int = 0

    @property
    def what(self) -> str:
        return f"{self.kind} {self.subject}"

    def owner_left(self, today: date) -> bool:
        return self.person is not None and is_leaver(self.person, today)


def nonhuman_identities(
    links: Iterable[Link], credentials: Iterable[Credential], people: Iterable[Person]
) -> list[NonHuman]:
    """Every active non-human identity: service accounts in link order, then the credentials
    that belong to no account."""
    links = list(links)
    by_email = {p.email.lower(): p for p in people}
    by_login = {
        (link.account.system_id, link.account.username.lower()): link.person
        for link in links
        if link.person is not None
    }

    def on_roster(system_id: str, owner: str | None) -> Person | None:
        if owner is None:
            return None
        return by_email.get(owner.lower()) or by_login.get((system_id, owner.lower()))

    active = [c for c in credentials if c.active and c.third_party is None]
    held: dict[tuple[str, str], int] = {}
    for credential in active:
        key = (credential.system_id, credential.account_id)
        held[key] = held.get(key, 0) + 1
    found: list[NonHuman] = []
    for link in links:
        account = link.account
        service = link.service or account.kind == AccountKind.SERVICE
        if not service or account.status == AccountStatus.INACTIVE:
            continue
        if link.service:
            owner = link.person.email if link.person is not None else None
            named_by = OwnerNamedBy.DECLARED
            person = link.person
        else:
            owner = account.owner
            named_by = _named_by(owner, account.owner_unknown)
            person = on_roster(account.system_id, owner)
        count = held.get((account.system_id, account.account_id), 0)
        found.append(
            NonHuman(
                account.system_id,
                account.username,
                "service account",
                owner,
                named_by,
                person,
                count,
            )
        )
    accounts = {(link.account.system_id, link.account.account_id) for link in links}
    for credential in active:
        if (credential.system_id, credential.account_id) in accounts:
            continue
        found.append(
            NonHuman(
                credential.system_id,
                credential.credential_id,
                credential.kind,
                credential.owner,
                _named_by(credential.owner, credential.owner_unknown),
                on_roster(credential.system_id, credential.owner),
                1,
            )
        )
    return found


def _named_by(owner: str | None, unknown: bool) -> OwnerNamedBy:
    if owner is not None:
        return OwnerNamedBy.SOURCE
    return OwnerNamedBy.UNKNOWN if unknown else OwnerNamedBy.NOBODY
