"""Deny by default, walked: every URL of the web app and the API, for every role, an anonymous
visitor and a signed-in person without a role. The allowed set is written out here by hand, so a
change to who may open what has to change this table too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from tests.web import registers
from tests.web.conftest import make_person

from assay.evidence.models import EvidenceItem
from assay.registers import owner_evidence
from assay.web.roles import Role

pytestmark = [pytest.mark.db, pytest.mark.django_db]

ANONYMOUS = "anonymous"
NO_ROLE = "no role"
VISITORS = (ANONYMOUS, NO_ROLE, *Role)
SIGNED_IN = frozenset((NO_ROLE, *Role))
PROGRAMME = frozenset({Role.ADMIN, Role.PROGRAMME_OWNER, Role.CONTROL_OWNER, Role.AUDITOR})

SIGN_IN_PAGES = {
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
}
OWN_ACCOUNT_PAGES = {
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
}
PROGRAMME_PAGES = {
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
}
ADMIN_PAGES = {"users", "user_set_role", "user_disable"}
DECIDER_PAGES = {"register_new", "register_edit", "evidence_decide"}
"""Admins and programme owners change the registers and accept owner evidence."""
EVERYONE_PAGES = {"policies", "policy"}
SUBMIT = "evidence_submit"
"""Admins, programme owners and control owners (the page offers it to a control's owner)."""
ACKNOWLEDGE = "policy_acknowledge"
"""Everyone with a role but the auditor, who reads the policies and acknowledges none."""
API_FOR_EVERYONE = {"api:health", "api:me", "api:openapi-json"}
API_FOR_NOBODY = {"api:api-root"}  # django-ninja's index of the API: not offered


def expected(name: str) -> frozenset[str]:
    """Who may open ``name``: anything not named here is open to nobody."""
    if name in SIGN_IN_PAGES:
        return frozenset(VISITORS)
    if name in OWN_ACCOUNT_PAGES:
        return SIGNED_IN
    if name in PROGRAMME_PAGES:
        return frozenset(PROGRAMME)
    if name in ADMIN_PAGES:
        return frozenset({Role.ADMIN})
    if name in DECIDER_PAGES:
        return frozenset({Role.ADMIN, Role.PROGRAMME_OWNER})
    if name in EVERYONE_PAGES:
        return frozenset(Role)
    if name == SUBMIT:
        return frozenset({Role.ADMIN, Role.PROGRAMME_OWNER, Role.CONTROL_OWNER})
    if name == ACKNOWLEDGE:
        return frozenset(Role) - {Role.AUDITOR}
    if name in API_FOR_EVERYONE:
        return frozenset(Role)
    if name.startswith("api:") and name not in API_FOR_NOBODY:
        return frozenset(PROGRAMME)
    return frozenset()


def _patterns(
    resolvers: list[URLPattern | URLResolver], namespace: str = "", kwargs: tuple[str, ...] = ()
) -> Iterator[tuple[str, tuple[str, ...]]]:
    for entry in resolvers:
        names = kwargs + _parameters(entry)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry.url_patterns, inner, names)
        elif entry.name:
            yield f"{namespace}{entry.name}", names


def _parameters(entry: URLPattern | URLResolver) -> tuple[str, ...]:
    converters = getattr(entry.pattern, "converters", None)
    if converters:
        return tuple(converters)
    return tuple(re.compile(str(entry.pattern)).groupindex)


@pytest.fixture
def values(served: Path) -> dict[str, Any]:
    """A real value for every URL parameter, so an allowed view answers rather than 404s."""
    item = EvidenceItem.objects.filter(kind="snapshot").first()
    assert item is not None
    somebody = make_person("somebody@acme.example", Role.EMPLOYEE)
    programme = registers.name_owners(served)
    registers.add_records(programme)
    registers.add_starter_policies(programme)
    control = registers.owned_control(programme, registers.SECURITY)
    window = registers.window_now(programme, control)
    submitted = owner_evidence.submit(
        programme, control.id, [("a.txt", b"a")], "note", registers.SECURITY, window=window.label
    )
    return {
        "kind": "risks",
        "key": "R-01",
        "policy_id": "POL-01",
        "window": window.label,
        "submission_id": submitted.pk,
        "number": 0,
        "control_id": control.id,
        "statement_id": item.statement_id,
        "who": "ada.lovelace@acme.example",
        "system_id": "okta",
        "prefix": "assay_none",
        "user_id": somebody.user.pk,
        "pk": 1,
    }


def _url(name: str, parameters: tuple[str, ...], values: dict[str, Any]) -> str:
    return reverse(name, kwargs={p: values.get(p, "x") for p in parameters})


def test_every_url_is_open_to_exactly_the_roles_the_table_names(
    clients: dict[Role | None, Client], values: dict[str, Any]
) -> None:
    without_role = Client()
    nobody = User.objects.create_user("norole@acme.example", "norole@acme.example", "x" * 20)
    without_role.force_login(nobody, backend="django.contrib.auth.backends.ModelBackend")
    visitors: dict[str, Client] = {
        ANONYMOUS: clients[None],
        NO_ROLE: without_role,
        **{role: clients[role] for role in Role},
    }
    walked = dict(_patterns(get_resolver().url_patterns))
    assert {"dashboard", "control", "statement_proof", "users", "policy", "evidence_file"} <= set(
        walked
    )
    wrong = []
    for name, parameters in sorted(walked.items()):
        url = _url(name, parameters, values)
        opened = {
            visitor
            for visitor, client in visitors.items()
            if not getattr(client.get(url), "refused_by_policy", False)
        }
        if opened != expected(name):
            wrong.append(
                f"{name} ({url}): open to {sorted(opened)}, expected {sorted(expected(name))}"
            )
    assert not wrong, "\n".join(wrong)


def test_a_disabled_person_is_signed_out_of_everything(
    clients: dict[Role | None, Client], people: dict[Role, Any]
) -> None:
    admin = people[Role.ADMIN].user
    admin.is_active = False
    admin.save()
    response = clients[Role.ADMIN].get("/users/")
    assert getattr(response, "refused_by_policy", False)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
