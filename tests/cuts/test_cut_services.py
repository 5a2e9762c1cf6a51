"""Cuts by step (studio/cuts/services.py): a cut of a clip, its windows on the source's frames,
each window's request with its handles, and every window edited at once, all or none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from studio.core.errors import Refused
from studio.cuts import services
from studio.cuts.models import CutWindow
from studio.governance import budgets
from studio.models import MediaState, Take, TakeState
from studio.takes.parameters import EditParameters
from tests.conftest import clip_row

pytestmark = pytest.mark.django_db

FPS = 25


@pytest.fixture
def long_clip(project):
    """A 40 s, 25 fps clip with hard shot cuts at 12 s and 27 s (a row: nothing decodes it)."""
    return clip_row(project, duration=40.0, fps=float(FPS), shot_cuts=[12.0, 27.0])


@pytest.fixture
def cut(long_clip, bob):
    return services.cut_create(clip=long_clip, author=bob, name="Clay version")


def on_frames(seconds: float) -> bool:
    return abs(seconds * FPS - round(seconds * FPS)) < 1e-6


def spans(cut) -> list[tuple[float, float]]:
    return [(w.start, w.end) for w in cut.windows.all()]


def test_a_cut_needs_a_name_of_its_own_and_a_ready_clip(long_clip, bob, cut):
    with pytest.raises(Refused, match="already has a cut called “Clay version”"):
        services.cut_create(clip=long_clip, author=bob, name="  Clay   version ")
    with pytest.raises(Refused, match="Give the cut a name"):
        services.cut_create(clip=long_clip, author=bob, name="   ")
    with pytest.raises(Refused, match="0 to 24 frames"):
        services.cut_create(clip=long_clip, author=bob, name="Winter", crossfade_frames=25)
    long_clip.state = MediaState.PROCESSING
    long_clip.save()
    with pytest.raises(Refused, match="not ready yet"):
        services.cut_create(clip=long_clip, author=bob, name="Winter")
    assert long_clip.cuts.count() == 1


def test_splitting_lays_windows_on_the_shot_cuts(cut):
    made = services.cut_windows_split(cut=cut)
    assert spans(cut) == [(w.start, w.end) for w in made]
    edges = [w.start for w in made] + [made[-1].end]
    assert edges[0] == 0.0 and edges[-1] == 40.0
    assert 12.0 in edges and 27.0 in edges
    assert all(2.0 <= w.end - w.start <= 10.0 and on_frames(w.start) for w in made)
    assert all(a.end == b.start for a, b in zip(made, made[1:], strict=False))


def test_splitting_again_replaces_only_windows_without_takes(cut, bob):
    services.cut_windows_split(cut=cut)
    first = cut.windows.first()
    services.cut_takes_create(
        cut=cut, author=bob, parameters=EditParameters(prompt="clay"), windows=[first]
    )
    with pytest.raises(Refused, match="already has takes"):
        services.cut_windows_split(cut=cut)
    # A part of the clip away from it can be laid out again.
    services.cut_windows_split(cut=cut, start=12.0, end=40.0)
    assert cut.windows.filter(pk=first.pk).exists()


def test_a_drawn_window_snaps_to_frames_and_never_overlaps(cut):
    window = services.window_add(cut=cut, start=1.013, end=5.49)
    assert (window.start, window.end) == (1.0, 5.48)
    with pytest.raises(Refused, match="cannot overlap"):
        services.window_add(cut=cut, start=5.0, end=9.0)
    with pytest.raises(Refused, match="2 to 10 seconds long; this one would be"):
        services.window_add(cut=cut, start=6.0, end=7.0)
    with pytest.raises(Refused, match="2 to 10 seconds"):
        services.window_add(cut=cut, start=6.0, end=17.0)
    services.window_move(window=window, start=2.0, end=6.0)
    window.refresh_from_db()
    assert (window.start, window.end) == (2.0, 6.0)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (12.0, 18.0, (11.0, 8.0)),  # a second of source on each side
        (0.0, 6.0, (0.0, 7.0)),  # none before the clip's start
        (36.0, 40.0, (35.0, 5.0)),  # none after its end
        (12.0, 21.0, (11.52, 10.0)),  # 9 s: half a second each on the frame grid, 10 s in all
        (12.0, 22.0, (12.0, 10.0)),  # 10 s: no room for handles
        (0.0, 9.0, (0.0, 10.0)),  # what the start cannot use, the end does
    ],
)
def test_a_window_is_sent_with_handles_within_ten_seconds(cut, start, end, expected):
    window = services.window_add(cut=cut, start=start, end=end)
    sent = services.window_request(window)
    assert (sent.start, round(sent.length, 6)) == expected
    assert sent.length <= 10.0 and on_frames(sent.start) and on_frames(sent.start + sent.length)
    assert round(sent.before + window.length + sent.after, 6) == round(sent.length, 6)


def test_every_window_is_edited_at_once_in_the_sources_shape(cut, bob, settings):
    settings.STUDIO_PROVIDER = "modellix"
    services.cut_windows_split(cut=cut)
    parameters = EditParameters(prompt="clay", resolution="720P", ratio="9:16", duration=5)
    takes = services.cut_takes_create(cut=cut, author=bob, parameters=parameters)
    windows = list(cut.windows.all())
    assert [t.window_id for t in takes] == [w.pk for w in windows]
    assert len({t.batch for t in takes}) == 1
    for take, window in zip(takes, windows, strict=True):
        sent = services.window_request(window)
        assert (take.start_ms, take.length_ms) == (
            round(sent.start * 1000),
            round(sent.length * 1000),
        )
        assert take.duration == 0 and take.ratio == ""  # the whole request, the source's shape
        assert take.state == TakeState.QUEUED and take.prompt == "clay"
    assert sum(t.reserved_usd for t in takes) > 0


def test_windows_are_reserved_all_or_none(cut, bob, team, settings):
    settings.STUDIO_PROVIDER = "modellix"
    services.cut_windows_split(cut=cut)
    one = services.window_request(cut.windows.first())
    # Room for a window or two, not for all six.
    team.budget_usd = Decimal("0.05") * Decimal(str(one.length)) * 2
    team.save()
    with pytest.raises(budgets.OverBudget, match="these 6 windows"):
        services.cut_takes_create(cut=cut, author=bob, parameters=EditParameters(prompt="clay"))
    assert not Take.objects.exists()


def test_a_window_can_have_its_own_prompt(cut, bob):
    services.cut_windows_split(cut=cut)
    first, second = cut.windows.all()[:2]
    takes = services.cut_takes_create(
        cut=cut,
        author=bob,
        parameters=EditParameters(prompt="clay"),
        windows=[first, second],
        overrides={second.pk: EditParameters(prompt="winter")},
    )
    assert [t.prompt for t in takes] == ["clay", "winter"]


def test_only_a_finished_take_of_the_window_is_chosen(cut, bob):
    services.cut_windows_split(cut=cut)
    first, second = cut.windows.all()[:2]
    (take,) = services.cut_takes_create(
        cut=cut, author=bob, parameters=EditParameters(prompt="clay"), windows=[first]
    )
    with pytest.raises(Refused, match="Only a finished take"):
        services.window_choose(window=first, take=take)
    Take.objects.filter(pk=take.pk).update(state=TakeState.SUCCEEDED)
    take.refresh_from_db()
    with pytest.raises(Refused, match="not made for this window"):
        services.window_choose(window=second, take=take)
    services.window_choose(window=first, take=take)
    assert CutWindow.objects.get(pk=first.pk).chosen == take
    # A window with takes moves only within what its takes cover.
    services.window_remove(window=second)
    with pytest.raises(Refused, match="would have no edit there"):
        services.window_move(window=first, start=first.start + 3, end=first.end + 3)
    services.window_remove(window=first)
    take.refresh_from_db()
    assert take.window is None and take.state == TakeState.SUCCEEDED


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0:00.00"),
        (4.0, "0:04.00"),
        (72.48, "1:12.48"),
        (3723.5, "1:02:03.50"),
        (9.999, "0:10.00"),
    ],
)
def test_points_on_the_timeline_are_timecodes(seconds, shown):
    from studio.core.formatting import timecode

    assert timecode(seconds) == shown
