"""What each register keeps: one typed record per row, and the references each must resolve.

A record is a frozen pydantic model, so the same rules hold wherever a record comes from (the web
form, the command line, an imported file, a statement read back from the locker). What a record
names outside itself — a person, a control, a vendor, a system, a policy — is checked against the
programme by ``references``, so a register never points at something that does not exist.
"""

from __future__ import annotations

import itertools
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from assay.programme.model import Email, Text

LIST_SEPARATOR = ";"
"""Between the items of a list field in one cell of a file (controls, systems, subjects)."""

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _key(value: str) -> str:
    value = value.strip()
    if not _KEY.fullmatch(value):
        raise ValueError(
            f"'{value}' must start with a letter or digit and hold only letters, digits, "
            "'.', '_' or '-' (at most 64)"
        )
    return value


def _control(value: str) -> str:
    return value.strip().upper()


Key = Annotated[str, AfterValidator(_key)]
ControlId = Annotated[str, AfterValidator(_control)]
Score = Annotated[int, Field(ge=1, le=5)]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    key_field: ClassVar[str] = "id"

    @property
    def key(self) -> str:
        return str(getattr(self, self.key_field))


class Treatment(StrEnum):
    MITIGATE = "mitigate"
    ACCEPT = "accept"
    TRANSFER = "transfer"
    AVOID = "avoid"


class RiskStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Risk(_Record):
    """A risk to the service commitments, scored before and after its treatment."""

    id: Key
    title: Text
    description: str = ""
    likelihood: Score
    impact: Score
    residual_likelihood: Score | None = None
    residual_impact: Score | None = None
    treatment: Treatment | None = None
    plan: str = ""
    owner: Email | None = None
    controls: tuple[ControlId, ...] = ()
    review_every_months: int = Field(default=3, ge=1, le=24)
    last_reviewed: date | None = None
    status: RiskStatus = RiskStatus.OPEN

    @model_validator(mode="after")
    def _residual_in_pairs(self) -> Risk:
        if (self.residual_likelihood is None) != (self.residual_impact is None):
            raise ValueError("residual_likelihood and residual_impact are given together")
        return self

    @property
    def inherent_score(self) -> int:
        return self.likelihood * self.impact

    @property
    def residual_score(self) -> int:
        """After treatment; the inherent score while no residual is assessed."""
        if self.residual_likelihood is None or self.residual_impact is None:
            return self.inherent_score
        return self.residual_likelihood * self.residual_impact


class ReportType(StrEnum):
    SOC2_TYPE2 = "soc2_type2"
    SOC2_TYPE1 = "soc2_type1"
    ISO27001 = "iso27001"
    NONE = "none"


class VendorStatus(StrEnum):
    ACTIVE = "active"
    OFFBOARDING = "offboarding"
    OFFBOARDED = "offboarded"


class VendorReview(_Record):
    """What we hold and have read about a declared vendor: its assurance report and offboarding.

    The vendor itself (services, customer data, criticality, owner, the system it provides) is
    declared in ``assay.yaml``, inside the audit boundary as code; this record is keyed by its name.
    """

    key_field: ClassVar[str] = "vendor"

    vendor: Text
    data_processed: str = ""
    report: ReportType = ReportType.NONE
    report_period_start: date | None = None
    report_period_end: date | None = None
    report_received: date | None = None
    reviewed_by: Email | None = None
    reviewed_on: date | None = None
    status: VendorStatus = VendorStatus.ACTIVE
    offboarded_on: date | None = None
    data_deleted_on: date | None = None
    """When the vendor returned or deleted our data, as it confirmed."""

    @model_validator(mode="after")
    def _consistent(self) -> VendorReview:
        if self.report is not ReportType.NONE and self.report_period_end is None:
            raise ValueError("a report needs report_period_end (the date, for a type 1 report)")
        start, end = self.report_period_start, self.report_period_end
        if start is not None and end is not None and start > end:
            raise ValueError("report_period_start is after report_period_end")
        if self.status is VendorStatus.OFFBOARDED and self.offboarded_on is None:
            raise ValueError("an offboarded vendor needs offboarded_on")
        return self


