"""Sign up, sign in and account settings. Password views are Django's, used unchanged."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.forms import EmailAuthenticationForm, ProfileForm, SignupForm
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Invitation
from accounts.services import TeamRuleError, invitation_find, invitation_problem, user_signup
from accounts.views.invites import join_from_invitation


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _invitation_in(target: str) -> Invitation | None:
    """The invitation when sign-up was reached from an invitation link (next=/invite/<token>/)."""
    try:
        match = resolve(target.split("?", 1)[0]) if target.startswith("/") else None
    except Resolver404:
        return None
    if match is None or match.url_name != "invite_accept":
        return None
    return invitation_find(match.kwargs["token"])


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request) or "home")
    target = _safe_next(request)
    invitation = _invitation_in(target)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_signup(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            name=form.cleaned_data["name"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if invitation is None:
            messages.success(request, "Welcome to Cutroom. This is your personal studio.")
            return redirect(target or "home")
        # Signing up from an invitation link accepts it in the same step. The account stands
        # even when the link turns out to be used, withdrawn or expired meanwhile.
        try:
            return join_from_invitation(request, invitation, user)
        except TeamRuleError as error:
            messages.error(
                request,
                f"Your account was created, but you could not join {invitation.team.name}: "
                f"{error} This is your personal studio.",
            )
            return redirect("home")
    context = {
        "form": form,
        "next": target,
        "invitation": invitation,
        "invitation_problem": invitation_problem(invitation) if invitation else None,
    }
    return render(request, "accounts/signup.html", context)


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The e-mail a sign-in attempt is for, as django-axes should count it.

    Django passes the credentials keyed by USERNAME_FIELD ("email") while the form field is
    "username"; both are looked at, and case is ignored like at sign-in.
    """
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username") or request.POST.get("username")
    return str(value or "").strip().lower()


def locked_out(request: HttpRequest, response: Any = None, credentials: Any = None) -> HttpResponse:
    """Shown by django-axes instead of the login result once the failure limit is reached."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = EmailAuthenticationForm(request, data=None)
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "locked_minutes": minutes,
            "next": _safe_next(request),
        },
        status=429,
    )


@login_required
def account_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, initial={"name": request.user.name})
    if request.method == "POST" and form.is_valid():
        request.user.name = form.cleaned_data["name"].strip()
        request.user.save(update_fields=["name"])
        messages.success(request, "Your name was saved.")
        return redirect("account_settings")
    return render(request, "accounts/settings.html", {"form": form})
