"""The cut pages as people use them: make a cut from the clip page, see its windows, lay them
out, edit every window at once (all or none against the budgets), choose a take per window;
and what a viewer may not do."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from studio.cuts import services
from studio.cuts.models import Cut
from studio.models import Take, TakeState
from tests.conftest import clip_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def long_clip(project):
    return clip_row(project, duration=40.0, fps=25.0, shot_cuts=[12.0, 27.0])


@pytest.fixture
def cut(long_clip, bob):
    made = services.cut_create(clip=long_clip, author=bob, name="Clay version")
    services.cut_windows_split(cut=made)
    return made


def page(client, cut) -> str:
    response = client.get(reverse("cut_detail", args=[cut.code]))
    assert response.status_code == 200
    return response.content.decode()


def edit(client, cut, windows=None, **fields):
    data = {
        "prompt": "Turn the scene into clay",
        "resolution": "720P",
        "audio_setting": "auto",
        "prompt_extend": "on",
        "seed": "",
        "negative_prompt": "",
        "windows": [str(w.pk) for w in (cut.windows.all() if windows is None else windows)],
    } | fields
    return client.post(reverse("cut_edit", args=[cut.code]), data)


def test_an_editor_makes_a_cut_from_the_clip_page(as_bob, long_clip):
    clip_page = as_bob.get(reverse("clip_detail", args=[long_clip.code])).content.decode()
    assert "Make the cut" in clip_page
    response = as_bob.post(
        reverse("cut_new", args=[long_clip.code]), {"name": "Winter", "crossfade_frames": "6"}
    )
    cut = Cut.objects.get(name="Winter")
    assert response.status_code == 302 and response["Location"] == f"/x/{cut.code}/"
    # The clip is split at once, with window edges on its shot cuts.
    edges = {w.start for w in cut.windows.all()} | {w.end for w in cut.windows.all()}
    assert {0.0, 12.0, 27.0, 40.0} <= edges
    again = as_bob.post(
        reverse("cut_new", args=[long_clip.code]),
        {"name": "winter", "crossfade_frames": "6"},
        follow=True,
    )
    assert "already has a cut called" in again.content.decode()


def test_the_page_shows_windows_handles_shot_cuts_and_the_price(as_bob, cut, settings):
    settings.STUDIO_PROVIDER = "modellix"
    text = page(as_bob, cut)
    assert text.count('data-start="') == cut.windows.count()
    assert 'data-at="12.000000"' in text and 'data-at="27.000000"' in text
    assert "All windows: about" in text and "all windows are sent, or none" in text
    assert "Edit the ticked windows" in text


def test_a_window_across_a_shot_cut_is_flagged(as_bob, long_clip, bob):
    cut = services.cut_create(clip=long_clip, author=bob, name="Across")
    services.window_add(cut=cut, start=10.0, end=15.0)
    assert "Crosses a shot cut at 0:12.00" in page(as_bob, cut)


def test_editing_every_window_queues_one_take_each(as_bob, cut):
    response = edit(as_bob, cut)
    assert response.status_code == 302
    takes = Take.objects.filter(window__cut=cut)
    assert takes.count() == cut.windows.count()
    assert all(t.state == TakeState.QUEUED and t.duration == 0 for t in takes)
    text = page(as_bob, cut)
    assert text.count("Waiting for a free slot") == cut.windows.count()


def test_over_budget_nothing_is_sent_and_the_form_stays(as_bob, cut, team, settings):
    settings.STUDIO_PROVIDER = "modellix"
    team.budget_usd = Decimal("0.20")
    team.save()
    response = edit(as_bob, cut, prompt="Snow everywhere")
    text = response.content.decode()
    assert response.status_code == 400
    assert "Snow everywhere" in text and f"these {cut.windows.count()} windows" in text
    assert not Take.objects.exists()


def test_a_form_with_no_window_ticked_or_no_prompt_says_why(as_bob, cut):
    none = edit(as_bob, cut, windows=[], prompt="clay")
    assert none.status_code == 400 and "Tick the windows to edit" in none.content.decode()
    empty = edit(as_bob, cut, prompt="  ")
    assert empty.status_code == 400 and "Describe the change you want" in empty.content.decode()
    assert not Take.objects.exists()


def test_windows_are_added_moved_and_removed_with_reasons(as_bob, long_clip, bob):
    cut = services.cut_create(clip=long_clip, author=bob, name="By hand")
    add = reverse("window_add", args=[cut.code])
    assert as_bob.post(add, {"start": "0", "end": "4"}).status_code == 302
    overlap = as_bob.post(add, {"start": "3", "end": "6"})
    assert overlap.status_code == 400 and "cannot overlap" in overlap.content.decode()
    short = as_bob.post(add, {"start": "10", "end": "11"})
    assert "2 to 10 seconds long" in short.content.decode()
    late = as_bob.post(add, {"start": "38", "end": "45"})
    assert "The clip is 40.00 s long" in late.content.decode()
    window = cut.windows.get()
    moved = as_bob.post(
        reverse("window_move", args=[cut.code, window.pk]), {"start": "1", "end": "5"}, follow=True
    )
    assert "Window moved" in moved.content.decode()
    window.refresh_from_db()
    assert (window.start, window.end) == (1.0, 5.0)
    as_bob.post(reverse("window_remove", args=[cut.code, window.pk]))
    assert not cut.windows.exists()


def test_a_finished_take_is_chosen_for_its_window(as_bob, cut):
    first = cut.windows.first()
    edit(as_bob, cut, windows=[first])
    take = Take.objects.get(window=first)
    Take.objects.filter(pk=take.pk).update(state=TakeState.SUCCEEDED)
    assert "Use</button>" in page(as_bob, cut)
    as_bob.post(reverse("window_choose", args=[cut.code, first.pk]), {"take": take.code})
    first.refresh_from_db()
    assert first.chosen == take
    stranger = as_bob.post(
        reverse("window_choose", args=[cut.code, first.pk]), {"take": "nope"}, follow=True
    )
    assert "was not made for this window" in stranger.content.decode()


def test_a_viewer_sees_the_cut_but_changes_nothing(as_carol, cut):
    text = page(as_carol, cut)
    assert "Edit the ticked windows" not in text and "Split the clip" not in text
    assert edit(as_carol, cut).status_code == 403
    assert not Take.objects.exists()
