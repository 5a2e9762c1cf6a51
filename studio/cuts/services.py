"""Cuts by step: make a cut, lay out its windows, edit every window at once, choose takes.

The rendering of a cut (studio/media/cut.py, a worker step) works from what these leave: the
windows in order, each with its chosen take, whose request covered the window and its handles.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from studio.core.errors import Refused
from studio.core.formatting import timecode
from studio.cuts.models import (
    CROSSFADE_FRAMES,
    HANDLE_SECONDS,
    MAX_CROSSFADE_FRAMES,
    Cut,
    CutWindow,
)
from studio.cuts.windows import EPSILON, FrameGrid, windows_propose
from studio.governance import budgets
from studio.library.models import Clip, MediaState, Reference
from studio.media.inputs import MAX_SECONDS, MIN_SECONDS
from studio.media.probe import human_duration
from studio.projects.services import ARCHIVED_NO_TAKES, project_is_archived
from studio.takes import create
from studio.takes.models import AudioSetting, Take, TakeState
from studio.takes.parameters import EditParameters


def cut_create(
    *, clip: Clip, author: User, name: str, crossfade_frames: int = CROSSFADE_FRAMES
) -> Cut:
    """A new cut of a ready clip, with no windows yet."""
    name = " ".join(name.split())[:80]
    if not name:
        raise Refused("Give the cut a name, such as “Clay version”.")
    if clip.state != MediaState.READY or not clip.duration:
        raise Refused("This clip is not ready yet; a cut can be made once it is.")
    if project_is_archived(clip.project):
        raise Refused(ARCHIVED_NO_TAKES)
    if not 0 <= crossfade_frames <= MAX_CROSSFADE_FRAMES:
        raise Refused(f"A crossfade is 0 to {MAX_CROSSFADE_FRAMES} frames long.")
    try:
        with transaction.atomic():
            return Cut.objects.create(
                project=clip.project,
                clip=clip,
                name=name,
                crossfade_frames=crossfade_frames,
                created_by=author,
            )
    except IntegrityError:
        raise Refused(
            f"This clip already has a cut called “{name}”; choose another name."
        ) from None


def _grid(clip: Clip) -> FrameGrid:
    return FrameGrid(duration=float(clip.duration or 0), fps=clip.fps, frame_times=None)


def frame_rate_of(clip: Clip) -> str:
    """The clip's exact frame rate as "numerator/denominator" ("30000/1001"), for the page's
    timeline to snap to the frames the server snaps to; "" when the clip has none."""
    rate = _grid(clip).rate if clip.fps else None
    return f"{rate.numerator}/{rate.denominator}" if rate else ""


def span_text(window: CutWindow) -> str:
    """Where a window is, as a person reads it: "0:04.00–0:10.00"."""
    return _at(window)


def cut_windows_split(*, cut: Cut, start: float = 0.0, end: float | None = None) -> list[CutWindow]:
    """Lay windows over the clip (or [start, end)) as `windows_propose` places them, on its shot
    cuts. Windows already there without takes give way; one with takes is never replaced."""
    clip = cut.clip
    proposal = windows_propose(
        duration=float(clip.duration or 0),
        shot_cuts=clip.shot_cuts,
        fps=clip.fps,
        start=start,
        end=end,
    )
    if not proposal.windows:
        raise Refused(proposal.reason)
    first, last = proposal.windows[0].start, proposal.windows[-1].end
    with transaction.atomic():
        in_the_way = list(
            cut.windows.select_for_update().filter(
                start__lt=last - EPSILON, end__gt=first + EPSILON
            )
        )
        kept = [window for window in in_the_way if window.takes.exists()]
        if kept:
            raise Refused(
                f"The window at {_at(kept[0])} already has takes, so it is not replaced. Split "
                "a part of the clip around it, or move that window first."
            )
        CutWindow.objects.filter(pk__in=[window.pk for window in in_the_way]).delete()
        made = CutWindow.objects.bulk_create(
            CutWindow(cut=cut, start=window.start, end=window.end) for window in proposal.windows
        )
        _touch(cut)
    return made


def window_add(*, cut: Cut, start: float, end: float) -> CutWindow:
    """A window drawn by a person, snapped to the source's frames."""
    start, end = _checked_span(cut, start, end, moving=None)
    with transaction.atomic():
        window = CutWindow.objects.create(cut=cut, start=start, end=end)
        _touch(cut)
    return window


def window_move(*, window: CutWindow, start: float, end: float) -> CutWindow:
    """Move or trim a window. A window with takes keeps them only while its takes still cover
    it with their handles: otherwise it is refused (make a new window instead)."""
    start, end = _checked_span(window.cut, start, end, moving=window)
    for take in window.takes.all():
        taken_from = take.start_ms / 1000
        if start < taken_from - EPSILON or end > taken_from + take.length_ms / 1000 + EPSILON:
            raise Refused(
                "This window's takes were made for the part at "
                f"{_at(window)}; a window moved past them would have no edit there. Add a new "
                "window for the new part instead."
            )
    with transaction.atomic():
        CutWindow.objects.filter(pk=window.pk).update(start=start, end=end)
        _touch(window.cut)
    window.refresh_from_db()
    return window


def window_remove(*, window: CutWindow) -> None:
    """The window goes; its takes stay in the clip's history (no longer in a window)."""
    with transaction.atomic():
        cut = window.cut
        window.delete()
        _touch(cut)


