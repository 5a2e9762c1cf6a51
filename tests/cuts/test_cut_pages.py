"""The cut pages as people use them: make a cut from the clip page, see its windows, lay them
out, edit every window at once (all or none against the budgets), choose a take per window;
and what a viewer may not do."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from studio.cuts import services
from studio.cuts.models import Cut
from studio.models import Take, TakeState
from studio.takes.parameters import EditParameters
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


# -- the timeline's endpoints, as the page's script calls them (Accept: application/json) -------

JSON = {"HTTP_ACCEPT": "application/json"}


def test_a_window_moves_and_is_added_with_json_answers(as_bob, long_clip, bob):
    cut = services.cut_create(clip=long_clip, author=bob, name="Dragged")
    add = as_bob.post(
        reverse("window_add", args=[cut.code]), {"start": "0.013", "end": "4.51"}, **JSON
    )
    assert add.status_code == 200
    body = add.json()
    window = cut.windows.get()
    # Snapped to the 25 fps frames, as the server always does.
    assert (window.start, window.end) == (0.0, 4.52)
    assert body["ok"] is True and body["window"]["id"] == window.pk
    assert (body["window"]["start"], body["window"]["end"]) == (0.0, 4.52)
    assert body["message"] == "Window added at 0:00.00–0:04.52."
    moved = as_bob.post(
        reverse("window_move", args=[cut.code, window.pk]), {"start": "1", "end": "6"}, **JSON
    )
    assert moved.status_code == 200 and moved.json()["window"]["end"] == 6.0
    assert "moved to 0:01.00–0:06.00" in moved.json()["message"]
    window.refresh_from_db()
    assert (window.start, window.end) == (1.0, 6.0)


def test_a_refused_move_answers_the_reason_and_where_the_window_stays(as_bob, long_clip, bob):
    cut = services.cut_create(clip=long_clip, author=bob, name="Refused")
    first = services.window_add(cut=cut, start=0.0, end=4.0)
    services.window_add(cut=cut, start=4.0, end=8.0)
    url = reverse("window_move", args=[cut.code, first.pk])
    overlap = as_bob.post(url, {"start": "2", "end": "6"}, **JSON)
    assert overlap.status_code == 400
    assert overlap.json()["ok"] is False and "cannot overlap" in overlap.json()["error"]
    assert overlap.json()["window"] == {
        "id": first.pk,
        "start": 0.0,
        "end": 4.0,
        "colour_match": False,
        "take_sound": False,
    }
    too_short = as_bob.post(url, {"start": "0", "end": "1.5"}, **JSON)
    assert "2 to 10 seconds long; this one would be" in too_short.json()["error"]
    bad = as_bob.post(url, {"start": "5", "end": "1"}, **JSON)
    assert bad.status_code == 400 and "The end comes after the start" in bad.json()["error"]
    added = as_bob.post(reverse("window_add", args=[cut.code]), {"start": "7", "end": "9"}, **JSON)
    assert added.status_code == 400 and "cannot overlap" in added.json()["error"]
    assert cut.windows.count() == 2
    first.refresh_from_db()
    assert (first.start, first.end) == (0.0, 4.0)


def test_a_window_with_takes_moves_only_within_them(as_bob, cut, bob):
    window, *others = cut.windows.all()
    for other in others:
        services.window_remove(window=other)
    services.cut_takes_create(
        cut=cut, author=bob, parameters=EditParameters(prompt="clay"), windows=[window]
    )
    url = reverse("window_move", args=[cut.code, window.pk])
    # Its take covers the window and up to a second after it: a trim inside still works.
    inside = as_bob.post(url, {"start": str(window.start), "end": str(window.end - 1)}, **JSON)
    assert inside.status_code == 200
    away = as_bob.post(url, {"start": "20", "end": "25"}, **JSON)
    assert away.status_code == 400 and "would have no edit there" in away.json()["error"]


def test_the_timeline_endpoints_keep_their_access_rules(as_carol, as_dave, cut):
    window = cut.windows.first()
    for url in (
        reverse("window_move", args=[cut.code, window.pk]),
        reverse("window_add", args=[cut.code]),
        reverse("window_settings", args=[cut.code, window.pk]),
    ):
        assert as_dave.post(url, {"start": "0", "end": "3"}, **JSON).status_code == 404
        assert as_carol.post(url, {"start": "0", "end": "3"}, **JSON).status_code == 403
        assert as_carol.get(url).status_code in (403, 405)
    window.refresh_from_db()
    assert window.start == 0.0


def finished_take(cut, bob, window, **fields):
    (take,) = services.cut_takes_create(
        cut=cut, author=bob, parameters=EditParameters(prompt="clay"), windows=[window]
    )
    Take.objects.filter(pk=take.pk).update(state=TakeState.SUCCEEDED, **fields)
    take.refresh_from_db()
    return take


def test_colour_and_sound_are_set_per_window_with_readable_refusals(as_bob, cut, bob):
    window = cut.windows.first()
    url = reverse("window_settings", args=[cut.code, window.pk])
    nothing = as_bob.post(url, {"colour_match": "on"}, **JSON)
    assert nothing.status_code == 400 and "choose a finished take" in nothing.json()["error"]
    take = finished_take(cut, bob, window, result_has_audio=True)
    services.window_choose(window=window, take=take)
    both = as_bob.post(url, {"colour_match": "on", "take_sound": "on"}, **JSON)
    assert both.status_code == 200 and both.json()["window"]["take_sound"] is True
    window.refresh_from_db()
    assert window.colour_match and window.take_sound
    # Choosing a take that kept the source's sound turns the take's sound off.
    origin = finished_take(cut, bob, window, audio_setting="origin", result_has_audio=True)
    services.window_choose(window=window, take=origin)
    window.refresh_from_db()
    assert window.colour_match and not window.take_sound
    refused = as_bob.post(url, {"colour_match": "on", "take_sound": "on"}, **JSON)
    assert refused.status_code == 400 and "kept the source's sound" in refused.json()["error"]
    assert refused.json()["window"]["take_sound"] is False
    silent = finished_take(cut, bob, window, result_has_audio=False)
    services.window_choose(window=window, take=silent)
    no_track = as_bob.post(url, {"take_sound": "on"})  # the plain form: back to the page
    assert no_track.status_code == 302
    text = as_bob.get(no_track["Location"]).content.decode()
    assert "came back without a sound track" in text
    off = as_bob.post(url, {}, **JSON)
    assert off.status_code == 200 and "the source&#x27;s sound" not in off.json()["message"]
    window.refresh_from_db()
    assert not window.colour_match and not window.take_sound


def test_the_page_shows_each_windows_version_stack_and_its_settings(as_bob, cut, bob):
    first, second = cut.windows.all()[:2]
    take = finished_take(cut, bob, first, result_has_audio=True)
    services.window_choose(window=first, take=take)
    finished_take(cut, bob, first)
    services.cut_takes_create(
        cut=cut, author=bob, parameters=EditParameters(prompt="snow"), windows=[second]
    )
    text = page(as_bob, cut)
    assert 'class="cut-window cut-stack-chosen' in text
    assert 'class="cut-window cut-stack-working' in text
    assert 'data-stack="2 takes, one chosen"' in text and 'data-stack="1 take, none chosen"' in text
    assert text.count("In the cut</strong>") == 1
    assert "Match colour to the source" in text and "Use the take's sound" in text
    # The second window has no chosen take: no boxes there, and why.
    assert text.count("Save for window") == 1
    assert "the take's sound apply to a take: choose one for this window first." in text
    assert 'role="slider"' in text and 'aria-hidden="true" data-' not in text


def test_a_viewer_sees_the_timeline_without_its_controls(as_carol, cut):
    text = page(as_carol, cut)
    assert 'role="slider"' not in text and "data-editable" not in text
    assert text.count('class="cut-window-body" href="#window-') == cut.windows.count()
    assert "Save for window" not in text


def test_the_page_draws_the_filmstrip_when_the_clip_has_one(as_bob, cut, long_clip):
    assert "data-filmstrip" not in page(as_bob, cut)  # a clip from before: a plain track
    long_clip.filmstrip.save("rows/filmstrip.jpg", ContentFile(b"\xff\xd8jpeg"), save=False)
    long_clip.filmstrip_tiles, long_clip.filmstrip_every = 20, 2.0
    long_clip.filmstrip_tile_width, long_clip.filmstrip_tile_height = 96, 54
    long_clip.save()
    text = page(as_bob, cut)
    url = reverse("media_file", args=["clip", long_clip.code, "filmstrip"])
    assert f'data-filmstrip="{url}"' in text and 'data-filmstrip-tiles="20"' in text
    assert 'data-rate="25/1"' in text


def test_a_window_can_be_edited_with_its_own_prompt(as_bob, cut):
    first, second = cut.windows.all()[:2]
    response = edit(
        as_bob,
        cut,
        windows=[first, second],
        **{f"prompt_{second.pk}": "  Snow on the ferry  ", f"prompt_{first.pk}": ""},
    )
    assert response.status_code == 302
    prompts = {t.window_id: t.prompt for t in Take.objects.filter(window__cut=cut)}
    assert prompts == {first.pk: "Turn the scene into clay", second.pk: "Snow on the ferry"}
    too_long = edit(as_bob, cut, **{f"prompt_{first.pk}": "x" * 6000})
    assert too_long.status_code == 400
    assert "Own prompt for window 1" in too_long.content.decode()
    assert Take.objects.count() == 2
