"""The automated checks, by the ids the control catalog refers to."""

from __future__ import annotations

from collections.abc import Mapping

from assay.checks.base import CheckFunction
from assay.checks.change import branch_protection, change_review
from assay.checks.credentials import nonhuman_owners, stale_credentials, third_party_grants
from assay.checks.identity import (
    deprovisioning_delay,
    dormant_accounts,
    leaver_access,
    mfa_enforced,
    orphan_accounts,
    privileged_mfa,
    root_accounts,
    shared_accounts,
)
from assay.checks.registers import (
    control_owners,
    exception_register,
    incident_register,
    owner_evidence,
    policy_acknowledgement,
    policy_register,
    risk_register,
    vendor_assurance,
    vendor_offboarding,
)
from assay.checks.scope import scope_boundary, scope_drift

CHECKS: Mapping[str, CheckFunction] = {
    "mfa_enforced": mfa_enforced,
    "leaver_access": leaver_access,
    "orphan_accounts": orphan_accounts,
    "deprovisioning_delay": deprovisioning_delay,
    "stale_credentials": stale_credentials,
    "dormant_accounts": dormant_accounts,
    "privileged_mfa": privileged_mfa,
    "root_accounts": root_accounts,
    "shared_accounts": shared_accounts,
    "nonhuman_owners": nonhuman_owners,
    "third_party_grants": third_party_grants,
    "change_review": change_review,
    "branch_protection": branch_protection,
    "scope_boundary": scope_boundary,
    "scope_drift": scope_drift,
    "control_owners": control_owners,
    "risk_register": risk_register,
    "vendor_assurance": vendor_assurance,
    "vendor_offboarding": vendor_offboarding,
    "policy_register": policy_register,
    "policy_acknowledgement": policy_acknowledgement,
    "incident_register": incident_register,
    "exception_register": exception_register,
    "owner_evidence": owner_evidence,
}
"""Every check a run runs. ``owner_evidence`` is named by no control: each owner-evidenced
control is judged on its own windows, and each overdue finding names its control."""
