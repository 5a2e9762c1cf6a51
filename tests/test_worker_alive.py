"""/healthz follows a real django-q2 cluster: ok while it runs, not ok soon after it dies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.cluster import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _short_staleness(settings):
    # Production waits 120 s before calling a silent worker dead; the test waits 4 s.
    settings.WORKER_STALE_AFTER = timedelta(seconds=4)


def test_healthz_sees_worker_come_and_die(client, qcluster):
    def status() -> tuple[int, dict]:
        response = client.get(reverse("healthz"))
        return response.status_code, response.json()

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
