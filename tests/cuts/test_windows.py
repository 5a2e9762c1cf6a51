"""Proposed windows (studio/cuts/windows.py): 2-10 s each, back to back over the whole range, on
frame boundaries, with edges on shot cuts wherever a valid split allows one."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from studio.cuts.windows import FrameGrid, Window, frame_rate, windows_propose

RATES = [23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0, 12.0]
policy = hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def spans(windows: tuple[Window, ...]) -> list[tuple[float, float]]:
    return [(round(w.start, 3), round(w.end, 3)) for w in windows]


def on_grid(at: float, fps: float) -> bool:
    frames = at * frame_rate(fps)
    return abs(float(frames) - round(frames)) < 1e-6


def test_the_40_s_clip_with_two_cuts_gets_six_windows_on_its_shots():
    proposal = windows_propose(duration=40.0, shot_cuts=[12.0, 27.0], fps=25)
    # 12 s, 15 s and 13 s shots, each split in two equal halves (19.5 s is between frames 487
    # and 488: halfway goes to the later one).
    assert spans(proposal.windows) == [
        (0.0, 6.0),
        (6.0, 12.0),
        (12.0, 19.52),
        (19.52, 27.0),
        (27.0, 33.52),
        (33.52, 40.0),
    ]
    assert not any(w.crosses_cut for w in proposal.windows)
    assert proposal.reason == ""


def test_a_long_shot_is_split_evenly_not_ten_ten_and_the_rest():
    proposal = windows_propose(duration=23.0, shot_cuts=[], fps=25)
    assert spans(proposal.windows) == [(0.0, 7.68), (7.68, 15.32), (15.32, 23.0)]


@pytest.mark.parametrize(
    ("length", "count"), [(2.0, 1), (10.0, 1), (10.04, 2), (20.0, 2), (20.04, 3), (61.0, 7)]
)
def test_the_fewest_windows_of_a_shot(length: float, count: int):
    windows = windows_propose(duration=length, shot_cuts=None, fps=25).windows
    assert len(windows) == count
    frames = [round(w.length * 25) for w in windows]
    assert max(frames) - min(frames) <= 1


@pytest.mark.parametrize(
    ("duration", "start", "end", "reason"),
    [
        (1.5, 0.0, None, "This clip is 1.5 seconds long; a window needs at least 2 seconds."),
        (0.04, 0.0, None, "This clip is 0.04 seconds long; a window needs at least 2 seconds."),
        (30.0, 5.0, 6.0, "This part of the clip is 1 second long; a window needs at least 2"),
        (30.0, 8.0, 8.0, "The part of the clip to split ends where it starts."),
        (30.0, 9.0, 8.0, "The part of the clip to split ends where it starts."),
        (30.0, 29.0, None, "This part of the clip is 1 second long"),
    ],
)
def test_too_short_for_a_window(duration, start, end, reason):
    proposal = windows_propose(duration=duration, shot_cuts=[], fps=25, start=start, end=end)
    assert proposal.windows == ()
    assert proposal.reason.startswith(reason)


def test_a_clip_of_exactly_two_seconds_is_one_window():
    assert spans(windows_propose(duration=2.0, shot_cuts=[1.0], fps=25).windows) == [(0.0, 2.0)]


def test_a_short_shot_joins_the_next_and_the_window_says_it_crosses_the_cut():
    # Shots of 9, 1 and 9 s: the 1 s shot cannot stand alone.
    proposal = windows_propose(duration=19.0, shot_cuts=[9.0, 10.0], fps=25)
    assert spans(proposal.windows) == [(0.0, 9.0), (9.0, 19.0)]
    assert [w.cuts for w in proposal.windows] == [(), (10.0,)]
    assert [w.crosses_cut for w in proposal.windows] == [False, True]


def test_a_short_last_shot_joins_the_window_before_it():
    proposal = windows_propose(duration=19.0, shot_cuts=[9.0, 18.0], fps=25)
    assert spans(proposal.windows) == [(0.0, 9.0), (9.0, 19.0)]
    assert proposal.windows[1].cuts == (18.0,)


def test_a_short_first_shot_joins_the_second():
    proposal = windows_propose(duration=12.0, shot_cuts=[0.6, 4.0], fps=25)
    assert spans(proposal.windows) == [(0.0, 4.0), (4.0, 12.0)]
    assert proposal.windows[0].cuts == (0.6,)


def test_a_range_of_the_clip():
    proposal = windows_propose(duration=40.0, shot_cuts=[12.0, 27.0], fps=25, start=5, end=25)
    assert spans(proposal.windows) == [(5.0, 12.0), (12.0, 18.52), (18.52, 25.0)]


def test_cuts_outside_the_range_and_on_its_edges_are_ignored():
    proposal = windows_propose(duration=40.0, shot_cuts=[1.0, 5.0, 39.0], fps=25, start=5, end=13)
    assert spans(proposal.windows) == [(5.0, 13.0)] and not proposal.windows[0].crosses_cut


def test_without_known_cuts_the_windows_are_only_even():
    assert len(windows_propose(duration=30.0, shot_cuts=None, fps=25).windows) == 3


def test_ntsc_rates_use_their_exact_frame_grid():
    assert frame_rate(29.97) == Fraction(30000, 1001)
    assert frame_rate(23.976) == Fraction(24000, 1001)
    assert frame_rate(59.94) == Fraction(60000, 1001)
    assert frame_rate(25.0) == 25 and frame_rate(12.5) == Fraction(25, 2)
    windows = windows_propose(duration=60.06, shot_cuts=[], fps=29.97).windows
    assert windows[-1].end == pytest.approx(1800 * 1001 / 30000)
    for window in windows:
        assert on_grid(window.start, 29.97) and on_grid(window.end, 29.97)


def test_variable_frame_rate_edges_are_frame_times():
    times = [0.0]
    for index in range(1, 400):  # 40 ms and 20 ms frames in turn
        times.append(times[-1] + (0.04 if index % 2 else 0.02))
    cut = times[123]
    proposal = windows_propose(
        duration=times[-1] + 0.02, shot_cuts=[cut + 0.001], fps=None, frame_times=times
    )
    edges = {w.start for w in proposal.windows} | {w.end for w in proposal.windows}
    assert cut in edges
    assert edges <= {*times, times[-1] + 0.02}
    assert all(2.0 <= w.length <= 10.0 for w in proposal.windows)


def test_limits_that_cannot_split_evenly_are_refused():
    with pytest.raises(ValueError):
        windows_propose(duration=30.0, shot_cuts=[], fps=25, shortest=3.0, longest=5.0)
    with pytest.raises(ValueError):
        windows_propose(duration=30.0, shot_cuts=[], fps=None)


# Properties, over any clip, frame rate, range and cuts.
@st.composite
def clips(draw, max_duration: float = 180.0, rates=RATES):
    fps = draw(st.sampled_from(rates))
    duration = draw(st.floats(0.0, max_duration, allow_nan=False))
    # Cuts as detected: on frames, anywhere (clustered ones too), maybe outside the range.
    frames = draw(st.lists(st.integers(-5, int(duration * fps) + 5), max_size=25))
    cuts = [max(0, frame) / float(frame_rate(fps)) for frame in frames]
    start = draw(st.one_of(st.just(0.0), st.floats(0.0, max(0.0, duration), allow_nan=False)))
    end = draw(st.one_of(st.none(), st.floats(start, max(start, duration), allow_nan=False)))
    return fps, duration, cuts, start, end


def expected_range(duration, fps, start, end) -> tuple[int, int]:
    grid = FrameGrid(duration=duration, fps=fps)
    last = grid.last if end is None or end >= duration else grid.nearest(end)
    return grid.nearest(start), last


@policy
@given(clips())
def test_windows_cover_the_range_back_to_back_within_limits_on_frames(clip):
    fps, duration, cuts, start, end = clip
    proposal = windows_propose(duration=duration, shot_cuts=cuts, fps=fps, start=start, end=end)
    grid = FrameGrid(duration=duration, fps=fps)
    first, last = expected_range(duration, fps, start, end)
    span = grid.time(last) - grid.time(first) if last > first else 0.0
    if span < 2.0 - 1e-6:
        assert proposal.windows == () and proposal.reason
        return
    windows = proposal.windows
    assert windows and proposal.reason == ""
    assert windows[0].start == grid.time(first) and windows[-1].end == grid.time(last)
    for before, after in zip(windows, windows[1:], strict=False):
        assert before.end == after.start
    for window in windows:
        assert 2.0 - 1e-6 <= window.length <= 10.0 + 1e-6
        assert on_grid(window.start, fps) and on_grid(window.end, fps)


@policy
@given(clips())
def test_every_cut_in_range_is_an_edge_or_a_crossing_a_short_shot_forced(clip):
    fps, duration, cuts, start, end = clip
    proposal = windows_propose(duration=duration, shot_cuts=cuts, fps=fps, start=start, end=end)
    if not proposal.windows:
        return
    grid = FrameGrid(duration=duration, fps=fps)
    first, last = expected_range(duration, fps, start, end)
    inside = sorted({grid.nearest(at) for at in cuts if first < grid.nearest(at) < last})
    edges = {grid.nearest(w.start) for w in proposal.windows}
    crossed = {grid.nearest(at) for w in proposal.windows for at in w.cuts}
    assert edges.isdisjoint(crossed)
    assert crossed <= set(inside) <= edges | crossed
    for window in proposal.windows:  # each window lists exactly the cuts inside it
        assert all(window.start < at < window.end for at in window.cuts)
    bounds = [first, *inside, last]
    for cut in crossed:  # only a shot under 2 s beside it can force a window across a cut
        at = bounds.index(cut)
        shots = [
            grid.time(bounds[at]) - grid.time(bounds[at - 1]),
            grid.time(bounds[at + 1]) - grid.time(bounds[at]),
        ]
        assert min(shots) < 2.0 - 1e-6


def fewest_crossings(grid: FrameGrid, first: int, last: int, cuts: set[int]) -> int:
    """Brute force: the fewest cuts inside windows over every valid split of first..last."""
    best = [math.inf] * (last + 1)
    best[first] = 0
    for right in range(first + 1, last + 1):
        for left in range(first, right):
            length = grid.time(right) - grid.time(left)
            if 2.0 - 1e-6 <= length <= 10.0 + 1e-6 and best[left] < math.inf:
                crossed = sum(1 for cut in cuts if left < cut < right)
                best[right] = min(best[right], best[left] + crossed)
    return int(best[last])


@hsettings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clips(max_duration=40.0, rates=[4.0, 5.0, 8.0]))
def test_no_valid_split_crosses_fewer_cuts(clip):
    fps, duration, cuts, start, end = clip
    proposal = windows_propose(duration=duration, shot_cuts=cuts, fps=fps, start=start, end=end)
    if not proposal.windows:
        return
    grid = FrameGrid(duration=duration, fps=fps)
    first, last = expected_range(duration, fps, start, end)
    inside = {grid.nearest(at) for at in cuts if first < grid.nearest(at) < last}
    crossed = sum(len(w.cuts) for w in proposal.windows)
    assert crossed == fewest_crossings(grid, first, last, inside)


@policy
@given(st.sampled_from(RATES), st.floats(2.0, 600.0, allow_nan=False))
def test_a_shot_gets_the_fewest_equal_windows(fps, duration):
    windows = windows_propose(duration=duration, shot_cuts=[], fps=fps).windows
    grid = FrameGrid(duration=duration, fps=fps)
    span = grid.time(grid.last)
    assert len(windows) in (math.ceil(span / 10.0 - 1e-6), math.ceil(span / 10.0 - 1e-6) + 1)
    frames = [round(w.length * float(frame_rate(fps))) for w in windows]
    assert max(frames) - min(frames) <= 1
