"""The automated checks, by the ids the control catalog refers to."""

from __future__ import annotations

from collections.abc import Mapping

from assay.checks.base import CheckFunction
from assay.checks.change import change_review
from assay.checks.identity import (
    dormant_accounts,
    leaver_access,
    mfa_enforced,
    orphan_accounts,
    privileged_mfa,
    stale_access_keys,
)
from assay.checks.scope import scope_boundary

CHECKS: Mapping[str, CheckFunction] = {
    "mfa_enforced": mfa_enforced,
    "leaver_access": leaver_access,
    "orphan_accounts": orphan_accounts,
    "stale_access_keys": stale_access_keys,
    "dormant_accounts": dormant_accounts,
    "privileged_mfa": privileged_mfa,
    "change_review": change_review,
    "scope_boundary": scope_boundary,
}
