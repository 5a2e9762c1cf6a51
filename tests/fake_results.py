"""Realistic results for the fake Modellix: the request's own input, delivered as the model does.

A result is made from the input video the task received, so its motion is the input's, and has
what the provider notes (section 2.3) say wan2.7-videoedit returns: H.264 yuv420p in MP4 at
30 fps, the model's size for `resolution` and `ratio` (centre crop to the ratio; no ratio keeps
the input's aspect), `duration` seconds from 0 s (0: the whole input; never longer than it), and
sound per `audio_setting`: "origin" the input's own track re-encoded (none if it has none),
"auto" a sound the model made (here a steady 660 Hz tone, never the input's).

Frames are resampled by time: output frame n, at n/30 s, shows the input frame on screen at
that instant. The "edit" is deterministic and plain to see (luma posterized to 8 levels,
chroma mirrored around grey), so a frame differs clearly from its source while the picture
moves with it. Two knobs play an imperfect model: `extra_frames` makes the result that many
frames longer than asked (the last frames hold the input's last picture when it runs out;
negative: shorter), and `colour_shift` adds a small global shift, given in RGB levels (0-255)
as (dr, dg, db) or one number for all three.

`natural=True` gives what a real result is like instead, for benchmarks: a smooth colour grade
(a cooler, slightly lifted picture, no hard edges) encoded as a video service would, with
libx264's defaults (preset medium, CRF 23); the posterized look's hard steps are costly to
encode and decode and would make a cut that uses them look slower than it is.

Frames are streamed one at a time; finished results are cached per input and parameters, so the
many takes of a test suite pay for each distinct result once.
"""

from __future__ import annotations

import hashlib
import math
import struct
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from pathlib import Path
from typing import Any

import av
from av.audio.frame import AudioFrame
from av.filter import Graph
from av.video.frame import PictureType

from studio.media.probe import probe
from studio.media.transcode import AAC_FRAME, AUDIO_RATE, _rotate_filters, open_video, x264_options
from studio.providers.local.render import FPS, RATIOS, crop_for, size_for

TONE_HZ = 660.0  # the model's "own" sound: the samples' tone is 440 Hz
TONE_LEVEL = 0.25
POSTERIZE_STEP = 32  # 8 levels of luma
NATURAL_X264 = {"preset": "medium", "crf": "23"}  # libx264's own defaults, as services use them
CACHE_BYTES = 256 * 1024 * 1024  # a 10 s 1080p result of the samples' gradient is ~16 MB

Shift = tuple[float, float, float]


@dataclass(frozen=True)
class Result:
    data: bytes
    width: int
    height: int
    frames: int
    has_audio: bool


_cache: OrderedDict[tuple[Any, ...], Result] = OrderedDict()
_cache_lock = threading.Lock()


def as_shift(value: float | tuple[float, float, float]) -> Shift:
    """(dr, dg, db) from a triple, or from one number (a brightness shift)."""
    if isinstance(value, int | float):
        return (float(value), float(value), float(value))
    dr, dg, db = value
    return (float(dr), float(dg), float(db))


def make_result(
    video: bytes,
    body: dict[str, Any],
    *,
    extra_frames: int = 0,
    colour_shift: float | tuple[float, float, float] = 0.0,
    natural: bool = False,
) -> Result:
    """The result the model would return for `body` on `video` (cached). Raises av or
    MediaRejected errors when the input cannot be read, as the model would fail the task."""
    shift = as_shift(colour_shift)
    key = (
        hashlib.sha256(video).hexdigest(),
        str(body.get("resolution") or "1080P"),
        str(body.get("ratio") or ""),
        int(body.get("duration") or 0),
        str(body.get("audio_setting") or "auto"),
        extra_frames,
        shift,
        natural,
    )
    # One result is made at a time: the machine is small, and a second task asking for the
    # same result waits for the first and takes it from the cache.
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        with tempfile.TemporaryDirectory(prefix="fake-modellix-") as folder:
            src, dest = Path(folder) / "input.mp4", Path(folder) / "result.mp4"
            src.write_bytes(video)
            result = _render(
                src, dest, *key[1:5], extra_frames=extra_frames, shift=shift, natural=natural
            )
        _cache[key] = result
        while sum(len(kept.data) for kept in _cache.values()) > CACHE_BYTES:
            _cache.popitem(last=False)
        return result


