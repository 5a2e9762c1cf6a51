"""What every step of a take uses: queueing work, the provider's pause, backoff, the errors."""

from __future__ import annotations

import errno
import logging
import os
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django_q.tasks import async_task

from studio.models import ProviderGate
from studio.providers.base import Failure, ProviderError
from studio.storage.disks import DISK_FULL, disk_full_reason, folder_name_of

log = logging.getLogger(__name__)
ADOPTED = "Adopted provider task"  # the note that marks a task id a person pasted
CHECK_FAILED = "Checking failed:"  # the note that marks the start of a status outage
NO_RESULT = "The provider reported the edit as finished but sent no result link."


class StepProblem(ProviderError):
    """A failure on Cutroom's side (a full disk, a folder it cannot write, a bug): reported in
    its own words, never blamed on the provider."""


# Called as common.kick() and common.dispatch(...) by the steps, so that tests and the bench can
# stand in for the queue in one place.
def kick() -> None:
    """Nothing to start: the scheduler process (studio/takes/scheduler.py) sees every change on its
    next turn, within a second, and no worker waits in a driver loop. Kept as the one place to
    hook a wake-up into, should the scheduler ever sleep longer."""


def dispatch(task: str, take_id: int) -> None:
    async_task(f"studio.tasks.{task}", take_id, task_name=f"{task}:{take_id}")


def scaled(seconds: float) -> timedelta:
    return timedelta(seconds=seconds * settings.TIME_SCALE)


def backoff(attempt: int, base: float = 2.0, cap: float = 120.0) -> timedelta:
    """Full jitter: random(0, min(cap, base * 2^attempt)), never under a second."""
    return scaled(max(1.0, random.uniform(0, min(cap, base * 2**attempt))))  # noqa: S311


# -- the provider's pause (a rate limit, a refused key) -------------------------------------
def provider_gate(provider: str) -> ProviderGate:
    return ProviderGate.objects.get_or_create(provider=provider)[0]


def provider_paused(provider: str) -> datetime | None:
    not_before = provider_gate(provider).not_before
    return not_before if not_before and not_before > timezone.now() else None


def provider_pause(provider: str, seconds: float, reason: str) -> datetime:
    until = timezone.now() + scaled(min(max(seconds, 1.0), 3600.0))
    provider_gate(provider)
    ProviderGate.objects.filter(provider=provider).update(not_before=until, reason=reason[:200])
    return until


# -- our own trouble ------------------------------------------------------------------------
def storage_problem(error: OSError, then: str) -> str:
    """What a person can do about a failed file write; `then` says what to do once fixed."""
    if error.errno in DISK_FULL:
        return disk_full_reason(error, then)
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = os.strerror(error.errno).lower()
        where = folder_name_of(error) or "one of its folders"
        return (
            f"Cutroom cannot write to {where}: {why}. An administrator must make it writable, "
            f"then {then}."
        )
    return f"Cutroom could not write a file ({error.strerror or error}): {then}."


def step_problem(error: Exception, *, then: str) -> StepProblem:
    if isinstance(error, OSError):
        return StepProblem(storage_problem(error, then), Failure.RETRY, detail=repr(error))
    log.error("a take step failed", exc_info=error)
    return StepProblem(
        f"Cutroom hit an internal error ({type(error).__name__}); {then}.",
        Failure.RETRY,
        detail=repr(error),
    )