class ReportException(_Record):
    """An exception a vendor's auditor noted in its report, and how we answered it."""

    id: Key
    vendor: Text
    noted: Text
    response: str = ""
    responded_by: Email | None = None


class UserEntityControl(_Record):
    """A complementary user-entity control a vendor's report asks of us, met by one of ours."""

    id: Key
    vendor: Text
    description: Text
    control: ControlId
    answer: str = ""
    """How our control meets it; empty while nobody has answered."""


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def needs_postmortem(self) -> bool:
        return self in (Severity.HIGH, Severity.CRITICAL)


class IncidentStatus(StrEnum):
    OPEN = "open"
    CONTAINED = "contained"
    RESOLVED = "resolved"


class Incident(_Record):
    """A security or availability incident, from detection to its postmortem."""

    id: Key
    title: Text
    severity: Severity
    status: IncidentStatus = IncidentStatus.OPEN
    detected_at: datetime
    contained_at: datetime | None = None
    resolved_at: datetime | None = None
    customer_impact: str = ""
    root_cause: str = ""
    postmortem: str = ""
    """Markdown, or empty when the postmortem is a file (``postmortem_file``) or not written."""
    postmortem_file: str = ""
    """sha-256 of the postmortem as a file in the locker."""
    controls: tuple[ControlId, ...] = ()
    findings: tuple[Text, ...] = ()
    """Findings the incident relates to, as rule:system:subject or free text."""

    @model_validator(mode="after")
    def _in_order(self) -> Incident:
        times = [("detected_at", self.detected_at)]
        times += [(n, t) for n, t in (("contained_at", self.contained_at),) if t is not None]
        times += [(n, t) for n, t in (("resolved_at", self.resolved_at),) if t is not None]
        for (first, earlier), (then, later) in itertools.pairwise(times):
            if (earlier.tzinfo is None) != (later.tzinfo is None):
                raise ValueError(f"{then} and {first} give a time zone, both or neither")
            if later < earlier:
                raise ValueError(f"{then} is before {first}")
        return self

    @property
    def has_postmortem(self) -> bool:
        return bool(self.postmortem.strip() or self.postmortem_file)


class PolicyStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


class Policy(_Record):
    """A policy, its current version and who approved it; the body is Markdown."""

    id: Key
    title: Text
    version: Text
    owner: Email | None = None
    approver: Email | None = None
    approved_on: date | None = None
    review_every_months: int = Field(default=12, ge=1, le=36)
    status: PolicyStatus = PolicyStatus.ACTIVE
    controls: tuple[ControlId, ...] = ()
    body: str = ""


class Acknowledgement(_Record):
    """A person's acknowledgement of one version of a policy."""

    key_field: ClassVar[str] = "id"

    policy: Key
    version: Text
    person: Email
    acknowledged_at: datetime

    @property
    def id(self) -> str:
        return f"{self.policy}@{self.version}:{self.person}"


class ExceptionStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class ControlException(_Record):
    """A control knowingly not met for some systems or subjects, justified and time-limited.

    Once approved and from ``starts`` to ``expires``, the findings it covers are "excepted"; after
    that they fail again.
    """

    id: Key
    control: ControlId
    systems: tuple[Text, ...] = ()
    """The systems it covers; none means every system."""
    subjects: tuple[Text, ...] = ()
    """The subjects (accounts, credentials, repositories) it covers; none means all."""
    justification: Text
    compensating_control: str = ""
    approver: Email | None = None
    approved_on: date | None = None
    starts: date
    expires: date
    status: ExceptionStatus = ExceptionStatus.ACTIVE

    @model_validator(mode="after")
    def _dates(self) -> ControlException:
        if self.expires < self.starts:
            raise ValueError("expires is before starts")
        return self

    @property
    def approved(self) -> bool:
        return self.approver is not None and self.approved_on is not None

    def in_force(self, today: date) -> bool:
        return (
            self.status is ExceptionStatus.ACTIVE
            and self.approved
            and self.starts <= today <= self.expires
        )


class RefKind(StrEnum):
    """What a field of a record refers to."""

    PERSON = "person"
    CONTROL = "control"
    VENDOR = "vendor"
    SYSTEM = "system"
    POLICY = "policy"


