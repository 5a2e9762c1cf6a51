"""Decide whether an uploaded file is a video we accept, and describe it.

The file is never handed to FFmpeg's format guessing: we read its first bytes ourselves and
open it only with the demuxer of an allow-listed container (MP4/MOV family or Matroska/WebM).
FFmpeg's guessing would also accept playlists (HLS, concat) that make it open other files.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av

ALLOWED_VIDEO_CODECS = {
    "h264": "H.264",
    "hevc": "HEVC",
    "vp9": "VP9",
    "av1": "AV1",
    "prores": "ProRes",
    "mpeg4": "MPEG-4",
    "vp8": "VP8",
}
ACCEPTED_CONTAINERS = "MP4, MOV, M4V, WebM or MKV"
MIN_SIDE = 16
MAX_SIDE = 8192
MAX_PIXELS = 8192 * 4320
MAX_STREAMS = 16
HEAD_BYTES = 64


class MediaRejected(Exception):
    """The file cannot be used; the message is shown to the person who uploaded it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class VideoInfo:
    container: str  # mp4, mov, m4v, webm, mkv
    video_codec: str
    audio_codec: str  # "" when there is no audio
    duration: float  # seconds
    fps: float
    width: int  # as displayed, rotation applied
    height: int
    coded_width: int
    coded_height: int
    rotation: int  # counter-clockwise degrees to display upright: 0, 90, 180 or 270
    pix_fmt: str
    has_audio: bool
    bit_rate: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def human_duration(seconds: float) -> str:
    """'14 minutes 20 seconds', '10 minutes', '9.5 seconds'."""
    if seconds < 0.995:
        # Never round a short clip down to "0 seconds": 0.5 s and a single 1/30 s frame are
        # both real lengths, and "0" reads as an empty file.
        text = f"{max(seconds, 0.01):.2f}".rstrip("0")
        return f"{text} seconds"
    if seconds < 60:
        text = f"{seconds:.1f}".removesuffix(".0")
        return f"{text} second{'' if text == '1' else 's'}"
    minutes, rest = divmod(round(seconds), 60)
    text = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if rest:
        text += f" {rest} second{'s' if rest != 1 else ''}"
    return text


def describe_non_video(head: bytes) -> str | None:
    """Name what a file is from its first bytes, for a clear rejection message."""
    signatures = [
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"BM", "a BMP image"),
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"ID3", "an MP3 audio file"),
        (b"fLaC", "a FLAC audio file"),
        (b"OggS", "an Ogg file"),
        (b"#EXTM3U", "a playlist"),
        (b"\x1f\x8b", "a gzip archive"),
    ]
    for magic, name in signatures:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF":
        kind = head[8:12]
        return {b"WAVE": "a WAV audio file", b"WEBP": "a WebP image", b"AVI ": "an AVI video"}.get(
            kind, "a RIFF file"
        )
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "an MP3 audio file"
    if head[4:8] == b"ftyp" and head[8:11] in (b"hei", b"avi", b"mif"):
        return "a HEIF/AVIF image"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return "a text file"
    return None


def sniff_container(head: bytes) -> str | None:
    """Return 'mov' for the MP4/QuickTime family, 'matroska' for MKV/WebM, None otherwise."""
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        if head[4:8] == b"ftyp" and head[8:11] in (b"hei", b"avi", b"mif"):
            return None  # HEIF/AVIF still images share the box layout
        return "mov"
    return None


def _container_label(family: str, head: bytes, metadata: dict[str, str]) -> str:
    if family == "matroska":
        return "webm" if b"webm" in head else "mkv"
    brand = metadata.get("major_brand", "").strip().lower()
    if brand.startswith(("3g", "mj2")):
        raise MediaRejected(
            f"This is a 3GP/MJ2 file; Cutroom accepts {ACCEPTED_CONTAINERS} videos."
        )
    if brand == "qt":
        return "mov"
    if brand.startswith("m4v"):
        return "m4v"
    return "mp4"


def _normalise_rotation(degrees: float) -> int:
    return int(round(degrees / 90.0)) * 90 % 360


