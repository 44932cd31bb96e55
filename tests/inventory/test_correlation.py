"""Correlation of accounts to people."""

from __future__ import annotations

from datetime import date

from assay.inventory.correlation import (
    ManualLink,
    ServiceAccountOwner,
    correlate,
    normalise_username,
)
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    EmploymentStatus,
    EmploymentType,
    Person,
    Tri,
)


def person(first: str, last: str, employee_id: str) -> Person:
    return Person(
        employee_id,
        f"{first}.{last}@acme.example".lower(),
        f"{first} {last}",
        None,
        "Engineering",
        "Engineer",
        EmploymentType.EMPLOYEE,
        EmploymentStatus.ACTIVE,
        date(2024, 1, 1),
        None,
    )


def account(
    username: str,
    *,
    email: str | None = None,
    employee_id: str | None = None,
    system: str = "github",
) -> Account:
    return Account(
        system,
        username,
        username,
        email,
        None,
        employee_id,
        AccountKind.HUMAN,
        AccountStatus.ACTIVE,
        Tri.UNKNOWN,
        Tri.UNKNOWN,
        None,
        None,
    )


PEOPLE = [person("Jane", "Doe", "E1"), person("John", "Doe", "E2"), person("Ana", "Lima", "E3")]


def methods(accounts: list[Account], **kwargs: object) -> dict[str, tuple[str | None, str]]:
    links = correlate(PEOPLE, accounts, **kwargs)  # type: ignore[arg-type]
    return {k.account.username: (k.person.email if k.person else None, k.method) for k in links}


def test_normalised_usernames_ignore_case_and_punctuation() -> None:
    assert normalise_username("Jane.Doe") == normalise_username("jane-doe") == "janedoe"


def test_links_by_employee_id_then_email_then_login() -> None:
    found = methods(
        [
            account("x1", employee_id="E3"),
            account("x2", email="JANE.DOE@acme.example"),
            account("john.doe@acme.example"),
        ]
    )
    assert found == {
        "x1": ("ana.lima@acme.example", "employee id"),
        "x2": ("jane.doe@acme.example", "email"),
        "john.doe@acme.example": ("john.doe@acme.example", "login is email"),
    }


def test_username_rules_link_only_when_unambiguous() -> None:
    found = methods(
        [account("ana-lima"), account("jdoe"), account("stranger")],
        username_rules=["{email_local}", "{first_initial}{last}"],
    )
    assert found["ana-lima"] == ("ana.lima@acme.example", "username rule")
    assert found["jdoe"] == (None, "none")  # Jane Doe and John Doe would both be jdoe
    assert found["stranger"] == (None, "none")


def test_aliases_and_service_accounts_take_precedence() -> None:
    links = correlate(
        PEOPLE,
        [account("octo-j"), account("ci-bot", system="aws")],
        aliases={
            ("github", "octo-j"): ManualLink("John.Doe@acme.example", "it@acme.example", "own")
        },
        service_accounts=[ServiceAccountOwner("aws", "ci-bot", "ana.lima@acme.example")],
    )
    alias, service = links
    assert alias.person is not None and alias.person.email == "john.doe@acme.example"
    assert alias.method == "alias by it@acme.example: own" and not alias.service
    assert service.person is not None and service.person.email == "ana.lima@acme.example"
    assert service.service
