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
    wait_for(lambda: status()[0] == 200, 60, "a worker heartbeat", qcluster)
    code, data = status()
    assert data["worker"]["alive"] >= 1 and data["database"]["ok"] is True

    qcluster.kill()
    wait_for(
        lambda: status()[0] == 503,
        15,
        "the dead worker to be noticed",
    )
    assert "no worker heartbeat" in status()[1]["worker"]["error"]


def test_worker_command_stops_cleanly_on_group_sigterm(client, transactional_db, tmp_path):
    """Ctrl-C and systemd signal the whole process group; nothing may hang or be left behind."""
    scheduler_lease()
    with run_cluster(tmp_path, command="worker") as worker:
        healthy = lambda: client.get(reverse("healthz")).status_code == 200  # noqa: E731
        wait_for(healthy, 60, "a heartbeat", worker)
        os.killpg(worker.process.pid, signal.SIGTERM)
        started = time.monotonic()
        worker.process.wait(timeout=15)
        assert time.monotonic() - started < 10
        assert worker.process.returncode == 0, worker.output()
        assert "has stopped" in worker.output()
        time.sleep(0.5)
        with pytest.raises(ProcessLookupError):
            os.killpg(worker.process.pid, 0)  # no process of that group is left
