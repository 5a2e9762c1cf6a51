"""Render a cut: the source clip with chosen takes spliced into its windows, at full length.

One pass over the source, one frame at a time (memory does not grow with the clip's length):
every source frame gives exactly one output frame with the source's own timestamp, so the cut
has the source's frame count, frame rate (variable rates included), size and sample aspect.

- Outside every window and its crossfades the frame is the source's, re-encoded (CRF below).
- Inside a window [start, end) a frame at source time t shows the take's frame on screen at take
  time (t - start + take_offset) * stretch, scaled to the source's size (and turned to the
  source's coded orientation; the display rotation is copied). `stretch` is the take's length
  over the length it should have (handle + window + handle): a take a few frames off is retimed
  linearly, one further off is refused.
- Crossfades lie outside the window, in the handles, so every frame inside the window keeps the
  edit and both sides of each blend are real frames: the N source frames before the in-point
  fade from the source towards the take (its handle frames), weights 1/(N+1) ... N/(N+1); the N
  after the out-point fade back. A fade is shortened where the take has fewer handle frames (none
  at the clip's ends) and where two windows share a gap shorter than 2N frames.
- Each join is scored: the largest mean absolute luma step (0-255) between consecutive output
  frames from the last pure frame on one side to the first pure frame on the other (with no
  crossfade, the two frames either side of the edge); the report carries JPEGs of that pair.
- Sound: the source's whole track, re-encoded to AAC; a window with `take_sound` has the take's
  own sound from its in-point to its out-point, with 50 ms fades inside those ends.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from av.video.frame import PictureType, VideoFrame

from studio.media.cut_pictures import blend, jpeg, luma_step, plane_stats
from studio.media.cut_pictures import transfer_filter as _transfer_filter
from studio.media.cut_sound import SoundMixer, SoundWindow, sound_graph
from studio.media.probe import MediaRejected, VideoInfo, probe
from studio.media.transcode import (
    AUDIO_RATE,
    _chain,
    _drain,
    _push,
    _rotate_filters,
    open_video,
    x264_options,
)

CRF = 16  # the untouched parts stay within 40 dB PSNR of the source on real footage
PRESET = "veryfast"
MAX_CROSSFADE = 24
RETIME_FRAMES = 3  # a take this many source frames off its length is stretched to fit ...
RETIME_SHARE = 0.05  # ... or this share of its window, whichever is more
ASPECT_TOLERANCE = 0.01
SEAM_FLAG_LEVEL = 15.0  # a luma step above this (0-255) at a join is flagged for review
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


@dataclass(frozen=True)
class Seam:
    window: int  # index into the splices
    edge: str  # "in" or "out"
    at: float  # the edge on the source's timeline (s)
    score: float  # the largest luma step at the join, 0-255
    flagged: bool
    before: bytes  # JPEG of the output frame before the step
    after: bytes  # JPEG of the output frame after it


@dataclass(frozen=True)
class CutReport:
    frames: int
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool
    size: int
    stretch: tuple[float, ...]  # per window: take seconds per source second (1.0: no retime)
    seams: tuple[Seam, ...]


@dataclass
class _Window:
    index: int
    splice: Splice
    take: VideoInfo
    stretch: float
    fade_in: int  # frames blended before the in-point
    fade_out: int  # frames blended after the out-point
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


def _plan(source: VideoInfo, sar: Fraction, splices: list[Splice], crossfade: int) -> list[_Window]:
    step = 1 / source.fps
    windows: list[_Window] = []
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
        fade_in = min(crossfade, int(splice.take_offset / step + 1e-3))
        fade_out = min(crossfade, int(after / step + 1e-3))
        windows.append(_Window(index, splice, take, stretch, fade_in, fade_out))
    for before, after_window in zip(windows, windows[1:], strict=False):
        gap = round((after_window.splice.start - before.splice.end) / step)
        if before.fade_out + after_window.fade_in > gap:
            before.fade_out = min(before.fade_out, max(gap // 2, gap - after_window.fade_in))
            after_window.fade_in = min(after_window.fade_in, gap - before.fade_out)
    return windows


class _TakeVideo:
    """The take's pictures by take time, turned and scaled to the source's coded frame."""

    def __init__(self, window: _Window, size: tuple[int, int], rotation: int) -> None:
        self._stack = ExitStack()
        container = self._stack.enter_context(open_video(window.splice.take))
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        self._frames = container.decode(stream)
        self._graph = av.filter.Graph()
        filters = [
            *_rotate_filters(window.take.rotation),
            *_rotate_filters((360 - rotation) % 360),
            ("scale", f"{size[0]}:{size[1]}:flags=bicubic"),
            *([window.look] if window.look else []),
            ("format", "yuv420p"),
        ]
        _chain(self._graph, self._graph.add_buffer(template=stream), filters, "buffersink")
        self._origin: float | None = None
        self._current: Any = None
        self._next: Any = self._advance()
        self._shown: tuple[Any, VideoFrame] | None = None

    def _advance(self) -> Any:
        frame = next(self._frames, None)
        while frame is not None and frame.time is None:
            frame = next(self._frames, None)
        if frame is not None and self._origin is None:
            self._origin = frame.time
        return frame

    def at(self, when: float) -> VideoFrame | None:
        """The picture on screen at take time `when` (None before the first frame)."""
        while self._next is not None and self._next.time - (self._origin or 0) <= when + 1e-4:
            self._current, self._next = self._next, self._advance()
        if self._current is None:
            return None
        if self._shown is None or self._shown[0] is not self._current:
            self._graph.push(self._current)
            picture = self._graph.pull()
            assert isinstance(picture, VideoFrame)  # noqa: S101 - a video graph gives pictures
            self._shown = (self._current, picture)
        return self._shown[1]

    def close(self) -> None:
        self._stack.close()


def _colour_look(source: Path, window: _Window, step: float) -> tuple[str, str]:
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
    return _transfer_filter(plane_stats(take_frames), plane_stats(source_frames))


def _small(frame: VideoFrame) -> VideoFrame:
    """A copy small enough that a couple of seconds of handle frames cost little memory."""
    height = max(2, round(frame.height * 160 / frame.width / 2) * 2)
    return frame.reformat(width=160, height=height, format="yuv420p")


@dataclass
class _Join:
    window: int
    edge: str
    at: float
    score: float = -1.0
    pair: tuple[VideoFrame, VideoFrame] | None = None
    pictures: tuple[bytes, bytes] = (b"", b"")


@dataclass
class _Frames:
    """Picks each output picture and keeps the joins' scores."""

    windows: list[_Window]
    size: tuple[int, int]
    rotation: int
    step: float
    joins: list[_Join] = field(default_factory=list)
    _next: int = 0
    _take: _TakeVideo | None = None
    _previous: tuple[VideoFrame, tuple[int, str] | None] | None = None
    _open: dict[tuple[int, str], _Join] = field(default_factory=dict)

    def picture(self, frame: VideoFrame, t: float) -> VideoFrame:
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        role, picture = self._choose(frame, t)
        self._score(picture, role, t)
        return picture

    def _region(self, window: _Window) -> tuple[float, float]:
        quarter = self.step / 4
        return (
            window.splice.start - window.fade_in * self.step - quarter,
            window.splice.end + window.fade_out * self.step - quarter,
        )

    def _choose(self, frame: VideoFrame, t: float) -> tuple[tuple[int, str] | None, VideoFrame]:
        while self._next < len(self.windows) and t >= self._region(self.windows[self._next])[1]:
            self._leave()
        if self._next >= len(self.windows):
            return None, frame
        window = self.windows[self._next]
        if t < self._region(window)[0]:
            return None, frame
        if self._take is None:
            self._take = _TakeVideo(window, self.size, self.rotation)
        splice, quarter = window.splice, self.step / 4
        take = self._take.at((t - splice.start + splice.take_offset) * window.stretch)
        if t < splice.start - quarter:
            kind = "in"
            weight = 1 - (splice.start - t) / ((window.fade_in + 1) * self.step)
        elif t < splice.end - quarter:
            kind, weight = "take", 1.0
        else:
            kind = "out"
            weight = 1 - (t - splice.end + self.step) / ((window.fade_out + 1) * self.step)
        if take is None:
            return None, frame
        if weight >= 1.0:
            return (window.index, kind), take
        return (window.index, kind), blend(frame, take, min(max(weight, 0.0), 1.0))

    def _leave(self) -> None:
        if self._take is not None:
            self._take.close()
            self._take = None
        self._next += 1

    def _score(self, picture: VideoFrame, role: tuple[int, str] | None, t: float) -> None:
        previous = self._previous
        self._previous = (picture, role)
        if previous is None:
            return
        before, was = previous
        for key in self._edges(was, role):
            join = self._open.get(key)
            if join is None:
                splice = self.windows_by_index[key[0]].splice
                at = splice.start if key[1] == "in" else splice.end
                join = self._open[key] = _Join(key[0], key[1], at)
                self.joins.append(join)
            score = luma_step(before, picture)
            if score > join.score:
                join.score, join.pair = score, (before, picture)
        for key, join in list(self._open.items()):
            if key not in self._edges(was, role):
                self._close(join)
                del self._open[key]

    @property
    def windows_by_index(self) -> dict[int, _Window]:
        return {window.index: window for window in self.windows}

    @staticmethod
    def _edges(was: tuple[int, str] | None, now: tuple[int, str] | None) -> list[tuple[int, str]]:
        """The joins that the step from a frame of role `was` to one of role `now` belongs to."""
        edges = []
        if now is not None and (now[1] == "in" or (now[1] == "take" and was != now)):
            edges.append((now[0], "in"))
        leaving = now is None or now[0] != was[0] or now[1] == "out" if was else False
        if was is not None and was[1] in ("take", "out") and leaving:
            edges.append((was[0], "out"))
        return edges

    def _close(self, join: _Join) -> None:
        if join.pair is not None:
            join.pictures = (jpeg(join.pair[0], self.rotation), jpeg(join.pair[1], self.rotation))
            join.pair = None

    def finish(self) -> tuple[Seam, ...]:
        for join in self._open.values():
            self._close(join)
        self._open.clear()
        if self._take is not None:
            self._take.close()
            self._take = None
        return tuple(
            Seam(
                window=join.window,
                edge=join.edge,
                at=join.at,
                score=round(join.score, 2),
                flagged=join.score > SEAM_FLAG_LEVEL,
                before=join.pictures[0],
                after=join.pictures[1],
            )
            for join in sorted(self.joins, key=lambda join: (join.at, join.edge == "in"))
        )


