"""The local engine on hosts that share nothing but the database and the storage.

The real cluster and scheduler run with data folders of their own (as on other hosts): the job
is a database row that names stored files, the render copies its inputs to a scratch folder and
stores its result, and nothing stays on a worker's disk afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from studio.models import LocalJob, Take, TakeState
from studio.takes import common, create, driver, submit
from studio.takes.parameters import EditParameters
from tests.cluster import run_cluster, run_scheduler, shared_signing, wait_for
from tests.conftest import upload_clip

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
QUICK = EditParameters(prompt="black and white film", resolution="720P", duration=2)


@pytest.fixture(autouse=True)
def _local_engine(settings):
    settings.STUDIO_PROVIDER = "local"


def new_take(project, author, samples, client) -> Take:
    clip = upload_clip(client, project, samples["long.mp4"])
    return create.take_create(
        project=project, author=author, clip=clip, parameters=QUICK, start=0.0, length=2.0
    )


def host_env(tmp_path: Path, name: str, **extra: str) -> dict[str, str]:
    """A child process on a host of its own: its data folder is nobody else's. Hosts share the
    secret key, as a deployment sets it (django-q2 signs the queued tasks with it), and the
    content-credentials identity."""
    return {
        "SECRET_KEY": settings.SECRET_KEY,
        **shared_signing(),
        "STUDIO_DATA_DIR": str(tmp_path / name),
        "STUDIO_PROVIDER": "local",
        "STUDIO_TIME_SCALE": "0.1",
        **extra,
    }


def files_left(data: Path) -> list[str]:
    """The files in a host's data folder besides django-q2's statistics (the file cache)."""
    return [
        str(path.relative_to(data))
        for path in data.rglob("*")
        if path.is_file() and path.relative_to(data).parts[0] != "cache"
    ]


def engine_objects(keys: list[str]) -> list[str]:
    return [key for key in keys if key.startswith("studio/local-engine/")]


def finish(take: Take, cluster, scheduler) -> None:
    def final() -> bool:
        take.refresh_from_db()
        return take.is_final

    with cluster as worker, scheduler:
        wait_for(final, 180, "the take to finish", worker)


def test_a_take_on_object_storage_leaves_nothing_on_the_workers_disk(
    s3, project, bob, as_bob, samples, tmp_path
):
    take = new_take(project, bob, samples, as_bob)
    finish(
        take,
        run_cluster(tmp_path, **host_env(tmp_path, "worker", **s3.env())),
        run_scheduler(tmp_path, **host_env(tmp_path, "scheduler", **s3.env())),
    )
    assert take.state == TakeState.SUCCEEDED, take.reason
    assert take.provider_task_id.startswith("local-") and take.submit_posts == 1
    keys = s3.keys()
    for field in (take.result, take.result_poster, take.result_thumb):
        assert f"studio/{field.name}" in keys
    assert not engine_objects(keys)
    assert not LocalJob.objects.exists()
    data = tmp_path / "worker"
    assert files_left(data) == [] and list((data / "uploads-tmp").iterdir()) == []
    assert not (data / "local-engine").exists()


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_a_render_and_its_fetch_on_another_host_than_the_submitter(
    request, storage, project, bob, as_bob, samples, tmp_path, monkeypatch
):
    """This process sends the take (a worker with the test's data folder); the render and the
    download run in a cluster on another data folder, the media shared through STUDIO_MEDIA_DIR
    (local) or the bucket (s3)."""
    bucket = request.getfixturevalue("s3") if storage == "s3" else None
    shared = bucket.env() if bucket else {}
    take = new_take(project, bob, samples, as_bob)
    monkeypatch.setattr(common, "dispatch", lambda task, take_id: None)
    driver.takes_admit()
    submit.take_submit(take.pk)  # the cluster below never sees this task: it ran here
    take.refresh_from_db()
    assert take.state == TakeState.RUNNING, take.reason
    job = LocalJob.objects.get(task_id=take.provider_task_id)
    item = take.input_clip
    assert job.payload["video"] == item.file.name and not Path(job.payload["video"]).is_absolute()
    finish(
        take,
        run_cluster(tmp_path, **host_env(tmp_path, "worker", **shared)),
        run_scheduler(tmp_path, **host_env(tmp_path, "scheduler", **shared)),
    )
    assert take.state == TakeState.SUCCEEDED, take.reason
    assert (take.result_width, take.result_height) == (1280, 720)
    assert default_storage.exists(take.result.name) and take.result_sha256
    assert not LocalJob.objects.exists()
    data = tmp_path / "worker"
    assert files_left(data) == [] and list((data / "uploads-tmp").iterdir()) == []
    if bucket is not None:
        assert not engine_objects(bucket.keys())
    else:
        assert not default_storage.listdir("local-engine")[1]