@dataclass(frozen=True)
class Kind:
    """One register: its name on the command line and in URLs, its record type, its columns
    (the order of a CSV or XLSX file, which the README documents) and what its fields name."""

    name: str
    label: str
    record: type[_Record]
    columns: tuple[str, ...]
    references: Mapping[str, RefKind]

    def parse(self, data: Mapping[str, Any]) -> _Record:
        return self.record.model_validate(dict(data))

    @property
    def required(self) -> tuple[str, ...]:
        """The columns every row must fill."""
        return tuple(c for c in self.columns if self.record.model_fields[c].is_required())

    def _options(self, column: str) -> tuple[object, ...]:
        annotation: object = self.record.model_fields[column].annotation
        options = (
            typing.get_args(annotation)
            if typing.get_origin(annotation) in (typing.Union, types.UnionType)
            else (annotation,)
        )
        return tuple(
            typing.get_args(o)[0] if typing.get_origin(o) is typing.Annotated else o
            for o in options
        )

    def is_list(self, column: str) -> bool:
        """Whether a field holds several values (one cell lists them separated by ';')."""
        return any(typing.get_origin(option) is tuple for option in self._options(column))

    def is_text(self, column: str) -> bool:
        return str in self._options(column)

    def is_date(self, column: str) -> bool:
        return date in self._options(column)


def _columns(record: type[_Record], *leave_out: str) -> tuple[str, ...]:
    return tuple(name for name in record.model_fields if name not in leave_out)


KINDS: Mapping[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "risks",
            "Risks",
            Risk,
            _columns(Risk),
            {"owner": RefKind.PERSON, "controls": RefKind.CONTROL},
        ),
        Kind(
            "vendors",
            "Vendor reviews",
            VendorReview,
            _columns(VendorReview),
            {"vendor": RefKind.VENDOR, "reviewed_by": RefKind.PERSON},
        ),
        Kind(
            "report-exceptions",
            "Exceptions in vendor reports",
            ReportException,
            _columns(ReportException),
            {"vendor": RefKind.VENDOR, "responded_by": RefKind.PERSON},
        ),
        Kind(
            "user-entity-controls",
            "Controls vendors ask of us",
            UserEntityControl,
            _columns(UserEntityControl),
            {"vendor": RefKind.VENDOR, "control": RefKind.CONTROL},
        ),
        Kind(
            "incidents",
            "Incidents",
            Incident,
            _columns(Incident),
            {"controls": RefKind.CONTROL},
        ),
        Kind(
            "policies",
            "Policies",
            Policy,
            _columns(Policy),
            {"owner": RefKind.PERSON, "approver": RefKind.PERSON, "controls": RefKind.CONTROL},
        ),
        Kind(
            "acknowledgements",
            "Policy acknowledgements",
            Acknowledgement,
            _columns(Acknowledgement),
            {"policy": RefKind.POLICY, "person": RefKind.PERSON},
        ),
        Kind(
            "exceptions",
            "Exceptions",
            ControlException,
            _columns(ControlException),
            {
                "control": RefKind.CONTROL,
                "systems": RefKind.SYSTEM,
                "approver": RefKind.PERSON,
            },
        ),
    )
}
"""Every register, by name."""


def columns_help() -> str:
    """The columns of every register (``*``: required), for ``assay register columns``."""
    lines = []
    for kind in KINDS.values():
        shown = ", ".join(f"{c}*" if c in kind.required else c for c in kind.columns)
        lines.append(f"{kind.name}: {shown}")
    return "\n".join(lines)


def kind_named(name: str) -> Kind:
    from assay.errors import InputError

    found = KINDS.get(name.strip().lower())
    if found is None:
        raise InputError("register", f"unknown register '{name}' (one of: {', '.join(KINDS)})")
    return found


Resolver = Callable[[RefKind, str], bool]
"""Whether a value names something that exists, for one kind of reference."""


def unresolved(kind: Kind, record: _Record, exists: Resolver) -> Iterator[tuple[str, str]]:
    """(field, problem) for every reference of ``record`` that names nothing known."""
    for field, ref in kind.references.items():
        value = getattr(record, field)
        values = value if isinstance(value, tuple) else (value,)
        for item in values:
            if item is not None and not exists(ref, str(item)):
                yield field, f"unknown {ref.value} '{item}'"
