"""Generate small real media files with PyAV and Pillow for tests and benchmarks."""

from __future__ import annotations

import functools
import io
import math
import struct
from fractions import Fraction
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.video.frame import VideoFrame
from PIL import Image

CONTAINER_OPTIONS = {"movflags": "+faststart"}


def _picture(width: int, height: int, index: int) -> VideoFrame:
    """A moving diagonal gradient: every frame differs, so seeking can be checked."""
    frame = VideoFrame(width, height, "yuv420p")
    shift = index * 3
    ramp = _ramp(width + height + shift)
    luma = b"".join(ramp[y + shift : y + shift + width] for y in range(height))
    frame.planes[0].update(_pad(luma, frame.planes[0], width, height))
    cw, ch = width // 2, height // 2
    chroma_u = bytes([(index * 5) % 256]) * (cw * ch)
    chroma_v = bytes([(255 - index * 5) % 256]) * (cw * ch)
    frame.planes[1].update(_pad(chroma_u, frame.planes[1], cw, ch))
    frame.planes[2].update(_pad(chroma_v, frame.planes[2], cw, ch))
    return frame


def _ramp(length: int) -> bytes:
    """(x % 220) + 16 for x in range(length): rows of the gradient are slices of it."""
    period = bytes(x + 16 for x in range(220))
    return period * (length // 220 + 1)


def _pad(data: bytes, plane: object, width: int, height: int) -> bytes:
    stride = plane.line_size  # type: ignore[attr-defined]
    if stride == width:
        return data
    rows = (data[y * width : (y + 1) * width].ljust(stride, b"\0") for y in range(height))
    return b"".join(rows)


def _tone(index: int, samples: int, rate: int) -> AudioFrame:
    values = (
        int(8000 * math.sin(2 * math.pi * 440 * (index * samples + n) / rate))
        for n in range(samples)
    )
    data = b"".join(struct.pack("<hh", v, v) for v in values)
    frame = AudioFrame(format="s16", layout="stereo", samples=samples)
    frame.planes[0].update(data)
    frame.sample_rate = rate
    frame.pts = index * samples
    frame.time_base = Fraction(1, rate)
    return frame


def make_video(
    path: Path,
    *,
    seconds: float = 2.0,
    width: int = 320,
    height: int = 240,
    fps: int = 24,
    codec: str = "libx264",
    audio: bool = True,
    rotation: int = 0,
    pix_fmt: str = "yuv420p",
) -> Path:
    """Write a clip; rotation is the counter-clockwise display rotation stored in the file."""
    options = CONTAINER_OPTIONS if path.suffix in (".mp4", ".mov", ".m4v") else {}
    with av.open(str(path), "w", options=options) as out:
        video = out.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        if codec == "libx264":
            video.options = {"preset": "ultrafast"}
        elif codec == "libx265":
            video.options = {"preset": "ultrafast", "x265-params": "log-level=error"}
        elif codec == "libvpx-vp9":
            video.options = {"deadline": "realtime", "cpu-used": "8"}
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = out.add_stream("aac" if path.suffix != ".webm" else "libopus", rate=48000)
            sound.layout = "stereo"
        frames = round(seconds * fps)
        for index in range(frames):
            picture = _picture(width, height, index)
            if pix_fmt != "yuv420p":
                picture = picture.reformat(format=pix_fmt)
            picture.pts = index
            out.mux(video.encode(picture))
        out.mux(video.encode())
        if sound is not None:
            chunk = 960 if path.suffix == ".webm" else 1024
            for index in range(math.ceil(seconds * 48000 / chunk)):
                out.mux(sound.encode(_tone(index, chunk, 48000)))
            out.mux(sound.encode())
    return path


def make_audio_only(path: Path, seconds: float = 1.0) -> Path:
    with av.open(str(path), "w", options=CONTAINER_OPTIONS) as out:
        sound = out.add_stream("aac", rate=48000)
        sound.layout = "stereo"
        for index in range(math.ceil(seconds * 48000 / 1024)):
            out.mux(sound.encode(_tone(index, 1024, 48000)))
        out.mux(sound.encode())
    return path


def make_image(path: Path | None = None, size: tuple[int, int] = (640, 480), fmt: str = "PNG"):
    """An image file (or its bytes when path is None) with a gradient."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    data = buffer.getvalue()
    if path is None:
        return data
    path.write_bytes(data)
    return path


def truncate(src: Path, dest: Path, fraction: float = 0.5) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * fraction)])
    return dest


def bomb_png(path: Path, side: int = 50_000) -> Path:
    """A tiny PNG that declares side x side pixels: a decompression bomb if ever decoded."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\0" + b"\0" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


class Samples:
    """Media files made on first use and shared by the whole test session."""

    RECIPES: dict[str, dict] = {
        "h264.mp4": {},
        "hevc-portrait.mov": {"codec": "libx265", "rotation": -90, "seconds": 3.0},
        "vp9.webm": {"codec": "libvpx-vp9"},
        "mpeg4.mkv": {"codec": "mpeg4"},
        "prores.mov": {"codec": "prores_ks", "pix_fmt": "yuv422p10le", "audio": False},
        "long.mp4": {"seconds": 12.0, "fps": 12, "width": 256, "height": 144},
        "silent.mp4": {"audio": False},
        "short.mp4": {"seconds": 1.0},
        "half.mp4": {"seconds": 0.5},
        "one-frame.mp4": {"seconds": 1 / 24, "audio": False},
        "tall.mp4": {"width": 32, "height": 384, "audio": False},
        "wide.mp4": {"width": 8320, "height": 32, "seconds": 0.25, "audio": False},
        "tiny.mp4": {"width": 160, "height": 120, "seconds": 3.0},
        # A phone's vertical video (9:16), for the players that must fit it on every screen.
        "vertical.mp4": {"seconds": 6.0, "fps": 12, "width": 144, "height": 256},
        # Comments count frames at the clip's own rate: 25 fps, so an assumed 1/30 s shows.
        "review.mp4": {"seconds": 8.0, "fps": 25, "width": 320, "height": 180},
        # An input for the fake Modellix's realistic results: 25 fps, so 30 fps results show.
        "fake-input-25.mp4": {"seconds": 2.4, "fps": 25, "width": 480, "height": 270},
        # Sources for cuts (studio/media/cut.py): long enough for two windows with handles.
        "cut-25.mp4": {"seconds": 9.0, "fps": 25, "width": 480, "height": 270},
        "cut-30.mp4": {"seconds": 6.0, "fps": 30, "width": 480, "height": 270},
        "cut-23976.mp4": {
            "seconds": 6.0,
            "fps": Fraction(24000, 1001),
            "width": 480,
            "height": 270,
        },
        "cut-silent.mp4": {"seconds": 6.0, "fps": 25, "width": 480, "height": 270, "audio": False},
    }

    # Shots with hard cuts (make_shots), for the shot-cut detector and the cuts. The first is the
    # issue's clip: 40 s, 25 fps, 1920x1080 with a tone, hard cuts at 12 s and 27 s (about 8 s
    # to make on a 2-core machine, once per test session).
    SHOT_RECIPES: dict[str, dict] = {
        "shots-40s-1080p.mp4": {},
        "shots-close-cuts.mp4": {
            "seconds": 10.0,
            "width": 320,
            "height": 180,
            "cuts": (2.0, 2.6, 5.04, 8.0),
            "first": 1,
            "speed": 3,
        },
        "shots-fade.mp4": {
            "seconds": 8.0,
            "width": 320,
            "height": 180,
            "cuts": (),
            "fades": (4.0,),
            "first": 1,
            "speed": 2,
            "audio": False,
        },
    }

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __getitem__(self, name: str) -> Path:
        path = self.folder / name
        if path.exists():
            return path
        if name in self.RECIPES:
            return make_video(path, **self.RECIPES[name])
        if name in self.SHOT_RECIPES:
            return make_shots(path, **self.SHOT_RECIPES[name])
        makers = {
            "audio-only.mp4": lambda p: make_audio_only(p),
            "truncated.mp4": lambda p: truncate(self["long.mp4"], p),
            "header-only.mp4": lambda p: truncate(self["h264.mp4"], p, 0.02),
            "text.mp4": lambda p: p.write_text("Just some notes, not a video.\n") and p,
            "empty.mp4": lambda p: p.write_bytes(b"") is not None and p,
            "image.mp4": lambda p: make_image(p),
            "photo.jpg": lambda p: make_image(p, (800, 600), "JPEG"),
            "bomb.png": lambda p: bomb_png(p),
        }
        return makers[name](path)


# Shots for the shot-cut detector and the window proposals: each shot has its own picture and
# colour and moves on every frame; a hard cut is the first frame of the next shot.
SHOT_CHROMA = ((90, 200), (200, 80), (60, 60), (170, 170))


def _shot_picture(width: int, height: int, shot: int, index: int, fade: float = 1.0) -> VideoFrame:
    """Frame `index` of shot `shot`: a moving diagonal gradient, vertical bars sliding right,
    horizontal stripes sliding down or a moving checkerboard, in the shot's colour; `fade`
    scales the picture towards black (1.0: untouched)."""
    frame = VideoFrame(width, height, "yuv420p")
    kind = shot % 4
    period = bytes(range(16, 236))
    if kind == 0:  # the diagonal gradient, 3 px a frame
        ramp = period * ((width + height + 3 * index) // 220 + 2)
        luma = b"".join(ramp[y + 3 * index : y + 3 * index + width] for y in range(height))
    elif kind == 1:  # bars 48 px wide, 8 px a frame
        bars = (b"\x28" * 48 + b"\xd2" * 48) * (width // 96 + 2)
        row = bars[96 - (8 * index) % 96 :][:width]
        luma = row * height
    elif kind == 2:  # stripes 40 px high, 6 px a frame
        light, dark = b"\xe6" * width, b"\x3c" * width
        luma = b"".join(light if ((y + 6 * index) // 40) % 2 else dark for y in range(height))
    else:  # a checkerboard of 64 px squares drifting 4 px a frame both ways
        shift = 4 * index
        light, dark = b"\xb4" * 64, b"\x50" * 64
        even = ((light + dark) * (width // 128 + 2))[shift % 128 :][:width]
        odd = ((dark + light) * (width // 128 + 2))[shift % 128 :][:width]
        luma = b"".join(even if ((y + shift) // 64) % 2 == 0 else odd for y in range(height))
    if fade < 1.0:
        table = bytes(16 + int((v - 16) * fade) if v >= 16 else v for v in range(256))
        luma = luma.translate(table)
    frame.planes[0].update(_pad(luma, frame.planes[0], width, height))
    u, v = SHOT_CHROMA[shot % len(SHOT_CHROMA)]
    u, v = 128 + int((u - 128) * fade), 128 + int((v - 128) * fade)
    cw, ch = width // 2, height // 2
    frame.planes[1].update(_pad(bytes([u]) * (cw * ch), frame.planes[1], cw, ch))
    frame.planes[2].update(_pad(bytes([v]) * (cw * ch), frame.planes[2], cw, ch))
    return frame


def make_shots(
    path: Path,
    *,
    seconds: float = 40.0,
    fps: int = 25,
    width: int = 1920,
    height: int = 1080,
    cuts: tuple[float, ...] = (12.0, 27.0),
    fades: tuple[float, ...] = (),
    audio: bool = True,
    preset: str = "ultrafast",
    first: int = 0,
    speed: int = 1,
) -> Path:
    """Write an H.264 mp4 of shots that change at `cuts` (hard cuts: the shot's first frame is
    the frame at that time) and at `fades` (1 s to black and 1 s back, centred on the time),
    with a 440 Hz tone. `first` picks the first shot's picture, `speed` multiplies motion."""
    changes = sorted([*cuts, *fades])
    with av.open(str(path), "w", options=CONTAINER_OPTIONS) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": preset}
        sound = None
        if audio:
            sound = out.add_stream("aac", rate=48000)
            sound.layout = "stereo"
        for index in range(round(seconds * fps)):
            at = index / fps
            shot = first + sum(1 for change in changes if at >= change - 1e-9)
            level = min([1.0, *(abs(at - fade) for fade in fades)])
            picture = _shot_picture(width, height, shot, index * speed, fade=level)
            picture.pts = index
            out.mux(video.encode(picture))
        out.mux(video.encode())
        if sound is not None:
            for index in range(math.ceil(seconds * 48000 / 1024)):
                out.mux(sound.encode(_steady_tone(index)))
            out.mux(sound.encode())
    return path


@functools.cache
def _tone_period() -> bytes:
    """1200 stereo samples of the 440 Hz tone at 48 kHz: 11 whole cycles, so it repeats."""
    values = (int(8000 * math.sin(2 * math.pi * 440 * n / 48000)) for n in range(1200))
    return b"".join(struct.pack("<hh", v, v) for v in values) * 3


def _steady_tone(index: int) -> AudioFrame:
    """_tone(index, 1024, 48000), cut from a repeating period (long clips are made quicker)."""
    offset = (index * 1024) % 1200 * 4
    frame = AudioFrame(format="s16", layout="stereo", samples=1024)
    frame.planes[0].update(_tone_period()[offset : offset + 1024 * 4])
    frame.sample_rate = 48000
    frame.pts = index * 1024
    frame.time_base = Fraction(1, 48000)
    return frame
