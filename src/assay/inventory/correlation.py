"""Correlate accounts to people.

An account is linked to a person, in this order of trust: a declared service account (linked to its
owner), a manual alias, the employee id, the e-mail address, the login equal to an e-mail address,
then the programme's username rules. A rule that would give two people the same username links
neither: a guess is worse than an honest orphan.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from assay.inventory.records import Account, Person
from assay.programme.model import People


def normalise_username(value: str) -> str:
    """Compare usernames without case or punctuation: ``Jane.Doe`` and ``jane-doe`` are equal."""
    return re.sub(r"[^a-z0-9]", "", value.lower())


def username_candidates(person: Person, rules: Iterable[str]) -> set[str]:
    """The usernames the programme's rules say this person would have."""
    first, _, last = person.name.strip().partition(" ")
    values = {
        "email_local": person.email.split("@", 1)[0],
        "first": first,
        "last": last.split(" ")[-1] if last else "",
        "first_initial": first[:1],
        "employee_id": person.employee_id,
    }
    return {normalise_username(rule.format_map(values)) for rule in rules} - {""}


@dataclass(frozen=True)
class ServiceAccountOwner:
    """A non-human account declared in the programme file, with the person who owns it."""

    system_id: str
    account: str
    owner_email: str


@dataclass(frozen=True)
class ManualLink:
    """An account linked to a person by hand in the programme file."""

    person_email: str
    by: str
    reason: str


@dataclass(frozen=True)
class Link:
    """How an account was tied to a person, or that it was not (``person`` is None)."""

    account: Account
    person: Person | None
    method: str
    service: bool = False


def correlate(
    people: Iterable[Person],
    accounts: Iterable[Account],
    *,
    username_rules: Iterable[str] = (),
    aliases: Mapping[tuple[str, str], ManualLink] | None = None,
    service_accounts: Iterable[ServiceAccountOwner] = (),
) -> list[Link]:
    """Link every account to at most one person; ``aliases`` maps (system, account) to the
    manual link made for it."""
    people = list(people)
    by_email = {person.email.lower(): person for person in people}
    by_employee_id = {person.employee_id: person for person in people}
    by_username: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        for candidate in username_candidates(person, username_rules):
            by_username[candidate].append(person)
    manual = {key: link.person_email.lower() for key, link in (aliases or {}).items()}
    made = {key: f"alias by {link.by}: {link.reason}" for key, link in (aliases or {}).items()}
    services = {(s.system_id, s.account): s.owner_email.lower() for s in service_accounts}

    links = []
    for account in accounts:
        service_owner = _declared(services, account)
        alias = _declared(manual, account)
        if service_owner is not None:
            links.append(
                Link(account, by_email.get(service_owner), "service account", service=True)
            )
        elif alias is not None:
            how = made.get((account.system_id, account.account_id)) or made.get(
                (account.system_id, account.username), "alias"
            )
            links.append(Link(account, by_email.get(alias), how))
        elif account.employee_id and account.employee_id in by_employee_id:
            links.append(Link(account, by_employee_id[account.employee_id], "employee id"))
        elif account.email and account.email.lower() in by_email:
            links.append(Link(account, by_email[account.email.lower()], "email"))
        elif account.username.lower() in by_email:
            links.append(Link(account, by_email[account.username.lower()], "login is email"))
        else:
            matches = by_username.get(normalise_username(account.username), [])
            match = matches[0] if len(matches) == 1 else None
            links.append(Link(account, match, "username rule" if match else "none"))
    return links


def correlate_for(
    people_settings: People | None, people: Iterable[Person], accounts: Iterable[Account]
) -> list[Link]:
    """Correlate with the rules, aliases and service accounts a programme file declares."""
    settings = people_settings
    return correlate(
        people,
        accounts,
        username_rules=settings.username_rules if settings else (),
        aliases={
            (a.system, a.account): ManualLink(a.person, a.by, a.reason) for a in settings.aliases
        }
        if settings
        else {},
        service_accounts=[
            ServiceAccountOwner(s.system, s.account, s.owner) for s in settings.service_accounts
        ]
        if settings
        else (),
    )


def _declared(declarations: Mapping[tuple[str, str], str], account: Account) -> str | None:
    """A declaration may name an account by the system's id for it or by its username."""
    for name in (account.account_id, account.username):
        found = declarations.get((account.system_id, name))
        if found is not None:
            return found
    return None
