"""Grid-sized poster thumbnails: made by the worker, back-filled for old rows, served guarded."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from studio import tasks
from studio.library import thumbnails
from studio.models import Clip, MediaState, Take, TakeState
from tests.conftest import take_row, upload_clip
from tests.samples import make_image, make_video

pytestmark = pytest.mark.django_db


def jpeg(size: tuple[int, int]) -> bytes:
    return make_image(None, size, "JPEG")


def old_clip(project, name="old.mp4", poster: bytes | None = None) -> Clip:
    """A ready clip from before thumbnails: a poster, no thumbnail."""
    clip = Clip(project=project, original_name=name, state=MediaState.READY, width=1280, height=720)
    clip.source.save(f"t/{name}", ContentFile(b"v"), save=False)
    clip.poster.save(
        f"clips/{project.code}/{clip.code}/poster.jpg",
        ContentFile(poster or jpeg((960, 540))),
        save=False,
    )
    clip.save()
    return clip


def old_take(project, clip, user, poster: bytes | None = None) -> Take:
    """A finished take from before thumbnails: a poster, no thumbnail."""
    take = take_row(
        project,
        clip=clip,
        created_by=user,
        prompt="grade it warm",
        result_width=1080,
        result_height=1920,
    )
    take.result_poster.save(
        f"takes/{project.code}/{take.code}/poster.jpg", ContentFile(poster or jpeg((540, 960)))
    )
    return take


def test_upload_makes_a_thumbnail_smaller_than_the_poster(as_bob, project, tmp_path):
    video = make_video(tmp_path / "wide.mp4", seconds=1.0, width=1280, height=720, audio=False)
    clip = upload_clip(as_bob, project, video)
    assert clip.state == MediaState.READY
    assert clip.poster_thumb.name == f"clips/{project.code}/{clip.code}/poster-thumb.jpg"
    with Image.open(clip.poster.path) as poster, Image.open(clip.poster_thumb.path) as thumb:
        assert poster.size == (960, 540)
        assert thumb.size == (480, 270) and thumb.format == "JPEG"
    assert (clip.poster_thumb_width, clip.poster_thumb_height) == (480, 270)
    assert clip.poster_thumb.size < clip.poster.size / 2


def test_small_posters_are_not_enlarged(as_bob, project, samples):
    clip = upload_clip(as_bob, project, samples["tiny.mp4"])
    assert (clip.poster_thumb_width, clip.poster_thumb_height) == (160, 120)


def test_gallery_uses_thumbnails_with_their_size(as_bob, bob, team, project):
    clip = old_clip(project)
    take = old_take(project, clip, bob)
    bare = take_row(project, state=TakeState.QUEUED, clip=clip, prompt="queued", seed=2)
    url = reverse("team_gallery", args=[team.code])
    page = as_bob.get(url).content.decode()
    # No thumbnails yet: the full posters, still with their aspect as width and height.
    poster = reverse("media_file", args=["take", take.code, "result_poster"])
    assert f'<img src="{poster}" width="1080" height="1920" alt="" loading="lazy"' in page
    thumbnails.thumbnails_backfill()
    page = as_bob.get(url).content.decode()
    thumb = reverse("media_file", args=["take", take.code, "result_thumb"])
    assert f'<img src="{thumb}" width="480" height="853" alt="" loading="lazy"' in page
    assert poster not in page
    # A take without a result shows its clip's thumbnail.
    clip_thumb = reverse("media_file", args=["clip", clip.code, "poster_thumb"])
    card = page[page.index(f'data-take="{bare.code}"') :]
    assert card.index(f'<img src="{clip_thumb}" width="480" height="270"') < card.index("</li>")


def test_project_and_team_pages_use_clip_thumbnails(as_carol, team, project):
    clip = old_clip(project)
    thumbnails.thumbnails_backfill()
    thumb = reverse("media_file", args=["clip", clip.code, "poster_thumb"])
    tag = f'<img src="{thumb}" width="480" height="270" alt="" loading="lazy"'
    assert tag in as_carol.get(reverse("project_detail", args=[project.code])).content.decode()
    assert tag in as_carol.get(reverse("team_detail", args=[team.code])).content.decode()


@pytest.mark.parametrize(("kind", "variant"), [("clip", "poster_thumb"), ("take", "result_thumb")])
def test_thumbnail_variant_is_served_to_members_only(
    kind, variant, as_bob, as_carol, as_dave, client, bob, project
):
    clip = old_clip(project)
    take = old_take(project, clip, bob)
    thumbnails.thumbnails_backfill()
    code = clip.code if kind == "clip" else take.code
    url = reverse("media_file", args=[kind, code, variant])
    response = as_carol.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    body = b"".join(response.streaming_content)
    assert Image.open(io.BytesIO(body)).width == 480
    assert "-small.jpg" in response["Content-Disposition"]
    assert as_dave.get(url).status_code == 404
    assert client.get(url).status_code == 302  # to sign-in
    # A variant that does not exist for this kind is not served either.
    wrong = "result_thumb" if kind == "clip" else "poster_thumb"
    assert as_bob.get(reverse("media_file", args=[kind, code, wrong])).status_code == 404


def test_sweep_backfills_old_rows_a_few_at_a_time(bob, project, monkeypatch):
    clips = [old_clip(project, f"c{n}.mp4") for n in range(3)]
    take = old_take(project, clips[0], bob)
    monkeypatch.setattr(thumbnails, "SWEEP_BATCH", 2)
    tasks.sweep()
    assert Clip.objects.exclude(poster_thumb="").count() == 2
    tasks.sweep()
    tasks.sweep()
    assert Clip.objects.filter(poster_thumb="").count() == 0
    take.refresh_from_db()
    assert (take.result_thumb_width, take.result_thumb_height) == (480, 853)
    assert thumbnails.thumbnails_backfill() == 0  # nothing left


def test_unreadable_poster_is_marked_and_not_retried(bob, project, caplog):
    broken = old_clip(project, "broken.mp4", poster=b"not a jpeg at all")
    fine = old_clip(project, "fine.mp4")
    assert thumbnails.thumbnails_backfill() == 1
    broken.refresh_from_db()
    assert not broken.poster_thumb and broken.poster_thumb_width == 0
    assert "no thumbnail for Clip" in caplog.text
    assert thumbnails.thumbnails_backfill() == 0
    fine.refresh_from_db()
    assert fine.poster_thumb
    # The page falls back to the full poster for the broken one.
    assert broken.grid_poster.url.endswith("/poster")


def test_two_workers_making_one_thumbnail_keep_one_file(project, settings):
    clip = old_clip(project)
    spec = thumbnails.SPECS[0]
    first, second = Clip.objects.get(pk=clip.pk), Clip.objects.get(pk=clip.pk)
    assert thumbnails.thumbnail_make(obj=first, spec=spec) is True
    assert thumbnails.thumbnail_make(obj=second, spec=spec) is False
    folder = Path(settings.MEDIA_ROOT) / "clips" / project.code / clip.code
    assert sorted(p.name for p in folder.iterdir()) == ["poster-thumb.jpg", "poster.jpg"]
    clip.refresh_from_db()
    assert clip.poster_thumb.name.endswith("/poster-thumb.jpg")


def test_make_thumbnails_command(bob, project, capsys):
    clip = old_clip(project)
    old_take(project, clip, bob)
    old_clip(project, "broken.mp4", poster=b"junk")
    call_command("make_thumbnails")
    assert (
        "Made 2 thumbnail(s); 0 still to make; 1 poster(s) unreadable." in capsys.readouterr().out
    )
