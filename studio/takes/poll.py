"""Polling running takes: ask the provider about each one when it is due, and move it on from
the answer.

Status checks run on a few threads (`Poller`) and every call has a deadline, so one slow answer
delays neither the other takes nor the driver's admission and repair. Status reads are free: only
a definite answer or the deadline ends a running take.
"""

from __future__ import annotations

import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_any
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

from studio.models import Take, TakeState, Trigger
from studio.providers import request_budget
from studio.providers.base import Failure, Provider, ProviderError, TaskStatus
from studio.providers.catalogue import get_provider
from studio.takes import common, polling
from studio.takes.common import ADOPTED, CHECK_FAILED, NO_RESULT, backoff, scaled

log = logging.getLogger(__name__)
STATUS_BACKOFF_CAP = 60.0  # seconds between status checks while the provider is in trouble


def _ask(provider: Provider, task_id: str) -> TaskStatus:
    """One status check, on a Poller thread (it ends by the client's own deadline)."""
    try:
        return provider.status(task_id)
    finally:
        connections.close_all()  # the local engine may have queued a render from this thread


class Poller:
    """Status checks on a few threads (STUDIO_STATUS_THREADS): the driver hands out the due ones
    and collects the answers without waiting for slow ones. Only the provider call runs on a
    thread; the answer is handled in the driver's thread, with its database connection."""

    def __init__(self) -> None:
        self.size = settings.STATUS_THREADS
        self.pool = ThreadPoolExecutor(self.size, thread_name_prefix="cutroom-status")
        self.asking: dict[int, tuple[Take, Future[TaskStatus]]] = {}

    def __enter__(self) -> Poller:
        return self

    def __exit__(self, *exc: object) -> None:
        # Checks still waiting end by their own deadline, unheard: the next driver asks again
        # at once (status reads are free).
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.asking:
            Take.objects.filter(pk__in=list(self.asking), state=TakeState.RUNNING).update(
                next_check_at=timezone.now()
            )

    def ask_due(self, now: datetime) -> int:
        """Start checks of due takes on free threads; how many were started."""
        free = self.size - len(self.asking)
        if free <= 0:
            return 0
        due = (
            Take.objects.filter(state=TakeState.RUNNING, next_check_at__lte=now)
            .exclude(pk__in=list(self.asking))
            .order_by("next_check_at")
        )
        started = 0
        for take in due[:free]:
            if common.provider_paused(take.provider):
                continue
            try:
                provider = get_provider(take.provider)
            except ProviderError as error:
                take_poll_failed(take, error)
                continue
            # Paid for from the request budget every process shares
            # (studio/providers/request_budget.py); without a token the take stays due for a later
            # turn.
            if not request_budget.prepay_status(provider):
                continue
            # Counted before asking. Not due again until this check's deadline has passed, so a
            # driver that takes over meanwhile does not ask a second time at once.
            busy = timedelta(seconds=settings.MODELLIX_STATUS_TIMEOUT + 5)
            take.record(
                while_in=None,
                count=["provider_calls", "status_checks"],
                next_check_at=now + busy,
            )
            future = self.pool.submit(_ask, provider, take.provider_task_id or "")
            self.asking[take.pk] = (take, future)
            started += 1
        return started

    def collect(self, *, wait: float = 0.0) -> None:
        """Handle the answers that have arrived, waiting up to `wait` seconds for the first."""
        if wait and self.asking:
            wait_for_any([f for _, f in self.asking.values()], wait, FIRST_COMPLETED)
        for take_id, (take, future) in list(self.asking.items()):
            if not future.done():
                continue
            del self.asking[take_id]
            _answered(take, future)


def _answered(take: Take, future: Future[TaskStatus]) -> None:
    take.refresh_from_db()
    if take.state != TakeState.RUNNING:
        return  # canceled or moved on meanwhile
    try:
        status = future.result()
    except ProviderError as error:
        return take_poll_failed(take, error)
    except Exception as error:  # a bug in the client: counted like any failed check
        log.exception("checking take %s failed", take.pk)
        return take_poll_failed(
            take, ProviderError("Checking on the take failed.", Failure.RETRY, detail=repr(error))
        )
    try:
        take_poll_answer(take, status)
    except Exception as error:  # one broken take must not stop the polling of the others
        log.exception("polling take %s failed", take.pk)
        take_poll_failed(
            take, ProviderError("Checking on the take failed.", Failure.RETRY, detail=repr(error))
        )


