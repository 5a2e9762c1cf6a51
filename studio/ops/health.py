"""Liveness of the database and the background worker, for /healthz and the pages.

Each django-q2 worker process writes a heartbeat row every `heartbeat_interval()`. Two readers with
different needs: /healthz calls a worker dead after STUDIO_WORKER_STALE_SECONDS (an alert should not
fire on one slow beat), while pages say "no worker is running" after three missed beats, because a
person watching a queued take should not be told to wait for something that cannot happen. A worker
that stops cleanly removes its rows (`forget_cluster`), so both know at once.

The scheduler (studio/takes/scheduler.py) proves it is alive by renewing its lease, the `Lease` row
"scheduler", every 2 s (STUDIO_SCHEDULER_LEASE_SECONDS is 10 s); one that stops cleanly gives
the lease up at once. It is alive while the lease it last wrote holds.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from studio.models import WorkerHeartbeat
from studio.ops.models import Lease
from studio.storage.disks import nearest_existing, written_folders

log = logging.getLogger(__name__)
# When this process started (the web server's, for /healthz): the start-up grace counts from it.
STARTED_AT = timezone.now()
SCHEDULER = "scheduler"  # the name of the scheduler's lease (studio.takes.scheduler.LEASE_NAME)


def heartbeat_interval() -> float:
    """Beat often enough that one late beat never makes a live worker look dead (15 s at most)."""
    return max(0.5, min(15.0, settings.WORKER_STALE_AFTER.total_seconds() / 4))


def worker_down_after() -> timedelta:
    """Three missed beats, and never longer than /healthz's window."""
    return min(settings.WORKER_STALE_AFTER, timedelta(seconds=3 * heartbeat_interval()))


def _cluster_prefix(group: int) -> str:
    return f"{socket.gethostname()}:{group}:"


def worker_name() -> str:
    """host:process group:pid; the process group is the cluster's, so it can be forgotten whole."""
    return f"{_cluster_prefix(os.getpgrp())}{os.getpid()}"


def forget_cluster(group: int) -> None:
    """Remove the heartbeats of a cluster that has stopped (its process group on this host)."""
    try:
        WorkerHeartbeat.objects.filter(worker__startswith=_cluster_prefix(group)).delete()
    except DatabaseError:
        log.exception("the stopped worker's heartbeats could not be removed")


def worker_running() -> bool:
    """Whether a background worker is alive to move queued work on, for the pages."""
    since = timezone.now() - worker_down_after()
    try:
        return WorkerHeartbeat.objects.filter(seen_at__gte=since).exists()
    except DatabaseError:
        return False


def scheduler_running() -> bool:
    """Whether a scheduler holds its lease: queued takes are admitted and running ones polled."""
    try:
        return Lease.holder(SCHEDULER) is not None
    except DatabaseError:
        return False


def scheduler_status() -> dict[str, Any]:
    """The scheduler's lease: who holds it and when it was last renewed."""
    try:
        row = Lease.objects.filter(name=SCHEDULER).first()
    except DatabaseError:
        return {"ok": False, "error": "database unavailable"}
    until = row.until if row is not None else None
    renewed = until - settings.SCHEDULER_LEASE if until is not None else None
    if (until is None or until <= timezone.now()) and starting(renewed):
        return {"ok": True, "starting": True}
    if row is None or until is None or renewed is None:
        # None has ever run, or the last one stopped cleanly and gave its lease up.
        return {"ok": False, "error": "no scheduler is running"}
    age = (timezone.now() - renewed).total_seconds()
    status: dict[str, Any] = {
        "ok": until > timezone.now(),
        "holder": row.owner,
        "last_renewal": renewed.isoformat(),
        "last_renewal_seconds_ago": round(age, 1),
    }
    if not status["ok"]:
        status["error"] = f"the scheduler has not renewed its lease for {int(age)} s"
    return status


def beat() -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker=worker_name(),
        defaults={"seen_at": now},
        create_defaults={"started_at": now, "seen_at": now},
    )
    # Rows of workers that stopped long ago tell nothing; keep the table small.
    WorkerHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()


def _heartbeat_loop(stop: threading.Event) -> None:
    while True:
        try:
            close_old_connections()
            beat()
        except DatabaseError:
            log.exception("worker heartbeat could not be written")
        if stop.wait(heartbeat_interval()):
            return


