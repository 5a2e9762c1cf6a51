"""A take's life: create, admit to the provider, prepare and submit, poll, download, finish.

Our table is the source of truth; django-q2 only carries kicks. Every step claims the take with
a compare-and-set update and a lease, does one external thing outside any transaction, then moves
the state on with another compare-and-set, so a step that runs twice does no harm. The paid POST
is preceded by a committed move to SUBMITTING: if the worker dies during it, the lease expires
and the take is parked as UNCERTAIN for a person to decide, never re-sent by the machine.

Leases are short (STUDIO_TAKE_LEASE_SECONDS, 60 s) and renewed by a heartbeat thread while a
step runs (`holding_lease`): a worker that died is noticed within one lease, and a long step that
is alive (a slow download, a POST waiting for its answer) is never taken over.

Polling: the scheduler process (studio/scheduler.py, issue 13) calls admit, repair and the
Poller in a loop of its own, outside the worker pool. Status checks run on a few threads
(`Poller`) and every external call has a deadline, so one slow answer delays neither the other
takes nor admission and repair, which run on every turn of the loop.
"""

from __future__ import annotations

import errno
import logging
import os
import random
import secrets
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_any
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import User
from studio import budget, health, polling
from studio.files import local_copy, scratch_dir, sha256_of, store_path
from studio.heartbeat import beating
from studio.media.probe import MediaRejected, probe
from studio.media.transcode import make_poster, make_thumbnail
from studio.models import (
    AT_PROVIDER,
    FINAL_TAKE_STATES,
    Clip,
    ProviderGate,
    Reference,
    Take,
    TakeEvent,
    TakeReference,
    TakeState,
)
from studio.providers import get_provider, local
from studio.providers.base import EditRequest, Failure, Media, Provider, ProviderError, TaskStatus
from studio.services.clips import input_clip_prepare
from studio.services.history import activity_log
from studio.services.projects import ARCHIVED_NO_TAKES, project_is_archived
from studio.templatetags.money import usd_estimate

log = logging.getLogger(__name__)
TRANSIENT_BUDGET = 6
CONFIG_PAUSE_SECONDS = 600
DOWNLOAD_BUDGET = 4
STATUS_BACKOFF_CAP = 60.0  # seconds between status checks while the provider is in trouble
CHECK_FAILED = "Checking failed:"  # the event that marks the start of a status outage
ADOPTED = "Adopted provider task"
NO_RESULT = "The provider reported the edit as finished but sent no result link."
MAX_SEED = 2_147_483_647
NEVER_RESENT = (
    "Cutroom never re-sends a paid request by itself: check your provider dashboard, then run "
    "it again if needed."
)


def scaled(seconds: float) -> timedelta:
    return timedelta(seconds=seconds * settings.TIME_SCALE)


def estimate(resolution: str, seconds: float) -> Decimal:
    price = Decimal(settings.PRICE_PER_SECOND[resolution])
    return (price * Decimal(str(round(seconds, 3)))).quantize(Decimal("0.0001"))


# -- moving between states ------------------------------------------------------------------
def move(take: Take, sources: Iterable[str], target: str, note: str = "", **fields: Any) -> bool:
    """Compare-and-set the state and record the event; False if the take was elsewhere."""
    now = timezone.now()
    if target in FINAL_TAKE_STATES:
        fields.setdefault("finished_at", now)
        fields.setdefault("lease_until", None)
        fields.setdefault("next_check_at", None)
    with transaction.atomic():
        changed = Take.objects.filter(pk=take.pk, state__in=list(sources)).update(
            state=target, state_changed_at=now, **fields
        )
        if changed:
            TakeEvent.objects.create(take_id=take.pk, state=target, at=now, note=note[:2000])
    if changed:
        take.refresh_from_db()
        if target in (
            TakeState.SUCCEEDED,
            TakeState.FAILED,
            TakeState.TIMED_OUT,
            TakeState.EXPIRED,
        ):
            verb = "finished" if target == TakeState.SUCCEEDED else "failed"
            activity_log(
                team=take.project.team,
                actor=take.created_by,
                verb=verb,
                summary=(
                    f"got a finished take: {take.prompt[:60]}"
                    if verb == "finished"
                    else f"had a take end as {take.get_state_display().lower()}: {take.prompt[:60]}"
                ),
                project=take.project,
                take=take,
            )
    return bool(changed)


