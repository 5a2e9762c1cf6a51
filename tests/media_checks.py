"""Measures tests take of videos: frames with their times, the luma PSNR of two frames, the
left channel of the sound and its correlation with another (the cut tests compare a render
with its source by these)."""

from __future__ import annotations

import functools
import math
import operator
from array import array
from collections.abc import Iterator
from pathlib import Path

import av
from av.video.frame import VideoFrame
from PIL import Image, ImageChops

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
    """PSNR of the luma planes (dB), from the histogram of absolute differences.

    The luma is as swscale's conversion to gray gives it (limited range stretched to 0-255).
    Two decoded frames of one size and format are read from their Y planes through the same
    mapping (_gray_table), which gives the same bytes ten times faster: the long-clip test
    compares a thousand 1080p frames."""
    if a.format.name == b.format.name == "yuv420p" and (a.width, a.height) == (b.width, b.height):
        first, second = _luma(a), _luma(b)
    else:
        first = a.reformat(format="gray").to_image().convert("L")
        second = b.reformat(width=a.width, height=a.height, format="gray").to_image().convert("L")
    histogram = ImageChops.difference(first, second).histogram()
    mse = sum(count * value * value for value, count in enumerate(histogram)) / (a.width * a.height)
    return math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)


def _luma(frame: VideoFrame) -> Image.Image:
    """The frame's Y plane as reformat(format="gray") gives it."""
    plane = frame.planes[0]
    size = (frame.width, frame.height)
    raw = Image.frombuffer("L", size, bytes(plane), "raw", "L", plane.line_size, 1)
    return raw.point(_gray_table(frame.format.name))


@functools.cache
def _gray_table(format_name: str) -> list[int]:
    """What swscale makes of each luma value 0-255 of `format_name` when it converts to gray:
    read from a frame holding every value once, so the mapping is swscale's own."""
    frame = VideoFrame(256, 2, format_name)
    for plane in frame.planes[1:]:
        plane.update(bytes([128]) * plane.buffer_size)
    luma = frame.planes[0]
    luma.update(bytes(range(256)).ljust(luma.line_size, b"\0") * 2)
    return list(frame.reformat(format="gray").to_image().convert("L").tobytes()[:256])


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
