"""Forms validate and normalise input; the work happens in studio.services."""

from __future__ import annotations

from django import forms


class ProjectForm(forms.Form):
    name = forms.CharField(label="Project name", max_length=120)
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What is this project about? Optional.",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the project a name.")
        return name


class UploadForm(forms.Form):
    """One file per request. upload_key makes a repeated submission return the first upload."""

    file = forms.FileField(label="File", allow_empty_file=True, max_length=1000)
    upload_key = forms.UUIDField(widget=forms.HiddenInput)
