"""Provider-ready input clips: a chosen window, trimmed, upright, within the provider's limits."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from django.urls import reverse

from studio.library import clips
from studio.media.probe import MediaRejected, probe
from studio.models import InputClip
from tests.conftest import upload_clip

pytestmark = pytest.mark.django_db


def frame_mark(path: Path, at: float = 0.0) -> float:
    """The sample clips carry their frame number in a flat chroma plane (U = 5 x frame)."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= at - 1e-3:
                plane, stride = bytes(frame.planes[1]), frame.planes[1].line_size
                width, height = frame.width // 2, frame.height // 2
                values = b"".join(plane[y * stride : y * stride + width] for y in range(height))
                return sum(values) / len(values)
    raise AssertionError("no frame")


def test_window_is_cut_and_conforms(clip, samples):
    made = clips.input_clip_prepare(clip=clip, start=4.0, length=5.0)
    info = probe(Path(made.file.path), max_seconds=60)
    assert (info.container, info.video_codec, info.audio_codec) == ("mp4", "h264", "aac")
    assert info.duration == pytest.approx(5.0, abs=0.1)
    # 256x144 is scaled up so the short side reaches the provider's 240 px minimum.
    assert (info.width, info.height) == (426, 240) == (made.width, made.height)
    assert made.size == Path(made.file.path).stat().st_size < 100 * 1024 * 1024
    # The cut starts at 4 s of the source, not at 0 s as the provider would.
    mark = frame_mark(Path(made.file.path))
    assert mark == pytest.approx(frame_mark(samples["long.mp4"], 4.0), abs=3)
    assert mark == pytest.approx(5 * 48, abs=3)  # frame 48 = 4 s at 12 fps


def test_same_window_is_made_once(clip):
    first = clips.input_clip_prepare(clip=clip, start=1.0, length=2.0)
    again = clips.input_clip_prepare(clip=clip, start=1.0, length=2.0)
    assert first.pk == again.pk and InputClip.objects.count() == 1


def test_phone_clip_input_is_upright(as_bob, project, samples):
    clip = upload_clip(as_bob, project, samples["hevc-portrait.mov"])
    made = clips.input_clip_prepare(clip=clip, start=0.5, length=2.5)
    info = probe(Path(made.file.path), max_seconds=60)
    assert (info.width, info.height, info.rotation) == (240, 320, 0)
    assert info.has_audio


@pytest.mark.parametrize(
    ("sample", "start", "length", "message"),
    [
        ("tall.mp4", 0, 2, "aspect ratio is about 1:12; the provider accepts 1:8 to 8:1"),
        ("short.mp4", 0, 2, "The clip is 1 second long; the provider needs at least 2 s."),
        ("long.mp4", 0, 11, "between 2 and 10 seconds"),
        ("long.mp4", 0, 1.5, "between 2 and 10 seconds"),
        ("long.mp4", 9, 5, "ends at 14.0 s, after the clip's end (12.0 s)"),
        ("long.mp4", -1, 3, "cannot start before"),
    ],
)
def test_windows_that_cannot_conform(as_bob, project, samples, sample, start, length, message):
    clip = upload_clip(as_bob, project, samples[sample])
    with pytest.raises(MediaRejected) as caught:
        clips.input_clip_prepare(clip=clip, start=start, length=length)
    assert message in caught.value.message
    assert not InputClip.objects.exists()


def test_input_clip_is_served_to_members_only(as_bob, as_dave, clip):
    made = clips.input_clip_prepare(clip=clip, start=0, length=2)
    url = reverse("media_file", args=["input", made.code, "file"])
    response = as_bob.get(url + "?download=1")
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    assert 'filename="long-input.mp4"' in response["Content-Disposition"]
    assert as_dave.get(url).status_code == 404


def test_a_window_cut_by_two_workers_at_once_into_a_bucket_keeps_its_file(s3, clip, monkeypatch):
    """Two workers preparing takes of one window both store the cut under one key (a bucket
    overwrites): the one that loses the race for the row must not delete the winner's object,
    or the provider is sent an address with nothing behind it."""
    real_store = clips.store_path

    def store_while_the_other_worker_commits(field, name, path):
        real_store(field, name, path)
        InputClip.objects.create(
            clip=clip,
            start_ms=1000,
            length_ms=2000,
            file=field.name,
            width=426,
            height=240,
            duration=2.0,
            size=path.stat().st_size,
            sha256="the other worker's",
        )

    monkeypatch.setattr(clips, "store_path", store_while_the_other_worker_commits)
    got = clips.input_clip_prepare(clip=clip, start=1.0, length=2.0)
    assert got.sha256 == "the other worker's" and InputClip.objects.count() == 1
    assert got.file.storage.exists(got.file.name)
