"""Admission and repair, which the scheduler process (studio/takes/scheduler.py) runs on every turn,
outside the worker pool, beside the Poller (poll.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from studio.core.formatting import usd, usd_estimate
from studio.governance import budgets
from studio.models import AT_PROVIDER, Take, TakeState, Trigger
from studio.ops import health
from studio.providers.catalogue import about
from studio.takes import common, estimates, queue
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
        # Turns given in one go are a microsecond apart, so they keep their order.
        at = now + timedelta(microseconds=turn)
        if take_admit(chosen.pk, at=at):
            queue.turn_record(chosen, at)
            started += 1
            common.dispatch("prepare_take", chosen.pk)
    return started


SEND_SILENT = (
    "The step sending this edit stopped answering before it recorded the provider's reply: its "
    "worker stopped, or could not reach the database. If the provider gave a task id, that "
    "worker kept it on its disk and this take follows the task by itself once the worker and "
    "the database are back. Otherwise Cutroom does not know whether the provider received the "
    "edit: check your provider dashboard, then run it again if needed; Cutroom never re-sends a "
    "paid request by itself."
)


def take_admit(pk: int, *, at: datetime) -> bool:
    """Let one queued take through, if its budgets still have room for it: False when it moved
    on meanwhile, or was refused (failed, with the budget in its reason).

    Its budgets were checked when it was made, but charges may have come in above their
    estimates since, so they are checked again, under the budgets' lock, with the take's
    estimate raised to what the provider has lately charged (studio/takes/estimates.py)."""
    take = Take.objects.select_related("project__team", "created_by").filter(pk=pk).first()
    if take is None:
        return False
    # next_check_at: when the sweep should re-dispatch it if this task gets lost.
    fields: dict[str, Any] = {"next_check_at": timezone.now() + scaled(60), "admitted_at": at}
    if not take.engine.bills:
        return take.fire(Trigger.ADMIT, "Started", **fields)
    with transaction.atomic():
        budgets.budgets_lock()
        take.refresh_from_db()  # as it is under the lock
        learned = estimates.take_estimate(
            provider=take.provider, resolution=take.resolution, seconds=take.output_seconds
        )
        # A take sent again holds its first request's estimate as well: that stays.
        raised = max(Decimal(0), learned - take.estimate_usd)
        amount = take.reserved_usd + raised
        over = budgets.budget_exceeded_at_start(take=take, amount=amount)
        if over is not None:
            _refuse_over_budget(take, over, amount)
            return False
        note = "Started"
        if raised:
            note += (
                f"; estimate raised from {usd_estimate(take.estimate_usd)} to "
                f"{usd(learned)}, what the provider has lately charged for this configuration"
            )
            fields |= {"estimate_usd": learned, "reserved_usd": amount}
        return take.fire(Trigger.ADMIT, note, **fields)


def _refuse_over_budget(take: Take, over: budgets.Budget, amount: Decimal) -> None:
    """Fail a queued take that `over` has no room for any more, saying why."""
    # A take sent again keeps holding its first request, which may have been billed.
    earlier = max(Decimal(0), take.reserved_usd - take.estimate_usd)
    kept = (
        "This request was not sent; the first one may have been billed, so its estimate stays held."
        if earlier
        else "Nothing was sent or charged, and what it held is given back."
    )
    take.fire(
        Trigger.OVER_BUDGET,
        f"Not started: over budget ({over.name}: {usd(over.spent)} spent of {usd(over.limit)})",
        reserved_usd=earlier,
        reason=f"{budgets.over_budget_words(over, amount, 'this take')} {kept} "
        f"{over.raise_by[0].upper()}{over.raise_by[1:]} can raise it; then run the take again.",
    )


def takes_repair(now: datetime) -> None:
    """Steps whose worker died or whose task was lost; and takes past their deadline."""
    lost_send = Take.objects.filter(state=TakeState.SUBMITTING, lease_until__lt=now)
    for take in lost_send:
        if not about(take.provider).bills:
            # Nothing is paid: a send that went silent is simply made again.
            take.fire(
                Trigger.RETRY_LATER,
                "The sending step went silent (its lease ran out); sent again, it costs nothing",
                lease_until=None,
                next_check_at=now,
            )
            continue
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