def _checked_span(
    cut: Cut, start: float, end: float, *, moving: CutWindow | None
) -> tuple[float, float]:
    grid = _grid(cut.clip)
    first, last = grid.nearest(max(0.0, start)), grid.nearest(end)
    start, end = grid.time(first), grid.time(last)
    if end - start < MIN_SECONDS - EPSILON or end - start > MAX_SECONDS + EPSILON:
        raise Refused(
            f"A window is {MIN_SECONDS:g} to {MAX_SECONDS:g} seconds long; this one would be "
            f"{human_duration(max(0.0, end - start))}."
        )
    others = cut.windows.filter(start__lt=end - EPSILON, end__gt=start + EPSILON)
    if moving is not None:
        others = others.exclude(pk=moving.pk)
    if (other := others.first()) is not None:
        raise Refused(
            f"Windows cannot overlap: this one would run into the window at {_at(other)}."
        )
    return start, end


@dataclass(frozen=True)
class Request:
    """The part of the clip sent for a window: the window with its handles."""

    start: float
    length: float
    before: float  # handle before the window's start (where the window starts in the take)
    after: float

    @property
    def end(self) -> float:
        return self.start + self.length


def window_request(window: CutWindow) -> Request:
    """Up to HANDLE_SECONDS of source before and after the window, the whole at most 10 s,
    clipped at the clip's ends; the handles are on the source's frames too."""
    clip = window.cut.clip
    grid = _grid(clip)
    room = max(0.0, MAX_SECONDS - window.length)
    before = min(HANDLE_SECONDS, room / 2, window.start)
    after = min(HANDLE_SECONDS, room - before, grid.time(grid.last) - window.end)
    # What one side cannot use (the clip's start or end), the other may.
    before = min(HANDLE_SECONDS, room - after, window.start)
    start = grid.time(grid.nearest(window.start - before))
    end = grid.time(grid.nearest(window.end + after))
    if end - start > MAX_SECONDS + EPSILON:  # snapping went over by a frame
        end = grid.time(grid.nearest(end) - 1)
    return Request(
        start=start, length=end - start, before=window.start - start, after=end - window.end
    )


def cut_takes_create(
    *,
    cut: Cut,
    author: User,
    parameters: EditParameters,
    references: list[Reference] | None = None,
    windows: list[CutWindow] | None = None,
    overrides: dict[int, EditParameters] | None = None,
) -> list[Take]:
    """One take per window (every window of the cut unless `windows`), all reserved against the
    budgets together: all of them are made, or none (budgets.OverBudget). A window's take edits
    its request (the window and its handles) whole, in the source's ratio; `overrides` gives a
    window (by id) its own parameters."""
    chosen = list(windows if windows is not None else cut.windows.all())
    if not chosen:
        raise Refused("This cut has no windows yet: split the clip into windows first.")
    if project_is_archived(cut.project):
        raise Refused(ARCHIVED_NO_TAKES)
    plans = []
    for window in chosen:
        own = (overrides or {}).get(window.pk, parameters)
        # The whole request is edited (duration 0), in the source's own shape.
        plans.append((window, window_request(window), replace(own, duration=0, ratio="")))
    price = sum(
        (create.estimate(own.resolution, request.length) for _, request, own in plans), Decimal(0)
    )
    what = "this window" if len(plans) == 1 else f"these {len(plans)} windows"
    made = []
    with budgets.budgets_reserve(
        project=cut.project,
        author=author,
        amount=price,
        provider=settings.STUDIO_PROVIDER,
        what=what,
    ):
        batch = secrets.token_urlsafe(8)
        for window, request, own in plans:
            take = create.take_create(
                project=cut.project,
                author=author,
                clip=cut.clip,
                parameters=own,
                start=request.start,
                length=request.length,
                references=references,
                batch=batch,
            )
            Take.objects.filter(pk=take.pk).update(window=window)
            take.window = window
            made.append(take)
        _touch(cut)
    return made


def window_choose(*, window: CutWindow, take: Take) -> None:
    """Make a finished take of this window the one the cut uses there."""
    if take.window_id != window.pk:
        raise Refused("That take was not made for this window.")
    if take.state != TakeState.SUCCEEDED:
        raise Refused("Only a finished take can be chosen for a window.")
    with transaction.atomic():
        # The take's own sound stays only while the chosen take has one.
        keep_sound = window.take_sound and not take_sound_problem(take)
        CutWindow.objects.filter(pk=window.pk).update(chosen=take, take_sound=keep_sound)
        _touch(window.cut)


def take_sound_problem(take: Take | None) -> str:
    """Why a window cannot use this take's sound ('' when it can): the take made a sound of its
    own only with audio_setting auto and when its result has a sound track."""
    if take is None:
        return "Choose a finished take for this window first: until then the source plays there."
    if take.audio_setting != AudioSetting.AUTO:
        return (
            "The chosen take kept the source's sound (its audio setting was “origin”), so it "
            "has no sound of its own; the cut uses the source's sound there."
        )
    if take.result_has_audio is False:
        return "The chosen take came back without a sound track; the cut uses the source's there."
    return ""


def window_settings_set(*, window: CutWindow, colour_match: bool, take_sound: bool) -> CutWindow:
    """A window's "match colour to the source" and "use the take's sound", which apply to its
    chosen take: refused (with the reason) when it has none, or no sound of its own."""
    chosen = window.chosen
    if colour_match and chosen is None:
        raise Refused(
            "Colour matching adjusts a window's take: choose a finished take for this window first."
        )
    if take_sound and (problem := take_sound_problem(chosen)):
        raise Refused(problem)
    with transaction.atomic():
        CutWindow.objects.filter(pk=window.pk).update(
            colour_match=colour_match, take_sound=take_sound
        )
        _touch(window.cut)
    window.colour_match, window.take_sound = colour_match, take_sound
    return window


def _touch(cut: Cut) -> None:
    Cut.objects.filter(pk=cut.pk).update(updated_at=timezone.now())


def _at(window: CutWindow) -> str:
    return f"{timecode(window.start)}–{timecode(window.end)}"
