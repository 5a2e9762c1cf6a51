"""Reference images: check them against the provider's limits, turn them upright, thumbnail."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

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


def inspect(handle: BinaryIO | IO[bytes], size: int) -> ImageInfo:
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


# What an image keeps when it is re-saved: how its pixels are meant (the colour profile, the
# transparent palette entry), never who made it, where or with what.
KEEP_INFO = ("icc_profile", "transparency")
SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"quality": 95}}


def prepare(src: Path, clean: Path, thumb: Path, info: ImageInfo) -> None:
    """Decode fully (proves the file is whole), then write the copy Cutroom keeps and a thumbnail.

    The kept copy is re-encoded from the pixels, upright (EXIF orientation applied), without any
    metadata: no EXIF (GPS position, camera, times), XMP, IPTC, comments or text chunks, and
    nothing hidden after the image data. Only the ICC colour profile stays. A lossless WebP
    stays lossless; JPEG and lossy WebP are written at quality 95.
    """
    try:
        with Image.open(src) as image:
            image.load()
            lossless = info.format == "WEBP" and _webp_is_lossless(src)
            ImageOps.exif_transpose(image, in_place=True)
            image.info = {key: image.info[key] for key in KEEP_INFO if key in image.info}
            options = dict(SAVE_OPTIONS.get(info.format, {}))
            if lossless:
                options = {"lossless": True}
            if "icc_profile" in image.info:
                options["icc_profile"] = image.info["icc_profile"]
            _flatten(image, info.format).save(clean, format=info.format, **options)
            preview = _flatten(image, "JPEG")
            preview.thumbnail((480, 480), Image.Resampling.LANCZOS)
            preview.info = {}  # thumbnail() works in place on an image that may be `image`
            preview.save(thumb, format="JPEG", quality=85)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise MediaRejected("The image is damaged or incomplete and cannot be decoded.") from None
    size = clean.stat().st_size
    if size > MAX_BYTES:
        raise MediaRejected(
            f"Saved without its metadata the image takes {size / 1024 / 1024:.1f} MB; reference "
            "images may be at most 20 MB. Use fewer pixels or JPEG."
        )


def _webp_is_lossless(path: Path) -> bool:
    """Whether the WebP's picture is a VP8L (lossless) chunk, found by walking its RIFF chunks."""
    with path.open("rb") as handle:
        if handle.read(12)[8:12] != b"WEBP":
            return False
        while len(header := handle.read(8)) == 8:
            kind, size = header[:4], int.from_bytes(header[4:], "little")
            if kind in (b"VP8 ", b"VP8L"):
                return kind == b"VP8L"
            handle.seek(size + (size & 1), 1)
    return False


def _flatten(image: Image.Image, fmt: str) -> Image.Image:
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, (24, 24, 28))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image