def _stream_duration(container: Any, stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return None


def _frame_rate(stream: Any, duration: float, packets: int) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0.5 <= float(rate) <= 480:
            return round(float(rate), 3)
    if duration > 0 and packets:
        return round(packets / duration, 3)
    return 0.0


def _read_packets(container: Any, stream: Any) -> tuple[int, float]:
    """Demux every packet of the video stream: how many, and where the last one ends (s)."""
    count, end = 0, 0.0
    base = stream.time_base
    for packet in container.demux(stream):
        if packet.size == 0:
            continue  # the flush packet at the end
        count += 1
        if packet.pts is not None and base:
            end = max(end, float((packet.pts + (packet.duration or 0)) * base))
    return count, end


def _check_index(stream: Any, size: int) -> None:
    """MP4/MOV index every sample: one that lies past the end of the file means truncation."""
    entries = stream.index_entries
    if entries and max(entry.pos + entry.size for entry in entries) > size:
        raise MediaRejected(
            "The file is incomplete: it ends before the video does (was the upload or the "
            "export interrupted?)."
        )


def probe(path: Path, *, max_seconds: float) -> VideoInfo:
    """Describe the video at `path`, or raise MediaRejected with a reason a person can act on."""
    size = path.stat().st_size
    if size == 0:
        raise MediaRejected("The file is empty (0 bytes).")
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    family = sniff_container(head)
    if family is None:
        what = describe_non_video(head)
        if what:
            raise MediaRejected(f"This file is {what}, not a video Cutroom can use.")
        raise MediaRejected(f"This file is not a video. Cutroom accepts {ACCEPTED_CONTAINERS}.")
    try:
        container = av.open(
            str(path), format=family, options={"protocol_whitelist": "file"}, timeout=30
        )
    except av.FFmpegError:
        raise MediaRejected(
            "The file is damaged or incomplete: its video header cannot be read."
        ) from None
    with container:
        return _describe(container, family, head, size, max_seconds)


def _describe(container: Any, family: str, head: bytes, size: int, max_seconds: float) -> VideoInfo:
    label = _container_label(family, head, dict(container.metadata))
    if len(container.streams) > MAX_STREAMS:
        count = len(container.streams)
        raise MediaRejected(f"The file has {count} streams; at most {MAX_STREAMS} are allowed.")
    if not container.streams:
        raise MediaRejected("The file is damaged or incomplete: no streams can be read.")
    if not container.streams.video:
        if container.streams.audio:
            raise MediaRejected("This file contains only sound; it has no video stream.")
        raise MediaRejected("This file has no video stream.")
    stream = container.streams.video[0]
    context = stream.codec_context
    codec = context.codec.canonical_name  # "av1", not the decoder's name "libdav1d"
    if codec not in ALLOWED_VIDEO_CODECS:
        accepted = ", ".join(ALLOWED_VIDEO_CODECS.values())
        raise MediaRejected(f"The video is encoded as {codec}; Cutroom accepts {accepted}.")
    width, height = context.width, context.height
    if not width or not height:
        raise MediaRejected("The file is damaged: the video has no picture size.")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise MediaRejected(
            f"The video declares {width}×{height} pixels; Cutroom accepts at most "
            f"{MAX_SIDE} pixels per side (8K)."
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise MediaRejected(f"The video is only {width}×{height} pixels; too small to edit.")
    declared = _stream_duration(container, stream)
    if declared is not None and declared > max_seconds:
        raise MediaRejected(
            f"The clip is {human_duration(declared)} long; the limit is "
            f"{human_duration(max_seconds)}. Trim it before uploading."
        )
    if family == "mov":
        _check_index(stream, size)
    rotation = _first_frame_rotation(container, stream)
    container.seek(0, stream=stream)
    try:
        packets, end = _read_packets(container, stream)
    except av.FFmpegError:
        raise MediaRejected("The file is damaged: reading the video failed part way.") from None
    if packets == 0:
        raise MediaRejected("The video stream is empty.")
    duration = declared if declared and declared > 0 else end
    if duration <= 0 or not math.isfinite(duration):
        raise MediaRejected("The length of the video cannot be determined.")
    if end and end < duration * 0.9 - 0.5:
        raise MediaRejected(
            f"The file is incomplete: it declares {human_duration(duration)} but only "
            f"{human_duration(end)} of video can be read."
        )
    if duration > max_seconds:
        raise MediaRejected(
            f"The clip is {human_duration(duration)} long; the limit is "
            f"{human_duration(max_seconds)}. Trim it before uploading."
        )
    audio = container.streams.audio[0] if container.streams.audio else None
    turned = rotation in (90, 270)
    return VideoInfo(
        container=label,
        video_codec=codec,
        audio_codec=audio.codec_context.codec.canonical_name if audio else "",
        duration=round(duration, 3),
        fps=_frame_rate(stream, duration, packets),
        width=height if turned else width,
        height=width if turned else height,
        coded_width=width,
        coded_height=height,
        rotation=rotation,
        pix_fmt=context.pix_fmt or "",
        has_audio=audio is not None,
        bit_rate=int(container.bit_rate or 0),
    )


def _first_frame_rotation(container: Any, stream: Any) -> int:
    """Decode the first picture: proves the stream decodes, and carries the display matrix."""
    try:
        for frame in container.decode(stream):
            return _normalise_rotation(frame.rotation)
    except av.FFmpegError:
        pass
    raise MediaRejected("The file is damaged: its first picture cannot be decoded.")


def browser_can_play(info: VideoInfo) -> bool:
    """Whether Chromium plays the file as it is; otherwise the worker makes an H.264 proxy."""
    if info.pix_fmt not in ("yuv420p", "yuvj420p"):
        return False  # 10-bit, 4:2:2 and 4:4:4 do not play everywhere
    if info.container in ("mp4", "m4v"):
        return info.video_codec in {"h264", "av1", "vp9"} and info.audio_codec in {
            "",
            "aac",
            "mp3",
            "opus",
        }
    if info.container == "webm":
        return info.video_codec in {"vp8", "vp9", "av1"} and info.audio_codec in {
            "",
            "opus",
            "vorbis",
        }
    return False  # QuickTime and Matroska files play unreliably; always make a proxy