def claim(take_id: int, state: str) -> Take | None:
    """Take the lease of a take in `state`; None when it is elsewhere or leased."""
    now = timezone.now()
    claimed = (
        Take.objects.filter(pk=take_id, state=state)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + settings.TAKE_LEASE)
    )
    return Take.objects.select_related("clip", "project").get(pk=take_id) if claimed else None


class Lease:
    """The lease of a claimed take, as this worker last wrote it."""

    def __init__(self, take: Take) -> None:
        self.take_id = take.pk
        self.until = take.lease_until
        self.lost = False  # renewing failed: another worker holds it, or the step gave it back

    def renew(self) -> bool:
        # Compare-and-set on the value we wrote: a lease someone else took is never extended.
        until = timezone.now() + settings.TAKE_LEASE
        renewed = Take.objects.filter(pk=self.take_id, lease_until=self.until).update(
            lease_until=until
        )
        if renewed:
            self.until = until
        else:
            self.lost = True
        return bool(renewed)


@contextmanager
def holding_lease(take: Take) -> Iterator[Lease]:
    """Keep a claimed take's lease while the block runs: renewed every quarter lease by a thread,
    also while the step waits on a slow call. When the worker dies the renewals stop, and the
    sweep takes over (or parks a send as uncertain) within one lease."""
    lease = Lease(take)
    every = settings.TAKE_LEASE.total_seconds() / 4
    with beating(lease.renew, every=every, name=f"cutroom-lease-{take.pk}"):
        yield lease


def release(take: Take, *, after: timedelta, error: str = "") -> None:
    fields: dict[str, Any] = {"lease_until": None, "next_check_at": timezone.now() + after}
    if error:
        fields["last_error"] = error[:2000]
    Take.objects.filter(pk=take.pk).update(**fields)


def backoff(attempt: int, base: float = 2.0, cap: float = 120.0) -> timedelta:
    """Full jitter: random(0, min(cap, base * 2^attempt)), never under a second."""
    return scaled(max(1.0, random.uniform(0, min(cap, base * 2**attempt))))  # noqa: S311


def kick() -> None:
    """Issue 13 hook: nothing to start any more. The scheduler process (studio/scheduler.py)
    sees every change on its next turn, within a second; no worker waits in a driver loop."""


# -- create, cancel, run again --------------------------------------------------------------
def take_create(
    *,
    project: Any,
    author: User,
    clip: Clip,
    prompt: str,
    negative_prompt: str = "",
    resolution: str = "1080P",
    ratio: str = "",
    duration: int = 0,
    audio_setting: str = "auto",
    prompt_extend: bool = True,
    seed: int | None = None,
    start: float = 0.0,
    length: float,
    references: list[Reference] | None = None,
    run_of: Take | None = None,
) -> Take:
    if project_is_archived(project):
        raise Refused(ARCHIVED_NO_TAKES)
    chosen = seed is not None
    window = round(length * 1000)
    take = Take(
        project=project,
        clip=clip,
        created_by=author,
        run_of=run_of,
        prompt=prompt,
        negative_prompt=negative_prompt,
        resolution=resolution,
        ratio=ratio,
        duration=duration,
        audio_setting=audio_setting,
        prompt_extend=prompt_extend,
        seed=seed if chosen else secrets.randbelow(MAX_SEED + 1),
        seed_was_chosen=chosen,
        start_ms=round(start * 1000),
        length_ms=window,
        provider=settings.STUDIO_PROVIDER,
        deadline_at=None,
    )
    take.estimate_usd = estimate(resolution, take.output_seconds)
    with transaction.atomic():
        take.save()
        for position, reference in enumerate(references or []):
            TakeReference.objects.create(take=take, reference=reference, position=position)
        TakeEvent.objects.create(take=take, state=TakeState.QUEUED, note="Created")
        project.touch()
        activity_log(
            team=project.team,
            actor=author,
            verb="submitted",
            summary=f"submitted a take: {prompt[:80]}",
            project=project,
            take=take,
        )
    kick()
    return take


