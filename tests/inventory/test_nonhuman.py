"""Non-human identities and who answers for each."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from tests.inventory.test_correlation import account, person

from assay.inventory.correlation import Link
from assay.inventory.nonhuman import OwnerNamedBy, nonhuman_identities
from assay.inventory.records import AccountKind, AccountStatus, Credential, EmploymentStatus

ADA = person("Ada", "Lovelace", "E1")
BOB = replace(
    person("Bob", "Left", "E2"), status=EmploymentStatus.TERMINATED, end_date=date(2026, 1, 31)
)


def service(name: str, *, owner: str | None = None, unknown: bool = False) -> Link:
    held = replace(
        account(name, system="cloud"),
        kind=AccountKind.SERVICE,
        owner=owner,
        owner_unknown=unknown,
    )
    return Link(held, None, "none")


def key(key_id: str, account_id: str, *, owner: str | None = None, **changes: object) -> Credential:
    made = Credential(
        "cloud", key_id, "deploy_key", account_id, True, None, None, None, None, owner=owner
    )
    return replace(made, **changes)


def test_service_accounts_then_keys_of_no_account_each_with_their_owner() -> None:
    human = Link(account("ada", system="cloud"), ADA, "email")
    declared = Link(replace(account("ci", system="cloud"), kind=AccountKind.SERVICE), BOB, "", True)
    links = [
        human,
        declared,
        service("sync", owner="Ada.Lovelace@Acme.example"),
        service("export", owner="ada"),  # her login on the same system
        service("robot"),
        service("unread", unknown=True),
        replace(
            service("retired"),
            account=replace(service("retired").account, status=AccountStatus.INACTIVE),
        ),
    ]
    credentials = [
        key("ci-1", "ci"),
        key("ci-2", "ci"),
        key("repo-key", "acme/app", owner="bob.left@acme.example"),
        key("old-key", "acme/app", active=False),
        key("app-grant", "acme/app", third_party="Some App"),
    ]
    found = nonhuman_identities(links, credentials, [ADA, BOB])
    assert [
        (n.subject, n.kind, n.owner, n.named_by, n.person, n.active_credentials) for n in found
    ] == [
        ("ci", "service account", BOB.email, OwnerNamedBy.DECLARED, BOB, 2),
        ("sync", "service account", "Ada.Lovelace@Acme.example", OwnerNamedBy.SOURCE, ADA, 0),
        ("export", "service account", "ada", OwnerNamedBy.SOURCE, ADA, 0),
        ("robot", "service account", None, OwnerNamedBy.NOBODY, None, 0),
        ("unread", "service account", None, OwnerNamedBy.UNKNOWN, None, 0),
        ("repo-key", "deploy_key", "bob.left@acme.example", OwnerNamedBy.SOURCE, BOB, 1),
    ]
    today = date(2026, 6, 1)
    assert [n.subject for n in found if n.owner_left(today)] == ["ci", "repo-key"]
    assert found[-1].what == "deploy_key repo-key"
