"""A cut's render when things break (issue 22, "Faults"), with real processes and real storage:
the worker killed mid-render (the render starts again on another cluster, one file stored, no
partial file left anywhere) and the bucket gone during a render (a reason that names it, nothing
half-stored, "Render again" works once it is back) and the scratch disk full while the render
is written (a real tmpfs). The media folder full when the render is stored is
tests/cuts/test_cut_renders.py's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import pytest
from botocore.config import Config
from django.conf import settings as django_settings
from django.urls import reverse
from django_q.models import Schedule

from studio.cuts import renders, services
from studio.cuts.models import Cut, CutRender, RenderState
from studio.media.inputs import make_input
from studio.media.probe import probe
from studio.models import Project
from studio.storage.files import local_copy
from tests.cluster import run_cluster, run_scheduler, wait_for
from tests.cuts.rows import stored_clip, window_edited
from tests.fake_results import make_result
from tests.full_disk import FILLER
from tests.s3 import FlakyProxy
from tests.samples import make_shots

WINDOW = (4.0, 8.0)  # the window edited: 1 s of handle on each side is sent with it


def take_file(source: Path, folder: Path) -> Path:
    """What the provider returns for WINDOW of `source` sent with its handles: the fake
    Modellix's result (30 fps, 720P) made from the real input."""
    info = probe(source, max_seconds=60)
    start, end = WINDOW
    sent, result = folder / "input.mp4", folder / "result.mp4"
    make_input(source, sent, info=info, start=start - 1, length=end - start + 2)
    body = {"resolution": "720P", "ratio": "16:9", "audio_setting": "origin"}
    result.write_bytes(make_result(sent.read_bytes(), body).data)
    return result


def cut_of(project: Project, author: Any, source: Path, result: Path) -> Cut:
    """A cut of `source` with WINDOW edited by `result`. The clip and the take are stored as
    the upload and the provider's download store them (in the default storage, a bucket or
    the media folder), without going through them: both are tested on their own."""
    clip = stored_clip(project, source)
    cut = services.cut_create(clip=clip, author=author, name="Clay version")
    window_edited(cut, *WINDOW, result, author)
    return cut


