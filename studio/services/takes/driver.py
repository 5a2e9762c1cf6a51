"""The driver: one loop, across every host, that admits queued takes, repairs lost steps and
polls running takes while any take is active (the `drive_takes` task).

django-q2 has no delayed tasks and its scheduler ticks only every ~30 s, so the driver loops
while takes are active, polling each running take when it is due. A Lease named "driver" makes
sure only one runs; the one-minute sweep starts a new one when takes are active and nobody holds
the lease.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from studio.models import AT_PROVIDER, Lease, Take, TakeState, Trigger
from studio.services.takes import common
from studio.services.takes.common import scaled
from studio.services.takes.poll import Poller, deadline_reason

DRIVER = "driver"  # the name of the driver's Lease
DRIVER_MAX_SECONDS = 20 * 60  # then it hands over to a fresh task (Q_CLUSTER timeout is 30 min)


def takes_admit() -> int:
    """Start queued takes in order while fewer than MAX_ACTIVE_EDITS are at the provider."""
    started = 0
    if common.provider_paused(settings.STUDIO_PROVIDER):
        return 0
    busy = Take.objects.filter(state__in=AT_PROVIDER).count()
    for take in Take.objects.filter(state=TakeState.QUEUED).order_by("created_at", "pk"):
        if busy >= settings.MAX_ACTIVE_EDITS:
            break
        # next_check_at: when the sweep should re-dispatch it if this task gets lost.
        retry_at = timezone.now() + scaled(60)
        if take.fire(Trigger.ADMIT, "Started", next_check_at=retry_at):
            busy += 1
            started += 1
            common.dispatch("prepare_take", take.pk)
    return started


def takes_repair(now: datetime) -> None:
    """Steps whose worker died or whose task was lost; and takes past their deadline."""
    lost_send = Take.objects.filter(state=TakeState.SUBMITTING, lease_until__lt=now)
    for take in lost_send:
        take.fire(
            Trigger.SEND_INTERRUPTED,
            "The worker stopped while sending",
            reason="Cutroom was interrupted while sending this edit, so it does not know whether "
            "the provider received it. Check your provider dashboard, then run it again if "
            "needed; Cutroom never re-sends a paid request by itself.",
        )
    for state, task in (
        (TakeState.PREPARING, "prepare_take"),
        (TakeState.DOWNLOADING, "download_take"),
    ):
        due = (
            Take.objects.filter(state=state)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .filter(Q(next_check_at__isnull=True) | Q(next_check_at__lte=now))
        )
        for take in due.only("pk"):
            take.record(while_in=None, next_check_at=now + scaled(30))
            common.dispatch(task, take.pk)
    for take in Take.objects.filter(state=TakeState.RUNNING, deadline_at__lt=now):
        take.fire(Trigger.DEADLINE, "Deadline passed", reason=deadline_reason(take, now))


def takes_drive(max_seconds: float = DRIVER_MAX_SECONDS) -> None:
    """Admit, repair and poll until no take is active; only one driver runs at a time.

    Status checks are asked on the Poller's threads and collected when they answer, so every turn
    of the loop admits and repairs, however slow the provider is about one take.
    """
    started = time.monotonic()
    token = secrets.token_hex(8)
    active = Take.objects.filter(state__in=[*AT_PROVIDER, TakeState.QUEUED, TakeState.DOWNLOADING])
    with Poller() as poller:
        while time.monotonic() - started < max_seconds:
            now = timezone.now()
            if not Lease.acquire(DRIVER, token, settings.DRIVER_LEASE.total_seconds()):
                return  # another driver is running; it will see whatever was just queued
            takes_admit()
            takes_repair(now)
            poller.ask_due(now)
            if not poller.asking and not active.exists():
                break
            due = active.filter(state=TakeState.RUNNING).exclude(next_check_at=None)
            nxt = due.order_by("next_check_at").first()
            wait = 1.0
            if nxt is not None and nxt.next_check_at is not None:
                wait = (nxt.next_check_at - timezone.now()).total_seconds()
            poller.collect(wait=min(1.0, max(0.05, wait)))
    Lease.release(DRIVER, token)
    if active.exists():
        common.kick()


def takes_sweep() -> None:
    """Once a minute: restart the driver when takes are active and no driver holds the lease."""
    busy = Take.objects.filter(state__in=[*AT_PROVIDER, TakeState.QUEUED, TakeState.DOWNLOADING])
    if busy.exists() and Lease.holder(DRIVER) is None:
        async_task("studio.tasks.drive_takes", task_name="drive_takes:sweep")
