"""The edit form: every parameter validated as the provider does, with clear messages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studio.models import MediaState, Reference, Take
from studio.ops import health
from tests.conftest import post_take, upload_clip
from tests.samples import make_image

pytestmark = pytest.mark.django_db


def refs(project, count: int) -> list[Reference]:
    made = []
    for n in range(count):
        reference = Reference(project=project, original_name=f"r{n}.png", state=MediaState.READY)
        reference.image.save(
            f"r/{n}.png", SimpleUploadedFile("r.png", make_image(None)), save=False
        )
        reference.thumb.save(
            f"r/{n}.jpg", SimpleUploadedFile("r.jpg", make_image(None)), save=False
        )
        reference.save()
        made.append(reference)
    return made


def test_form_page_shows_the_clip_and_estimate(as_bob, clip):
    page = as_bob.get(reverse("take_new", args=[clip.code])).content.decode()
    assert 'id="window-video"' in page and "Estimated cost" in page
    assert "local engine" in page  # honest about what runs without an API key


def test_create_a_take(as_bob, bob, clip, project):
    chosen = refs(project, 2)
    response = post_take(
        as_bob, clip, seed="123", ratio="9:16", duration="3", references=[r.pk for r in chosen]
    )
    take = Take.objects.get()
    assert response.status_code == 302 and response.url == reverse("take_detail", args=[take.code])
    assert (take.start_ms, take.length_ms, take.duration, take.ratio) == (1000, 4000, 3, "9:16")
    assert take.seed == 123 and take.seed_was_chosen and take.created_by == bob
    assert list(take.references.order_by("takereference__position")) == chosen
    assert str(take.estimate_usd) == "0.3494"  # 3 s x 0.11645
    assert take.events.get().state == "queued"


def test_random_seed_is_recorded(as_bob, clip):
    post_take(as_bob, clip)
    take = Take.objects.get()
    assert 0 <= take.seed <= 2_147_483_647 and not take.seed_was_chosen


def test_prompt_counts_characters_not_bytes(as_bob, clip):
    assert post_take(as_bob, clip, prompt="粘" * 5000).status_code == 302  # 15000 bytes
    response = post_take(as_bob, clip, prompt="粘" * 5001)
    assert response.status_code == 400
    assert "at most 5000 characters (it has 5001)" in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"prompt": "   "}, "prompt", "This field is required."),
        ({"negative_prompt": "x" * 501}, "negative_prompt", "at most 500 characters"),
        ({"length": "11"}, "length", "less than or equal to 10"),
        ({"length": "1.5"}, "length", "greater than or equal to 2"),
        (
            {"start": "9", "length": "5"},
            "length",
            "ends at 14.0 s, after the clip&#x27;s end (12.0 s)",
        ),
        (
            {"duration": "5", "length": "3"},
            "duration",
            "cannot be longer than the part chosen (3 s)",
        ),
        ({"duration": "1"}, "duration", "Select a valid choice"),
        ({"resolution": "4K"}, "resolution", "Select a valid choice"),
        ({"ratio": "21:9"}, "ratio", "Select a valid choice"),
        ({"audio_setting": "mute"}, "audio_setting", "Select a valid choice"),
        ({"seed": "2147483648"}, "seed", "less than or equal to 2147483647"),
        ({"seed": "-1"}, "seed", "greater than or equal to 0"),
    ],
)
def test_invalid_parameters(as_bob, clip, fields, field, message):
    response = post_take(as_bob, clip, **fields)
    assert response.status_code == 400
    html = response.content.decode()
    error = html.split(f'id="id_{field}_error"', 1)[1].split("</ul>", 1)[0]
    assert message in error
    assert not Take.objects.exists()


def test_at_most_four_references(as_bob, clip, project):
    response = post_take(as_bob, clip, references=[r.pk for r in refs(project, 5)])
    assert "Choose at most 4 reference images" in response.content.decode()
    assert not Take.objects.exists()


def test_clip_that_cannot_conform(as_bob, project, samples):
    tall = upload_clip(as_bob, project, samples["tall.mp4"])
    assert not tall.is_editable
    response = as_bob.post(
        reverse("take_new", args=[tall.code]),
        {"prompt": "x", "start": "0", "length": "2", "resolution": "720P"},
        follow=True,
    )
    page = response.content.decode()
    assert "aspect ratio is about 1:12" in page
    assert reverse("take_new", args=[tall.code]) not in page  # no edit button on the clip page
    assert not Take.objects.exists()


def test_viewer_cannot_open_the_form(as_carol, clip):
    assert as_carol.get(reverse("take_new", args=[clip.code])).status_code == 403
    assert post_take(as_carol, clip).status_code == 403


def test_take_page_and_status_fragment(as_carol, as_bob, clip):
    post_take(as_bob, clip)
    take = Take.objects.get()
    health.beat()  # a worker runs, so the page talks about the queue
    page = as_carol.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "No take of your team is ahead of this one" in page and "data-pending" in page
    assert "Run again" not in page  # viewers look only
    fragment = as_carol.get(reverse("take_status", args=[take.code])).content.decode()
    assert fragment.lstrip().startswith('<div id="take-status"')


def test_cancel_and_run_again(as_bob, clip):
    post_take(as_bob, clip, seed="5")
    take = Take.objects.get()
    as_bob.post(reverse("take_cancel", args=[take.code]))
    take.refresh_from_db()
    assert take.state == "canceled"
    response = as_bob.post(reverse("take_again", args=[take.code]))
    again = Take.objects.exclude(pk=take.pk).get()
    assert response.url == reverse("take_detail", args=[again.code])
    assert again.seed == 5 and again.run_of == take


def test_remix_prefills_the_form(as_bob, clip, project):
    chosen = refs(project, 1)
    post_take(as_bob, clip, seed="99", prompt="neon rain", ratio="1:1", references=[chosen[0].pk])
    take = Take.objects.get()
    page = as_bob.get(reverse("take_new", args=[clip.code]) + f"?from={take.code}").content.decode()
    assert "neon rain</textarea>" in page and 'value="99"' in page
    assert 'value="1:1" selected' in page
    assert f'value="{chosen[0].pk}" checked' in page


def test_variations_differ_only_in_seed_and_show_their_cost(as_bob, clip, settings):
    post_take(as_bob, clip, seed="5", prompt="clay")
    take = Take.objects.get()
    assert str(take.estimate_usd) == "0.4658"  # 4 s x 0.11645
    page = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "3 variations · free (local engine)" in page  # the local engine costs nothing
    assert "<dt>Cost</dt><dd>free (local engine)</dd>" in page
    settings.STUDIO_PROVIDER = "modellix"
    page = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "3 variations · about 1.40 USD (estimate)" in page
    assert "0.4658" not in page and "1.3974" not in page
    as_bob.post(reverse("take_variations", args=[take.code]), {"count": "3"})
    made = Take.objects.exclude(pk=take.pk)
    assert made.count() == 3 and len({t.seed for t in made} | {take.seed}) == 4
    assert {t.prompt for t in made} == {"clay"} and all(not t.seed_was_chosen for t in made)
    too_many = as_bob.post(reverse("take_variations", args=[take.code]), {"count": "9"})
    assert too_many.status_code == 302
    assert Take.objects.count() == 4


def test_clip_page_lists_its_takes(as_carol, as_bob, clip):
    post_take(as_bob, clip, prompt="first idea")
    page = as_carol.get(reverse("clip_detail", args=[clip.code])).content.decode()
    assert "Versions of this clip" in page and "first idea" in page