def frame_count(path: Path) -> int:
    """The video's frames as a player gets them: every packet demuxed, the first decoded."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        next(container.decode(stream))
        container.seek(0)
        return sum(1 for packet in container.demux(stream) if packet.size)


def under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# -- the worker killed mid-render ---------------------------------------------------------------
@pytest.fixture(scope="module")
def long_source(tmp_path_factory) -> tuple[Path, Path]:
    """A 20 s, 25 fps 960x540 clip with a tone and a shot cut, and its take: long enough that
    the render takes a few seconds (the issue's 40 s 1080p clip takes a minute on two busy
    cores), short enough to render twice in a test."""
    folder = tmp_path_factory.mktemp("crash")
    source = make_shots(folder / "shots-20s.mp4", seconds=20.0, width=960, height=540, cuts=(12,))
    return source, take_file(source, folder)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_render_leaves_nothing_and_a_new_one_renders_it_once(
    project, bob, long_source, tmp_path
):
    """SIGKILL the whole cluster while it encodes. Its lease runs out (3 s here, a minute by
    default), the scheduler sends the render to the queue again within seconds, and a new
    cluster renders it from the start: one file, no partial one, the dead worker's scratch
    removed."""
    # The minute sweep (a django-q2 schedule) would repair it too, a minute later: here the
    # scheduler process must, and the worker that takes it over removes the dead one's scratch.
    Schedule.objects.all().delete()
    cut = cut_of(project, bob, *long_source)
    env = {"STUDIO_TAKE_LEASE_SECONDS": "3", "STUDIO_WORKERS": "1"}
    media = Path(django_settings.MEDIA_ROOT)
    # The children's scratch: their data folder's (tests/cluster.py gives them the test's).
    scratch = Path(django_settings.DATA_DIR) / "uploads-tmp"
    render = renders.cut_render_request(cut=cut, author=bob)

    def rendering() -> bool:
        render.refresh_from_db()
        return render.state == RenderState.RENDERING and render.progress > 0

    def ready() -> bool:
        render.refresh_from_db()
        return render.state in (RenderState.READY, RenderState.FAILED)

    with run_scheduler(tmp_path, **env):
        with run_cluster(tmp_path, **env) as first:
            wait_for(rendering, 120, "the render to be under way", first, every=0.05)
            first.kill()
        render.refresh_from_db()
        assert render.state == RenderState.RENDERING and render.attempts == 1, render.reason
        assert render.progress < 0.98, "the render finished before the kill: make it longer"
        # What the dead worker was writing is in its scratch, under a temporary name; nothing
        # of it reached the media folder.
        dead = {entry.name for entry in scratch.iterdir()}
        parts = [p for p in under(scratch) if p.name.endswith(".part")]
        assert len(parts) == 1 and parts[0].parent.name in dead
        assert not (media / "cuts").exists() or not under(media / "cuts")
        with run_cluster(tmp_path, **env) as second:
            wait_for(ready, 180, "the render to be taken up again and finish", second)
    assert render.state == RenderState.READY, render.reason
    assert render.attempts == 2  # the killed one, and the one that finished
    made = [p for p in under(media / "cuts") if p.suffix == ".mp4"]
    assert [p.relative_to(media).as_posix() for p in made] == [render.file.name]
    assert made[0].name == "shots-20s-clay-version-v1.mp4"
    assert not [p for p in under(media) if ".part" in p.name]
    assert not dead & {entry.name for entry in scratch.iterdir()}  # the dead worker's: gone
    with local_copy(cut.clip.source) as source:
        clip_frames = round(probe(source, max_seconds=60).duration * cut.clip.fps)
    assert clip_frames == 500
    assert render.frames == frame_count(made[0]) == clip_frames
    assert probe(made[0], max_seconds=60).width == 960


# -- the bucket gone during a render -----------------------------------------------------------
@pytest.fixture(scope="module")
def short_take(samples, tmp_path_factory) -> Path:
    return take_file(samples["cut-25.mp4"], tmp_path_factory.mktemp("bucket"))


@pytest.fixture
def proxy(s3: Any, settings: Any) -> Any:
    """The test's bucket reached through a proxy that can make it unreachable, without retries
    (boto3 would wait seconds before giving up)."""
    flaky = FlakyProxy(s3.endpoint)
    storages = s3.storages()
    storages["default"]["OPTIONS"] |= {
        "endpoint_url": flaky.endpoint,
        "client_config": Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    }
    settings.STORAGES = storages
    yield flaky
    flaky.refuse()


@pytest.mark.django_db
def test_a_bucket_gone_during_a_render_fails_it_with_a_reason_and_render_again_works(
    project, bob, as_bob, samples, short_take, s3, proxy, monkeypatch
):
    cut = cut_of(project, bob, samples["cut-25.mp4"], short_take)
    kept = s3.keys()  # the clip and the take
    real = renders.cut_render

    def bucket_goes_halfway(*args: Any, progress: Any, **kwargs: Any) -> Any:
        def watched(fraction: float) -> None:
            if fraction >= 0.5:
                proxy.refuse()
            progress(fraction)

        return real(*args, progress=watched, **kwargs)

    monkeypatch.setattr(renders, "cut_render", bucket_goes_halfway)
    monkeypatch.setattr(renders, "_enqueue", lambda pk: None)  # the step is run here
    first = renders.cut_render_request(cut=cut, author=bob)
    renders.cut_render_run(first.pk)
    first.refresh_from_db()
    assert first.state == RenderState.FAILED and first.attempts == 1
    assert first.reason.startswith("Cutroom could not reach its storage bucket during the ")
    assert "(it could not be reached)" in first.reason
    assert first.reason.endswith("then press Render again.")
    assert not first.file and not first.poster
    proxy.restore()
    assert s3.keys() == kept  # nothing half-stored
    uploads = s3.client().list_multipart_uploads(Bucket=s3.name).get("Uploads", [])
    assert uploads == []
    assert not list(Path(django_settings.FILE_UPLOAD_TEMP_DIR).iterdir())

    page = as_bob.get(reverse("cut_detail", args=[cut.code])).content.decode()
    assert first.reason in page
    assert ">Render again</button>" in page
    monkeypatch.setattr(renders, "cut_render", real)
    response = as_bob.post(reverse("cut_render_new", args=[cut.code]))
    assert response.status_code == 302
    second = CutRender.objects.get(cut=cut, number=2)
    renders.cut_render_run(second.pk)
    second.refresh_from_db()
    assert second.state == RenderState.READY, second.reason
    stored = sorted(set(s3.keys()) - set(kept))
    folder = f"{s3.prefix}/cuts/{project.code}/{cut.code}/v2-{second.code}"
    assert stored == sorted(f"{s3.prefix}/{f.name}" for f in second.files())  # all in one go
    assert f"{folder}/cut-25-clay-version-v2.mp4" in stored and f"{folder}/poster.jpg" in stored
    with local_copy(second.file) as made:
        assert frame_count(made) == second.frames == 225
    page = as_bob.get(reverse("cut_detail", args=[cut.code])).content.decode()
    assert ">Render again</button>" not in page  # the newest render is ready


# -- the scratch disk full while the render is written ------------------------------------------
@pytest.mark.django_db
def test_a_scratch_disk_full_while_rendering_fails_it_naming_the_folder(
    project, bob, as_bob, samples, short_take, settings, full_disks, tmp_path
):
    """The scratch folder the render is written in is a disk of its own, full: the encoder's
    writes fail part-way. The reason names the folder; nothing is left there or stored."""
    disk = tmp_path / "scratch-disk"
    if not full_disks.mount(disk, megabytes=4):
        pytest.skip("mounting a tmpfs needs root (the CI runs the tests as root)")
    scratch = disk / "uploads-tmp"
    scratch.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = scratch
    cut = cut_of(project, bob, samples["cut-25.mp4"], short_take)
    full_disks.fill(disk)
    render = renders.cut_render_request(cut=cut, author=bob)
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.FAILED, render.reason
    assert render.reason == (
        f"The scratch folder ({scratch}) is full: free space there, then press Render again."
    )
    assert list(scratch.iterdir()) == []
    assert not under(Path(django_settings.MEDIA_ROOT) / "cuts")
    (disk / FILLER).unlink()  # space freed: Render again works
    response = as_bob.post(reverse("cut_render_new", args=[cut.code]))
    assert response.status_code == 302
    again = CutRender.objects.get(cut=cut, number=2)
    renders.cut_render_run(again.pk)
    again.refresh_from_db()
    assert again.state == RenderState.READY, again.reason
