"""The project form: a name and a description, checked and tidied."""

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
