"""Prepare and submit a take (the `prepare_take` task): cut the input, get the files to the
provider, then make the one paid POST.

The POST is preceded by a committed move to SUBMITTING: if the worker dies during it, the lease
expires and the take is parked as UNCERTAIN for a person to decide, never re-sent by the machine.
The task id the POST answers with is written to this host's journal (studio/takes/journal.py)
before the database, so a database that cannot be reached at that moment loses nothing.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from studio.library.clips import input_clip_prepare
from studio.media.probe import MediaRejected
from studio.models import Reference, Take, TakeState, Trigger
from studio.providers import request_budget
from studio.providers.base import EditRequest, Failure, Media, ProviderError
from studio.providers.catalogue import get_provider
from studio.storage.files import direct_url, local_copy
from studio.takes import common, journal
from studio.takes.common import StepProblem, backoff, scaled, step_problem
from studio.takes.leases import holding_lease

TRANSIENT_BUDGET = 6
CONFIG_PAUSE_SECONDS = 600
NEVER_RESENT = (
    "Cutroom never re-sends a paid request by itself: check your provider dashboard, then run "
    "it again if needed."
)


def take_submit(take_id: int) -> None:
    take = Take.claim(take_id, TakeState.PREPARING)
    if take is None:
        return
    with holding_lease(take):
        _submit_held(take)


class HeldInJournal(Exception):
    """The provider's task id could not be written to the database in time; the journal holds
    it, and the worker records it once the database answers (journal_adopt)."""


def _submit_held(take: Take) -> None:
    try:
        _prepare_and_send(take)
    except ProviderError as error:
        return take_submit_failed(take, error)
    except HeldInJournal:
        raise  # not uncertain: the id is known, and kept
    except Exception as error:  # counted and ended like any failure, never left leased
        if take.state == TakeState.SUBMITTING:
            # The paid POST may have gone out before this happened.
            return take_submit_failed(
                take,
                StepProblem(
                    "Cutroom stopped with an error while sending this edit, so it does not know "
                    "whether the provider received it.",
                    Failure.UNCERTAIN,
                    detail=repr(error),
                ),
            )
        return take_submit_failed(take, step_problem(error, then="run the take again"))


def _prepare_and_send(take: Take) -> None:
    if take.clip is None or take.clip.state != "ready":
        take.fire(
            Trigger.PREPARE_FAILED, "No clip", reason="The source clip was deleted or is not ready."
        )
        return
    try:
        item = input_clip_prepare(
            clip=take.clip, start=take.start_ms / 1000, length=take.length_ms / 1000
        )
    except MediaRejected as rejected:
        take.fire(Trigger.PREPARE_FAILED, "Input", reason=rejected.message)
        return
    take.record(while_in=None, input_clip=item)
    take.refresh_from_db()
    if common.provider_paused(take.provider):
        take.release_lease(retry_at=timezone.now() + scaled(5))
        return
    try:
        provider = get_provider(take.provider)
        refs = list(take.references.order_by("takereference__position"))
        with local_copy(item.file) as video, _reference_paths(refs) as ref_media:
            request = EditRequest(
                parameters=take.parameters,
                video=Media(
                    "input",
                    item.code,
                    "file",
                    video,
                    "video/mp4",
                    f"{take.code}.mp4",
                    url=provider_url(item.file, "video/mp4"),
                    stored=item.file.name or "",
                ),
                references=tuple(ref_media),
            )
            payload = provider.prepare(request)
            if not take.fire(Trigger.PREPARED, "Sending", count=["submit_posts", "provider_calls"]):
                return
            submitted = provider.send(payload)
    except ProviderError as error:
        return take_submit_failed(take, error)
    sent_record(take, submitted.task_id)
    common.kick()


def sent_record(take: Take, task_id: str) -> None:
    """Write the task id of the paid POST: first to this host's journal, then to the database,
    retrying while the database cannot be reached; the journal keeps it if that runs out."""
    path, held = journal.journal_hold(take, task_id)
    try:
        recorded = journal.with_database_retry(
            lambda: journal.held_id_adopt(held), what=f"take {take.code}: provider task {task_id}"
        )
    except DatabaseError as error:
        raise HeldInJournal(f"provider task {task_id} kept in {path}") from error
    if recorded:
        journal.journal_release(path)


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
                url=provider_url(ref.image, ref.content_type("image")),
                stored=ref.image.name or "",
            )
            for ref in refs
        ]


def provider_url(field: FieldFile, content_type: str) -> str:
    """The presigned address the provider fetches an input from, with object storage."""
    return (
        direct_url(field, seconds=settings.S3_PROVIDER_URL_SECONDS, content_type=content_type) or ""
    )


def take_submit_failed(take: Take, error: ProviderError) -> None:
    if _budget_hold(take, error):  # the request budget said "later": not a failure
        return
    detail = error.detail[:2000]
    if error.failure == Failure.UNCERTAIN:
        take.fire(
            Trigger.SEND_UNCERTAIN,
            detail,
            reason=f"{error.message} {NEVER_RESENT}",
            last_error=detail,
        )
        return
    if error.failure == Failure.REJECTED:
        take.fire(Trigger.SUBMIT_FAILED, detail, reason=error.message, last_error=detail)
        if error.config:
            # A bad key or an empty balance fails every take alike: hold the queue instead of
            # failing it, and say why on every page until an administrator fixes it.
            common.provider_pause(take.provider, CONFIG_PAUSE_SECONDS, error.message)
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
        take.fire(Trigger.SUBMIT_FAILED, detail, reason=reason, last_error=detail)
        return
    if error.failure == Failure.RATE_LIMITED:
        until = common.provider_pause(take.provider, error.wait or 30, error.message)
        wait = until - timezone.now()
    else:
        wait = timedelta(seconds=error.wait) if error.wait else backoff(errors)
    take.fire(
        Trigger.RETRY_LATER,
        f"Will retry: {error.message}",
        count=["transient_errors"],
        last_error=detail,
        lease_until=None,
        next_check_at=timezone.now() + wait,
    )


def _budget_hold(take: Take, error: ProviderError) -> bool:
    """A take whose preparation was refused by the budget waits for it, without counting it as
    a failure; False when the take had gone further (the usual handling then applies)."""
    if not isinstance(error, request_budget.OverBudget) or take.state != TakeState.PREPARING:
        return False
    # Spread the retries: every refused take was told the same moment.
    wait = (error.wait or 1.0) * random.uniform(1.0, 2.0)  # noqa: S311
    take.release_lease(
        retry_at=timezone.now() + timedelta(seconds=math.ceil(wait * 10) / 10), error=error.detail
    )
    return True
