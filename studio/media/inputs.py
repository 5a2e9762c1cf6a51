"""Turn a window of a source clip into a clip the provider accepts.

The provider takes MP4/MOV, 2-10 s, 240-4096 px per side, aspect 1:8 to 8:1, at most 100 MB, and
cuts from 0 s itself. We cut the chosen window, turn it upright, scale it into those limits
(down to 1080p on the short side, since the provider returns at most 1080p; up to 240 px when
the source is smaller) and encode H.264/AAC with a bit-rate ceiling that keeps 10 s far below
100 MB.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from studio.media.probe import MediaRejected, VideoInfo, human_duration
from studio.media.transcode import Encoded, fit, transcode

MIN_SECONDS = 2.0
MAX_SECONDS = 10.0
MIN_SIDE = 240
MAX_SIDE = 4096
SHORT_SIDE_TARGET = 1080
MAX_ASPECT = 8.0
MAX_BYTES = 100 * 1024 * 1024
SLACK = 0.05  # seconds of rounding we forgive at the end of a clip


def check_window(info: VideoInfo, start: float, length: float) -> None:
    """Raise MediaRejected when this window of this clip cannot become a provider input."""
    ratio = max(info.width, info.height) / min(info.width, info.height)
    if ratio > MAX_ASPECT + 1e-6:
        raise MediaRejected(
            f"The clip's aspect ratio is about 1:{ratio:.0f}; the provider accepts 1:8 to 8:1."
        )
    if info.duration < MIN_SECONDS - SLACK:
        raise MediaRejected(
            f"The clip is {human_duration(info.duration)} long; the provider needs at least 2 s."
        )
    if not MIN_SECONDS - 1e-6 <= length <= MAX_SECONDS + 1e-6:
        raise MediaRejected("The part to edit must be between 2 and 10 seconds long.")
    if start < 0:
        raise MediaRejected("The part to edit cannot start before the clip does.")
    if start + length > info.duration + SLACK:
        raise MediaRejected(
            f"The part to edit ends at {start + length:.1f} s, after the clip's end "
            f"({info.duration:.1f} s)."
        )


def input_size(info: VideoInfo) -> tuple[int, int]:
    return fit(
        info.width,
        info.height,
        long_max=MAX_SIDE,
        short_max=SHORT_SIDE_TARGET,
        short_min=MIN_SIDE,
    )


def make_input(
    src: Path,
    dest: Path,
    *,
    info: VideoInfo,
    start: float,
    length: float,
    progress: Callable[[float], None] | None = None,
) -> Encoded:
    check_window(info, start, length)
    length = min(length, info.duration - start)
    encoded = transcode(
        src,
        dest,
        info=info,
        size=input_size(info),
        start=start,
        length=length,
        crf=18,
        preset="veryfast",
        maxrate="40M",  # 10 s x 40 Mbit/s = 50 MB at worst
        progress=progress,
    )
    if encoded.size > MAX_BYTES:
        raise MediaRejected("The prepared clip is over 100 MB; choose a shorter part.")
    return encoded
