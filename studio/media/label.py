"""The visible "AI-generated" label burned into files Cutroom hands out (docs/provenance.md).

A light word on a semi-opaque dark plate in a corner (bottom-right by default, where providers
put their own "AI生成" mark): the text about 3.7 % of the picture's height, never under
MIN_TEXT_PX and never wider than a third of the picture (a portrait frame would otherwise get a
label across half its width, over a face). It is drawn once per frame size and orientation
(Pillow), kept as Y, U and V patches with their coverage, and laid over each yuv420p frame's
planes in place: only the label's rectangle is read and written, so a frame costs a few small
blends in Pillow's C code, whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import av
from av.video.frame import PictureType, VideoFrame
from PIL import Image, ImageDraw, ImageFont

from studio.media.transcode import open_video, x264_options

TEXT = "AI-generated"
TEXT_SHARE = 0.037  # of the picture's height
MIN_TEXT_PX = 12
MAX_WIDTH_SHARE = 0.34  # of the picture's width, plate included
PLATE_OPACITY = 166  # of 255: about 65 %
TEXT_COLOUR = (250, 250, 250, 255)
PLATE_COLOUR = (12, 14, 19)
CORNERS = ("bottom-right", "bottom-left", "top-right", "top-left")
# Fonts tried in order; Pillow's own (load_default) is the fallback, so it never needs a file.
FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)
CRF = 18  # the labelled copy: close to the provider's own quality


@cache
def _font_file() -> str | None:
    return next((name for name in FONTS if Path(name).is_file()), None)


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = _font_file()
    if name is not None:
        return ImageFont.truetype(name, size)
    return ImageFont.load_default(size=size)


def _text_size(width: int, height: int) -> int:
    """The text's height in pixels for an upright picture of width x height."""
    size = max(MIN_TEXT_PX, round(height * TEXT_SHARE))
    while size > MIN_TEXT_PX and _plate_size(size)[0] > width * MAX_WIDTH_SHARE:
        size -= 1
    return size


def _plate_size(size: int) -> tuple[int, int]:
    left, top, right, bottom = _font(size).getbbox(TEXT)
    pad_x, pad_y = round(size * 0.5), round(size * 0.3)
    return int(right - left) + 2 * pad_x, int(bottom - top) + 2 * pad_y


