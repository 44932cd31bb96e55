"""Framework content as data: the Trust Services Criteria, NIST CSF 2.0 and the default controls.

The criteria and CSF identifiers are facts; their titles and descriptions are short paraphrases
in Assay's own words. Every link from a control to a criterion or CSF subcategory is Assay's own
judgement, not an AICPA or NIST mapping (none exists from the criteria to CSF 2.0). That is why
each link carries a relationship in the NIST OLIR vocabulary, read as "the control is
<relationship> the target", and a one-line rationale a reviewer can disagree with.

The data lives in YAML files next to this module and is validated when loaded, so a broken
identifier fails the tests instead of reaching an auditor.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from assay.errors import InputError

__all__ = [
    "KNOWN_CHECKS",
    "OWNER_EVIDENCE_CADENCE",
    "REGISTER_CHECKS",
    "SOURCE_CHECKS",
    "Catalog",
    "Category",
    "Control",
    "CoverageRow",
    "Criterion",
    "CsfCategory",
    "CsfFunction",
    "CsfResolution",
    "CsfSubcategory",
    "Frequency",
    "Mapping",
    "Method",
    "Relationship",
    "load_catalog",
]


class Category(StrEnum):
    """A Trust Services category; security is always in a SOC 2 report, the others are chosen."""

    SECURITY = "security"
    AVAILABILITY = "availability"
    CONFIDENTIALITY = "confidentiality"
    PROCESSING_INTEGRITY = "processing_integrity"
    PRIVACY = "privacy"

    @property
    def label(self) -> str:
        """The name as a report prints it."""
        return self.value.replace("_", " ").title()


class Frequency(StrEnum):
    """How often a control operates; it sets the population an auditor samples from."""

    CONTINUOUS = "continuous"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"
    PER_EVENT = "per-event"


class Relationship(StrEnum):
    """NIST OLIR relationship of a control to a target: "the control is <this> the target"."""

    EQUAL = "equal"
    SUBSET_OF = "subset-of"
    SUPERSET_OF = "superset-of"
    INTERSECTS_WITH = "intersects-with"
    NOT_RELATED = "not-related"


SOURCE_CHECKS: frozenset[str] = frozenset(
    {
        "mfa_enforced",
        "leaver_access",
        "orphan_accounts",
        "deprovisioning_delay",
        "stale_credentials",
        "dormant_accounts",
        "privileged_mfa",
        "root_accounts",
        "shared_accounts",
        "nonhuman_owners",
        "third_party_grants",
        "change_review",
        "branch_protection",
        "scope_boundary",
        "scope_drift",
    }
)
"""Automated checks on what the connectors collect."""

REGISTER_CHECKS: frozenset[str] = frozenset(
    {
        "control_owners",
        "risk_register",
        "vendor_assurance",
        "vendor_offboarding",
        "policy_register",
        "policy_acknowledgement",
        "incident_register",
        "exception_register",
    }
)
"""Checks on what people record in the registers (and on the programme's named owners)."""

KNOWN_CHECKS: frozenset[str] = SOURCE_CHECKS | REGISTER_CHECKS
"""Every check that exists; a control may name only these in ``checks``."""

OWNER_EVIDENCE_CADENCE = Frequency.QUARTERLY
"""How often the owner evidences a continuous or per-event control that no check tests."""


class Method(StrEnum):
    """A way a control is evidenced."""

    CHECK = "automated check"
    REGISTER = "register"
    OWNER_EVIDENCE = "owner evidence"


@dataclass(frozen=True)
class Criterion:
    """One Trust Services criterion, e.g. CC6.1."""

    id: str
    category: Category
    group: str
    """The criterion's family, e.g. ``CC6`` or ``PI1``."""
    title: str
    description: str


@dataclass(frozen=True)
class CsfFunction:
    """A CSF 2.0 function, e.g. GV (Govern)."""

    id: str
    title: str


@dataclass(frozen=True)
class CsfCategory:
    """A CSF 2.0 category, e.g. PR.AA."""

    id: str
    function: str
    title: str


@dataclass(frozen=True)
class CsfSubcategory:
    """A CSF 2.0 subcategory, e.g. PR.AA-05."""

    id: str
    category: str
    title: str


@dataclass(frozen=True)
class Mapping:
    """One judged link from a control to a criterion or CSF subcategory."""

    target: str
    relationship: Relationship
    rationale: str


@dataclass(frozen=True)
class Control:
    """A control of the default set, what it needs as evidence and how it is tested."""

    id: str
    title: str
    description: str
    owner_role: str
    frequency: Frequency
    evidence: tuple[str, ...]
    checks: tuple[str, ...]
    tsc: tuple[Mapping, ...]
    csf: tuple[Mapping, ...]
    partial: bool = False
    """Its checks test only part of it; its owner evidences the rest."""

    @property
    def manual(self) -> bool:
        """True when no check (on sources or registers) tests the control at all."""
        return not self.checks

    @property
    def owner_evidenced(self) -> bool:
        """True when its owner must submit evidence for it, window by window."""
        return self.manual or self.partial

    @property
    def methods(self) -> tuple[Method, ...]:
        """How the control is evidenced, in a fixed order; never empty."""
        found = []
        if any(check in SOURCE_CHECKS for check in self.checks):
            found.append(Method.CHECK)
        if any(check in REGISTER_CHECKS for check in self.checks):
            found.append(Method.REGISTER)
        if self.owner_evidenced:
            found.append(Method.OWNER_EVIDENCE)
        return tuple(found)


@dataclass(frozen=True)
class CoverageRow:
    """A criterion and the controls that cover it; no controls means a gap."""

    criterion: Criterion
    controls: tuple[str, ...]

    @property
    def gap(self) -> bool:
        """True when nothing in the programme covers the criterion."""
        return not self.controls


@dataclass(frozen=True)
class CsfResolution:
    """What a CSF identifier means today: itself if current, else its CSF 2.0 successors."""

    identifier: str
    """The identifier in canonical form (upper case; two digits for CSF 2.0)."""
    successors: tuple[str, ...]
    is_current: bool


_CSF_ID = re.compile(r"([A-Z]{2})(?:\.([A-Z]{2})(?:-(\d{1,2}))?)?")


@dataclass(frozen=True)
class Catalog:
    """All framework content, with lookups that raise ``InputError`` for unknown identifiers."""

    criteria: tuple[Criterion, ...]
    csf_functions: tuple[CsfFunction, ...]
    csf_categories: tuple[CsfCategory, ...]
    csf_subcategories: tuple[CsfSubcategory, ...]
    controls: tuple[Control, ...]
    csf11_successors: MappingType[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), compare=False
    )
    """CSF 1.1 subcategory (as 1.1 wrote it, e.g. ``PR.AC-4``) to its CSF 2.0 successors.

    Left out of equality and hashing (a mapping is unhashable); it is read from the same files.
    """

    @functools.cached_property
    def _criteria_by_id(self) -> dict[str, Criterion]:
        return {criterion.id: criterion for criterion in self.criteria}

    @functools.cached_property
    def _controls_by_id(self) -> dict[str, Control]:
        return {control.id: control for control in self.controls}

    @functools.cached_property
    def _controls_by_check(self) -> dict[str, tuple[str, ...]]:
        tested: dict[str, list[str]] = {}
        for control in self.controls:
            for check in control.checks:
                tested.setdefault(check, []).append(control.id)
        return {check: tuple(ids) for check, ids in tested.items()}

    @functools.cached_property
    def _current_csf_ids(self) -> frozenset[str]:
        items: tuple[CsfFunction | CsfCategory | CsfSubcategory, ...] = (
            *self.csf_functions,
            *self.csf_categories,
            *self.csf_subcategories,
        )
        return frozenset(item.id for item in items)

    def criterion(self, id: str) -> Criterion:
        """The criterion with this identifier, in any letter case."""
        found = self._criteria_by_id.get(id.strip().upper())
        if found is None:
            raise InputError("criterion", f"unknown Trust Services criterion '{id}'")
        return found

    def control(self, id: str) -> Control:
        """The control with this identifier, in any letter case."""
        found = self._controls_by_id.get(id.strip().upper())
        if found is None:
            raise InputError("control", f"unknown control '{id}'")
        return found

    def controls_tested_by(self, check_id: str) -> tuple[str, ...]:
        """The ids of the controls that ``check_id`` tests, in catalog order (none: unknown)."""
        return self._controls_by_check.get(check_id, ())

    def criteria_in(self, categories: Iterable[Category]) -> tuple[Criterion, ...]:
        """Criteria of the given categories, in catalog order."""
        chosen = set(categories)
        return tuple(criterion for criterion in self.criteria if criterion.category in chosen)

    def controls_for_criterion(self, criterion_id: str) -> tuple[Control, ...]:
        """Controls linked to the criterion by any relationship other than not-related."""
        target = self.criterion(criterion_id).id
        return tuple(
            control
            for control in self.controls
            if any(
                link.target == target and link.relationship is not Relationship.NOT_RELATED
                for link in control.tsc
            )
        )

    def coverage(
        self, categories: Iterable[Category], excluded_controls: Iterable[str] = ()
    ) -> tuple[CoverageRow, ...]:
        """For each criterion in scope, the controls that still cover it once exclusions apply."""
        excluded = {self.control(control_id).id for control_id in excluded_controls}
        return tuple(
            CoverageRow(
                criterion=criterion,
                controls=tuple(
                    control.id
                    for control in self.controls_for_criterion(criterion.id)
                    if control.id not in excluded
                ),
            )
            for criterion in self.criteria_in(categories)
        )

    def resolve_csf(self, identifier: str) -> CsfResolution:
        """Say whether a CSF identifier is current, and if it is from CSF 1.1, what replaced it.

        Accepts any letter case and one- or two-digit numbers (``PR.AC-4`` or ``PR.AC-04``). A
        two-digit number that exists in CSF 2.0 is read as 2.0; a one-digit number is read as
        CSF 1.1 when 1.1 had it, since that is how 1.1 wrote its identifiers.
        """
        text = identifier.strip().upper()
        match = _CSF_ID.fullmatch(text)
        if match is not None:
            function, category, number = match.groups()
            if number is None:
                if text in self._current_csf_ids:
                    return CsfResolution(text, (text,), is_current=True)
            else:
                legacy = f"{function}.{category}-{int(number)}"
                current = f"{function}.{category}-{int(number):02d}"
                legacy_first = len(number) == 1 and legacy in self.csf11_successors
                if not legacy_first and current in self._current_csf_ids:
                    return CsfResolution(current, (current,), is_current=True)
                if legacy in self.csf11_successors:
                    return CsfResolution(legacy, self.csf11_successors[legacy], is_current=False)
        raise InputError(
            "CSF identifier",
            f"unknown NIST CSF identifier '{identifier}' "
            "(not in CSF 2.0 and not a CSF 1.1 identifier Assay knows)",
        )


@functools.cache
def load_catalog() -> Catalog:
    """The catalog bundled with Assay, read and validated once per process."""
    from assay.catalog._load import read_catalog

    return read_catalog()
