"""The take forms: every edit parameter checked as the provider checks it, and adopting a task
id."""

from __future__ import annotations

from dataclasses import MISSING
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.datastructures import MultiValueDict

from studio.media.inputs import MIN_SECONDS, check_window
from studio.media.probe import MediaRejected
from studio.models import Clip, MediaState, Reference
from studio.providers.catalogue import About, about
from studio.takes.parameters import Declared, EditParameters


def parameter_fields() -> dict[str, forms.Field]:
    """A form field for each edit parameter, with the limits its declaration gives."""
    made: dict[str, forms.Field] = {}
    for name, spec in EditParameters.declared().items():
        how: Declared = spec.metadata["declared"]
        default = None if spec.default is MISSING else spec.default
        common: dict[str, Any] = {
            "label": how.label,
            "help_text": how.help,
            "initial": default,
            "required": spec.default is MISSING or spec.default not in ("", None),
        }
        kind = EditParameters.kind(name)
        if how.choices:
            messages = {"invalid_choice": how.invalid_choice}
            if kind is int:
                made[name] = forms.TypedChoiceField(
                    coerce=int, choices=how.choices, error_messages=messages, **common
                )
            else:
                made[name] = forms.ChoiceField(
                    choices=how.choices, error_messages=messages, **common
                )
        elif kind is bool:
            made[name] = forms.BooleanField(**common | {"required": False})
        elif kind in (int, int | None):
            made[name] = forms.IntegerField(
                min_value=how.min_value, max_value=how.max_value, **common
            )
        else:
            attrs = {"rows": how.rows, "maxlength": how.max_length}
            widget = forms.Textarea(attrs=attrs) if how.rows else None
            made[name] = forms.CharField(max_length=how.max_length, widget=widget, **common)
    return made


class ReferencesForm(forms.Form):
    """The reference images an edit is made with: up to four of the project's ready ones, in
    the order they were ticked (the take form and the cut's edit form)."""

    references: forms.ModelMultipleChoiceField[Reference] = forms.ModelMultipleChoiceField(
        label="Reference images (up to 4)",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def references_of(self, clip: Clip) -> None:
        references = cast("forms.ModelMultipleChoiceField[Reference]", self.fields["references"])
        references.queryset = Reference.objects.filter(project=clip.project, state=MediaState.READY)

    def clean_references(self) -> list[Reference]:
        data = self.data
        sent = data.getlist("references") if isinstance(data, MultiValueDict) else []
        order = [str(pk) for pk in sent or data.get("references") or []]
        chosen = sorted(self.cleaned_data["references"] or [], key=lambda r: order.index(str(r.pk)))
        if len(chosen) > 4:
            raise forms.ValidationError(
                f"Choose at most 4 reference images (the video plus images must be 5 or fewer); "
                f"{len(chosen)} are selected."
            )
        return chosen


class TakeForm(ReferencesForm):
    """Every parameter of wan2.7-videoedit, checked as the provider checks it: the part of the
    clip and the references here, the edit's parameters from their declarations."""

    FIELD_ORDER = ["start", "length", "prompt", "negative_prompt", "references"]

    start = forms.DecimalField(label="Start at (seconds)", min_value=0, decimal_places=2, initial=0)
    length = forms.DecimalField(
        label="Length (seconds)",
        min_value=2,
        max_value=10,
        decimal_places=2,
        help_text="The part of the clip to edit: 2 to 10 seconds.",
    )

    def __init__(self, *args: Any, clip: Clip, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(parameter_fields())
        self.order_fields(self.FIELD_ORDER)
        self.clip = clip
        self.engine = about(settings.STUDIO_PROVIDER)
        watermark = self.fields["watermark"]
        if self.engine.watermark:
            watermark.label = f"Ask {self.engine.label} to add its own AI mark"
        else:
            # Shown in words where the box would be (take_new.html), not silently left out.
            watermark.help_text = self.engine.watermark_note
        self.references_of(clip)
        self.fields["start"].widget.attrs.update(
            step="0.1", max=f"{max(0, (clip.duration or 0) - 2):.2f}"
        )
        self.fields["length"].widget.attrs.update(step="0.1")

    @property
    def parameters(self) -> EditParameters:
        """The edit's parameters, once the form is valid."""
        return EditParameters.of(self.cleaned_data)

    def clean_start(self) -> Decimal:
        """A start the clip allows, said in seconds: never the number sent, which may have 300
        digits (1e308 is a valid decimal)."""
        start = self.cleaned_data["start"]
        duration = self.clip.duration or 0.0
        latest = max(0.0, duration - MIN_SECONDS)
        if start > Decimal(str(latest)):
            raise forms.ValidationError(
                f"Start between 0 and {latest:.1f} s: the clip is {duration:.1f} s long and "
                f"the part lasts at least {MIN_SECONDS:g} s."
            )
        return start

    def clean_prompt(self) -> str:
        prompt = self.cleaned_data["prompt"].strip()
        if not prompt:
            raise forms.ValidationError("Describe the change you want.")
        return prompt

    def clean_watermark(self) -> bool:
        asked = bool(self.cleaned_data.get("watermark"))
        if asked and not self.engine.watermark:
            raise forms.ValidationError(watermark_refusal(self.engine))
        return asked

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, length = data.get("start"), data.get("length")
        if start is None or length is None:
            return data
        problem = window_problem(self.clip, float(start), float(length))
        if problem:
            self.add_error("length" if "long" in problem or "end" in problem else "start", problem)
        duration = data.get("duration") or 0
        if duration and duration > float(length) + 1e-6:
            self.add_error(
                "duration",
                f"The output cannot be longer than the part chosen ({float(length):g} s).",
            )
        return data


def watermark_refusal(engine: About) -> str:
    return (
        f"{engine.label} cannot add its own AI mark, so this take cannot ask for one. "
        f"{engine.watermark_note}"
    )


def window_problem(clip: Clip, start: float, length: float) -> str | None:
    from studio.library.clips import video_info

    try:
        check_window(video_info(clip), start, length)
    except MediaRejected as rejected:
        return rejected.message
    return None


class AdoptTaskForm(forms.Form):
    """A task id pasted from the provider's dashboard (Modellix ids look like task-abc123)."""

    task_id = forms.RegexField(
        label="Task id from the provider's dashboard",
        regex=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$",
        max_length=120,
        strip=True,
        error_messages={
            "invalid": "A task id is 3 to 120 letters, digits, hyphens or underscores, as the "
            "provider's dashboard shows it.",
            "required": "Paste the task id from the provider's dashboard.",
        },
    )