def take_run_again(*, take: Take, author: User) -> Take:
    return take_create(
        project=take.project,
        author=author,
        clip=take.clip,
        **take.api_parameters(),
        start=take.start_ms / 1000,
        length=take.length_ms / 1000,
        references=list(take.references.order_by("takereference__position")),
        run_of=take,
    )


def take_variations(*, take: Take, author: User, count: int) -> list[Take]:
    """`count` new takes that differ from `take` only in their (random) seed."""
    if project_is_archived(take.project):
        raise Refused(ARCHIVED_NO_TAKES)
    made = []
    for _ in range(count):
        again = take_run_again(take=take, author=author)
        again.seed = secrets.randbelow(MAX_SEED + 1)
        again.seed_was_chosen = False
        again.save(update_fields=["seed", "seed_was_chosen"])
        made.append(again)
    return made


def take_cancel(*, take: Take) -> bool:
    """Before submission: cancel. Afterwards: stop waiting (the API has no cancel)."""
    if move(take, [TakeState.QUEUED, TakeState.PREPARING], TakeState.CANCELED, "Canceled"):
        return True
    if take.provider == "local" and take.provider_task_id:
        # Our own engine can stop: the render ends and its files go.
        if move(take, [TakeState.RUNNING], TakeState.CANCELED, "Canceled", reason=""):
            local.cancel(take.provider_task_id)
            return True
        return False
    return move(
        take,
        [TakeState.RUNNING],
        TakeState.CANCELED,
        "Stopped waiting. The provider has no cancel, so it may still finish (and bill) it.",
        reason="You stopped waiting for this take. The provider offers no way to cancel a "
        "running edit, so it may still finish and be billed.",
    )


# -- ways out: send again, adopt a task, check again, save again ----------------------------
class Refused(Exception):
    """A person's request that cannot be done; the message says why, for that person."""


def take_send_again(*, take: Take, author: User) -> None:
    """Send an uncertain take once more: a new paid POST for the same take, which keeps its
    history (its events and its submit_posts count show both requests)."""
    if project_is_archived(take.project):
        raise Refused(ARCHIVED_NO_TAKES)
    if not move(
        take,
        [TakeState.UNCERTAIN],
        TakeState.QUEUED,
        f"Sent again by {author.display_name}: a new paid request, "
        f"{usd_estimate(take.estimate_usd)}",
        reason="",
        last_error="",
        transient_errors=0,
        provider_task_id=None,
        submitted_at=None,
        deadline_at=None,
        finished_at=None,
        lease_until=None,
        next_check_at=None,
    ):
        raise Refused("This take is no longer waiting for a decision.")
    activity_log(
        team=take.project.team,
        actor=author,
        verb="submitted",
        summary=f"sent a take again: {take.prompt[:80]}",
        project=take.project,
        take=take,
    )
    kick()


def take_adopt(*, take: Take, task_id: str, author: User) -> None:
    """Follow a task a person found at the provider (or, for a take that timed out, its own task
    again): poll it, download its result. Nothing is sent, so nothing is paid."""
    again = take.state == TakeState.TIMED_OUT and task_id == take.provider_task_id
    used = Take.objects.filter(provider_task_id=task_id).exclude(pk=take.pk)
    taken = f"Another take already follows the provider task “{task_id}”; check the id."
    if used.exists():
        raise Refused(taken)
    now = timezone.now()
    note = (
        f"Checking provider task {task_id} again (asked by {author.display_name})"
        if again
        else f"{ADOPTED} {task_id} (found by {author.display_name})"
    )
    try:
        moved = move(
            take,
            [TakeState.TIMED_OUT] if again else [TakeState.UNCERTAIN],
            TakeState.RUNNING,
            note,
            provider_task_id=task_id,
            submitted_at=take.submitted_at or now,
            deadline_at=now + settings.EDIT_DEADLINE,
            next_check_at=now,
            reason="",
            last_error="",
            transient_errors=0,
            finished_at=None,
            lease_until=None,
        )
    except IntegrityError:  # another take adopted the same id at the same moment
        raise Refused(taken) from None
    if not moved:
        raise Refused("This take is no longer waiting for a decision.")
    kick()


