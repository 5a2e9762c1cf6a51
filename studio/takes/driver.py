"""Admission and repair, which the scheduler process (studio/takes/scheduler.py) runs on every turn,
outside the worker pool, beside the Poller (poll.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from studio.models import AT_PROVIDER, Take, TakeState, Trigger
from studio.ops import health
from studio.takes import common, queue
from studio.takes.common import scaled
from studio.takes.poll import deadline_reason


def takes_admit() -> int:
    """Let queued takes through while fewer than MAX_ACTIVE_EDITS are at the provider, in the
    order of the fair-turns policy (studio.takes.fairness): round-robin across teams, then across
    the members of a team, oldest first; suspended teams and teams at their own limit wait."""
    if common.provider_paused(settings.STUDIO_PROVIDER):
        return 0
    free = settings.MAX_ACTIVE_EDITS - Take.objects.filter(state__in=AT_PROVIDER).count()
    if free <= 0:
        return 0
    started = 0
    now = timezone.now()
    for turn, chosen in enumerate(queue.takes_to_admit(free)):
        take = Take(pk=chosen.pk)
        # next_check_at: when the sweep should re-dispatch it if this task gets lost.
        retry_at = timezone.now() + scaled(60)
        # Turns given in one go are a microsecond apart, so they keep their order.
        at = now + timedelta(microseconds=turn)
        if take.fire(Trigger.ADMIT, "Started", next_check_at=retry_at, admitted_at=at):
            queue.turn_record(chosen, at)
            started += 1
            common.dispatch("prepare_take", take.pk)
    return started


SEND_SILENT = (
    "The step sending this edit stopped answering before it recorded the provider's reply: its "
    "worker stopped, or could not reach the database. If the provider gave a task id, that "
    "worker kept it on its disk and this take follows the task by itself once the worker and "
    "the database are back. Otherwise Cutroom does not know whether the provider received the "
    "edit: check your provider dashboard, then run it again if needed; Cutroom never re-sends a "
    "paid request by itself."
)


def takes_repair(now: datetime) -> None:
    """Steps whose worker died or whose task was lost; and takes past their deadline."""
    lost_send = Take.objects.filter(state=TakeState.SUBMITTING, lease_until__lt=now)
    for take in lost_send:
        # What is known: the step stopped renewing its hold. Not why: its worker may have died,
        # or lost the database (it then keeps a task id it got in its journal).
        take.fire(
            Trigger.SEND_INTERRUPTED,
            "The sending step went silent (its lease ran out)",
            reason=SEND_SILENT,
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


def takes_sweep() -> None:
    """Once a minute. No driver to restart: the scheduler process (studio/takes/scheduler.py) admits
    and polls. While no scheduler is active, steps whose worker died or whose task was lost are
    still repaired here."""
    if not health.scheduler_running():
        takes_repair(timezone.now())
