"""Shot cuts: the frames where a clip's picture changes at once from one shot to the next.

Every frame is decoded and shrunk to 64x36 (YUV 4:2:0); a frame's score is how much it differs
from the frame before (the mean absolute difference of Y, U and V, 0-255). A frame starts a new
shot (a hard cut) when
- its score is high in itself (MIN_SCORE),
- it is RATIO times its neighbours' average, WINDOW frames on each side (fast motion or a
  shaking camera scores high on every frame, a cut on one frame only),
- the picture WINDOW frames after it still differs from the one WINDOW + 1 frames before it (a
  flash or one damaged frame comes back: no new shot), and
- the previous cut is at least MIN_SHOT seconds back.
Fades and dissolves change the picture a little on every frame and are not hard cuts. This is
the method of PySceneDetect's AdaptiveDetector, without OpenCV (which PySceneDetect needs: a
large binary wheel), on the frames PyAV decodes anyway. A cut in the first or last WINDOW frames
of a clip is not reported (its shot would be a frame or two).

The same pass can collect a clip's filmstrip (studio/media/filmstrip.py) from the frames it
decodes, so a clip is decoded once for both.

Times are the cut frame's presentation timestamp in seconds, on the same timeline as the rest of
the studio (PyAV's frame.time, as trim and the poster use), so a cut is exactly on a frame.
"""

from __future__ import annotations

import math
import time as clock
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from PIL import Image, ImageChops, ImageStat

from studio.media.filmstrip import Filmstrip
from studio.media.transcode import open_video

SIZE = (64, 36)
WINDOW = 2
RATIO = 3.0
MIN_SCORE = 12.0
MIN_SHOT = 0.5  # seconds


Planes = tuple[Image.Image, Image.Image, Image.Image]


@dataclass(frozen=True)
class _Frame:
    time: float
    planes: Planes
    score: float


def shot_cuts(
    path: Path,
    *,
    duration: float = 0.0,
    progress: Callable[[float], None] | None = None,
    filmstrip: Filmstrip | None = None,
) -> list[float]:
    """The times (seconds) of the first frame of every shot but the first, in order.

    `progress` is called with the fraction done (of `duration`) at most once a second;
    `filmstrip`, when given, gets its pictures from the same frames. Raises MediaRejected for a
    file that is not a readable video, av.FFmpegError when decoding fails.
    """
    with open_video(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = _thumbnails(container, stream, duration, progress, filmstrip)
        return [round(at, 6) for at in hard_cuts(frames)]


def _thumbnails(
    container: Any,
    stream: Any,
    duration: float,
    progress: Callable[[float], None] | None,
    filmstrip: Filmstrip | None = None,
) -> Iterator[tuple[float, bytes]]:
    """(time, 64x36 YUV bytes) of every frame, in presentation order; damaged packets skipped."""
    rate = float(stream.average_rate or stream.guessed_rate or 25)
    last_time = -1 / rate
    reported = clock.monotonic()
    for packet in container.demux(stream):
        try:
            decoded = packet.decode()
        except av.InvalidDataError:
            continue  # one damaged packet should not lose the whole clip's cuts
        for frame in decoded:
            at = frame.time if frame.time is not None else last_time + 1 / rate
            last_time = at
            if filmstrip is not None and filmstrip.wants(at):
                filmstrip.add(frame)
            small = frame.reformat(
                width=SIZE[0], height=SIZE[1], format="yuv420p", interpolation="AREA"
            )
            yield at, b"".join(_plane_bytes(plane) for plane in small.planes)
            if progress is not None and duration > 0 and clock.monotonic() - reported >= 1.0:
                reported = clock.monotonic()
                progress(min(1.0, max(0.0, at / duration)))


def _plane_bytes(plane: Any) -> bytes:
    """A plane's pixels without the padding at the end of each row."""
    data = bytes(plane)
    width, stride = plane.width, plane.line_size
    if stride == width:
        return data[: width * plane.height]
    return b"".join(data[row * stride : row * stride + width] for row in range(plane.height))


def _planes(thumb: bytes) -> Planes:
    """The Y, U and V planes of a thumbnail as Pillow images (their difference is done in C)."""
    width, height = SIZE
    luma, chroma = width * height, width * height // 4
    return (
        Image.frombytes("L", (width, height), thumb[:luma]),
        Image.frombytes("L", (width // 2, height // 2), thumb[luma : luma + chroma]),
        Image.frombytes("L", (width // 2, height // 2), thumb[luma + chroma :]),
    )


def difference(a: Planes, b: Planes) -> float:
    """The mean absolute difference of two thumbnails, 0-255 (Y, U and V weigh the same)."""
    means = (ImageStat.Stat(ImageChops.difference(p, q)).mean[0] for p, q in zip(a, b, strict=True))
    return sum(means) / 3


def hard_cuts(frames: Iterable[tuple[float, bytes]]) -> Iterator[float]:
    """The times of the frames that start a new shot, from (time, thumbnail) in order; a
    thumbnail is the bytes of its Y (64x36), U and V (32x18) planes, one after the other.

    Keeps 2 * WINDOW + 2 frames at a time, so memory stays flat with the clip's length.
    """
    recent: deque[_Frame] = deque(maxlen=2 * WINDOW + 2)
    last_cut = -math.inf
    for at, thumb in frames:
        planes = _planes(thumb)
        score = difference(recent[-1].planes, planes) if recent else 0.0
        recent.append(_Frame(at, planes, score))
        if len(recent) < 2 * WINDOW + 2:
            continue
        # recent: W+1 frames before the candidate, the candidate, W frames after it.
        candidate = recent[WINDOW + 1]
        if candidate.time - last_cut >= MIN_SHOT and _is_cut(recent):
            last_cut = candidate.time
            yield candidate.time


def _is_cut(recent: deque[_Frame]) -> bool:
    candidate = recent[WINDOW + 1]
    if candidate.score < MIN_SCORE:
        return False
    neighbours = [frame.score for i, frame in enumerate(recent) if i not in (0, WINDOW + 1)]
    if candidate.score < RATIO * (sum(neighbours) / len(neighbours)):
        return False
    # A flash (or one damaged frame) comes back: the picture before the window and at its end
    # must differ too.
    return difference(recent[0].planes, recent[-1].planes) >= MIN_SCORE
