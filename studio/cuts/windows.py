"""Proposed windows: "Split the clip into windows" for a cut.

The provider edits 2-10 s at a time, so a cut covers the clip (or the part of it the person
chose) with windows that follow each other without gaps. The proposal puts window edges on the
clip's shot cuts, so that the joins fall where the picture changes anyway and no window asks the
model to carry motion across a cut, and splits each shot longer than 10 s into the fewest equal
windows (a 23 s shot: three windows of 7.67 s, not 10 + 10 + 3). Every edge is on a frame
boundary of the source.

A shot shorter than 2 s cannot be a window of its own: it joins the shots after it until the
window is long enough (the last one joins the window before it). Such a window crosses a cut,
and says so (`Window.cuts`) so that the page can warn. Joining forward as soon as the window is
long enough gives the fewest windows that cross a cut.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from studio.media.inputs import MAX_SECONDS, MIN_SECONDS
from studio.media.probe import human_duration

EPSILON = 1e-6  # seconds of float rounding forgiven when comparing lengths


@dataclass(frozen=True)
class Window:
    """[start, end) in seconds on the clip's timeline, both on frame boundaries."""

    start: float
    end: float
    cuts: tuple[float, ...] = ()  # the shot cuts inside the window (it crosses them)

    @property
    def length(self) -> float:
        return self.end - self.start

    @property
    def crosses_cut(self) -> bool:
        return bool(self.cuts)


@dataclass(frozen=True)
class Proposal:
    windows: tuple[Window, ...]
    reason: str = ""  # why there are no windows


def frame_rate(fps: float) -> Fraction:
    """The exact rate behind a probed (rounded) one: 29.97 is 30000/1001, 25.0 is 25."""
    if abs(fps - round(fps)) < 0.001:
        return Fraction(round(fps))
    ntsc = round(fps * 1.001)
    if abs(fps - ntsc / 1.001) < 0.001:
        return Fraction(ntsc * 1000, 1001)
    return Fraction(fps).limit_denominator(1001)


class FrameGrid:
    """The frame boundaries of a clip: index k is where frame k starts; the last is its end."""

    def __init__(
        self, *, duration: float, fps: float | None, frame_times: Sequence[float] | None = None
    ) -> None:
        self.rate: Fraction | None = None
        self.times: list[float] = []
        if frame_times:
            times = sorted(set(frame_times))
            step = times[-1] - times[-2] if len(times) > 1 else 1 / (fps or 25)
            end = duration if duration > times[-1] + EPSILON else times[-1] + step
            self.times = [*times, end]
            self.last = len(times)
        elif fps and fps > 0:
            self.rate = frame_rate(fps)
            self.last = max(1, round(duration * self.rate))
        else:
            raise ValueError("windows_propose needs the clip's frame rate or its frame times")

    def time(self, index: int) -> float:
        if self.rate is not None:
            return float(index / self.rate)
        return self.times[index]

    def nearest(self, at: float) -> int:
        """The index of the frame boundary nearest to `at` (seconds); halfway goes later."""
        if self.rate is not None:
            return min(self.last, max(0, math.floor(at * self.rate + Fraction(1, 2))))
        right = min(self.last, bisect_left(self.times, at))
        if right > 0 and at - self.times[right - 1] < self.times[right] - at:
            return right - 1
        return right


def windows_propose(
    *,
    duration: float,
    shot_cuts: Sequence[float] | None,
    fps: float | None,
    start: float = 0.0,
    end: float | None = None,
    frame_times: Sequence[float] | None = None,
    longest: float = MAX_SECONDS,
    shortest: float = MIN_SECONDS,
) -> Proposal:
    """Windows covering [start, end) of a clip (end None: its end), each shortest-longest s.

    `shot_cuts` are the clip's cut times (None when unknown: the windows are then only even);
    `fps` its frame rate, or `frame_times` the start of each of its frames (variable frame rate).
    """
    if longest < 2 * shortest:
        raise ValueError("a long shot can only be split evenly if longest >= 2 * shortest")
    grid = FrameGrid(duration=duration, fps=fps, frame_times=frame_times)
    first = grid.nearest(max(0.0, start))
    last = grid.last if end is None or end >= duration else grid.nearest(end)
    span = grid.time(last) - grid.time(first) if last > first else 0.0
    if span <= 0:
        return Proposal((), "The part of the clip to split ends where it starts.")
    if span < shortest - EPSILON:
        what = "This clip" if start <= 0 and end is None else "This part of the clip"
        return Proposal(
            (),
            f"{what} is {human_duration(span)} long; a window needs at least {shortest:g} seconds.",
        )
    cuts = sorted({index for index in map(grid.nearest, shot_cuts or ()) if first < index < last})
    windows: list[Window] = []
    for low, high, inside in _groups(grid, first, last, cuts, shortest):
        edges = _even_edges(grid, low, high, longest, shortest)
        for left, right in zip(edges, edges[1:], strict=False):
            crossed = tuple(grid.time(cut) for cut in inside if left < cut < right)
            windows.append(Window(grid.time(left), grid.time(right), crossed))
    return Proposal(tuple(windows))


def _groups(
    grid: FrameGrid, first: int, last: int, cuts: list[int], shortest: float
) -> list[tuple[int, int, list[int]]]:
    """Shots joined until each is at least `shortest`: (start, end, cuts inside) in frames."""
    groups: list[tuple[int, int, list[int]]] = []
    low, inside = first, list[int]()
    for cut in cuts:
        if grid.time(cut) - grid.time(low) >= shortest - EPSILON:
            groups.append((low, cut, inside))
            low, inside = cut, []
        else:
            inside.append(cut)
    if groups and grid.time(last) - grid.time(low) < shortest - EPSILON:
        before, _, crossed = groups.pop()
        groups.append((before, last, [*crossed, low, *inside]))
    else:
        groups.append((low, last, inside))
    return groups


def _even_edges(grid: FrameGrid, low: int, high: int, longest: float, shortest: float) -> list[int]:
    """The edges of the fewest near-equal windows, each within [shortest, longest], that cover
    frames low..high (given high - low lasts at least `shortest`)."""
    length = grid.time(high) - grid.time(low)
    count = max(1, math.ceil(length / longest - EPSILON))
    while True:
        edges = [
            low,
            *(grid.nearest(grid.time(low) + length * i / count) for i in range(1, count)),
            high,
        ]
        sizes = [grid.time(b) - grid.time(a) for a, b in zip(edges, edges[1:], strict=False)]
        if all(shortest - EPSILON <= size <= longest + EPSILON for size in sizes):
            return edges
        # Rounding to frames made one window a frame too long (or a frame of variable rate too
        # coarse): one more window is still well above `shortest` (longest >= 2 * shortest).
        count += 1
        if count > high - low:
            raise ValueError("no even split of this shot fits the frame grid")
