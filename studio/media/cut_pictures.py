"""Picture arithmetic for cuts, on yuv420p frames through Pillow's C code (no per-pixel Python).

A plane is seen as an "L" image laid over the frame's own memory, its line size as the stride,
so reading a plane copies nothing (nor blanks a new image first); a blend is written straight
into the new frame's plane when the two line up, as they do for every even width.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from av.video.frame import VideoFrame
from PIL import Image, ImageChops, ImageStat

PICTURE_WIDTH = 320  # the seam pictures: enough to see a jump, small enough to keep per join
STATS_WIDTH = 160  # colour statistics on a small copy: the means and spreads barely change


def _visible(frame: VideoFrame, index: int) -> Image.Image:
    """The plane's visible pixels, read in place (the image keeps the frame's buffer alive)."""
    plane = frame.planes[index]
    size = (plane.width, plane.height)
    # Pillow maps any object with the buffer protocol (its stubs name only a few of them).
    return Image.frombuffer("L", size, plane, "raw", "L", plane.line_size, 1)  # type: ignore[arg-type]


def blend(under: VideoFrame, over: VideoFrame, weight: float) -> VideoFrame:
    """(1 - weight) * under + weight * over, plane by plane; both yuv420p of one size."""
    mixed = VideoFrame(under.width, under.height, "yuv420p")
    for index in range(3):
        picture = Image.blend(_visible(under, index), _visible(over, index), weight)
        target = mixed.planes[index]
        if target.line_size != target.width:
            padded = Image.new("L", (target.line_size, target.buffer_size // target.line_size))
            padded.paste(picture, (0, 0))
            picture = padded
        target.update(picture.tobytes())
    return mixed


def luma_step(a: VideoFrame, b: VideoFrame) -> float:
    """Mean absolute difference of the two frames' luma, in 8-bit levels (0-255)."""
    difference = ImageChops.difference(_visible(a, 0), _visible(b, 0))
    return float(ImageStat.Stat(difference).mean[0])


@dataclass(frozen=True)
class PlaneStats:
    """Mean and standard deviation of Y, U and V over some frames."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]


def plane_stats(frames: list[VideoFrame]) -> PlaneStats:
    """Statistics of the frames together, each shrunk to STATS_WIDTH first."""
    sums = [[0.0, 0.0, 0.0] for _ in range(3)]  # per plane: count, sum, sum of squares
    for frame in frames:
        height = max(2, round(frame.height * STATS_WIDTH / frame.width / 2) * 2)
        small = frame.reformat(width=STATS_WIDTH, height=height, format="yuv420p")
        for index in range(3):
            stat = ImageStat.Stat(_visible(small, index))
            sums[index][0] += stat.count[0]
            sums[index][1] += stat.sum[0]
            sums[index][2] += stat.sum2[0]
    means, stds = [], []
    for count, total, squares in sums:
        mean = total / max(count, 1)
        means.append(mean)
        stds.append(max(squares / max(count, 1) - mean * mean, 0.0) ** 0.5)
    return PlaneStats(mean=(means[0], means[1], means[2]), std=(stds[0], stds[1], stds[2]))


def transfer_filter(take: PlaneStats, source: PlaneStats) -> tuple[str, str]:
    """A lutyuv that moves each plane's mean and spread from the take's to the source's.

    Per-channel mean/std transfer (Reinhard's method) in YCbCr rather than RGB: the planes are
    already nearly decorrelated and the frames never leave YUV. The gain is bounded, so a flat
    handle (a black frame) cannot blow the take's contrast up."""
    parts = []
    for name, index in (("y", 0), ("u", 1), ("v", 2)):
        gain = source.std[index] / take.std[index] if take.std[index] > 0.5 else 1.0
        gain = min(max(gain, 0.5), 2.0)
        offset = source.mean[index] - take.mean[index] * gain
        parts.append(f"{name}='clip(val*{gain:.5f}+{offset:.4f},0,255)'")
    return ("lutyuv", ":".join(parts))


def jpeg(frame: VideoFrame, rotation: int) -> bytes:
    """A small upright JPEG of a frame (rotation: counter-clockwise degrees to display upright)."""
    height = max(2, round(frame.height * PICTURE_WIDTH / frame.width / 2) * 2)
    image = frame.reformat(width=PICTURE_WIDTH, height=height, format="rgb24").to_image()
    if rotation:
        image = image.rotate(rotation, expand=True)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()
