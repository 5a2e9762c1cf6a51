"""The edit's parameters are declared once (studio/takes/parameters.py): the declarations make the
form's fields, match the take's fields, and every provider maps every one of them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from django import forms

from studio.models import Take
from studio.providers.base import EditRequest, Media
from studio.providers.local import engine as local
from studio.providers.modellix import Modellix
from studio.takes.forms import TakeForm, parameter_fields
from studio.takes.pages import DIFF_FIELDS
from studio.takes.parameters import MAX_SEED, EditParameters

# Every parameter set to a value that is not its default, nor empty.
EVERYTHING = EditParameters(
    prompt="把场景变成粘土风格 — clay",
    negative_prompt="blurry",
    resolution="720P",
    ratio="9:16",
    duration=3,
    audio_setting="origin",
    prompt_extend=False,
    watermark=True,
    seed=42,
)


def how(name: str):
    return EditParameters.declared()[name].metadata["declared"]


def test_the_example_sets_every_parameter_away_from_its_default():
    for name, spec in EditParameters.declared().items():
        assert getattr(EVERYTHING, name) != spec.default, name


def test_the_modellix_request_carries_every_parameter(tmp_path):
    video = tmp_path / "in.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypisom")
    client = Modellix(
        api_key="k", base_url="http://127.0.0.1:9", submit_path="/", media_mode="base64"
    )
    media = Media("input", "c", "file", video, "video/mp4", "in.mp4")
    body = client.body(EditRequest(EVERYTHING, media))
    # All but the provider's own AI mark, which Modellix does not offer (take_create refuses a
    # take asking for it there; the request never carries the name).
    sent = {k: v for k, v in EVERYTHING.as_dict().items() if k != "watermark"}
    assert {k: v for k, v in body.items() if k != "video_url"} == sent
    # Empty values are left out, so the model's defaults apply.
    plain = client.body(EditRequest(EditParameters(prompt="clay", seed=1), media))
    assert "negative_prompt" not in plain and "ratio" not in plain and plain["duration"] == 0


def test_the_local_engine_reads_back_every_parameter(tmp_path):
    media = Media(
        "input", "c", "file", tmp_path / "in.mp4", "video/mp4", "in.mp4", stored="in/c.mp4"
    )
    payload = local.LocalEngine().prepare(EditRequest(EVERYTHING, media))
    assert EditParameters.of(payload) == EVERYTHING


def test_the_form_asks_for_every_parameter_with_its_limits():
    fields = parameter_fields()
    assert list(fields) == list(EditParameters.names())
    assert fields["prompt"].max_length == how("prompt").max_length == 5000
    assert fields["negative_prompt"].max_length == how("negative_prompt").max_length == 500
    for name in ("resolution", "ratio", "duration", "audio_setting"):
        field = fields[name]
        assert isinstance(field, forms.ChoiceField)
        assert [c for c, _ in field.choices] == [c for c, _ in how(name).choices]
    assert (fields["seed"].min_value, fields["seed"].max_value) == (0, MAX_SEED)
    assert isinstance(fields["prompt_extend"], forms.BooleanField)
    assert fields["resolution"].initial == "1080P" and fields["prompt_extend"].initial is True


@pytest.mark.django_db
def test_the_form_gives_one_value_with_every_parameter(clip_for_form):
    data = {k: ("" if v is None else str(v)) for k, v in EVERYTHING.as_dict().items()}
    data["prompt_extend"] = ""  # an unticked box sends nothing
    data["watermark"] = ""  # neither the local engine nor Modellix offers it (test_watermark)
    form = TakeForm(data | {"start": "0", "length": "3"}, clip=clip_for_form)
    assert form.is_valid(), form.errors
    assert form.parameters == replace(EVERYTHING, watermark=False)
    empty_seed = TakeForm(data | {"start": "0", "length": "3", "seed": ""}, clip=clip_for_form)
    assert empty_seed.is_valid() and empty_seed.parameters.seed is None


def test_every_parameter_is_a_field_of_the_take_with_the_same_limits():
    for name in EditParameters.names():
        field = Take._meta.get_field(name)
        declared = how(name)
        if declared.max_length:
            assert field.max_length == declared.max_length, name
        if declared.choices and field.choices:
            assert [c for c, _ in field.choices] == [c for c, _ in declared.choices], name


def test_takes_are_compared_on_every_parameter():
    compared = [name for name, _ in DIFF_FIELDS]
    assert compared[: len(EditParameters.names())] == list(EditParameters.names())


@pytest.mark.parametrize(
    "change",
    [
        {"prompt": "  "},
        {"prompt": "x" * 5001},
        {"negative_prompt": "x" * 501},
        {"resolution": "4K"},
        {"ratio": "21:9"},
        {"duration": 1},
        {"audio_setting": "mute"},
        {"seed": -1},
        {"seed": MAX_SEED + 1},
    ],
)
def test_a_value_outside_its_limits_is_refused(change):
    with pytest.raises(ValueError, match=next(iter(change))):
        replace(EVERYTHING, **change)


@pytest.fixture
def clip_for_form(project):
    from studio.models import Clip, MediaState

    return Clip.objects.create(
        project=project,
        original_name="c.mp4",
        state=MediaState.READY,
        duration=8.0,
        width=1280,
        height=720,
        fps=30,
        container="mp4",
        video_codec="h264",
        source=str(Path("clips") / "c.mp4"),
    )
