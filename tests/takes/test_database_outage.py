"""The database goes away between the paid POST and its answer (audit round 3, fault 1).

The provider made the task and answered with its id while PostgreSQL was stopped. The id must
not be lost: the worker keeps it in its journal on disk, retries the database, and the take
follows its task once the database is back, with one POST; also when the worker is killed during
the outage and only started again afterwards (the repair meanwhile parks the take as uncertain,
with a reason that does not claim a worker stopped).

Real processes: a PostgreSQL server of the test's own, stopped and started (tests/postgres.py),
the django-q2 cluster (manage.py worker) and the scheduler, the fake provider on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from accounts.models import Role, Team
from studio.models import FINAL_TAKE_STATES, Project, Take, TakeState
from studio.takes import driver
from tests.cluster import run_cluster, run_scheduler, wait_for
from tests.conftest import ON_POSTGRESQL, join, make_user, upload_clip
from tests.fake_modellix import Fault
from tests.pipeline import new_take
from tests.postgres import PostgresServer, database_on

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not ON_POSTGRESQL, reason="stops a PostgreSQL server of its own"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def server():
    server = PostgresServer()
    try:
        server.create()
        with database_on(server):
            yield server
    finally:
        server.remove()  # its folder too, also when it could not be made


def outage_env(fake, data: Path) -> dict[str, str]:
    return {
        "STUDIO_PROVIDER": "modellix",
        "MODELLIX_API_KEY": "test-key",
        "MODELLIX_BASE_URL": fake.url,
        "MODELLIX_READ_TIMEOUT": "600",
        "STUDIO_DOWNLOAD_ALLOW_LOOPBACK": "true",
        "STUDIO_TIME_SCALE": "0.1",
        "STUDIO_TAKE_LEASE_SECONDS": "4",
        "STUDIO_DATA_DIR": str(data),  # the worker host's own disk: its journal is there
    }


def a_take(samples) -> Take:
    bob = make_user("bob@example.com", "Bob")
    team = Team.objects.create(name="Northwind Films")
    join(bob, team, Role.OWNER)
    project = Project.objects.create(team=team, name="Ferry", created_by=bob)
    client = Client()
    client.force_login(bob)
    clip = upload_clip(client, project, samples["long.mp4"])
    return new_take(clip, bob, start=0.0, length=2.0)


def held(data: Path) -> list[dict[str, object]]:
    """The task ids the worker host holds in its journal (read without the database)."""
    folder = data / "journal"
    return [json.loads(path.read_text()) for path in sorted(folder.glob("take-*.json"))]


def final(take: Take) -> bool:
    take.refresh_from_db()
    return take.state in FINAL_TAKE_STATES and take.state != TakeState.UNCERTAIN


def answer_during_outage(fake, server: PostgresServer, data: Path, cluster) -> str:
    """Stop PostgreSQL while the POST waits for its answer, then let the provider answer: the
    id must reach the worker's journal although the database is gone."""
    release = threading.Event()
    fake.script("submit", Fault(create=True, hang=600, hold=release))
    wait_for(lambda: fake.active["submit"] == 1, 120, "the paid POST to be waiting", cluster)
    server.stop()
    release.set()
    wait_for(lambda: held(data), 60, "the task id in the worker's journal", cluster)
    (task_id,) = fake.tasks
    assert [entry["task_id"] for entry in held(data)] == [task_id]
    return task_id


def test_a_task_id_answered_during_a_database_outage_is_kept(fake, server, samples, tmp_path):
    data = tmp_path / "worker-host"
    env = outage_env(fake, data)
    take = a_take(samples)
    with run_cluster(tmp_path, "worker", **env) as worker, run_scheduler(tmp_path, **env):
        task_id = answer_during_outage(fake, server, data, worker)
        # Longer than the take's lease: the worker lives, so nothing may call it stopped.
        threading.Event().wait(6)
        server.start()
        connection.close()  # this process's connection died with the server too
        wait_for(lambda: final(take), 180, "the take to follow its task", worker)
    assert take.state == TakeState.SUCCEEDED, (take.reason, worker.output()[-3000:])
    assert take.provider_task_id == task_id
    assert fake.counts["submit"] == 1 and take.submit_posts == 1
    assert not take.events.filter(state=TakeState.UNCERTAIN).exists()
    assert held(data) == []
    assert task_id in worker.output()  # logged the moment it came


def test_a_worker_killed_during_the_outage_loses_no_task_id(fake, server, samples, tmp_path):
    data = tmp_path / "worker-host"
    env = outage_env(fake, data)
    take = a_take(samples)
    with run_scheduler(tmp_path, **env) as scheduler:
        with run_cluster(tmp_path, "worker", **env) as worker:
            task_id = answer_during_outage(fake, server, data, worker)
            worker.kill()
        server.start()
        connection.close()  # this process's connection died with the server too
        # The repair parks the silent send as uncertain, saying what it knows.
        wait_for(
            lambda: Take.objects.get(pk=take.pk).state == TakeState.UNCERTAIN,
            120,
            "the silent send to be parked",
            scheduler,
        )
        take.refresh_from_db()
        assert take.reason == driver.SEND_SILENT
        assert "worker stopped" not in take.reason.split(":")[0]
        with run_cluster(tmp_path, "worker", **env) as again:
            wait_for(lambda: final(take), 180, "the restarted worker to adopt its id", again)
    assert take.state == TakeState.SUCCEEDED, (take.reason, again.output()[-3000:])
    assert take.provider_task_id == task_id
    assert fake.counts["submit"] == 1 and take.submit_posts == 1
    adopted = take.events.get(state=TakeState.RUNNING)
    assert task_id in adopted.note and "kept it on its disk" in adopted.note
    assert held(data) == []
