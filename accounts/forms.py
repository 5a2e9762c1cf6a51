"""Forms validate and normalise input; the work happens in accounts.services."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from accounts.addresses import AddressRefused, email_lookup, email_normalise
from accounts.mail import can_send_mail
from accounts.models import Role, SignupMode, User
from accounts.services import signup_domains_parse
from studio.governance.forms import UsdField


class AddressField(forms.EmailField):
    """An e-mail address in its one spelling (accounts/addresses.py); look-alikes are refused
    with the reason."""

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        if not value:
            return value
        try:
            return email_normalise(value)
        except AddressRefused as refused:
            raise forms.ValidationError(str(refused), code="invalid") from None


class LookupAddressField(forms.EmailField):
    """An address typed to find an account (sign-in, password reset), kept as typed: the
    lookup tries its one spelling, then the address as typed, so an account stored before
    addresses were normalised is still found. It is checked in its one spelling, so a
    full-width @ is not refused."""

    def run_validators(self, value: Any) -> None:
        super().run_validators(email_lookup(value)[0] if value else value)


def _email_field() -> forms.EmailField:
    return AddressField(
        label="E-mail", widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )


def _name_field() -> forms.CharField:
    return forms.CharField(
        label="Your name",
        max_length=150,
        required=False,
        help_text="Shown to your teammates. Optional.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class NewPasswordForm(forms.Form):
    """Two password fields, checked against the validators for the account they are for."""

    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not too common, not only digits.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def account(self, data: dict[str, Any]) -> User:
        return User(email=data.get("email", ""), name=data.get("name", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords do not match.")
        elif password1:
            try:
                password_validation.validate_password(password1, self.account(data))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class SignupForm(NewPasswordForm):
    """Sign-up in one step, used when Cutroom cannot send e-mail (see accounts/mail.py)."""

    email = _email_field()
    name = _name_field()
    field_order = ["email", "name", "password1", "password2"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        existing = User.objects.filter(email__iexact=email).first()
        if existing is not None and existing.awaiting_approval_since is not None:
            raise forms.ValidationError(
                "An account with this e-mail already waits for an administrator's approval. "
                "If you did not make it, tell an administrator of this Cutroom: refusing it "
                "frees the address."
            )
        if existing is not None:
            raise forms.ValidationError(
                "An account with this e-mail already exists. Sign in or reset your password."
            )
        return email


class SignupStartForm(forms.Form):
    """Sign-up when Cutroom can send e-mail: the address first, the password from its link."""

    email = _email_field()
    name = _name_field()


class SignupFinishForm(NewPasswordForm):
    def __init__(self, *args: Any, email: str, name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email, self.name = email, name

    def account(self, data: dict[str, Any]) -> User:
        return User(email=self.email, name=self.name)


AWAITING_APPROVAL = (
    "Your account waits for an administrator's approval: this Cutroom cannot send e-mail to "
    "confirm your address, so an administrator checks it instead. You can sign in once they "
    "approve it; nothing else is needed from you."
)


class EmailAuthenticationForm(AuthenticationForm):
    username = LookupAddressField(
        label="E-mail",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail and password do not match an account. Check both and retry.",
    }

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except forms.ValidationError:
            # Only someone who knows the password learns that the account waits.
            held = User.objects.filter(
                email__in=email_lookup(self.cleaned_data.get("username") or ""),
                is_active=False,
                awaiting_approval_since__isnull=False,
            ).first()
            if held is not None and held.check_password(self.cleaned_data.get("password") or ""):
                raise forms.ValidationError(AWAITING_APPROVAL, code="inactive") from None
            raise


class AddressPasswordResetForm(PasswordResetForm):
    """Django's reset form, looking the account up by the address's one spelling."""

    email = LookupAddressField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def get_users(self, email: str) -> Iterator[Any]:
        for spelling in email_lookup(email):
            found = list(super().get_users(spelling))
            if found:
                return iter(found)
        return iter(())


class ProfileForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=150, required=False)


class TeamForm(forms.Form):
    name = forms.CharField(label="Team name", max_length=80)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the team a name.")
        return name


class TeamProvenanceForm(forms.Form):
    credentials_prompts = forms.BooleanField(
        label="Include prompts in content credentials",
        required=False,
        help_text="Off by default. Prompts can be private: with this on, anyone who has a file "
        "Cutroom made for this team can read the prompts that made it in its content "
        "credentials. Off, the credentials still say which model and sources made it.",
    )
    ai_label_downloads = forms.BooleanField(
        label="Burn a visible AI-generated label into downloads and exports",
        required=False,
        help_text="Off by default. A small “AI-generated” label in a corner of every video "
        "made with AI that is downloaded or exported, readable on a phone and clear of "
        "faces. The pages always say whether AI made a video.",
    )


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Their e-mail address",
        required=False,
        help_text="The invitation names it, and it is sent the link when this Cutroom sends "
        "e-mail. Leave it empty to pass the link on yourself.",
    )
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.EDITOR)
    note = forms.CharField(
        label="Note (who is it for?)",
        max_length=120,
        required=False,
        help_text="Only your team sees this.",
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


# -- the administration page (studio/governance/admin_views.py) ----------------------------------
def _money_field(label: str, help_text: str) -> UsdField:
    # The same reading as the owners' budget forms: plain amounts only, never "1_000", "-0" or
    # full-width digits (which Python's Decimal would take).
    return UsdField(
        label=label,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )


NO_MAIL_FOR_DOMAINS = (
    "This Cutroom cannot send e-mail (no SMTP server: set STUDIO_EMAIL_HOST), so it could not "
    "check that people own the addresses they sign up with: anyone could sign up as "
    "someone@your-domain. Nothing was changed. Set up mail first, or keep sign-up by invitation."
)


class SignupPolicyForm(forms.Form):
    mode = forms.ChoiceField(
        label="Who may sign up", choices=SignupMode.choices, widget=forms.RadioSelect
    )
    domains = forms.CharField(
        label="Domains",
        required=False,
        max_length=500,
        help_text="For “addresses at chosen domains”: such as example.com, studio.example.org. "
        "Only these exact domains: a subdomain is another domain.",
    )

    def clean_domains(self) -> list[str]:
        try:
            return signup_domains_parse(self.cleaned_data["domains"])
        except ValueError as bad:
            raise forms.ValidationError(
                f"These are not domains: {bad}. Write each like example.com, separated by commas."
            ) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == SignupMode.DOMAIN and "domains" in data and not data["domains"]:
            self.add_error("domains", "Give at least one domain, such as example.com.")
        if data.get("mode") == SignupMode.DOMAIN and not can_send_mail():
            self.add_error("mode", NO_MAIL_FOR_DOMAINS)
        return data


class InstanceBudgetForm(forms.Form):
    budget_usd = _money_field(
        "This Cutroom's monthly budget (USD)",
        "What the provider may charge all teams together each month. 0 stops every paid take; "
        "empty falls back to STUDIO_INSTANCE_BUDGET_USD.",
    )


class AdministratorForm(forms.Form):
    email = LookupAddressField(label="E-mail of the account", max_length=254)


class TeamLimitsForm(forms.Form):
    cap_usd = _money_field(
        "Monthly cap (USD)",
        "A monthly limit its owners cannot raise. Empty: no cap.",
    )
    max_active = forms.IntegerField(
        label="Takes at once",
        required=False,
        min_value=1,
        max_value=1000,
        error_messages={
            "min_value": "At least 1; suspend the team to stop its takes.",
            "max_value": "At most 1000.",
            "invalid": "Write a whole number, such as 2.",
        },
        widget=forms.NumberInput(attrs={"min": "1", "max": "1000", "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, default_active: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["max_active"].help_text = (
            f"At the provider, for this team. Empty: the default, {default_active}."
            if default_active
            else "At the provider, for this team. Empty: no limit of its own."
        )


class TeamSuspendForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        help_text="The team's members see it on their pages.",
        error_messages={"required": "Say why, for the team's members."},
    )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError("Say why, for the team's members.")
        return reason


class TeamLiftForm(forms.Form):
    note = forms.CharField(
        label="Note for the team's history",
        max_length=200,
        required=False,
    )