class _Progress:
    """Report the fraction done each time it has grown by a hundredth, and 1.0 at the end."""

    def __init__(self, callback: Callable[[float], None] | None, duration: float) -> None:
        self.callback, self.duration, self.last = callback, max(duration, 1e-3), 0.0

    def __call__(self, at: float) -> None:
        fraction = min(1.0, max(0.0, at / self.duration))
        if self.callback is not None and fraction - self.last >= 0.01:
            self.last = fraction
            self.callback(fraction)


def cut_render(
    source: Path,
    splices: list[Splice],
    out: Path,
    *,
    crossfade_frames: int = 6,
    progress: Callable[[float], None] | None = None,
) -> CutReport:
    """Write the cut to `out` (MP4, H.264 yuv420p + AAC, faststart) and describe it.

    Raises CutRefused, before anything is written, when a take cannot be used; the file appears
    at `out` only once complete (it is written under a temporary name beside it)."""
    if not 0 <= crossfade_frames <= MAX_CROSSFADE:
        raise ValueError(f"crossfade_frames must be 0-{MAX_CROSSFADE}")
    info = probe(source, max_seconds=math.inf)
    with open_video(source) as container:
        sar = container.streams.video[0].codec_context.sample_aspect_ratio or Fraction(1)
    windows = _plan(info, Fraction(sar), splices, crossfade_frames)
    step = 1 / info.fps
    for window in windows:
        if window.splice.colour_match:
            window.look = _colour_look(source, window, step)
    handle, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}-", suffix=".part")
    os.close(handle)
    partial = Path(name)
    try:
        report = _render(source, partial, info, windows, _Progress(progress, info.duration))
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if progress is not None:
        progress(1.0)
    return report