def take_save_again(*, take: Take, author: User) -> None:
    """Download a paid result again after saving it failed (a full disk, a broken transfer)."""
    if not take.can_save_again or not move(
        take,
        [TakeState.FAILED],
        TakeState.DOWNLOADING,
        f"Saving again (asked by {author.display_name})",
        reason="",
        last_error="",
        download_attempts=0,
        finished_at=None,
        lease_until=None,
        next_check_at=timezone.now() + scaled(60),
    ):
        raise Refused("This take has no result waiting at the provider to save.")
    dispatch("download_take", take.pk)
    kick()


# -- the driver -----------------------------------------------------------------------------
def gate(provider: str) -> ProviderGate:
    return ProviderGate.objects.get_or_create(provider=provider)[0]


def provider_paused(provider: str) -> datetime | None:
    not_before = gate(provider).not_before
    return not_before if not_before and not_before > timezone.now() else None


def pause_provider(provider: str, seconds: float, reason: str) -> datetime:
    until = timezone.now() + scaled(min(max(seconds, 1.0), 3600.0))
    gate(provider)
    ProviderGate.objects.filter(provider=provider).update(not_before=until, reason=reason[:200])
    return until


def admit() -> int:
    """Start queued takes in order while fewer than MAX_ACTIVE_EDITS are at the provider."""
    started = 0
    if provider_paused(settings.STUDIO_PROVIDER):
        return 0
    busy = Take.objects.filter(state__in=AT_PROVIDER).count()
    for take in Take.objects.filter(state=TakeState.QUEUED).order_by("created_at", "pk"):
        if busy >= settings.MAX_ACTIVE_EDITS:
            break
        # next_check_at: when the sweep should re-dispatch it if this task gets lost.
        retry_at = timezone.now() + scaled(60)
        if move(take, [TakeState.QUEUED], TakeState.PREPARING, "Started", next_check_at=retry_at):
            busy += 1
            started += 1
            dispatch("prepare_take", take.pk)
    return started


def dispatch(task: str, take_id: int) -> None:
    async_task(f"studio.tasks.{task}", take_id, task_name=f"{task}:{take_id}")


