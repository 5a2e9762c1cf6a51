"""The plan of a cut: its windows checked against the source and their takes, before any
frame is written (see cut.py for what a cut is)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from av.video.frame import VideoFrame

from studio.media.cut_pictures import plane_stats, transfer_filter
from studio.media.probe import MediaRejected, VideoInfo, probe
from studio.media.transcode import open_video

RETIME_FRAMES = 3  # a take this many source frames off its length is stretched to fit ...
RETIME_SHARE = 0.05  # ... or this share of its window, whichever is more
ASPECT_TOLERANCE = 0.01
HANDLE_SECONDS = 1.0  # the source sent with a window on each side, where the clip has it
MAX_REQUEST_SECONDS = 10.0


class CutRefused(MediaRejected):
    """The cut cannot be rendered as asked; the message says why, for the person."""


@dataclass(frozen=True)
class Splice:
    """One window of a cut, on the source's timeline (seconds, on source frame boundaries)."""

    start: float
    end: float
    take: Path  # the chosen take's video: 30 fps, maybe another size, the source's aspect
    take_offset: float  # where the window's start falls in the take (its handle before)
    take_sound: bool = False  # the take's own sound for the window, not the source's
    colour_match: bool = False  # match the take's colour to the source on the handle frames
    # The take's handle after the window, in source seconds. None: how requests for a cut's
    # windows are made, HANDLE_SECONDS cut short by the clip's end and the provider's 10 s.
    handle_after: float | None = None
    # Burn the "AI-generated" label (studio.media.label) over the window and its crossfades.
    ai_label: bool = False


@dataclass
class Window:
    index: int
    splice: Splice
    take: VideoInfo
    stretch: float
    fade_in: int  # frames blended before the in-point
    fade_out: int  # frames blended after the out-point
    after: float = 0.0  # the take's handle after the window (source seconds)
    # Frames at the start of the window blended from the window before's handle into this
    # window's take, where two windows meet inside a shot (take to take, no source between).
    cross: int = 0
    look: tuple[str, str] | None = None


def _where(splice: Splice, index: int) -> str:
    return f"window {index + 1} ({splice.start:.1f}-{splice.end:.1f} s)"


def _check_take(splice: Splice, index: int, source: VideoInfo, sar: Fraction) -> VideoInfo:
    try:
        take = probe(splice.take, max_seconds=math.inf)
    except MediaRejected as error:
        raise CutRefused(
            f"The take for {_where(splice, index)} cannot be read: {error.message}"
        ) from None
    aspect = source.width * float(sar) / source.height
    if source.rotation in (90, 270):
        aspect = source.width / (source.height * float(sar))
    take_aspect = take.width / take.height
    if abs(take_aspect / aspect - 1) > ASPECT_TOLERANCE:
        raise CutRefused(
            f"The take for {_where(splice, index)} is {take.width}×{take.height} "
            f"({take_aspect:.2f}:1) but the clip is {aspect:.2f}:1; a cut needs takes in the "
            "clip's aspect ratio. Make the take again with the clip's ratio."
        )
    if splice.take_sound and not take.has_audio:
        raise CutRefused(
            f"The take for {_where(splice, index)} has no sound of its own; use the clip's sound "
            "there."
        )
    return take


def plan(
    source: VideoInfo,
    sar: Fraction,
    splices: list[Splice],
    crossfade: int,
    shot_cuts: tuple[float, ...] = (),
) -> list[Window]:
    step = 1 / source.fps
    windows: list[Window] = []
    handles: list[tuple[float, float, float, float]] = []
    for index, splice in enumerate(splices):
        length = splice.end - splice.start
        if length < step / 2 or splice.start < -step / 2 or splice.end > source.duration + step:
            raise CutRefused(
                f"{_where(splice, index).capitalize()} does not lie inside the clip "
                f"(0-{source.duration:.1f} s)."
            )
        if windows and splice.start < windows[-1].splice.end - step / 4:
            raise CutRefused(
                f"{_where(splice, index).capitalize()} overlaps the window before it; windows "
                "must be in order and apart."
            )
        if splice.take_offset < 0:
            raise CutRefused(f"The take offset of {_where(splice, index)} is negative.")
        take = _check_take(splice, index, source, sar)
        after = splice.handle_after
        if after is None:
            longest = MAX_REQUEST_SECONDS - splice.take_offset - length
            after = max(0.0, min(HANDLE_SECONDS, source.duration - splice.end, longest))
        expected = splice.take_offset + length + after
        off = take.duration - expected
        allowed = max(RETIME_FRAMES * step, RETIME_SHARE * length)
        if abs(off) > allowed + 1e-6:
            raise CutRefused(
                f"The take for {_where(splice, index)} is {abs(off):.1f} s "
                f"{'shorter' if off < 0 else 'longer'} than its window and handles "
                f"({expected:.1f} s); at most {allowed:.2f} s can be retimed. Make the take "
                "again or choose another."
            )
        stretch = take.duration / expected
        windows.append(Window(index, splice, take, stretch, 0, 0, after))
        handles.append((splice.start, splice.end, splice.take_offset, after))
    for window, (fade_in, fade_out, cross) in zip(
        windows, crossfades(handles, step, crossfade, shot_cuts), strict=True
    ):
        window.fade_in, window.fade_out, window.cross = fade_in, fade_out, cross
    return windows


