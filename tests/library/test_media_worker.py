"""The worker side: leases, the sweep that re-drives lost work, and a real django-q2 cluster."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django_q.models import OrmQ

from studio.library import clips
from studio.library import processing as media
from studio.models import MAX_PROCESSING_ATTEMPTS, Clip, MediaState
from tests.cluster import wait_for
from tests.conftest import upload_clip


def upload(client, project, path: Path) -> Clip:
    """Uploaded, waiting for the worker."""
    return upload_clip(client, project, path, prepare=False)


@pytest.mark.django_db
def test_upload_is_queued_after_commit(
    as_bob, project, samples, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        clip = upload(as_bob, project, samples["h264.mp4"])
    assert len(callbacks) == 1
    assert OrmQ.objects.count() == 1
    assert f"process_clip:{clip.pk}" in OrmQ.objects.get().name()


@pytest.mark.django_db
def test_sweep_requeues_lost_work_only(as_bob, project, samples):
    lost = upload(as_bob, project, samples["h264.mp4"])
    fresh = upload(as_bob, project, samples["h264.mp4"])
    held = upload(as_bob, project, samples["h264.mp4"])
    dead = upload(as_bob, project, samples["h264.mp4"])
    long_ago = timezone.now() - media.LOST_AFTER - timedelta(seconds=1)
    Clip.objects.filter(pk=lost.pk).update(updated_at=long_ago)
    Clip.objects.filter(pk=held.pk).update(
        state=MediaState.PROCESSING, lease_until=timezone.now() + timedelta(minutes=1)
    )
    Clip.objects.filter(pk=dead.pk).update(
        state=MediaState.PROCESSING, lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert media.sweep() == 2
    names = {task.name() for task in OrmQ.objects.all()}
    assert names == {
        f"studio.tasks.process_clip:{lost.pk}:sweep",
        f"studio.tasks.process_clip:{dead.pk}:sweep",
    }
    assert fresh.pk not in {lost.pk, dead.pk}
    # A lease that expired means the worker died: the next run takes over and finishes.
    clips.clip_process(clip_id=dead.pk)
    dead.refresh_from_db()
    assert dead.state == MediaState.READY and dead.attempts == 1


@pytest.mark.django_db
def test_a_held_lease_keeps_a_second_delivery_out(as_bob, project, samples):
    clip = upload(as_bob, project, samples["h264.mp4"])
    assert clip.claim()
    clips.clip_process(clip_id=clip.pk)  # the duplicate delivery
    clip.refresh_from_db()
    assert clip.state == MediaState.PROCESSING and clip.attempts == 1


@pytest.mark.django_db
def test_gives_up_after_repeated_crashes(as_bob, project, samples):
    clip = upload(as_bob, project, samples["h264.mp4"])
    Clip.objects.filter(pk=clip.pk).update(attempts=MAX_PROCESSING_ATTEMPTS)
    clips.clip_process(clip_id=clip.pk)
    clip.refresh_from_db()
    assert clip.state == MediaState.FAILED
    assert "failed 3 times" in clip.reason and "Upload it again" in clip.reason
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.mark.django_db
def test_unexpected_error_keeps_the_file_for_a_retry(as_bob, project, samples, monkeypatch):
    clip = upload(as_bob, project, samples["h264.mp4"])

    def broken(*args, **kwargs):
        raise RuntimeError("disk hiccup")

    monkeypatch.setattr("studio.library.clips.make_poster", broken)
    with pytest.raises(RuntimeError):
        clips.clip_process(clip_id=clip.pk)
    clip.refresh_from_db()
    assert clip.state == MediaState.RECEIVED and clip.lease_until is None
    assert clip.source.storage.exists(clip.source.name)
    monkeypatch.undo()
    clips.clip_process(clip_id=clip.pk)
    clip.refresh_from_db()
    assert clip.state == MediaState.READY and clip.attempts == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_cluster_prepares_an_upload(as_bob, project, samples, qcluster):
    clip = upload(as_bob, project, samples["hevc-portrait.mov"])

    def ready() -> bool:
        clip.refresh_from_db()
        return clip.state not in (MediaState.RECEIVED, MediaState.PROCESSING)

    wait_for(ready, 120, "the worker to prepare the clip", qcluster)
    assert clip.state == MediaState.READY, clip.reason
    assert clip.proxy and clip.poster


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_cluster_finishes_work_of_a_killed_worker(as_bob, project, samples, tmp_path):
    """A worker died mid-way (lease held, no task left): the sweep hands it to a new cluster."""
    from tests.cluster import run_cluster

    clip = upload(as_bob, project, samples["hevc-portrait.mov"])
    OrmQ.objects.all().delete()  # the task was taken by the worker that died
    Clip.objects.filter(pk=clip.pk).update(
        state=MediaState.PROCESSING, attempts=1, lease_until=timezone.now() - timedelta(seconds=1)
    )
    with run_cluster(tmp_path) as cluster:
        assert media.sweep() == 1

        def done() -> bool:
            clip.refresh_from_db()
            return clip.state == MediaState.READY

        wait_for(done, 120, "the swept clip to be ready", cluster)
    assert clip.attempts == 2


def test_clean_temp_removes_only_old_leftovers(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path
    old_file, old_dir, fresh = tmp_path / "old.upload", tmp_path / "scratch-old", tmp_path / "new"
    old_file.write_bytes(b"x")
    old_dir.mkdir()
    (old_dir / "proxy.mp4").write_bytes(b"y")
    fresh.write_bytes(b"z")
    long_ago = time.time() - media.TEMP_MAX_AGE.total_seconds() - 60
    for path in (old_file, old_dir / "proxy.mp4", old_dir):
        os.utime(path, (long_ago, long_ago))
    assert media.clean_temp() == 2
    assert [p.name for p in tmp_path.iterdir()] == ["new"]


def test_a_temporary_upload_goes_after_an_hour_whatever_its_name(settings, tmp_path):
    """Django names them tmp<random>.upload.<ext>; a request that failed or was killed leaves
    one. A live process's scratch keeps the longer rule (a step may use it for a while)."""
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path
    names = [
        "tmpa1b2c3.upload.mp4",
        "tmpd4e5f6.upload",
        "any-other-name",
        f"cutroom-{os.getpid()}-x",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x" * 1000)
    fresh = tmp_path / "tmpfresh.upload.mp4"
    fresh.write_bytes(b"y")
    over_an_hour = time.time() - media.UPLOAD_MAX_AGE.total_seconds() - 60
    assert over_an_hour > time.time() - media.TEMP_MAX_AGE.total_seconds()
    for name in names:
        os.utime(tmp_path / name, (over_an_hour, over_an_hour))
    assert media.clean_temp() == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, names[-1]])


def test_scratch_of_a_process_that_is_gone_goes_at_once(settings, tmp_path):
    from studio.storage.files import scratch_dir

    settings.FILE_UPLOAD_TEMP_DIR = tmp_path
    dead = subprocess.Popen(["true"])  # noqa: S607
    dead.wait()
    gone = tmp_path / f"cutroom-{dead.pid}-abc.mp4"
    gone.write_bytes(b"x")
    (tmp_path / f"cutroom-{dead.pid}-folder").mkdir()
    with scratch_dir() as mine:
        assert mine.name.startswith(f"cutroom-{os.getpid()}-")
        lookalike = tmp_path / "cutroom-notapid-x"  # not ours: the age rule decides
        lookalike.write_bytes(b"y")
        assert media.clean_temp() == 2
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, lookalike.name])