def _render(
    source: Path, dest: Path, info: VideoInfo, windows: list[_Window], report: _Progress
) -> CutReport:
    with (
        open_video(source) as container,
        av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        vin = container.streams.video[0]
        vin.thread_type = "AUTO"
        context = vin.codec_context
        rate = vin.average_rate or vin.guessed_rate or Fraction(info.fps).limit_denominator(1001)
        vout = out.add_stream("libx264", rate=rate)
        vout.width, vout.height, vout.pix_fmt = context.width, context.height, "yuv420p"
        vout.time_base = vin.time_base
        vout.codec_context.time_base = vin.time_base
        if context.sample_aspect_ratio:
            vout.codec_context.sample_aspect_ratio = context.sample_aspect_ratio
        vout.options = {"preset": PRESET, "crf": str(CRF), **x264_options()}
        if info.rotation:
            vout.set_display_rotation(info.rotation)
        ain = container.streams.audio[0] if container.streams.audio else None
        aout = agraph = mixer = None
        if ain is not None:
            aout = out.add_stream("aac", rate=AUDIO_RATE)
            aout.layout = "stereo"
            aout.bit_rate = 160_000
            agraph = sound_graph(ain)
            mixer = SoundMixer(_sound_windows(windows))
        frames = _Frames(windows, (context.width, context.height), info.rotation, 1 / info.fps)
        tick = float(vin.time_base or 0) or 1 / info.fps
        width, height = context.width, context.height
        try:
            count, last, samples = _pump(
                container, vin, ain, vout, aout, agraph, mixer, out, frames, report
            )
        finally:
            seams = frames.finish()
            if mixer is not None:
                mixer.close()
    return CutReport(
        frames=count,
        duration=round(last * tick + 1 / info.fps, 3),
        width=width,
        height=height,
        fps=info.fps,
        has_audio=samples > 0,
        size=dest.stat().st_size,
        stretch=tuple(round(window.stretch, 4) for window in windows),
        seams=seams,
    )


def _sound_windows(windows: list[_Window]) -> list[SoundWindow]:
    return [
        SoundWindow(
            first=round(window.splice.start * AUDIO_RATE),
            last=round(window.splice.end * AUDIO_RATE),
            take_at=round(window.splice.take_offset * AUDIO_RATE),
            path=window.splice.take,
            tempo=window.stretch,
        )
        for window in windows
        if window.splice.take_sound
    ]


def _pump(
    container, vin, ain, vout, aout, agraph, mixer, out, frames: _Frames, report: _Progress
) -> tuple[int, int, int]:
    """Decode both streams in file order (so the muxer interleaves without buffering) and encode
    each frame as it comes; returns (video frames, last output pts, audio samples)."""
    count = samples = 0
    first: int | None = None
    last = -1
    streams = [vin] if ain is None else [vin, ain]
    for packet in container.demux(*streams):
        try:
            decoded = packet.decode()
        except av.InvalidDataError:
            continue  # one damaged packet should not sink the render
        for frame in decoded:
            if packet.stream is not vin:
                _push(agraph, frame)
                samples += _mix_audio(agraph, aout, out, mixer, samples)
                continue
            if frame.pts is None:
                continue
            first = frame.pts if first is None else first
            t = float(frame.time)
            picture = frames.picture(frame, t)
            # Timestamps are the source's, from zero; a repeated one would stop the muxer.
            pts = max(frame.pts - first, last + 1)
            picture.pts, picture.time_base = pts, vin.time_base
            picture.pict_type = PictureType.NONE  # let x264 choose (see transcode._encode_video)
            out.mux(vout.encode(picture))
            last, count = pts, count + 1
            report(t)
    out.mux(vout.encode())
    if agraph is not None:
        _push(agraph, None)
        samples += _mix_audio(agraph, aout, out, mixer, samples)
        out.mux(aout.encode())
    if count == 0:
        raise MediaRejected("No picture of the clip could be decoded.")
    return count, last, samples


def _mix_audio(graph, stream, out, mixer: SoundMixer, offset: int) -> int:
    count = 0
    for frame in _drain(graph):
        mixed = mixer.mix(frame, offset + count)
        count += _encode_audio_one(mixed, stream, out, offset + count)
    return count


def _encode_audio_one(frame, stream, out, at: int) -> int:
    frame.pts = at
    frame.time_base = Fraction(1, AUDIO_RATE)
    out.mux(stream.encode(frame))
    return frame.samples
