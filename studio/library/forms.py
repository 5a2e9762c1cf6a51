"""The upload form: one file, with an idempotency key so a form sent twice makes one upload."""

from __future__ import annotations

from django import forms


class UploadForm(forms.Form):
    """One file per request. upload_key makes a repeated submission return the first upload."""

    file = forms.FileField(label="File", allow_empty_file=True, max_length=1000)
    upload_key = forms.UUIDField(widget=forms.HiddenInput)
