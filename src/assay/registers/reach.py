"""What a vendor can reach, as the connectors last saw it: the accounts with admin rights and the
credentials on the system it provides, from the current inventory (the latest completed run)."""

from __future__ import annotations

from dataclasses import dataclass

from assay.programme.model import Programme
from assay.registers.kinds import VendorReview


@dataclass(frozen=True)
class Held:
    system_id: str
    name: str
    what: str
    """An account's kind and status, or a credential's kind and whether it is active."""


@dataclass(frozen=True)
class VendorReach:
    vendor: str
    system: str | None
    admin_accounts: tuple[Held, ...]
    credentials: tuple[Held, ...]

    @property
    def collected(self) -> bool:
        """False when the vendor provides no declared system, or no run has collected it."""
        return self.system is not None


def reach_of(programme: Programme, vendor_name: str) -> VendorReach:
    from assay.inventory.models import InventoryAccount, InventoryCredential, InventorySystem

    vendor = programme.vendor(vendor_name)
    system = vendor.system
    if system is None or not InventorySystem.objects.filter(system_id=system).exists():
        return VendorReach(vendor.name, None, (), ())
    accounts = tuple(
        Held(a.system_id, a.username, f"{a.kind}, {a.status}")
        for a in InventoryAccount.objects.filter(system_id=system, privileged="yes").order_by(
            "username"
        )
    )
    credentials = tuple(
        Held(c.system_id, c.credential_id, f"{c.kind}, {'active' if c.active else 'inactive'}")
        for c in InventoryCredential.objects.filter(system_id=system).order_by("credential_id")
    )
    return VendorReach(vendor.name, system, accounts, credentials)


@dataclass(frozen=True)
class Step:
    name: str
    done: bool
    how: str


def _access_found(review: VendorReview) -> bool | None:
    """Whether the latest completed run found the offboarded vendor's access still there; None
    when no run has judged it (none yet, or it is not offboarded)."""
    from assay.checks.models import CheckResult, RecordedFinding
    from assay.checks.results import latest_completed_run

    run = latest_completed_run()
    if run is None or review.offboarded_on is None:
        return None
    judged = CheckResult.objects.filter(
        run_id=run, check_id="vendor_offboarding", status__in=("passing", "failing")
    ).exists()
    found = RecordedFinding.objects.filter(
        run_id=run, rule="offboarded_vendor_access", subject=review.vendor
    ).exists()
    return True if found else (False if judged else None)


def offboarding_steps(review: VendorReview) -> tuple[Step, ...]:
    """The offboarding checklist of a vendor. "Access removed" is never ticked by hand: it holds
    when the latest run's ``vendor_offboarding`` check judged the vendors and found nothing for
    this one."""
    access_finding = _access_found(review)
    ended = review.offboarded_on
    deleted = review.data_deleted_on
    if access_finding is None:
        access = Step("access removed", False, "not yet verified by a run after the offboarding")
    elif access_finding:
        access = Step("access removed", False, "the latest snapshot still shows access")
    else:
        access = Step("access removed", True, "verified by the latest snapshot")
    return (
        Step("contract ended", ended is not None, f"on {ended}" if ended else "not recorded"),
        Step(
            "data returned or deleted",
            deleted is not None,
            f"on {deleted}" if deleted else "not recorded",
        ),
        access,
    )
