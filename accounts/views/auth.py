"""Sign up, sign in and account settings. Password views are Django's, used unchanged."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.forms import EmailAuthenticationForm, ProfileForm, SignupForm
from accounts.http import AuthenticatedHttpRequest
from accounts.services import user_signup


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request) or "home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_signup(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            name=form.cleaned_data["name"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to Cutroom. This is your personal studio.")
        return redirect(_safe_next(request) or "home")
    return render(request, "accounts/signup.html", {"form": form, "next": _safe_next(request)})


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
