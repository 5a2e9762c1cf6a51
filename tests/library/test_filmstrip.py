"""A clip's filmstrip: made in the same decode as its shot cuts when it is prepared, one JPEG
of tile-sized pictures, served to members only, and made later for clips from before."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import Image, ImageStat

from studio.library import clips
from studio.media.filmstrip import EVERY, MAX_TILES, TILE_WIDTH, Filmstrip
from studio.models import Clip
from tests.conftest import upload_clip

pytestmark = pytest.mark.django_db


def tiles_of(clip: Clip) -> list[Image.Image]:
    with clip.filmstrip.open("rb") as handle, Image.open(handle) as sprite:
        sprite.load()
        assert sprite.format == "JPEG"
        assert sprite.size == (
            clip.filmstrip_tile_width * clip.filmstrip_tiles,
            clip.filmstrip_tile_height,
        )
        width = clip.filmstrip_tile_width
        return [
            sprite.crop((i * width, 0, (i + 1) * width, sprite.height))
            for i in range(clip.filmstrip_tiles)
        ]


def test_preparing_a_clip_makes_its_filmstrip_in_the_shot_cuts_pass(
    as_bob, project, samples, monkeypatch
):
    passes = []
    real = clips.shot_cuts

    def counted(*args, **kwargs):
        passes.append(kwargs.get("filmstrip"))
        return real(*args, **kwargs)

    monkeypatch.setattr(clips, "shot_cuts", counted)
    # 10 s, 320x180, hard cuts at 2.0, 2.6, 5.04 and 8.0 s: one picture every 2 s.
    clip = upload_clip(as_bob, project, samples["shots-close-cuts.mp4"])
    assert len(passes) == 1 and isinstance(passes[0], Filmstrip)  # one decode for both
    assert clip.shot_cuts == [2.0, 2.6, 5.04, 8.0]
    assert clip.filmstrip.name.endswith("/filmstrip.jpg")
    assert (clip.filmstrip_tiles, clip.filmstrip_every) == (5, EVERY)
    assert (clip.filmstrip_tile_width, clip.filmstrip_tile_height) == (TILE_WIDTH, 54)
    tiles = tiles_of(clip)
    # Each shot has its own colour: the picture at 0 s (first shot) and at 6 s (after the cut
    # at 5.04 s) differ plainly; the pictures are not one frame repeated.
    first, fourth = (ImageStat.Stat(tiles[i]).mean for i in (0, 3))
    assert sum(abs(a - b) for a, b in zip(first, fourth, strict=True)) > 30


def test_a_turned_clip_has_upright_pictures(as_bob, project, samples):
    clip = upload_clip(as_bob, project, samples["hevc-portrait.mov"])  # 3 s, shown portrait
    assert clip.height > clip.width
    assert clip.filmstrip_tiles == 2
    assert clip.filmstrip_tile_width == TILE_WIDTH
    assert clip.filmstrip_tile_height == round(TILE_WIDTH * clip.height / clip.width)
    assert len(tiles_of(clip)) == 2


def test_a_long_clip_spaces_its_pictures_out():
    strip = Filmstrip(duration=30 * 60, width=1920, height=1080)
    assert strip.count == MAX_TILES and strip.every == 3.0
    assert Filmstrip(duration=0.4, width=640, height=360).count == 1


def test_the_filmstrip_is_served_to_members_only(as_bob, as_carol, as_dave, project, samples):
    clip = upload_clip(as_bob, project, samples["shots-close-cuts.mp4"])
    url = reverse("media_file", args=["clip", clip.code, "filmstrip"])
    for member in (as_bob, as_carol):
        response = member.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert as_dave.get(url).status_code == 404


def test_the_command_makes_the_filmstrip_of_clips_from_before(as_bob, project, samples, capsys):
    clip = upload_clip(as_bob, project, samples["shots-close-cuts.mp4"])
    old = clip.filmstrip.name
    clip.filmstrip.storage.delete(old)
    Clip.objects.filter(pk=clip.pk).update(filmstrip="", filmstrip_tiles=0, filmstrip_every=None)
    page = as_bob.get(reverse("clip_detail", args=[clip.code]))
    assert page.status_code == 200
    call_command("detect_shots")
    clip.refresh_from_db()
    assert clip.filmstrip and clip.filmstrip_tiles == 5 and len(tiles_of(clip)) == 5
    assert clip.shot_cuts == [2.0, 2.6, 5.04, 8.0]
    assert "made the filmstrip of 1 clip(s)" in capsys.readouterr().out
    # Nothing left to do the second time.
    call_command("detect_shots")
    assert "of 0 clip(s); 0 could not be read; 0 clip(s) still" in capsys.readouterr().out
