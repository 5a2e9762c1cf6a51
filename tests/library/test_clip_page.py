"""The clip page: its takes (the version stack, see tests/review/test_review_versions.py),
and clips too short to edit said so at upload time."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from studio.core.formatting import seconds
from studio.media.probe import human_duration
from studio.models import TakeState
from tests.conftest import upload_clip

pytestmark = pytest.mark.django_db


def test_clip_page_lists_its_takes_as_versions_with_state_prompt_seed_and_when(
    as_bob, project, samples, make_take
):
    clip = upload_clip(as_bob, project, samples["long.mp4"], name="harbour.mp4")
    done = make_take(clip=clip, prompt="clay harbour", seed=7, length_ms=4000)
    make_take(TakeState.QUEUED, clip=clip, prompt="neon harbour", seed=99)
    page = as_bob.get(reverse("clip_detail", args=[clip.code])).content.decode()
    # The tab title is the clip's name only, not a swallowed section of the page.
    assert re.search(r"<title>harbour\.mp4 · Cutroom</title>", page)
    section = page[page.index('id="clip-takes"') :]
    assert "Versions of this clip" in section
    assert "clay harbour" in section and "neon harbour" in section
    # Oldest first, numbered in the order they were made.
    assert section.index("clay harbour") < section.index("neon harbour")
    assert section.index(">v1<") < section.index(">v2<")
    assert ">7<" in section and ">99<" in section
    assert reverse("take_detail", args=[done.code]) in section
    assert "Done" in section and "Waiting for a free slot" in section
    # A take still being made keeps the list refreshing live, through its own partial.
    assert "data-pending" in page[page.index('id="clip-takes"') - 200 :][:600]
    partial = as_bob.get(reverse("clip_takes", args=[clip.code])).content.decode()
    assert "neon harbour" in partial and "<html" not in partial


@pytest.mark.parametrize("name", ["half.mp4", "one-frame.mp4", "short.mp4"])
def test_a_clip_too_short_to_edit_says_so_and_offers_no_edit(as_bob, project, samples, name):
    clip = upload_clip(as_bob, project, samples[name])
    assert clip.is_ready and not clip.is_editable
    assert "too short to edit" in clip.edit_problem
    assert " 0 seconds" not in clip.edit_problem
    page = as_bob.get(reverse("clip_detail", args=[clip.code])).content.decode()
    assert "too short to edit" in page
    assert reverse("take_new", args=[clip.code]) not in page
    assert "0.0 s" not in page and ">0 s<" not in page
    card = as_bob.get(reverse("project_detail", args=[project.code])).content.decode()
    assert "too short to edit" in card
    # Going to the form anyway leads back with the same reason, not a form that cannot pass.
    response = as_bob.get(reverse("take_new", args=[clip.code]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("clip_detail", args=[clip.code])
    assert "too short to edit" in response.content.decode()


def test_an_editable_clip_offers_the_edit_button(as_bob, project, samples):
    clip = upload_clip(as_bob, project, samples["long.mp4"])
    assert clip.is_editable and clip.edit_problem == ""
    page = as_bob.get(reverse("clip_detail", args=[clip.code])).content.decode()
    assert reverse("take_new", args=[clip.code]) in page


def test_short_lengths_are_never_printed_as_zero():
    assert human_duration(0.5) == "0.5 seconds"
    assert human_duration(1 / 30) == "0.03 seconds"
    assert human_duration(0.0001) == "0.01 seconds"
    assert seconds(0.5) == "0.50 s"
    assert seconds(1 / 24) == "0.04 s"
    assert seconds(12.5) == "12.5 s"
    assert seconds(4) == "4 s"
    assert seconds(860) == "14 min 20 s"
    assert seconds(None) == ""
