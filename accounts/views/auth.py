"""Sign up, sign in and account settings. Password views are Django's, used unchanged."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts.addresses import email_lookup
from accounts.forms import (
    AddressPasswordResetForm,
    EmailAuthenticationForm,
    ProfileForm,
    SignupFinishForm,
    SignupForm,
    SignupStartForm,
)
from accounts.http import AuthenticatedHttpRequest
from accounts.limits import Usage, hit, peek
from accounts.mail import can_send_mail
from accounts.models import Invitation, User
from accounts.services import (
    SignupClosed,
    TeamRuleError,
    invitation_find,
    invitation_join,
    invitation_problem,
    signup_link_read,
    signup_policy,
    signup_request,
    user_signup,
)


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


# Mail-sending pages (sign-up, password reset) are throttled per address and per e-mail typed,
# counted the same whether an account exists or not, so the limit reveals nothing either.
MAIL_PER_ADDRESS = (10, 60 * 60)
MAIL_PER_EMAIL = (3, 60 * 60)


def _mail_throttled(request: HttpRequest, group: str, email: str) -> Usage | None:
    """The usage that refuses this mail, or None when it may be sent."""
    usage = hit(request, group=f"{group}-address", rate=MAIL_PER_ADDRESS)
    if not usage.limited:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        usage = hit(request, group=f"{group}-email", rate=MAIL_PER_EMAIL, key=lambda g, r: digest)
    return usage if usage.limited else None


def _throttled_page(
    request: HttpRequest, template: str, context: dict[str, Any], usage: Usage
) -> HttpResponse:
    context = {**context, "throttled_minutes": usage.minutes}
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(usage.retry_after)
    return response


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request) or "home")
    target = _safe_next(request)
    invitation = _invitation_in(target)
    problem = invitation_problem(invitation) if invitation else None
    policy = signup_policy()
    context: dict[str, Any] = {
        "next": target,
        "invitation": invitation,
        "invitation_problem": problem,
        "mail": can_send_mail(),
        "policy": policy,
        # No form at all when nobody could get through it: the page says how to get in.
        "closed": not policy.open_to_some and (invitation is None or problem is not None),
    }
    if context["closed"]:
        status = 403 if request.method == "POST" else 200
        return render(request, "accounts/signup.html", context, status=status)
    if not context["mail"]:
        return _signup_at_once(request, context)
    form = context["form"] = SignupStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        usage = _mail_throttled(request, "signup", email)
        if usage is not None:
            return _throttled_page(request, "accounts/signup.html", context, usage)
        try:
            signup_request(
                email=email,
                name=form.cleaned_data["name"].strip(),
                next_url=target,
                site=request.build_absolute_uri("/").rstrip("/"),
                invitation=invitation,
            )
        except SignupClosed as closed:  # an address outside the domains: no mail
            form.add_error("email", str(closed))
            return render(request, "accounts/signup.html", context, status=403)
        return redirect("signup_sent")
    return render(request, "accounts/signup.html", context)


def _signup_at_once(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    """Without mail no address can be checked: the account is made at once, and the form must
    say when an address is taken. Each address may try only a few times an hour."""
    form = context["form"] = SignupForm(request.POST or None)
    if request.method == "POST":
        usage = hit(request, group="signup-address", rate=MAIL_PER_ADDRESS)
        if usage.limited:
            return _throttled_page(request, "accounts/signup.html", context, usage)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_signup(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                name=form.cleaned_data["name"],
                invitation=context["invitation"],
            )
        except SignupClosed as closed:
            form.add_error("email", str(closed))
            return render(request, "accounts/signup.html", context, status=403)
        if user.awaiting_approval_since is not None:
            # Not signed in: nobody has proven this address yet (docs/governance.md).
            return render(request, "accounts/signup_held.html", {"email": user.email})
        return _welcome(request, user, context["invitation"], context["next"])
    return render(request, "accounts/signup.html", context)


def _welcome(
    request: HttpRequest, user: User, invitation: Invitation | None, target: str
) -> HttpResponse:
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if user.is_staff:  # the first account: it administers this Cutroom
        messages.info(
            request,
            "Your account administers this Cutroom: choose who may sign up, and see every "
            "team, on the Administration page.",
        )
    if invitation is None:
        messages.success(request, "Welcome to Cutroom. This is your personal studio.")
        return redirect(target or "home")
    # Signing up from an invitation link accepts it in the same step. The account stands
    # even when the link turns out to be used, withdrawn or expired meanwhile.
    try:
        role = invitation_join(invitation=invitation, user=user)
        messages.success(request, f"You joined {invitation.team.name} as {role}.")
        return redirect("team_detail", code=invitation.team.code)
    except TeamRuleError as error:
        messages.error(
            request,
            f"Your account was created, but you could not join {invitation.team.name}: "
            f"{error} This is your personal studio.",
        )
        return redirect("home")


def signup_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signup_sent.html")


@require_http_methods(["GET", "POST"])
def signup_finish(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the sign-up mail: choose a password, and the account is made.

    Sign-up may have closed since the link was mailed: the policy is checked again, on the
    page and when the account is made."""
    data = signup_link_read(token)
    if data is None:
        return render(request, "accounts/signup_finish.html", {"invalid": True}, status=404)
    if User.objects.filter(email__iexact=data["email"]).exists():
        # Only someone who can read this mailbox gets here, so saying so reveals nothing.
        messages.info(request, "Your account is ready: sign in with your password.")
        return redirect("login")
    target = data["next"] if url_has_allowed_host_and_scheme(data["next"], None) else ""
    invitation = _invitation_in(target)
    context: dict[str, Any] = {"email": data["email"], "invitation": invitation}
    if refused := signup_policy().refusal_for(data["email"], invitation):
        context["refused"] = refused
        status = 403 if request.method == "POST" else 200
        return render(request, "accounts/signup_finish.html", context, status=status)
    form = context["form"] = SignupFinishForm(
        request.POST or None, email=data["email"], name=data["name"]
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = user_signup(
                email=data["email"],
                password=form.cleaned_data["password1"],
                name=data["name"],
                invitation=invitation,
                address_proven=True,  # only the mailbox's reader has this link
            )
        except IntegrityError:  # the same link used twice at once
            return redirect("login")
        except SignupClosed as closed:  # closed, or the invitation used, a moment ago
            context["refused"] = str(closed)
            return render(request, "accounts/signup_finish.html", context, status=403)
        return _welcome(request, user, invitation, target)
    return render(request, "accounts/signup_finish.html", context)


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The e-mail a sign-in attempt is for, as django-axes should count it.

    Django passes the credentials keyed by USERNAME_FIELD ("email") while the form field is
    "username"; both are looked at, and case is ignored like at sign-in.
    """
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username") or request.POST.get("username")
    # Look-alike spellings of one address count as that address (accounts/addresses.py).
    return email_lookup(str(value or ""))[0]


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


def _address_rate() -> tuple[int, int]:
    return settings.LOGIN_ADDRESS_FAILURE_LIMIT, int(settings.AXES_COOLOFF_TIME.total_seconds())


class LoginView(auth_views.LoginView):
    """Django's sign-in, plus a limit on failures from one address across all accounts.

    django-axes locks an e-mail from the address that failed (so nobody can lock someone
    else out). That leaves one address free to try a password against every account; this
    counts its failures together and pauses the address when they pass the limit.
    """

    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Someone sent here by an invitation link may always create an account.
        context["invited"] = _invitation_in(context.get("next") or "") is not None
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        usage = peek(request, group="login-failures", rate=_address_rate())
        if usage.limited:
            context = {
                "form": EmailAuthenticationForm(request, data=None),
                "address_locked_minutes": usage.minutes,
                "next": _safe_next(request),
            }
            response = render(request, self.template_name, context, status=429)
            response["Retry-After"] = str(usage.retry_after)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        hit(self.request, group="login-failures", rate=_address_rate())
        return super().form_invalid(form)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset, throttled per address and per e-mail, and honest when no mail can go."""

    template_name = "accounts/password_reset.html"
    form_class = AddressPasswordResetForm
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "mail": can_send_mail()}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_send_mail():
            # Nothing would be sent: say so rather than "a link is on its way".
            return self.render_to_response(self.get_context_data(), status=503)
        form = self.get_form()
        if form.is_valid():
            usage = _mail_throttled(request, "reset", form.cleaned_data["email"])
            if usage is not None:
                context = self.get_context_data(form=form, throttled_minutes=usage.minutes)
                response = self.render_to_response(context, status=429)
                response["Retry-After"] = str(usage.retry_after)
                return response
            return self.form_valid(form)
        return self.form_invalid(form)