def _render(
    src: Path,
    dest: Path,
    resolution: str,
    ratio: str,
    duration: int,
    audio_setting: str,
    *,
    extra_frames: int,
    shift: Shift,
    natural: bool = False,
) -> Result:
    info = probe(src, max_seconds=3600)
    length = min(float(duration), info.duration) if duration else info.duration
    width, height = float(info.width), float(info.height)
    if ratio:
        width, height = min(width, height * RATIOS[ratio]), min(height, width / RATIOS[ratio])
    size = size_for(resolution, ratio, int(width), int(height))
    count = max(1, round(length * FPS) + extra_frames)
    filters = [
        *_rotate_filters(info.rotation),
        *crop_for(ratio),
        ("scale", f"{size[0]}:{size[1]}:flags=bicubic"),
        ("setsar", "1"),
        ("lutyuv", _grade(shift) if natural else _look(shift)),
        ("format", "yuv420p"),
    ]
    encoding = NATURAL_X264 if natural else {"preset": "ultrafast", "crf": "20"}
    options: dict[str, object] = {**encoding, **x264_options()}
    with (
        open_video(src) as container,
        av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        vin = container.streams.video[0]
        vin.thread_type = "AUTO"
        vout = out.add_stream("libx264", rate=FPS)
        vout.width, vout.height, vout.pix_fmt = size[0], size[1], "yuv420p"
        vout.options = options
        with_sound = audio_setting == "auto" or bool(container.streams.audio)
        aout = None
        if with_sound:
            aout = out.add_stream("aac", rate=AUDIO_RATE)
            aout.layout = "stereo"
            aout.bit_rate = 160_000
        total = round(count * AUDIO_RATE / FPS)
        sound = _tone(total) if audio_setting == "auto" else _origin(src, total)
        written = 0
        for n, picture in enumerate(_pictures(container, vin, _graph(vin, filters), count)):
            picture.pts, picture.time_base = n, Fraction(1, FPS)
            picture.pict_type = PictureType.NONE  # let x264 choose (see transcode._encode_video)
            out.mux(vout.encode(picture))
            # Interleave as we go, so nothing waits in the muxer's buffer for the other stream.
            while aout is not None and written < (n + 1) * AUDIO_RATE // FPS:
                chunk = next(sound, None)
                if chunk is None:
                    break
                chunk.pts, chunk.time_base = written, Fraction(1, AUDIO_RATE)
                out.mux(aout.encode(chunk))
                written += chunk.samples
        out.mux(vout.encode())
        sound.close()
        if aout is not None:
            out.mux(aout.encode())
    return Result(dest.read_bytes(), size[0], size[1], count, aout is not None and written > 0)


def _look(shift: Shift) -> str:
    """Posterized luma, chroma mirrored around grey, plus the RGB shift in studio-range YCbCr
    (BT.601, the matrix decoders assume for untagged video)."""
    dr, dg, db = shift
    dy = 0.257 * dr + 0.504 * dg + 0.098 * db
    du = -0.148 * dr - 0.291 * dg + 0.439 * db
    dv = 0.439 * dr - 0.368 * dg - 0.071 * db
    step = POSTERIZE_STEP
    return (
        f"y='clip(round(floor(val/{step})*{step}+{step // 2}+{dy:.3f}),0,255)'"
        f":u='clip(round(256-val+{du:.3f}),0,255)'"
        f":v='clip(round(256-val+{dv:.3f}),0,255)'"
    )


def _grade(shift: Shift) -> str:
    """A smooth grade: contrast eased and lifted a little, the picture cooled (more blue, less
    red), plus the RGB shift; every level maps to a neighbouring one, so no edge is added."""
    dr, dg, db = shift
    dy = 0.257 * dr + 0.504 * dg + 0.098 * db
    du = -0.148 * dr - 0.291 * dg + 0.439 * db
    dv = 0.439 * dr - 0.368 * dg - 0.071 * db
    return (
        f"y='clip(round(16+(val-16)*0.9+12+{dy:.3f}),0,255)'"
        f":u='clip(round(val+8+{du:.3f}),0,255)'"
        f":v='clip(round(val-6+{dv:.3f}),0,255)'"
    )


def _graph(stream: Any, filters: list[tuple[str, str]]) -> Graph:
    graph = Graph()
    nodes = [graph.add_buffer(template=stream)]
    nodes += [graph.add(name, args) for name, args in filters]
    nodes.append(graph.add("buffersink"))
    for left, right in zip(nodes, nodes[1:], strict=False):
        left.link_to(right)
    graph.configure()
    return graph


def _pictures(container: Any, stream: Any, graph: Graph, count: int) -> Iterator[Any]:
    """`count` edited pictures at 30 fps: picture n is the input frame shown at n/30 s (the
    last one held past the input's end). Each input frame goes through the filters once."""
    shown = None
    n = 0
    for frame in container.decode(stream):
        if frame.pts is None:
            continue
        start = Fraction(frame.pts) * frame.time_base
        while shown is not None and n < count and Fraction(n, FPS) < start:
            yield shown
            n += 1
        if n >= count:
            return
        graph.push(frame)
        shown = graph.pull()
    while shown is not None and n < count:
        yield shown
        n += 1


def _tone(total: int) -> Generator[AudioFrame]:
    """`total` samples of the model's own sound, in AAC-sized stereo frames."""
    for offset in range(0, total, AAC_FRAME):
        size = min(AAC_FRAME, total - offset)
        values = (
            TONE_LEVEL * math.sin(2 * math.pi * TONE_HZ * (offset + i) / AUDIO_RATE)
            for i in range(size)
        )
        yield _stereo(struct.pack(f"<{size}f", *values), size)


def _origin(src: Path, total: int) -> Generator[AudioFrame]:
    """The input's own sound, at most `total` samples, in AAC-sized stereo frames."""
    with open_video(src) as container:
        if not container.streams.audio:
            return
        resampler = av.AudioResampler(
            format="fltp", layout="stereo", rate=AUDIO_RATE, frame_size=AAC_FRAME
        )
        left = total
        for frame in chain(container.decode(container.streams.audio[0]), [None]):
            for chunk in resampler.resample(frame):
                if chunk.samples >= left:
                    if left > 0:
                        yield _cut(chunk, left)
                    return
                left -= chunk.samples
                yield chunk


def _stereo(plane: bytes, samples: int) -> AudioFrame:
    frame = AudioFrame(format="fltp", layout="stereo", samples=samples)
    frame.sample_rate = AUDIO_RATE
    for channel in frame.planes:
        channel.update(plane)
    return frame


def _cut(frame: AudioFrame, samples: int) -> AudioFrame:
    """The first `samples` of a fltp stereo frame."""
    cut = AudioFrame(format="fltp", layout="stereo", samples=samples)
    cut.sample_rate = AUDIO_RATE
    for source, target in zip(frame.planes, cut.planes, strict=True):
        target.update(bytes(source)[: samples * 4])
    return cut
