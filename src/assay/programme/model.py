"""The typed model of a programme file (``assay.yaml``): the audit boundary as code.

Every model is frozen and rejects unknown keys, so a misspelt key is an error rather than a
silently ignored setting. Rules that span fields raise ``FieldProblem`` so the loader can point
at the exact line of the offending field, not just the enclosing mapping.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    field_validator,
    model_validator,
)

from assay.catalog import Category, Frequency, load_catalog
from assay.connectors._urls import allowed
from assay.connectors.registry import check_settings
from assay.errors import InputError
from assay.evidence.statements import TTL

Loc = tuple[str | int, ...]


class FieldProblem(ValueError):
    """A validation problem located at ``field``, a path relative to the model raising it."""

    def __init__(self, field: Loc, problem: str) -> None:
        super().__init__(problem)
        self.field = field


class SystemKind(StrEnum):
    """What a system is; checks and correlation rules are chosen by kind."""

    IDP = "idp"
    CLOUD = "cloud"
    CODE = "code"
    DATABASE = "database"
    HOST = "host"
    SAAS = "saas"
    HR = "hr"
    TICKETING = "ticketing"
    LOGGING = "logging"


class ConnectorType(StrEnum):
    """The connectors Assay ships."""

    HR_CSV = "hr_csv"
    HR_XLSX = "hr_xlsx"
    OKTA = "okta"
    AWS_IAM = "aws_iam"
    GITHUB = "github"
    GIT = "git"
    LINUX = "linux"
    POSTGRES = "postgres"
    JUMPCLOUD = "jumpcloud"
    GOOGLE_WORKSPACE = "google_workspace"
    ENTRA = "entra"
    LDAP = "ldap"


class Mode(StrEnum):
    """How a connector reads its system: the vendor's API, or the vendor's own export on disk."""

    LIVE = "live"
    EXPORT = "export"


class Criticality(StrEnum):
    """How much a vendor's failure would hurt; drives review depth in the vendor register."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


USERNAME_PLACEHOLDERS = frozenset({"email_local", "first", "last", "first_initial", "employee_id"})

_SYSTEM_ID = re.compile(r"[a-z][a-z0-9_-]*")
_ENV_VAR = re.compile(r"[A-Z_][A-Z0-9_]*")


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def _email(value: str) -> str:
    value = value.strip().lower()
    local, at, domain = value.partition("@")
    if not (local and at and domain) or any(c.isspace() for c in value):
        raise ValueError(f"'{value}' is not an email address")
    return value


def _system_id(value: str) -> str:
    if not _SYSTEM_ID.fullmatch(value):
        raise ValueError(
            f"'{value}' must start with a lower-case letter and contain only a-z, 0-9, '-' or '_'"
        )
    return value


def _env_var_name(value: str) -> str:
    if not _ENV_VAR.fullmatch(value):
        # Never echo the value: it is probably the secret itself.
        raise ValueError(
            "secrets must be references to environment variables, "
            "e.g. OKTA_API_TOKEN, not the secret value"
        )
    return value


Scalar = str | int | float | bool | date | None
SettingValue = Scalar | tuple[Scalar, ...]


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool | date)


def _setting_value(value: object) -> SettingValue:
    if value is None or isinstance(value, str | int | float | bool | date):
        return value
    if isinstance(value, list | tuple) and all(_is_scalar(item) for item in value):
        return tuple(value)
    raise ValueError("must be a plain value or a list of plain values")


def _url(value: str) -> str:
    """The connectors' URL rule for the programme's own URLs: the file is kept as evidence."""
    return allowed(value, sends_secret=False)


def _username_rule(rule: str) -> str:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(rule) if name is not None]
    except ValueError as error:
        raise ValueError(f"'{rule}' is not a valid rule: {error}") from None
    if not fields:
        raise ValueError(f"'{rule}' has no placeholder, so it would match everyone")
    for name in fields:
        if name not in USERNAME_PLACEHOLDERS:
            allowed = ", ".join(sorted(USERNAME_PLACEHOLDERS))
            raise ValueError(f"unknown placeholder '{{{name}}}' in '{rule}'; use {allowed}")
    return rule