def crossfades(
    windows: Sequence[tuple[float, float, float, float]],
    step: float,
    crossfade: int,
    shot_cuts: Sequence[float] = (),
) -> list[tuple[int, int, int]]:
    """Per window, the frames blended before its in-point, after its out-point, and at its
    start from the window before (where two windows meet with no source between them).

    `windows` are (start, end, handle before, handle after) in seconds. Each blend is
    `crossfade` frames, shortened where the take has fewer handle frames (none at the clip's
    ends) and where two windows share a gap shorter than both blends. An edge on one of the
    clip's shot cuts has none: the source cuts hard there, and a blend would dissolve one shot
    into the next. The interchange exports (studio/cuts/exports.py) place their dissolves with
    this too, so they match the render."""

    def on_shot_cut(at: float) -> bool:
        return any(abs(at - cut) < step / 2 for cut in shot_cuts)

    fades = [
        [
            0 if on_shot_cut(start) else min(crossfade, int(before / step + 1e-3)),
            0 if on_shot_cut(end) else min(crossfade, int(after / step + 1e-3)),
            0,
        ]
        for start, end, before, after in windows
    ]
    for left, right, (_, end, _, after), (start, finish, _, _) in zip(
        fades, fades[1:], windows, windows[1:], strict=False
    ):
        gap = round((start - end) / step)
        if left[1] + right[0] > gap:
            left[1] = min(left[1], max(gap // 2, gap - right[0]))
            right[0] = min(right[0], gap - left[1])
        if gap == 0 and not on_shot_cut(start):  # take to take, from the first's handle after
            right[2] = min(crossfade, int(after / step + 1e-3), round((finish - start) / step) // 2)
    return [(fade_in, fade_out, cross) for fade_in, fade_out, cross in fades]


def colour_look(source: Path, window: Window, step: float) -> tuple[str, str]:
    """The colour transfer for a window, measured on its handles: the source's frames next to
    the window against the take's frames at the same instants."""
    splice = window.splice
    spans = [(splice.start - splice.take_offset, splice.start)]
    after = window.take.duration / window.stretch - splice.take_offset - (splice.end - splice.start)
    spans.append((splice.end, splice.end + after))
    spans = [(a, b) for a, b in spans if b - a >= step / 2]
    if not spans:
        raise CutRefused(
            f"{_where(splice, window.index).capitalize()} has no handle frames to match colour on; "
            "turn colour matching off for it."
        )

    def inside(t: float) -> bool:
        return any(a - step / 4 <= t < b - step / 4 for a, b in spans)

    source_frames: list[VideoFrame] = []
    with open_video(source) as container:
        stream = container.streams.video[0]
        for a, b in spans:
            container.seek(max(0, int(a * 1_000_000)))
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                if frame.time >= b - step / 4:
                    break
                if inside(frame.time):
                    source_frames.append(_small(frame))
    take_frames: list[VideoFrame] = []
    with open_video(splice.take) as container:
        stream = container.streams.video[0]
        origin = None
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            origin = frame.time if origin is None else origin
            at = splice.start - splice.take_offset + (frame.time - origin) / window.stretch
            if inside(at):
                take_frames.append(_small(frame))
    if not source_frames or not take_frames:
        raise CutRefused(
            f"The handle frames of {_where(splice, window.index)} cannot be read to match colour."
        )
    return transfer_filter(plane_stats(take_frames), plane_stats(source_frames))


def _small(frame: VideoFrame) -> VideoFrame:
    """A copy small enough that a couple of seconds of handle frames cost little memory."""
    height = max(2, round(frame.height * 160 / frame.width / 2) * 2)
    return frame.reformat(width=160, height=height, format="yuv420p")
