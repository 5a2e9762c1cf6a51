"""Uploading clips: streaming, the cap, idempotency, probing in the worker, and clean rejections."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import av
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from studio.library import clips
from studio.models import Clip, MediaState
from studio.projects import services
from studio.projects.trash import trash_sweep

pytestmark = pytest.mark.django_db


def upload(client, project, path: Path, name: str | None = None, key: uuid.UUID | None = None):
    data = {
        "file": SimpleUploadedFile(name or path.name, path.read_bytes()),
        "upload_key": str(key or uuid.uuid4()),
    }
    return client.post(
        reverse("clip_upload", args=[project.code]), data, HTTP_ACCEPT="application/json"
    )


def stored_files() -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def process_all() -> None:
    for pk in Clip.objects.values_list("pk", flat=True):
        clips.clip_process(clip_id=pk)


def test_upload_then_process_a_playable_clip(as_bob, bob, project, samples):
    path = samples["h264.mp4"]
    response = upload(as_bob, project, path)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["ok"] and body["created"]
    clip = Clip.objects.get(code=body["code"])
    assert clip.state == MediaState.RECEIVED
    assert clip.uploaded_by == bob and clip.original_name == "h264.mp4"
    assert clip.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert clip.source.name == f"clips/{project.code}/{clip.code}/source.mp4"
    process_all()
    clip.refresh_from_db()
    assert clip.state == MediaState.READY and clip.progress == 1.0
    assert (clip.width, clip.height, clip.video_codec, clip.audio_codec) == (
        320,
        240,
        "h264",
        "aac",
    )
    assert clip.duration == pytest.approx(2.0, abs=0.05)
    assert clip.poster.name.endswith("poster.jpg") and not clip.proxy
    assert clip.playable == "source"


def test_hevc_phone_clip_gets_an_upright_h264_proxy(as_bob, project, samples):
    upload(as_bob, project, samples["hevc-portrait.mov"], name="IMG_0042.MOV")
    process_all()
    clip = Clip.objects.get()
    assert clip.state == MediaState.READY, clip.reason
    assert (clip.width, clip.height, clip.rotation) == (240, 320, 270)
    assert clip.playable == "proxy"
    with av.open(clip.proxy.path) as proxy:
        stream = proxy.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (240, 320)
        assert proxy.streams.audio[0].codec_context.name == "aac"
    # faststart: the index (moov) comes before the media data (mdat)
    head = Path(clip.proxy.path).read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (
        head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat")
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("truncated.mp4", "The file is incomplete"),
        ("audio-only.mp4", "only sound"),
        ("wide.mp4", "8320×32"),
    ],
)
def test_worker_rejections_leave_only_the_reason(as_bob, project, samples, name, reason):
    upload(as_bob, project, samples[name])
    process_all()
    clip = Clip.objects.get()
    assert clip.state == MediaState.REJECTED
    assert reason in clip.reason
    assert not clip.source and not clip.poster and not clip.proxy
    assert stored_files() == []
    page = as_bob.get(reverse("project_detail", args=[project.code]))
    assert reason in page.content.decode()


def test_too_long_for_the_limit(as_bob, project, samples, settings):
    settings.MAX_SOURCE_SECONDS = 10
    upload(as_bob, project, samples["long.mp4"])
    process_all()
    clip = Clip.objects.get()
    assert clip.reason.startswith("The clip is 12 seconds long; the limit is 10 seconds.")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("text.mp4", "This file is a text file, not a video"),
        ("image.mp4", "This file is a PNG image, not a video"),
        ("empty.mp4", "The file is empty (0 bytes)."),
    ],
)
def test_plain_non_videos_are_refused_at_once(as_bob, project, samples, name, reason):
    response = upload(as_bob, project, samples[name])
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert not Clip.objects.exists()
    assert stored_files() == []


def test_upload_over_the_cap_is_stopped_while_streaming(as_bob, project, samples, settings):
    settings.MAX_UPLOAD_BYTES = 10_000
    temp = Path(settings.FILE_UPLOAD_TEMP_DIR)
    before = set(temp.iterdir())
    response = upload(as_bob, project, samples["h264.mp4"])
    assert response.status_code == 413
    assert "larger than the upload limit of 9.8\xa0KB" in response.json()["error"]
    assert not Clip.objects.exists()
    assert stored_files() == []
    assert set(temp.iterdir()) == before  # the partial temporary file is gone too


def test_the_same_form_sent_twice_makes_one_clip(as_bob, project, samples):
    key = uuid.uuid4()
    first = upload(as_bob, project, samples["h264.mp4"], key=key)
    second = upload(as_bob, project, samples["h264.mp4"], key=key)
    assert first.status_code == 201 and second.status_code == 200
    code = first.json()["code"]
    assert second.json() == {
        "ok": True,
        "code": code,
        "created": False,
        "message": "h264.mp4 was already uploaded.",
        "status": f"/c/{code}/upload/",  # where the page follows it (checking, ready)
    }
    assert Clip.objects.count() == 1
    assert len(stored_files()) == 1


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd.mp4", "passwd.mp4"),
        ("C:\\Users\\me\\clip.mp4", "clip.mp4"),
        ("Überfahrt – Fähre 🚢.mp4", "Überfahrt – Fähre 🚢.mp4"),
        ("a" * 300 + ".mp4", "a" * 115 + "….mp4"),
        ("bad\x00name<>.mp4", "badname__.mp4"),
    ],
)
def test_file_names_are_kept_only_as_clean_metadata(as_bob, project, samples, given, shown):
    response = upload(as_bob, project, samples["h264.mp4"], name=given)
    assert response.status_code == 201
    clip = Clip.objects.get()
    assert clip.original_name == shown
    assert clip.source.name == f"clips/{project.code}/{clip.code}/source.mp4"


def test_viewer_and_outsider_cannot_upload(as_carol, as_dave, project, samples):
    assert upload(as_carol, project, samples["h264.mp4"]).status_code == 403
    assert upload(as_dave, project, samples["h264.mp4"]).status_code == 404
    assert not Clip.objects.exists() and stored_files() == []


def test_archived_project_refuses_uploads(as_bob, project, samples):
    services.project_archive(project=project, archived=True)
    response = upload(as_bob, project, samples["h264.mp4"])
    assert response.status_code == 409
    assert "archived" in response.json()["error"]


def test_plain_form_upload_without_javascript(as_bob, project, samples):
    data = {
        "file": SimpleUploadedFile("a.mp4", samples["h264.mp4"].read_bytes()),
        "upload_key": str(uuid.uuid4()),
    }
    response = as_bob.post(reverse("clip_upload", args=[project.code]), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("project_detail", args=[project.code])
    assert "a.mp4 uploaded; Cutroom is checking the video." in response.content.decode()
    bad = {"file": SimpleUploadedFile("n.mp4", b"nope"), "upload_key": str(uuid.uuid4())}
    response = as_bob.post(reverse("clip_upload", args=[project.code]), bad, follow=True)
    assert (
        "n.mp4: This file is a text file, not a video Cutroom can use." in response.content.decode()
    )


def test_processing_twice_is_harmless(as_bob, project, samples):
    upload(as_bob, project, samples["h264.mp4"])
    process_all()
    clip = Clip.objects.get()
    poster = clip.poster.name
    process_all()
    clip.refresh_from_db()
    assert clip.attempts == 1 and clip.poster.name == poster
    assert len(stored_files()) == 4  # the source, one poster, its thumbnail, one filmstrip


def test_delete_removes_every_file(as_bob, project, samples):
    upload(as_bob, project, samples["hevc-portrait.mov"])
    process_all()
    clip = Clip.objects.get()
    assert len(stored_files()) == 5  # source, proxy, poster, thumbnail, filmstrip
    response = as_bob.post(reverse("clip_delete", args=[clip.code]))
    assert response.status_code == 302
    assert len(stored_files()) == 5  # in the trash: nothing is removed yet
    Clip.objects.filter(pk=clip.pk).update(purge_after=timezone.now())  # emptied
    trash_sweep()
    assert not Clip.objects.exists() and stored_files() == []


def test_team_page_shows_poster_and_counts(as_carol, as_bob, project, samples, team):
    upload(as_bob, project, samples["h264.mp4"])
    process_all()
    clip = Clip.objects.get()
    page = as_carol.get(reverse("team_detail", args=[team.code])).content.decode()
    thumb = reverse("media_file", args=["clip", clip.code, "poster_thumb"])
    assert f'<img src="{thumb}" width="320" height="240" alt="" loading="lazy"' in page
    assert "1 clip ·" in page


def test_clip_page_and_player_fragment(as_carol, as_bob, project, samples):
    upload(as_bob, project, samples["h264.mp4"])
    clip = Clip.objects.get()
    fragment = as_carol.get(reverse("clip_player", args=[clip.code])).content.decode()
    assert "Preparing preview" in fragment and "data-pending" in fragment
    assert "<html" not in fragment
    process_all()
    fragment = as_carol.get(reverse("clip_player", args=[clip.code])).content.decode()
    assert "<video" in fragment and "data-pending" not in fragment


def test_waiting_uploads_say_when_no_worker_runs(as_bob, project, samples):
    from studio.ops import health

    upload(as_bob, project, samples["h264.mp4"])
    url = reverse("project_library", args=[project.code])
    assert "No background worker is running" in as_bob.get(url).content.decode()
    health.beat()
    assert "No background worker is running" not in as_bob.get(url).content.decode()


def test_opening_a_project_makes_its_team_current(as_bob, bob, project):
    assert bob.current_team != project.team
    as_bob.get(reverse("project_detail", args=[project.code]))
    bob.refresh_from_db()
    assert bob.current_team == project.team
