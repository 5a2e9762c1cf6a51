"""Posters, browser-playable proxies and provider input clips, with PyAV and libavfilter.

Frames stay in YUV and go through one libavfilter graph (trim, rotate upright, scale, constant
frame rate), which is several times faster than converting every frame to RGB in Python.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import av
from av.filter import Graph
from av.video.frame import PictureType
from PIL import Image

from studio.media.probe import MediaRejected, VideoInfo, sniff_container

AUDIO_RATE = 48000
AAC_FRAME = 1024
MAX_FPS = 60
# x264's instruction sets up to AVX2 (its own names), which every CPU with AVX-512 also has.
X264_UP_TO_AVX2 = "MMX2,SSE,SSE2,SSE3,SSSE3,SSE4.1,SSE4.2,AVX,FMA3,BMI1,BMI2,AVX2,LZCNT"


@dataclass(frozen=True)
class Encoded:
    width: int
    height: int
    duration: float
    fps: float
    has_audio: bool
    size: int


def even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def fit(
    width: int, height: int, *, long_max: int, short_max: int, short_min: int = 0
) -> tuple[int, int]:
    """Scale (width, height) to fit the box, keeping the aspect ratio; never upscale past need."""
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, long_max / long_side, short_max / short_side)
    if short_side * scale < short_min:
        scale = short_min / short_side
    return even(width * scale), even(height * scale)


@contextmanager
def open_video(path: Path) -> Iterator[Any]:
    """Open an accepted video with its own demuxer only (never FFmpeg's format guessing)."""
    with path.open("rb") as handle:
        family = sniff_container(handle.read(64))
    if family is None:
        raise MediaRejected("This file is not a video Cutroom can read.")
    with av.open(str(path), format=family, options={"protocol_whitelist": "file"}) as container:
        yield container


def _rotate_filters(rotation: int) -> list[tuple[str, str]]:
    """Filters that turn the coded picture upright (rotation is counter-clockwise degrees)."""
    return {
        90: [("transpose", "cclock")],
        180: [("hflip", ""), ("vflip", "")],
        270: [("transpose", "clock")],
    }.get(rotation, [])


def _chain(graph: Graph, source: Any, filters: list[tuple[str, str]], sink: str) -> None:
    nodes = [
        source,
        *(graph.add(name, args) if args else graph.add(name) for name, args in filters),
    ]
    nodes.append(graph.add(sink))
    for left, right in zip(nodes, nodes[1:], strict=False):
        left.link_to(right)
    graph.configure()


def _drain(graph: Graph) -> Iterator[Any]:
    while True:
        try:
            yield graph.pull()
        except (BlockingIOError, av.EOFError):
            return


def make_poster(src: Path, dest: Path, info: VideoInfo, *, max_side: int = 960) -> tuple[int, int]:
    """Save an upright JPEG of the picture at 10 % of the clip (at most 1 s in)."""
    at = min(1.0, info.duration * 0.1)
    with open_video(src) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        container.seek(int(at * 1_000_000))
        picture = None
        for frame in container.decode(stream):
            picture = frame
            if frame.time is not None and frame.time >= at - 0.02:
                break
        if picture is None:
            raise MediaRejected("The video has no picture that can be decoded.")
        image = picture.to_image()
    if info.rotation:
        image = image.rotate(info.rotation, expand=True)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    image.save(dest, format="JPEG", quality=85, optimize=True)
    return image.size


THUMB_WIDTH = 480  # wide enough for a grid card on a dense screen, a fifth of a poster's bytes
THUMB_QUALITY = 75


def make_thumbnail(poster: Path, dest: Path, *, width: int = THUMB_WIDTH) -> tuple[int, int]:
    """Save a grid-sized JPEG of a poster, `width` pixels wide (never enlarged); return its size."""
    with Image.open(poster) as image:
        image.load()
        picture = image.convert("RGB")
    if picture.width > width:
        height = max(1, round(picture.height * width / picture.width))
        picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    # Pillow carries a JPEG comment over from the image it came from; a thumbnail keeps nothing.
    picture.info = {}
    picture.save(dest, format="JPEG", quality=THUMB_QUALITY, optimize=True, progressive=True)
    return picture.size


@cache
def x264_options() -> dict[str, str]:
    """Keep libx264 off its AVX-512 code, where the CPU has it (read from Linux's cpuinfo).

    There, once B-frames are in play, x264's output depends on memory it never wrote, for most
    frame sizes (1104x832, 960x960 and 720x1280 did; 1920x1080 and 1280x720 did not): the same
    render gave another file from one process to the next (tests/providers/test_engine.py).
    Up to AVX2 it is the same every time, at the same speed (bench/engine.py). Elsewhere x264
    uses what it detects."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    if not re.search(r"^flags\s*:.*\bavx512f\b", cpuinfo, re.MULTILINE):
        return {}
    return {"x264-params": f"asm={X264_UP_TO_AVX2}"}


def transcode(
    src: Path,
    dest: Path,
    *,
    info: VideoInfo,
    size: tuple[int, int],
    start: float = 0.0,
    length: float | None = None,
    keep_audio: bool = True,
    crf: int = 23,
    preset: str = "veryfast",
    maxrate: str | None = None,
    progress: Callable[[float], None] | None = None,
    pre: list[tuple[str, str]] | None = None,
    post: list[tuple[str, str]] | None = None,
    fps: int | None = None,
    scale_flags: str = "bicubic",
) -> Encoded:
    """Write an upright H.264/AAC mp4 (faststart) of [start, start+length) scaled to `size`.

    `pre` filters run before scaling (cropping), `post` after it (looks, at output size);
    `fps` forces a constant frame rate, else the source's (at most 60) is kept.
    """
    end = info.duration if length is None else min(info.duration, start + length)
    source_rate = min(Fraction(info.fps or 30).limit_denominator(1001), Fraction(MAX_FPS))
    rate = Fraction(fps) if fps else source_rate
    fps_filter = ("fps", f"{rate.numerator}/{rate.denominator}")
    # Drop frames before the costly filters; duplicate them only after.
    early = [fps_filter] if rate < source_rate else []
    late = [] if early else [fps_filter]
    width, height = size
    options = {"preset": preset, "crf": str(crf), **x264_options()}
    if maxrate:
        options |= {"maxrate": maxrate, "bufsize": maxrate}
    with (
        open_video(src) as container,
        av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        vin = container.streams.video[0]
        vin.thread_type = "AUTO"
        ain = container.streams.audio[0] if keep_audio and container.streams.audio else None
        vout = out.add_stream("libx264", rate=rate)
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        vout.options = {key: str(value) for key, value in options.items()}
        vgraph = Graph()
        _chain(
            vgraph,
            vgraph.add_buffer(template=vin),
            [
                ("trim", f"start={start:.6f}:end={end:.6f}"),
                ("setpts", "PTS-STARTPTS"),
                *early,
                *_rotate_filters(info.rotation),
                *(pre or []),
                ("scale", f"{width}:{height}:flags={scale_flags}"),
                ("setsar", "1"),
                *(post or []),
                *late,
                ("format", "yuv420p"),
            ],
            "buffersink",
        )
        aout = agraph = None
        if ain is not None:
            aout = out.add_stream("aac", rate=AUDIO_RATE)
            aout.layout = "stereo"
            aout.bit_rate = 160_000
            agraph = Graph()
            _chain(
                agraph,
                agraph.add_abuffer(template=ain),
                [
                    ("atrim", f"start={start:.6f}:end={end:.6f}"),
                    ("asetpts", "PTS-STARTPTS"),
                    ("aresample", str(AUDIO_RATE)),
                    (
                        "aformat",
                        f"sample_fmts=fltp:sample_rates={AUDIO_RATE}:channel_layouts=stereo",
                    ),
                    ("asetnsamples", f"n={AAC_FRAME}:p=0"),
                ],
                "abuffersink",
            )
        report = _Progress(progress, start, end)
        counts = _pump(container, vin, ain, vgraph, agraph, vout, aout, out, start, end, report)
    return Encoded(
        width=width,
        height=height,
        duration=round(counts[0] / float(rate), 3),
        fps=round(float(rate), 3),
        has_audio=ain is not None and counts[1] > 0,
        size=dest.stat().st_size,
    )


class _Progress:
    """Call back with the fraction done at most once a second (it extends the worker's lease)."""

    def __init__(self, callback: Callable[[float], None] | None, start: float, end: float) -> None:
        self.callback, self.start, self.span = callback, start, max(end - start, 1e-3)
        self.last = time.monotonic()

    def __call__(self, at: float | None) -> None:
        if self.callback is None or at is None or time.monotonic() - self.last < 1.0:
            return
        self.last = time.monotonic()
        self.callback(min(1.0, max(0.0, (at - self.start) / self.span)))


def _pump(
    container, vin, ain, vgraph, agraph, vout, aout, out, start, end, report
) -> tuple[int, int]:
    """Decode from the keyframe before `start` until both streams pass `end`; encode as we go."""
    frames = samples = 0
    streams = [vin] if ain is None else [vin, ain]
    if start > 0:
        container.seek(int(start * 1_000_000))
    done = {vin.index: False} | ({ain.index: False} if ain is not None else {})
    for packet in container.demux(*streams):
        if done[packet.stream.index]:
            if all(done.values()):
                break
            continue
        try:
            decoded = packet.decode()
        except av.InvalidDataError:
            continue  # one damaged packet should not sink the whole encode
        for frame in decoded:
            if frame.time is not None and frame.time >= end + 0.1:
                done[packet.stream.index] = True
                break
            graph = vgraph if packet.stream is vin else agraph
            if not _push(graph, frame):
                done[packet.stream.index] = True  # the trim filter has all it needs
                break
            if packet.stream is vin:
                report(frame.time)
                frames += _encode_video(vgraph, vout, out)
            else:
                samples += _encode_audio(agraph, aout, out, samples)
    _push(vgraph, None)
    frames += _encode_video(vgraph, vout, out)
    out.mux(vout.encode())
    if agraph is not None:
        _push(agraph, None)
        samples += _encode_audio(agraph, aout, out, samples)
        out.mux(aout.encode())
    if frames == 0:
        raise MediaRejected("No picture could be decoded in the chosen part of the clip.")
    return frames, samples


def _push(graph: Graph, frame: Any) -> bool:
    """Feed a frame (None flushes); False once the graph has reached its end."""
    try:
        graph.push(frame)
    except av.EOFError:
        return False
    return True


def _encode_video(graph: Graph, stream: Any, out: Any) -> int:
    count = 0
    for frame in _drain(graph):
        # A decoded frame keeps the type it had in the source (I, P or B) through the filters,
        # and libx264 takes that type as an order: the output copied the source's structure
        # (no B-frames after an all-P source, a keyframe wherever it had one). Cleared, x264
        # chooses each frame's type itself, as the ffmpeg command line lets it: files 27-40 %
        # smaller (bench/engine.py) with the same PSNR against the source.
        frame.pict_type = PictureType.NONE
        out.mux(stream.encode(frame))
        count += 1
    return count


def _encode_audio(graph: Graph, stream: Any, out: Any, offset: int) -> int:
    count = 0
    for frame in _drain(graph):
        frame.pts = offset + count
        frame.time_base = Fraction(1, AUDIO_RATE)
        out.mux(stream.encode(frame))
        count += frame.samples
    return count
