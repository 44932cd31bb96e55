"""How django-allauth signs people in here: nobody signs up by themselves, the SSO provider is the
one the programme file names, and its role claim (when configured) sets the person's role."""

from __future__ import annotations

import os
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.http import HttpRequest

from assay.programme.model import Oidc
from assay.web import context
from assay.web.models import Profile
from assay.web.roles import Role

PROVIDER_ID = "sso"
"""The provider's id in URLs: /accounts/oidc/sso/login/."""


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """The first page the person's role opens: an employee's is the policies."""
        from assay.web import navigation

        return navigation.home(request)


def configured() -> Oidc | None:
    served = context.programme_or_none()
    return served.web.oidc if served is not None else None


class SocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]
    """The one SSO provider comes from ``web.oidc`` in the programme file; its client secret from
    the environment variable the file names."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return configured() is not None

    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        oidc = configured()
        if oidc is None or provider not in (None, "openid_connect", PROVIDER_ID):
            return []
        if client_id is not None and client_id != oidc.client_id:
            return []
        app = SocialApp(
            provider="openid_connect",
            provider_id=PROVIDER_ID,
            name=oidc.name,
            client_id=oidc.client_id,
            secret=os.environ.get(oidc.client_secret_env, ""),
            settings={"server_url": oidc.issuer, "oauth_pkce_enabled": True},
        )
        return [app]

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """After sign-up or sign-in the role claim, if configured, is applied (``save_user`` and
        the ``social_account_updated`` path both pass here)."""
        super().pre_social_login(request, sociallogin)
        if sociallogin.is_existing:
            apply_role_claim(sociallogin.user, sociallogin.account.extra_data)

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> Any:
        user = super().save_user(request, sociallogin, form)
        if not apply_role_claim(user, sociallogin.account.extra_data):
            Profile.objects.get_or_create(user=user, defaults={"role": Role.EMPLOYEE.value})
        return user


def apply_role_claim(user: Any, claims: dict[str, Any]) -> bool:
    """Set the role from the configured claim; False when there is no usable claim (an unknown
    value gives no role at all rather than a guess). A role an admin gave (``assay users``, the
    users page) stands: the claim never overrides it, so an identity provider whose user has a
    local admin's e-mail address cannot promote or demote that account."""
    oidc = configured()
    if oidc is None or oidc.role_claim is None:
        return False
    if Profile.objects.filter(user=user, role_from_sso=False).exists():
        return True
    places = [claims, claims.get("userinfo"), claims.get("id_token")]
    value = next(
        (p[oidc.role_claim] for p in places if isinstance(p, dict) and oidc.role_claim in p), None
    )
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    try:
        role = Role(str(value)) if value is not None else None
    except ValueError:
        role = None
    if role is None:
        Profile.objects.filter(user=user).delete()
        return True
    Profile.objects.update_or_create(
        user=user, defaults={"role": role.value, "role_from_sso": True}
    )
    return True
