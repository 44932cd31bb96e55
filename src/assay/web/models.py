"""People who sign in: their role, their API tokens, and the outbox of their actions.

Passwords are Django's (Argon2); second factors are django-allauth's. A token is stored only as
its SHA-256: the token itself is printed once and never kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from assay.web.roles import Role

ROLE_CHOICES = [(role.value, role.label) for role in Role]


class Profile(models.Model):
    """A person's role in the programme. Without a profile, a person has no role and sees
    nothing but their own account pages."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assay_profile"
    )
    role = models.CharField(max_length=32, choices=ROLE_CHOICES)
    role_from_sso = models.BooleanField(default=False)
    """The role came from the identity provider's claim (it is set again at each SSO sign-in)."""


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    prefix = models.CharField(max_length=16, unique=True)
    """The token's first characters: enough to name it in a list, too few to use it."""
    sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    read_only = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True)
    last_used_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-created_at"]


class AuditEvent(models.Model):
    """One action a person took, kept here until it is appended to the locker (``statement_id``
    set), so an action is never lost when the locker cannot be written at that moment."""

    at = models.DateTimeField()
    actor = models.TextField()
    """Who: the signed-in e-mail, the address tried at a failed sign-in, or ``cli:<os user>``."""
    action = models.CharField(max_length=64)
    target = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, default="ok")
    address = models.CharField(max_length=64, blank=True)
    """The client's address as the server saw it."""
    statement_id = models.CharField(max_length=64, null=True, db_index=True)

    class Meta:
        ordering = ["at", "id"]
