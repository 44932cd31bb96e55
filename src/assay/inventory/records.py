"""Normalised records that connectors produce and checks read.

Every value a source did not give, or gave in a form we do not understand, is kept as
``Tri.UNKNOWN`` or ``None`` — never turned into a pass or a fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Tri(StrEnum):
    """A yes / no fact that may be unknown."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class AccountKind(StrEnum):
    HUMAN = "human"
    SERVICE = "service"
    SYSTEM = "system"
    UNKNOWN = "unknown"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    UNKNOWN = "unknown"


class EmploymentStatus(StrEnum):
    ACTIVE = "active"
    TERMINATED = "terminated"
    LEAVE = "leave"


class EmploymentType(StrEnum):
    EMPLOYEE = "employee"
    CONTRACTOR = "contractor"


@dataclass(frozen=True, slots=True)
class Person:
    """One row of the HR roster."""

    employee_id: str
    email: str
    name: str
    manager_email: str | None
    department: str
    title: str
    employment_type: EmploymentType
    status: EmploymentStatus
    start_date: date
    end_date: date | None


@dataclass(frozen=True, slots=True)
class Account:
    """An account on one system, as the system reports it."""

    system_id: str
    account_id: str
    """The system's own identifier (Okta user id, GitHub login, IAM user name)."""
    username: str
    email: str | None
    name: str | None
    employee_id: str | None
    kind: AccountKind
    status: AccountStatus
    mfa_registered: Tri
    mfa_enforced: Tri
    last_login: datetime | None
    last_login_source: str | None
    """The field ``last_login`` came from (``okta:lastLogin``); never a 'last updated' value."""
    privileged: Tri = Tri.UNKNOWN
    owner: str | None = None
    """Who the source names as answerable for a non-human account (an e-mail), if anyone."""
    owner_unknown: bool = False
    """The source names owners, but this snapshot does not hold them (an Entra export saved
    without ``owners/``): no ``owner`` then means "not known", not "nobody"."""
    root: bool = False
    """The system's built-in all-powerful account (AWS root user, uid 0): never for daily use."""
    deactivated_at: datetime | None = None
    """When the source says the account was suspended or deprovisioned, if it says."""
    shared_by: tuple[str, ...] = ()
    """People (e-mail or key comment) the source shows signing in as this one account."""


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential (API key, access key, token, SSH key) belonging to an account."""

    system_id: str
    credential_id: str
    kind: str
    account_id: str
    active: bool
    created: datetime | None
    last_rotated: datetime | None
    last_used: datetime | None
    last_used_source: str | None
    expires_at: datetime | None = None
    expiry: Tri = Tri.UNKNOWN
    """YES when the credential expires (at ``expires_at``), NO when it never does."""
    scopes: tuple[str, ...] = ()
    owner: str | None = None
    """Who holds it, as the source names them (a login or e-mail), when that is not the account."""
    owner_unknown: bool = False
    """As ``Account.owner_unknown``: the holder was not collected, so it is not known."""
    third_party: str | None = None
    """The outside party the credential was granted to (an OAuth app, a GitHub App), if any."""
    broad: Tri = Tri.UNKNOWN
    """YES when a third-party grant reaches everything (tenant-wide consent, all repositories)."""


@dataclass(frozen=True, slots=True)
class Application:
    """A system the source shows people reaching: an app in the identity provider, a service the
    cloud runs. Compared with the programme file's systems to catch scope drift."""

    system_id: str
    """The system it was seen through."""
    app_id: str
    name: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class Entitlement:
    """Something an account can be granted on a system: a group, role, permission or policy."""

    system_id: str
    entitlement_id: str
    name: str
    kind: str
    """group, role, permission or policy."""
    privileged: Tri = Tri.UNKNOWN


@dataclass(frozen=True, slots=True)
class Grant:
    """An account holding an entitlement, directly or through a group it belongs to."""

    system_id: str
    account_id: str
    entitlement_id: str
    via: str | None = None
    """The group entitlement it is held through; None when granted directly."""


@dataclass(frozen=True, slots=True)
class Change:
    """A change that reached a protected branch."""

    system_id: str
    repository: str
    branch: str
    commit: str
    subject: str
    committed_at: datetime
    authors: tuple[str, ...]
    """Normalised (lower-case) e-mail addresses of everyone who wrote the change."""
    reviewers: tuple[str, ...]
    """Normalised e-mail addresses of everyone recorded as having reviewed or approved it."""


@dataclass(frozen=True, slots=True)
class BranchProtection:
    """How a repository's branch is guarded: the rules that stop an unreviewed change landing."""

    system_id: str
    repository: str
    branch: str
    protected: Tri
    required_approvals: int | None
    """Approving reviews a pull request needs before it can merge; None when not known."""
    enforce_admins: Tri
    """YES when administrators are held to the same rules and cannot bypass them."""
    dismiss_stale_reviews: Tri
    """YES when a new push dismisses approvals given before it."""


@dataclass(frozen=True, slots=True)
class Records:
    """Everything one snapshot yielded, normalised."""

    people: tuple[Person, ...] = ()
    accounts: tuple[Account, ...] = ()
    credentials: tuple[Credential, ...] = ()
    changes: tuple[Change, ...] = ()
    entitlements: tuple[Entitlement, ...] = ()
    grants: tuple[Grant, ...] = ()
    applications: tuple[Application, ...] = ()
    branch_protections: tuple[BranchProtection, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def count(self) -> int:
        return (
            len(self.people)
            + len(self.accounts)
            + len(self.credentials)
            + len(self.changes)
            + len(self.entitlements)
            + len(self.grants)
            + len(self.applications)
            + len(self.branch_protections)
        )