def take_poll_answer(take: Take, status: TaskStatus) -> None:
    """Move a running take on from the provider's answer about its task."""
    now = timezone.now()
    if status.state in ("pending", "running"):
        elapsed = (now - (take.submitted_at or now)).total_seconds() / settings.TIME_SCALE
        if take.transient_errors:
            take.note("The provider answers again")
        take.record(
            while_in=TakeState.RUNNING,
            # Densely around the likely finish, sparsely before (studio/takes/polling.py).
            next_check_at=now + polling.wait_after_check(take, elapsed),
            transient_errors=0,
            progress=status.extra.get("progress", take.progress),
        )
        return None
    if status.state == "failed":
        reason = status.message or "The provider could not complete this edit and gave no reason."
        take.fire(Trigger.PROVIDER_FAILED, f"Provider: {status.raw_status}", reason=reason)
        return None
    if not status.result_urls:
        return take_poll_failed(
            take, ProviderError(NO_RESULT, Failure.RETRY, detail=f"status {status.raw_status}")
        )
    if take.fire(
        Trigger.PROVIDER_FINISHED,
        "Provider finished",
        result_url=status.result_urls[0],
        charged_usd=status.charged_usd,
        provider_duration_ms=status.duration_ms,
        result_expires_at=status.result_expires_at,
        progress=1.0,
        engine_looks=status.extra.get("looks", []),
        extended_prompt=status.extra.get("extended_prompt", ""),
        next_check_at=timezone.now() + scaled(60),
    ):
        common.dispatch("download_take", take.pk)
    return None


def take_poll_failed(take: Take, error: ProviderError) -> None:
    """Status reads are free: only a definite answer or the deadline ends a running take."""
    if error.failure == Failure.RATE_LIMITED:
        until = common.provider_pause(take.provider, error.wait or 30, error.message)
        take.record(while_in=TakeState.RUNNING, next_check_at=until, last_error=error.detail[:2000])
        return
    if error.failure == Failure.REJECTED and not error.config:
        if _adopted(take):
            return _adoption_refused(take, error)
        take.fire(
            Trigger.STATUS_REFUSED,
            error.detail,
            reason=error.message,
            last_error=error.detail[:2000],
        )
        return
    # Transient trouble, an unreadable reply, or our key refused (an administrator can fix that
    # while the provider keeps the result): keep asking, backing off, until the deadline.
    now = timezone.now()
    errors = take.transient_errors + 1
    if errors == 1:
        take.note(f"{CHECK_FAILED} {error.message} Cutroom keeps asking until the deadline.")
    said = f"{error.message} [{error.detail}]" if error.detail else error.message
    take.record(while_in=TakeState.RUNNING, count=["transient_errors"], last_error=said[:2000])
    take.refresh_from_db()
    if take.deadline_at and now >= take.deadline_at:
        take.fire(Trigger.DEADLINE, "Deadline passed", reason=deadline_reason(take, now))
        return
    wait = backoff(errors, cap=STATUS_BACKOFF_CAP)
    if error.wait:
        wait = max(wait, timedelta(seconds=min(error.wait, 3600)))
    due = now + wait
    if take.deadline_at:
        due = min(due, take.deadline_at)
    take.record(while_in=TakeState.RUNNING, next_check_at=due)


def _adopted(take: Take) -> bool:
    """Whether a person pasted this take's current task id (see take_adopt)."""
    return take.events.filter(
        state=TakeState.RUNNING, note__startswith=f"{ADOPTED} {take.provider_task_id} "
    ).exists()


def _adoption_refused(take: Take, error: ProviderError) -> None:
    """The provider does not know the pasted id: back to uncertain, so the person can retry."""
    task = take.provider_task_id
    take.fire(
        Trigger.ADOPTION_REFUSED,
        f"The provider refused task {task}: {error.detail}",
        reason=f"Cutroom could not adopt the task “{task}”: {error.message} Check the id in the "
        "provider's dashboard and paste it again, or send the edit again.",
        last_error=error.detail[:2000],
        provider_task_id=None,
        deadline_at=None,
    )


def deadline_reason(take: Take, now: datetime) -> str:
    """Why a running take stopped at its deadline: slow, or Cutroom could not get an answer."""
    task = take.provider_task_id
    if not take.transient_errors:
        minutes = int(settings.EDIT_DEADLINE.total_seconds() // 60)
        return (
            f"The provider did not finish within {minutes} minutes, so Cutroom stopped "
            "waiting. It may still finish and bill it; run the take again if you need it."
        )
    began = (
        take.events.filter(state=TakeState.RUNNING, note__startswith=CHECK_FAILED)
        .order_by("-at", "-pk")
        .values_list("at", flat=True)
        .first()
    ) or (take.submitted_at or now)
    span = _span(now - began)
    after = (
        f"The provider may have finished it, and may bill it: its task id is {task}. Choose "
        "“Check again” to ask the provider once more."
    )
    if take.last_error.startswith(NO_RESULT):
        return (
            f"The provider reported this edit as finished but sent no result link, and still "
            f"had none after {span} of asking, so Cutroom stopped at the deadline. {after}"
        )
    last = take.last_error.split(" [", 1)[0]
    return (
        f"For {span} Cutroom could not reach the provider or read its answer about this edit "
        f"(last: {last}), so it stopped waiting at the deadline. {after}"
    )


def _span(delta: timedelta) -> str:
    seconds = max(0, round(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    return f"{round(seconds / 60)} minutes"
