"""Reference images: check them against the provider's limits, turn them upright, thumbnail."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from studio.media.probe import MediaRejected, describe_non_video

# The provider's limits for reference images (see shared provider notes).
FORMATS = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp", "WEBP": "webp"}
MIN_SIDE = 240
MAX_SIDE = 8000
MAX_BYTES = 20 * 1024 * 1024
MAX_ASPECT = 8.0
# Pillow refuses to decode more pixels than this; set just above the largest allowed image so a
# file that declares more (a decompression bomb) fails before any pixel is decoded.
Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE


@dataclass(frozen=True)
class ImageInfo:
    format: str  # JPEG, PNG, BMP, WEBP
    extension: str
    width: int  # upright, EXIF orientation applied
    height: int
    needs_turn: bool


def inspect(handle: BinaryIO, size: int) -> ImageInfo:
    """Check an image from its header alone (cheap: safe in the web process)."""
    if size == 0:
        raise MediaRejected("The file is empty (0 bytes).")
    if size > MAX_BYTES:
        raise MediaRejected(
            f"The image is {size / 1024 / 1024:.1f} MB; reference images may be at most 20 MB."
        )
    head = handle.read(64)
    handle.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(handle)
            fmt = image.format or ""
            width, height = image.size
            orientation = image.getexif().get(0x0112, 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRejected(
            "This image declares far more pixels than it could sensibly hold (a "
            "decompression bomb); it was not opened."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        what = describe_non_video(head)
        if what and "image" in what:
            raise MediaRejected(f"This is {what}; use JPEG, PNG, BMP or WebP.") from None
        if what:
            raise MediaRejected(f"This file is {what}, not an image.") from None
        raise MediaRejected(
            "This file is not an image Cutroom can read; use JPEG, PNG, BMP or WebP."
        ) from None
    if fmt not in FORMATS:
        raise MediaRejected(f"This is a {fmt or 'unknown'} image; use JPEG, PNG, BMP or WebP.")
    turned = orientation in (5, 6, 7, 8)
    if turned:
        width, height = height, width
    _check_size(width, height)
    return ImageInfo(fmt, FORMATS[fmt], width, height, needs_turn=orientation not in (1, None))


def _check_size(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE:
        raise MediaRejected(
            f"The image is {width}×{height} pixels; at most {MAX_SIDE} pixels per side are allowed."
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise MediaRejected(
            f"The image is {width}×{height} pixels; it needs at least {MIN_SIDE} pixels per side."
        )
    ratio = max(width, height) / min(width, height)
    if ratio > MAX_ASPECT:
        raise MediaRejected(
            f"The image's aspect ratio is about 1:{ratio:.0f}; the provider accepts 1:8 to 8:1."
        )


def prepare(src: Path, upright: Path, thumb: Path, info: ImageInfo) -> bool:
    """Decode fully (proves the file is whole), write an upright copy if needed and a thumbnail.

    Returns True when `upright` was written (EXIF orientation applied, metadata dropped).
    """
    try:
        with Image.open(src) as image:
            image.load()
            turned = ImageOps.exif_transpose(image) if info.needs_turn else image
            if info.needs_turn:
                save = {"quality": 95} if info.format == "JPEG" else {}
                _flatten(turned, info.format).save(upright, format=info.format, **save)
            preview = _flatten(turned, "JPEG")
            preview.thumbnail((480, 480), Image.Resampling.LANCZOS)
            preview.save(thumb, format="JPEG", quality=85)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise MediaRejected("The image is damaged or incomplete and cannot be decoded.") from None
    return info.needs_turn


def _flatten(image: Image.Image, fmt: str) -> Image.Image:
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, (24, 24, 28))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image
