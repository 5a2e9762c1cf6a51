"""Measures tests take of videos: frames with their times, the luma PSNR of two frames, the
left channel of the sound and its correlation with another (the cut tests compare a render
with its source by these)."""

from __future__ import annotations

import math
import operator
from array import array
from collections.abc import Iterator
from pathlib import Path

import av
from av.video.frame import VideoFrame
from PIL import ImageChops

from studio.media.transcode import open_video


def pictures(path: Path) -> list[tuple[float, VideoFrame]]:
    """Every frame with its time, all in memory: for short videos."""
    return list(stream_pictures(path))


def stream_pictures(path: Path) -> Iterator[tuple[float, VideoFrame]]:
    """Every frame with its time, one at a time (a long 1080p video does not fit in memory)."""
    with open_video(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            yield float(frame.time), frame


def psnr(a: VideoFrame, b: VideoFrame) -> float:
    """PSNR of the luma planes (dB), from the histogram of absolute differences."""
    first = a.reformat(format="gray").to_image().convert("L")
    second = b.reformat(width=a.width, height=a.height, format="gray").to_image().convert("L")
    histogram = ImageChops.difference(first, second).histogram()
    mse = sum(count * value * value for value, count in enumerate(histogram)) / (a.width * a.height)
    return math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)


def sound(path: Path) -> array:
    """The left channel as 48 kHz floats."""
    left = array("f")
    with open_video(path) as container:
        if not container.streams.audio:
            return left
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
        for frame in container.decode(container.streams.audio[0]):
            for chunk in resampler.resample(frame):
                left.frombytes(bytes(chunk.planes[0])[: chunk.samples * 4])
    return left


def correlation(a: array, b: array) -> float:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    top = sum(map(operator.mul, a, b))
    return top / math.sqrt(sum(map(operator.mul, a, a)) * sum(map(operator.mul, b, b)))