def repair(now: datetime) -> None:
    """Steps whose worker died or whose task was lost; and takes past their deadline."""
    lost_send = Take.objects.filter(state=TakeState.SUBMITTING, lease_until__lt=now)
    for take in lost_send:
        move(
            take,
            [TakeState.SUBMITTING],
            TakeState.UNCERTAIN,
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
        for take_id in due.values_list("pk", flat=True):
            Take.objects.filter(pk=take_id).update(next_check_at=now + scaled(30))
            dispatch(task, take_id)
    for take in Take.objects.filter(state=TakeState.RUNNING, deadline_at__lt=now):
        move(
            take,
            [TakeState.RUNNING],
            TakeState.TIMED_OUT,
            "Deadline passed",
            reason=deadline_reason(take, now),
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


def poll_due(now: datetime) -> None:
    """Check every running take that is due, concurrently, and wait for the answers."""
    with Poller() as poller:
        while poller.ask_due(now) or poller.asking:
            poller.collect(wait=1.0)


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
            if provider_paused(take.provider):
                continue
            try:
                provider = get_provider(take.provider)
            except ProviderError as error:
                poll_failed(take, error)
                continue
            # Issue 13 hook: pay for the check from the request budget every process shares
            # (studio/budget.py); without a token the take stays due for a later turn.
            if not budget.prepay_status(provider):
                continue
            # Counted before asking. Not due again until this check's deadline has passed, so a
            # driver that takes over meanwhile does not ask a second time at once.
            busy = timedelta(seconds=settings.MODELLIX_STATUS_TIMEOUT + 5)
            Take.objects.filter(pk=take.pk).update(
                provider_calls=F("provider_calls") + 1,
                status_checks=F("status_checks") + 1,
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
        return poll_failed(take, error)
    except Exception as error:  # a bug in the client: counted like any failed check
        log.exception("checking take %s failed", take.pk)
        return poll_failed(
            take, ProviderError("Checking on the take failed.", Failure.RETRY, detail=repr(error))
        )
    try:
        poll_answer(take, status)
    except Exception as error:  # one broken take must not stop the polling of the others
        log.exception("polling take %s failed", take.pk)
        poll_failed(
            take, ProviderError("Checking on the take failed.", Failure.RETRY, detail=repr(error))
        )


def poll_answer(take: Take, status: TaskStatus) -> None:
    """Move a running take on from the provider's answer about its task."""
    now = timezone.now()
    if status.state in ("pending", "running"):
        elapsed = (now - (take.submitted_at or now)).total_seconds() / settings.TIME_SCALE
        if take.transient_errors:
            TakeEvent.objects.create(
                take_id=take.pk, state=TakeState.RUNNING, at=now, note="The provider answers again"
            )
        Take.objects.filter(pk=take.pk, state=TakeState.RUNNING).update(
            # Issue 13 hook: densely around the likely finish (studio/polling.py).
            next_check_at=now + polling.wait_after_check(take, elapsed),
            transient_errors=0,
            progress=status.extra.get("progress", take.progress),
        )
        return None
    if status.state == "failed":
        reason = status.message or "The provider could not complete this edit and gave no reason."
        move(
            take,
            [TakeState.RUNNING],
            TakeState.FAILED,
            f"Provider: {status.raw_status}",
            reason=reason,
        )
        return None
    if not status.result_urls:
        return poll_failed(
            take, ProviderError(NO_RESULT, Failure.RETRY, detail=f"status {status.raw_status}")
        )
    if move(
        take,
        [TakeState.RUNNING],
        TakeState.DOWNLOADING,
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
        dispatch("download_take", take.pk)
    return None


def poll_failed(take: Take, error: ProviderError) -> None:
    """Status reads are free: only a definite answer or the deadline ends a running take."""
    if error.failure == Failure.RATE_LIMITED:
        until = pause_provider(take.provider, error.wait or 30, error.message)
        Take.objects.filter(pk=take.pk, state=TakeState.RUNNING).update(
            next_check_at=until, last_error=error.detail[:2000]
        )
        return
    if error.failure == Failure.REJECTED and not error.config:
        if _adopted(take):
            return adoption_refused(take, error)
        move(
            take,
            [TakeState.RUNNING],
            TakeState.FAILED,
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
        TakeEvent.objects.create(
            take_id=take.pk,
            state=TakeState.RUNNING,
            at=now,
            note=f"{CHECK_FAILED} {error.message} Cutroom keeps asking until the deadline.",
        )
    said = f"{error.message} [{error.detail}]" if error.detail else error.message
    Take.objects.filter(pk=take.pk, state=TakeState.RUNNING).update(
        transient_errors=errors, last_error=said[:2000]
    )
    take.refresh_from_db()
    if take.deadline_at and now >= take.deadline_at:
        move(
            take,
            [TakeState.RUNNING],
            TakeState.TIMED_OUT,
            "Deadline passed",
            reason=deadline_reason(take, now),
        )
        return
    wait = backoff(errors, cap=STATUS_BACKOFF_CAP)
    if error.wait:
        wait = max(wait, timedelta(seconds=min(error.wait, 3600)))
    due = now + wait
    if take.deadline_at:
        due = min(due, take.deadline_at)
    Take.objects.filter(pk=take.pk, state=TakeState.RUNNING).update(next_check_at=due)


def _adopted(take: Take) -> bool:
    """Whether a person pasted this take's current task id (see take_adopt)."""
    return take.events.filter(
        state=TakeState.RUNNING, note__startswith=f"{ADOPTED} {take.provider_task_id} "
    ).exists()


def adoption_refused(take: Take, error: ProviderError) -> None:
    """The provider does not know the pasted id: back to uncertain, so the person can retry."""
    task = take.provider_task_id
    move(
        take,
        [TakeState.RUNNING],
        TakeState.UNCERTAIN,
        f"The provider refused task {task}: {error.detail}",
        reason=f"Cutroom could not adopt the task “{task}”: {error.message} Check the id in the "
        "provider's dashboard and paste it again, or send the edit again.",
        last_error=error.detail[:2000],
        provider_task_id=None,
        deadline_at=None,
    )


# -- prepare and submit ---------------------------------------------------------------------
def media_for_input(take: Take, path: Any) -> Media:
    item = take.input_clip
    return Media("input", item.code, "file", path, "video/mp4", f"{take.code}.mp4")


class StepProblem(ProviderError):
    """A failure on Cutroom's side (a full disk, a folder it cannot write, a bug): reported in
    its own words, never blamed on the provider."""


def storage_problem(error: OSError, then: str) -> str:
    """What a person can do about a failed file write; `then` says what to do once fixed."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"The media disk is full: free space on the server, then {then}."
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = os.strerror(error.errno).lower()
        return (
            f"Cutroom cannot write to its media folder ({why}): an administrator must make it "
            f"writable, then {then}."
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


def prepare_and_submit(take_id: int) -> None:
    take = claim(take_id, TakeState.PREPARING)
    if take is None:
        return
    with holding_lease(take):
        _prepare_and_submit_held(take)


def _prepare_and_submit_held(take: Take) -> None:
    try:
        _prepare_and_submit(take)
    except ProviderError as error:
        return submit_failed(take, error)
    except Exception as error:  # counted and ended like any failure, never left leased
        if take.state == TakeState.SUBMITTING:
            # The paid POST may have gone out before this happened.
            return submit_failed(
                take,
                StepProblem(
                    "Cutroom stopped with an error while sending this edit, so it does not know "
                    "whether the provider received it.",
                    Failure.UNCERTAIN,
                    detail=repr(error),
                ),
            )
        return submit_failed(take, step_problem(error, then="run the take again"))


def _prepare_and_submit(take: Take) -> None:
    if take.clip is None or take.clip.state != "ready":
        move(
            take,
            [TakeState.PREPARING],
            TakeState.FAILED,
            "No clip",
            reason="The source clip was deleted or is not ready.",
        )
        return
    try:
        item = input_clip_prepare(
            clip=take.clip, start=take.start_ms / 1000, length=take.length_ms / 1000
        )
    except MediaRejected as rejected:
        move(take, [TakeState.PREPARING], TakeState.FAILED, "Input", reason=rejected.message)
        return
    Take.objects.filter(pk=take.pk).update(input_clip=item)
    take.refresh_from_db()
    if provider_paused(take.provider):
        release(take, after=scaled(5))
        return
    try:
        provider = get_provider(take.provider)
        refs = list(take.references.order_by("takereference__position"))
        with local_copy(item.file) as video, _reference_paths(refs) as ref_media:
            request = EditRequest(
                **take.api_parameters(),
                video=media_for_input(take, video),
                references=tuple(ref_media),
            )
            payload = provider.prepare(request)
            if not move(
                take,
                [TakeState.PREPARING],
                TakeState.SUBMITTING,
                "Sending",
                submit_posts=take.submit_posts + 1,
                provider_calls=take.provider_calls + 1,
            ):
                return
            submitted = provider.send(payload)
    except ProviderError as error:
        return submit_failed(take, error)
    now = timezone.now()
    move(
        take,
        [TakeState.SUBMITTING],
        TakeState.RUNNING,
        f"Provider task {submitted.task_id}",
        provider_task_id=submitted.task_id,
        submitted_at=now,
        deadline_at=now + settings.EDIT_DEADLINE,
        next_check_at=now + polling.first_wait(take),  # issue 13 hook (studio/polling.py)
        lease_until=None,
        transient_errors=0,
    )
    kick()


@contextmanager
def _reference_paths(refs: list[Reference]) -> Iterator[list[Media]]:
    """Local paths for the reference images (copies when storage is remote)."""
    with ExitStack() as stack:
        yield [
            Media(
                "ref",
                ref.code,
                "image",
                stack.enter_context(local_copy(ref.image)),
                ref.content_type("image"),
                ref.original_name,
            )
            for ref in refs
        ]


def submit_failed(take: Take, error: ProviderError) -> None:
    if budget.hold(take, error):  # issue 13 hook: the request budget said "later"; not a failure
        return
    states = [TakeState.PREPARING, TakeState.SUBMITTING]
    detail = error.detail[:2000]
    if error.failure == Failure.UNCERTAIN:
        move(
            take,
            states,
            TakeState.UNCERTAIN,
            detail,
            reason=f"{error.message} {NEVER_RESENT}",
            last_error=detail,
        )
        return
    if error.failure == Failure.REJECTED:
        move(take, states, TakeState.FAILED, detail, reason=error.message, last_error=detail)
        if error.config:
            # A bad key or an empty balance fails every take alike: hold the queue instead of
            # failing it, and say why on every page until an administrator fixes it.
            pause_provider(take.provider, CONFIG_PAUSE_SECONDS, error.message)
        return
    # Definitely not received (a refused connection or connect timeout, a 429) or our own
    # trouble before the POST: back to PREPARING, retry later.
    errors = take.transient_errors + 1
    if errors > TRANSIENT_BUDGET:
        reason = (
            error.message
            if isinstance(error, StepProblem)
            else f"The provider could not take the edit after {TRANSIENT_BUDGET} tries "
            f"({error.message})."
        )
        move(take, states, TakeState.FAILED, detail, reason=reason, last_error=detail)
        return
    if error.failure == Failure.RATE_LIMITED:
        until = pause_provider(take.provider, error.wait or 30, error.message)
        wait = until - timezone.now()
    else:
        wait = timedelta(seconds=error.wait) if error.wait else backoff(errors)
    move(
        take,
        states,
        TakeState.PREPARING,
        f"Will retry: {error.message}",
        transient_errors=errors,
        last_error=detail,
        lease_until=None,
        next_check_at=timezone.now() + wait,
    )


# -- download -------------------------------------------------------------------------------
def download(take_id: int) -> None:
    take = claim(take_id, TakeState.DOWNLOADING)
    if take is None:
        return
    with holding_lease(take) as lease:
        _download(take, lease)


def _download(take: Take, lease: Lease) -> None:
    if take.download_attempts >= DOWNLOAD_BUDGET:
        # Every allowed attempt was claimed and none reported back: workers died while saving.
        return download_failed(
            take,
            ProviderError(
                f"Saving the result was interrupted {take.download_attempts} times (the worker "
                "stopped while saving it).",
                Failure.RETRY,
                detail="download budget used up by attempts that never reported back",
            ),
            own_words=True,
        )
    Take.objects.filter(pk=take.pk).update(download_attempts=take.download_attempts + 1)
    take.refresh_from_db()
    name = f"takes/{take.project.code}/{take.code}"
    try:
        provider = get_provider(take.provider)
        with scratch_dir() as tmp:
            result = tmp / "result.mp4"
            size = _fetch_fresh(take, provider, result, ask_again=take.download_attempts > 1)
            info = probe(result, max_seconds=120)
            make_poster(result, tmp / "poster.jpg", info)
            thumb_size = make_thumbnail(tmp / "poster.jpg", tmp / "poster-thumb.jpg")
            sha = sha256_of(result)
            if lease.lost:
                # Another worker took this download over (ours looked dead): it stores the file.
                log.warning("take %s: lease lost while downloading; leaving it", take.pk)
                return
            for field, path in (
                (take.result, result),
                (take.result_poster, tmp / "poster.jpg"),
                (take.result_thumb, tmp / "poster-thumb.jpg"),
            ):
                target = f"{name}/{path.name}"
                if field.storage.exists(target):
                    field.storage.delete(target)  # a crashed earlier attempt; keep exactly one
                store_path(field, target, path)
    except MediaRejected as rejected:
        # Often a download cut short without a Content-Length: a fresh link may serve it whole.
        _remove_partial_result(take, name)
        return download_failed(
            take,
            ProviderError(
                f"The provider returned a file that is not a usable video: {rejected.message}",
                Failure.RETRY,
                detail=f"bad result: {rejected.message}",
            ),
            own_words=True,
        )
    except ProviderError as error:
        _remove_partial_result(take, name)
        return download_failed(take, error)
    except Exception as error:  # a full disk, an unwritable folder, a bug: counted, then ended
        _remove_partial_result(take, name)
        return download_failed(
            take, step_problem(error, then="choose “Try saving again” on the take's page")
        )
    if take.provider == "local" and take.provider_task_id:
        local.forget(take.provider_task_id)
    move(
        take,
        [TakeState.DOWNLOADING],
        TakeState.SUCCEEDED,
        "Saved",
        result=take.result.name,
        result_poster=take.result_poster.name,
        result_thumb=take.result_thumb.name,
        result_thumb_width=thumb_size[0],
        result_thumb_height=thumb_size[1],
        result_sha256=sha,
        result_size=size,
        result_width=info.width,
        result_height=info.height,
        result_duration=info.duration,
    )


def _remove_partial_result(take: Take, name: str) -> None:
    """A failed attempt leaves nothing in storage (the scratch folder removes itself)."""
    storage = take.result.storage
    try:
        _, files = storage.listdir(name)
        for file in files:
            if file.startswith(("result", "poster")):
                storage.delete(f"{name}/{file}")
    except FileNotFoundError:
        return  # nothing was stored
    except (OSError, NotImplementedError):
        log.warning("could not remove a partial result of take %s", take.pk, exc_info=True)


def _fetch_fresh(take: Take, provider: Any, dest: Any, *, ask_again: bool = False) -> int:
    """Fetch the result; after a failed attempt, ask the task for a fresh link first."""
    url = take.result_url
    if ask_again and take.provider_task_id:
        url = _fresh_link(take, provider, fallback=url)
    try:
        return provider.fetch(url, dest, max_bytes=settings.MAX_RESULT_BYTES)
    except ProviderError as error:
        if error.failure != Failure.EXPIRED or not take.provider_task_id or url != take.result_url:
            raise
    # The link expired: ask the task again for a fresh one, once.
    url = _fresh_link(take, provider)
    return provider.fetch(url, dest, max_bytes=settings.MAX_RESULT_BYTES)


def _fresh_link(take: Take, provider: Any, fallback: str = "") -> str:
    try:
        status = provider.status(take.provider_task_id)
    except ProviderError:
        if fallback:
            return fallback  # the status check is in trouble; the link we have may still work
        raise
    finally:
        Take.objects.filter(pk=take.pk).update(
            provider_calls=take.provider_calls + 1, status_checks=take.status_checks + 1
        )
    if not status.result_urls:
        raise ProviderError(
            "The result link expired and the provider has no new one.", Failure.EXPIRED
        )
    Take.objects.filter(pk=take.pk).update(result_url=status.result_urls[0])
    return status.result_urls[0]


def download_failed(take: Take, error: ProviderError, *, own_words: bool = False) -> None:
    detail = error.detail[:2000]
    if error.failure == Failure.EXPIRED:
        move(
            take,
            [TakeState.DOWNLOADING],
            TakeState.EXPIRED,
            detail,
            reason="The provider's link to the result expired before Cutroom could save it. "
            "Run the take again.",
            last_error=detail,
        )
        return
    if error.failure == Failure.REJECTED or take.download_attempts >= DOWNLOAD_BUDGET:
        ours = isinstance(error, StepProblem)
        said = error.message if own_words or ours else None
        reason = said or f"Saving the result failed: {error.message}"
        if take.provider_task_id and error.failure != Failure.REJECTED:
            # The message of a StepProblem already says to try saving again once it is fixed.
            reason += " " + _kept_at_provider(take, offer=not ours)
        move(
            take,
            [TakeState.DOWNLOADING],
            TakeState.FAILED,
            detail,
            reason=reason,
            last_error=detail,
        )
        return
    release(
        take,
        after=timedelta(seconds=error.wait) if error.wait else backoff(take.download_attempts),
        error=f"{error.message} [{detail}]",
    )


def _kept_at_provider(take: Take, *, offer: bool = True) -> str:
    until = (
        f" until {timezone.localtime(take.result_expires_at):%d %b %Y, %H:%M}"
        if take.result_expires_at
        else " for a while (at least a day)"
    )
    if offer:
        return (
            f"The paid result stays at the provider{until}: choose “Try saving again” to fetch "
            "it without paying again."
        )
    return f"The paid result stays at the provider{until}, so nothing is lost."


def sweep() -> None:
    """Once a minute. Issue 13 hook: no driver to restart (the scheduler process polls); while no
    scheduler is active, steps whose worker died or whose task was lost are still repaired."""
    if not health.scheduler_running():
        repair(timezone.now())
