"""People and their API tokens: the services behind ``assay users``, ``assay tokens`` and the
web app's user administration. Each change is an action in the audit log."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from assay.errors import InputError
from assay.programme.model import Programme
from assay.web import audit
from assay.web.models import ApiToken, Profile
from assay.web.roles import DECIDERS, Role

TOKEN_PREFIX = "assay_"


@dataclass(frozen=True)
class Person:
    """A person who may sign in, as ``assay users list`` and the users page show them."""

    email: str
    role: Role | None
    active: bool
    has_password: bool
    second_factor: bool
    last_login: datetime | None


@dataclass(frozen=True)
class Actor:
    """Who makes a change, for the audit log: a signed-in person or an admin command."""

    who: str
    address: str = ""
    programme: Programme | None = None


def role_of(user: object) -> Role | None:
    """The role of a signed-in user; None for an anonymous visitor, a disabled account or one
    no role was given."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    profile = getattr(user, "assay_profile", None)
    try:
        return Role(profile.role) if profile is not None else None
    except ValueError:
        return None


def may_decide(programme: Programme, email: str) -> bool:
    """Whether ``email`` may accept owner evidence or send it back: the programme owner the
    programme file names, or an active account given a role in ``roles.DECIDERS``. (Nobody
    decides their own submission; the service refuses that.)"""
    address = email.strip().lower()
    if address == programme.owner.email:
        return True
    user = User.objects.filter(email__iexact=address, is_active=True).first()
    return user is not None and role_of(user) in DECIDERS


def _user(email: str) -> User:
    found = User.objects.filter(email__iexact=email.strip()).first()
    if found is None:
        raise InputError(email, "no such user (assay users list shows who there is)")
    return found


def _note(actor: Actor, action: str, target: str) -> None:
    audit.record(actor.who, action, target, address=actor.address, programme=actor.programme)


def add_user(email: str, role: Role, password: str | None, actor: Actor) -> Person:
    """Create a person; without a password they can sign in only by SSO."""
    address = email.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise InputError(email, "not an e-mail address") from None
    if User.objects.filter(email__iexact=address).exists():
        raise InputError(address, "already a user (assay users set-role changes the role)")
    user = User(username=address.lower(), email=address)
    if password is None:
        user.set_unusable_password()
    else:
        _check_password(password, user)
        user.set_password(password)
    with transaction.atomic():
        user.save()
        Profile.objects.create(user=user, role=role.value)
    _note(actor, "user added", f"{address} as {role.value}")
    return describe(user)


def _check_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise InputError("password", " ".join(error.messages)) from None


def set_role(email: str, role: Role, actor: Actor) -> Person:
    user = _user(email)
    Profile.objects.update_or_create(
        user=user, defaults={"role": role.value, "role_from_sso": False}
    )
    _note(actor, "role set", f"{user.email} to {role.value}")
    return describe(user)


def disable(email: str, actor: Actor) -> Person:
    """Stop a person signing in, end their sessions' use and revoke their tokens."""
    user = _user(email)
    user.is_active = False
    now = datetime.now(UTC)
    with transaction.atomic():
        user.save(update_fields=["is_active"])
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    _note(actor, "user disabled", str(user.email))
    return describe(user)


def describe(user: User) -> Person:
    from allauth.mfa.models import Authenticator

    profile = Profile.objects.filter(user=user).first()
    return Person(
        email=str(user.email),
        role=Role(profile.role) if profile else None,
        active=user.is_active,
        has_password=user.has_usable_password(),
        second_factor=Authenticator.objects.filter(user=user).exists(),
        last_login=user.last_login,
    )


def people() -> list[Person]:
    return [describe(user) for user in User.objects.order_by("email")]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    """Shown once: only its SHA-256 is kept."""
    prefix: str
    expires_at: datetime


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(email: str, lifetime: timedelta, read_only: bool, actor: Actor) -> IssuedToken:
    if lifetime <= timedelta(0) or lifetime > timedelta(days=366):
        raise InputError("--expires", "a token lives between a minute and a year")
    user = _user(email)
    if not user.is_active:
        raise InputError(str(user.email), "is disabled; no token is issued")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    made = ApiToken.objects.create(
        user=user,
        prefix=token[: len(TOKEN_PREFIX) + 8],
        sha256=digest(token),
        created_at=now,
        expires_at=now + lifetime,
        read_only=read_only,
    )
    kind = "read-only " if read_only else ""
    _note(actor, "token created", f"{kind}{made.prefix} for {user.email}")
    return IssuedToken(token, made.prefix, made.expires_at)


def revoke_token(prefix: str, actor: Actor, *, owner: User | None = None) -> None:
    """Revoke a token by its prefix (``owner``: only if it is theirs)."""
    found = ApiToken.objects.filter(prefix=prefix.strip(), revoked_at__isnull=True)
    if owner is not None:
        found = found.filter(user=owner)
    token = found.select_related("user").first()
    if token is None:
        raise InputError(prefix, "no such token, or it is already revoked")
    token.revoked_at = datetime.now(UTC)
    token.save(update_fields=["revoked_at"])
    _note(actor, "token revoked", f"{token.prefix} of {token.user.email}")


def tokens(owner: User | None = None) -> list[ApiToken]:
    found = ApiToken.objects.select_related("user")
    return list(found.filter(user=owner) if owner is not None else found)


def authenticate_token(presented: str) -> ApiToken | None:
    """The live token a request presents, or None (unknown, expired, revoked, owner disabled)."""
    if not presented.startswith(TOKEN_PREFIX):
        return None
    now = datetime.now(UTC)
    token = (
        ApiToken.objects.select_related("user", "user__assay_profile")
        .filter(sha256=digest(presented), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