def start_heartbeat(sender: Any = None, proc_name: str = "", **kwargs: Any) -> threading.Event:
    """Start a daemon thread in this worker process; it dies with the process."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_heartbeat_loop, args=(stop,), name="cutroom-heartbeat", daemon=True
    )
    thread.start()
    return stop


def database_status() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "vendor": connection.vendor}


def starting(last_seen: datetime | None) -> bool:
    """Whether a process not heard from since `last_seen` may still be starting: this process
    (the web server) started less than START_GRACE ago and has not heard from it since. A
    worker that beat since and then stopped is not starting: it is missing."""
    now = timezone.now()
    fresh = last_seen is None or last_seen < STARTED_AT
    return fresh and now - STARTED_AT < settings.START_GRACE


def worker_status() -> dict[str, Any]:
    now = timezone.now()
    try:
        last = WorkerHeartbeat.objects.order_by("-seen_at").first()
        alive = WorkerHeartbeat.objects.filter(
            seen_at__gte=now - settings.WORKER_STALE_AFTER
        ).count()
    except DatabaseError:
        return {"ok": False, "error": "database unavailable"}
    if not alive and starting(last.seen_at if last else None):
        return {"ok": True, "starting": True, "alive": 0}
    if last is None:
        # No row at all: none has started, or every worker stopped cleanly and said so.
        return {"ok": False, "error": "no worker is running", "alive": 0}
    age = (now - last.seen_at).total_seconds()
    status: dict[str, Any] = {
        "ok": alive > 0,
        "alive": alive,
        "last_seen": last.seen_at.isoformat(),
        "last_seen_seconds_ago": round(age, 1),
    }
    if not alive:
        status["error"] = f"no worker heartbeat for {int(age)} s"
    return status


def queue_status() -> dict[str, Any]:
    from django_q.models import OrmQ

    try:
        return {"queued": OrmQ.objects.count()}
    except DatabaseError:
        return {"queued": None}


def storage_status() -> dict[str, Any]:
    """Whether the stored files can be reached: the media folder, or the bucket.

    A bucket is asked once (HEAD bucket) with short timeouts and no retries, so a bucket that
    is down makes /healthz answer "not ok" within seconds rather than hang.
    """
    if settings.STORAGE != "s3":
        folder = Path(settings.MEDIA_ROOT)
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # made on first write, inside its nearest parent
        if not os.access(folder, os.W_OK | os.X_OK):
            return {"ok": False, "backend": "local", "error": "the media folder is not writable"}
        return {"ok": True, "backend": "local"}
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    from django.core.files.storage import default_storage

    status: dict[str, Any] = {"ok": False, "backend": "s3", "bucket": settings.S3_BUCKET}
    options = settings.STORAGES["default"].get("OPTIONS", {})
    started = time.monotonic()
    try:
        client = default_storage.connection.meta.client  # type: ignore[attr-defined]
        config = Config(
            connect_timeout=2,
            read_timeout=3,
            retries={"max_attempts": 1, "mode": "standard"},
            s3={"addressing_style": options.get("addressing_style", "auto")},
        )
        probe = boto3_client(client, config)
        probe.head_bucket(Bucket=options.get("bucket_name", settings.S3_BUCKET))
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        status["error"] = f"the bucket answered {code}"
    except (BotoCoreError, OSError) as error:
        status["error"] = f"the bucket cannot be reached ({type(error).__name__})"
    else:
        status["ok"] = True
    status["ms"] = round((time.monotonic() - started) * 1000)
    return status


_probes: dict[tuple[Any, ...], Any] = {}


def boto3_client(client: Any, config: Any) -> Any:
    """A client like the storage's (endpoint, region, credentials) with another config; made
    once per process for each storage (a load balancer asks every few seconds)."""
    import boto3

    credentials = client._request_signer._credentials  # the storage's resolved credentials
    key = (client.meta.endpoint_url, client.meta.region_name, id(credentials))
    if key in _probes:
        return _probes[key]
    _probes[key] = boto3.session.Session().client(
        "s3",
        endpoint_url=client.meta.endpoint_url,
        region_name=client.meta.region_name,
        aws_access_key_id=credentials.access_key if credentials else None,
        aws_secret_access_key=credentials.secret_key if credentials else None,
        aws_session_token=credentials.token if credentials else None,
        config=client.meta.config.merge(config),
    )
    return _probes[key]


def disk_status() -> dict[str, Any]:
    """Free space in every folder Cutroom writes to on this host; a full one fails takes or
    uploads (studio.storage.disks.written_folders: the media folder with local storage, the
    scratch folder, temporary uploads, the SQLite database's folder, the data folder).

    Each is reported by kind with its path; `error` names the folders in trouble.
    """
    minimum = settings.MIN_FREE_BYTES
    status: dict[str, Any] = {"ok": True, "min_free_mb": minimum // 2**20}
    trouble = []
    for folder in written_folders():
        report: dict[str, Any] = {"path": str(folder.path)}
        status[folder.kind] = report
        try:
            free = shutil.disk_usage(nearest_existing(folder.path)).free
        except OSError as error:
            report |= {"free_bytes": None, "free_mb": None}
            report["error"] = error.strerror or type(error).__name__
            trouble.append(f"{folder.named} cannot be checked")
            continue
        report |= {"free_bytes": free, "free_mb": free // 2**20}
        if free < minimum:
            report["error"] = f"less than {minimum // 2**20} MB free"
            trouble.append(f"{folder.named} has {report['error']}")
    if trouble:
        status["ok"] = False
        status["error"] = "; ".join(trouble)
    return status


def health() -> dict[str, Any]:
    db = database_status()
    down = {"ok": False, "error": "database unavailable"}
    worker = worker_status() if db["ok"] else down
    scheduler = scheduler_status() if db["ok"] else down
    disk, storage = disk_status(), storage_status()
    return {
        "ok": all(part["ok"] for part in (disk, storage, db, worker, scheduler)),
        "database": db,
        "worker": worker,
        "scheduler": scheduler,
        "queue": queue_status() if db["ok"] else {"queued": None},
        "provider": settings.STUDIO_PROVIDER,
        "disk": disk,
        "storage": storage,
    }
