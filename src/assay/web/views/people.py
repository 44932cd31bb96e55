"""A person's own profile and API tokens; the admin's list of people; the health check."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from assay.errors import InputError
from assay.web import accounts, audit
from assay.web.roles import Role
from assay.web.views._common import page


def _actor(request: HttpRequest) -> accounts.Actor:
    from assay.web import context

    return accounts.Actor(
        audit.actor_of(request), audit.client_address(request), context.programme_or_none()
    )


class TokenForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=366, initial=30, label="Expires after (days)")
    read_only = forms.BooleanField(required=False, initial=True, label="Read-only")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in Role])


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert user.is_authenticated
    return page(
        request,
        "web/profile.html",
        {
            "person": accounts.describe(user),
            "tokens": accounts.tokens(user),
            "form": TokenForm(),
            "issued": request.session.pop("issued_token", None),
        },
    )


@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The token needs a lifetime between 1 and 366 days.")
        return redirect("profile")
    issued = accounts.create_token(
        str(request.user.email),  # type: ignore[union-attr]
        timedelta(days=form.cleaned_data["days"]),
        form.cleaned_data["read_only"],
        _actor(request),
    )
    # Shown on the next page once, then gone from the session.
    request.session["issued_token"] = issued.token
    return redirect("profile")


@require_POST
def token_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    try:
        accounts.revoke_token(prefix, _actor(request), owner=request.user)  # type: ignore[arg-type]
    except InputError:
        messages.error(request, "No such token of yours, or it is already revoked.")
    return redirect("profile")


@require_GET
def users(request: HttpRequest) -> HttpResponse:
    model = get_user_model()
    rows = [(user.pk, accounts.describe(user)) for user in model.objects.order_by("email")]
    return page(request, "web/users.html", {"people": rows, "roles": list(Role)})


@require_POST
def set_role(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=user_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        accounts.set_role(str(user.email), Role(form.cleaned_data["role"]), _actor(request))
        messages.success(request, "Role changed.")
    else:
        messages.error(request, "Choose one of the listed roles.")
    return redirect("users")


@require_POST
def disable(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=user_id)
    if user.pk == request.user.pk:
        messages.error(request, "You cannot disable your own account.")
    else:
        accounts.disable(str(user.email), _actor(request))
        messages.success(request, "Account disabled and its tokens revoked.")
    return redirect("users")
