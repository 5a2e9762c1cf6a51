"""Timecodes at a clip's own rate: SMPTE-style HH:MM:SS:FF from frames."""

from __future__ import annotations


def timecode_rate(fps: float) -> int:
    """The whole-number rate timecodes count in (23.976 counts as 24, non-drop-frame)."""
    return max(1, round(fps))


def timecode(frames: int, rate: int) -> str:
    seconds, ff = divmod(frames, rate)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"
