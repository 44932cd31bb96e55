"""Every response's security headers, and the one gate every request passes (``AccessPolicy``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from assay._internal.text import inert
from assay.web import accounts, roles
from assay.web.models import ApiToken

Handler = Callable[[HttpRequest], HttpResponse]
API_PREFIX = "/api/"


def content_security_policy() -> str:
    """No inline script anywhere. Forms post only here, and to the SSO issuer (the sign-in form
    is redirected to it). Styles may be inline: the server-drawn SVG charts carry theirs."""
    form_action = ["'self'"]
    from assay.web import context

    served = context.programme_or_none()
    if served is not None and served.web.oidc is not None:
        parts = urlsplit(served.web.oidc.issuer)
        form_action.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            f"form-action {' '.join(form_action)}",
        )
    )


def server_timing(get_response: Handler) -> Handler:
    """``Server-Timing: app;dur=<ms>, cpu;dur=<ms>``: the app's own time per response (first in
    the chain, so it spans every other middleware and the view), and the CPU time the serving
    thread spent on it, which excludes waiting for other threads and processes. A load benchmark
    reads both to tell the server's time from the network's and the client's."""

    def middleware(request: HttpRequest) -> HttpResponse:
        started, cpu = time.perf_counter(), time.thread_time()
        response = get_response(request)
        elapsed = (time.perf_counter() - started) * 1000
        spent = (time.thread_time() - cpu) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}, cpu;dur={spent:.1f}"
        return response

    return middleware


def security_headers(get_response: Handler) -> Handler:
    """Every response's security headers; every page's control, bidi and zero-width characters
    written as escapes (``inert``), as the HTML readiness report does: Django's escaping stops
    markup, this stops a right-to-left override from showing a name reversed."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if not response.streaming and response.get("Content-Type", "").startswith("text/html"):
            page = response.content.decode(response.charset)
            response.content = inert(page, keep="\n\t").encode(response.charset)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return middleware


class AccessPolicy:
    """Deny by default: a request reaches a view only if ``roles.POLICY`` lets its role open the
    view's URL name. An API request may carry ``Authorization: Bearer <token>`` instead of a
    session; a read-only token is refused any method that could change something. Admins and
    programme owners must have a second factor before they see anything but its set-up pages."""

    MFA_SETUP = frozenset(
        {
            "mfa_index",
            "mfa_activate_totp",
            "mfa_view_recovery_codes",
            "mfa_generate_recovery_codes",
            "mfa_download_recovery_codes",
            "mfa_add_webauthn",
            "mfa_reauthenticate",
            "account_reauthenticate",
            "account_logout",
        }
    )

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        name = match.view_name if match is not None else ""
        api = request.path.startswith(API_PREFIX)
        bearer = api and "Authorization" in request.headers
        if bearer and (refused := self._bearer(request)) is not None:
            return refused
        role = accounts.role_of(request.user)
        if roles.allows(name, role, signed_in=request.user.is_authenticated):
            # A token was issued out of band by an admin; a session needs the second factor.
            if bearer or role is None or not role.needs_mfa or name in self.MFA_SETUP:
                return None
            if _has_second_factor(request.user):
                return None
            if api:
                return _refuse(request, api, 403, "set up a second factor first")
            return redirect("mfa_index")
        if name not in roles.POLICY:
            return _refuse(request, api, 404, "not found")
        if not request.user.is_authenticated:
            if api:
                return _refuse(request, api, 401, "sign in or send a bearer token")
            return _refused(redirect(f"{reverse('account_login')}?next={quote(request.path)}"))
        return _refuse(request, api, 403, "your role may not open this")

    @staticmethod
    def _bearer(request: HttpRequest) -> HttpResponse | None:
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        token = accounts.authenticate_token(presented.strip()) if scheme == "Bearer" else None
        if token is None:
            return _refuse(request, True, 401, "the bearer token is unknown, expired or revoked")
        if token.read_only and request.method not in ("GET", "HEAD", "OPTIONS"):
            return _refuse(request, True, 403, "this token is read-only")
        request.user = token.user
        setattr(request, _TOKEN, token)
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]  # no cookie is used
        return None


_TOKEN = "assay_token"


def presented_token(request: HttpRequest) -> ApiToken | None:
    """The token an API request was let in with; None for a session."""
    found = getattr(request, _TOKEN, None)
    return found if isinstance(found, ApiToken) else None


def _has_second_factor(user: Any) -> bool:
    from allauth.mfa.models import Authenticator

    return bool(Authenticator.objects.filter(user=user).exists())


def _refused(response: HttpResponse) -> HttpResponse:
    """Mark a response as the policy's refusal (the role-matrix test tells it from a view's own
    404 or redirect by this; it never leaves the process)."""
    response.refused_by_policy = True  # type: ignore[attr-defined]
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 (no route matches, or a view found nothing), in the same form as a refusal:
    JSON under /api/, so the API answers every path as its description says."""
    return _answer(request, request.path.startswith(API_PREFIX), 404, "not found")


def _refuse(request: HttpRequest, api: bool, status: int, why: str) -> HttpResponse:
    return _refused(_answer(request, api, status, why))


def _answer(request: HttpRequest, api: bool, status: int, why: str) -> HttpResponse:
    if api:
        return JsonResponse({"detail": why}, status=status)
    from django.template.loader import render_to_string

    body = render_to_string("web/refused.html", {"status": status, "why": why}, request=request)
    if status == 403:
        return HttpResponseForbidden(body)
    return HttpResponse(body, status=status)
