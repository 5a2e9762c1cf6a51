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
  at the clip's ends) and where two windows share a gap shorter than 2N frames. Where two
  windows meet with no source between them, the first N frames of the second blend from the
  first take's handle after into the second take (take to take). An edge on one of the clip's
  shot cuts (`shot_cuts`) has no blend: the source cuts hard there, and so does the cut.
- Each join is scored: the largest mean absolute luma step (0-255) between consecutive output
  frames from the last pure frame on one side to the first pure frame on the other (with no
  crossfade, the two frames either side of the edge), beside the source's own step between the
  same two instants (a shot cut, fast motion); a join is flagged when it steps more than the
  source by SEAM_FLAG_LEVEL. The report carries JPEGs of that pair; two windows that meet
  make one join.
- A window whose splice asks for `ai_label` has the visible "AI-generated" label over it and
  its crossfades (every frame with some of the take in it), and nowhere else: the rest of the
  cut is the source, and the label says which seconds are AI.
- Sound: the source's whole track, re-encoded to AAC; a window with `take_sound` has the take's
  own sound from its in-point to its out-point, with 50 ms fades inside those ends.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import PictureType, VideoFrame

from studio.media.cut_frames import SEAM_FLAG_LEVEL, Frames, Seam
from studio.media.cut_plan import CutRefused, Splice, Window, colour_look, plan
from studio.media.cut_sound import SoundMixer, SoundWindow, sound_graph
from studio.media.label import Stamp, stamp_for
from studio.media.probe import MediaRejected, VideoInfo, probe
from studio.media.transcode import AUDIO_RATE, _drain, _push, open_video, x264_options

__all__ = ["SEAM_FLAG_LEVEL", "CutRefused", "CutReport", "Seam", "Splice", "cut_render"]

CRF = 16  # 42 dB PSNR against a test pattern with camera-like grain (the floor asked is 40)
PRESET = "veryfast"
MAX_CROSSFADE = 24


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
    shot_cuts: tuple[float, ...] = (),
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
    windows = plan(info, Fraction(sar), splices, crossfade_frames, shot_cuts)
    step = 1 / info.fps
    for window in windows:
        if window.splice.colour_match:
            window.look = colour_look(source, window, step)
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
    source: Path, dest: Path, info: VideoInfo, windows: list[Window], report: _Progress
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
        frames = Frames(windows, (context.width, context.height), info.rotation, 1 / info.fps)
        frames_label = _Label(windows, context.width, context.height, info.rotation, info.fps)
        tick = float(vin.time_base or 0) or 1 / info.fps
        width, height = context.width, context.height
        try:
            count, last, samples = _pump(
                container, vin, ain, vout, aout, agraph, mixer, out, frames, report, frames_label
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


def _sound_windows(windows: list[Window]) -> list[SoundWindow]:
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


class _Label:
    """Which frames get the label: those of AI windows, from the first crossfade frame to the
    last (a quarter frame early, as Frames places them)."""

    def __init__(
        self, windows: list[Window], width: int, height: int, rotation: int, fps: float
    ) -> None:
        step = 1 / fps
        self.ranges = [
            (
                w.splice.start - (w.fade_in + 0.25) * step,
                w.splice.end + (w.fade_out - 0.25) * step,
            )
            for w in windows
            if w.splice.ai_label
        ]
        self.stamp: Stamp | None = stamp_for(width, height, rotation) if self.ranges else None

    def __call__(self, picture: VideoFrame, t: float) -> VideoFrame:
        if self.stamp is not None and any(a <= t < b for a, b in self.ranges):
            return self.stamp.burn(picture)
        return picture


def _pump(
    container,
    vin,
    ain,
    vout,
    aout,
    agraph,
    mixer,
    out,
    frames: Frames,
    report: _Progress,
    label: _Label,
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
            picture = label(frames.picture(frame, t), t)
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
