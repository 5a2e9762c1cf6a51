"""The cut forms: a cut's name, a span of the clip, and the edit every window gets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django import forms

from studio.cuts.models import CROSSFADE_FRAMES, MAX_CROSSFADE_FRAMES, CutWindow
from studio.models import Clip
from studio.takes.forms import ReferencesForm, parameter_fields
from studio.takes.models import PROMPT_MAX
from studio.takes.parameters import EditParameters

# A window's take edits its whole request in the source's own shape (studio/cuts/services.py):
# these two parameters are not the person's to choose there.
FIXED_FOR_WINDOWS = ("ratio", "duration")


class CutForm(forms.Form):
    name = forms.CharField(
        label="Name of the cut",
        max_length=80,
        help_text="Such as “Clay version”: a clip can have several cuts.",
    )
    crossfade_frames = forms.IntegerField(
        label="Crossfade at each join (frames)",
        min_value=0,
        max_value=MAX_CROSSFADE_FRAMES,
        initial=CROSSFADE_FRAMES,
        help_text=f"0 to {MAX_CROSSFADE_FRAMES} frames of the source, blended inside the handles.",
    )


class SpanForm(forms.Form):
    """A part of the clip in seconds; with `optional`, an empty field means the clip's end."""

    start = forms.DecimalField(label="From (seconds)", min_value=0, decimal_places=3)
    end = forms.DecimalField(label="To (seconds)", min_value=0, decimal_places=3)

    def __init__(self, *args: Any, clip: Clip, optional: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clip = clip
        for name in ("start", "end"):
            field = self.fields[name]
            field.required = not optional
            field.widget.attrs.update(step="0.04", max=f"{clip.duration or 0:.3f}")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        duration = Decimal(str(self.clip.duration or 0))
        for name, value in (("start", start), ("end", end)):
            if value is not None and value > duration:
                self.add_error(name, f"The clip is {float(duration):.2f} s long.")
        if start is not None and end is not None and end <= start:
            self.add_error("end", "The end comes after the start.")
        return data


class CutEditForm(ReferencesForm):
    """The prompt, references and parameters every window (or the windows chosen) is edited
    with; each window's take then edits that window with its handles. A window may have a
    prompt of its own (`window_prompt(window)`, optional) instead of the shared one."""

    FIELD_ORDER = ["prompt", "negative_prompt", "references"]

    def __init__(
        self, *args: Any, clip: Clip, windows: Sequence[CutWindow] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        fields = parameter_fields()
        for name in FIXED_FOR_WINDOWS:
            fields.pop(name)
        fields["prompt"].error_messages["required"] = "Describe the change you want."
        self.fields.update(fields)
        for number, window in enumerate(windows, start=1):
            self.fields[self.prompt_name(window)] = forms.CharField(
                label=f"Own prompt for window {number} (optional)",
                required=False,
                max_length=PROMPT_MAX,
                widget=forms.TextInput(attrs={"maxlength": PROMPT_MAX}),
            )
        self.order_fields(self.FIELD_ORDER)
        self.references_of(clip)

    @staticmethod
    def prompt_name(window: CutWindow) -> str:
        return f"prompt_{window.pk}"

    def window_prompt(self, window: CutWindow) -> forms.BoundField:
        return self[self.prompt_name(window)]

    @property
    def parameters(self) -> EditParameters:
        return EditParameters.of(self.cleaned_data)

    def overrides(self, windows: Sequence[CutWindow]) -> dict[int, EditParameters]:
        """The parameters of each window that has a prompt of its own, by window id."""
        shared = self.parameters
        own = {w.pk: (self.cleaned_data.get(self.prompt_name(w)) or "").strip() for w in windows}
        return {pk: replace(shared, prompt=prompt) for pk, prompt in own.items() if prompt}

    def clean_prompt(self) -> str:
        prompt = self.cleaned_data["prompt"].strip()
        if not prompt:
            raise forms.ValidationError("Describe the change you want.")
        return prompt
