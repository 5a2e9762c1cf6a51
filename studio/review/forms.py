"""The share-link form (an expiry, a password, whether guests may comment) and the inbox
settings."""

from __future__ import annotations

from typing import Any

from django import forms

from studio.models import Email, Kind, ShareLink


class ShareLinkForm(forms.Form):
    """The share card on the take page. Field ids start with "share-"."""

    EXPIRY_DAYS = {"1": 1, "7": 7, "30": 30, "never": None}

    expires = forms.ChoiceField(
        label="Expires",
        choices=[("1", "in 1 day"), ("7", "in 7 days"), ("30", "in 30 days"), ("never", "never")],
        initial="7",
        error_messages={
            "invalid_choice": "Choose when the link expires: in 1, 7 or 30 days, or never."
        },
    )
    # No min_length/max_length: they would put minlength/maxlength on the input, and a browser
    # silently cuts a pasted password at maxlength, the very trap this form closes.
    password = forms.CharField(
        label="Password (optional)",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=(
            f"{ShareLink.PASSWORD_MIN} to {ShareLink.PASSWORD_MAX} characters. Leave it empty "
            "for a link that opens without one."
        ),
    )
    allow_download = forms.BooleanField(
        label="Allow download",
        required=False,
        help_text=(
            "Off: the page has no download button and Cutroom refuses download requests. It "
            "cannot stop someone who can watch the video from saving or recording what they see."
        ),
    )
    show_prompt = forms.BooleanField(label="Show the prompt", required=False, initial=True)
    allow_comments = forms.BooleanField(
        label="Allow comments (a review link)",
        required=False,
        help_text=(
            "Anyone with the link can comment at a frame under a name they give, without an "
            "account. The team sees their comments marked as a guest's and can hide them; "
            "revoking the link stops commenting at once."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["auto_id"] = "share-%s"
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if password and len(password) < ShareLink.PASSWORD_MIN:
            raise forms.ValidationError(
                f"Use at least {ShareLink.PASSWORD_MIN} characters (this one has "
                f"{len(password)}), or leave the password empty."
            )
        if len(password) > ShareLink.PASSWORD_MAX:
            raise forms.ValidationError(
                f"Use at most {ShareLink.PASSWORD_MAX} characters (this one has "
                f"{len(password)}); nothing is cut off, so choose a shorter one."
            )
        return password

    @property
    def days(self) -> int | None:
        return self.EXPIRY_DAYS[self.cleaned_data["expires"]]


class InboxSettingsForm(forms.Form):
    """Per kind of inbox item: shown in the inbox or not, and mailed at once, in a daily digest
    or not at all. Fields are `<kind>-inbox` and `<kind>-email`."""

    def __init__(self, *args: Any, initial_choices: dict[str, tuple[bool, str]], **kwargs: Any):
        from studio.review.inbox import MAILED_ELSEWHERE

        super().__init__(*args, **kwargs)
        self.rows = []
        for kind, label in Kind.choices:
            in_inbox, email = initial_choices[kind]
            self.fields[f"{kind}-inbox"] = forms.BooleanField(
                label=f"{label}: show in the inbox", required=False, initial=in_inbox
            )
            if kind not in MAILED_ELSEWHERE:
                self.fields[f"{kind}-email"] = forms.ChoiceField(
                    label=f"{label}: e-mail",
                    choices=Email.choices,
                    initial=email,
                    error_messages={
                        "invalid_choice": "Choose no e-mail, e-mail at once or a daily digest."
                    },
                )
            self.rows.append(
                {
                    "kind": kind,
                    "label": label,
                    "inbox": self[f"{kind}-inbox"],
                    "email": self[f"{kind}-email"] if kind not in MAILED_ELSEWHERE else None,
                    "mailed_elsewhere": MAILED_ELSEWHERE.get(kind, ""),
                }
            )

    def choices(self) -> dict[str, tuple[bool, str]]:
        data = self.cleaned_data
        return {
            kind: (bool(data[f"{kind}-inbox"]), data.get(f"{kind}-email") or Email.OFF)
            for kind in Kind.values
        }
