"""Forms validate and normalise input; the work happens in accounts.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from accounts.models import Role, User


def _email_field() -> forms.EmailField:
    return forms.EmailField(
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
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this e-mail already exists. Sign in or reset your password."
            )
        return email


class SignupStartForm(forms.Form):
    """Sign-up when Cutroom can send e-mail: the address first, the password from its link."""

    email = _email_field()
    name = _name_field()

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class SignupFinishForm(NewPasswordForm):
    def __init__(self, *args: Any, email: str, name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email, self.name = email, name

    def account(self, data: dict[str, Any]) -> User:
        return User(email=self.email, name=self.name)


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail and password do not match an account. Check both and retry.",
    }


class ProfileForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=150, required=False)


class TeamForm(forms.Form):
    name = forms.CharField(label="Team name", max_length=80)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the team a name.")
        return name


class InviteForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.EDITOR)
    note = forms.CharField(
        label="Note (who is it for?)",
        max_length=120,
        required=False,
        help_text="Only your team sees this.",
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)
