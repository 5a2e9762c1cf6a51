"""The parameters of an edit (wan2.7-videoedit's own), declared once with their limits.

One `EditParameters` value carries them from the form to the provider: the edit form's fields
are made from these declarations (studio.takes.forms.parameter_fields), a take stores them in fields
of the same names (Take.parameters), and each provider maps them onto its request
(Modellix.body, LocalEngine.prepare). Adding a parameter means a declaration here, a Take field
with its migration, and the providers' mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from typing import Any, get_type_hints

from django.db import models

CHOICE_FROM_LIST = "Select a valid choice from the list."
PROMPT_MAX = 5000
NEGATIVE_PROMPT_MAX = 500
MAX_SEED = 2_147_483_647


class Resolution(models.TextChoices):
    P720 = "720P", "720p"
    P1080 = "1080P", "1080p"


class Ratio(models.TextChoices):
    KEEP = "", "Keep the clip's"
    WIDE = "16:9", "16:9 landscape"
    TALL = "9:16", "9:16 portrait"
    SQUARE = "1:1", "1:1 square"
    CLASSIC = "4:3", "4:3"
    CLASSIC_TALL = "3:4", "3:4"


class AudioSetting(models.TextChoices):
    AUTO = "auto", "Let the model decide"
    ORIGIN = "origin", "Keep the original sound"


DURATIONS = ((0, "Same as the part chosen"), *((n, f"{n} seconds") for n in range(2, 11)))


@dataclass(frozen=True)
class Declared:
    """How one parameter is asked for, checked and named (its default is the field's)."""

    label: str  # on the edit form
    short: str  # where takes are compared
    help: str = ""
    rows: int = 0  # asked in a text area of this many rows
    max_length: int | None = None
    choices: tuple[tuple[Any, str], ...] = ()
    invalid_choice: str = CHOICE_FROM_LIST  # never echoes the value sent, which may be huge
    min_value: int | None = None
    max_value: int | None = None


def declare(default: Any = MISSING, **how: Any) -> Any:
    return field(default=default, metadata={"declared": Declared(**how)})


@dataclass(frozen=True)
class EditParameters:
    """What is asked of the model, as sent. An empty value ("", None) is left out of requests,
    so the provider's default applies; a seed of None is picked at random when a take is made."""

    prompt: str = declare(
        label="What should change?",
        short="Prompt",
        help="Chinese or English, up to 5000 characters.",
        rows=4,
        max_length=PROMPT_MAX,
    )
    negative_prompt: str = declare(
        "",
        label="What to avoid (optional)",
        short="Avoid",
        help="Up to 500 characters, e.g. “blurry, distorted”.",
        rows=2,
        max_length=NEGATIVE_PROMPT_MAX,
    )
    resolution: str = declare(
        Resolution.P1080.value, label="Resolution", short="Resolution", choices=Resolution.choices
    )
    ratio: str = declare(
        Ratio.KEEP.value, label="Aspect ratio", short="Aspect ratio", choices=Ratio.choices
    )
    duration: int = declare(
        0,
        label="Output length",
        short="Output length",
        choices=DURATIONS,
        invalid_choice="Select a valid choice: the part's own length, or 2 to 10 s.",
    )
    audio_setting: str = declare(
        AudioSetting.AUTO.value, label="Sound", short="Sound", choices=AudioSetting.choices
    )
    prompt_extend: bool = declare(
        True,
        label="Let the model expand the prompt",
        short="Prompt expansion",
        help="Improves short prompts; takes a little longer.",
    )
    watermark: bool = declare(
        False,
        label="Ask the provider to add its own AI mark",
        short="Provider's AI mark",
        help="The provider writes its own small “AI生成” mark into the picture, bottom-right.",
    )
    seed: int | None = declare(
        None,
        label="Seed (optional)",
        short="Seed",
        help="Leave empty for a random one; it is recorded so the take can be repeated.",
        min_value=0,
        max_value=MAX_SEED,
    )

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def declared(cls) -> dict[str, Field[Any]]:
        """Every parameter's dataclass field, in order; its metadata["declared"] says how."""
        return {spec.name: spec for spec in fields(cls)}

    @classmethod
    def kind(cls, name: str) -> Any:
        """The parameter's type: str, int, bool or int | None."""
        return get_type_hints(cls)[name]

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(cls.declared())

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> EditParameters:
        """The parameters among `values` (a form's cleaned data, a take's fields, a job file)."""
        return cls(**{name: values[name] for name in cls.names() if name in values})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sent(self) -> dict[str, Any]:
        """The values a request carries: every parameter but the empty ones, and the provider's
        own AI mark only when asked (providers without it never see the name)."""
        return {
            name: value
            for name, value in asdict(self).items()
            if value not in ("", None) and not (name == "watermark" and not value)
        }

    def problems(self) -> list[str]:
        """What breaks a declared limit (the form says the same next to each field)."""
        found = []
        for name, spec in self.declared().items():
            how: Declared = spec.metadata["declared"]
            value = getattr(self, name)
            if value is None or value == "":
                continue  # left out of requests (the prompt is checked below)
            if how.max_length is not None and len(value) > how.max_length:
                found.append(f"{name} is longer than {how.max_length} characters")
            if how.choices and value not in {choice for choice, _ in how.choices}:
                found.append(f"{name} is not one of the choices")
            if how.min_value is not None and value < how.min_value:
                found.append(f"{name} is below {how.min_value}")
            if how.max_value is not None and value > how.max_value:
                found.append(f"{name} is above {how.max_value}")
        if not self.prompt.strip():
            found.append("prompt is empty")
        return found
