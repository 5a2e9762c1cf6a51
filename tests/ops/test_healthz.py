from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.urls import reverse
from django.utils import timezone

from studio.models import Lease, WorkerHeartbeat
from studio.ops import health
from tests.cluster import wait_for
from tests.conftest import scheduler_lease

pytestmark = pytest.mark.django_db


def test_no_worker_yet_is_503(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    data = response.json()
    assert data["database"]["ok"] is True
    assert data["worker"] == {"ok": False, "error": "no worker is running", "alive": 0}


def test_fresh_heartbeat_is_200(client):
    health.beat()
    scheduler_lease()
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is True and data["worker"]["alive"] == 1
    assert data["queue"] == {"queued": 0}
    assert response["Cache-Control"].startswith("max-age=0")


def test_stale_heartbeat_is_503(client, settings):
    health.beat()
    stale = timezone.now() - settings.WORKER_STALE_AFTER - timedelta(seconds=1)
    WorkerHeartbeat.objects.update(seen_at=stale)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert "no worker heartbeat for 12" in response.json()["worker"]["error"]


def test_database_down_is_503(client, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("disk I/O error")

    health.beat()
    monkeypatch.setattr(health.connection, "cursor", broken)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    data = response.json()
    assert data["database"] == {"ok": False, "error": "DatabaseError"}
    assert data["worker"]["ok"] is False


def test_old_heartbeats_are_pruned():
    WorkerHeartbeat.objects.create(
        worker="gone:1", started_at=timezone.now(), seen_at=timezone.now() - timedelta(days=2)
    )
    health.beat()
    assert list(WorkerHeartbeat.objects.values_list("worker", flat=True)) == [health.worker_name()]


def test_heartbeat_thread_writes_and_stops(transactional_db):
    stop = health.start_heartbeat(proc_name="test")
    try:
        wait_for(WorkerHeartbeat.objects.exists, 120, "the first heartbeat")
        assert WorkerHeartbeat.objects.filter(worker=health.worker_name()).exists()
    finally:
        stop.set()


# -- "is a worker running", for the pages --------------------------------------------------
def test_worker_running_with_a_fresh_heartbeat():
    assert health.worker_running() is False  # none ever started
    health.beat()
    assert health.worker_running() is True


def test_a_killed_worker_is_down_for_pages_after_three_missed_beats(client, settings):
    """The pages do not wait for /healthz's longer window before saying so."""
    settings.WORKER_STALE_AFTER = timedelta(seconds=120)
    assert health.worker_down_after() == timedelta(seconds=3 * health.heartbeat_interval())
    health.beat()
    missed = timezone.now() - health.worker_down_after() - timedelta(seconds=1)
    WorkerHeartbeat.objects.update(seen_at=missed)
    assert health.worker_running() is False
    scheduler_lease()
    assert client.get(reverse("healthz")).status_code == 200  # an alert may wait longer


def test_pages_never_wait_longer_than_healthz(settings):
    settings.WORKER_STALE_AFTER = timedelta(seconds=4)
    assert health.worker_down_after() <= settings.WORKER_STALE_AFTER


def test_a_cleanly_stopped_cluster_is_down_at_once(client):
    health.beat()
    other = WorkerHeartbeat.objects.create(
        worker="elsewhere:77:78", started_at=timezone.now(), seen_at=timezone.now()
    )
    assert health.worker_name().startswith(f"{socket.gethostname()}:{os.getpgrp()}:")
    health.forget_cluster(os.getpgrp())
    assert list(WorkerHeartbeat.objects.all()) == [other]  # another host's cluster stays
    other.delete()
    assert health.worker_running() is False
    data = client.get(reverse("healthz")).json()
    assert data["worker"] == {"ok": False, "error": "no worker is running", "alive": 0}


def test_disk_space_is_reported(client, settings):
    health.beat()
    scheduler_lease()
    data = client.get(reverse("healthz")).json()
    assert data["disk"]["ok"] is True and data["disk"]["min_free_mb"] == 500
    assert data["disk"]["media"]["free_mb"] > 0 and data["disk"]["data"]["free_mb"] > 0
    # Every folder Cutroom writes to, by name, with its path and free bytes.
    kinds = {"media", "scratch", "uploads", "data"} | (
        {"database"} if connection.vendor == "sqlite" else set()
    )
    assert kinds <= data["disk"].keys()
    assert data["disk"]["scratch"]["path"] == str(settings.FILE_UPLOAD_TEMP_DIR)
    assert data["disk"]["media"]["path"] == str(settings.MEDIA_ROOT)
    assert all(data["disk"][kind]["free_bytes"] > 0 for kind in kinds)


def test_low_disk_space_is_not_ok(client, settings, monkeypatch):
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(
        health.shutil, "disk_usage", lambda path: usage(10 * 2**30, 10 * 2**30, 100 * 2**20)
    )
    health.beat()
    scheduler_lease()
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    data = response.json()
    assert data["worker"]["ok"] is True and data["database"]["ok"] is True
    assert data["disk"]["ok"] is False
    assert data["disk"]["media"] == {
        "path": str(settings.MEDIA_ROOT),
        "free_bytes": 100 * 2**20,
        "free_mb": 100,
        "error": "less than 500 MB free",
    }
    settings.MIN_FREE_BYTES = 50 * 2**20
    assert client.get(reverse("healthz")).status_code == 200


def test_unreadable_folder_is_not_ok_and_a_down_database_still_reports_disk(
    client, monkeypatch, settings
):
    def broken(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(health.shutil, "disk_usage", broken)
    monkeypatch.setattr(health.connection, "cursor", lambda: (_ for _ in ()).throw(DatabaseError()))
    data = client.get(reverse("healthz")).json()
    assert data["ok"] is False
    assert data["disk"]["data"] == {
        "path": str(settings.DATA_DIR),
        "free_bytes": None,
        "free_mb": None,
        "error": "Permission denied",
    }


def test_a_full_scratch_folder_is_named_while_the_others_are_fine(
    client, settings, tmp_path, full_disks, monkeypatch
):
    """Issue 21, item 3: the scratch folder on a full disk of its own made /healthz say ok."""
    scratch = tmp_path / "scratch-disk"
    if full_disks.mount(scratch):
        full_disks.fill(scratch)
    else:  # no mount here: the disk of that folder reports what a full one would
        usage = health.shutil.disk_usage
        full = type(usage(tmp_path))(2**20, 2**20, 0)
        monkeypatch.setattr(
            health.shutil, "disk_usage", lambda path: full if path == scratch else usage(path)
        )
    settings.FILE_UPLOAD_TEMP_DIR = scratch
    settings.MIN_FREE_BYTES = 2**20  # so that this host's other disks are surely fine
    health.beat()
    scheduler_lease()
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    disk = response.json()["disk"]
    assert disk["ok"] is False
    assert disk["scratch"] == {
        "path": str(scratch),
        "free_bytes": 0,
        "free_mb": 0,
        "error": "less than 1 MB free",
    }
    # Scratch copies and temporary uploads share the folder, so both are short of room.
    assert disk["uploads"]["error"] == "less than 1 MB free"
    assert disk["error"] == (
        f"the scratch folder ({scratch}) has less than 1 MB free; "
        f"the temporary-upload folder ({scratch}) has less than 1 MB free"
    )
    others = [kind for kind in ("media", "data", "database") if kind in disk]
    assert others and all("error" not in disk[kind] for kind in others)
    assert all(disk[kind]["free_bytes"] >= 2**20 for kind in others)


# -- the scheduler's liveness: its lease ------------------------------------------------------
def test_no_scheduler_is_503_and_says_so(client):
    health.beat()
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["scheduler"] == {"ok": False, "error": "no scheduler is running"}
    assert health.scheduler_running() is False


def test_a_renewed_scheduler_lease_is_ok_with_its_holder(client, settings):
    health.beat()
    assert Lease.acquire("scheduler", "host-a:41:abc", settings.SCHEDULER_LEASE.total_seconds())
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    data = response.json()["scheduler"]
    assert data["ok"] is True and data["holder"] == "host-a:41:abc"
    assert 0 <= data["last_renewal_seconds_ago"] < 5
    assert health.scheduler_running() is True


def test_a_scheduler_that_stopped_renewing_is_503(client, settings):
    health.beat()
    Lease.acquire("scheduler", "host-a:41:abc", 10)
    Lease.objects.update(until=timezone.now() - timedelta(seconds=3))
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    data = response.json()["scheduler"]
    assert data["ok"] is False and data["holder"] == "host-a:41:abc"
    assert data["error"].startswith("the scheduler has not renewed its lease for 1")
    assert health.scheduler_running() is False


def test_a_cleanly_stopped_scheduler_is_down_at_once(client):
    health.beat()
    Lease.acquire("scheduler", "host-a:41:abc", 600)
    Lease.release("scheduler", "host-a:41:abc")
    assert client.get(reverse("healthz")).json()["scheduler"]["error"] == "no scheduler is running"


def test_a_worker_not_heard_from_just_after_the_start_is_starting_not_an_error(
    client, settings, monkeypatch, logs
):
    settings.START_GRACE = timedelta(seconds=60)
    monkeypatch.setattr(health, "STARTED_AT", timezone.now() - timedelta(seconds=5))
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    data = response.json()
    assert data["worker"] == {"ok": True, "starting": True, "alive": 0}
    assert data["scheduler"] == {"ok": True, "starting": True}
    assert "ERROR" not in logs.text
    # Once the grace is over, a worker still not heard from is missing, and logged as such.
    monkeypatch.setattr(health, "STARTED_AT", timezone.now() - timedelta(seconds=61))
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["worker"]["error"] == "no worker is running"
    assert "ERROR" in logs.text and "/healthz" in logs.text


def test_a_worker_that_beat_since_the_start_and_stopped_is_missing_even_in_the_grace(
    client, settings, monkeypatch
):
    settings.START_GRACE = timedelta(seconds=60)
    monkeypatch.setattr(health, "STARTED_AT", timezone.now() - timedelta(seconds=30))
    health.beat()
    scheduler_lease()
    settings.WORKER_STALE_AFTER = timedelta(seconds=10)
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(seconds=20))
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["worker"]["error"] == "no worker heartbeat for 20 s"