@lru_cache(maxsize=16)
def label_image(width: int, height: int) -> Image.Image:
    """The label alone (RGBA, transparent outside its rounded plate) for an upright picture.
    Drawn once per size (cached: callers read it, never draw on it)."""
    size = _text_size(width, height)
    font = _font(size)
    plate_w, plate_h = _plate_size(size)
    image = Image.new("RGBA", (plate_w, plate_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    radius = max(2, round(plate_h * 0.2))
    draw.rounded_rectangle(
        (0, 0, plate_w - 1, plate_h - 1), radius=radius, fill=(*PLATE_COLOUR, PLATE_OPACITY)
    )
    left, top, _, _ = font.getbbox(TEXT)
    draw.text(
        (round(size * 0.5) - left, round(size * 0.3) - top), TEXT, font=font, fill=TEXT_COLOUR
    )
    return image


def label_box(width: int, height: int, corner: str = "bottom-right") -> tuple[int, int, int, int]:
    """Where the label sits on an upright picture: (left, top, right, bottom), inside a margin
    of 3 % of the short side (at least 8 px) from the corner's edges."""
    plate_w, plate_h = label_image(width, height).size
    margin = max(8, round(min(width, height) * 0.03))
    left = width - margin - plate_w if corner.endswith("right") else margin
    top = height - margin - plate_h if corner.startswith("bottom") else margin
    return left, top, left + plate_w, top + plate_h


@dataclass(frozen=True)
class Stamp:
    """The label ready to lay over yuv420p frames of one coded size: a patch per plane (Y at
    full size, U and V at half) with its coverage, and where the patch goes (even, so the
    chroma patch lines up)."""

    x: int
    y: int
    planes: tuple[Image.Image, Image.Image, Image.Image]
    masks: tuple[Image.Image, Image.Image, Image.Image]

    def burn(self, frame: VideoFrame) -> VideoFrame:
        """A copy of the frame with the label over it. Never in place: a decoder's frame may be
        the picture later frames are predicted from."""
        frame = _own_copy(frame.reformat(format="yuv420p"))
        for index in range(3):
            _blend_into(frame, index, self.planes[index], self.masks[index], self.at(index))
        return frame

    def at(self, index: int) -> tuple[int, int]:
        """Where the patch of plane `index` goes (the chroma planes are half size)."""
        return (self.x, self.y) if index == 0 else (self.x // 2, self.y // 2)


def _own_copy(frame: VideoFrame) -> VideoFrame:
    copy = VideoFrame(frame.width, frame.height, "yuv420p")
    for source, target in zip(frame.planes, copy.planes, strict=True):
        if source.line_size == target.line_size:
            target.update(memoryview(source)[: target.buffer_size])  # type: ignore[arg-type]
            continue
        width, reading, writing = source.width, memoryview(source), memoryview(target)
        for row in range(source.height):
            at, to = row * source.line_size, row * target.line_size
            writing[to : to + width] = reading[at : at + width]
    copy.pts = frame.pts
    if frame.time_base is not None:
        copy.time_base = frame.time_base
    return copy


def _blend_into(
    frame: VideoFrame, index: int, patch: Image.Image, mask: Image.Image, at: tuple[int, int]
) -> None:
    plane = frame.planes[index]
    stride = plane.line_size
    x, y = at
    w, h = patch.size
    w, h = min(w, plane.width - x), min(h, plane.height - y)
    if w <= 0 or h <= 0:
        return
    memory = memoryview(plane)
    rows = bytearray(w * h)
    for row in range(h):
        start = (y + row) * stride + x
        rows[row * w : (row + 1) * w] = memory[start : start + w]
    under = Image.frombytes("L", (w, h), bytes(rows))
    blended = Image.composite(patch.crop((0, 0, w, h)), under, mask.crop((0, 0, w, h))).tobytes()
    for row in range(h):
        start = (y + row) * stride + x
        memory[start : start + w] = blended[row * w : (row + 1) * w]


@lru_cache(maxsize=16)
def stamp_for(width: int, height: int, rotation: int = 0, corner: str = "bottom-right") -> Stamp:
    """The stamp for frames coded width x height that are shown turned by `rotation` degrees
    counter-clockwise (a phone's portrait clip): the label is placed on the upright picture,
    then turned back to the coded frame, so it reads upright in the corner people see."""
    turned = rotation % 180 == 90
    up_w, up_h = (height, width) if turned else (width, height)
    left, top, _, _ = label_box(up_w, up_h, corner)
    canvas = Image.new("RGBA", (up_w, up_h), (0, 0, 0, 0))
    canvas.paste(label_image(up_w, up_h), (left, top))
    if rotation % 360:
        canvas = canvas.rotate(-rotation, expand=True)  # upright -> coded: the opposite turn
    bbox = canvas.getchannel("A").getbbox() or (0, 0, 2, 2)
    x0, y0 = bbox[0] // 2 * 2, bbox[1] // 2 * 2
    x1, y1 = min(width, (bbox[2] + 1) // 2 * 2), min(height, (bbox[3] + 1) // 2 * 2)
    patch = canvas.crop((x0, y0, x1, y1))
    alpha = patch.getchannel("A")
    ycbcr = patch.convert("RGB").convert("YCbCr").split()
    half = ((x1 - x0) // 2, (y1 - y0) // 2)
    luma = _video_range(ycbcr[0], luma=True)
    cb = _video_range(ycbcr[1].resize(half, Image.Resampling.BOX), luma=False)
    cr = _video_range(ycbcr[2].resize(half, Image.Resampling.BOX), luma=False)
    return Stamp(
        x=x0,
        y=y0,
        planes=(luma, cb, cr),
        masks=(
            alpha,
            alpha.resize(half, Image.Resampling.BOX),
            alpha.resize(half, Image.Resampling.BOX),
        ),
    )


def _video_range(channel: Image.Image, *, luma: bool) -> Image.Image:
    """Pillow's YCbCr is full range (JPEG); H.264 here is limited range (16-235, 16-240)."""
    span = 219 if luma else 224
    return channel.point(lambda value: 16 + round(value * span / 255))


def label_rgb(canvas: Image.Image, corner: str = "bottom-right") -> None:
    """Draw the label over an RGB picture in place (the side-by-side export composes in RGB)."""
    label = label_image(*canvas.size)
    left, top, _, _ = label_box(*canvas.size, corner)
    canvas.paste(label, (left, top), label)


def burn_label(source: Path, dest: Path, *, rotation: int = 0) -> int:
    """Write `source` with the label over every frame to `dest` (MP4, H.264 yuv420p); the sound
    is copied untouched and every frame keeps its timestamp. Returns the number of frames."""
    frames = 0
    with (
        open_video(source) as container,
        av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        vin = container.streams.video[0]
        vin.thread_type = "AUTO"
        context = vin.codec_context
        vout = out.add_stream("libx264", rate=vin.average_rate or Fraction(30))
        vout.width, vout.height, vout.pix_fmt = context.width, context.height, "yuv420p"
        vout.time_base = vin.time_base
        vout.codec_context.time_base = vin.time_base
        if context.sample_aspect_ratio:
            vout.codec_context.sample_aspect_ratio = context.sample_aspect_ratio
        if rotation:
            vout.set_display_rotation(rotation)
        vout.options = {"preset": "veryfast", "crf": str(CRF), **x264_options()}
        ain = container.streams.audio[0] if container.streams.audio else None
        aout = out.add_stream_from_template(ain) if ain is not None else None
        stamp = stamp_for(context.width, context.height, rotation)
        streams = [vin] if ain is None else [vin, ain]
        seen: dict[str, int] = {}
        for packet in container.demux(*streams):
            if packet.stream is ain:
                if packet.dts is not None:
                    packet.stream = aout
                    out.mux(packet)
                continue
            for frame in _decoded(packet):
                frames += _encode(stamp, frame, vout, out, seen)
        out.mux(vout.encode())
    return frames


def _decoded(packet: Any) -> list[Any]:
    try:
        return list(packet.decode())
    except av.InvalidDataError:
        return []  # one damaged packet should not sink the copy


def _encode(stamp: Stamp, frame: Any, vout: Any, out: Any, seen: dict[str, int]) -> int:
    if frame.pts is None:
        return 0
    pts = max(frame.pts, seen.get("last", -1) + 1)  # a repeated timestamp would stop the muxer
    seen["last"] = pts
    picture = stamp.burn(frame)
    picture.pts, picture.time_base = pts, frame.time_base
    picture.pict_type = PictureType.NONE  # let x264 choose (see transcode._encode_video)
    out.mux(vout.encode(picture))
    return 1