Text = Annotated[str, AfterValidator(_text)]
Email = Annotated[str, AfterValidator(_email)]
SystemId = Annotated[str, AfterValidator(_system_id)]
EnvVarName = Annotated[str, AfterValidator(_env_var_name)]
UsernameRule = Annotated[str, AfterValidator(_username_rule)]
Url = Annotated[str, AfterValidator(_text), AfterValidator(_url)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Owner(_Model):
    """The programme owner: the person who answers the auditor."""

    name: Text
    email: Email


class Period(_Model):
    """The audit period, both dates inclusive."""

    start: date
    end: date


class Audit(_Model):
    """Which report is being prepared: Type 1 (design at a point in time) or Type 2 (a period)."""

    type: Literal[1, 2]
    period: Period

    @model_validator(mode="after")
    def _period_fits_type(self) -> Audit:
        if self.type == 2 and self.period.end <= self.period.start:
            raise FieldProblem(("period", "end"), "a Type 2 period must end after it starts")
        if self.type == 1 and self.period.end < self.period.start:
            raise FieldProblem(("period", "end"), "the period must not end before it starts")
        return self


class ConnectorSpec(_Model):
    """How evidence is collected from one system; secrets are environment variable names only.

    The settings are checked against the connector's own declaration of them (its ``Settings``
    model), so an unknown key, a mistyped value or a credential written as a setting is refused
    at its line here, before ``assay run`` or ``assay scope check`` go any further.
    """

    type: ConnectorType
    mode: Mode = Mode.EXPORT
    settings: dict[str, Annotated[SettingValue, PlainValidator(_setting_value)]] = Field(
        default_factory=dict
    )
    secrets: dict[str, EnvVarName] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _settings_declared(self) -> ConnectorSpec:
        problem = check_settings(self.type, self.settings, self.secrets)
        if problem is not None:
            raise FieldProblem(*problem)
        return self


class System(_Model):
    """A system inside or outside the audit boundary; ``reason`` records why, for the auditor."""

    id: SystemId
    name: Text
    kind: SystemKind
    owner: Email | None = None
    in_scope: bool
    reason: Text
    customer_data: bool = False
    connector: ConnectorSpec | None = None
    seen_as: tuple[Text, ...] = ()
    """Names this system goes by in the identity provider's apps or the cloud, for scope drift."""


class Vendor(_Model):
    """A third party the organisation relies on (sub-service organisation or supplier)."""

    name: Text
    services: tuple[Text, ...] = ()
    customer_data: bool
    criticality: Criticality
    owner: Email | None = None
    system: SystemId | None = None
    """The declared system this vendor provides, if it is one (its accounts are the vendor's
    reach into us, and what offboarding must remove)."""


class Alias(_Model):
    """A manual link from an account that no username rule matches to the person who owns it,
    with who made the link and why: an auditor asks both."""

    system: SystemId
    account: Text
    person: Email
    by: Email
    reason: Text


class ServiceAccount(_Model):
    """A non-human account and the person accountable for it."""

    system: SystemId
    account: Text
    owner: Email
    purpose: Text


class BreakGlass(_Model):
    """An emergency account kept for when normal access fails; any use of it needs a reason."""

    system: SystemId
    account: Text
    reason: Text


class People(_Model):
    """Where the roster of people comes from and how accounts are matched to them."""

    source: SystemId
    username_rules: tuple[UsernameRule, ...] = ("{email_local}",)
    aliases: tuple[Alias, ...] = ()
    service_accounts: tuple[ServiceAccount, ...] = ()
    break_glass: tuple[BreakGlass, ...] = ()
    deprovision_within_hours: int = Field(default=24, ge=1)
    """The policy deadline: a leaver's access ends within this many hours of their last day."""


class Exclusion(_Model):
    """A control deliberately left out; it must be justified and reconsidered by ``expires``."""

    justification: Text
    expires: date


class ControlOverride(_Model):
    """Programme-specific settings for one catalog control."""

    owner: Email | None = None
    frequency: Frequency | None = None
    exclude: Exclusion | None = None


class Registers(_Model):
    """How the registers and owner evidence are judged."""

    grace_days: int = Field(default=14, ge=0, le=365)
    """Owner evidence is due this many days after its window ends."""
    acknowledge_within_days: int = Field(default=30, ge=1, le=365)
    """A new hire, or everyone after a new version, acknowledges a policy within this."""
    high_risk_score: int = Field(default=15, ge=1, le=25)
    """A residual score (likelihood times impact) at or above this needs a treatment and owner."""
    vendor_review_months: int = Field(default=12, ge=1, le=36)
    """A vendor's assurance report is read, and its period ends, no longer ago than this."""


class StorageKind(StrEnum):
    """Where the evidence locker lives."""

    LOCAL = "local"
    S3 = "s3"


class TimestampAuthority(_Model):
    """An RFC 3161 time-stamp authority that attests each checkpoint's time."""

    url: Url
    ca_file: Text
    """The authority's CA certificate (PEM), relative to the programme file, to verify tokens."""


class EvidenceSettings(_Model):
    """Where evidence is kept, how it is signed and for how long.

    Defaults suit one machine: a locker in ``.assay/locker`` and a signing key in ``.assay/keys``,
    outside the locker. For teams: ``storage: s3`` with a bucket that has Object Lock enabled;
    credentials come from the usual AWS environment, never from this file.
    """

    storage: StorageKind = StorageKind.LOCAL
    path: Text = ".assay/locker"
    bucket: Text | None = None
    prefix: str = ""
    endpoint_url: Url | None = None
    signing_key: Text = ".assay/keys/signing-key.pem"
    timestamp_authority: TimestampAuthority | None = None
    retention_days: int = Field(default=365, ge=0)
    retention_days_by_kind: dict[Text, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    """Other periods for some kinds of evidence (snapshot, payload, check_result, programme)."""
    """Days after the audit period ends that evidence must be kept (by default, a year)."""

    @field_validator("retention_days_by_kind")
    @classmethod
    def _known_kinds(cls, periods: dict[str, int]) -> dict[str, int]:
        for kind in periods:
            if kind not in TTL:
                known = ", ".join(sorted(TTL))
                raise FieldProblem((kind,), f"unknown kind of evidence '{kind}' (known: {known})")
        return periods

    @model_validator(mode="after")
    def _bucket_for_s3(self) -> EvidenceSettings:
        if self.storage is StorageKind.S3 and self.bucket is None:
            raise FieldProblem(("bucket",), "storage s3 needs a bucket")
        return self


def _issuer(value: str) -> str:
    """The client secret is sent to the issuer's token endpoint: HTTPS, or loopback."""
    return allowed(value, sends_secret=True)


class Oidc(_Model):
    """Single sign-on by OpenID Connect: the issuer's discovery document says the rest."""

    issuer: Annotated[str, AfterValidator(_text), AfterValidator(_issuer)]
    client_id: Text
    client_secret_env: EnvVarName
    """The environment variable holding the client secret (never the secret itself)."""
    name: Text = "Single sign-on"
    role_claim: Text | None = None
    """An ID-token claim naming the person's Assay role; without it an admin assigns roles."""


class Web(_Model):
    """The web application's settings that belong with the programme."""

    oidc: Oidc | None = None


class Programme(_Model):
    """A whole programme file: who, which report, which criteria, which systems and vendors."""

    path: Path
    organisation: Text
    owner: Owner
    audit: Audit
    categories: tuple[Category, ...] = (Category.SECURITY,)
    systems: tuple[System, ...] = ()
    vendors: tuple[Vendor, ...] = ()
    people: People | None = None
    owners: dict[Text, Email] = Field(default_factory=dict)
    """Each owner role of the catalog to the person who holds it."""
    controls: dict[str, ControlOverride] = Field(default_factory=dict)
    registers: Registers = Field(default_factory=Registers)
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)
    web: Web = Field(default_factory=Web)

    @field_validator("categories")
    @classmethod
    def _security_always_applies(cls, chosen: tuple[Category, ...]) -> tuple[Category, ...]:
        """Security is the common criteria every SOC 2 report covers, chosen or not."""
        return tuple(dict.fromkeys((Category.SECURITY, *chosen)))

    @field_validator("owners")
    @classmethod
    def _roles_exist(cls, owners: dict[str, str]) -> dict[str, str]:
        roles = {control.owner_role for control in load_catalog().controls}
        for role in owners:
            if role not in roles:
                known = ", ".join(sorted(roles))
                raise FieldProblem((role,), f"unknown owner role '{role}' (roles: {known})")
        return owners

    @field_validator("controls")
    @classmethod
    def _controls_exist(cls, controls: dict[str, ControlOverride]) -> dict[str, ControlOverride]:
        """Keys become the catalog's own ids, so ``ac-03`` and ``AC-03`` are one control."""
        catalog = load_catalog()
        canonical: dict[str, ControlOverride] = {}
        for given, override in controls.items():
            try:
                control_id = catalog.control(given).id
            except InputError:
                raise FieldProblem((given,), f"unknown control id '{given}'") from None
            if control_id in canonical:
                raise FieldProblem((given,), f"control {control_id} is listed twice")
            canonical[control_id] = override
        return canonical

    @model_validator(mode="after")
    def _references_resolve(self) -> Programme:
        kinds: dict[str, SystemKind] = {}
        for index, system in enumerate(self.systems):
            if system.id in kinds:
                raise FieldProblem(("systems", index, "id"), f"duplicate system id '{system.id}'")
            kinds[system.id] = system.kind

        names: set[str] = set()
        for index, vendor in enumerate(self.vendors):
            if vendor.name in names:
                raise FieldProblem(("vendors", index, "name"), f"duplicate vendor '{vendor.name}'")
            names.add(vendor.name)
            if vendor.system is not None and vendor.system not in kinds:
                raise FieldProblem(
                    ("vendors", index, "system"), f"no system with id '{vendor.system}'"
                )

        if self.people is not None:
            self._check_people(self.people, kinds)

        return self

    @staticmethod
    def _check_people(people: People, kinds: Mapping[str, SystemKind]) -> None:
        if people.source not in kinds:
            raise FieldProblem(("people", "source"), f"no system with id '{people.source}'")
        if kinds[people.source] is not SystemKind.HR:
            raise FieldProblem(
                ("people", "source"),
                f"system '{people.source}' is of kind '{kinds[people.source]}', not 'hr'",
            )
        seen: set[tuple[str, str]] = set()
        sections: tuple[tuple[str, Sequence[Alias | ServiceAccount]], ...] = (
            ("aliases", people.aliases),
            ("service_accounts", people.service_accounts),
        )
        for section, links in sections:
            for index, link in enumerate(links):
                if link.system not in kinds:
                    raise FieldProblem(
                        ("people", section, index, "system"), f"no system with id '{link.system}'"
                    )
                if (link.system, link.account) in seen:
                    raise FieldProblem(
                        ("people", section, index, "account"),
                        f"account '{link.account}' on '{link.system}' is already linked",
                    )
                seen.add((link.system, link.account))
        for index, emergency in enumerate(people.break_glass):
            if emergency.system not in kinds:
                raise FieldProblem(
                    ("people", "break_glass", index, "system"),
                    f"no system with id '{emergency.system}'",
                )

    @property
    def base_dir(self) -> Path:
        """The programme file's directory; relative paths in the file are resolved against it."""
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        """A path written in the file, resolved against the file's directory."""
        path = Path(relative)
        return path if path.is_absolute() else self.base_dir / path

    @property
    def data_dir(self) -> Path:
        """Where Assay keeps its local state (database, evidence locker) for this programme."""
        return self.base_dir / ".assay"

    def in_scope_systems(self) -> tuple[System, ...]:
        """The systems inside the audit boundary, in file order."""
        return tuple(system for system in self.systems if system.in_scope)

    def vendor(self, name: str) -> Vendor:
        """The declared vendor with this name."""
        for vendor in self.vendors:
            if vendor.name == name:
                return vendor
        raise InputError(str(self.path), f"no vendor named '{name}'")

    def system(self, system_id: str) -> System:
        """The declared system with this id."""
        for system in self.systems:
            if system.id == system_id:
                return system
        raise InputError(str(self.path), f"no system with id '{system_id}'")
