"""Roles and who may open what: one table for every page and API endpoint (deny by default).

``AccessPolicy`` (middleware) looks up each request's URL name here; a name not listed is refused
to everybody, so a new view is closed until someone decides who may see it.
"""

from __future__ import annotations

from enum import StrEnum

from assay.errors import InputError


class Role(StrEnum):
    ADMIN = "admin"
    PROGRAMME_OWNER = "programme_owner"
    CONTROL_OWNER = "control_owner"
    REVIEWER = "reviewer"
    EMPLOYEE = "employee"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def needs_mfa(self) -> bool:
        """Roles that can change the programme or its people sign in with a second factor."""
        return self in (Role.ADMIN, Role.PROGRAMME_OWNER)


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise InputError("role", f"unknown role '{value}' (known: {known})") from None


ANYONE = "anyone"
"""Open without signing in: the sign-in pages themselves and the health check."""

SIGNED_IN = "signed in"
"""Any signed-in person, with a role or not yet: their own profile, password and second factor."""
EVERYONE = frozenset(Role)
PROGRAMME = frozenset({Role.ADMIN, Role.PROGRAMME_OWNER, Role.CONTROL_OWNER, Role.AUDITOR})
"""Those who see the programme: its controls, scope, evidence, identities and findings."""
ADMINS = frozenset({Role.ADMIN})
DECIDERS = frozenset({Role.ADMIN, Role.PROGRAMME_OWNER})
"""Those who change the registers and accept owner evidence (never their own)."""
OWNERS = frozenset({Role.ADMIN, Role.PROGRAMME_OWNER, Role.CONTROL_OWNER})
"""Those who may submit owner evidence: the page offers it to each control's named owner."""
READERS = EVERYONE - {Role.AUDITOR}
"""Everyone who works here: the auditor reads the policies but acknowledges none."""

_SIGN_IN = (
    "account_login",
    "account_logout",
    "account_inactive",
    "mfa_authenticate",
    "mfa_reauthenticate",
    "openid_connect_login",
    "openid_connect_callback",
    "socialaccount_login_error",
    "socialaccount_login_cancelled",
    "socialaccount_signup",
    "health",
)
_OWN_ACCOUNT = (
    "account_reauthenticate",
    "account_change_password",
    "mfa_index",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
    "mfa_list_webauthn",
    "mfa_add_webauthn",
    "mfa_remove_webauthn",
    "mfa_edit_webauthn",
    "profile",
    "profile_token_create",
    "profile_token_revoke",
)
_PROGRAMME_PAGES = (
    "dashboard",
    "controls",
    "control",
    "scope",
    "evidence",
    "statement",
    "statement_blob",
    "statement_proof",
    "checkpoints",
    "identities",
    "person",
    "system_population",
    "privileged",
    "nonhuman",
    "leavers",
    "findings",
    "registers",
    "register",
    "register_record",
    "evidence_requests",
    "evidence_request",
    "evidence_file",
)
_DECIDER_PAGES = ("register_new", "register_edit", "evidence_decide")
_FOR_EVERYONE = ("policies", "policy")
_ADMIN_PAGES = ("users", "user_set_role", "user_disable")

POLICY: dict[str, frozenset[Role] | str] = {
    **dict.fromkeys(_SIGN_IN, ANYONE),
    **dict.fromkeys(_OWN_ACCOUNT, SIGNED_IN),
    **dict.fromkeys(_PROGRAMME_PAGES, PROGRAMME),
    **dict.fromkeys(_ADMIN_PAGES, ADMINS),
    **dict.fromkeys(_DECIDER_PAGES, DECIDERS),
    **dict.fromkeys(_FOR_EVERYONE, EVERYONE),
    "evidence_submit": OWNERS,
    "policy_acknowledge": READERS,
}
"""URL name → who may open it. API operations are added by ``web.api`` under ``api:<name>``."""


def allows(url_name: str, role: Role | None, *, signed_in: bool) -> bool:
    """Whether a visitor (``signed_in`` or not; ``role`` None when they have none) may open the
    page or endpoint named ``url_name``."""
    allowed = POLICY.get(url_name)
    if allowed is None:
        return False
    if allowed == ANYONE:
        return True
    if allowed == SIGNED_IN:
        return signed_in
    return role is not None and role in allowed
