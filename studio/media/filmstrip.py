"""A clip's filmstrip: small pictures along its timeline, drawn behind a cut's track.

One picture every EVERY seconds (more seconds apart for a clip so long that the strip would pass
MAX_TILES), each TILE_WIDTH pixels wide at the clip's displayed shape, side by side in one JPEG
(a sprite): the page fetches one file and shows each picture by its offset in it. The pictures
are taken from the frames that finding the shot cuts decodes anyway (studio/media/shots.py), so
making the strip costs a resize per picture, not another decode of the clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

TILE_WIDTH = 96
EVERY = 2.0  # seconds between pictures
MAX_TILES = 600  # 57,600 px wide: under JPEG's 65,535 px, and about 1 MB at most
QUALITY = 70


@dataclass(frozen=True)
class Layout:
    """How the pictures sit in the sprite: `tiles` side by side, each `width` x `height` px,
    picture k showing the clip from k * `every` seconds."""

    tiles: int
    every: float
    width: int
    height: int


class Filmstrip:
    """Collects a picture at each step of a clip as its frames are decoded in order."""

    def __init__(self, *, duration: float, width: int, height: int, rotation: int = 0) -> None:
        duration = max(0.0, duration)
        self.every = max(EVERY, duration / MAX_TILES)
        self.count = max(1, math.ceil(duration / self.every - 1e-6))
        aspect = (height / width) if width and height else 9 / 16
        self.width, self.height = TILE_WIDTH, max(2, round(TILE_WIDTH * aspect))
        self.rotation = rotation
        self.pictures: list[Image.Image] = []

    @property
    def layout(self) -> Layout:
        return Layout(
            tiles=len(self.pictures), every=self.every, width=self.width, height=self.height
        )

    def wants(self, at: float) -> bool:
        """Whether the frame at `at` seconds is the next picture (the first at or after its
        time; a frame before the clip's start counts as the start)."""
        index = len(self.pictures)
        return index < self.count and at >= index * self.every - 1e-6

    def add(self, frame: Any) -> None:
        """Take `frame` (a PyAV video frame) as the next picture, upright and tile-sized."""
        turned = self.rotation in (90, 270)
        width, height = (self.height, self.width) if turned else (self.width, self.height)
        image = frame.reformat(
            width=width, height=height, format="rgb24", interpolation="AREA"
        ).to_image()
        if self.rotation:
            image = image.rotate(self.rotation, expand=True)
        self.pictures.append(image)

    def save(self, dest: Path) -> Layout:
        """Write the sprite as a JPEG; the last picture fills in for any the decode never
        reached (a clip whose last frames are shorter than its probed duration)."""
        if not self.pictures:
            raise ValueError("a filmstrip needs at least one picture")
        while len(self.pictures) < self.count:
            self.pictures.append(self.pictures[-1])
        sprite = Image.new("RGB", (self.width * len(self.pictures), self.height))
        for index, picture in enumerate(self.pictures):
            sprite.paste(picture, (index * self.width, 0))
        sprite.save(dest, format="JPEG", quality=QUALITY, optimize=True)
        return self.layout
