"""/healthz follows a real django-q2 cluster: ok while it runs, not ok soon after it dies."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django.urls import reverse

from tests.cluster import run_cluster, wait_for
from tests.conftest import scheduler_lease

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _short_staleness(settings):
    # Production waits 120 s before calling a silent worker dead; the test waits 4 s.
    settings.WORKER_STALE_AFTER = timedelta(seconds=4)


def test_healthz_sees_worker_come_and_die(client, qcluster):
    def status() -> tuple[int, dict]:
        response = client.get(reverse("healthz"))
        return response.status_code, response.json()

    scheduler_lease()  # this test is about the worker
    wait_for(lambda: status()[0] == 200, 120, "a worker heartbeat", qcluster)
    code, data = status()
    assert data["worker"]["alive"] >= 1 and data["database"]["ok"] is True

    qcluster.kill()
    # Noticed once its last heartbeat is older than WORKER_STALE_AFTER; a busy machine may
    # take longer to answer, never less.
    wait_for(lambda: status()[0] == 503, 120, "the dead worker to be noticed")
    assert "no worker heartbeat" in status()[1]["worker"]["error"]


def test_worker_command_stops_cleanly_on_group_sigterm(client, transactional_db, tmp_path):
    """Ctrl-C and systemd signal the whole process group; nothing may hang or be left behind."""
    scheduler_lease()
    with run_cluster(tmp_path, command="worker") as worker:
        healthy = lambda: client.get(reverse("healthz")).status_code == 200  # noqa: E731
        wait_for(healthy, 120, "a heartbeat", worker)
        os.killpg(worker.process.pid, signal.SIGTERM)
        started = time.monotonic()
        worker.process.wait(timeout=60)
        assert time.monotonic() - started < 60  # it stops: nothing hangs
        assert worker.process.returncode == 0, worker.output()
        assert "has stopped" in worker.output()
        wait_for(lambda: not group_alive(worker.process.pid), 120, "every process of the group")
        with pytest.raises(ProcessLookupError):
            os.killpg(worker.process.pid, 0)  # no process of that group is left


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
